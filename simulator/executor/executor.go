// Package executor runs one attempt of one pipeline step: the simulator's
// stand-in for an ECS task (DESIGN §4). Two executors sit behind the one
// small Executor interface:
//
//   - Docker runs the task's image through the Docker Engine API, building it
//     first from the task's build folder when it declares one;
//   - Process runs the task's local_command as a local process, for tasks
//     that declare one and for machines without a Docker engine.
//
// Both hand the step the contract of package contract the same way, so a
// step behaves alike whichever runs it. The parts they share are written
// once here:
//
//   - before the step: WorkDir/in holds the granule's files, downloaded
//     through a FileStore and checksum-verified; WorkDir/out is empty; the
//     environment is the contract's variables plus the task's static
//     environment plus the step's env;
//   - after a zero exit: the result is the JSON the step wrote to
//     CUMULUS_RESULT (WorkDir/result.json), validated, or, when it wrote
//     none, the input granule plus every file left in WorkDir/out, uploaded
//     to the staging bucket (see collectOutputs for the naming rules).
//
// Failures come back as an *ExitError (the step ran and failed: non-zero
// exit, timeout, out of memory), a *ResultError (it exited 0 with a result
// that is not one), an error wrapping ErrCannotRun (the task as configured
// cannot run on this executor) or an infrastructure error (downloads, the
// engine). Retryable sorts them for the scheduler.
package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// Job is one attempt of one step.
type Job struct {
	Task  *graph.Task
	Input contract.Input
	// WorkDir is an empty folder for this attempt, owned by the executor
	// while it runs. The executor leaves what the step wrote there; the
	// caller removes it (or keeps it to look at a failure).
	WorkDir string
	// Files is where the granule's files are (S3): inputs are downloaded
	// from it and outputs uploaded to it.
	Files FileStore
	// Log is the step's log: stdout and stderr interleaved, line-buffered.
	// Nil discards it.
	Log io.Writer
	// Timeout is the attempt's timeout, downloads and uploads included as on
	// ECS, where the step wrapper fetches files inside the task (0: none).
	Timeout time.Duration
}

// Executor runs one attempt of a step and returns the step's result.
type Executor interface {
	Run(ctx context.Context, job Job) (contract.Result, error)
}

// FileStore is where granule files live. The simulator implements it over
// the S3 SDK (S3Files); tests use a folder.
type FileStore interface {
	// Download writes f to the local path dst, verifying f.Checksum when it
	// is set.
	Download(ctx context.Context, f contract.File, dst string) error
	// Upload writes the local file src to bucket/key and returns the file as
	// stored, with its size and checksum.
	Upload(ctx context.Context, src, bucket, key string) (contract.File, error)
}

// ExitError is a step that ran and failed.
type ExitError struct {
	// Code is the exit code; a step killed by a signal reports 128+signal,
	// the shell's and Docker's convention, so that one list of transient
	// codes means the same for both executors.
	Code int
	// Timeout is set when the attempt overran Job.Timeout and was killed.
	Timeout bool
	// OOM is set when the container was killed for exceeding its memory
	// limit (Docker only: local processes run without one).
	OOM bool
}

// ExitCode is the step's exit code, for the records of its attempt.
func (e *ExitError) ExitCode() int { return e.Code }

func (e *ExitError) Error() string {
	switch {
	case e.Timeout:
		return "step timed out and was killed"
	case e.OOM:
		return fmt.Sprintf("step ran out of memory and was killed (exit code %d): raise the task's memory", e.Code)
	default:
		return fmt.Sprintf("step exited with code %d", e.Code)
	}
}

// ResultError is a step that exited 0 but wrote a result that is not one:
// the step's fault, so retrying it would give the same.
type ResultError struct {
	Err error
}

func (e *ResultError) Error() string { return "step wrote a malformed result: " + e.Err.Error() }

func (e *ResultError) Unwrap() error { return e.Err }

// ErrCannotRun is wrapped by the errors that say the task, as configured,
// cannot run on this executor (no local_command, a missing image, a program
// that is not there): retrying will not help, changing the configuration or
// the machine will.
var ErrCannotRun = errors.New("task cannot run here")

// Retryable says whether the scheduler should retry an attempt that failed
// with err: timeouts and out-of-memory kills are, as are exit codes listed in
// transient, and infrastructure errors (a download, the Docker engine);
// other exit codes, malformed results and tasks that cannot run are not. An
// attempt its caller stopped (cancelled, or past the caller's deadline) is
// not retryable either: the simulation is stopping.
func Retryable(err error, transient []int) bool {
	if err == nil {
		return false
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		return exit.Timeout || exit.OOM || slices.Contains(transient, exit.Code)
	}
	var (
		result  *ResultError
		stopped *stoppedError
	)
	switch {
	case errors.As(err, &result),
		errors.As(err, &stopped),
		errors.Is(err, ErrCannotRun),
		errors.Is(err, context.Canceled):
		return false
	}
	return true
}
