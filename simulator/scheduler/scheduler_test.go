package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/lang"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

func buildGraph(t *testing.T, src string) *graph.Graph {
	t.Helper()
	cfg, diags := lang.LoadSources("s", map[string][]byte{"main.cumulus.hcl": []byte("bucket \"staging\" { kind = \"private\" }\n" + src)}, lang.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g, diags := graph.Build(cfg)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return g
}

// fakeClock's After fires at once but records each wait, so retry delays
// are checked without waiting for them.
type fakeClock struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time { return time.Unix(0, 0) }
func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- time.Unix(0, 0)
	return ch
}

type journal struct {
	mu       sync.Mutex
	attempts []string
	finished map[string]StepStatus
	runs     map[string]RunStatus
}

func (j *journal) AttemptStarted(_ context.Context, r Run, step string, n int) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.attempts = append(j.attempts, fmt.Sprintf("%s/%s#%d", r.Granule.ID, step, n))
	return nil
}
func (j *journal) AttemptFinished(context.Context, Run, string, int, error) error { return nil }
func (j *journal) StepFinished(_ context.Context, r Run, step string, st StepStatus, _ *contract.Result, _ error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.finished == nil {
		j.finished = map[string]StepStatus{}
	}
	j.finished[r.Granule.ID+"/"+step] = st
	return nil
}
func (j *journal) RunFinished(_ context.Context, r Run, st RunStatus, _ error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.runs == nil {
		j.runs = map[string]RunStatus{}
	}
	j.runs[r.ID] = st
	return nil
}

// runner runs steps by a function of the test's, recording what it saw.
type runner struct {
	mu   sync.Mutex
	fn   func(ctx context.Context, s *graph.Step, in contract.Input) (contract.Result, error)
	seen []contract.Input
}

func (r *runner) RunStep(ctx context.Context, p *graph.Pipeline, s *graph.Step, in contract.Input) (contract.Result, error) {
	r.mu.Lock()
	r.seen = append(r.seen, in)
	r.mu.Unlock()
	return r.fn(ctx, s, in)
}

// addFile returns the granule with one more file named after the step.
func addFile(s *graph.Step, in contract.Input) contract.Result {
	g := in.Granule
	g.Files = append(append([]contract.File(nil), g.Files...), contract.File{Name: s.Name + ".out"})
	return contract.Result{Granule: g}
}

func newScheduler(g *graph.Graph, r StepRunner) (*Scheduler, *journal, *fakeClock) {
	j, c := &journal{}, &fakeClock{}
	return &Scheduler{Graph: g, Runner: r, Journal: j, Clock: c}, j, c
}

const fanPipeline = `
pipeline "p" {
  step "sync" {
    uses = stdlib.sync_granule
  }
  step "a" {
    uses  = stdlib.checksum
    after = [step.sync]
  }
  step "b" {
    uses  = stdlib.checksum
    after = [step.sync]
  }
  step "archive" {
    uses  = stdlib.move_granule
    after = [step.a, step.b]
  }
}
`

func TestFanOutFanIn(t *testing.T) {
	g := buildGraph(t, fanPipeline)
	var inA, inB atomic.Int32
	release := make(chan struct{})
	r := &runner{fn: func(ctx context.Context, s *graph.Step, in contract.Input) (contract.Result, error) {
		switch s.Name {
		case "a":
			inA.Store(1)
			<-release // a waits until b has started: they run side by side
		case "b":
			inB.Store(1)
			for inA.Load() == 0 {
				time.Sleep(time.Millisecond)
			}
			close(release)
		}
		return addFile(s, in), nil
	}}
	sch, j, _ := newScheduler(g, r)
	out := sch.RunGranule(context.Background(), Run{ID: "r1", Pipeline: g.Pipeline("p"), Granule: contract.Granule{ID: "G1"}})
	if out.Status != RunSucceeded || out.Err != nil {
		t.Fatalf("outcome %+v", out)
	}
	// archive got the merged granule: sync's file, then a's and b's.
	var archiveIn contract.Input
	for _, in := range r.seen {
		if in.Step == "archive" {
			archiveIn = in
		}
	}
	names := map[string]bool{}
	for _, f := range archiveIn.Granule.Files {
		names[f.Name] = true
	}
	if !names["sync.out"] || !names["a.out"] || !names["b.out"] || len(archiveIn.Granule.Files) != 3 {
		t.Errorf("archive's input granule = %+v", archiveIn.Granule.Files)
	}
	if len(out.Granule.Files) != 4 {
		t.Errorf("the run's granule should be archive's output: %+v", out.Granule.Files)
	}
	if j.runs["r1"] != RunSucceeded || len(j.finished) != 4 {
		t.Errorf("journal: runs %v finished %v", j.runs, j.finished)
	}
}

func TestRetriesWithBackoff(t *testing.T) {
	g := buildGraph(t, `
pipeline "p" {
  step "flaky" {
    uses        = stdlib.checksum
    retries     = 3
    retry_delay = "10s"
    backoff     = 2
  }
}
`)
	var calls atomic.Int32
	r := &runner{fn: func(ctx context.Context, s *graph.Step, in contract.Input) (contract.Result, error) {
		if calls.Add(1) <= 2 {
			return contract.Result{}, errors.New("transient")
		}
		return addFile(s, in), nil
	}}
	sch, j, c := newScheduler(g, r)
	out := sch.RunGranule(context.Background(), Run{ID: "r", Pipeline: g.Pipeline("p"), Granule: contract.Granule{ID: "G"}})
	if out.Status != RunSucceeded || calls.Load() != 3 {
		t.Fatalf("outcome %+v after %d calls", out, calls.Load())
	}
	if want := []time.Duration{10 * time.Second, 20 * time.Second}; fmt.Sprint(c.waits) != fmt.Sprint(want) {
		t.Errorf("waits = %v, want %v", c.waits, want)
	}
	if len(j.attempts) != 3 || r.seen[2].Attempt != 3 {
		t.Errorf("attempts = %v", j.attempts)
	}
}

type fatalErr struct{}

func (fatalErr) Error() string { return "checksum mismatch" }
func (fatalErr) Fatal() bool   { return true }

func TestFailureStopsTheRun(t *testing.T) {
	g := buildGraph(t, `
pipeline "p" {
  step "bad" {
    uses    = stdlib.checksum
    retries = 5
  }
  step "after" {
    uses  = stdlib.move_granule
    after = [step.bad]
  }
  on_failure {
    notify = true
    topic  = "arn:aws:sns:us-west-2:123456789012:alerts"
  }
}
`)
	r := &runner{fn: func(ctx context.Context, s *graph.Step, in contract.Input) (contract.Result, error) {
		return contract.Result{}, fatalErr{}
	}}
	sch, _, _ := newScheduler(g, r)
	var events []Event
	var mu sync.Mutex
	sch.Events = func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	out := sch.RunGranule(context.Background(), Run{ID: "r", Pipeline: g.Pipeline("p"), Granule: contract.Granule{ID: "G"}})
	if out.Status != RunFailed || out.Failed != "bad" || len(r.seen) != 1 {
		t.Fatalf("a fatal error is not retried and nothing after runs: %+v, %d calls", out, len(r.seen))
	}
	if _, ran := out.Steps["after"]; ran {
		t.Error("the step after a failed one must not start")
	}
	last := events[len(events)-1]
	if last.Kind != "notify" || last.Status != "arn:aws:sns:us-west-2:123456789012:alerts" {
		t.Errorf("the failure should be notified: %+v", last)
	}
}

func TestTimeoutThenRetry(t *testing.T) {
	g := buildGraph(t, `
task "slow" {
  runs_on = "ecs"
  image   = "x/y:1"
  timeout = "1s"
}
pipeline "p" {
  step "slow" {
    task    = task.slow
    retries = 1
  }
}
`)
	var calls atomic.Int32
	r := &runner{fn: func(ctx context.Context, s *graph.Step, in contract.Input) (contract.Result, error) {
		if calls.Add(1) == 1 {
			<-ctx.Done() // hangs until the attempt's timeout
			return contract.Result{}, ctx.Err()
		}
		return addFile(s, in), nil
	}}
	sch, _, _ := newScheduler(g, r)
	start := time.Now()
	out := sch.RunGranule(context.Background(), Run{ID: "r", Pipeline: g.Pipeline("p"), Granule: contract.Granule{ID: "G"}})
	if out.Status != RunSucceeded || calls.Load() != 2 {
		t.Fatalf("outcome %+v after %d calls", out, calls.Load())
	}
	if el := time.Since(start); el < time.Second || el > 5*time.Second {
		t.Errorf("the hung attempt should end at its 1s timeout; took %v", el)
	}
}

func TestWhenSkipsAndPassesTheGranule(t *testing.T) {
	g := buildGraph(t, `
pipeline "p" {
  step "maybe" {
    uses = stdlib.checksum
    when = granule.collection == "other"
  }
  step "next" {
    uses  = stdlib.move_granule
    after = [step.maybe]
  }
}
`)
	r := &runner{fn: func(ctx context.Context, s *graph.Step, in contract.Input) (contract.Result, error) {
		return addFile(s, in), nil
	}}
	sch, _, _ := newScheduler(g, r)
	out := sch.RunGranule(context.Background(), Run{ID: "r", Pipeline: g.Pipeline("p"), Granule: contract.Granule{ID: "G", Collection: "c"}})
	if out.Status != RunSucceeded || out.Steps["maybe"] != StepSkipped || len(r.seen) != 1 || r.seen[0].Step != "next" {
		t.Fatalf("outcome %+v, ran %v", out, r.seen)
	}
}

func TestResumeSkipsFinishedSteps(t *testing.T) {
	g := buildGraph(t, fanPipeline)
	r := &runner{fn: func(ctx context.Context, s *graph.Step, in contract.Input) (contract.Result, error) {
		return addFile(s, in), nil
	}}
	sch, _, _ := newScheduler(g, r)
	done := map[string]Finished{
		"sync": {Status: StepSucceeded, Granule: contract.Granule{ID: "G", Files: []contract.File{{Name: "sync.out"}}}},
		"a":    {Status: StepSucceeded, Granule: contract.Granule{ID: "G", Files: []contract.File{{Name: "sync.out"}, {Name: "a.out"}}}},
	}
	out := sch.RunGranule(context.Background(), Run{ID: "r", Pipeline: g.Pipeline("p"), Granule: contract.Granule{ID: "G"}, Done: done})
	if out.Status != RunSucceeded {
		t.Fatalf("outcome %+v", out)
	}
	var ran []string
	for _, in := range r.seen {
		ran = append(ran, in.Step)
	}
	if fmt.Sprint(ran) != "[b archive]" {
		t.Errorf("resumed run ran %v, want only b then archive", ran)
	}
}

func TestConcurrencyCap(t *testing.T) {
	g := buildGraph(t, `
pipeline "p" {
  concurrency = 2
  step "work" {
    uses = stdlib.checksum
  }
}
`)
	var now, peak atomic.Int32
	r := &runner{fn: func(ctx context.Context, s *graph.Step, in contract.Input) (contract.Result, error) {
		n := now.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		now.Add(-1)
		return addFile(s, in), nil
	}}
	sch, _, _ := newScheduler(g, r)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sch.RunGranule(context.Background(), Run{ID: fmt.Sprint(i), Pipeline: g.Pipeline("p"), Granule: contract.Granule{ID: fmt.Sprint("G", i)}})
		}()
	}
	wg.Wait()
	if peak.Load() != 2 {
		t.Errorf("peak concurrency %d, want the cap of 2", peak.Load())
	}
}

func TestCancellationStopsRunningSteps(t *testing.T) {
	g := buildGraph(t, fanPipeline)
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{fn: func(c context.Context, s *graph.Step, in contract.Input) (contract.Result, error) {
		if s.Name == "sync" {
			return addFile(s, in), nil
		}
		cancel() // Ctrl-C while a and b run
		<-c.Done()
		return contract.Result{}, c.Err()
	}}
	sch, j, _ := newScheduler(g, r)
	out := sch.RunGranule(ctx, Run{ID: "r", Pipeline: g.Pipeline("p"), Granule: contract.Granule{ID: "G"}})
	if out.Status != RunCancelled || out.Steps["sync"] != StepSucceeded || out.Steps["a"] != StepCancelled {
		t.Fatalf("outcome %+v", out)
	}
	if _, started := out.Steps["archive"]; started {
		t.Error("nothing new may start after cancellation")
	}
	if j.runs["r"] != RunCancelled {
		t.Errorf("journal says %v", j.runs["r"])
	}
}
