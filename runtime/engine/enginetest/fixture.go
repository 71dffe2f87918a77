package enginetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/lang"
	"github.com/cumulus-toolchain/cumulus/runtime/engine"
	"github.com/cumulus-toolchain/cumulus/simulator"
	"github.com/cumulus-toolchain/cumulus/simulator/state"
)

// simConfig is a small ingest: a local folder source, standard steps built
// in and a local_command task that fails (exit 3) for one granule, retried
// once, so the store holds succeeded and failed runs, several attempts,
// exit codes and logs.
const simConfig = `
deployment {
  prefix = "enginetest"
}
bucket "staging" { kind = "private" }
bucket "protected" { kind = "protected" }
provider "disk" {
  protocol = "local"
}
collection "hamsr" {
  version    = "1"
  granule_id = "^(HS3_HAMSR_[0-9]{8}T[0-9]{6})"
  file "data" {
    match  = "\\.nc$"
    bucket = bucket.protected
  }
  url_path   = "hamsr/${granule.year}/${granule.id}"
  duplicates = "skip"
}
source "disk" {
  provider   = provider.disk
  path       = "data"
  collection = collection.hamsr
  pipeline   = pipeline.ingest
}
task "preprocess" {
  runs_on       = "ecs"
  image         = "daac/pre:1"
  local_command = ["sh", "-c", "echo preprocessing $GRANULE; case $GRANULE in *T999999) echo 'calibration table missing' >&2; exit 3;; esac"]
}
pipeline "ingest" {
  step "sync" {
    uses = stdlib.sync_granule
  }
  step "preprocess" {
    task        = task.preprocess
    after       = [step.sync]
    env         = { GRANULE = granule.id }
    retries     = 1
    retry_delay = "1s"
  }
  step "metadata" {
    uses  = stdlib.cmr_metadata
    after = [step.preprocess]
  }
  step "archive" {
    uses  = stdlib.move_granule
    after = [step.metadata]
  }
}
`

// The granules of the simulation: CompletedIDs succeed, FailedID fails.
var (
	CompletedIDs = []string{"HS3_HAMSR_20130825T000000", "HS3_HAMSR_20130826T120000", "HS3_HAMSR_20130827T060000"}
	FailedID     = "HS3_HAMSR_20130828T999999"
)

// Fixtures are the contract suite's data: a simulation folder filled by a
// real run (its bbolt store, its step logs) and everything the API reads
// of it, exported, so that another store can be loaded with exactly the
// same state and must then answer exactly the same.
type Fixtures struct {
	// Dir is the simulation folder; its logs are under Dir/logs.
	Dir   string
	Graph *graph.Graph
	// Runs (in id order) with their inputs, Granules (in id order) with
	// their documents, and the counters, as the simulator's store gives
	// them.
	Runs     []engine.Run
	Granules []engine.Granule
	Counts   engine.Counts
}

var (
	simOnce sync.Once
	simRes  *Fixtures
	simErr  error
	simRoot string
)

// Simulate runs the simulation once per test binary (a run takes a few
// seconds); tests open its store read-only, so they can share it. Call
// Cleanup from TestMain to remove it.
func Simulate(t testing.TB) *Fixtures {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the simulation's local_command uses sh")
	}
	simOnce.Do(func() {
		simRoot, simErr = os.MkdirTemp("", "engine-sim-")
		if simErr != nil {
			return
		}
		simRes, simErr = runSimulation(simRoot)
	})
	if simErr != nil {
		t.Fatalf("simulating the fixture: %v", simErr)
	}
	return simRes
}

// Cleanup removes the simulation folder, if Simulate made one.
func Cleanup() {
	if simRoot != "" {
		_ = os.RemoveAll(simRoot)
	}
}

func runSimulation(root string) (*Fixtures, error) {
	if err := os.WriteFile(filepath.Join(root, "main.cumulus.hcl"), []byte(simConfig), 0o644); err != nil {
		return nil, err
	}
	data := filepath.Join(root, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	for _, id := range append(slices.Clone(CompletedIDs), FailedID) {
		if err := os.WriteFile(filepath.Join(data, id+".nc"), []byte("netcdf bytes of "+id+"\n"), 0o644); err != nil {
			return nil, err
		}
	}
	cfg, diags := lang.Load(root, lang.Options{})
	if diags.HasErrors() {
		return nil, fmt.Errorf("loading the configuration: %s", diags.Error())
	}
	g, diags := graph.Build(cfg)
	if diags.HasErrors() {
		return nil, fmt.Errorf("building the graph: %s", diags.Error())
	}
	dir := filepath.Join(root, ".cumulus")
	ctx := context.Background()
	sum, err := simulator.Run(ctx, simulator.Options{Config: cfg, Graph: g, Dir: dir, Once: true, NoDocker: true})
	if err != nil {
		return nil, err
	}
	if sum.Succeeded != len(CompletedIDs) || sum.Failed != 1 {
		return nil, fmt.Errorf("the simulation ended with %d succeeded and %d failed runs, want %d and 1: %+v", sum.Succeeded, sum.Failed, len(CompletedIDs), sum.Failures)
	}
	fx := &Fixtures{Dir: dir, Graph: g}
	st, err := state.OpenReadOnly(ctx, dir, state.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if err := fx.export(ctx, engine.StateStore(st)); err != nil {
		return nil, fmt.Errorf("exporting the simulation's state: %w", err)
	}
	return fx, nil
}

// export reads everything the API can read of s.
func (fx *Fixtures) export(ctx context.Context, s engine.Store) error {
	runs, err := s.Runs(ctx, engine.RunQuery{OldestFirst: true, Limit: engine.MaxLimit})
	if err != nil {
		return err
	}
	for _, r := range runs.Runs {
		full, err := s.Run(ctx, r.ID)
		if err != nil {
			return err
		}
		fx.Runs = append(fx.Runs, full)
	}
	gs, err := s.Granules(ctx, engine.GranuleQuery{Limit: engine.MaxLimit})
	if err != nil {
		return err
	}
	for _, g := range gs.Granules {
		full, err := s.Granule(ctx, g.ID)
		if err != nil {
			return err
		}
		fx.Granules = append(fx.Granules, full)
	}
	fx.Counts, err = s.Counts(ctx)
	return err
}

// StateStore opens the simulation's own store read-only for one test: the
// reference implementation.
func (fx *Fixtures) StateStore(t testing.TB) engine.Store {
	t.Helper()
	st, err := state.OpenReadOnly(context.Background(), fx.Dir, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return engine.StateStore(st)
}
