package simulator

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/lang"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/simulator/scheduler"
	"github.com/cumulus-toolchain/cumulus/simulator/state"
)

type clock struct{}

func (clock) Now() time.Time { return time.Now() }
func (clock) After(d time.Duration) <-chan time.Time {
	return time.After(0)
}

// countingRunner counts the runs of each step and, when stopAt is reached,
// cancels the simulation: the stand-in of Ctrl-C (or a crash) mid-run.
type countingRunner struct {
	mu     sync.Mutex
	runs   map[string]int
	stopAt string
	cancel context.CancelFunc
}

func (r *countingRunner) RunStep(ctx context.Context, p *graph.Pipeline, s *graph.Step, in contract.Input) (contract.Result, error) {
	r.mu.Lock()
	r.runs[s.Name]++
	stop := s.Name == r.stopAt && r.cancel != nil
	r.mu.Unlock()
	if stop {
		r.cancel()
		<-ctx.Done()
		return contract.Result{}, ctx.Err()
	}
	g := in.Granule
	g.Files = append(append([]contract.File(nil), g.Files...), contract.File{Name: s.Name + ".out"})
	return contract.Result{Granule: g}, nil
}

// TestResumeThroughTheStore: a run interrupted mid-way resumes from the
// store in a new process (a new Store and Scheduler) and every step runs
// exactly once to success.
func TestResumeThroughTheStore(t *testing.T) {
	cfg, diags := lang.LoadSources("j", map[string][]byte{"main.cumulus.hcl": []byte(`
bucket "staging" { kind = "private" }
pipeline "p" {
  step "sync" {
    uses = stdlib.sync_granule
  }
  step "check" {
    uses  = stdlib.checksum
    after = [step.sync]
  }
  step "archive" {
    uses  = stdlib.move_granule
    after = [step.check]
  }
}
`)}, lang.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g, diags := graph.Build(cfg)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p := g.Pipeline("p")
	var names []string
	for _, s := range p.Steps {
		names = append(names, s.Name)
	}
	dir := t.TempDir()
	ctx := context.Background()

	store, err := state.Open(ctx, dir, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	enq, err := store.EnqueueGranule(ctx, state.EnqueueRequest{Granule: contract.Granule{ID: "G1", Collection: "c"}, Pipeline: "p"})
	if err != nil || !enq.New {
		t.Fatalf("enqueue: %+v %v", enq, err)
	}
	started, err := store.StartRun(ctx, enq.RunID, names)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	r := &countingRunner{runs: map[string]int{}, stopAt: "check", cancel: cancel}
	sch := &scheduler.Scheduler{Graph: g, Runner: r, Journal: &journal{store: store}, Clock: clock{}}
	out := sch.RunGranule(runCtx, scheduler.Run{ID: started.ID, Pipeline: p, Granule: *started.Input})
	if out.Status != scheduler.RunCancelled {
		t.Fatalf("first process: %+v", out)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	// A new process: open the store, resume what was interrupted.
	store, err = state.Open(ctx, dir, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	interrupted, err := store.Resume(ctx)
	if err != nil || len(interrupted) != 1 {
		t.Fatalf("resume: %d runs, %v", len(interrupted), err)
	}
	adopted, err := store.StartRun(ctx, interrupted[0].ID, names)
	if err != nil {
		t.Fatal(err)
	}
	var run scheduler.Run
	if err := resumable(adopted, &run); err != nil {
		t.Fatal(err)
	}
	run.Pipeline = p
	r.stopAt, r.cancel = "", nil
	sch = &scheduler.Scheduler{Graph: g, Runner: r, Journal: &journal{store: store}, Clock: clock{}}
	out = sch.RunGranule(ctx, run)
	if out.Status != scheduler.RunSucceeded {
		t.Fatalf("resumed run: %+v", out)
	}
	if r.runs["sync"] != 1 || r.runs["archive"] != 1 || r.runs["check"] != 2 {
		t.Errorf("runs per step = %v: sync and archive once, check again after its interrupted attempt", r.runs)
	}
	final, err := store.Run(ctx, run.ID)
	if err != nil || final.Status != state.RunSucceeded {
		t.Fatalf("stored run %+v, %v", final.Status, err)
	}
	if n := len(final.Step("check").Attempts); n != 2 || final.Step("check").Attempts[0].Status != state.AttemptInterrupted {
		t.Errorf("check's attempts: %+v", final.Step("check").Attempts)
	}
	if len(out.Granule.Files) != 3 {
		t.Errorf("final granule %+v", out.Granule.Files)
	}
}
