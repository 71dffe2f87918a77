package builtin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/stdlib"
)

// Func is one standard step: it receives the step contract's Input and
// returns its Result. It must not change in (its granule's Files included).
type Func func(ctx context.Context, env Env, in contract.Input) (contract.Result, error)

// Steps returns the standard steps keyed by their stdlib name. The map is
// built afresh on each call, so a caller may change it without affecting
// anyone else.
func Steps() map[string]Func {
	return map[string]Func{
		"checksum":      Checksum,
		"cmr_metadata":  CMRMetadata,
		"delete_staged": DeleteStaged,
		"move_granule":  MoveGranule,
		"publish_cmr":   PublishCMR,
		"sync_granule":  SyncGranule,
	}
}

// Clock tells the time. The metadata step stamps its record with it; tests
// pass a fixed one so that records are the same bytes on every run.
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// Env is what the steps need from where they run.
type Env struct {
	// S3 reaches every bucket of the configuration.
	S3 S3
	// Graph is the compiled configuration: collections, their file blocks,
	// buckets and url_path values.
	Graph *graph.Graph
	// Clock stamps the metadata record; nil means the system clock.
	Clock Clock
	// Logger receives what the steps did; nil discards it.
	Logger *slog.Logger
	// DistributionURL is the base of the links the metadata record gives
	// for distributed files: DistributionURL + "/" + the bucket's prefix in
	// the configuration's first distribution (its name when there is no
	// distribution block) + "/" + key. Empty, or a bucket the distribution
	// does not serve, means s3:// links (UMM-G's "GET DATA VIA DIRECT
	// ACCESS").
	DistributionURL string
	// StagingBucket is the bucket acquisition stages granules in:
	// cmr_metadata writes its record there, delete_staged cleans it.
	StagingBucket string
	// Publisher sends metadata records to CMR; nil means none is reachable,
	// and cmr_metadata refuses publish = true.
	Publisher Publisher
	// RecordDir, when set, receives a copy of each UMM-G record
	// cmr_metadata writes, as RecordDir/<granule id>.cmr.json, for people
	// and tools to read (the simulation folder's records/).
	RecordDir string
	// CMREndpoint, when set, replaces the endpoint of every publish_cmr
	// step: the simulator's CMR stand-in, so that a simulation never
	// publishes to a real CMR.
	CMREndpoint string
	// CMR is the client publish_cmr puts records with (nil: a default one).
	CMR *CMRIngest
	// Getenv reads the environment publish_cmr takes its token from, after
	// the step's own env (nil: none but the step's).
	Getenv func(string) string
}

func (e Env) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

func (e Env) now() time.Time {
	if e.Clock == nil {
		return time.Now().UTC()
	}
	return e.Clock.Now().UTC()
}

// check refuses an Env the step cannot work with, before it touches anything.
func (e Env) check(step string, needStaging bool) error {
	var missing []string
	if e.S3 == nil {
		missing = append(missing, "S3")
	}
	if e.Graph == nil {
		missing = append(missing, "Graph")
	}
	if needStaging && e.StagingBucket == "" {
		missing = append(missing, "StagingBucket")
	}
	if len(missing) > 0 {
		return &FatalError{Err: fmt.Errorf("%s: the step's environment has no %s", step, strings.Join(missing, ", "))}
	}
	return nil
}

// collection returns the granule's collection from the graph.
func (e Env) collection(g contract.Granule) (*graph.Collection, error) {
	c := e.Graph.Collection(g.Collection)
	if c == nil {
		return nil, &FatalError{Err: fmt.Errorf("granule %s: collection %q is not in the compiled configuration", g.ID, g.Collection)}
	}
	return c, nil
}

// FatalError marks an error that retrying the step cannot cure: the
// scheduler should fail the granule at once.
type FatalError struct {
	Err error
}

func (e *FatalError) Error() string { return e.Err.Error() }

func (e *FatalError) Unwrap() error { return e.Err }

// IsFatal says whether err, or an error it wraps, is a *FatalError.
func IsFatal(err error) bool {
	var f *FatalError
	return errors.As(err, &f)
}

func fatalf(format string, args ...any) error {
	return &FatalError{Err: fmt.Errorf(format, args...)}
}

// inputs are a standard step's `with` values, checked against its contract
// in stdlib's catalogue, with the catalogue's defaults filled in.
type inputs struct {
	vals map[string]cty.Value // a null value means unset
}

// readInputs checks with against the step's contract. The checker has done
// this for the configuration already; doing it again here catches an
// executor or a hand-written CUMULUS_WITH that sends something else, and a
// bad input is fatal because retrying sends the same.
// begin is what every step does first: check the environment it needs,
// read and check its inputs against its contract, and find the granule's
// collection.
func (e Env) begin(step string, needStaging bool, in contract.Input) (inputs, *graph.Collection, error) {
	if err := e.check(step, needStaging); err != nil {
		return inputs{}, nil, err
	}
	args, err := readInputs(step, in.With)
	if err != nil {
		return inputs{}, nil, err
	}
	c, err := e.collection(in.Granule)
	if err != nil {
		return inputs{}, nil, err
	}
	return args, c, nil
}

func readInputs(step string, with map[string]any) (inputs, error) {
	st, ok := stdlib.LookupStep(step)
	if !ok {
		return inputs{}, fatalf("%s is not a standard step", step)
	}
	in := inputs{vals: map[string]cty.Value{}}
	for _, decl := range st.Inputs {
		in.vals[decl.Name] = decl.Default
	}
	names := make([]string, 0, len(with))
	for name := range with {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		decl, ok := st.Input(name)
		if !ok {
			return inputs{}, fatalf("%s has no input %q; its inputs are %s", step, name, strings.Join(st.InputNames(), ", "))
		}
		v, err := inputValue(decl, with[name])
		if err != nil {
			return inputs{}, &FatalError{Err: fmt.Errorf("%s input %s: %w", step, name, err)}
		}
		in.vals[name] = v
	}
	return in, nil
}

// inputValue converts a JSON-decoded value to the input's type. Strings
// "true"/"false" are accepted for booleans because environment-borne values
// arrive as text.
func inputValue(decl *stdlib.Input, raw any) (cty.Value, error) {
	if raw == nil {
		return cty.NullVal(decl.Type), nil
	}
	switch decl.Type {
	case cty.Bool:
		switch x := raw.(type) {
		case bool:
			return cty.BoolVal(x), nil
		case string:
			switch x {
			case "true":
				return cty.True, nil
			case "false":
				return cty.False, nil
			}
		}
		return cty.NilVal, fmt.Errorf("want true or false, got %v", raw)
	case cty.String:
		s, ok := raw.(string)
		if !ok {
			return cty.NilVal, fmt.Errorf("want a string, got %v", raw)
		}
		if len(decl.Enum) > 0 && !contains(decl.Enum, s) {
			return cty.NilVal, fmt.Errorf("%q is not one of %s", s, strings.Join(decl.Enum, ", "))
		}
		return cty.StringVal(s), nil
	}
	return cty.NilVal, fmt.Errorf("inputs of type %s are not supported", decl.Type.FriendlyName())
}

func (in inputs) bool(name string) bool {
	v := in.vals[name]
	return v != cty.NilVal && !v.IsNull() && v.True()
}

// string returns the input's value, or "" when it is unset (a null default
// means "from the collection / platform").
func (in inputs) string(name string) string {
	v := in.vals[name]
	if v == cty.NilVal || v.IsNull() {
		return ""
	}
	return v.AsString()
}

// duplicates is the policy in force: the step's input, else the
// collection's, else "error", the language's default.
func (in inputs) duplicates(c *graph.Collection) string {
	if p := in.string("duplicates"); p != "" {
		return p
	}
	if c.Duplicates != "" {
		return c.Duplicates
	}
	return "error"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// cloneGranule copies the granule so that the step's changes never reach
// the Input's slice.
func cloneGranule(g contract.Granule) contract.Granule {
	out := g
	out.Files = append([]contract.File(nil), g.Files...)
	return out
}

// stdGranule is the granule as run-time expressions see it.
func stdGranule(g contract.Granule) stdlib.Granule {
	out := stdlib.Granule{ID: g.ID, Collection: g.Collection, Version: g.Version, Time: granuleTime(g)}
	for _, f := range g.Files {
		out.Files = append(out.Files, stdFile(f))
	}
	return out
}

func stdFile(f contract.File) stdlib.File {
	return stdlib.File{Name: f.Name, Type: f.Type, Checksum: f.Checksum, ChecksumType: f.ChecksumType, Size: f.Size}
}

// granuleTime is the granule's date: from its id (which may carry a time of
// day too), else from the document's Date. The two come from the same id,
// so they differ only if someone set Date by hand, and then Date wins.
func granuleTime(g contract.Granule) time.Time {
	t, ok := stdlib.GranuleDate(g.ID)
	if g.Date == "" {
		if ok {
			return t
		}
		return time.Time{}
	}
	if ok && t.Format(time.DateOnly) == g.Date {
		return t
	}
	d, err := time.Parse(time.DateOnly, g.Date)
	if err != nil {
		return time.Time{}
	}
	return d
}

// fileBlock returns the collection's file block the file matched, or nil.
func fileBlock(c *graph.Collection, f contract.File) *graph.CollectionFile {
	for _, b := range c.Files {
		if b.Name == f.Type {
			return b
		}
	}
	return nil
}

// outputFiles is the `files` output: the granule's files as they now are.
func outputFiles(g contract.Granule) []contract.File {
	return append([]contract.File{}, g.Files...)
}

func s3url(bucket, key string) string { return "s3://" + bucket + "/" + key }
