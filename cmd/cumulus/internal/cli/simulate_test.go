package cli

import (
	"testing"

	"github.com/cumulus-toolchain/cumulus/simulator"
)

func TestProgressLine(t *testing.T) {
	var p progress
	for _, ev := range []simulator.Event{
		{Kind: "discovered"}, {Kind: "discovered"}, {Kind: "staged"}, {Kind: "staged"},
		{Kind: "run-started", Run: "r1", Pipeline: "ingest"}, {Kind: "run-started", Run: "r2", Pipeline: "ingest"},
		{Kind: "attempt-started", Run: "r1", Pipeline: "ingest", Step: "sync"},
		{Kind: "step-finished", Run: "r1", Pipeline: "ingest", Step: "sync", Status: "succeeded"},
		{Kind: "run-finished", Run: "r1", Pipeline: "ingest", Status: "succeeded"},
		{Kind: "attempt-started", Run: "r2", Pipeline: "ingest", Step: "sync"},
	} {
		p.add(ev)
	}
	if got, want := p.line(), "-- 2 discovered, 2 staged, 1 running, 1 done, 0 failed | ingest: 1 running (sync 1)"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}

	// Fan-out: one run in two steps; a failed attempt waits to retry.
	for _, ev := range []simulator.Event{
		{Kind: "step-finished", Run: "r2", Pipeline: "ingest", Step: "sync", Status: "succeeded"},
		{Kind: "attempt-started", Run: "r2", Pipeline: "ingest", Step: "a"},
		{Kind: "attempt-started", Run: "r2", Pipeline: "ingest", Step: "b"},
		{Kind: "attempt-failed", Run: "r2", Pipeline: "ingest", Step: "b"},
		{Kind: "run-started", Run: "r3", Pipeline: "backfill"},
	} {
		p.add(ev)
	}
	if got, want := p.line(), "-- 2 discovered, 2 staged, 2 running, 1 done, 0 failed | backfill: 1 running | ingest: 1 running (a 1, retrying 1)"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	p.add(simulator.Event{Kind: "attempt-started", Run: "r2", Pipeline: "ingest", Step: "b"})
	if got, want := p.line(), "-- 2 discovered, 2 staged, 2 running, 1 done, 0 failed | backfill: 1 running | ingest: 1 running (a 1, b 1)"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	p.add(simulator.Event{Kind: "run-finished", Run: "r2", Pipeline: "ingest", Status: "failed"})
	p.add(simulator.Event{Kind: "run-finished", Run: "r3", Pipeline: "backfill", Status: "succeeded"})
	if got, want := p.line(), "-- 2 discovered, 2 staged, 0 running, 2 done, 1 failed"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
}

func TestFit(t *testing.T) {
	if got := fit("abcdef", 10); got != "abcdef" {
		t.Errorf("fit short = %q", got)
	}
	if got := fit("abcdefghijkl", 6); got != "abcd…" {
		t.Errorf("fit long = %q", got)
	}
}
