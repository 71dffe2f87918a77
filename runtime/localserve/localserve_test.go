package localserve

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/runtime/engine"
	"github.com/cumulus-toolchain/cumulus/simulator/state"
)

func testConfig(t *testing.T) Config {
	t.Helper()
	st, err := state.Open(context.Background(), t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return Config{Graph: &graph.Graph{Prefix: "t"}, Store: engine.StateStore(st), Dir: t.TempDir()}
}

// A taken port gives way to a free one on the same host, and the URL says
// which; the dashboard answers there.
func TestStartPortTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := testConfig(t)
	cfg.DashboardAddr = taken.Addr().String()
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if s.DashboardURL == "http://"+taken.Addr().String() || !strings.HasPrefix(s.DashboardURL, "http://127.0.0.1:") {
		t.Errorf("DashboardURL = %s, want another port of 127.0.0.1", s.DashboardURL)
	}
	resp, err := http.Get(s.DashboardURL + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("health: %s", resp.Status)
	}
	if len(s.Distributions) != 0 {
		t.Errorf("distributions served without a distribution block: %+v", s.Distributions)
	}
}

// The local servers are for this machine: an address other than loopback
// is refused, and nothing is left listening.
func TestStartRefusesNonLoopback(t *testing.T) {
	cfg := testConfig(t)
	cfg.DashboardAddr = "0.0.0.0:0"
	if _, err := Start(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Errorf("err = %v", err)
	}
	cfg.DashboardAddr = "127.0.0.1:0"
	cfg.Graph = nil
	if _, err := Start(context.Background(), cfg); err == nil {
		t.Error("no graph: no error")
	}
}
