package compiler

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/cumulus-toolchain/cumulus/compiler/awsmodel"
)

// operations maps each artifact kind to the AWS API operation whose input it
// is, and the service model that defines it.
var operations = map[string]struct{ service, op string }{
	KindECSTaskDefinition:  {"ecs", "RegisterTaskDefinition"},
	KindLambdaFunction:     {"lambda", "CreateFunction"},
	KindEventsRule:         {"eventbridge", "PutRule"},
	KindEventsTargets:      {"eventbridge", "PutTargets"},
	KindDataPipeline:       {"datapipeline", "PutPipelineDefinition"},
	KindCachePolicy:        {"cloudfront", "CreateCachePolicy"},
	KindStateMachineCreate: {"sfn", "CreateStateMachine"},
	KindIAMRole:            {"iam", "CreateRole"},
	KindIAMRolePolicy:      {"iam", "PutRolePolicy"},
}

// noSDKOrCLI are the services the SDK and CLI oracles below are not wired
// for (compiler/distribution asks the CLI about cache policies itself).
var noSDKOrCLI = map[string]bool{"eventbridge": true, "cloudfront": true}

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
		if !ok || noSDKOrCLI[op.service] {
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
		if !ok || noSDKOrCLI[op.service] || seen[a.Kind] {
			continue
		}
		seen[a.Kind] = true // one of each kind: the shapes repeat
		r, err := awsmodel.CheckWithCLI(context.Background(), op.op, filepath.Join(dir, "out", filepath.FromSlash(a.Path)))
		cliAccepts(t, a.Path, r, err)
	}
}

// cliAccepts fails the test when the AWS CLI refused a document (and
// skips it when there is no CLI).
func cliAccepts(t *testing.T, path string, r awsmodel.CLIResult, err error) {
	t.Helper()
	if errors.Is(err, awsmodel.ErrNoCLI) {
		t.Skip("the AWS CLI (Debian package awscli) is not installed")
	}
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if !r.Accepted {
		t.Errorf("%s refused by the AWS CLI:\n%s", path, r.Output)
	}
}

// TestModelCheckBites mutates compiled artifacts the way a compiler bug
// would and makes sure the model check refuses each one: a test that passes
// on every document proves nothing unless it can fail.
func TestModelCheckBites(t *testing.T) {
	res := compileDir(t, filepath.Join("..", "examples", "hs3"))
	find := func(path string) []byte {
		for _, a := range res.Artifacts {
			if a.Path == path {
				return a.Data
			}
		}
		t.Fatalf("no artifact %s", path)
		return nil
	}
	ecsDoc, lambdaDoc := string(find("ecs/preprocess.json")), string(find("lambda/stdlib-move_granule.json"))
	for _, tc := range []struct {
		service, op, doc, want string
	}{
		{"ecs", "RegisterTaskDefinition", strings.Replace(ecsDoc, `"containerDefinitions"`, `"containerDefinition"`, 1), "containerDefinition"},
		{"ecs", "RegisterTaskDefinition", strings.Replace(ecsDoc, `"FARGATE"`, `"FARGAT"`, 1), "FARGAT"},
		{"ecs", "RegisterTaskDefinition", strings.Replace(ecsDoc, `"essential": true`, `"essential": "yes"`, 1), "essential"},
		{"lambda", "CreateFunction", strings.Replace(lambdaDoc, `"MemorySize": 1024`, `"MemorySize": 20000`, 1), "MemorySize"},
		{"lambda", "CreateFunction", strings.Replace(lambdaDoc, `"Role": "arn:aws:iam::123456789012:role/hs3-dev-stdlib-move_granule-fn",`, ``, 1), "Role"},
		{"lambda", "CreateFunction", strings.Replace(lambdaDoc, `"FunctionName": "hs3-dev-stdlib-move_granule"`, `"FunctionName": "hs3 dev"`, 1), "FunctionName"},
	} {
		if tc.doc == ecsDoc || tc.doc == lambdaDoc {
			t.Fatalf("mutation for %q did not apply: the artifact changed shape", tc.want)
		}
		vs := awsmodel.TestModel(t, tc.service).ValidateInput(tc.op, []byte(tc.doc))
		found := false
		for _, v := range vs {
			if strings.Contains(v.String(), tc.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("mutation %q was not refused; violations: %v", tc.want, vs)
		}
	}
}
