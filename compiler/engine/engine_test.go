package engine_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cumulus-toolchain/cumulus/compiler/engine"
	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/compiler/httpapi"
)

func testGraph(pipelines ...string) *graph.Graph {
	g := &graph.Graph{Prefix: "p", Region: "us-west-2", AccountID: "123456789012", ArtifactBucket: "p-internal",
		Engine: &graph.Engine{
			TablePrefix: "p", Rule: "p-engine-recorder", HTTPAPI: "p-engine-api",
			Recorder:      &graph.Task{Name: "recorder", ResourceName: "p-recorder", TaskRole: "p-recorder-fn", LogGroup: "/cumulus/p/functions/recorder"},
			API:           &graph.Task{Name: "engine-api", ResourceName: "p-engine-api", TaskRole: "p-engine-api-fn", LogGroup: "/cumulus/p/functions/engine-api"},
			StepLogGroups: []string{"/cumulus/p/tasks/t"},
		}}
	for _, p := range pipelines {
		g.Pipelines = append(g.Pipelines, &graph.Pipeline{Name: p, ResourceName: "p-" + p})
	}
	return g
}

// The recorder's rule matches the status changes of exactly the
// configuration's per-granule state machines.
func TestRecorderRule(t *testing.T) {
	d, err := engine.Build(testGraph("ingest", "reprocess"))
	if err != nil {
		t.Fatal(err)
	}
	var pattern struct {
		Source     []string `json:"source"`
		DetailType []string `json:"detail-type"`
		Detail     struct {
			StateMachineArn []string `json:"stateMachineArn"`
		} `json:"detail"`
	}
	if err := json.Unmarshal([]byte(d.Rule.EventPattern), &pattern); err != nil {
		t.Fatal(err)
	}
	want := []string{"arn:aws:states:us-west-2:123456789012:stateMachine:p-ingest", "arn:aws:states:us-west-2:123456789012:stateMachine:p-reprocess"}
	if !slices.Equal(pattern.Source, []string{"aws.states"}) || !slices.Equal(pattern.DetailType, []string{engine.ExecutionStatusChange}) ||
		!slices.Equal(pattern.Detail.StateMachineArn, want) {
		t.Errorf("pattern %s", d.Rule.EventPattern)
	}
	if len(d.Targets.Targets) != 1 || d.Targets.Targets[0].Arn != "arn:aws:lambda:us-west-2:123456789012:function:p-recorder" {
		t.Errorf("targets %+v", d.Targets)
	}
	if len(d.Permissions) != 2 || d.Permissions[0].SourceArn != "arn:aws:events:us-west-2:123456789012:rule/p-engine-recorder" {
		t.Errorf("permissions %+v", d.Permissions)
	}
}

// Without pipelines there is nothing to record: no rule (EventBridge
// refuses an empty list in a pattern), and only API Gateway's permission.
func TestNoPipelinesNoRule(t *testing.T) {
	d, err := engine.Build(testGraph())
	if err != nil {
		t.Fatal(err)
	}
	if d.Rule != nil || d.Targets != nil || len(d.Permissions) != 1 || d.Permissions[0].Principal != "apigateway.amazonaws.com" {
		t.Errorf("rule %v, permissions %+v", d.Rule, d.Permissions)
	}
}

// The HTTP API's documents carry the placeholders deploy replaces, and
// the routes the engine API and dashboard need.
func TestHTTPAPI(t *testing.T) {
	d, err := engine.Build(testGraph("ingest"))
	if err != nil {
		t.Fatal(err)
	}
	h := d.HTTPAPI
	if h.API.ProtocolType != "HTTP" || h.API.Name != "p-engine-api" || h.Integration.ApiId != httpapi.APIID || h.Integration.PayloadFormatVersion != "2.0" ||
		h.Integration.IntegrationType != "AWS_PROXY" || h.Integration.IntegrationUri != "arn:aws:lambda:us-west-2:123456789012:function:p-engine-api" {
		t.Errorf("API %+v, integration %+v", h.API, h.Integration)
	}
	var keys []string
	for _, r := range h.Routes {
		keys = append(keys, r.RouteKey)
		if r.Target != "integrations/"+httpapi.IntegrationID {
			t.Errorf("route %s targets %s", r.RouteKey, r.Target)
		}
	}
	if !slices.Equal(keys, []string{"GET /api/{proxy+}", "GET /", "GET /{proxy+}"}) {
		t.Errorf("routes %v", keys)
	}
	if !slices.Equal(h.RouteFiles, []string{"api", "root", "dashboard"}) {
		t.Errorf("route files %v", h.RouteFiles)
	}
	if h.Stage.StageName != "$default" || !h.Stage.AutoDeploy {
		t.Errorf("stage %+v", h.Stage)
	}
	if p := d.Permissions[1]; p != h.Permission || !strings.Contains(p.SourceArn, ":"+httpapi.APIID+"/") || p.FunctionName != "p-engine-api" {
		t.Errorf("API Gateway's permission %+v", p)
	}
	if len(d.Tables) != 3 || !slices.Equal(d.TableNames, []string{"p-granules", "p-runs", "p-counters"}) {
		t.Errorf("tables %v", d.TableNames)
	}
	// Unset members of the SDK's types are not written.
	b, _ := json.Marshal(d.Tables[2])
	if strings.Contains(string(b), "null") || strings.Contains(string(b), `""`) {
		t.Errorf("table document %s", b)
	}
}
