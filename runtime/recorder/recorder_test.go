package recorder_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cumulus-toolchain/cumulus/runtime/recorder"
	"github.com/cumulus-toolchain/cumulus/runtime/recorder/recordertest"
)

// record delivers events one by one.
func record(t testing.TB, r *recorder.Recorder, events []json.RawMessage) {
	t.Helper()
	for _, ev := range events {
		if err := r.Handle(context.Background(), ev); err != nil {
			t.Fatalf("Handle(%s): %v", ev, err)
		}
	}
}

// TestSequences feeds each granule's recorded events in order, reversed,
// duplicated and shuffled: the final state is what really happened, and
// the same, byte for byte, every time.
func TestSequences(t *testing.T) {
	gs := recordertest.Scenario(8)
	var reference map[string]string
	for _, o := range []recordertest.Order{recordertest.InOrder, recordertest.Reversed, recordertest.Duplicated, recordertest.Shuffled} {
		for seed := range uint64(3) {
			sink := recordertest.NewMemSink()
			r := recorder.New(sink, nil)
			rng := rand.New(rand.NewPCG(seed, 1))
			for _, g := range gs {
				record(t, r, recordertest.Sequence(g, o, rng))
			}
			recordertest.Check(t, sink, gs)
			snap := sink.Snapshot()
			if reference == nil {
				reference = snap
			} else if !maps.Equal(snap, reference) {
				for k, v := range snap {
					if reference[k] != v {
						t.Errorf("%s (seed %d): %s =\n%s\nin order it is\n%s", o, seed, k, v, reference[k])
						break
					}
				}
			}
		}
	}
}

// TestInterleaved delivers 100 granules' events, interleaved, through 16
// concurrent handlers, so that events of one run race: the conditional
// writes must start over, and the result is the same.
func TestInterleaved(t *testing.T) {
	gs := recordertest.Scenario(100)
	in := recordertest.NewMemSink()
	r := recorder.New(in, nil)
	for _, g := range gs {
		record(t, r, g.Events)
	}
	for _, o := range []recordertest.Order{recordertest.InOrder, recordertest.Reversed, recordertest.Duplicated} {
		sink := recordertest.NewMemSink()
		err := recordertest.Interleave(context.Background(), recorder.New(sink, nil).Handle, gs, o, 16, rand.New(rand.NewPCG(7, 7)))
		if err != nil {
			t.Fatal(err)
		}
		recordertest.Check(t, sink, gs)
		if !maps.Equal(sink.Snapshot(), in.Snapshot()) {
			t.Errorf("%s, interleaved: the state differs from the one recorded in order", o)
		}
		t.Logf("%s: %d conflicting writes started over", o, sink.Conflicts)
	}
}

// TestCheckBites proves the scenario check fails on a state that is not
// what happened: a run whose end is lost.
func TestCheckBites(t *testing.T) {
	gs := recordertest.Scenario(4)
	sink := recordertest.NewMemSink()
	r := recorder.New(sink, nil)
	for _, g := range gs {
		record(t, r, g.Events[:len(g.Events)-1])
	}
	ft := &fakeT{TB: t}
	recordertest.Check(ft, sink, gs)
	if !ft.failed {
		t.Error("Check accepted runs that never ended")
	}
}

type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) Fatalf(string, ...any) { f.failed = true; panic(f) }
func (f *fakeT) Helper()               {}

func TestRejects(t *testing.T) {
	r := recorder.New(recordertest.NewMemSink(), nil)
	for _, ev := range []string{
		``, `null`, `[]`, `{}`, `{"kind":"what"}`,
		`{"kind":"granule_queued","run":"r"}`,
		`{"kind":"step","run":"r","step":"s","attempt":0,"time":"2026-01-01T00:00:00Z","phase":"start"}`,
		`{"kind":"step","run":"r","step":"s","attempt":1,"time":"2026-01-01T00:00:00Z","phase":"end"}`,
		`{"kind":"step","run":"r","step":"s","attempt":1,"time":"2026-01-01T00:00:00Z","phase":"middle"}`,
		`{"source":"aws.states","detail-type":"Step Functions Execution Status Change","detail":{"name":"x","status":"RUNNING"}}`,
		`{"source":"aws.states","detail-type":"Step Functions Execution Status Change","detail":{"name":"x","status":"SUCCEEDED","startDate":1}}`,
		`{"source":"aws.states","detail-type":"Step Functions Execution Status Change","detail":{"name":"x","status":"ODD","startDate":1}}`,
		`{"source":"aws.states","detail-type":"Step Functions Execution Status Change","detail":{"name":"x","status":"RUNNING","startDate":1,"input":"{"}}`,
		`{"kind":"step"} {"kind":"step"}`,
	} {
		if err := r.Handle(context.Background(), json.RawMessage(ev)); !errors.Is(err, recorder.ErrInvalid) {
			t.Errorf("Handle(%s) = %v, want ErrInvalid", ev, err)
		}
	}
	// A redrive's pending state is not recorded, and not an error.
	if err := r.Handle(context.Background(), json.RawMessage(`{"source":"aws.states","detail-type":"Step Functions Execution Status Change","detail":{"name":"x","status":"PENDING_REDRIVE","startDate":1}}`)); err != nil {
		t.Errorf("PENDING_REDRIVE: %v", err)
	}
}

// FuzzHandle feeds arbitrary bytes to the decoder: it never panics, an
// event it refuses is ErrInvalid (the sink never fails here), and an
// event it takes, taken again, changes nothing. Seeds, real events of
// every kind, are in testdata/fuzz/FuzzHandle.
func FuzzHandle(f *testing.F) {
	f.Add([]byte(`{"kind":"step","phase":"start","run":"r","step":"s","attempt":1,"time":"2026-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		sink := recordertest.NewMemSink()
		r := recorder.New(sink, nil)
		err := r.Handle(context.Background(), raw)
		if err != nil {
			if !errors.Is(err, recorder.ErrInvalid) {
				t.Fatalf("Handle(%q) = %v, not ErrInvalid", raw, err)
			}
			return
		}
		before := sink.Snapshot()
		if err := r.Handle(context.Background(), raw); err != nil {
			t.Fatalf("Handle(%q) again = %v", raw, err)
		}
		if after := sink.Snapshot(); !maps.Equal(before, after) {
			t.Fatalf("Handle(%q) twice changed the state:\n%v\n%v", raw, before, after)
		}
		for k := range before {
			if !strings.HasPrefix(k, "run\x00") && !strings.HasPrefix(k, "granule\x00") {
				t.Fatalf("unexpected item %q", k)
			}
		}
	})
}
