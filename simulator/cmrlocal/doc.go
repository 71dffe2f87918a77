// Package cmrlocal is a local stand-in for NASA's Common Metadata Repository
// (CMR), for `cumulus simulate`: it speaks the part of CMR's API a pipeline
// uses, so that publish_cmr can be exercised without an Earthdata account.
//
//   - PUT /ingest/providers/{provider}/granules/{native-id} takes a UMM-G
//     1.6.6 record (Content-Type application/vnd.nasa.cmr.umm+json;version=1.6.6),
//     validates it against NASA's schema (embedded, see schema/README.md),
//     and answers as CMR does: 201 with {"concept-id", "revision-id"} for a
//     new granule, 200 with the next revision for a replaced one, 400 with
//     {"errors": [...]} for a record that breaks the schema, 401 without a
//     token (or with one not accepted), 415 for another content type.
//   - DELETE of the same path removes the granule (a new revision, a
//     tombstone, as CMR keeps).
//   - GET /search/granules.umm_json?short_name=&version=&granule_ur=&provider=
//     answers CMR's UMM JSON search format: {"hits", "took", "items": [{"meta",
//     "umm"}]}, with the CMR-Hits header.
//
// Records live in memory, and when Options.Dir is set also as plain JSON
// files (Dir/<provider>/<native-id>.json, the latest revision), so that a
// person can read what was published.
package cmrlocal
