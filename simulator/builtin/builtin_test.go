package builtin

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/stdlib"
)

func TestStepsCoverTheCatalogue(t *testing.T) {
	var names []string
	for name, f := range Steps() {
		if f == nil {
			t.Errorf("%s has no implementation", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	if want := stdlib.StepNames(); !reflect.DeepEqual(names, want) {
		t.Errorf("steps %v, the catalogue has %v", names, want)
	}
	// Each call builds a fresh table.
	a := Steps()
	delete(a, "checksum")
	if _, ok := Steps()["checksum"]; !ok {
		t.Error("changing one table changed another")
	}
	// The algorithms are the checksum step's enum.
	st, _ := stdlib.LookupStep("checksum")
	in, _ := st.Input("algorithm")
	if !reflect.DeepEqual(Algorithms(), in.Enum) {
		t.Errorf("Algorithms() = %v, the catalogue's enum is %v", Algorithms(), in.Enum)
	}
}

func TestInputsAreChecked(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := fx.stageGranule()
	tests := []struct {
		step Func
		with map[string]any
		want string
	}{
		{MoveGranule, map[string]any{"duplicate": "skip"}, `has no input "duplicate"`},
		{MoveGranule, map[string]any{"duplicates": "overwrite"}, `"overwrite" is not one of skip, replace, version, error`},
		{Checksum, map[string]any{"algorithm": "crc32"}, `"crc32" is not one of`},
		{Checksum, map[string]any{"verify": "yes"}, "want true or false"},
		{SyncGranule, map[string]any{"checksum": 1}, "want true or false"},
		{CMRMetadata, map[string]any{"provider": 7}, "want a string"},
	}
	for _, tt := range tests {
		_, err := fx.run(tt.step, g, tt.with)
		wantFatal(t, err, tt.want)
	}
	// Text booleans, as environment variables carry them, and nulls (the
	// default) are accepted.
	fx.mustRun(SyncGranule, g, map[string]any{"checksum": "false", "duplicates": nil})
}

func TestEnvIsChecked(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := fx.stageGranule()
	for name, step := range Steps() {
		env := fx.env
		env.S3 = nil
		env.Graph = nil
		_, err := step(fx.ctx, env, contract.Input{Granule: g})
		wantFatal(t, err, name, "S3", "Graph")
	}
	g.Collection = "nope"
	for _, step := range Steps() {
		_, err := fx.run(step, g, nil)
		wantFatal(t, err, `collection "nope" is not in the compiled configuration`)
	}
}

// pipeline runs the steps in the example's order and returns every result
// and the objects left in each bucket.
func pipeline(t *testing.T) ([]contract.Result, map[string]string, string) {
	fx := newFixture(t, testConfig)
	var logs bytes.Buffer
	fx.env.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	g := fx.stageGranule()
	var results []contract.Result
	for _, s := range []struct {
		step Func
		with map[string]any
	}{
		{SyncGranule, nil},
		{Checksum, map[string]any{"algorithm": "sha512"}},
		{CMRMetadata, nil},
		{MoveGranule, map[string]any{"duplicates": "replace"}},
		{DeleteStaged, map[string]any{"keep_unarchived": false}},
	} {
		res := fx.mustRun(s.step, g, s.with)
		results = append(results, res)
		g = res.Granule
	}
	objects := map[string]string{}
	for _, b := range []string{stagingBucket, protectedBucket, publicBucket} {
		for _, k := range fx.keys(b) {
			objects[b+"/"+k], _ = fx.get(b, k)
		}
	}
	return results, objects, logs.String()
}

func TestDeterminism(t *testing.T) {
	r1, o1, logs := pipeline(t)
	r2, o2, _ := pipeline(t)
	j1, _ := json.MarshalIndent(r1, "", " ")
	j2, _ := json.MarshalIndent(r2, "", " ")
	if !bytes.Equal(j1, j2) {
		t.Errorf("two runs gave different results:\n%s\n%s", j1, j2)
	}
	if !reflect.DeepEqual(o1, o2) {
		t.Errorf("two runs left different objects:\n%v\n%v", o1, o2)
	}

	// What the whole pipeline leaves: the archived data and browse image
	// and nothing in staging.
	var keys []string
	for k := range o1 {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{protectedBucket + "/" + dataKey, publicBucket + "/" + browseKey}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("objects %q, want %q", keys, want)
	}
	final := r1[len(r1)-1].Granule
	if len(final.Files) != 2 {
		t.Errorf("final granule %+v", final.Files)
	}
	if !strings.Contains(logs, "file archived") || !strings.Contains(logs, "granule="+granuleID) {
		t.Errorf("logs do not say what happened:\n%s", logs)
	}

	// Results survive the contract's JSON form.
	var back []contract.Result
	if err := json.Unmarshal(j1, &back); err != nil {
		t.Fatal(err)
	}
	if back[0].Granule.Files[0].Checksum != dataMD5 {
		t.Errorf("%+v", back[0].Granule.Files[0])
	}
}

func TestGranuleTime(t *testing.T) {
	tests := []struct{ id, date, want string }{
		{"X_20130825T153012", "", "2013-08-25T15:30:12Z"},
		{"X_20130825T153012", "2013-08-25", "2013-08-25T15:30:12Z"},
		{"X_2013237", "", "2013-08-25T00:00:00Z"},
		{"X_FLIGHT", "2013-08-25", "2013-08-25T00:00:00Z"},
		{"X_FLIGHT", "", "0001-01-01T00:00:00Z"},
		{"X_20130825", "2014-01-02", "2014-01-02T00:00:00Z"}, // Date, set by hand, wins
	}
	for _, tt := range tests {
		got := granuleTime(contract.Granule{ID: tt.id, Date: tt.date}).Format("2006-01-02T15:04:05Z07:00")
		if got != tt.want {
			t.Errorf("granuleTime(%s, %q) = %s, want %s", tt.id, tt.date, got, tt.want)
		}
	}
}

func TestCopySourceEscaping(t *testing.T) {
	if got := copySource("b", "a dir/x+y=1&z~.nc"); got != "b/a%20dir/x%2By%3D1%26z~.nc" {
		t.Errorf("copySource = %s", got)
	}
	// And S3 reads it back: a key with such characters moves.
	fx := newFixture(t, `
bucket "b" {
  kind = "protected"
  name = "test-protected"
}
collection "odd" {
  version    = "1"
  granule_id = "^(G[0-9]+)"
  file "data" {
    match  = "\\.dat$"
    bucket = bucket.b
  }
  url_path = "odd dir/${granule.id}+x"
}
`)
	name := "G1 a+b=ü.dat"
	g := contract.Granule{ID: "G1", Collection: "odd", Version: "1", Files: []contract.File{fx.stage(name, "data", "x")}}
	res := fx.mustRun(MoveGranule, g, nil)
	if f := res.Granule.Files[0]; f.Key != "odd dir/G1+x/"+name {
		t.Errorf("key %q", f.Key)
	}
	if body, ok := fx.get(protectedBucket, "odd dir/G1+x/"+name); !ok || body != "x" {
		t.Errorf("moved object: %v %q", ok, body)
	}
}
