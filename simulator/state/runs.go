package state

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// StartRun starts a queued run with the pipeline's steps (the graph's step
// names, in its order), all pending. It refuses, with ErrGranuleBusy, while
// another run of the same granule is running.
//
// StartRun also adopts a run Resume returned (running, left by a process that
// died): its steps must then be the same as when it started, and it keeps
// what they had finished. Starting a run this Store already runs is refused
// with ErrState. The run is returned with its documents, so the caller
// continues from Run.Current and Run.Unfinished.
func (s *Store) StartRun(ctx context.Context, runID string, steps []string) (Run, error) {
	var run Run
	err := s.update(ctx, func(t *txn) error {
		seen := map[string]bool{}
		for _, name := range steps {
			if err := checkName("step name", name); err != nil {
				return err
			}
			if seen[name] {
				return fmt.Errorf("step %q is listed twice: %w", name, ErrInvalid)
			}
			seen[name] = true
		}
		r, err := t.getRun(runID)
		if err != nil {
			return err
		}
		switch r.Status {
		case RunQueued:
			g, ok, err := t.getGranule(r.GranuleID)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("granule %s: %w", r.GranuleID, ErrNotFound)
			}
			for _, o := range g.Runs {
				if o.Status == RunRunning && o.ID != r.ID {
					return fmt.Errorf("granule %s is in run %s: %w", r.GranuleID, o.ID, ErrGranuleBusy)
				}
			}
			r.Steps = make([]Step, len(steps))
			for i, name := range steps {
				r.Steps[i] = Step{Name: name, Status: StepPending}
			}
			r.Status, r.Started = RunRunning, t.now
			if err := t.putRun(r, RunQueued); err != nil {
				return err
			}
			if err := t.updateGranuleRun(r); err != nil {
				return err
			}
		case RunRunning:
			if s.isLive(r.ID) {
				return fmt.Errorf("the run is already running in this process: %w", ErrState)
			}
			have := make([]string, len(r.Steps))
			for i, st := range r.Steps {
				have[i] = st.Name
			}
			if !slices.Equal(have, steps) {
				return fmt.Errorf("the run started with steps [%s], not [%s]: the pipeline changed since; cancel the run and enqueue the granule again: %w",
					strings.Join(have, " "), strings.Join(steps, " "), ErrState)
			}
		default:
			return fmt.Errorf("the run is %s: %w", r.Status, ErrState)
		}
		if err := t.loadRunDocs(r); err != nil {
			return err
		}
		run = *r
		// Marked live inside the transaction, which is serialized with
		// every other write, so two StartRun calls cannot both adopt the
		// run; unmarked if the transaction is rolled back.
		s.setLive(runID, true)
		t.onRollback(func() { s.setLive(runID, false) })
		return nil
	})
	if err != nil {
		return Run{}, fmt.Errorf("start run %s: %w", runID, err)
	}
	return run, nil
}

// withStep loads a run (which must be running when needRunning) and one of
// its steps for fn to change, and writes the run back when fn reports a
// change.
func (t *txn) withStep(runID, step string, needRunning bool, fn func(r *Run, st *Step) (bool, error)) error {
	r, err := t.getRun(runID)
	if err != nil {
		return err
	}
	if needRunning && r.Status != RunRunning {
		return fmt.Errorf("the run is %s: %w", r.Status, ErrState)
	}
	st := r.Step(step)
	if st == nil {
		return fmt.Errorf("the run has no step %q: %w", step, ErrNotFound)
	}
	changed, err := fn(r, st)
	if err != nil || !changed {
		return err
	}
	return t.putRun(r, r.Status)
}

// StartAttempt starts attempt number of a step (0 means the next one) and
// returns it. Attempts are numbered 1, 2... in order; starting the attempt
// that is already open changes nothing and returns it, so a repeated call is
// harmless. A finished step, or another attempt still open, is refused with
// ErrState.
func (s *Store) StartAttempt(ctx context.Context, runID, step string, number int, logPath string) (Attempt, error) {
	var at Attempt
	err := s.update(ctx, func(t *txn) error {
		return t.withStep(runID, step, true, func(r *Run, st *Step) (bool, error) {
			if st.Status.Final() {
				return false, fmt.Errorf("the step is %s: %w", st.Status, ErrState)
			}
			n := len(st.Attempts)
			if n > 0 && st.Attempts[n-1].Status == AttemptRunning {
				if open := st.Attempts[n-1]; number == open.Number {
					at = open
					return false, nil
				}
				return false, fmt.Errorf("attempt %d is still running: %w", n, ErrState)
			}
			if number == 0 {
				number = n + 1
			}
			if number != n+1 {
				return false, fmt.Errorf("the step has %d attempts, the next is %d, not %d: %w", n, n+1, number, ErrState)
			}
			at = Attempt{Number: number, Status: AttemptRunning, Started: t.now, Log: logPath}
			st.Attempts = append(st.Attempts, at)
			st.Status = StepRunning
			if st.Started.IsZero() {
				st.Started = t.now
			}
			return true, nil
		})
	})
	if err != nil {
		return Attempt{}, fmt.Errorf("start attempt %d of step %q of run %s: %w", number, step, runID, err)
	}
	return at, nil
}

// AttemptResult is how an attempt ended. It succeeded when Error is empty
// and ExitCode is 0.
type AttemptResult struct {
	ExitCode int
	Error    string
}

// FinishAttempt records how attempt number of a step ended. The step stays
// running: the caller retries it or finishes it with FinishStep. It reports
// whether it recorded anything: an attempt already over (finished, or marked
// interrupted) is left as it is.
func (s *Store) FinishAttempt(ctx context.Context, runID, step string, number int, res AttemptResult) (bool, error) {
	var recorded bool
	err := s.update(ctx, func(t *txn) error {
		recorded = false
		return t.withStep(runID, step, false, func(r *Run, st *Step) (bool, error) {
			if number < 1 || number > len(st.Attempts) {
				return false, fmt.Errorf("the step has %d attempts: %w", len(st.Attempts), ErrNotFound)
			}
			a := &st.Attempts[number-1]
			if a.Status != AttemptRunning {
				return false, nil
			}
			closeAttempt(a, res, t.now)
			recorded = true
			return true, nil
		})
	})
	if err != nil {
		return false, fmt.Errorf("finish attempt %d of step %q of run %s: %w", number, step, runID, err)
	}
	return recorded, nil
}

func closeAttempt(a *Attempt, res AttemptResult, now time.Time) {
	a.Status, a.Ended, a.ExitCode, a.Error = AttemptSucceeded, now, res.ExitCode, res.Error
	if res.Error != "" || res.ExitCode != 0 {
		a.Status = AttemptFailed
	}
}

// StepResult is how a step ended.
type StepResult struct {
	// Status is StepSucceeded, StepFailed or StepSkipped.
	Status StepStatus
	// Granule is the document the step returned: required when it
	// succeeded, optional when skipped (the input, passed on).
	Granule *contract.Granule
	// Outputs are a standard step's outputs.
	Outputs map[string]any
	// Error says why the step failed.
	Error string
}

// FinishStep records a step's end and, for a succeeded or skipped step, the
// document it returned, which becomes the granule's current document when
// the run is the granule's latest. An attempt still open is closed with the
// step's outcome.
//
// A step ends once: on a step already finished, FinishStep records nothing
// and reports false. That is what makes "archived once" hold: after a crash
// the scheduler re-runs only steps whose end was not recorded, and a caller
// that learns its result was not the recorded one knows its side effect is
// a repeat.
func (s *Store) FinishStep(ctx context.Context, runID, step string, res StepResult) (bool, error) {
	var recorded bool
	err := s.update(ctx, func(t *txn) error {
		recorded = false
		switch res.Status {
		case StepSucceeded:
			if res.Granule == nil || res.Granule.ID == "" {
				return fmt.Errorf("a succeeded step must return a granule document: %w", ErrInvalid)
			}
		case StepFailed, StepSkipped:
		default:
			return fmt.Errorf("step status %q is none of succeeded, failed, skipped: %w", res.Status, ErrInvalid)
		}
		r, err := t.getRun(runID)
		if err != nil {
			return err
		}
		st := r.Step(step)
		if st == nil {
			return fmt.Errorf("the run has no step %q: %w", step, ErrNotFound)
		}
		if st.Status.Final() {
			return nil
		}
		if r.Status != RunRunning {
			return fmt.Errorf("the run is %s: %w", r.Status, ErrState)
		}
		if res.Granule != nil && res.Granule.ID != r.GranuleID && res.Status != StepFailed {
			return fmt.Errorf("the step returned granule %q, the run is of granule %q: %w", res.Granule.ID, r.GranuleID, ErrInvalid)
		}
		if n := len(st.Attempts); n > 0 && st.Attempts[n-1].Status == AttemptRunning {
			a := &st.Attempts[n-1]
			switch res.Status {
			case StepSucceeded:
				closeAttempt(a, AttemptResult{}, t.now)
			case StepFailed:
				closeAttempt(a, AttemptResult{ExitCode: -1, Error: cmp.Or(res.Error, "step failed")}, t.now)
			default:
				a.Status, a.Ended = AttemptInterrupted, t.now
			}
		}
		order := 0
		for _, o := range r.Steps {
			order = max(order, o.Order)
		}
		st.Status, st.Ended, st.Error, st.Order, st.Outputs = res.Status, t.now, res.Error, order+1, res.Outputs
		if st.Started.IsZero() {
			st.Started = t.now
		}
		if err := t.putRun(r, r.Status); err != nil {
			return err
		}
		if res.Granule != nil && res.Status != StepFailed {
			if err := t.putJSON(bRunDocs, key(r.ID, step), res.Granule); err != nil {
				return err
			}
			g, ok, err := t.getGranule(r.GranuleID)
			if err != nil {
				return err
			}
			if ok && len(g.Runs) > 0 && g.Runs[len(g.Runs)-1].ID == r.ID {
				if err := t.setGranuleDoc(g, res.Granule); err != nil {
					return err
				}
				if err := t.putGranule(g, g.Status); err != nil {
					return err
				}
			}
		}
		recorded = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("finish step %q of run %s: %w", step, runID, err)
	}
	return recorded, nil
}

// FinishRun ends a run: succeeded (every step succeeded or was skipped, or
// ErrState), failed or cancelled (from queued or running; attempts still
// open are marked interrupted, steps not finished stay pending). It reports
// whether it recorded anything: a run already over is left as it is.
func (s *Store) FinishRun(ctx context.Context, runID string, status RunStatus, errText string) (bool, error) {
	var recorded bool
	err := s.update(ctx, func(t *txn) error {
		recorded = false
		if !status.Final() {
			return fmt.Errorf("run status %q is none of succeeded, failed, cancelled: %w", status, ErrInvalid)
		}
		r, err := t.getRun(runID)
		if err != nil {
			return err
		}
		if r.Status.Final() {
			return nil
		}
		old := r.Status
		if status == RunSucceeded {
			if r.Status != RunRunning {
				return fmt.Errorf("the run is %s: %w", r.Status, ErrState)
			}
			var open []string
			for _, st := range r.Steps {
				if !st.Status.Done() {
					open = append(open, st.Name+" ("+string(st.Status)+")")
				}
			}
			if len(open) > 0 {
				return fmt.Errorf("steps not done: %s: %w", strings.Join(open, ", "), ErrState)
			}
		}
		for i := range r.Steps {
			st := &r.Steps[i]
			if n := len(st.Attempts); n > 0 && st.Attempts[n-1].Status == AttemptRunning {
				a := &st.Attempts[n-1]
				a.Status, a.Ended, a.Error = AttemptInterrupted, t.now, "interrupted: the run was "+string(status)
			}
			if st.Status == StepRunning {
				st.Status = StepPending
			}
		}
		r.Status, r.Ended, r.Error = status, t.now, errText
		if err := t.putRun(r, old); err != nil {
			return err
		}
		if err := t.updateGranuleRun(r); err != nil {
			return err
		}
		recorded = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("finish run %s as %s: %w", runID, status, err)
	}
	s.setLive(runID, false)
	return recorded, nil
}

// Resume returns the runs that were running when the process that ran them
// died, oldest first, with their documents, after marking each attempt they
// had open as interrupted and each step that was running as pending: a step
// counts as finished only once FinishStep recorded it. The scheduler then
// adopts each with StartRun and continues it from Run.Unfinished, starting
// from Run.Current. A run with a failed step is returned too, for the
// scheduler to finish as failed (its process died before it could).
//
// Runs started by this Store are running here, not interrupted: Resume
// leaves them alone, so calling it at any time is safe. Queued runs are not
// interrupted either: list them with Runs(RunQuery{Status: RunQueued}).
func (s *Store) Resume(ctx context.Context) ([]Run, error) {
	var out []Run
	err := s.update(ctx, func(t *txn) error {
		out = nil
		prefix := key(string(RunRunning), "")
		c := t.b(bRunsByStatus).Cursor()
		var ids []string
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			ids = append(ids, string(k[len(prefix):]))
		}
		for _, id := range ids {
			if s.isLive(id) {
				continue
			}
			r, err := t.getRun(id)
			if err != nil {
				return err
			}
			changed := false
			for i := range r.Steps {
				st := &r.Steps[i]
				if n := len(st.Attempts); n > 0 && st.Attempts[n-1].Status == AttemptRunning {
					a := &st.Attempts[n-1]
					a.Status, a.Ended = AttemptInterrupted, t.now
					a.Error = "interrupted: the simulator stopped during the attempt"
					changed = true
				}
				if st.Status == StepRunning {
					st.Status = StepPending
					changed = true
				}
			}
			if changed {
				if err := t.putRun(r, r.Status); err != nil {
					return err
				}
			}
			if err := t.loadRunDocs(r); err != nil {
				return err
			}
			out = append(out, *r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("resume interrupted runs: %w", err)
	}
	return out, nil
}

// Run returns a run with its documents.
func (s *Store) Run(ctx context.Context, id string) (Run, error) {
	var run Run
	err := s.view(ctx, func(t *txn) error {
		r, err := t.getRun(id)
		if err != nil {
			return err
		}
		if err := t.loadRunDocs(r); err != nil {
			return err
		}
		run = *r
		return nil
	})
	if err != nil {
		return Run{}, fmt.Errorf("run %s: %w", id, err)
	}
	return run, nil
}

// RunQuery selects runs; empty fields select everything.
type RunQuery struct {
	Pipeline string
	Status   RunStatus
	// Since (inclusive) and Until (exclusive) bound when runs were created
	// (the time in the run id, which never goes back, even when the clock
	// did, so it can be a little later than Created).
	Since, Until time.Time
	// OldestFirst lists in creation order; the default is newest first.
	OldestFirst bool
	// Limit is the page size: 0 means DefaultPageSize, at most MaxPageSize.
	Limit int
	// Cursor is a previous page's Next: the page after it.
	Cursor string
}

// RunPage is one page of runs, without documents.
type RunPage struct {
	Runs []Run
	// Next is the cursor of the following page, "" on the last page.
	Next string
}

// Runs lists runs by creation time, one page at a time. Each filter
// combination reads its own index, where run ids (time-ordered) follow the
// filter's prefix: a time range is a key range and the cursor is the last
// run id returned, so pages are stable, and runs created meanwhile never
// shift them (newest-first listings simply do not see them; a run whose
// status changes meanwhile may move out of a status-filtered listing).
func (s *Store) Runs(ctx context.Context, q RunQuery) (RunPage, error) {
	var page RunPage
	err := s.view(ctx, func(t *txn) error {
		var bucket, prefix []byte
		switch {
		case q.Pipeline != "" && q.Status != "":
			bucket, prefix = bRunsByPipelineStatus, key(q.Pipeline, string(q.Status), "")
		case q.Pipeline != "":
			bucket, prefix = bRunsByPipeline, key(q.Pipeline, "")
		case q.Status != "":
			bucket, prefix = bRunsByStatus, key(string(q.Status), "")
		default:
			bucket, prefix = bRuns, nil
		}
		at := func(id string) []byte { return append(append([]byte{}, prefix...), id...) }
		lo, hi := at(""), at("\xff")
		if !q.Since.IsZero() {
			lo = at(timePrefix(q.Since))
		}
		if !q.Until.IsZero() {
			hi = at(timePrefix(q.Until))
		}
		if q.Cursor != "" {
			if !validRunID(q.Cursor) {
				return fmt.Errorf("cursor %q is not one a run listing returned: %w", q.Cursor, ErrInvalid)
			}
			// The cursor's run was returned: start just past it.
			if c := at(q.Cursor); q.OldestFirst {
				if after := append(c, 0); bytes.Compare(after, lo) > 0 { // the smallest key after c
					lo = after
				}
			} else if bytes.Compare(c, hi) < 0 {
				hi = c
			}
		}
		limit := pageSize(q.Limit)
		c := t.b(bucket).Cursor()
		var k []byte
		var step func() ([]byte, []byte)
		if q.OldestFirst {
			k, _ = c.Seek(lo)
			step = c.Next
		} else {
			if k, _ = c.Seek(hi); k == nil {
				k, _ = c.Last()
			} else {
				k, _ = c.Prev()
			}
			step = c.Prev
		}
		for ; inRange(k, prefix, hi) && bytes.Compare(k, lo) >= 0; k, _ = step() {
			if len(page.Runs) == limit {
				page.Next = page.Runs[limit-1].ID
				break
			}
			r, err := t.getRun(string(k[len(prefix):]))
			if err != nil {
				return err
			}
			page.Runs = append(page.Runs, *r)
		}
		return nil
	})
	if err != nil {
		return RunPage{}, fmt.Errorf("list runs: %w", err)
	}
	return page, nil
}
