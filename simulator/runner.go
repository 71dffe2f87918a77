package simulator

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/runtime/stepwrap"
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
	logger   *slog.Logger
	// heartbeatURL is where wrapped steps post their heartbeats ("":
	// nowhere).
	heartbeatURL string
	// events reports what the user should know (nil: nothing).
	events func(scheduler.Event)
	// warned holds the tasks already said to run through local_command.
	warned sync.Map
	// sweep takes folders to remove off the steps' path (nil: remove
	// them at once).
	sweep chan string
	swept atomic.Uint64
	// patterns caches the collections' file patterns (string -> *Regexp).
	patterns sync.Map
}

var _ scheduler.StepRunner = (*stepRunner)(nil)

// fatalError marks the errors no retry can mend, for the scheduler.
type fatalError struct{ error }

func (b fatalError) Fatal() bool   { return true }
func (b fatalError) Unwrap() error { return b.error }

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
				return res, fatalError{err}
			}
			return res, err
		}
		fmt.Fprintf(log, "stdlib.%s succeeded: %d files\n", s.Uses, len(res.Granule.Files))
		return res, nil
	}

	exec, err := r.executorFor(s.Task)
	if err != nil {
		fmt.Fprintln(log, err)
		return contract.Result{}, fatalError{err}
	}
	// One flat folder per attempt, in a folder that exists: one mkdir, and
	// no empty parents left behind when it is removed. Pipeline and step
	// names have no dots, so the name reads back unambiguously.
	work := filepath.Join(r.workDir, fmt.Sprintf("%s.%s.%s.%d", in.Granule.ID, p.Name, s.Name, in.Attempt))
	if err := os.Mkdir(work, 0o755); err != nil {
		// Left by an interrupted attempt, or the work folder is missing.
		if err := os.RemoveAll(work); err != nil {
			return contract.Result{}, fmt.Errorf("clearing the attempt's folder: %w", err)
		}
		if err := os.MkdirAll(work, 0o755); err != nil {
			return contract.Result{}, fmt.Errorf("creating the attempt's folder: %w", err)
		}
	}
	if r.heartbeatURL != "" {
		// For a step that runs through the wrapper; others ignore it.
		env := maps.Clone(in.Env)
		if env == nil {
			env = map[string]string{}
		}
		env[stepwrap.EnvHeartbeatURL] = r.heartbeatURL
		if _, set := env[stepwrap.EnvHeartbeatInterval]; !set {
			env[stepwrap.EnvHeartbeatInterval] = heartbeatInterval.String()
		}
		in.Env = env
	}
	job := executor.Job{Task: s.Task, Input: in, WorkDir: work, Files: r.files, Log: log, Timeout: s.Timeout.D()}
	res, err := exec.Run(ctx, job)
	if err != nil && exec == r.docker && len(s.Task.LocalCommand) > 0 && errors.Is(err, executor.ErrCannotRun) {
		// The image is not here and cannot be built (no registry, say): the
		// task's local_command is the stand-in the user wrote for exactly
		// this machine, so a missing image need not stop the pipeline.
		fmt.Fprintf(log, "%v\nrunning the task's local_command instead\n", err)
		r.warnLocal(s.Task.Name, err)
		res, err = r.process.Run(ctx, job)
	}
	if err == nil {
		r.classify(&res.Granule)
		if !r.keepWork {
			r.discard(work) // only a failed attempt's folder is worth keeping
		}
	}
	var exit *executor.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && len(s.Task.TransientExitCodes) > 0 && !executor.Retryable(err, s.Task.TransientExitCodes):
		// The task says which codes mean "try again"; this is not one.
		return res, fatalError{err}
	case !errors.As(err, &exit) && !executor.Retryable(err, nil):
		// A task that cannot run here, or that wrote a malformed result,
		// would fail the same way on every retry. Exit codes of a task
		// that lists no transient ones stay retryable: its `retries`
		// apply to any failure, as States.ALL does.
		return res, fatalError{err}
	}
	return res, err
}

// warnLocal says once per task that it runs through its local_command
// because its image is not available.
func (r *stepRunner) warnLocal(task string, err error) {
	if _, done := r.warned.LoadOrStore(task, true); done {
		return
	}
	if r.logger != nil {
		r.logger.Warn("image unavailable; running the task's local_command", "task", task, "err", err)
	}
	if r.events != nil {
		r.events(scheduler.Event{Time: time.Now(), Kind: "warning", Step: task,
			Error: fmt.Sprintf("task.%s runs through its local_command: %v", task, err)})
	}
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

// classify gives the files a task wrote the type of the first of their
// collection's file blocks whose pattern matches their name, as acquisition
// does for the files it finds (and as NASA's Cumulus does for a processing
// step's outputs), so that move_granule archives them by their block.
func (r *stepRunner) classify(g *contract.Granule) {
	var c *graph.Collection
	for i := range g.Files {
		f := &g.Files[i]
		if f.Type != "" {
			continue
		}
		if c == nil {
			if c = r.env.Graph.Collection(g.Collection); c == nil {
				return
			}
		}
		for _, fb := range c.Files {
			if re := r.pattern(fb.Match); re != nil && re.MatchString(f.Name) {
				f.Type = fb.Name
				break
			}
		}
	}
}

// pattern is a file block's compiled regular expression (nil if it does
// not compile, which validate has already reported).
func (r *stepRunner) pattern(expr string) *regexp.Regexp {
	if re, ok := r.patterns.Load(expr); ok {
		return re.(*regexp.Regexp)
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil
	}
	r.patterns.Store(expr, re)
	return re
}

// discard removes a finished attempt's folder, in the background when the
// sweeper runs: removing a tree costs a quick step as much as running it,
// and nothing waits for it. The folder is first renamed out of the way (one
// system call), since the same granule's next run may need its name.
func (r *stepRunner) discard(dir string) {
	if r.sweep != nil {
		trash := filepath.Join(r.workDir, fmt.Sprintf("%s%d-%d", sweepPrefix, os.Getpid(), r.swept.Add(1)))
		if os.Rename(dir, trash) == nil {
			select {
			case r.sweep <- trash:
				return
			default: // the sweeper is behind: do this one here
			}
			dir = trash
		}
	}
	_ = os.RemoveAll(dir)
}

// sweepPrefix names folders waiting to be removed (the name of a granule's
// attempt folder never starts with a dot).
const sweepPrefix = ".sweep-"

// startSweeper removes discarded folders in the background until stop,
// which returns once all are gone. No step may run after stop. Folders a
// killed simulation left waiting are removed first.
func (r *stepRunner) startSweeper() (stop func()) {
	r.sweep = make(chan string, 1024)
	left, _ := filepath.Glob(filepath.Join(r.workDir, sweepPrefix+"*"))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, dir := range left {
			_ = os.RemoveAll(dir)
		}
		for dir := range r.sweep {
			_ = os.RemoveAll(dir)
		}
	}()
	return func() {
		close(r.sweep)
		<-done
	}
}
