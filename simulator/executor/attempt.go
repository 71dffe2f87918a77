package executor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// The layout of Job.WorkDir. The result file sits beside in/ and out/, not
// inside out/, so that it is never mistaken for an output file; Docker
// mounts WorkDir whole, so the three are one bind mount.
const (
	inDir      = "in"
	outDir     = "out"
	resultFile = "result.json"
)

// errTimedOut is the cause of an attempt context that hit Job.Timeout, to
// tell it from the caller's cancellation.
var errTimedOut = errors.New("attempt timed out")

// timedOut says whether an attempt context ended by the attempt's timeout
// (the step is to be killed) rather than the caller stopping it (the step is
// to be stopped gracefully).
func timedOut(actx context.Context) bool { return errors.Is(context.Cause(actx), errTimedOut) }

// workspace is the host side of Job.WorkDir.
type workspace struct {
	dir, in, out, result string
}

// stepPaths are the contract's folders as the step sees them: the host
// paths for a process, the mount points for a container.
type stepPaths struct {
	in, out, result string
}

func (w workspace) hostPaths() stepPaths { return stepPaths{in: w.in, out: w.out, result: w.result} }

// runFunc is the part of an attempt each executor does its own way: run the
// step with env and wait for it. It returns nil on a zero exit and an
// *ExitError otherwise. When actx ends it stops the step (killing it if
// timedOut(actx), gracefully otherwise) and returns once it is gone.
type runFunc func(actx context.Context, ws workspace, env []string) error

// attempt does what every executor does around run: the attempt's timeout,
// the workspace and downloads, the environment, and the result.
func attempt(ctx context.Context, job Job, logger *slog.Logger, paths func(workspace) stepPaths, baseEnv map[string]string, run runFunc) (contract.Result, error) {
	var actx context.Context
	var cancel context.CancelFunc
	if job.Timeout > 0 {
		actx, cancel = context.WithTimeoutCause(ctx, job.Timeout, errTimedOut)
	} else {
		actx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	stop := func(err error) (contract.Result, error) {
		return contract.Result{}, stopped(ctx, actx, job, err)
	}

	ws, err := newWorkspace(job.WorkDir)
	if err != nil {
		return contract.Result{}, err
	}
	env, err := environment(job, paths(ws), baseEnv)
	if err != nil {
		return contract.Result{}, err
	}
	start := time.Now()
	if err := download(actx, job, ws); err != nil {
		return stop(err)
	}
	logger.Debug("inputs ready", "step", job.Input.Step, "granule", job.Input.Granule.ID,
		"files", len(job.Input.Granule.Files), "took", time.Since(start))
	if err := run(actx, ws, env); err != nil {
		return stop(err)
	}
	// A step stopped by the timeout or the caller may well exit 0 (a TERM
	// trap that cleans up): it still did not finish.
	if actx.Err() != nil {
		return stop(actx.Err())
	}
	res, err := collect(actx, job, ws, logger)
	if err != nil {
		return stop(err)
	}
	return res, nil
}

// stopped turns the error of an attempt whose context may have ended into
// what the caller is promised: the caller's ctx.Err() wrapped when it
// stopped the attempt, an *ExitError with Timeout when the attempt overran.
func stopped(ctx, actx context.Context, job Job, err error) error {
	if ctx.Err() != nil {
		return &stoppedError{step: job.Input.Step, granule: job.Input.Granule.ID, err: ctx.Err()}
	}
	if timedOut(actx) {
		var exit *ExitError
		if errors.As(err, &exit) {
			exit.Timeout = true
			return exit
		}
		// It overran before or after the step ran (downloads, uploads).
		return &ExitError{Code: -1, Timeout: true}
	}
	return err
}

// stoppedError is an attempt its caller stopped; it wraps ctx.Err(). It is
// a type of its own so that Retryable can tell the caller's deadline from a
// deadline inside the infrastructure (an HTTP timeout), which is retryable.
type stoppedError struct {
	step, granule string
	err           error
}

func (e *stoppedError) Error() string {
	return fmt.Sprintf("step %s of granule %s stopped: %v", e.step, e.granule, e.err)
}

func (e *stoppedError) Unwrap() error { return e.err }

func newWorkspace(dir string) (workspace, error) {
	if dir == "" {
		return workspace{}, errors.New("executor: the job has no work folder")
	}
	// Absolute, because a process runs in it (relative paths would resolve
	// twice) and Docker accepts only absolute bind sources.
	abs, err := filepath.Abs(dir)
	if err != nil {
		return workspace{}, fmt.Errorf("work folder: %w", err)
	}
	ws := workspace{
		dir:    abs,
		in:     filepath.Join(abs, inDir),
		out:    filepath.Join(abs, outDir),
		result: filepath.Join(abs, resultFile),
	}
	// Mkdir, not MkdirAll: the work folder exists, and a step's overhead
	// is counted in system calls.
	for _, d := range []string{ws.in, ws.out} {
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return workspace{}, fmt.Errorf("preparing the work folder: %w", err)
		}
	}
	return ws, nil
}

// download fetches every file of the granule into in/, by its name.
func download(ctx context.Context, job Job, ws workspace) error {
	files := job.Input.Granule.Files
	if len(files) > 0 && job.Files == nil {
		return errors.New("executor: the job has granule files but no file store")
	}
	seen := map[string]bool{}
	for _, f := range files {
		// A name is a path under in/, never a way out of it.
		if !filepath.IsLocal(filepath.FromSlash(f.Name)) || strings.Contains(f.Name, `\`) {
			return fmt.Errorf("granule %s: file name %q is not a plain relative name", job.Input.Granule.ID, f.Name)
		}
		if seen[f.Name] {
			return fmt.Errorf("granule %s: two files are named %q", job.Input.Granule.ID, f.Name)
		}
		seen[f.Name] = true
		dst := filepath.Join(ws.in, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("downloading %s: %w", f.Name, err)
		}
		if err := job.Files.Download(ctx, f, dst); err != nil {
			return fmt.Errorf("downloading %s (s3://%s/%s): %w", f.Name, f.Bucket, f.Key, err)
		}
	}
	return nil
}

// environment is the step's environment, sorted by name: base (what the
// executor inherits), then the task's static environment, then the step's
// env, then the contract's variables. Later ones win, the contract's last,
// so that no configuration can point a step away from its own folders.
func environment(job Job, p stepPaths, base map[string]string) ([]string, error) {
	vars := maps.Clone(base)
	if vars == nil {
		vars = map[string]string{}
	}
	for _, b := range job.Task.Environment {
		if !b.Value.IsStatic() {
			return nil, fmt.Errorf("task %s: environment %s is not a static value: %w", job.Task.Name, b.Name, ErrCannotRun)
		}
		vars[b.Name] = b.Value.StaticString()
	}
	maps.Copy(vars, job.Input.Env)

	g := job.Input.Granule
	if g.Files == nil {
		g.Files = []contract.File{} // "files": [] rather than null, for steps' parsers
	}
	granule, err := json.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("encoding the granule: %w", err)
	}
	attempt := job.Input.Attempt
	if attempt < 1 {
		attempt = 1
	}
	vars[contract.EnvGranule] = string(granule)
	vars[contract.EnvPipeline] = job.Input.Pipeline
	vars[contract.EnvStep] = job.Input.Step
	vars[contract.EnvAttempt] = strconv.Itoa(attempt)
	vars[contract.EnvInputDir] = p.in
	vars[contract.EnvOutputDir] = p.out
	vars[contract.EnvResult] = p.result
	delete(vars, contract.EnvWith) // only ever the step's own inputs
	if len(job.Input.With) > 0 {
		with, err := json.Marshal(job.Input.With)
		if err != nil {
			return nil, fmt.Errorf("encoding the step's inputs: %w", err)
		}
		vars[contract.EnvWith] = string(with)
	}

	env := make([]string, 0, len(vars))
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		v := vars[k]
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.Contains(v, "\x00") {
			return nil, fmt.Errorf("step %s: %q is not a valid environment variable: %w", job.Input.Step, k, ErrCannotRun)
		}
		env = append(env, k+"="+v)
	}
	return env, nil
}

// collect is the result of a step that exited 0.
func collect(ctx context.Context, job Job, ws workspace, logger *slog.Logger) (contract.Result, error) {
	data, err := os.ReadFile(ws.result)
	if errors.Is(err, fs.ErrNotExist) {
		return collectOutputs(ctx, job, ws, logger)
	}
	if err != nil {
		return contract.Result{}, fmt.Errorf("reading the step's result: %w", err)
	}
	res, err := parseResult(data, job.Input.Granule)
	if err != nil {
		return contract.Result{}, &ResultError{Err: err}
	}
	// The contract says a written result is the whole answer; files left
	// in out/ too are most likely a mistake worth telling about.
	if entries, err := os.ReadDir(ws.out); err == nil && len(entries) > 0 {
		logger.Warn("the step wrote a result, so the files it left in its output folder are not added to the granule",
			"step", job.Input.Step, "granule", job.Input.Granule.ID, "files", len(entries))
	}
	return res, nil
}

// parseResult reads and checks a result the step wrote. It is lenient with
// fields it does not know (the contract grows additively) and strict with
// what the scheduler relies on: the same granule, files that say where they
// are. Collection, version and date left empty are the input's.
func parseResult(data []byte, in contract.Granule) (contract.Result, error) {
	var raw struct {
		Granule *contract.Granule `json:"granule"`
		Outputs map[string]any    `json:"outputs"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return contract.Result{}, fmt.Errorf("%s is not a JSON result object: %w", contract.EnvResult, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return contract.Result{}, fmt.Errorf("%s holds more than one JSON value", contract.EnvResult)
	}
	if raw.Granule == nil {
		return contract.Result{}, fmt.Errorf(`the result has no "granule"`)
	}
	g := *raw.Granule
	if g.ID != in.ID {
		return contract.Result{}, fmt.Errorf("the result's granule id is %q, not the input granule's %q", g.ID, in.ID)
	}
	if g.Files == nil {
		return contract.Result{}, fmt.Errorf(`the result's granule has no "files" (write [] for none)`)
	}
	seen := map[string]bool{}
	for i, f := range g.Files {
		switch {
		case f.Name == "":
			return contract.Result{}, fmt.Errorf("the result's file %d has no name", i+1)
		case f.Bucket == "" || f.Key == "":
			return contract.Result{}, fmt.Errorf("the result's file %q has no bucket or key", f.Name)
		case f.Size < 0:
			return contract.Result{}, fmt.Errorf("the result's file %q has a negative size", f.Name)
		case seen[f.Name]:
			return contract.Result{}, fmt.Errorf("the result has two files named %q", f.Name)
		}
		seen[f.Name] = true
	}
	if g.Collection == "" {
		g.Collection = in.Collection
	}
	if g.Version == "" {
		g.Version = in.Version
	}
	if g.Date == "" {
		g.Date = in.Date
	}
	return contract.Result{Granule: g, Outputs: raw.Outputs}, nil
}

// collectOutputs is the result of a step that wrote none: the input granule
// plus every regular file left in out/ (sub-folders included, named by their
// slash-separated path under out/), uploaded to the staging bucket — the
// bucket of the granule's first file — under "<granule id>/<name>".
//
// A file named like an input file replaces it in the granule and keeps its
// type (the step rewrote it); any other file is added with type "" (the
// collection's file blocks are matched later, by whoever knows them).
// Symbolic links are skipped: a link could point anywhere on the host.
func collectOutputs(ctx context.Context, job Job, ws workspace, logger *slog.Logger) (contract.Result, error) {
	g := job.Input.Granule
	g.Files = slices.Clone(g.Files)
	if g.Files == nil {
		g.Files = []contract.File{}
	}
	// Most steps that write no result write no file either: one listing
	// tells, before a walk.
	if entries, err := os.ReadDir(ws.out); err == nil && len(entries) == 0 {
		return contract.Result{Granule: g}, nil
	}
	var names []string
	err := filepath.WalkDir(ws.out, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return nil
		case !d.Type().IsRegular():
			logger.Warn("skipping an output that is not a regular file", "step", job.Input.Step, "path", path)
			return nil
		}
		rel, err := filepath.Rel(ws.out, path)
		if err != nil {
			return err
		}
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return contract.Result{}, fmt.Errorf("listing the step's outputs: %w", err)
	}
	if len(names) == 0 {
		return contract.Result{Granule: g}, nil
	}
	if len(job.Input.Granule.Files) == 0 {
		return contract.Result{}, fmt.Errorf("granule %s has no files, so no staging bucket to upload the step's %d outputs to", g.ID, len(names))
	}
	if job.Files == nil {
		return contract.Result{}, errors.New("executor: the step left outputs but the job has no file store")
	}
	bucket := job.Input.Granule.Files[0].Bucket
	for _, name := range names {
		key := g.ID + "/" + name
		f, err := job.Files.Upload(ctx, filepath.Join(ws.out, filepath.FromSlash(name)), bucket, key)
		if err != nil {
			return contract.Result{}, fmt.Errorf("uploading output %s to s3://%s/%s: %w", name, bucket, key, err)
		}
		f.Name, f.Type, f.Source = name, "", ""
		if i := slices.IndexFunc(g.Files, func(in contract.File) bool { return in.Name == name }); i >= 0 {
			f.Type = g.Files[i].Type
			g.Files[i] = f
		} else {
			g.Files = append(g.Files, f)
		}
	}
	return contract.Result{Granule: g}, nil
}
