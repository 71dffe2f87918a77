package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// DefaultGrace is how long a cancelled step has between SIGTERM and SIGKILL:
// Docker's and ECS's default stop timeout.
const DefaultGrace = 10 * time.Second

// pipeDrain bounds the wait for a step's output after its group is killed:
// only a process that left the group (setsid) can hold the pipe open longer.
const pipeDrain = 2 * time.Second

// ProcessOptions configure a Process executor.
type ProcessOptions struct {
	// BaseDir is the configuration's folder: a relative program path in a
	// local_command ("./bin/step") is resolved against it.
	BaseDir string
	// Grace is the time between SIGTERM and SIGKILL when a step is
	// cancelled (DefaultGrace when 0).
	Grace time.Duration
	// Logger receives the executor's own messages (nil: discarded).
	Logger *slog.Logger
}

// Process runs a task's local_command as a local process: in its own process
// group, in the attempt's work folder, with a minimal inherited environment
// plus the step contract's. It enforces no memory or CPU limit.
type Process struct {
	base   string
	grace  time.Duration
	logger *slog.Logger
	// found caches programs found on PATH (name -> path): a search stats
	// every PATH entry, as much as a quick step's own cost. Only successes
	// are kept, so a program installed meanwhile is found next time.
	found sync.Map
}

var _ Executor = (*Process)(nil)

// NewProcess returns a Process executor.
func NewProcess(opts ProcessOptions) *Process {
	p := &Process{base: opts.BaseDir, grace: opts.Grace, logger: opts.Logger}
	if p.grace <= 0 {
		p.grace = DefaultGrace
	}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	return p
}

// Run runs one attempt of the job's step.
func (p *Process) Run(ctx context.Context, job Job) (contract.Result, error) {
	if job.Task == nil {
		return contract.Result{}, errors.New("executor: the job has no task")
	}
	if len(job.Task.LocalCommand) == 0 {
		return contract.Result{}, fmt.Errorf("task %s has no local_command, which running it as a local process needs: %w", job.Task.Name, ErrCannotRun)
	}
	prog, err := p.program(job.Task.LocalCommand[0])
	if err != nil {
		return contract.Result{}, fmt.Errorf("task %s: local_command %q: %w: %w", job.Task.Name, job.Task.LocalCommand[0], ErrCannotRun, err)
	}
	// A local process inherits what programs need to be found and to
	// behave, and nothing of the simulator's own configuration (credentials
	// above all), so that a step sees here what it sees in its container.
	base := map[string]string{}
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			base[k] = v
		}
	}
	return attempt(ctx, job, p.logger, workspace.hostPaths, base, func(actx context.Context, ws workspace, env []string) error {
		return p.run(actx, job, ws, prog, env)
	})
}

// program resolves the command's program: a bare name on PATH, a relative
// path against the configuration's folder (the step runs in its work
// folder, where the relative path would mean nothing).
func (p *Process) program(name string) (string, error) {
	if path, ok := p.found.Load(name); ok {
		return path.(string), nil
	}
	path, err := p.lookPath(name)
	if err == nil {
		p.found.Store(name, path)
	}
	return path, err
}

func (p *Process) lookPath(name string) (string, error) {
	if !filepath.IsAbs(name) && (strings.ContainsRune(name, '/') || strings.ContainsRune(name, filepath.Separator)) {
		base, err := filepath.Abs(p.base)
		if err != nil {
			return "", err
		}
		name = filepath.Join(base, name)
	}
	return exec.LookPath(name)
}

func (p *Process) run(actx context.Context, job Job, ws workspace, prog string, env []string) error {
	sink := newLogSink(job.Log)
	out := sink.stream()
	// One pipe for stdout and stderr keeps their order; it is ours, not
	// exec's, so that Wait returns when the step exits even if something it
	// started still holds the pipe.
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("starting the step: %w", err)
	}
	defer pr.Close()
	cmd := &exec.Cmd{
		Path:   prog,
		Args:   job.Task.LocalCommand,
		Dir:    ws.dir,
		Env:    env,
		Stdout: pw,
		Stderr: pw,
	}
	ownGroup(cmd)
	err = cmd.Start()
	pw.Close()
	if err != nil {
		return fmt.Errorf("starting %s: %w: %w", prog, ErrCannotRun, err)
	}
	p.logger.Debug("step started", "step", job.Input.Step, "granule", job.Input.Granule.ID, "pid", cmd.Process.Pid)
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(out, pr)
		close(copied)
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var werr error
	select {
	case werr = <-exited:
	case <-actx.Done():
		werr = p.stop(actx, cmd, exited)
	}
	// The step is over when its command is: what it left running goes too,
	// as on ECS when a task's essential container exits.
	_ = killGroup(cmd.Process)
	select {
	case <-copied:
	case <-time.After(pipeDrain):
		pr.Close()
		<-copied
	}
	out.flush()
	if sink.err != nil {
		p.logger.Warn("the step's log could not be written", "step", job.Input.Step, "err", sink.err)
	}
	if cmd.ProcessState == nil {
		return fmt.Errorf("waiting for the step: %w", werr)
	}
	if code := exitCode(cmd.ProcessState); code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}

// stop ends a step whose attempt context ended: a timed-out attempt is
// abandoned (a retry starts afresh in a new folder), so it is killed at
// once; a cancelled one may want to clean up, so it gets SIGTERM and the
// grace period first.
func (p *Process) stop(actx context.Context, cmd *exec.Cmd, exited <-chan error) error {
	if timedOut(actx) {
		_ = killGroup(cmd.Process)
		return <-exited
	}
	_ = terminateGroup(cmd.Process)
	t := time.NewTimer(p.grace)
	defer t.Stop()
	select {
	case err := <-exited:
		return err
	case <-t.C:
		p.logger.Warn("the step did not stop within its grace period; killing it", "pid", cmd.Process.Pid, "grace", p.grace)
		_ = killGroup(cmd.Process)
		return <-exited
	}
}
