package datapipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cumulus-toolchain/cumulus/compiler/awsmodel"
	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/lang"
)

// definitions are the ones the AWS oracles judge: the hs3 example's, and
// the test pipeline of every shape (both kinds of task, fan-out, alarm).
func definitions(t *testing.T) map[string][]byte {
	t.Helper()
	cfg, diags := lang.Load(filepath.Join("..", "..", "examples", "hs3"), lang.Options{})
	if diags.HasErrors() {
		t.Fatalf("load hs3: %v", diags)
	}
	g, diags := graph.Build(cfg)
	if diags.HasErrors() {
		t.Fatalf("graph hs3: %v", diags)
	}
	out := map[string][]byte{}
	for _, p := range g.Pipelines {
		def, diags := Build(g, p)
		noErrors(t, diags)
		out["hs3/"+p.Name] = encode(t, def)
	}
	_, def, diags := build(t, platform, fanOut)
	noErrors(t, diags)
	out["fanout"] = encode(t, def)
	return out
}

// TestAgainstAPIModel translates each definition into the
// PutPipelineDefinition input as the AWS CLI does, then checks it against
// AWS's API model and pushes it through the AWS SDK's own validation.
func TestAgainstAPIModel(t *testing.T) {
	m := awsmodel.TestModel(t, "datapipeline")
	for name, data := range definitions(t) {
		api, err := awsmodel.DefinitionToAPI("df-0123456789ABCDEFGHIJ", data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, v := range awsmodel.Errors(m.ValidateInput("PutPipelineDefinition", api)) {
			t.Errorf("%s: %s", name, v)
		}
		if _, err := awsmodel.SDKRequestBody("PutPipelineDefinition", api); err != nil {
			t.Errorf("%s: the SDK refuses it: %v", name, err)
		}
	}
}

// TestAWSCLI gives each definition file to the AWS CLI, pointed at a port
// where nothing listens: it translates the file and validates the request
// before connecting, so "Could not connect" means it found nothing wrong.
func TestAWSCLI(t *testing.T) {
	dir := t.TempDir()
	for name, data := range definitions(t) {
		file := filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+".json")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		r, err := awsmodel.CheckWithCLI(ctx, "PutPipelineDefinition", file)
		cancel()
		if errors.Is(err, awsmodel.ErrNoCLI) {
			t.Skip("skipping: the AWS CLI (aws) is not installed")
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !r.Accepted {
			t.Errorf("%s: the AWS CLI says:\n%s", name, r.Output)
		}
	}
}
