package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cumulus-toolchain/cumulus/compiler/awsmodel"
	"github.com/cumulus-toolchain/cumulus/runtime/engine"
	"github.com/cumulus-toolchain/cumulus/runtime/engine/enginetest"
	"github.com/cumulus-toolchain/cumulus/runtime/recorder"
	"github.com/cumulus-toolchain/cumulus/runtime/recorder/recordertest"
)

func TestTables(t *testing.T) {
	ins := Tables("demo", map[string]string{"b": "2", "a": "1"})
	var names []string
	for _, in := range ins {
		names = append(names, aws.ToString(in.TableName))
		if in.BillingMode != types.BillingModePayPerRequest {
			t.Errorf("%s: billing %s", *in.TableName, in.BillingMode)
		}
		if len(in.Tags) != 2 || *in.Tags[0].Key != "a" || *in.Tags[1].Key != "b" {
			t.Errorf("%s: tags %v, want a, b in order", *in.TableName, in.Tags)
		}
		// Every key attribute is defined, and every definition is a key
		// (DynamoDB refuses both mistakes).
		defined := map[string]bool{}
		for _, d := range in.AttributeDefinitions {
			defined[*d.AttributeName] = true
		}
		used := map[string]bool{}
		for _, k := range in.KeySchema {
			used[*k.AttributeName] = true
		}
		for _, g := range in.GlobalSecondaryIndexes {
			for _, k := range g.KeySchema {
				used[*k.AttributeName] = true
			}
		}
		if len(defined) != len(used) {
			t.Errorf("%s: attributes defined %v, used as keys %v", *in.TableName, defined, used)
		}
		for a := range used {
			if !defined[a] {
				t.Errorf("%s: key %s is not defined", *in.TableName, a)
			}
		}
	}
	if !slices.Equal(names, TableNames("demo")) || !slices.Equal(names, []string{"demo-granules", "demo-runs", "demo-counters"}) {
		t.Errorf("tables %v, TableNames %v", names, TableNames("demo"))
	}
	if n := len(Tables("x", nil)[0].GlobalSecondaryIndexes); n != 4 {
		t.Errorf("granule indexes = %d, want 4", n)
	}
	if Tables("x", nil)[0].Tags != nil {
		t.Error("no tags gave a tag list")
	}
}

// TestTablesAgainstModel creates the tables in dynalite through a
// recording client and checks the CreateTable documents the SDK sent
// against the DynamoDB model; a mutated document must be refused, or the
// check proves nothing.
func TestTablesAgainstModel(t *testing.T) {
	m := awsmodel.TestModel(t, "dynamodb")
	db, rec := client(t)
	newTables(t, db)
	var creates [][]byte
	for _, r := range rec.requests() {
		if r.op == "CreateTable" {
			creates = append(creates, r.body)
		}
	}
	if len(creates) != 3 {
		t.Fatalf("%d CreateTable requests, want 3", len(creates))
	}
	for _, body := range creates {
		if vs := m.ValidateInput("CreateTable", body); len(vs) > 0 {
			t.Errorf("CreateTable %s: %v", body, vs)
		}
	}
	for name, mutate := range map[string]func(map[string]any){
		"billing mode":  func(d map[string]any) { d["BillingMode"] = "PAY_PER_USE" },
		"key type":      func(d map[string]any) { d["KeySchema"].([]any)[0].(map[string]any)["KeyType"] = "PARTITION" },
		"no key schema": func(d map[string]any) { delete(d, "KeySchema") },
		"index name": func(d map[string]any) {
			d["GlobalSecondaryIndexes"].([]any)[0].(map[string]any)["IndexName"] = "by status!"
		},
		"unknown member": func(d map[string]any) { d["Billing"] = "PAY_PER_REQUEST" },
	} {
		var doc map[string]any
		if err := json.Unmarshal(creates[0], &doc); err != nil {
			t.Fatal(err)
		}
		mutate(doc)
		bad, _ := json.Marshal(doc)
		if vs := m.ValidateInput("CreateTable", bad); len(vs) == 0 {
			t.Errorf("%s: the mutated document %s passed the model", name, bad)
		}
	}
}

// TestContract runs the API contract suite against the DynamoDB store
// loaded with the simulation's state: it must answer as the simulator's
// store does.
func TestContract(t *testing.T) {
	dynalite(t)
	fx := enginetest.Simulate(t)
	_, rec := client(t)
	checkRequests(t, rec)
	enginetest.Run(t, fx, func(t testing.TB) engine.Store {
		db, r := client(t)
		s, _ := newTables(t, db)
		// Each store has its own client: check its requests too.
		t.Cleanup(func() {
			rec.mu.Lock()
			rec.reqs = append(rec.reqs, r.requests()...)
			rec.mu.Unlock()
		})
		return loadInto(t, s, fx)
	})
}

func loadInto(t testing.TB, s *Store, fx *enginetest.Fixtures) engine.Store {
	byID := map[string]engine.Run{}
	var runs []recorder.Run
	for _, r := range fx.Runs {
		byID[r.ID] = r
		runs = append(runs, recorder.RunFromAPI(r))
	}
	var gs []recorder.Granule
	for _, g := range fx.Granules {
		gs = append(gs, recorder.GranuleFromAPI(g, byID))
	}
	if err := s.Import(context.Background(), runs, gs, fx.Counts.Files); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRecorderSequences records the scenario into dynalite in order,
// reversed and duplicated, and interleaved across 100 concurrent granules
// with 16 writers: the state is what really happened every time, and the
// same, item for item.
func TestRecorderSequences(t *testing.T) {
	db, rec := client(t)
	checkRequests(t, rec)
	ctx := context.Background()
	small := recordertest.Scenario(8)
	var want map[string]string
	for _, o := range []recordertest.Order{recordertest.InOrder, recordertest.Reversed, recordertest.Duplicated} {
		s, _ := newTables(t, db)
		r := recorder.New(s, nil)
		rng := rand.New(rand.NewPCG(1, 2))
		for _, g := range small {
			for _, ev := range recordertest.Sequence(g, o, rng) {
				if err := r.Handle(ctx, ev); err != nil {
					t.Fatalf("%s: %v", o, err)
				}
			}
		}
		recordertest.Check(t, s, small)
		got := snapshot(t, s)
		if want == nil {
			want = got
		} else if !equalSnapshots(t, string(o), got, want) {
			break
		}
	}

	big := recordertest.Scenario(100)
	var ref map[string]string
	for _, o := range []recordertest.Order{recordertest.InOrder, recordertest.Reversed, recordertest.Duplicated} {
		s, _ := newTables(t, db)
		if err := recordertest.Interleave(ctx, recorder.New(s, nil).Handle, big, o, 16, rand.New(rand.NewPCG(3, 4))); err != nil {
			t.Fatal(err)
		}
		recordertest.Check(t, s, big)
		got := snapshot(t, s)
		if ref == nil {
			ref = got
		} else {
			equalSnapshots(t, string(o)+", interleaved", got, ref)
		}
	}
}

// snapshot is every run's and granule's record, by id, as stored.
func snapshot(t testing.TB, s *Store) map[string]string {
	out := map[string]string{}
	for _, table := range []string{s.runs, s.granules} {
		in := &dynamodbScan{table: table}
		for item := range in.all(t, s) {
			out[table[strings.LastIndexByte(table, '-'):]+"/"+getS(item, attrID)] = getS(item, attrRec) + getS(item, attrDoc) + getS(item, attrInput)
		}
	}
	return out
}

func equalSnapshots(t testing.TB, what string, got, want map[string]string) bool {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d items, want %d", what, len(got), len(want))
		return false
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s =\n%s\nwant\n%s", what, k, got[k], v)
			return false
		}
	}
	return true
}

// TestConcurrentWriters has 32 writers race on one run and one granule:
// every change is counted exactly once.
func TestConcurrentWriters(t *testing.T) {
	db, rec := client(t)
	checkRequests(t, rec)
	s, _ := newTables(t, db)
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			_, err := s.UpdateRun(ctx, "r1", func(r *recorder.Run) {
				r.Pipeline, r.GranuleID = "p", "g"
				st := engine.RunRunning
				if i == 31 {
					st = engine.RunSucceeded
				}
				if recorder.Supersedes(r.Status, r.Ended, st, base.Add(time.Duration(i)*time.Second)) {
					r.Status, r.Ended = st, base.Add(time.Duration(i)*time.Second)
				}
				r.StepNames = append(r.StepNames, "x") // every writer changes something
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	r, err := s.Run(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != engine.RunSucceeded {
		t.Errorf("status = %s", r.Status)
	}
	var raw recorder.Run
	item, _ := s.get(ctx, s.runs, "r1")
	_ = json.Unmarshal([]byte(getS(item, attrRec)), &raw)
	if len(raw.StepNames) != 32 || getN(item, attrVersion) != 32 {
		t.Errorf("%d writes landed (version %d), want 32: a write was lost", len(raw.StepNames), getN(item, attrVersion))
	}
	c, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Runs["p"]) != 1 || c.Runs["p"][engine.RunSucceeded] != 1 {
		t.Errorf("counts = %v, want one succeeded run", c.Runs)
	}
	v, err := s.Version(ctx)
	if err != nil || v != 32 {
		t.Errorf("version = %d, %v; want 32", v, err)
	}
}

func TestReadErrors(t *testing.T) {
	db, rec := client(t)
	checkRequests(t, rec)
	s, _ := newTables(t, db)
	ctx := context.Background()
	if _, err := s.Run(ctx, "nope"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Run(nope) = %v", err)
	}
	if _, err := s.Granule(ctx, "nope"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Granule(nope) = %v", err)
	}
	for _, c := range []string{"%%%", "", "bm9oYXNo"} {
		if c == "" {
			continue
		}
		if _, err := s.Runs(ctx, engine.RunQuery{Cursor: c}); !errors.Is(err, engine.ErrInvalid) {
			t.Errorf("Runs(cursor %q) = %v", c, err)
		}
	}
	if _, err := s.Granules(ctx, engine.GranuleQuery{Cursor: "%%%"}); !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("Granules(bad cursor) = %v", err)
	}
	if _, err := s.UpdateRun(ctx, "", func(*recorder.Run) {}); !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("UpdateRun(\"\") = %v", err)
	}
	if v, err := s.Version(ctx); err != nil || v != 0 {
		t.Errorf("empty store's version = %d, %v", v, err)
	}
}
