// Package lang owns the cumulus configuration language: the block schemas of
// *.cumulus.hcl files, parsing a folder of them as one configuration, variable
// values and their precedence, locals, typed references between blocks, and
// every static check the type checker makes. Its product is the checked model
// (Config and the block structs), plain Go values that keep the source range of
// everything they were decoded from, which the compiler and the simulator read.
//
// Static decoding and checking live here; nothing here runs a pipeline. The
// only evaluation done here is of values known before anything runs (var,
// local, functions). Expressions over run-time values (granule.*, file.*) are
// checked against the granule schema and kept as expressions (Expr) for the
// compiler to carry into artifacts and the simulator to evaluate per granule.
package lang
