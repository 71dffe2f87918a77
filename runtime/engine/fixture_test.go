package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/lang"
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

// The granules of the simulation: completedIDs succeed, failedID fails.
var (
	completedIDs = []string{"HS3_HAMSR_20130825T000000", "HS3_HAMSR_20130826T120000", "HS3_HAMSR_20130827T060000"}
	failedID     = "HS3_HAMSR_20130828T999999"
)

// simulation is a simulation folder filled by a real run, shared by the
// package's tests (a run takes a few seconds); tests open its store
// read-only, so they can share it.
type simulation struct {
	dir   string // the simulation folder
	graph *graph.Graph
}

var (
	simOnce sync.Once
	simRes  *simulation
	simErr  error
	simRoot string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if simRoot != "" {
		_ = os.RemoveAll(simRoot)
	}
	os.Exit(code)
}

// simulated runs the simulation once per test binary.
func simulated(t testing.TB) *simulation {
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

func runSimulation(root string) (*simulation, error) {
	if err := os.WriteFile(filepath.Join(root, "main.cumulus.hcl"), []byte(simConfig), 0o644); err != nil {
		return nil, err
	}
	data := filepath.Join(root, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	for _, id := range append(append([]string{}, completedIDs...), failedID) {
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
	sum, err := simulator.Run(context.Background(), simulator.Options{Config: cfg, Graph: g, Dir: dir, Once: true, NoDocker: true})
	if err != nil {
		return nil, err
	}
	if sum.Succeeded != len(completedIDs) || sum.Failed != 1 {
		return nil, fmt.Errorf("the simulation ended with %d succeeded and %d failed runs, want %d and 1: %+v", sum.Succeeded, sum.Failed, len(completedIDs), sum.Failures)
	}
	return &simulation{dir: dir, graph: g}, nil
}

// openStore opens the simulation's store read-only for one test.
func (s *simulation) openStore(t testing.TB) *state.Store {
	t.Helper()
	st, err := state.OpenReadOnly(context.Background(), s.dir, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}
