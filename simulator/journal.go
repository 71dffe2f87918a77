package simulator

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/simulator/scheduler"
	"github.com/cumulus-toolchain/cumulus/simulator/state"
)

// journal records the scheduler's progress in the durable store: the
// scheduler's Journal, over state.Store.
type journal struct {
	store *state.Store
	// logPath names the log file of an attempt.
	logPath func(run scheduler.Run, step string, attempt int) string

	// The store numbers attempts across processes (an interrupted attempt
	// keeps its number), the scheduler within this one: numbers maps the
	// scheduler's to the store's.
	mu      sync.Mutex
	numbers map[attemptKey]int
}

type attemptKey struct {
	run, step string
	attempt   int
}

var _ scheduler.Journal = (*journal)(nil)

// exitCoder is what executors' errors tell of the process they ran.
type exitCoder interface{ ExitCode() int }

func (j *journal) AttemptStarted(ctx context.Context, run scheduler.Run, step string, attempt int) error {
	log := ""
	if j.logPath != nil {
		log = j.logPath(run, step, attempt)
	}
	a, err := j.store.StartAttempt(ctx, run.ID, step, 0, log) // 0: the store's next number
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.numbers == nil {
		j.numbers = map[attemptKey]int{}
	}
	j.numbers[attemptKey{run.ID, step, attempt}] = a.Number
	return nil
}

func (j *journal) number(run, step string, attempt int) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	if n, ok := j.numbers[attemptKey{run, step, attempt}]; ok {
		return n
	}
	return attempt
}

func (j *journal) AttemptFinished(ctx context.Context, run scheduler.Run, step string, attempt int, err error) error {
	if errors.Is(err, context.Canceled) {
		// Stopped by the user, not failed: left open, it is marked
		// interrupted when the run resumes, as after a crash.
		return nil
	}
	res := state.AttemptResult{}
	if err != nil {
		res.ExitCode, res.Error = -1, err.Error()
		var ec exitCoder
		if errors.As(err, &ec) {
			res.ExitCode = ec.ExitCode()
		}
	}
	_, ferr := j.store.FinishAttempt(ctx, run.ID, step, j.number(run.ID, step, attempt), res)
	return ferr
}

func (j *journal) StepFinished(ctx context.Context, run scheduler.Run, step string, status scheduler.StepStatus, res *contract.Result, err error) error {
	var sr state.StepResult
	switch status {
	case scheduler.StepSucceeded:
		sr = state.StepResult{Status: state.StepSucceeded, Granule: &res.Granule, Outputs: res.Outputs}
	case scheduler.StepSkipped:
		sr = state.StepResult{Status: state.StepSkipped}
	case scheduler.StepFailed:
		sr = state.StepResult{Status: state.StepFailed}
		if err != nil {
			sr.Error = err.Error()
		}
	default:
		// Cancelled: left unfinished, so a restart runs it again.
		return nil
	}
	_, ferr := j.store.FinishStep(ctx, run.ID, step, sr)
	return ferr
}

func (j *journal) RunFinished(ctx context.Context, run scheduler.Run, status scheduler.RunStatus, err error) error {
	st := state.RunSucceeded
	switch status {
	case scheduler.RunFailed:
		st = state.RunFailed
	case scheduler.RunCancelled:
		// A cancelled run stays running in the store: Resume picks it up
		// next time, which is what Ctrl-C then a restart should do.
		return nil
	}
	text := ""
	if err != nil {
		text = err.Error()
	}
	_, ferr := j.store.FinishRun(ctx, run.ID, st, text)
	return ferr
}

// resumable turns a run the store says was interrupted into the
// scheduler's Run: its finished steps, with the granule each returned, are
// not run again.
func resumable(r state.Run, p *scheduler.Run) error {
	if r.Input == nil {
		return fmt.Errorf("run %s has no input granule", r.ID)
	}
	p.ID, p.Granule, p.Done = r.ID, *r.Input, map[string]scheduler.Finished{}
	for _, s := range r.Steps {
		if !s.Status.Done() {
			continue
		}
		g := *r.Input
		if s.Output != nil {
			g = *s.Output
		}
		st := scheduler.StepSucceeded
		if s.Status == state.StepSkipped {
			st = scheduler.StepSkipped
		}
		p.Done[s.Name] = scheduler.Finished{Status: st, Granule: g}
	}
	return nil
}
