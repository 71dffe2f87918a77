// Package scheduler runs granules through the pipeline graph: it starts each
// step when all it waits for has succeeded (fan-out and fan-in), caps the
// granules each pipeline processes at once, retries failed attempts after
// their delay (times the backoff), bounds each attempt by its timeout, skips
// steps whose condition is false, and carries the granule document from step
// to step. What runs a step, what records progress and what tells time are
// interfaces defined here, so tests drive it without processes or clocks.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/runtime/stepinput"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// StepRunner runs one attempt of one step (an executor, chosen per task).
type StepRunner interface {
	RunStep(ctx context.Context, p *graph.Pipeline, s *graph.Step, in contract.Input) (contract.Result, error)
}

// Journal records progress durably, so a killed simulation resumes where
// it was. Every call must be idempotent.
type Journal interface {
	AttemptStarted(ctx context.Context, run Run, step string, attempt int) error
	AttemptFinished(ctx context.Context, run Run, step string, attempt int, err error) error
	// StepFinished records a step's outcome: its result (nil when it failed
	// or was skipped, in which case the granule passes through unchanged).
	// A cancelled step is reported too; a journal that resumes runs should
	// leave it to be run again.
	StepFinished(ctx context.Context, run Run, step string, status StepStatus, res *contract.Result, err error) error
	RunFinished(ctx context.Context, run Run, status RunStatus, err error) error
}

// Clock tells time and waits; tests use a fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// Fatal marks errors that retrying cannot fix (a checksum mismatch, a
// malformed result): errors that implement it and return true are not
// retried. Anything else is, as AWS's orchestrators retry any failure.
type Fatal interface{ Fatal() bool }

// StepStatus is the outcome of a step in a run.
type StepStatus string

// RunStatus is the outcome of a run.
type RunStatus string

// Outcomes.
const (
	StepSucceeded StepStatus = "succeeded"
	StepFailed    StepStatus = "failed"
	StepSkipped   StepStatus = "skipped"
	StepCancelled StepStatus = "cancelled"

	RunSucceeded RunStatus = "succeeded"
	RunFailed    RunStatus = "failed"
	RunCancelled RunStatus = "cancelled"
)

// Run is one granule going through one pipeline.
type Run struct {
	ID       string
	Pipeline *graph.Pipeline
	Granule  contract.Granule
	// Done holds the steps that finished in an earlier, interrupted
	// process, with the granule each returned: they are not run again.
	Done map[string]Finished
}

// Finished is a step finished before a resume.
type Finished struct {
	Status  StepStatus
	Granule contract.Granule
}

// Outcome is how a run ended.
type Outcome struct {
	Status RunStatus
	// Steps holds each step's status; steps that never started are absent.
	Steps map[string]StepStatus
	// Failed names the step that failed, and Err why.
	Failed string
	Err    error
	// Granule is the document as the run left it.
	Granule contract.Granule
}

// Event reports progress, for the live view and --json.
type Event struct {
	Time time.Time `json:"time"`
	// Kind is "run-started", "attempt-started", "attempt-failed",
	// "step-finished", "run-finished" or "notify" (and, from acquisition,
	// "discovered", "staged", "skipped-duplicate", "stage-failed",
	// "poll-failed"), "backfill-queued" (a granule of a backfill list), and
	// "warning" (Error says what the user should know).
	Kind     string `json:"kind"`
	Run      string `json:"run,omitempty"`
	Pipeline string `json:"pipeline,omitempty"`
	Granule  string `json:"granule,omitempty"`
	Step     string `json:"step,omitempty"`
	Attempt  int    `json:"attempt,omitempty"`
	Status   string `json:"status,omitempty"`
	Error    string `json:"error,omitempty"`
	// Delay is the wait before the next attempt, after a failed one.
	Delay time.Duration `json:"delay,omitempty"`
	// Files are where the granule's files are when its run finished
	// ("bucket/key"), on run-finished events.
	Files []string `json:"files,omitempty"`
}

// Scheduler runs granules through pipelines.
type Scheduler struct {
	Graph   *graph.Graph
	Runner  StepRunner
	Journal Journal
	Clock   Clock
	Log     *slog.Logger
	// Events, when set, receives every progress event (from many
	// goroutines; it must be safe for concurrent use).
	Events func(Event)

	mu    sync.Mutex
	slots map[string]chan struct{} // per pipeline: its concurrency cap
}

func (s *Scheduler) emit(e Event) {
	if s.Events != nil {
		e.Time = s.Clock.Now()
		s.Events(e)
	}
}

// Slot waits for one of pipeline p's concurrency slots; release gives it
// back. A caller that must record a run as started only once it may run
// (the durable store says "running") takes the slot, records, and calls
// RunHolding.
func (s *Scheduler) Slot(ctx context.Context, p *graph.Pipeline) (release func(), err error) {
	s.mu.Lock()
	if s.slots == nil {
		s.slots = map[string]chan struct{}{}
	}
	ch, ok := s.slots[p.Name]
	if !ok {
		ch = make(chan struct{}, max(1, p.Concurrency))
		s.slots[p.Name] = ch
	}
	s.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// RunGranule takes one of the pipeline's concurrency slots and runs the
// granule through it. Cancelling ctx stops the run: running steps are
// stopped (their executors get the cancellation), nothing new starts, and
// the outcome says what was left.
func (s *Scheduler) RunGranule(ctx context.Context, run Run) Outcome {
	release, err := s.Slot(ctx, run.Pipeline)
	if err != nil {
		return Outcome{Status: RunCancelled, Err: err, Granule: run.Granule, Steps: map[string]StepStatus{}}
	}
	defer release()
	return s.RunHolding(ctx, run)
}

// RunHolding runs the granule in a concurrency slot of its pipeline the
// caller already holds (see Slot).
func (s *Scheduler) RunHolding(ctx context.Context, run Run) Outcome {
	s.emit(Event{Kind: "run-started", Run: run.ID, Pipeline: run.Pipeline.Name, Granule: run.Granule.ID})
	out := s.execute(ctx, run)
	// Recorded even when ctx was cancelled: the record is what a restart
	// resumes from.
	if err := s.Journal.RunFinished(context.WithoutCancel(ctx), run, out.Status, out.Err); err != nil && out.Err == nil {
		out.Err = fmt.Errorf("recording the end of run %s: %w", run.ID, err)
	}
	ev := Event{Kind: "run-finished", Run: run.ID, Pipeline: run.Pipeline.Name, Granule: run.Granule.ID, Status: string(out.Status), Step: out.Failed}
	for _, f := range out.Granule.Files {
		ev.Files = append(ev.Files, f.Bucket+"/"+f.Key)
	}
	if out.Err != nil {
		ev.Error = out.Err.Error()
	}
	s.emit(ev)
	if out.Status == RunFailed && run.Pipeline.Notify != "" {
		// The local stand-in of the SNS notification: an event the live
		// view and --json show, naming the topic it would go to.
		s.emit(Event{Kind: "notify", Run: run.ID, Pipeline: run.Pipeline.Name, Granule: run.Granule.ID, Step: out.Failed, Status: run.Pipeline.Notify, Error: ev.Error})
	}
	return out
}

type stepDone struct {
	step   *graph.Step
	status StepStatus
	res    contract.Result
	err    error
}

// execute walks the graph: a step starts once everything in its after list
// succeeded or was skipped; the run fails at the first step that fails for
// good, after which nothing new starts and running steps are stopped.
func (s *Scheduler) execute(parent context.Context, run Run) Outcome {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	p := run.Pipeline
	out := Outcome{Status: RunSucceeded, Steps: map[string]StepStatus{}, Granule: run.Granule}
	granules := map[string]contract.Granule{} // each finished step's output
	for name, f := range run.Done {
		out.Steps[name] = f.Status
		granules[name] = f.Granule
	}
	done := make(chan stepDone)
	running := 0
	failed := false
	for {
		if !failed && parent.Err() == nil {
			for _, st := range p.Steps {
				if _, seen := out.Steps[st.Name]; seen || !ready(st, out.Steps) {
					continue
				}
				in := stepinput.Merge(run.Granule, st, granules)
				out.Steps[st.Name] = "running"
				running++
				go func(st *graph.Step, in contract.Granule) {
					status, res, err := s.step(ctx, run, st, in)
					done <- stepDone{step: st, status: status, res: res, err: err}
				}(st, in)
			}
		}
		if running == 0 {
			break
		}
		d := <-done
		running--
		out.Steps[d.step.Name] = d.status
		switch d.status {
		case StepSucceeded:
			granules[d.step.Name] = d.res.Granule
		case StepSkipped:
			granules[d.step.Name] = stepinput.Merge(run.Granule, d.step, granules)
		default:
			if !failed {
				failed = true
				out.Failed, out.Err = d.step.Name, d.err
				cancel() // stop the other branches: the run has failed
			}
		}
		if err := s.Journal.StepFinished(context.WithoutCancel(ctx), run, d.step.Name, d.status, resultPtr(d), d.err); err != nil && out.Err == nil {
			out.Err = fmt.Errorf("recording step %s of run %s: %w", d.step.Name, run.ID, err)
		}
		s.emit(Event{Kind: "step-finished", Run: run.ID, Pipeline: p.Name, Granule: run.Granule.ID, Step: d.step.Name, Status: string(d.status), Error: errText(d.err)})
	}
	for name, st := range out.Steps {
		if st == "running" {
			out.Steps[name] = StepCancelled
		}
	}
	switch {
	case failed && parent.Err() != nil && out.Steps[out.Failed] == StepCancelled:
		out.Status = RunCancelled
	case failed:
		out.Status = RunFailed
	case parent.Err() != nil || len(finishedSteps(out.Steps)) < len(p.Steps):
		out.Status, out.Err = RunCancelled, parent.Err()
	}
	if last := lastGranule(p, granules); last != nil {
		out.Granule = *last
	}
	return out
}

func resultPtr(d stepDone) *contract.Result {
	if d.status == StepSucceeded {
		return &d.res
	}
	return nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func finishedSteps(steps map[string]StepStatus) []string {
	var out []string
	for n, st := range steps {
		if st == StepSucceeded || st == StepSkipped {
			out = append(out, n)
		}
	}
	return out
}

// ready says whether every step st waits for succeeded or was skipped.
func ready(st *graph.Step, status map[string]StepStatus) bool {
	for _, a := range st.After {
		if s := status[a]; s != StepSucceeded && s != StepSkipped {
			return false
		}
	}
	return true
}

// lastGranule is the output of the last step in graph order that produced
// one: the granule as the run leaves it.
func lastGranule(p *graph.Pipeline, outputs map[string]contract.Granule) *contract.Granule {
	for i := len(p.Steps) - 1; i >= 0; i-- {
		if g, ok := outputs[p.Steps[i].Name]; ok {
			return &g
		}
	}
	return nil
}

// step runs one step to its end: its condition, then attempts until one
// succeeds, the error is fatal, or the retries are spent.
func (s *Scheduler) step(ctx context.Context, run Run, st *graph.Step, in contract.Granule) (StepStatus, contract.Result, error) {
	p := run.Pipeline
	if st.When != nil {
		ok, err := stepinput.When(s.Graph, st, in)
		if err != nil {
			return StepFailed, contract.Result{}, fmt.Errorf("step %s: deciding whether to run: %w", st.Name, err)
		}
		if !ok {
			return StepSkipped, contract.Result{Granule: in}, nil
		}
	}
	env, with, err := stepinput.Bindings(s.Graph, st, in)
	if err != nil {
		return StepFailed, contract.Result{}, fmt.Errorf("step %s: %w", st.Name, err)
	}
	delay := st.RetryDelay.D()
	for attempt := 1; ; attempt++ {
		if err := s.Journal.AttemptStarted(ctx, run, st.Name, attempt); err != nil {
			if ctx.Err() != nil {
				return StepCancelled, contract.Result{}, ctx.Err()
			}
			return StepFailed, contract.Result{}, fmt.Errorf("recording attempt %d of step %s: %w", attempt, st.Name, err)
		}
		s.emit(Event{Kind: "attempt-started", Run: run.ID, Pipeline: p.Name, Granule: run.Granule.ID, Step: st.Name, Attempt: attempt})
		actx, cancel := ctx, context.CancelFunc(func() {})
		if t := st.Timeout.D(); t > 0 {
			actx, cancel = context.WithTimeout(ctx, t)
		}
		res, err := s.Runner.RunStep(actx, p, st, contract.Input{Pipeline: p.Name, Step: st.Name, Attempt: attempt, Granule: in, Env: env, With: with})
		timedOut := actx.Err() == context.DeadlineExceeded && ctx.Err() == nil
		cancel()
		if err == nil {
			if jerr := s.Journal.AttemptFinished(context.WithoutCancel(ctx), run, st.Name, attempt, nil); jerr != nil {
				return StepFailed, contract.Result{}, fmt.Errorf("recording attempt %d of step %s: %w", attempt, st.Name, jerr)
			}
			return StepSucceeded, res, nil
		}
		if timedOut {
			err = fmt.Errorf("attempt %d timed out after %s: %w", attempt, st.Timeout.D(), err)
		}
		if jerr := s.Journal.AttemptFinished(context.WithoutCancel(ctx), run, st.Name, attempt, err); jerr != nil {
			return StepFailed, contract.Result{}, fmt.Errorf("recording attempt %d of step %s: %w", attempt, st.Name, jerr)
		}
		if ctx.Err() != nil {
			return StepCancelled, contract.Result{}, ctx.Err()
		}
		var f Fatal
		if attempt > st.Retries || (errors.As(err, &f) && f.Fatal()) {
			return StepFailed, contract.Result{}, err
		}
		s.emit(Event{Kind: "attempt-failed", Run: run.ID, Pipeline: p.Name, Granule: run.Granule.ID, Step: st.Name, Attempt: attempt, Error: err.Error(), Delay: delay})
		select {
		case <-s.Clock.After(delay):
		case <-ctx.Done():
			return StepCancelled, contract.Result{}, ctx.Err()
		}
		delay = time.Duration(math.Round(float64(delay) * math.Max(1, st.Backoff)))
	}
}
