// Package stdlib is the standard library of the cumulus language: everything a
// configuration can use without defining it itself.
//
// It owns four things, each kept here so that the checker (lang), the compiler
// and the simulator agree on one definition:
//
//   - the HCL function table (Functions), which is deliberately deterministic:
//     there is no timestamp() or uuid(), because compiled artifacts must be the
//     same bytes for the same input;
//   - durations as users write them ("15m", "1h30m", "30d"): ParseDuration and
//     FormatDuration;
//   - the granule schema that run-time expressions (url_path, a step's env,
//     with and when) may reference, the Go values that fill it, and RenderPath,
//     which evaluates a url_path template for one granule;
//   - the catalogue of standard steps (sync_granule, checksum, cmr_metadata,
//     move_granule, delete_staged) with their input and output contracts, which
//     `uses = stdlib.<name>` and `with = {...}` are type-checked against.
//
// The package holds no mutable global state: tables and catalogues are built
// fresh by the functions that return them, so callers may modify what they get.
package stdlib
