package lang

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// TestExampleModel checks that the hs3 example decodes to the model the
// compiler and simulator will read: references resolved to the blocks they
// name, defaults applied, run-time expressions kept, ranges recorded.
func TestExampleModel(t *testing.T) {
	cfg, diags := Load(filepath.Join("..", "examples", "hs3"), Options{})
	if len(diags) > 0 {
		t.Fatalf("diagnostics:\n%v", diags)
	}
	if got := cfg.Deployment.Prefix; got != "hs3-dev" {
		t.Errorf("prefix = %q, want hs3-dev (from local.prefix and var.stage)", got)
	}
	if b := cfg.Bucket("protected"); b == nil || b.BucketName != "hs3-dev-protected" || b.Kind != "protected" {
		t.Errorf("bucket protected = %+v", b)
	}
	p := cfg.Pipeline("ingest")
	if p == nil || len(p.Steps) != 4 {
		t.Fatalf("pipeline ingest = %+v", p)
	}
	pre := p.Step("preprocess")
	if pre.Task != cfg.Task("preprocess") || len(pre.After) != 1 || pre.After[0] != p.Step("sync") {
		t.Errorf("preprocess step: task %p after %v", pre.Task, pre.After)
	}
	if pre.Retries != 3 || pre.RetryDelay != 2*time.Minute || pre.Backoff != 2 || pre.Timeout != 30*time.Minute {
		t.Errorf("preprocess retries %d delay %v backoff %v timeout %v", pre.Retries, pre.RetryDelay, pre.Backoff, pre.Timeout)
	}
	if e := pre.Env["GRANULE_ID"]; e == nil || e.Static() || len(e.Runtime) != 1 {
		t.Errorf("env GRANULE_ID should be a run-time expression: %+v", e)
	}
	if e := pre.Env["LEVEL"]; e == nil || !e.Static() || e.Value.AsString() != "2" {
		t.Errorf("env LEVEL should be the static \"2\": %+v", e)
	}
	if pre.When == nil || pre.When.Static() {
		t.Errorf("when should be a run-time expression")
	}
	archive := p.Step("archive")
	if archive.Uses == nil || archive.Uses.Name != "move_granule" {
		t.Fatalf("archive uses %+v", archive.Uses)
	}
	if _, ok := archive.With["duplicates"]; !ok {
		t.Errorf("defaults of the contract should fill With: %v", archive.With)
	}
	src := cfg.Source("hamsr")
	if src.Provider != cfg.Provider("ghrc_ftp") || src.Collection != cfg.Collection("hs3_hamsr") || src.Pipeline != p || src.Every != 15*time.Minute {
		t.Errorf("source hamsr = %+v", src)
	}
	col := cfg.Collection("hs3_hamsr")
	if got := col.GranuleIDOf("HS3_HAMSR_20130825T000000.nc.md5"); got != "HS3_HAMSR_20130825T000000" {
		t.Errorf("granule id = %q", got)
	}
	if f := col.File("md5"); f.ChecksumFor != "data" || f.Required || f.Bucket != cfg.Bucket("staging") {
		t.Errorf("md5 file = %+v", f)
	}
	if !p.OnFailure.Notify || cfg.Deployment.Notify == "" {
		t.Errorf("on_failure should notify the deployment's topic")
	}
	if len(cfg.Distributions) != 1 || cfg.Distributions[0].Buckets[1].LinkTTL != time.Hour {
		t.Errorf("distribution = %+v", cfg.Distributions)
	}
	// Every block keeps where it came from.
	for _, r := range []hcl.Range{pre.DeclRange, pre.Range("retries"), src.NameRange, col.Range("granule_id")} {
		if r.Filename == "" || r.Start.Line == 0 {
			t.Errorf("missing range: %+v", r)
		}
	}
}

// TestLambdaRuntimesInModel checks the runtimes cumulus accepts against the
// Lambda API model, so a typo or a runtime AWS never had is caught here.
func TestLambdaRuntimesInModel(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "shared", "aws-models", "lambda.json"))
	if err != nil {
		t.Skipf("AWS API models not available (../shared/aws-models): %v", err)
	}
	var model struct {
		Shapes map[string]struct {
			Members map[string]struct {
				Traits map[string]any `json:"traits"`
			} `json:"members"`
		} `json:"shapes"`
	}
	if err := json.Unmarshal(b, &model); err != nil {
		t.Fatal(err)
	}
	enum := map[string]bool{}
	for _, m := range model.Shapes["com.amazonaws.lambda#Runtime"].Members {
		if v, ok := m.Traits["smithy.api#enumValue"].(string); ok {
			enum[v] = true
		}
	}
	if len(enum) == 0 {
		t.Fatal("no Runtime enum in the Lambda model")
	}
	for _, r := range lambdaRuntimes {
		if !enum[r] {
			t.Errorf("runtime %q is not in the Lambda API model", r)
		}
	}
	if !sort.StringsAreSorted(lambdaRuntimes) {
		t.Errorf("lambdaRuntimes should stay sorted for stable messages")
	}
}

// TestLoadIsDeterministic: the same input gives the same diagnostics in the
// same order, whatever map iteration does.
func TestLoadIsDeterministic(t *testing.T) {
	srcs := map[string][]byte{
		"a.cumulus.hcl": []byte("bucket \"x\" { kind = \"privat\" }\nlocals {\n  a = local.b\n  b = local.a\n  c = var.nope\n}\n"),
		"b.cumulus.hcl": []byte("pipeline \"p\" {\n  step \"a\" {\n    uses  = stdlib.sync_granule\n    after = [step.b]\n  }\n  step \"b\" {\n    uses  = stdlib.checksum\n    after = [step.a]\n  }\n}\n"),
	}
	_, first := LoadSources(".", srcs, Options{})
	for i := 0; i < 20; i++ {
		_, again := LoadSources(".", srcs, Options{})
		if first.Error() != again.Error() {
			t.Fatalf("run %d differs:\n%v\n---\n%v", i, first, again)
		}
	}
	if len(first) != 4 {
		t.Errorf("want 4 diagnostics, got %d:\n%v", len(first), first)
	}
}
