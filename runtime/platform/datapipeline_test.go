package platform

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	dptypes "github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/cumulus-toolchain/cumulus/compiler"
	"github.com/cumulus-toolchain/cumulus/runtime/deploy"
)

// TestTriggerDataPipeline: with orchestrator = "datapipeline" the trigger
// runs each granule in a pipeline of its own made from the deployed one
// (the fake checks every call against the Data Pipeline model), activates
// it once however often the event comes, deletes granule pipelines that
// are done, and refuses a granule beyond the pipeline's concurrency.
func TestTriggerDataPipeline(t *testing.T) {
	src := strings.Replace(testConfig, `subnets    = ["subnet-0a1b2c3d4e5f60718"]`, `subnets      = ["subnet-0a1b2c3d4e5f60718"]
  orchestrator = "datapipeline"`, 1)
	src = strings.Replace(src, `pipeline "ingest" {`, "pipeline \"ingest\" {\n  concurrency = 1", 1)
	w := newWorld(t, src)
	if w.graph.Orchestrator != "datapipeline" {
		t.Fatalf("orchestrator %q", w.graph.Orchestrator)
	}
	dp := datapipeline.NewFromConfig(aws.Config{Region: region, BaseEndpoint: aws.String(w.fake.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")})
	// The deployed pipeline, as deploy leaves it.
	res, diags := compiler.Compile(w.cfg)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want, err := deploy.Desire(w.cfg, res, deploy.DesireOptions{Stage: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range want.Pipelines {
		var tags []dptypes.Tag
		for k, v := range p.Tags {
			tags = append(tags, dptypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		out, err := dp.CreatePipeline(w.ctx, &datapipeline.CreatePipelineInput{Name: aws.String(p.Name), UniqueId: aws.String(p.UniqueID), Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dp.PutPipelineDefinition(w.ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: out.PipelineId,
			PipelineObjects: p.Definition.Objects, ParameterObjects: p.Definition.Parameters, ParameterValues: p.Definition.Values}); err != nil {
			t.Fatal(err)
		}
	}

	w.put("tp-provider", "incoming/G_20130825.nc", []byte("first day\n"))
	w.put("tp-provider", "incoming/G_20130826.nc", []byte("second day\n"))
	if sum := w.poll(); sum.Staged != 2 {
		t.Fatalf("poll: %+v", sum)
	}
	trig := &Trigger{Graphs: w.graphs, S3: w.s3, SFN: w.sfn, DP: dp, Logger: slog.New(slog.NewTextHandler(tlog{t}, nil))}
	m25, m26 := ManifestKey("c", "G_20130825", "drop"), ManifestKey("c", "G_20130826", "drop")
	started, err := trig.Handle(w.ctx, notify(staging, m25, m25))
	if err != nil || len(started) != 2 || started[0].Already || !started[1].Already || started[0].Execution != started[1].Execution {
		t.Fatalf("started %+v, %v", started, err)
	}
	pid := started[0].Execution
	def, err := dp.GetPipelineDefinition(w.ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: aws.String(pid)})
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{}
	for _, v := range def.ParameterValues {
		values[aws.ToString(v.Id)] = aws.ToString(v.StringValue)
	}
	var doc map[string]any
	if values["myGranuleId"] != "G_20130825" || values["myGranuleDoy"] != "237" || json.Unmarshal([]byte(values["myGranule"]), &doc) != nil || doc["id"] != "G_20130825" {
		t.Errorf("parameter values %v", values)
	}
	// Concurrency 1: the second granule waits while the first runs.
	_, err = trig.Handle(w.ctx, notify(staging, m26))
	if err == nil || !strings.Contains(Message(err), "its concurrency") {
		t.Fatalf("over concurrency: %v", err)
	}
	// Once the first is done it is deleted and the second starts.
	w.fake.SetPipelineState(pid, "FINISHED")
	started, err = trig.Handle(w.ctx, notify(staging, m26))
	if err != nil || len(started) != 1 || started[0].Already {
		t.Fatalf("after the first finished: %+v, %v", started, err)
	}
	if _, err := dp.DescribePipelines(w.ctx, &datapipeline.DescribePipelinesInput{PipelineIds: []string{pid}}); err == nil {
		t.Error("the finished granule pipeline was not deleted")
	}
}

// tlog writes a logger's lines to the test's log.
type tlog struct{ t *testing.T }

func (l tlog) Write(p []byte) (int, error) { l.t.Log(strings.TrimSpace(string(p))); return len(p), nil }
