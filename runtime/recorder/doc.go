// Package recorder owns the engine's write side on AWS: a Lambda function
// that receives Step Functions "Execution Status Change" events through an
// EventBridge rule, the staging trigger's GranuleQueued records and the
// step wrapper's StepReports (start, heartbeat with a resource sample,
// end with the attempt's outcome and exit code), and merges each into the
// run's and granule's recorded state through a Sink (the DynamoDB store,
// dynamostore.Store).
//
// # Order and duplicates
//
// The three sources reach the recorder by different paths, EventBridge
// delivers at least once, and a Lambda retries what failed: events come
// late, twice, and out of order. So the recorded state is a function of
// the set of events seen, not of their order (a join in the lattice
// sense): a status moves only forward by (rank, time) — queued < running
// < ended, then later wins, then the greater name (Supersedes); times are
// the earliest start and the latest end seen; facts such as a run's
// pipeline are taken from the most authoritative source that gave them
// (the trigger, then the step wrapper, then Step Functions); a step's
// status is derived from its attempts, a granule's from its latest run.
// A duplicate or an older event therefore merges to the state as it is,
// and the Sink writes nothing; the tests feed recorded sequences in
// order, reversed, duplicated and interleaved, and require the same
// state, byte for byte.
//
// The one history this cannot record is a redriven execution (FAILED,
// then RUNNING again): the run stays as it first ended. Redrives are not
// something cumulus starts; a new run is.
//
// Each run is its Step Functions execution, named by the trigger (the
// execution's name is the run id); the trigger's and the wrapper's records
// name the same run.
package recorder
