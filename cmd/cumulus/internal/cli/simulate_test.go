package cli

import (
	"testing"

	"github.com/cumulus-toolchain/cumulus/simulator"
)

func TestProgressLine(t *testing.T) {
	var p progress
	for _, ev := range []simulator.Event{
		{Kind: "discovered"}, {Kind: "discovered"}, {Kind: "staged"}, {Kind: "staged"},
		{Kind: "run-started"}, {Kind: "run-started"},
		{Kind: "run-finished", Status: "succeeded"},
	} {
		p.add(ev)
	}
	if got, want := p.line(), "-- 2 discovered, 2 staged, 1 running, 1 done, 0 failed"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	p.add(simulator.Event{Kind: "run-finished", Status: "failed"})
	if got, want := p.line(), "-- 2 discovered, 2 staged, 0 running, 1 done, 1 failed"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
}
