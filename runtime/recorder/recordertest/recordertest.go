// Package recordertest holds what tests of the recorder share: recorded
// event sequences of granules going through a pipeline (with the state
// that really resulted, to check the recorder's against) and an in-memory
// Sink with the same conditional-write semantics as the DynamoDB store.
package recordertest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cumulus-toolchain/cumulus/runtime/engine"
	"github.com/cumulus-toolchain/cumulus/runtime/recorder"
	"github.com/cumulus-toolchain/cumulus/runtime/stepwrap"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// Steps are the scenario pipeline's steps.
var Steps = []string{"sync", "preprocess", "archive"}

// Outcome is how a scenario granule's run really went.
type Outcome int

const (
	// Succeeds: every step succeeds at its first attempt.
	Succeeds Outcome = iota
	// Retries: preprocess fails once (exit 75), then succeeds.
	Retries
	// Fails: preprocess fails twice (exit 3); the execution fails.
	Fails
	// Aborted: someone stops the execution during sync.
	Aborted
)

// Granule is one granule's recorded events and what really happened.
type Granule struct {
	ID, Run string
	Outcome Outcome
	Queued  time.Time
	Start   time.Time
	Stop    time.Time
	Events  []json.RawMessage
}

// Scenario returns n granules' event sequences, in the order they
// happened, the outcomes cycling through Succeeds, Retries, Fails,
// Aborted. Times are whole milliseconds (Step Functions' resolution).
func Scenario(n int) []Granule {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	out := make([]Granule, n)
	for i := range n {
		id := fmt.Sprintf("G_%05d", i)
		g := Granule{ID: id, Run: "run-" + id, Outcome: Outcome(i % 4)}
		t := base.Add(time.Duration(i) * time.Second)
		g.Queued = t
		doc := contract.Granule{ID: id, Collection: "coll", Version: "1", Date: "2026-03-01",
			Files: []contract.File{{Name: id + ".nc", Type: "data", Bucket: "staging", Key: "in/" + id + ".nc", Size: 1000 + int64(i)}}}
		add := func(v any) {
			b, err := json.Marshal(v)
			if err != nil {
				panic(err)
			}
			g.Events = append(g.Events, b)
		}
		add(recorder.GranuleQueued{Kind: recorder.KindGranuleQueued, Run: g.Run, Pipeline: "ingest", Granule: doc,
			GranuleVersion: 1, Source: "disk", Steps: Steps, Time: t})
		input, _ := json.Marshal(map[string]any{"granule": doc, "attributes": map[string]string{"id": id}})
		t = t.Add(200 * time.Millisecond)
		g.Start = t
		add(execEvent(g.Run, "RUNNING", t, time.Time{}, string(input), ""))
		step := func(name string, attempt int, took time.Duration, outcome stepwrap.Outcome, code int) {
			common := recorder.StepReport{Kind: recorder.KindStep, Run: g.Run, Pipeline: "ingest", Granule: id,
				Step: name, Attempt: attempt}
			s := common
			s.Phase, s.Time, s.Log = recorder.PhaseStart, t, fmt.Sprintf("ingest/%s/%s/%d", id, name, attempt)
			add(s)
			hb := common
			hb.Phase, hb.Time = recorder.PhaseHeartbeat, t.Add(took/2)
			hb.Usage = &stepwrap.Sample{Wall: took / 2, CPU: took / 4, Memory: 1 << 20, MemoryPeak: 2 << 20, Source: "proc"}
			add(hb)
			t = t.Add(took)
			e := common
			e.Phase, e.Time = recorder.PhaseEnd, t
			rep := &stepwrap.Report{Outcome: outcome, ExitCode: code, Usage: stepwrap.Sample{Wall: took, CPU: took / 2, Memory: 1 << 20, MemoryPeak: 3 << 20, Source: "proc"}}
			if outcome != stepwrap.Succeeded {
				rep.Reason = fmt.Sprintf("exit code %d", code)
			} else {
				rep.Result = &contract.Result{Granule: doc, Outputs: map[string]any{"step": name}}
			}
			e.Report = rep
			add(e)
			t = t.Add(50 * time.Millisecond)
		}
		switch g.Outcome {
		case Aborted:
			s := recorder.StepReport{Kind: recorder.KindStep, Phase: recorder.PhaseStart, Run: g.Run, Pipeline: "ingest",
				Granule: id, Step: "sync", Attempt: 1, Time: t}
			add(s)
			t = t.Add(300 * time.Millisecond)
			g.Stop = t
			add(execEvent(g.Run, "ABORTED", g.Start, t, string(input), ""))
		case Fails:
			step("sync", 1, 100*time.Millisecond, stepwrap.Succeeded, 0)
			step("preprocess", 1, 300*time.Millisecond, stepwrap.Fatal, 3)
			step("preprocess", 2, 300*time.Millisecond, stepwrap.Fatal, 3)
			g.Stop = t
			add(execEvent(g.Run, "FAILED", g.Start, t, string(input), "States.TaskFailed"))
		default:
			step("sync", 1, 100*time.Millisecond, stepwrap.Succeeded, 0)
			if g.Outcome == Retries {
				step("preprocess", 1, 300*time.Millisecond, stepwrap.Retryable, 75)
				step("preprocess", 2, 300*time.Millisecond, stepwrap.Succeeded, 0)
			} else {
				step("preprocess", 1, 300*time.Millisecond, stepwrap.Succeeded, 0)
			}
			step("archive", 1, 100*time.Millisecond, stepwrap.Succeeded, 0)
			g.Stop = t
			add(execEvent(g.Run, "SUCCEEDED", g.Start, t, string(input), ""))
		}
		out[i] = g
	}
	return out
}

func execEvent(name, status string, start, stop time.Time, input, errName string) json.RawMessage {
	d := map[string]any{
		"executionArn":    "arn:aws:states:us-east-1:123456789012:execution:demo-ingest:" + name,
		"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:demo-ingest",
		"name":            name, "status": status, "startDate": start.UnixMilli(), "stopDate": nil,
		"input": input, "output": nil, "inputDetails": map[string]any{"included": true},
		"outputDetails": nil, "error": nil, "cause": nil, "redriveCount": 0, "redriveStatus": "NOT_REDRIVABLE",
	}
	at := start
	if !stop.IsZero() {
		d["stopDate"] = stop.UnixMilli()
		at = stop
		if status == "SUCCEEDED" {
			d["output"] = input
		}
	}
	if errName != "" {
		d["error"], d["cause"] = errName, "preprocess failed"
	}
	b, err := json.Marshal(map[string]any{"version": "0", "id": fmt.Sprintf("%x", at.UnixNano()),
		"detail-type": recorder.DetailTypeExecutionStatus, "source": recorder.SourceStates,
		"account": "123456789012", "time": at.Format(time.RFC3339), "region": "us-east-1",
		"resources": []string{"arn:aws:states:us-east-1:123456789012:execution:demo-ingest:" + name},
		"detail":    d})
	if err != nil {
		panic(err)
	}
	return b
}

// Reader is what Check reads of a store.
type Reader interface {
	Run(ctx context.Context, id string) (engine.Run, error)
	Granule(ctx context.Context, id string) (engine.Granule, error)
	Counts(ctx context.Context) (engine.Counts, error)
}

// Check verifies that the store holds what really happened to gs, run by
// run and granule by granule, and the counters.
func Check(t testing.TB, s Reader, gs []Granule) {
	t.Helper()
	ctx := context.Background()
	want := engine.Counts{Runs: map[string]map[string]int{"ingest": {}}, Granules: map[string]map[string]int{"coll": {}},
		Files: map[string]int{"disk": len(gs)}}
	for _, g := range gs {
		r, err := s.Run(ctx, g.Run)
		if err != nil {
			t.Fatalf("run %s: %v", g.Run, err)
		}
		status, gstatus := engine.RunSucceeded, engine.GranuleCompleted
		steps := []string{"sync=succeeded/1", "preprocess=succeeded/1", "archive=succeeded/1"}
		switch g.Outcome {
		case Retries:
			steps[1] = "preprocess=succeeded/2"
		case Fails:
			status, gstatus = engine.RunFailed, engine.GranuleFailed
			steps[1], steps[2] = "preprocess=failed/2", "archive=pending/0"
		case Aborted:
			status, gstatus = engine.RunCancelled, engine.GranuleFailed
			steps = []string{"sync=running/1", "preprocess=pending/0", "archive=pending/0"}
		}
		want.Runs["ingest"][status]++
		want.Granules["coll"][gstatus]++
		var got []string
		for _, st := range r.Steps {
			got = append(got, fmt.Sprintf("%s=%s/%d", st.Name, st.Status, len(st.Attempts)))
		}
		if r.Status != status || r.Pipeline != "ingest" || r.GranuleID != g.ID || r.Collection != "coll" ||
			!r.Created.Equal(g.Queued) || !r.Started.Equal(g.Start) || !r.Ended.Equal(g.Stop) ||
			r.Input == nil || r.Input.ID != g.ID || !slices.Equal(got, steps) || (status == engine.RunFailed) != (r.Error != "") {
			t.Errorf("run %s (outcome %d) = status %s, pipeline %q, granule %q, created %s, started %s, ended %s, error %q, steps %v; want %s, steps %v",
				g.Run, g.Outcome, r.Status, r.Pipeline, r.GranuleID, r.Created, r.Started, r.Ended, r.Error, got, status, steps)
			continue
		}
		pre := r.Steps[1]
		for _, a := range pre.Attempts {
			if a.ExitCode == nil || a.Ended.Sub(a.Started) != 300*time.Millisecond || a.LogPath == "" {
				t.Errorf("run %s: preprocess attempt %+v", g.Run, a)
			}
		}
		if g.Outcome == Retries && (pre.Attempts[0].Status != engine.RunFailed || *pre.Attempts[0].ExitCode != 75 || pre.Attempts[1].Status != engine.RunSucceeded) {
			t.Errorf("run %s: retried preprocess = %+v", g.Run, pre)
		}
		if g.Outcome == Succeeds && (r.Steps[0].Order != 1 || r.Steps[2].Order != 3 || r.Steps[2].Outputs["step"] != "archive") {
			t.Errorf("run %s: steps' order and outputs = %+v", g.Run, r.Steps)
		}
		gr, err := s.Granule(ctx, g.ID)
		if err != nil {
			t.Fatalf("granule %s: %v", g.ID, err)
		}
		if gr.Status != gstatus || gr.Pipeline != "ingest" || len(gr.Runs) != 1 || gr.Runs[0].Status != status ||
			gr.FileCount != 1 || gr.Document == nil || !gr.Created.Equal(g.Queued) || !gr.Updated.Equal(g.Stop) {
			t.Errorf("granule %s = %+v, want %s", g.ID, gr, gstatus)
		}
	}
	got, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := mustJSON(got), mustJSON(want); a != b {
		t.Errorf("counts = %s, want %s", a, b)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Orders are the ways a test delivers a scenario's events.
type Order string

const (
	InOrder    Order = "in-order"
	Reversed   Order = "reversed"
	Duplicated Order = "duplicated" // every event twice, then a shuffled third copy
	Shuffled   Order = "shuffled"
)

// Sequence returns g's events in order o.
func Sequence(g Granule, o Order, rng *rand.Rand) []json.RawMessage {
	ev := slices.Clone(g.Events)
	switch o {
	case Reversed:
		slices.Reverse(ev)
	case Duplicated:
		var out []json.RawMessage
		for _, e := range ev {
			out = append(out, e, e)
		}
		rng.Shuffle(len(ev), func(i, j int) { ev[i], ev[j] = ev[j], ev[i] })
		ev = append(out, ev...)
	case Shuffled:
		rng.Shuffle(len(ev), func(i, j int) { ev[i], ev[j] = ev[j], ev[i] })
	}
	return ev
}

// Interleave delivers every granule's events (each granule's in order o)
// through workers concurrent handlers, taking them from one queue in
// which the granules are interleaved at random, so that events of one run
// also race each other.
func Interleave(ctx context.Context, h func(context.Context, json.RawMessage) error, gs []Granule, o Order, workers int, rng *rand.Rand) error {
	var all []json.RawMessage
	seqs := make([][]json.RawMessage, len(gs))
	total := 0
	for i, g := range gs {
		seqs[i] = Sequence(g, o, rng)
		total += len(seqs[i])
	}
	for len(all) < total {
		i := rng.IntN(len(seqs))
		if len(seqs[i]) == 0 {
			continue
		}
		all = append(all, seqs[i][0])
		seqs[i] = seqs[i][1:]
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	queue := make(chan json.RawMessage)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ev := range queue {
				if err := h(ctx, ev); err != nil {
					errs <- err
					cancel() // the others stop too
					return
				}
			}
		})
	}
	go func() {
		defer close(queue)
		for _, ev := range all {
			select {
			case queue <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	return <-errs
}

// MemSink is a recorder.Sink in memory with the DynamoDB store's
// semantics: fn runs on a copy outside the lock, and the write succeeds
// only if nobody wrote meanwhile, else it starts over.
type MemSink struct {
	mu       sync.Mutex
	items    map[string]memItem
	counters map[string]int
	// Conflicts counts the writes that had to start over.
	Conflicts int
}

type memItem struct {
	version int
	data    []byte
}

// NewMemSink returns an empty MemSink.
func NewMemSink() *MemSink {
	return &MemSink{items: map[string]memItem{}, counters: map[string]int{}}
}

var _ recorder.Sink = (*MemSink)(nil)

func update[T any](m *MemSink, key string, zero T, fn func(*T), counts func(T) map[string]int) (T, error) {
	for {
		m.mu.Lock()
		it, exists := m.items[key]
		m.mu.Unlock()
		cur, next := zero, zero
		if exists {
			if err := json.Unmarshal(it.data, &cur); err != nil {
				return cur, err
			}
			if err := json.Unmarshal(it.data, &next); err != nil {
				return cur, err
			}
		}
		fn(&next)
		data, err := json.Marshal(next)
		if err != nil {
			return next, err
		}
		before, _ := json.Marshal(cur)
		if string(before) == string(data) {
			return next, nil
		}
		m.mu.Lock()
		if now := m.items[key]; now.version != it.version {
			m.Conflicts++
			m.mu.Unlock()
			continue
		}
		m.items[key] = memItem{version: it.version + 1, data: data}
		for k, n := range counts(next) {
			m.counters[k] += n
		}
		if exists {
			for k, n := range counts(cur) {
				m.counters[k] -= n
			}
		}
		m.mu.Unlock()
		return next, nil
	}
}

// UpdateRun implements recorder.Sink.
func (m *MemSink) UpdateRun(_ context.Context, id string, fn func(*recorder.Run)) (recorder.Run, error) {
	return update(m, "run\x00"+id, recorder.Run{ID: id}, func(r *recorder.Run) { fn(r); r.ID = id },
		func(r recorder.Run) map[string]int {
			if r.Status == "" {
				return nil
			}
			return map[string]int{"run\x00" + r.Pipeline + "\x00" + r.Status: 1}
		})
}

// UpdateGranule implements recorder.Sink.
func (m *MemSink) UpdateGranule(_ context.Context, id string, fn func(*recorder.Granule)) (recorder.Granule, error) {
	return update(m, "granule\x00"+id, recorder.Granule{ID: id}, func(g *recorder.Granule) { fn(g); g.ID = id },
		func(g recorder.Granule) map[string]int {
			c := map[string]int{}
			if g.Status != "" {
				c["granule\x00"+g.Collection+"\x00"+g.Status] = 1
			}
			for _, src := range g.Seen {
				c["files\x00"+src]++
			}
			return c
		})
}

// Run implements Reader.
func (m *MemSink) Run(_ context.Context, id string) (engine.Run, error) {
	var r recorder.Run
	if err := m.get("run\x00"+id, &r); err != nil {
		return engine.Run{}, err
	}
	return r.API(), nil
}

// Granule implements Reader.
func (m *MemSink) Granule(_ context.Context, id string) (engine.Granule, error) {
	var g recorder.Granule
	if err := m.get("granule\x00"+id, &g); err != nil {
		return engine.Granule{}, err
	}
	return g.API(), nil
}

func (m *MemSink) get(key string, v any) error {
	m.mu.Lock()
	it, ok := m.items[key]
	m.mu.Unlock()
	if !ok {
		return fmt.Errorf("%q: %w", key, engine.ErrNotFound)
	}
	return json.Unmarshal(it.data, v)
}

// Counts implements Reader.
func (m *MemSink) Counts(context.Context) (engine.Counts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := engine.Counts{Runs: map[string]map[string]int{}, Granules: map[string]map[string]int{}, Files: map[string]int{}}
	for k, n := range m.counters {
		if n <= 0 {
			continue
		}
		p := strings.Split(k, "\x00")
		switch p[0] {
		case "run", "granule":
			into := c.Runs
			if p[0] == "granule" {
				into = c.Granules
			}
			if into[p[1]] == nil {
				into[p[1]] = map[string]int{}
			}
			into[p[1]][p[2]] += n
		case "files":
			c.Files[p[1]] += n
		}
	}
	return c, nil
}

// Snapshot is every item's data, for comparing two stores' final states.
func (m *MemSink) Snapshot() map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for k, it := range m.items {
		out[k] = string(it.data)
	}
	return out
}
