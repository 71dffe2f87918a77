// Package builtin implements the standard steps (stdlib's catalogue:
// sync_granule, checksum, cmr_metadata, move_granule, delete_staged) in Go.
//
// The simulator runs them in process; on AWS the platform's Lambda functions
// and ECS tasks run the very same functions. That is why they depend only on
// the S3 API (the narrow S3 interface below, which *s3.Client satisfies,
// passed in through Env) and on the compiled graph (compiler/graph), never on
// the simulator's own packages: what the simulator proves is what is deployed.
//
// Each step is a Func taking the step contract's Input and returning its
// Result (simulator/contract). Steps returns the table keyed by step name.
// A step never changes the Input it is given; the Result carries a fresh
// granule document.
//
// Errors that retrying cannot cure (a checksum mismatch, a duplicate under
// duplicates = "error", a staged object that is gone) are wrapped in
// *FatalError, so that a scheduler can fail the step at once instead of
// spending its retries; IsFatal tells them apart.
//
// Where files go. A file's archive location comes from the collection's file
// block whose name is the file's Type: its bucket, and its url_path (else the
// collection's) rendered for the granule and the file, followed by "/" and
// the file's name; without any url_path the file lands at the bucket's root
// under its name. A file whose block routes it to the bucket it is already in
// (a checksum sidecar kept in staging), or that matches no block (the
// metadata record, a file a task added), stays where it is. To archive the
// UMM-G record, declare a file block named "metadata" in the collection.
package builtin
