package engine_test

import (
	"net/http/httptest"
	"os"
	"testing"

	"github.com/cumulus-toolchain/cumulus/runtime/engine"
	"github.com/cumulus-toolchain/cumulus/runtime/engine/enginetest"
)

// The fixtures live in enginetest, shared with the other stores' tests;
// these names keep the package's other tests (the browser's) short.
var (
	completedIDs = enginetest.CompletedIDs
	failedID     = enginetest.FailedID
)

func TestMain(m *testing.M) {
	code := m.Run()
	enginetest.Cleanup()
	os.Exit(code)
}

func simulated(t testing.TB) *enginetest.Fixtures { return enginetest.Simulate(t) }

// newAPI serves the simulation's store (opened read-only) over HTTP.
func newAPI(t testing.TB, fx *enginetest.Fixtures) *httptest.Server {
	t.Helper()
	return enginetest.Serve(t, engine.Options{Store: fx.StateStore(t), Logs: engine.FileLogs(fx.Dir + "/logs"),
		Graph: fx.Graph, Title: "enginetest"})
}
