package compiler

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/cumulus-toolchain/cumulus/compiler/internal/awsmodel"
)

// operations maps each artifact kind to the AWS API operation whose input it
// is, and the service model that defines it.
var operations = map[string]struct{ service, op string }{
	KindECSTaskDefinition: {"ecs", "RegisterTaskDefinition"},
	KindLambdaFunction:    {"lambda", "CreateFunction"},
	KindEventsRule:        {"eventbridge", "PutRule"},
	KindEventsTargets:     {"eventbridge", "PutTargets"},
	KindDataPipeline:      {"datapipeline", "PutPipelineDefinition"},
}

// compiledCorpus compiles the example and every configuration of the
// compile_* testscripts, so every shape of artifact the goldens show is
// checked against AWS's own definition of it.
func compiledCorpus(t *testing.T) map[string]*Result {
	t.Helper()
	out := map[string]*Result{"examples/hs3": compileDir(t, filepath.Join("..", "examples", "hs3"))}
	scripts, _ := filepath.Glob(filepath.Join("..", "testdata", "script", "compile_*.txtar"))
	for _, s := range scripts {
		a, err := txtar.ParseFile(s)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		n := 0
		for _, f := range a.Files {
			if strings.HasPrefix(f.Name, "want") || strings.Contains(f.Name, "/") {
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(f.Name, ".cumulus.hcl") {
				n++
			}
		}
		if n == 0 {
			continue
		}
		cfg, diags := loadDir(dir)
		if diags != nil {
			continue // the error scripts: nothing to validate
		}
		res, cdiags := Compile(cfg)
		if cdiags.HasErrors() {
			t.Fatalf("%s: %v", s, cdiags)
		}
		out[filepath.Base(s)] = res
	}
	return out
}

// TestArtifactsMatchAWSModels checks every emitted document against the
// input shape of its operation in AWS's API models: member names, types,
// required members, enums, lengths, ranges, patterns.
func TestArtifactsMatchAWSModels(t *testing.T) {
	for name, res := range compiledCorpus(t) {
		for _, a := range res.Artifacts {
			op, ok := operations[a.Kind]
			if !ok {
				continue
			}
			m := awsmodel.TestModel(t, op.service)
			doc := a.Data
			if a.Kind == KindDataPipeline {
				api, err := awsmodel.DefinitionToAPI("df-0123456789ABCDEFGHIJ", a.Data)
				if err != nil {
					t.Errorf("%s %s: %v", name, a.Path, err)
					continue
				}
				doc = api
			}
			for _, v := range m.ValidateInput(op.op, doc) {
				t.Errorf("%s %s: %s", name, a.Path, v)
			}
		}
	}
}

// TestArtifactsThroughSDK runs each document through the AWS SDK for Go v2:
// decoded into the operation's input type (nothing dropped) and sent to a
// recording client, so the SDK's own validation and serializer pass.
func TestArtifactsThroughSDK(t *testing.T) {
	res := compileDir(t, filepath.Join("..", "examples", "hs3"))
	for _, a := range res.Artifacts {
		op, ok := operations[a.Kind]
		if !ok || op.service == "eventbridge" {
			continue
		}
		doc := a.Data
		if a.Kind == KindDataPipeline {
			api, err := awsmodel.DefinitionToAPI("df-0123456789ABCDEFGHIJ", a.Data)
			if err != nil {
				t.Fatal(err)
			}
			doc = api
		}
		if _, err := awsmodel.SDKRequestBody(op.op, doc); err != nil {
			t.Errorf("%s: %v", a.Path, err)
		}
	}
}

// TestArtifactsThroughAWSCLI asks the AWS CLI itself, which validates
// parameters against its own models before sending anything.
func TestArtifactsThroughAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("the AWS CLI takes about a second a document; skipped with -short")
	}
	res := compileDir(t, filepath.Join("..", "examples", "hs3"))
	dir := t.TempDir()
	if err := Write(filepath.Join(dir, "out"), res); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range res.Artifacts {
		op, ok := operations[a.Kind]
		if !ok || op.service == "eventbridge" || seen[a.Kind] {
			continue
		}
		seen[a.Kind] = true // one of each kind: the shapes repeat
		r, err := awsmodel.CheckWithCLI(context.Background(), op.op, filepath.Join(dir, "out", filepath.FromSlash(a.Path)))
		if errors.Is(err, awsmodel.ErrNoCLI) {
			t.Skip("the AWS CLI (Debian package awscli) is not installed")
		}
		if err != nil {
			t.Fatalf("%s: %v", a.Path, err)
		}
		if !r.Accepted {
			t.Errorf("%s refused by the AWS CLI:\n%s", a.Path, r.Output)
		}
	}
}
