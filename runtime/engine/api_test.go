package engine_test

import (
	"testing"

	"github.com/cumulus-toolchain/cumulus/runtime/engine"
	"github.com/cumulus-toolchain/cumulus/runtime/engine/enginetest"
)

// TestAPIContract runs the API contract suite against the simulator's
// bbolt store, the reference every other store is held to.
func TestAPIContract(t *testing.T) {
	fx := enginetest.Simulate(t)
	enginetest.Run(t, fx, func(t testing.TB) engine.Store { return fx.StateStore(t) })
}
