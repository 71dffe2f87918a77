// Package stepwrap is the step wrapper: what `cumulus step -- CMD...` does as
// the ENTRYPOINT of a task's container, around an archive's own program
// (a preprocessing script, a metadata generator), so that the program only
// reads files from one folder and writes files to another.
//
// It runs on both sides of the platform:
//
//   - in the simulator, the executors (simulator/executor) have already
//     downloaded the granule's files into CUMULUS_INPUT_DIR and will collect
//     CUMULUS_OUTPUT_DIR; the wrapper checks the inputs, runs the program,
//     and leaves the outputs to the executor (Config.Files is nil);
//   - on AWS, the orchestrator passes the granule document (CUMULUS_GRANULE,
//     whose files carry their S3 locations) as container overrides; the
//     wrapper makes the folders, downloads and verifies each input from S3,
//     runs the program, uploads what it wrote with checksums, and writes
//     the result (Config.Files is an S3 store).
//
// In both it streams the program's stdout and stderr as JSON log lines
// tagged with the pipeline, step, granule and attempt; samples CPU, memory
// (the container's cgroup, v2 or v1, else /proc) and wall time; sends
// heartbeats (Heartbeater: an HTTP endpoint locally, Step Functions'
// SendTaskHeartbeat on AWS when a task token is given); and classifies how
// the step ended (Outcome) into the wrapper's exit status, so that the
// pipeline's retries follow: 0 succeeded, ExitRetryable (75, EX_TEMPFAIL)
// for a failure worth retrying (an exit code the task lists as transient,
// killed for memory, timed out, a storage error), ExitFatal (1) otherwise.
//
// The package runs programs; it has no globals, and everything it touches
// of the outside world comes in through Config.
package stepwrap
