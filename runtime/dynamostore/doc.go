// Package dynamostore owns the engine's run state on AWS: the DynamoDB
// tables' design (Tables, the CreateTable documents compile emits), the
// read side the API serves (Store implements engine.Store and
// engine.Versioner) and the write side the recorder drives (Store
// implements recorder.Sink), with writes that are idempotent and ordered.
//
// # Tables and keys
//
// Three tables, all keyed by a string "id": granules, runs (one item per
// Step Functions execution, steps and attempts inside) and counters. An
// item holds its record as JSON ("rec"; the granule's document and the
// run's input apart, in "doc" and "input", since listings never show
// them), its version "v" and its index keys. The listing indexes, one per
// filter combination the API offers (granules: all, by status, by
// collection, by both; runs: all, by status, by pipeline, by both), are
// sharded (see Shards) and project only "rec". Granule indexes sort by
// id, so a page is in id order and an id prefix is a begins_with key
// condition; run indexes sort by "creation time#run id", so a time window
// is a key range and newest-first is a backward query. A page queries
// every shard from the cursor (the last sort key returned, base64url) for
// one more item than the page holds and merges the answers.
//
// # Ordering and idempotence
//
// Every write is a read, a pure merge in Go, and a conditional write: the
// item carries a version number "v", and the write succeeds only if "v" is
// still the one read (or the item still does not exist), else the store
// reads again and merges again. The merge is where order lives: a run's
// status moves only forward by (rank, event time), with rank queued <
// running < ended; a step or an attempt likewise; facts that never change
// (a run's granule, its input) are set once. A duplicate or an older event
// therefore merges to the item as it is, and the store writes nothing. The
// counters move only by the difference between the state read and the
// state written, after that conditional write succeeded, so a duplicate
// never counts twice. (DynamoDB transactions would close the window
// between the two writes, where a crash loses a count; dynalite, the
// tests' DynamoDB, has none, so the store does without, and the counters
// can be recounted from the items.) The API's Version is the sum of eight
// counter shards, one of which every write moves.
package dynamostore
