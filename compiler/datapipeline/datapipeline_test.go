package datapipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/lang"
	"github.com/cumulus-toolchain/cumulus/lang/langtest"
	"github.com/cumulus-toolchain/cumulus/stdlib"
)

// platform is the part of a test configuration that is not the pipeline:
// a deployment with two subnets, buckets (a private one for logs), an ECS
// task and a Lambda task.
const platform = `
deployment {
  prefix          = "tt"
  region          = "us-west-2"
  subnets         = ["subnet-0aaaaaa1", "subnet-0aaaaaa2"]
  security_groups = ["sg-0bbbbbb1"]
  notify          = "arn:aws:sns:us-west-2:123456789012:alerts"
}
bucket "internal" { kind = "private" }
bucket "archive"  { kind = "protected" }
task "prep" {
  runs_on = "ecs"
  image   = "daac/prep:1"
  cpu     = 256
  memory  = 512
  timeout = "45m"
}
task "fn" {
  runs_on = "lambda"
  image   = "123456789012.dkr.ecr.us-west-2.amazonaws.com/fn:1"
  timeout = "5m"
}
`

// fanOut is a pipeline of both kinds of task: two steps after sync, one
// after both; retries, templates and an expression in env.
const fanOut = `
pipeline "p" {
  step "sync" {
    uses = stdlib.sync_granule
  }
  step "a" {
    task        = task.prep
    after       = [step.sync]
    retries     = 2
    retry_delay = "3m"
    timeout     = "20m"
    env = {
      ID     = granule.id
      PREFIX = "x/${granule.year}/${granule.id}'s"
      COUNT  = length(granule.files)
      LEVEL  = "2"
      NOTE   = "#{not.an.expression} \\ \"q\"\nline 2"
    }
    when = granule.collection != "skip"
  }
  step "b" {
    task  = task.fn
    after = [step.sync]
    env   = { DAY = granule.doy }
  }
  step "c" {
    uses  = stdlib.move_granule
    after = [step.a, step.b]
    with  = { duplicates = "replace" }
  }
  on_failure {
    notify = true
  }
}
`

// build loads a configuration from sources and builds the definition of its
// pipeline "p".
func build(t *testing.T, srcs ...string) (*graph.Graph, *Definition, hcl.Diagnostics) {
	t.Helper()
	files := map[string][]byte{}
	for i, s := range srcs {
		files[fmt.Sprintf("f%d.cumulus.hcl", i)] = []byte(s)
	}
	cfg, diags := lang.LoadSources(".", files, lang.Options{})
	if diags.HasErrors() {
		t.Fatalf("load: %v", diags)
	}
	g, diags := graph.Build(cfg)
	if diags.HasErrors() {
		t.Fatalf("graph: %v", diags)
	}
	p := g.Pipeline("p")
	if p == nil {
		t.Fatal("no pipeline p")
	}
	// These tests are about Data Pipeline as the orchestrator, the case in
	// which its diagnostics are reported.
	g.Orchestrator = "datapipeline"
	def, diags := Build(g, p)
	if def == nil {
		t.Fatalf("no definition: %v", diags)
	}
	return g, def, diags
}

// encode writes the definition as the compiler does (compiler.Marshal).
func encode(t *testing.T, def *Definition) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(def); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// file is a definition file decoded as the AWS CLI reads it.
type file struct {
	Objects    []map[string]any  `json:"objects"`
	Parameters []map[string]any  `json:"parameters"`
	Values     map[string]string `json:"values"`
}

func decode(t *testing.T, def *Definition) (file, []byte) {
	t.Helper()
	data := encode(t, def)
	var f file
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("definition is not JSON: %v\n%s", err, data)
	}
	var keys map[string]json.RawMessage
	_ = json.Unmarshal(data, &keys)
	if _, ok := keys["values"]; ok {
		t.Error(`the definition has "values"; an on-demand run gets its values when activated`)
	}
	return f, data
}

func (f file) object(t *testing.T, id string) map[string]any {
	t.Helper()
	for _, o := range f.Objects {
		if o["id"] == id {
			return o
		}
	}
	t.Fatalf("no object %s", id)
	return nil
}

// refs returns the ids a ref field (one ref or a list) names, sorted.
func refs(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		out = append(out, x["ref"].(string))
	case []any:
		for _, e := range x {
			out = append(out, e.(map[string]any)["ref"].(string))
		}
	}
	sort.Strings(out)
	return out
}

func strs(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}

func noErrors(t *testing.T, diags hcl.Diagnostics) {
	t.Helper()
	if diags.HasErrors() {
		t.Fatalf("errors: %v", diags)
	}
}

func findDiag(diags hcl.Diagnostics, summary string) *hcl.Diagnostic {
	for _, d := range diags {
		if d.Summary == summary {
			return d
		}
	}
	return nil
}

func TestStructure(t *testing.T) {
	g, def, diags := build(t, platform, fanOut)
	noErrors(t, diags)
	f, data := decode(t, def)

	var ids []string
	for _, o := range f.Objects {
		ids = append(ids, o["id"].(string))
	}
	want := []string{"Default", "Worker", "FailureAlarm", "Step_sync", "Step_a", "Step_b", "Step_c"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("objects = %v, want %v", ids, want)
	}

	d := f.object(t, "Default")
	for k, v := range map[string]string{
		"scheduleType":        "ondemand",
		"failureAndRerunMode": "CASCADE",
		"role":                "tt-p-dp",
		"resourceRole":        "tt-p-dpres",
		"pipelineLogUri":      "s3://" + g.ArtifactBucket + "/cumulus/logs/datapipeline/p/",
	} {
		if d[k] != v {
			t.Errorf("Default.%s = %v, want %q", k, d[k], v)
		}
	}
	if _, ok := d["maxActiveInstances"]; ok {
		t.Error("Default has maxActiveInstances; the trigger caps granules in flight")
	}

	w := f.object(t, "Worker")
	if w["type"] != "Ec2Resource" || w["instanceType"] != WorkerInstanceType || w["subnetId"] != "subnet-0aaaaaa1" ||
		w["actionOnTaskFailure"] != "terminate" || !reflect.DeepEqual(strs(w["securityGroupIds"]), []string{"sg-0bbbbbb1"}) {
		t.Errorf("Worker = %v", w)
	}
	// sync 1h; a 3 attempts of 20m and 2 delays of 3m; b 5m; c 15m; 10m
	// to boot: 2h36m, so 3 hours.
	if w["terminateAfter"] != "3 Hours" {
		t.Errorf("Worker.terminateAfter = %v, want 3 Hours", w["terminateAfter"])
	}

	deps := map[string][]string{"Step_sync": nil, "Step_a": {"Step_sync"}, "Step_b": {"Step_sync"}, "Step_c": {"Step_a", "Step_b"}}
	for id, want := range deps {
		o := f.object(t, id)
		if got := refs(o["dependsOn"]); !reflect.DeepEqual(got, want) {
			t.Errorf("%s.dependsOn = %v, want %v", id, got, want)
		}
		if _, list := o["dependsOn"].([]any); want != nil && !list {
			t.Errorf("%s.dependsOn is not a list", id)
		}
		if o["type"] != "ShellCommandActivity" || !reflect.DeepEqual(refs(o["runsOn"]), []string{"Worker"}) {
			t.Errorf("%s: type %v, runsOn %v", id, o["type"], o["runsOn"])
		}
		if !reflect.DeepEqual(refs(o["onFail"]), []string{"FailureAlarm"}) {
			t.Errorf("%s.onFail = %v", id, o["onFail"])
		}
	}
	if f.object(t, "Step_a")["name"] != "a" {
		t.Error("an activity's name is its step's")
	}

	var params []string
	for _, p := range f.Parameters {
		params = append(params, p["id"].(string))
		if p["type"] != "String" || p["description"] == "" || !strings.HasPrefix(p["id"].(string), "my") {
			t.Errorf("parameter %v", p)
		}
	}
	wantParams := []string{"myGranuleId", "myGranuleCollection", "myGranuleVersion", "myGranuleYear", "myGranuleMonth", "myGranuleDay", "myGranuleDoy", "myGranuleDate", "myGranule", "myStagedKeys"}
	if !reflect.DeepEqual(params, wantParams) {
		t.Errorf("parameters = %v, want %v", params, wantParams)
	}

	// Field order: id, name, type, then keys in order.
	a := bytes.Index(data, []byte(`"id": "Step_a"`))
	seg := string(data[a:])
	seg = seg[:strings.Index(seg, "\n    }")]
	order := []string{`"id"`, `"name"`, `"type"`, `"attemptTimeout"`, `"command"`, `"dependsOn"`, `"maximumRetries"`, `"onFail"`, `"retryDelay"`, `"runsOn"`, `"scriptArgument"`}
	last := -1
	for _, k := range order {
		i := strings.Index(seg, "\n      "+k+":")
		if k == `"id"` {
			i = 0
		}
		if i < 0 || i < last {
			t.Errorf("field %s out of order in\n%s", k, seg)
		}
		last = i
	}
}

func TestRetriesAndTimeouts(t *testing.T) {
	_, def, diags := build(t, platform, fanOut)
	noErrors(t, diags)
	f, _ := decode(t, def)
	a := f.object(t, "Step_a")
	if a["maximumRetries"] != "2" || a["retryDelay"] != "3 Minutes" || a["attemptTimeout"] != "20 Minutes" {
		t.Errorf("Step_a: maximumRetries %v, retryDelay %v, attemptTimeout %v", a["maximumRetries"], a["retryDelay"], a["attemptTimeout"])
	}
	s := f.object(t, "Step_sync")
	if s["maximumRetries"] != "0" || s["attemptTimeout"] != "1 Hours" {
		t.Errorf("Step_sync: maximumRetries %v, attemptTimeout %v", s["maximumRetries"], s["attemptTimeout"])
	}
	if _, ok := s["retryDelay"]; ok {
		t.Error("a step without retries has a retryDelay")
	}
	// b takes its task's timeout.
	if b := f.object(t, "Step_b"); b["attemptTimeout"] != "5 Minutes" {
		t.Errorf("Step_b.attemptTimeout = %v", b["attemptTimeout"])
	}
}

func TestECSCommand(t *testing.T) {
	_, def, diags := build(t, platform, fanOut)
	noErrors(t, diags)
	f, _ := decode(t, def)
	a := f.object(t, "Step_a")
	cmd := a["command"].(string)
	for _, want := range []string{
		"set -eu\n",
		"export AWS_DEFAULT_REGION='us-west-2'\n",
		"aws ecs run-task --cluster 'tt' --launch-type FARGATE --task-definition 'tt-prep' ",
		`--network-configuration '{"awsvpcConfiguration":{"assignPublicIp":"DISABLED","securityGroups":["sg-0bbbbbb1"],"subnets":["subnet-0aaaaaa1","subnet-0aaaaaa2"]}}'`,
		`--overrides "$overrides"`,
		`"containerOverrides":[{"name":"main","environment":[`,
		"aws ecs describe-tasks --cluster 'tt' --tasks \"$task\" --query 'tasks[0].lastStatus' --output text",
		"sleep 15\n",
		`e 'ID' "$(j "$granule_id")"`,
		`e 'PREFIX' 'x/'"$(j "$granule_year")"'/'"$(j "$granule_id")"''"'"'s'`,
		`e 'LEVEL' '2'`,
		`e 'CUMULUS_ENV_EXPR_COUNT' 'length(granule.files)'`,
		`e CUMULUS_GRANULE "$(j "$granule")"`,
		`e CUMULUS_STEP 'a'`,
		`e CUMULUS_PIPELINE 'p'`,
		`e CUMULUS_WHEN 'granule.collection != \"skip\"'`,
		"# The step wrapper evaluates CUMULUS_WHEN",
	} {
		if !strings.Contains(cmd, want) {
			t.Errorf("command lacks %s:\n%s", want, cmd)
		}
	}
	if strings.Contains(cmd, "aws ecs wait") {
		t.Error("aws ecs wait gives up after 10 minutes")
	}
	if strings.Contains(cmd, "#{") {
		t.Errorf("command holds a Data Pipeline expression:\n%s", cmd)
	}
	args := strs(a["scriptArgument"])
	want := []string{"#{myGranule}", "#{myStagedKeys}", "#{@pipelineId}", "#{myGranuleId}", "#{myGranuleYear}"}
	if !reflect.DeepEqual(args, want) {
		t.Errorf("scriptArgument = %v, want %v", args, want)
	}
	for i, v := range []string{"granule", "staged_keys", "run", "granule_id", "granule_year"} {
		if !strings.Contains(cmd, fmt.Sprintf("\n%s=$%d\n", v, i+1)) {
			t.Errorf("command does not take $%d as %s", i+1, v)
		}
	}

	// A standard step on ECS gets its inputs as CUMULUS_WITH.
	sync := f.object(t, "Step_sync")["command"].(string)
	for _, want := range []string{"--task-definition 'tt-stdlib-sync_granule'", "w 'checksum' 'true'\n", `e CUMULUS_WITH "$(j "{$with}")"`} {
		if !strings.Contains(sync, want) {
			t.Errorf("sync's command lacks %s:\n%s", want, sync)
		}
	}
	if strings.Contains(sync, "CUMULUS_WHEN") {
		t.Error("a step without when sends CUMULUS_WHEN")
	}
}

func TestLambdaCommand(t *testing.T) {
	_, def, diags := build(t, platform, fanOut)
	noErrors(t, diags)
	f, _ := decode(t, def)
	b := f.object(t, "Step_b")
	cmd := b["command"].(string)
	for _, want := range []string{
		"aws lambda invoke --function-name 'tt-fn' --cli-read-timeout 360 --payload \"fileb://$payload\" --query FunctionError --output text \"$out\"",
		`if [ "$error" != None ]; then`,
		`e 'DAY' "$(j "$granule_doy")"`,
		`'{"granule":'"$granule"',"staged_keys":'"$staged_keys"',"pipeline":"p","step":"b","run":"'"$run"'","env":{'"$env"'}}'`,
	} {
		if !strings.Contains(cmd, want) {
			t.Errorf("command lacks %s:\n%s", want, cmd)
		}
	}
	if strings.Contains(cmd, "--cli-binary-format") {
		t.Error("--cli-binary-format does not exist in AWS CLI version 1, the worker's")
	}
	if !reflect.DeepEqual(strs(b["scriptArgument"]), []string{"#{myGranule}", "#{myStagedKeys}", "#{@pipelineId}", "#{myGranuleDoy}"}) {
		t.Errorf("scriptArgument = %v", b["scriptArgument"])
	}
	c := f.object(t, "Step_c")["command"].(string)
	for _, want := range []string{"--function-name 'tt-stdlib-move_granule'", `w 'duplicates' '"replace"'`, `"with":{'"$with"'}`} {
		if !strings.Contains(c, want) {
			t.Errorf("c's command lacks %s:\n%s", want, c)
		}
	}
}

func TestNotifyOff(t *testing.T) {
	_, def, diags := build(t, platform, strings.Replace(fanOut, "notify = true", "notify = false", 1))
	noErrors(t, diags)
	f, data := decode(t, def)
	if bytes.Contains(data, []byte("FailureAlarm")) || bytes.Contains(data, []byte("onFail")) {
		t.Errorf("a pipeline without notification has an alarm:\n%s", data)
	}
	if len(f.Objects) != 6 {
		t.Errorf("%d objects, want 6", len(f.Objects))
	}
}

func TestAlarm(t *testing.T) {
	_, def, diags := build(t, platform, fanOut)
	noErrors(t, diags)
	f, _ := decode(t, def)
	a := f.object(t, "FailureAlarm")
	if a["type"] != "SnsAlarm" || a["topicArn"] != "arn:aws:sns:us-west-2:123456789012:alerts" || a["role"] != "tt-p-dp" {
		t.Errorf("alarm = %v", a)
	}
	for _, want := range []string{"#{node.name}", "#{node.@pipelineId}", "#{myGranuleId}"} {
		if !strings.Contains(a["message"].(string), want) {
			t.Errorf("message lacks %s: %q", want, a["message"])
		}
	}
	if s := a["subject"].(string); !strings.Contains(s, "#{node.name}") || len(s) >= 100 {
		t.Errorf("subject = %q", s)
	}
	if !reflect.DeepEqual(refs(f.object(t, "Worker")["onFail"]), []string{"FailureAlarm"}) {
		t.Error("a worker that fails to start must notify too")
	}
}

func TestBackoffWarning(t *testing.T) {
	_, _, diags := build(t, platform, strings.Replace(fanOut, `retry_delay = "3m"`, "retry_delay = \"3m\"\n    backoff = 2", 1))
	noErrors(t, diags)
	d := findDiag(diags, "Backoff applies on Step Functions only")
	if d == nil || d.Severity != hcl.DiagWarning {
		t.Fatalf("no backoff warning in %v", diags)
	}
	if d.Subject == nil || d.Subject.Start.Line == 0 || !strings.Contains(d.Detail, `"a"`) || !strings.Contains(d.Detail, "3 Minutes") {
		t.Errorf("backoff warning: %s (subject %v)", d.Detail, d.Subject)
	}
	_, _, diags = build(t, platform, fanOut)
	if findDiag(diags, "Backoff applies on Step Functions only") != nil {
		t.Error("backoff warning without backoff")
	}
}

func TestNoPrivateBucket(t *testing.T) {
	_, def, diags := build(t, strings.Replace(platform, `bucket "internal" { kind = "private" }`, "", 1), fanOut)
	noErrors(t, diags)
	d := findDiag(diags, "Data Pipeline logs go nowhere")
	if d == nil || d.Severity != hcl.DiagWarning || d.Subject == nil || !strings.Contains(d.Detail, `kind = "private"`) {
		t.Fatalf("no log warning in %v", diags)
	}
	f, _ := decode(t, def)
	if _, ok := f.object(t, "Default")["pipelineLogUri"]; ok {
		t.Error("pipelineLogUri without a bucket")
	}
}

func TestRounding(t *testing.T) {
	pipeline := `
pipeline "p" {
  step "quick" {
    task        = task.prep
    retries     = 9
    retry_delay = "30s"
    timeout     = "90s"
  }
  step "day" {
    task    = task.prep
    after   = [step.quick]
    timeout = "48h"
  }
}
`
	_, def, diags := build(t, platform, pipeline)
	// More retries than Data Pipeline allows is an error when it is the
	// orchestrator; the other two are adjustments, warned about.
	if d := findDiag(diags, "Too many retries for Data Pipeline"); d == nil || d.Severity != hcl.DiagError {
		t.Errorf("too many retries should be an error: %v", d)
	}
	for _, s := range []string{"Too many retries for Data Pipeline", "Retry delay raised for Data Pipeline", "Timeout rounded up for Data Pipeline"} {
		if d := findDiag(diags, s); d == nil || d.Subject == nil {
			t.Errorf("no %q in %v", s, diags)
		}
	}
	f, _ := decode(t, def)
	q := f.object(t, "Step_quick")
	if q["maximumRetries"] != "5" || q["retryDelay"] != "2 Minutes" || q["attemptTimeout"] != "2 Minutes" {
		t.Errorf("quick: %v %v %v", q["maximumRetries"], q["retryDelay"], q["attemptTimeout"])
	}
	if d := f.object(t, "Step_day"); d["attemptTimeout"] != "2 Days" {
		t.Errorf("day: %v", d["attemptTimeout"])
	}
}

func TestPeriod(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
	}{
		{"1s", "1 Minutes"}, {"59s", "1 Minutes"}, {"1m", "1 Minutes"}, {"61s", "2 Minutes"}, {"2m", "2 Minutes"},
		{"30m", "30 Minutes"}, {"60m", "1 Hours"}, {"90m", "90 Minutes"}, {"2h", "2 Hours"}, {"24h", "1 Days"},
		{"25h", "25 Hours"}, {"336h", "14 Days"},
	} {
		d, err := stdlib.ParseDuration(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := period(roundMinutes(d)); got != c.want {
			t.Errorf("period(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("pipeline \"p\" {\n")
	for i := range 100 {
		fmt.Fprintf(&b, "  step \"s%d\" {\n    task = task.prep\n  }\n", i)
	}
	b.WriteString("}\n")
	_, _, diags := build(t, platform, b.String())
	if d := findDiag(diags, "Too many objects for Data Pipeline"); d == nil || !strings.Contains(d.Detail, "102 objects") {
		t.Errorf("no object limit in %v", diags)
	}

	big := strings.Repeat("x", MaxObjectBytes)
	_, _, diags = build(t, platform, `
pipeline "p" {
  step "big" {
    task = task.prep
    env  = { BIG = "`+big+`" }
  }
}
`)
	d := findDiag(diags, "Field too long for Data Pipeline")
	if d == nil || d.Subject == nil || !strings.Contains(d.Detail, `command field of step "big"`) {
		t.Errorf("no field limit in %v", diags)
	}
	if findDiag(diags, "Object too large for Data Pipeline") == nil {
		t.Errorf("no object size limit in %v", diags)
	}

	// Values are JSON-escaped on their way into a command, so no control
	// character reaches one from a configuration; the check guards the rest.
	b2 := &builder{p: &graph.Pipeline{Name: "p"}}
	b2.checkObject(&Object{ID: "X", Name: "X", Type: "T", Fields: map[string]any{"k": "a\x01b", "l": []string{"ok", "\xff"}}})
	if n := len(b2.diags); n != 2 || b2.diags[0].Summary != "Character Data Pipeline refuses" {
		t.Errorf("character check: %v", b2.diags)
	}
	_, _, diags = build(t, platform, fanOut)
	for _, d := range diags {
		if strings.Contains(d.Summary, "for Data Pipeline") {
			t.Errorf("unexpected %s: %s", d.Summary, d.Detail)
		}
	}
}

func TestDeterministic(t *testing.T) {
	_, def, _ := build(t, platform, fanOut)
	first := encode(t, def)
	for range 5 {
		_, def, _ := build(t, platform, fanOut)
		if again := encode(t, def); !bytes.Equal(again, first) {
			t.Fatalf("two builds differ:\n%s\n---\n%s", first, again)
		}
	}
}

// TestGranuleParams holds GranuleParams to the string attributes of
// stdlib.GranuleType: a new attribute needs a parameter.
func TestGranuleParams(t *testing.T) {
	var want, got []string
	for name, ty := range stdlib.GranuleType().AttributeTypes() {
		if ty == cty.String {
			want = append(want, name)
		}
	}
	for _, gp := range GranuleParams {
		got = append(got, gp.Attr)
		if gp.ID != "myGranule"+strings.ToUpper(gp.Attr[:1])+gp.Attr[1:] {
			t.Errorf("parameter of %s is %s", gp.Attr, gp.ID)
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GranuleParams cover %v, the granule's string attributes are %v", got, want)
	}
}

func TestShq(t *testing.T) {
	for in, want := range map[string]string{
		"":         "''",
		"a b":      "'a b'",
		"it's":     `'it'"'"'s'`,
		"#{x}":     `'#''{x}'`,
		"a#b{c}":   `'a#b{c}'`,
		"'#{'":     `''"'"'#''{'"'"''`,
		`"\$x`:     `'"\$x'`,
		"line\nxx": "'line\nxx'",
	} {
		if got := shq(in); got != want {
			t.Errorf("shq(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestNotExpressible: a template over a value that has no parameter (the
// checker allows none in a step today) goes to the wrapper as HCL source.
func TestNotExpressible(t *testing.T) {
	v := graph.Value{Parts: []graph.Part{{Lit: `n-"${x}"-`}, {Ref: "file.name"}}}
	if _, ok := content(v); ok {
		t.Error("file.name has no parameter, yet the template is expressible")
	}
	if got, want := source(v), `"n-\"$${x}\"-${file.name}"`; got != want {
		t.Errorf("source = %s, want %s", got, want)
	}
	s := &graph.Step{Name: "s", Env: []graph.Binding{{Name: "F", Value: v}}, Task: &graph.Task{RunsOn: "ecs", ResourceName: "f"}}
	in := inputsOf(&graph.Pipeline{Name: "p"}, s)
	if len(in.env) != 0 || len(in.envExpr) != 1 || in.envExpr[0].val.literal() != jsonContent(source(v)) {
		t.Errorf("inputs = %+v", in)
	}
	if usesRef(s, "file.name") {
		t.Error("an argument for a reference without a parameter")
	}
}

func BenchmarkBuild(b *testing.B) {
	cfg, diags := lang.LoadSources("bench", langtest.GenerateConfig(20), lang.Options{})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	g, diags := graph.Build(cfg)
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	b.ResetTimer()
	for b.Loop() {
		for _, p := range g.Pipelines {
			if def, _ := Build(g, p); def == nil {
				b.Fatal("no definition")
			}
		}
	}
}

// TestQuietUnderStepFunctions: deployed with Step Functions, the Data
// Pipeline definition is still written, but what Data Pipeline would adjust
// is not reported.
func TestQuietUnderStepFunctions(t *testing.T) {
	g, _, diags := build(t, platform, strings.Replace(fanOut, `retry_delay = "3m"`, "retry_delay = \"3m\"\n    backoff = 2", 1))
	if findDiag(diags, "Backoff applies on Step Functions only") == nil {
		t.Fatal("precondition: the backoff warning under Data Pipeline")
	}
	g.Orchestrator = "stepfunctions"
	def, quiet := Build(g, g.Pipeline("p"))
	if def == nil || len(quiet) != 0 {
		t.Errorf("under Step Functions: definition %v, diagnostics %v", def != nil, quiet)
	}
}
