package simulator

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/simulator/builtin"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/simulator/executor"
	"github.com/cumulus-toolchain/cumulus/simulator/scheduler"
)

// stepRunner runs a step's attempt where the simulation says: standard
// steps built in, the user's tasks in Docker or, with a local_command (or
// no Docker engine), as local processes. It is the scheduler's StepRunner.
type stepRunner struct {
	builtins map[string]builtin.Func
	env      builtin.Env
	docker   executor.Executor // nil: no Docker engine
	process  executor.Executor
	// preferLocal runs a task's local_command even when Docker is there.
	preferLocal bool
	files       executor.FileStore
	// workDir holds each attempt's folder; logDir each attempt's log.
	workDir, logDir string
	// keepWork keeps attempt folders after success (for inspection).
	keepWork bool
}

var _ scheduler.StepRunner = (*stepRunner)(nil)

// builtinFailure marks built-in steps' fatal errors for the scheduler.
type builtinFailure struct{ error }

func (b builtinFailure) Fatal() bool   { return true }
func (b builtinFailure) Unwrap() error { return b.error }

func (r *stepRunner) RunStep(ctx context.Context, p *graph.Pipeline, s *graph.Step, in contract.Input) (contract.Result, error) {
	logPath := r.LogPath(in.Granule.ID, p.Name, s.Name, in.Attempt)
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		// The granule's first step: its log folder is made once, not per
		// attempt (folder operations are most of a quick step's cost).
		if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
			return contract.Result{}, fmt.Errorf("creating the log folder: %w", err)
		}
		log, err = os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	}
	if err != nil {
		return contract.Result{}, fmt.Errorf("opening the step's log: %w", err)
	}
	defer log.Close()

	if s.Uses != "" {
		fn, ok := r.builtins[s.Uses]
		if !ok {
			return contract.Result{}, fmt.Errorf("standard step %s is not implemented in the simulator", s.Uses)
		}
		res, err := fn(ctx, r.env, in)
		if err != nil {
			fmt.Fprintf(log, "stdlib.%s failed: %v\n", s.Uses, err)
			if builtin.IsFatal(err) {
				return res, builtinFailure{err}
			}
			return res, err
		}
		fmt.Fprintf(log, "stdlib.%s succeeded: %d files\n", s.Uses, len(res.Granule.Files))
		return res, nil
	}

	exec, err := r.executorFor(s.Task)
	if err != nil {
		fmt.Fprintln(log, err)
		return contract.Result{}, builtinFailure{err}
	}
	work := filepath.Join(r.workDir, in.Granule.ID, p.Name, s.Name, fmt.Sprint(in.Attempt))
	if err := os.Mkdir(work, 0o755); err != nil {
		// Left by an interrupted attempt, or its parents are missing.
		if err := os.RemoveAll(work); err != nil {
			return contract.Result{}, fmt.Errorf("clearing the attempt's folder: %w", err)
		}
		if err := os.MkdirAll(work, 0o755); err != nil {
			return contract.Result{}, fmt.Errorf("creating the attempt's folder: %w", err)
		}
	}
	res, err := exec.Run(ctx, executor.Job{Task: s.Task, Input: in, WorkDir: work, Files: r.files, Log: log, Timeout: s.Timeout.D()})
	if err == nil && !r.keepWork {
		_ = os.RemoveAll(work) // only a failed attempt's folder is worth keeping
	}
	return res, err
}

// executorFor picks where a task runs.
func (r *stepRunner) executorFor(t *graph.Task) (executor.Executor, error) {
	local := len(t.LocalCommand) > 0
	switch {
	case local && (r.preferLocal || r.docker == nil):
		return r.process, nil
	case r.docker != nil && t.RunsOn == "ecs":
		return r.docker, nil
	case local:
		return r.process, nil
	case r.docker == nil:
		return nil, fmt.Errorf("task.%s needs a Docker engine (none answers here) or a local_command to run on this machine; start Docker, or add local_command = [...] to the task", t.Name)
	}
	return nil, fmt.Errorf("task.%s runs on %s and has no local_command; the simulator runs Lambda tasks only through their local_command", t.Name, t.RunsOn)
}

// LogPath is the log file of one attempt of one step of one granule.
func (r *stepRunner) LogPath(granule, pipeline, step string, attempt int) string {
	return filepath.Join(r.logDir, pipeline, granule, fmt.Sprintf("%s.%d.log", step, attempt))
}
