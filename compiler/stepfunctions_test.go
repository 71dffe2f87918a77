package compiler

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/cumulus-toolchain/cumulus/compiler/awsmodel"
	"github.com/cumulus-toolchain/cumulus/lang"
	"github.com/cumulus-toolchain/cumulus/lang/langtest"
)

// aslValidator returns the path of the asl-validator command (npm package
// asl-validator, version 4), or skips the test. .ci/run installs it with
// `npm install -g asl-validator@4`.
func aslValidator(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("asl-validator")
	if err != nil {
		t.Skip("asl-validator is not on PATH: install it with `npm install -g asl-validator@4` to run this oracle")
	}
	return bin
}

// runASLValidator runs `asl-validator --json-path FILE` once for all the
// files (node takes seconds to start) and returns the files it accepted,
// by the line it prints for each valid one, and its whole output.
func runASLValidator(t *testing.T, bin string, files []string) (map[string]bool, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var args []string
	for _, f := range files {
		args = append(args, "--json-path", f)
	}
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running asl-validator: %v\n%s", err, out)
	}
	valid := map[string]bool{}
	for _, f := range files {
		if strings.Contains(string(out), `definition "`+f+`" is valid`) {
			valid[f] = true
		}
	}
	if err == nil && len(valid) != len(files) {
		t.Fatalf("asl-validator succeeded but did not say each file is valid:\n%s", out)
	}
	return valid, string(out)
}

// TestASLValidator gives every emitted state machine definition (the
// example's and every compile_* script's) to asl-validator, an independent
// checker of the Amazon States Language.
func TestASLValidator(t *testing.T) {
	bin := aslValidator(t)
	dir := t.TempDir()
	where := map[string]string{}
	var files []string
	for name, res := range compiledCorpus(t) {
		for _, a := range res.Artifacts {
			if a.Kind != KindStateMachine {
				continue
			}
			file := filepath.Join(dir, strings.NewReplacer("/", "_", ".txtar", "").Replace(name+"_"+a.Path))
			if err := os.WriteFile(file, a.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, file)
			where[file] = name + " " + a.Path
		}
	}
	if len(files) == 0 {
		t.Fatal("no state machine definitions were emitted")
	}
	valid, out := runASLValidator(t, bin, files)
	for _, f := range files {
		if !valid[f] {
			t.Errorf("%s: asl-validator refuses it", where[f])
		}
	}
	if t.Failed() {
		t.Logf("asl-validator says:\n%s", out)
	}
}

// TestASLValidatorBites: the same checker refuses definitions broken the
// way a compiler bug would break them.
func TestASLValidatorBites(t *testing.T) {
	bin := aslValidator(t)
	res := compileDir(t, filepath.Join("..", "examples", "hs3"))
	asl := string(artifact(t, res, "stepfunctions/ingest.asl.json"))
	dir := t.TempDir()
	names := map[string]string{}
	var files []string
	for _, tc := range []struct{ name, from, to string }{
		{"dangling Next", `"Next": "metadata"`, `"Next": "metadat"`},
		{"unknown state type", `"Type": "Choice"`, `"Type": "Choise"`},
		{"missing StartAt", `"StartAt": "sync",`, ``},
		{"bad JSONPath", `"Variable": "$.attributes.collection"`, `"Variable": "attributes.collection"`},
	} {
		doc := strings.Replace(asl, tc.from, tc.to, 1)
		if doc == asl {
			t.Fatalf("%s: the mutation did not apply: the artifact changed shape", tc.name)
		}
		file := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".json")
		if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, file)
		names[file] = tc.name
	}
	valid, out := runASLValidator(t, bin, files)
	for _, f := range files {
		if valid[f] {
			t.Errorf("%s: asl-validator accepted the mutated definition:\n%s", names[f], out)
		}
	}
}

func artifact(t *testing.T, res *Result, path string) []byte {
	t.Helper()
	for _, a := range res.Artifacts {
		if a.Path == path {
			return a.Data
		}
	}
	t.Fatalf("no artifact %s", path)
	return nil
}

// TestStateMachineDefinitionMatchesFile: CreateStateMachine carries the
// .asl.json file byte for byte, so what is reviewed is what is deployed.
func TestStateMachineDefinitionMatchesFile(t *testing.T) {
	res := compileDir(t, filepath.Join("..", "examples", "hs3"))
	for _, name := range []string{"ingest", "ingest.backfill"} {
		var in struct {
			Definition string `json:"definition"`
		}
		if err := json.Unmarshal(artifact(t, res, "stepfunctions/"+name+".json"), &in); err != nil {
			t.Fatal(err)
		}
		if in.Definition != string(artifact(t, res, "stepfunctions/"+name+".asl.json")) {
			t.Errorf("%s: the definition in CreateStateMachine differs from the .asl.json file", name)
		}
	}
}

// TestStepFunctionsAndIAMChecksBite mutates the CreateStateMachine,
// CreateRole and PutRolePolicy documents and makes sure the model check
// refuses each one, and the SDK's own validation the ones it can see.
func TestStepFunctionsAndIAMChecksBite(t *testing.T) {
	res := compileDir(t, filepath.Join("..", "examples", "hs3"))
	sm := string(artifact(t, res, "stepfunctions/ingest.json"))
	role := string(artifact(t, res, "iam/hs3-dev-ingest-sfn.json"))
	pol := string(artifact(t, res, "iam/hs3-dev-ingest-sfn.orchestrate.json"))
	for _, tc := range []struct {
		service, op, doc, mutated, want string
		sdk                             bool // the SDK's validation sees it too (required members)
	}{
		{"sfn", "CreateStateMachine", sm, strings.Replace(sm, `"type": "STANDARD"`, `"type": "STANDRD"`, 1), "STANDRD", false},
		{"sfn", "CreateStateMachine", sm, strings.Replace(sm, `"roleArn": "arn:aws:iam::123456789012:role/hs3-dev-ingest-sfn",`, ``, 1), "roleArn", true},
		{"sfn", "CreateStateMachine", sm, strings.Replace(sm, `"level": "ERROR"`, `"level": "ERRORS"`, 1), "ERRORS", false},
		{"sfn", "CreateStateMachine", sm, strings.Replace(sm, `"includeExecutionData": true`, `"includeExecutionData": "yes"`, 1), "includeExecutionData", false},
		{"iam", "CreateRole", role, strings.Replace(role, `"RoleName": "hs3-dev-ingest-sfn"`, `"RoleName": "hs3 dev ingest"`, 1), "RoleName", false},
		{"iam", "CreateRole", role, strings.Replace(role, `"Path": "/"`, `"Path": "no-slashes"`, 1), "Path", false},
		{"iam", "CreateRole", role, regexpReplace(role, `"AssumeRolePolicyDocument": "[^\n]*",`, ``), "AssumeRolePolicyDocument", true},
		{"iam", "PutRolePolicy", pol, strings.Replace(pol, `"PolicyName": "orchestrate"`, `"PolicyName": "orchestrate everything"`, 1), "PolicyName", false},
		{"iam", "PutRolePolicy", pol, regexpReplace(pol, `,\n  "PolicyDocument": "[^\n]*"`, ``), "PolicyDocument", true},
	} {
		if tc.mutated == tc.doc {
			t.Fatalf("mutation for %q did not apply: the artifact changed shape", tc.want)
		}
		if vs := awsmodel.Errors(awsmodel.TestModel(t, tc.service).ValidateInput(tc.op, []byte(tc.doc))); len(vs) > 0 {
			t.Fatalf("the unmutated %s is refused: %v", tc.op, vs)
		}
		vs := awsmodel.TestModel(t, tc.service).ValidateInput(tc.op, []byte(tc.mutated))
		found := false
		for _, v := range vs {
			if strings.Contains(v.String(), tc.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s mutation %q was not refused by the model; violations: %v", tc.op, tc.want, vs)
		}
		if tc.sdk {
			_, err := awsmodel.SDKRequestBody(tc.op, []byte(tc.mutated))
			var inv smithy.InvalidParamsError
			if !errors.As(err, &inv) {
				t.Errorf("%s mutation %q: the SDK's validation did not refuse it (err = %v)", tc.op, tc.want, err)
			}
		}
	}
}

// BenchmarkCompileTargets compiles the generated configuration of 1,000
// pipelines and reports each orchestration target's share: the graph is
// built once, then each target's documents for every pipeline.
func BenchmarkCompileTargets(b *testing.B) {
	cfg, diags := lang.LoadSources("bench", langtest.GenerateConfig(1000), lang.Options{})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	res, diags := Compile(cfg)
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	g := res.Graph
	b.Run("datapipeline", func(b *testing.B) {
		for b.Loop() {
			c := &compilation{cfg: cfg, g: g}
			for _, p := range g.Pipelines {
				c.dataPipeline(p)
			}
			if c.diags.HasErrors() {
				b.Fatal(c.diags)
			}
		}
	})
	b.Run("stepfunctions", func(b *testing.B) {
		for b.Loop() {
			c := &compilation{cfg: cfg, g: g}
			for _, p := range g.Pipelines {
				c.stepFunctions(p)
			}
			if c.diags.HasErrors() {
				b.Fatal(c.diags)
			}
		}
	})
	b.Run("iam", func(b *testing.B) {
		for b.Loop() {
			c := &compilation{cfg: cfg, g: g}
			c.roles()
			if c.diags.HasErrors() {
				b.Fatal(c.diags)
			}
		}
	})
}

func regexpReplace(s, pattern, with string) string {
	return regexp.MustCompile(pattern).ReplaceAllString(s, with)
}
