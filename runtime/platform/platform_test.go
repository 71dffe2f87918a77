package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/cumulus-toolchain/cumulus/compiler"
	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/lang"
	"github.com/cumulus-toolchain/cumulus/runtime/deploy/awsfake"
	"github.com/cumulus-toolchain/cumulus/runtime/platform/layout"
	"github.com/cumulus-toolchain/cumulus/runtime/recorder"
	"github.com/cumulus-toolchain/cumulus/runtime/recorder/recordertest"
	"github.com/cumulus-toolchain/cumulus/runtime/stepinput"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/simulator/s3local"
)

const (
	account = "123456789012"
	region  = "us-east-1"
	staging = "tp-staging"
)

// testConfig is shaped like HS3: a source in an S3 provider's bucket, a
// pipeline of standard steps around a user's container step that runs
// only for some granules, so a run goes through every path the platform
// takes on AWS: the poller, the trigger, Lambda standard steps, the step
// wrapper in a container, and a skipped step read through.
const testConfig = `
deployment {
  prefix     = "tp"
  region     = "us-east-1"
  account_id = "123456789012"
  subnets    = ["subnet-0a1b2c3d4e5f60718"]
}
bucket "staging" {
  kind = "private"
  name = "tp-staging"
}
bucket "protected" {
  kind = "protected"
  name = "tp-protected"
}
provider "drop" {
  protocol = "s3"
  host     = "tp-provider"
}
collection "c" {
  version    = "1"
  granule_id = "^(G_[0-9]{8})"
  bucket     = bucket.protected
  file "data" {
    match = "\\.nc$"
  }
  file "notes" {
    match    = "\\.txt$"
    required = false
  }
  url_path   = "c/${granule.year}/${granule.id}"
  duplicates = "replace"
}
source "drop" {
  provider   = provider.drop
  path       = "incoming/"
  collection = collection.c
  pipeline   = pipeline.ingest
  every      = "15m"
}
task "annotate" {
  runs_on = "ecs"
  image   = "example/annotate:1"
  environment = {
    LEVEL = "2"
  }
}
pipeline "ingest" {
  step "sync" {
    uses = stdlib.sync_granule
  }
  step "annotate" {
    task  = task.annotate
    after = [step.sync]
    when  = granule.day == "25"
    env = {
      GRANULE = granule.id
    }
  }
  step "archive" {
    uses  = stdlib.move_granule
    after = [step.annotate]
  }
}
`

// world is one test's AWS: the embedded S3 endpoint as S3, the fake as
// Step Functions, and the configuration deployed the way deploy leaves
// it (graph.json and the configuration bundle in the private bucket, the
// state machine created).
type world struct {
	t      *testing.T
	ctx    context.Context
	s3     *s3.Client
	fake   *awsfake.Server
	sfn    *sfn.Client
	cfg    *lang.Config
	graph  *graph.Graph
	graphs *GraphSource
}

func newWorld(t *testing.T, src string) *world {
	t.Helper()
	ctx := t.Context()
	fake := awsfake.New(t, account, region)
	srv, err := s3local.Start(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	client, err := s3local.Client(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if err := s3local.EnsureBuckets(ctx, client, []string{staging, "tp-protected", "tp-provider"}); err != nil {
		t.Fatal(err)
	}
	cfg, diags := lang.LoadSources("t", map[string][]byte{"main.cumulus.hcl": []byte(src)}, lang.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	res, diags := compiler.Compile(cfg)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	w := &world{t: t, ctx: ctx, s3: client, fake: fake, cfg: cfg, graph: res.Graph}
	// What deploy puts in the private bucket.
	gj, err := json.Marshal(res.Graph)
	if err != nil {
		t.Fatal(err)
	}
	w.put(staging, GraphKey, gj)
	bundle, err := layout.NewConfigBundle(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.put(staging, ConfigKey, bundle)
	w.graphs, err = NewGraphSource(client, res.Graph.GraphURL())
	if err != nil {
		t.Fatal(err)
	}
	w.sfn = sfn.NewFromConfig(aws.Config{Region: region, BaseEndpoint: aws.String(fake.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")})
	for _, a := range res.Artifacts {
		if a.Kind != compiler.KindStateMachineCreate {
			continue
		}
		var in sfn.CreateStateMachineInput
		if err := json.Unmarshal(a.Data, &in); err != nil {
			t.Fatal(err)
		}
		if _, err := w.sfn.CreateStateMachine(ctx, &in); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func (w *world) put(bucket, key string, data []byte) {
	w.t.Helper()
	if _, err := w.s3.PutObject(w.ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) get(bucket, key string) ([]byte, error) {
	out, err := w.s3.GetObject(w.ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func (w *world) poll() PollSummary {
	w.t.Helper()
	cfg, err := LoadConfig(w.ctx, w.s3, staging, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	p := &Poller{Config: cfg, S3: w.s3, StagingBucket: staging, Now: func() time.Time { return time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC) }}
	sum, err := p.Poll(w.ctx, "drop")
	if err != nil {
		w.t.Fatal(err)
	}
	return sum
}

// notify is what S3 sends the trigger for objects created under keys.
func notify(bucket string, keys ...string) events.S3Event {
	var ev events.S3Event
	for _, k := range keys {
		var r events.S3EventRecord
		r.EventName = "ObjectCreated:Put"
		r.S3.Bucket.Name = bucket
		r.S3.Object.Key = url.QueryEscape(k)
		ev.Records = append(ev.Records, r)
	}
	return ev
}

// run takes an execution through its pipeline as the state machine does:
// steps in an order the graph allows, a step whose condition is false
// not started (the Choice state), standard steps through the platform's
// function, the container step through what the step wrapper does around
// the user's program (program stands for it).
func (w *world) run(pipeline string, exec awsfake.Execution, program func(in contract.Granule, env map[string]string) contract.Result, reports *Reports) {
	w.t.Helper()
	var input ExecutionInput
	if err := json.Unmarshal([]byte(exec.Input), &input); err != nil {
		w.t.Fatal(err)
	}
	p := w.graph.Pipeline(pipeline)
	steps := &Steps{Graphs: w.graphs, S3: w.s3, Getenv: func(string) string { return "" }, Reports: reports}
	done := map[string]bool{}
	for len(done) < len(p.Steps) {
		for _, st := range p.Steps {
			if done[st.Name] || slices.ContainsFunc(st.After, func(a string) bool { return !done[a] }) {
				continue
			}
			done[st.Name] = true
			if st.Uses != "" {
				out, err := steps.Run(w.ctx, Invocation{Granule: input.Granule, Pipeline: pipeline, Step: st.Name, Run: exec.Name})
				if err != nil {
					w.t.Fatalf("step %s: %v", st.Name, err)
				}
				if out.Skipped {
					w.t.Logf("step %s skipped by the function", st.Name)
				}
				continue
			}
			doc, _ := json.Marshal(input.Granule)
			env := map[string]string{EnvGraph: w.graph.GraphURL(), EnvRun: exec.Name, contract.EnvPipeline: pipeline,
				contract.EnvStep: st.Name, contract.EnvGranule: string(doc), EnvAttempt: "1"}
			c, err := PrepareContainerStep(w.ctx, w.s3, func(k string) string { return env[k] })
			if err != nil {
				w.t.Fatalf("step %s: %v", st.Name, err)
			}
			if c.Skip {
				continue // the Choice state would not have started it
			}
			if err := c.Finish(w.ctx, program(c.Granule, c.Env)); err != nil {
				w.t.Fatal(err)
			}
		}
	}
}

// inProcess is Lambda's asynchronous invocation of the recorder function,
// done in this process: the payload reaches the real recorder, writing to
// an in-memory store.
type inProcess struct {
	t   *testing.T
	rec *recorder.Recorder
	n   int
}

func (l *inProcess) Invoke(ctx context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	if in.InvocationType != lambdatypes.InvocationTypeEvent || aws.ToString(in.FunctionName) != "tp-recorder" {
		l.t.Errorf("invoke %s %s", aws.ToString(in.FunctionName), in.InvocationType)
	}
	l.n++
	if err := l.rec.Handle(ctx, in.Payload); err != nil {
		l.t.Errorf("recorder: %v\n%s", err, in.Payload)
	}
	return &lambda.InvokeOutput{StatusCode: 202}, nil
}

func TestRunOnAWS(t *testing.T) {
	w := newWorld(t, testConfig)
	store := recordertest.NewMemSink()
	transport := &inProcess{t: t, rec: recorder.New(store, nil, recorder.StateMachinePrefix("tp-"))}
	reports := &Reports{Lambda: transport, Function: "tp-recorder"}
	w.put("tp-provider", "incoming/G_20130825.nc", []byte("first day\n"))
	w.put("tp-provider", "incoming/G_20130825.txt", []byte("notes\n"))
	w.put("tp-provider", "incoming/G_20130826.nc", []byte("second day\n"))
	w.put("tp-provider", "elsewhere/G_20130827.nc", []byte("not the source's\n"))

	// The poller stages both granules and writes their manifests.
	if sum := w.poll(); sum.Staged != 2 || sum.Failed != 0 {
		t.Fatalf("first poll: %+v", sum)
	}
	m25, m26 := ManifestKey("c", "G_20130825", "drop"), ManifestKey("c", "G_20130826", "drop")
	data, err := w.get(staging, "c/G_20130825/G_20130825.nc")
	if err != nil || string(data) != "first day\n" {
		t.Fatalf("staged file: %q, %v", data, err)
	}

	// S3 notifies the trigger (twice for one manifest: delivery is at
	// least once), which starts one execution per granule.
	trig := &Trigger{Graphs: w.graphs, S3: w.s3, SFN: w.sfn, Reports: reports}
	started, err := trig.Handle(w.ctx, notify(staging, m25, m26, m25, "c/G_20130825/G_20130825.nc"))
	if err != nil {
		t.Fatal(err)
	}
	if len(started) != 3 || started[0].Execution != started[2].Execution {
		t.Fatalf("started %+v", started)
	}
	machine := w.graph.Pipeline("ingest").ResourceName
	execs := w.fake.Executions(machine)
	if len(execs) != 2 {
		t.Fatalf("executions: %+v", execs)
	}
	var in ExecutionInput
	if err := json.Unmarshal([]byte(execs[0].Input), &in); err != nil {
		t.Fatal(err)
	}
	if in.Attributes["id"] != "G_20130825" || in.Attributes["doy"] != "237" || in.Attributes["day"] != "25" ||
		!slices.Equal(in.StagedKeys, []string{"c/G_20130825/G_20130825.nc", "c/G_20130825/G_20130825.txt"}) {
		t.Fatalf("execution input: %s", execs[0].Input)
	}

	// The runs: G_20130825's annotate step runs (its program adds a file
	// and sees the synced granule and its env evaluated for it); for
	// G_20130826 it is skipped and archive reads through it.
	annotated := map[string]map[string]string{}
	program := func(g contract.Granule, env map[string]string) contract.Result {
		annotated[g.ID] = env
		key := "c/" + g.ID + "/" + g.ID + ".ann.txt"
		w.put(staging, key, []byte("annotated\n"))
		g.Files = append(g.Files, contract.File{Name: g.ID + ".ann.txt", Type: "notes", Bucket: staging, Key: key, Size: 10})
		return contract.Result{Granule: g}
	}
	for _, x := range execs {
		w.run("ingest", x, program, reports)
		w.fake.CloseExecution(machine, x.Name, "SUCCEEDED")
	}
	// The same event once the run is over starts nothing.
	again, err := trig.Handle(w.ctx, notify(staging, m25))
	if err != nil || len(again) != 1 || !again[0].Already {
		t.Fatalf("a late duplicate event: %+v, %v", again, err)
	}
	if len(annotated) != 1 || annotated["G_20130825"]["GRANULE"] != "G_20130825" {
		t.Fatalf("annotate ran for %v", annotated)
	}
	var doc contract.Granule
	if err := json.Unmarshal([]byte(annotated["G_20130825"][contract.EnvGranule]), &doc); err != nil || len(doc.Files) != 2 {
		t.Fatalf("annotate received %s (%v)", annotated["G_20130825"][contract.EnvGranule], err)
	}
	for _, k := range []string{"c/2013/G_20130825/G_20130825.nc", "c/2013/G_20130825/G_20130825.ann.txt", "c/2013/G_20130826/G_20130826.nc"} {
		if _, err := w.get("tp-protected", k); err != nil {
			t.Errorf("archive: %s: %v", k, err)
		}
	}
	// Each step that ran kept its result; the skipped one none.
	for _, k := range []string{"sync", "annotate", "archive"} {
		_, err := w.get(staging, ResultKey("ingest", execs[0].Name, k))
		if err != nil {
			t.Errorf("result of %s: %v", k, err)
		}
	}
	if _, err := w.get(staging, ResultKey("ingest", execs[1].Name, "annotate")); err == nil {
		t.Error("the skipped step left a result")
	}
	// What the trigger and the standard steps reported is the engine's
	// record of the runs: queued with the granule, each step's attempt.
	if transport.n == 0 {
		t.Fatal("nothing was reported")
	}
	run, err := store.Run(w.ctx, execs[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, st := range run.Steps {
		got[st.Name] = st.Status
		if st.Name == "sync" && (len(st.Attempts) != 1 || st.Attempts[0].Status != "succeeded") {
			t.Errorf("sync's attempts: %+v", st.Attempts)
		}
	}
	if run.Pipeline != "ingest" || run.GranuleID != "G_20130825" || got["sync"] != "succeeded" || got["archive"] != "succeeded" {
		t.Errorf("the engine's record of run %s: %+v", execs[0].Name, run)
	}

	// Polling again stages nothing; a changed file is staged again
	// (duplicates = "replace") and its new manifest is a new run.
	if sum := w.poll(); sum.Staged != 0 || sum.Unchanged != 2 {
		t.Fatalf("second poll: %+v", sum)
	}
	w.put("tp-provider", "incoming/G_20130826.nc", []byte("second day, reprocessed\n"))
	if sum := w.poll(); sum.Staged != 1 || sum.Unchanged != 1 {
		t.Fatalf("third poll: %+v", sum)
	}
	started, err = trig.Handle(w.ctx, notify(staging, m26))
	if err != nil || len(started) != 1 || started[0].Already {
		t.Fatalf("after the change: %+v, %v", started, err)
	}
	if got := len(w.fake.Executions(machine)); got != 3 {
		t.Errorf("%d executions, want 3", got)
	}
}

func TestStepRefusals(t *testing.T) {
	w := newWorld(t, testConfig)
	steps := &Steps{Graphs: w.graphs, S3: w.s3, Only: "move_granule"}
	g := contract.Granule{ID: "G_20130825", Collection: "c", Version: "1"}
	for _, c := range []struct {
		inv  Invocation
		want string
	}{
		{Invocation{Granule: g, Pipeline: "nope", Step: "sync", Run: "r"}, "no pipeline"},
		{Invocation{Granule: g, Pipeline: "ingest", Step: "nope", Run: "r"}, "no step"},
		{Invocation{Granule: g, Pipeline: "ingest", Step: "archive"}, "names no run"},
		{Invocation{Granule: g, Pipeline: "ingest", Step: "sync", Run: "r"}, "runs stdlib.move_granule"},
		{Invocation{Granule: g, Pipeline: "ingest", Step: "annotate", Run: "r"}, "not a standard step"},
	} {
		_, err := steps.Run(w.ctx, c.inv)
		if err == nil || !IsFatal(err) || !strings.Contains(Message(err), c.want) {
			t.Errorf("%+v: %v, want a fatal error saying %q", c.inv, err, c.want)
		}
	}
	// A step that should have run before but left no result is an error,
	// not a silent read-through.
	_, err := steps.Run(w.ctx, Invocation{Granule: g, Pipeline: "ingest", Step: "archive", Run: "r"})
	if err == nil || !strings.Contains(err.Error(), "left no result") {
		t.Errorf("archive without sync's result: %v", err)
	}
	// The trigger refuses what is not a manifest of this configuration.
	w.put(staging, "c/G/x"+ManifestSuffix, []byte(`{"granule":{"id":"G"},"pipeline":"other"}`))
	trig := &Trigger{Graphs: w.graphs, S3: w.s3, SFN: w.sfn}
	if _, err := trig.Handle(w.ctx, notify(staging, "c/G/x"+ManifestSuffix)); err == nil || !strings.Contains(Message(err), `no pipeline "other"`) {
		t.Errorf("unknown pipeline: %v", err)
	}
}

func TestExecutionName(t *testing.T) {
	a := ExecutionName("HS3 HAMSR/2013.08.25", []byte("m1"))
	if strings.ContainsAny(a, " /.") || len(a) > 80 {
		t.Errorf("name %q", a)
	}
	if a != ExecutionName("HS3 HAMSR/2013.08.25", []byte("m1")) || a == ExecutionName("HS3 HAMSR/2013.08.25", []byte("m2")) {
		t.Error("names do not follow the manifest")
	}
	if n := ExecutionName(strings.Repeat("x", 200), nil); len(n) > 80 {
		t.Errorf("%d characters", len(n))
	}
}

// TestMergeMatchesSimulator: the input a step reads back from S3 results
// is what the simulator's scheduler gives it (one function, stepinput).
func TestMergeMatchesSimulator(t *testing.T) {
	st := &graph.Step{Name: "c", After: []string{"a", "b"}}
	outs := map[string]contract.Granule{
		"a": {ID: "G", Files: []contract.File{{Name: "x", Key: "a/x"}, {Name: "y", Key: "a/y"}}},
		"b": {ID: "G", Files: []contract.File{{Name: "y", Key: "b/y"}, {Name: "z", Key: "b/z"}}},
	}
	got := stepinput.Merge(contract.Granule{ID: "start"}, st, outs)
	var keys []string
	for _, f := range got.Files {
		keys = append(keys, f.Key)
	}
	if !slices.Equal(keys, []string{"a/x", "b/y", "b/z"}) {
		t.Errorf("merged %v", keys)
	}
}
