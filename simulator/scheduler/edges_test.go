package scheduler

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// The pipelines of the compiler's meaning tests (straight line, fan-out and
// fan-in, a graph that is not series-parallel, conditions): the compiler
// shows that its Step Functions and Data Pipeline translations keep exactly
// their edges; TestExecutedEdges shows that the simulator does too.
var edgePipelines = map[string]string{
	"straight": `
pipeline "p" {
  step "a" { uses = stdlib.sync_granule }
  step "b" {
    uses  = stdlib.checksum
    after = [step.a]
  }
  step "c" {
    uses  = stdlib.move_granule
    after = [step.b]
  }
}`,
	"fanout": fanPipeline,
	// N: c waits for a and b, d for b only. Parallel alone cannot say it.
	"nonsp": `
pipeline "p" {
  step "a" { uses = stdlib.sync_granule }
  step "b" { uses = stdlib.checksum }
  step "c" {
    uses  = stdlib.checksum
    after = [step.a, step.b]
  }
  step "d" {
    uses  = stdlib.move_granule
    after = [step.b]
  }
}`,
	"conditions": `
pipeline "p" {
  step "a" { uses = stdlib.sync_granule }
  step "b" {
    uses  = stdlib.checksum
    after = [step.a]
    when  = granule.collection == "c"
  }
  step "skip" {
    uses  = stdlib.checksum
    after = [step.a]
    when  = granule.collection != "c"
  }
  step "d" {
    uses  = stdlib.move_granule
    after = [step.b, step.skip]
  }
}`,
}

// descendants are the steps that depend on s, directly or not.
func descendants(p *graph.Pipeline, s string) map[string]bool {
	out := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for _, st := range p.Steps {
			if out[st.Name] {
				continue
			}
			for _, a := range st.After {
				if a == s || out[a] {
					out[st.Name] = true
					changed = true
					break
				}
			}
		}
	}
	return out
}

// TestExecutedEdges holds each step in turn and records which steps start
// while it is held: exactly those that do not depend on it (no edge added,
// no waiting the graph does not ask for), and none that do (no edge lost).
// Every step runs once, and a step is skipped exactly when its when is
// false (and counts as done for the steps after it).
func TestExecutedEdges(t *testing.T) {
	for name, src := range edgePipelines {
		t.Run(name, func(t *testing.T) {
			g := buildGraph(t, src)
			p := g.Pipeline("p")
			skipped := map[string]bool{"skip": true}
			for _, held := range p.Steps {
				if skipped[held.Name] {
					continue
				}
				desc := descendants(p, held.Name)
				var want []string
				for _, st := range p.Steps {
					if st.Name != held.Name && !desc[st.Name] && !skipped[st.Name] {
						want = append(want, st.Name)
					}
				}
				var (
					mu      sync.Mutex
					started []string
					during  []string
					holding bool
				)
				release := make(chan struct{})
				r := &runner{fn: func(ctx context.Context, s *graph.Step, in contract.Input) (contract.Result, error) {
					mu.Lock()
					started = append(started, s.Name)
					if holding {
						during = append(during, s.Name)
					}
					if s.Name == held.Name {
						holding = true
					}
					mu.Unlock()
					if s.Name == held.Name {
						<-release
						mu.Lock()
						holding = false
						mu.Unlock()
					}
					return addFile(s, in), nil
				}}
				// Release the held step once every step that does not
				// depend on it has started (or after a while, which
				// means the scheduler made one wait for it).
				go func() {
					deadline := time.Now().Add(2 * time.Second)
					for time.Now().Before(deadline) {
						mu.Lock()
						n := 0
						for _, s := range want {
							if slices.Contains(started, s) {
								n++
							}
						}
						isHeld := holding
						mu.Unlock()
						if isHeld && n == len(want) {
							break
						}
						time.Sleep(time.Millisecond)
					}
					close(release)
				}()
				sch, _, _ := newScheduler(g, r)
				out := sch.RunGranule(context.Background(), Run{ID: "r", Pipeline: p, Granule: contract.Granule{ID: "G", Collection: "c"}})
				if out.Status != RunSucceeded {
					t.Fatalf("holding %s: %+v", held.Name, out)
				}
				mu.Lock()
				// Started while it was held: those started before it
				// (its ancestors and others) and those started during.
				var got []string
				for _, s := range started {
					if s == held.Name {
						break
					}
					got = append(got, s)
				}
				for _, s := range during {
					if !slices.Contains(got, s) {
						got = append(got, s)
					}
				}
				sort.Strings(got)
				sort.Strings(want)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("while %s ran, %v started; the graph allows exactly %v", held.Name, got, want)
				}
				counts := map[string]int{}
				for _, s := range started {
					counts[s]++
				}
				for _, st := range p.Steps {
					if want := map[bool]int{true: 0, false: 1}[skipped[st.Name]]; counts[st.Name] != want {
						t.Errorf("holding %s: step %s ran %d times, want %d", held.Name, st.Name, counts[st.Name], want)
					}
					if skipped[st.Name] && out.Steps[st.Name] != StepSkipped {
						t.Errorf("step %s: %s, want skipped", st.Name, out.Steps[st.Name])
					}
				}
				mu.Unlock()
			}
		})
	}
}
