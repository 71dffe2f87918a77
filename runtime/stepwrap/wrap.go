package stepwrap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/simulator/executor"
)

// Environment variables the wrapper reads besides the contract's. The
// orchestrator (or the task's environment) sets them; each has a flag of
// `cumulus step` that wins over it.
const (
	// EnvTransient lists the program's exit codes that mean "try again"
	// (comma-separated: "75,111").
	EnvTransient = "CUMULUS_TRANSIENT_EXIT_CODES"
	// EnvTimeout bounds the program's run (a Go duration: "30m").
	EnvTimeout = "CUMULUS_TIMEOUT"
	// EnvTaskToken is Step Functions' task token: heartbeats and the
	// outcome go to SendTaskHeartbeat / SendTaskSuccess / SendTaskFailure.
	EnvTaskToken = "CUMULUS_TASK_TOKEN"
	// EnvHeartbeatURL is a local endpoint heartbeats are POSTed to.
	EnvHeartbeatURL = "CUMULUS_HEARTBEAT_URL"
	// EnvHeartbeatInterval is the time between heartbeats ("60s").
	EnvHeartbeatInterval = "CUMULUS_HEARTBEAT_INTERVAL"
	// EnvS3Endpoint points the wrapper at an S3 endpoint other than AWS's
	// (MinIO, the simulator's embedded one), and turns on downloading and
	// uploading when the wrapper runs outside AWS.
	EnvS3Endpoint = "CUMULUS_S3_ENDPOINT"
	// EnvFetch forces (1) or forbids (0) downloading and uploading through
	// S3; unset, the wrapper does it when it runs on AWS (ECS) or has an
	// S3 endpoint.
	EnvFetch = "CUMULUS_FETCH"
)

// Exit statuses of the wrapper: what the executor or ECS sees.
const (
	ExitSucceeded = 0
	// ExitFatal: retrying cannot help (the program failed with an exit
	// code not listed as transient, an input failed its checksum, the
	// program is not there, its result is malformed).
	ExitFatal = 1
	// ExitUsage: the wrapper itself was called wrongly.
	ExitUsage = 2
	// ExitRetryable (EX_TEMPFAIL): a failure worth retrying.
	ExitRetryable = 75
)

// Outcome is how a step ended.
type Outcome string

// The outcomes.
const (
	Succeeded Outcome = "succeeded"
	Retryable Outcome = "retryable"
	Fatal     Outcome = "fatal"
)

// FileStore is where granule files live (S3). executor.S3Files implements it.
type FileStore interface {
	Download(ctx context.Context, f contract.File, dst string) error
	Upload(ctx context.Context, src, bucket, key string) (contract.File, error)
}

var _ FileStore = executor.S3Files{}

// DefaultGrace is the time between SIGTERM and SIGKILL when the program is
// stopped (ECS's and Docker's default stop timeout is 30 s and 10 s; the
// wrapper must finish within theirs).
const DefaultGrace = 5 * time.Second

// Config is one run of the wrapper.
type Config struct {
	// Command is the program and its arguments.
	Command []string
	// Environ is the wrapper's environment ("K=V"): the contract's
	// variables are read from it, and the program inherits it with the
	// contract's folders filled in.
	Environ []string
	// WorkDir holds in/, out/ and result.json when the environment does not
	// name the contract's folders (on AWS). Default: a fresh folder under
	// the system's temporary folder.
	WorkDir string
	// Files downloads missing inputs and uploads outputs; nil means the
	// inputs must be in the input folder already and the outputs are left
	// for whoever runs the wrapper (the simulator's executors).
	Files FileStore
	// Transient lists the program's exit codes that are worth retrying.
	Transient []int
	// Timeout bounds the program's run (0: none); downloads and uploads
	// are not counted.
	Timeout time.Duration
	// Grace is the time between SIGTERM and SIGKILL (DefaultGrace if 0).
	Grace time.Duration
	// Heartbeat receives a beat every HeartbeatEvery while the program runs
	// (nil: none), and, if it is also a Finisher, the outcome.
	Heartbeat      Heartbeater
	HeartbeatEvery time.Duration
	// SampleEvery is the time between resource samples logged while the
	// program runs (default 10 s; the last is always logged).
	SampleEvery time.Duration
	// Resources says where CPU and memory are read (zero: detected).
	Resources ResourceSource
	// Logger receives the wrapper's JSON log lines, the program's output
	// among them. Nil discards them.
	Logger *slog.Logger
}

// Report is what happened.
type Report struct {
	Outcome Outcome `json:"outcome"`
	// Reason says why a step did not succeed ("exit code 3", "killed for
	// memory", "timed out after 30m0s", "input x.nc failed its checksum").
	Reason string `json:"reason,omitempty"`
	// ExitCode is the program's (128+signal when killed), -1 if it did not
	// run or did not end by itself.
	ExitCode int `json:"exit_code"`
	// OOM and TimedOut say how a killed program died.
	OOM      bool `json:"oom,omitempty"`
	TimedOut bool `json:"timed_out,omitempty"`
	// Usage is the last resource sample: wall time, CPU, memory.
	Usage Sample `json:"usage"`
	// Fetched and Uploaded count the files moved through Files.
	Fetched  int `json:"fetched"`
	Uploaded int `json:"uploaded"`
	// Result is the step's result, when it succeeded and the wrapper
	// wrote it (Files set) or the program did.
	Result *contract.Result `json:"result,omitempty"`
}

// ExitStatus is the wrapper's exit status for the report.
func (r *Report) ExitStatus() int {
	switch r.Outcome {
	case Succeeded:
		return ExitSucceeded
	case Retryable:
		return ExitRetryable
	}
	return ExitFatal
}

// StepError is a step that did not succeed; Report says how.
type StepError struct {
	Report *Report
	Err    error
}

func (e *StepError) Error() string {
	if e.Err == nil {
		return string(e.Report.Outcome) + ": " + e.Report.Reason
	}
	return fmt.Sprintf("%s: %s: %v", e.Report.Outcome, e.Report.Reason, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// step is one run's state.
type step struct {
	cfg     Config
	log     *slog.Logger
	in      contract.Input
	vars    map[string]string
	dirs    folders
	report  *Report
	started time.Time
}

// folders are the contract's folders as the program sees them.
type folders struct {
	in, out, result string
}

// Run runs the wrapper: inputs, the program, outputs, result. It returns
// the report and, when the step did not succeed, a *StepError.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	s := &step{cfg: cfg, report: &Report{ExitCode: -1}, started: time.Now()}
	if s.cfg.Grace <= 0 {
		s.cfg.Grace = DefaultGrace
	}
	if s.cfg.SampleEvery <= 0 {
		s.cfg.SampleEvery = 10 * time.Second
	}
	s.log = cfg.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	err := s.run(ctx)
	s.report.Usage.Wall = time.Since(s.started)
	if err != nil {
		var se *StepError
		if !errors.As(err, &se) {
			err = s.fail(Retryable, "wrapper error", err)
		}
	} else {
		s.report.Outcome = Succeeded
	}
	s.finish(ctx, err)
	return s.report, err
}

// fail records a failed outcome and returns it as a *StepError.
func (s *step) fail(o Outcome, reason string, err error) error {
	s.report.Outcome, s.report.Reason = o, reason
	return &StepError{Report: s.report, Err: err}
}

func (s *step) run(ctx context.Context) error {
	if len(s.cfg.Command) == 0 {
		return s.fail(Fatal, "no command", errors.New("nothing to run: give the program after --"))
	}
	if err := s.readInput(); err != nil {
		return s.fail(Fatal, "bad step input", err)
	}
	s.log = s.log.With("pipeline", s.in.Pipeline, "step", s.in.Step, "granule", s.in.Granule.ID, "attempt", s.in.Attempt)
	if err := s.prepare(); err != nil {
		return s.fail(Retryable, "preparing the work folder", err)
	}
	start := time.Now()
	if err := s.fetch(ctx); err != nil {
		var sum *executor.ChecksumError
		if errors.As(err, &sum) {
			return s.fail(Fatal, "input "+sum.Name+" failed its checksum", err)
		}
		if ctx.Err() != nil {
			return s.fail(Retryable, "stopped", err)
		}
		return s.fail(Retryable, "fetching inputs", err)
	}
	s.log.Info("inputs ready", "files", len(s.in.Granule.Files), "fetched", s.report.Fetched, "took", time.Since(start).Round(time.Millisecond).String())

	if err := s.execute(ctx); err != nil {
		return err
	}
	return s.collect(ctx)
}

// readInput reads the step's input from the environment, as the contract
// defines it.
func (s *step) readInput() error {
	s.vars = map[string]string{}
	for _, kv := range s.cfg.Environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			s.vars[k] = v
		}
	}
	raw := s.vars[contract.EnvGranule]
	if raw == "" {
		return fmt.Errorf("%s is not set: the wrapper runs as a pipeline step, which receives the granule document there", contract.EnvGranule)
	}
	var g contract.Granule
	if err := json.Unmarshal([]byte(raw), &g); err != nil {
		return fmt.Errorf("%s is not a granule document: %w", contract.EnvGranule, err)
	}
	if g.ID == "" {
		return fmt.Errorf("%s has no id", contract.EnvGranule)
	}
	s.in = contract.Input{Pipeline: s.vars[contract.EnvPipeline], Step: s.vars[contract.EnvStep], Attempt: 1, Granule: g}
	if a := s.vars[contract.EnvAttempt]; a != "" {
		n, err := strconv.Atoi(a)
		if err != nil || n < 1 {
			return fmt.Errorf("%s=%q is not an attempt number", contract.EnvAttempt, a)
		}
		s.in.Attempt = n
	}
	if w := s.vars[contract.EnvWith]; w != "" {
		if err := json.Unmarshal([]byte(w), &s.in.With); err != nil {
			return fmt.Errorf("%s is not a JSON object: %w", contract.EnvWith, err)
		}
	}
	return nil
}

// prepare makes the contract's folders, where the environment does not
// name them already, and puts them in the program's environment.
func (s *step) prepare() error {
	s.dirs = folders{in: s.vars[contract.EnvInputDir], out: s.vars[contract.EnvOutputDir], result: s.vars[contract.EnvResult]}
	if s.dirs.in == "" || s.dirs.out == "" || s.dirs.result == "" {
		work := s.cfg.WorkDir
		if work == "" {
			var err error
			if work, err = os.MkdirTemp("", "cumulus-step-"); err != nil {
				return err
			}
		}
		if s.dirs.in == "" {
			s.dirs.in = filepath.Join(work, "in")
		}
		if s.dirs.out == "" {
			s.dirs.out = filepath.Join(work, "out")
		}
		if s.dirs.result == "" {
			s.dirs.result = filepath.Join(work, "result.json")
		}
	}
	for _, d := range []string{s.dirs.in, s.dirs.out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("making %s: %w", d, err)
		}
	}
	s.vars[contract.EnvInputDir] = s.dirs.in
	s.vars[contract.EnvOutputDir] = s.dirs.out
	s.vars[contract.EnvResult] = s.dirs.result
	s.vars[contract.EnvAttempt] = strconv.Itoa(s.in.Attempt)
	// The wrapper's own settings are not the program's business; the task
	// token above all is a credential of sorts.
	for _, k := range []string{EnvTaskToken, EnvTransient, EnvTimeout, EnvHeartbeatURL, EnvHeartbeatInterval, EnvFetch} {
		delete(s.vars, k)
	}
	return nil
}

// fetch makes every input file present in the input folder and checked:
// one already there (the simulator's executors put them) is verified
// against its size and checksum; a missing one is downloaded through Files,
// which verifies it on the way.
func (s *step) fetch(ctx context.Context) error {
	seen := map[string]bool{}
	for _, f := range s.in.Granule.Files {
		if !filepath.IsLocal(filepath.FromSlash(f.Name)) || strings.Contains(f.Name, `\`) {
			return fmt.Errorf("file name %q is not a plain relative name", f.Name)
		}
		if seen[f.Name] {
			return fmt.Errorf("two files are named %q", f.Name)
		}
		seen[f.Name] = true
		dst := filepath.Join(s.dirs.in, filepath.FromSlash(f.Name))
		_, err := os.Stat(dst)
		switch {
		case err == nil:
			if err := executor.VerifyFile(dst, f); err != nil {
				return err
			}
			continue
		case !errors.Is(err, fs.ErrNotExist):
			return err
		case s.cfg.Files == nil:
			return fmt.Errorf("input %s is not in %s, and the wrapper has no S3 store to fetch it from (set %s, or run on AWS)", f.Name, s.dirs.in, EnvS3Endpoint)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := s.download(ctx, f, dst); err != nil {
			var sum *executor.ChecksumError
			if errors.As(err, &sum) {
				return err
			}
			return fmt.Errorf("downloading %s from s3://%s/%s: %w", f.Name, f.Bucket, f.Key, err)
		}
		s.report.Fetched++
	}
	return nil
}

// CheckedDownloader is a FileStore that tells a checksum mismatch
// (*executor.ChecksumError) from a storage error as it downloads, in one
// pass; executor.S3Files is one.
type CheckedDownloader interface {
	DownloadChecked(ctx context.Context, f contract.File, dst string) error
}

var _ CheckedDownloader = executor.S3Files{}

// download fetches f to dst, verified: in one pass when the store can tell
// a mismatch itself, else by a download and a second read.
func (s *step) download(ctx context.Context, f contract.File, dst string) error {
	if c, ok := s.cfg.Files.(CheckedDownloader); ok {
		return c.DownloadChecked(ctx, f, dst)
	}
	nocheck := f
	nocheck.Checksum, nocheck.ChecksumType = "", ""
	if err := s.cfg.Files.Download(ctx, nocheck, dst); err != nil {
		return err
	}
	if err := executor.VerifyFile(dst, f); err != nil {
		_ = os.Remove(dst)
		return err
	}
	return nil
}

// execute runs the program and classifies how it ended.
func (s *step) execute(ctx context.Context) error {
	env := make([]string, 0, len(s.vars))
	for _, k := range slices.Sorted(maps.Keys(s.vars)) {
		env = append(env, k+"="+s.vars[k])
	}
	prog := s.cfg.Command[0]
	if !strings.Contains(prog, "/") {
		p, err := exec.LookPath(prog)
		if err != nil {
			return s.fail(Fatal, "program not found", fmt.Errorf("%s: %w", prog, err))
		}
		prog = p
	}
	cmd := exec.Command(prog, s.cfg.Command[1:]...)
	cmd.Args[0] = s.cfg.Command[0]
	cmd.Env = env
	ownGroup(cmd)
	out := newLineLogger(s.log, "stdout")
	errw := newLineLogger(s.log, "stderr")
	cmd.Stdout, cmd.Stderr = out, errw

	mon := newMonitor(s.cfg.Resources)
	before := mon.oomKills()
	s.log.Info("running", "command", s.cfg.Command, "resources", mon.kind())
	if err := cmd.Start(); err != nil {
		return s.fail(Fatal, "program cannot start", fmt.Errorf("starting %s: %w", s.cfg.Command[0], err))
	}
	mon.pid = cmd.Process.Pid

	done := make(chan struct{})
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait(); close(done) }()

	var timeoutC <-chan time.Time
	if s.cfg.Timeout > 0 {
		t := time.NewTimer(s.cfg.Timeout)
		defer t.Stop()
		timeoutC = t.C
	}
	sampleT := time.NewTicker(s.cfg.SampleEvery)
	defer sampleT.Stop()
	var beatC <-chan time.Time
	if s.cfg.Heartbeat != nil && s.cfg.HeartbeatEvery > 0 {
		bt := time.NewTicker(s.cfg.HeartbeatEvery)
		defer bt.Stop()
		beatC = bt.C
	}
	stopping := "" // why the wrapper stopped the program, if it did
	var werr error
loop:
	for {
		select {
		case werr = <-waitErr:
			break loop
		case <-sampleT.C:
			s.logSample(mon.sample(time.Since(s.started)), "resources")
		case <-beatC:
			s.beat(ctx, mon.sample(time.Since(s.started)))
		case <-timeoutC:
			stopping = "timeout"
			timeoutC = nil
			s.log.Warn("the program overran its timeout; stopping it", "timeout", s.cfg.Timeout.String())
			go stopGroup(cmd.Process, s.cfg.Grace, done)
		case <-ctx.Done():
			if stopping == "" {
				stopping = "cancelled"
				s.log.Warn("the wrapper was asked to stop; stopping the program", "cause", context.Cause(ctx))
				go stopGroup(cmd.Process, s.cfg.Grace, done)
			}
			ctx = context.WithoutCancel(ctx)
		}
	}
	out.flush()
	errw.flush()
	killGroupNow(cmd.Process) // stragglers of the group

	smp := mon.final(cmd.ProcessState, time.Since(s.started))
	s.report.Usage = smp
	s.logSample(smp, "resources (final)")
	code := exitCode(cmd.ProcessState)
	s.report.ExitCode = code
	oom := mon.oomKills() > before || (stopping == "" && (code == 128+9 || killedBy(cmd.ProcessState, 9)))
	switch {
	case stopping == "timeout":
		s.report.TimedOut = true
		return s.fail(Retryable, "timed out after "+s.cfg.Timeout.String(), werr)
	case stopping == "cancelled":
		return s.fail(Retryable, "stopped", werr)
	case code == 0:
		return nil
	case oom:
		s.report.OOM = true
		return s.fail(Retryable, fmt.Sprintf("killed for memory (exit code %d): raise the task's memory", code), werr)
	case slices.Contains(s.cfg.Transient, code):
		return s.fail(Retryable, fmt.Sprintf("exit code %d, listed as transient", code), werr)
	}
	return s.fail(Fatal, fmt.Sprintf("exit code %d", code), werr)
}

// collect is the result of a program that exited 0.
func (s *step) collect(ctx context.Context) error {
	data, err := os.ReadFile(s.dirs.result)
	switch {
	case err == nil:
		res, err := executor.ParseResult(data, s.in.Granule)
		if err != nil {
			return s.fail(Fatal, "malformed result", err)
		}
		s.report.Result = &res
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return s.fail(Retryable, "reading the result", err)
	case s.cfg.Files == nil:
		return nil // the executor collects the outputs
	}
	start := time.Now()
	res, err := executor.CollectOutputs(ctx, s.cfg.Files, s.in, s.dirs.out, s.log)
	if err != nil {
		return s.fail(Retryable, "uploading outputs", err)
	}
	s.report.Uploaded = len(res.Granule.Files) - len(s.in.Granule.Files)
	for _, f := range res.Granule.Files {
		for _, g := range s.in.Granule.Files {
			if f.Name == g.Name && f.Key != g.Key {
				s.report.Uploaded++ // a rewritten input
			}
		}
	}
	body, err := json.Marshal(res)
	if err != nil {
		return s.fail(Fatal, "encoding the result", err)
	}
	if err := writeFileAtomic(s.dirs.result, append(body, '\n')); err != nil {
		return s.fail(Retryable, "writing the result", err)
	}
	s.report.Result = &res
	s.log.Info("outputs uploaded", "files", s.report.Uploaded, "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

func (s *step) logSample(smp Sample, msg string) {
	s.log.Info(msg, "wall_s", round3(smp.Wall.Seconds()), "cpu_s", round3(smp.CPU.Seconds()),
		"memory_bytes", smp.Memory, "memory_peak_bytes", smp.MemoryPeak, "source", smp.Source)
}

func (s *step) beat(ctx context.Context, smp Sample) {
	b := Beat{Pipeline: s.in.Pipeline, Step: s.in.Step, Granule: s.in.Granule.ID, Attempt: s.in.Attempt, Usage: smp}
	if err := s.cfg.Heartbeat.Heartbeat(ctx, b); err != nil {
		// A missed heartbeat is not the step's failure; the orchestrator
		// decides what many missed ones mean.
		s.log.Warn("heartbeat not sent", "err", err)
	}
}

// finish logs the outcome and tells the Finisher.
func (s *step) finish(ctx context.Context, err error) {
	r := s.report
	attrs := []any{"outcome", r.Outcome, "exit_code", r.ExitCode, "exit_status", r.ExitStatus(),
		"wall_s", round3(r.Usage.Wall.Seconds()), "cpu_s", round3(r.Usage.CPU.Seconds()), "memory_peak_bytes", r.Usage.MemoryPeak}
	if r.Reason != "" {
		attrs = append(attrs, "reason", r.Reason)
	}
	if err != nil {
		attrs = append(attrs, "err", err.Error())
		s.log.Error("step finished", attrs...)
	} else {
		s.log.Info("step finished", attrs...)
	}
	if f, ok := s.cfg.Heartbeat.(Finisher); ok {
		if ferr := f.Finish(context.WithoutCancel(ctx), r); ferr != nil {
			s.log.Warn("could not report the outcome to the orchestrator", "err", ferr)
		}
	}
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// writeFileAtomic writes through a temporary file and a rename.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".result-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ParseTransient reads a list of exit codes: "75,111" or "75 111".
func ParseTransient(s string) ([]int, error) {
	var codes []int
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 255 {
			return nil, fmt.Errorf("transient exit code %q is not a number from 1 to 255", f)
		}
		codes = append(codes, n)
	}
	return codes, nil
}
