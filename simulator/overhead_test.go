package simulator

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/lang"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/simulator/executor"
	"github.com/cumulus-toolchain/cumulus/simulator/scheduler"
)

// nullJournal records nothing: the benchmark isolates the scheduler and
// the executor from the store's fsyncs (measured by state's own benchmark).
type nullJournal struct{}

func (nullJournal) AttemptStarted(context.Context, scheduler.Run, string, int) error { return nil }
func (nullJournal) AttemptFinished(context.Context, scheduler.Run, string, int, error) error {
	return nil
}
func (nullJournal) StepFinished(context.Context, scheduler.Run, string, scheduler.StepStatus, *contract.Result, error) error {
	return nil
}
func (nullJournal) RunFinished(context.Context, scheduler.Run, scheduler.RunStatus, error) error {
	return nil
}

// BenchmarkSchedulerOverhead runs a one-step pipeline whose step is the
// no-op process `true`, through the scheduler, the step runner and the
// process executor, interleaved in one loop with exec'ing `true` directly,
// and reports the difference per step.
func BenchmarkSchedulerOverhead(b *testing.B) {
	cfg, diags := lang.LoadSources("o", map[string][]byte{"main.cumulus.hcl": []byte(`
bucket "staging" { kind = "private" }
task "noop" {
  runs_on       = "ecs"
  image         = "x/noop:1"
  local_command = ["true"]
}
pipeline "p" {
  step "noop" {
    task = task.noop
  }
}
`)}, lang.Options{})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	g, diags := graph.Build(cfg)
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	dir := b.TempDir()
	runner := &stepRunner{process: executor.NewProcess(executor.ProcessOptions{}), workDir: dir + "/work", logDir: dir + "/logs"}
	defer runner.startSweeper()() // as the simulation does
	sch := &scheduler.Scheduler{Graph: g, Runner: runner, Journal: nullJournal{}, Clock: clock{}}
	p := g.Pipeline("p")
	var direct, scheduled time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := exec.Command("true").Run(); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		out := sch.RunGranule(context.Background(), scheduler.Run{ID: "r", Pipeline: p, Granule: contract.Granule{ID: "G"}})
		t2 := time.Now()
		if out.Status != scheduler.RunSucceeded {
			b.Fatalf("%+v", out)
		}
		direct += t1.Sub(t0)
		scheduled += t2.Sub(t1)
	}
	n := float64(b.N)
	b.ReportMetric(float64(direct.Microseconds())/n, "exec-µs/op")
	b.ReportMetric(float64(scheduled.Microseconds())/n, "scheduled-µs/op")
	b.ReportMetric(100*(float64(scheduled)/float64(direct)-1), "overhead-%")
}
