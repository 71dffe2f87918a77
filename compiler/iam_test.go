package compiler

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/compiler/iam"
)

// The IAM test holds every emitted policy against the pipeline graph, with
// its own statement of what each kind of step may do to S3 (the
// specification, written here independently of compiler/iam):
//
//	staging (STAGING/COLLECTION/*)          archive (each file's bucket/url_path)
//	user task      read, write               read only after a move
//	sync_granule   read, write               -
//	checksum       read                      read only after a move
//	cmr_metadata   read, write               read only after a move
//	publish_cmr    read                      read only after a move
//	move_granule   read, delete              read, write, list
//	delete_staged  delete                    read
var (
	specStaging = map[string][]string{
		"":              {"s3:GetObject", "s3:PutObject"},
		"sync_granule":  {"s3:GetObject", "s3:PutObject"},
		"checksum":      {"s3:GetObject"},
		"cmr_metadata":  {"s3:GetObject", "s3:PutObject"},
		"publish_cmr":   {"s3:GetObject"},
		"move_granule":  {"s3:DeleteObject", "s3:GetObject"},
		"delete_staged": {"s3:DeleteObject"},
	}
	specArchive = map[string][]string{
		"move_granule":  {"s3:GetObject", "s3:ListBucket", "s3:PutObject"},
		"delete_staged": {"s3:GetObject"},
	}
)

// starSids are the statements that may have Resource "*": AWS defines no
// narrower resource for their actions (CloudWatch Logs log delivery,
// ecr:GetAuthorizationToken, EC2 Describe actions, the Data Pipeline Task
// Runner's polling, datapipeline:ListPipelines and CreatePipeline).
var starSids = []string{"LogDelivery", "ECRLogin", "WatchWorker", "TaskRunner", "FindPipelines", "CreateRuns"}

type policyStatement struct {
	Sid       string                    `json:"Sid"`
	Effect    string                    `json:"Effect"`
	Action    []string                  `json:"Action"`
	Resource  []string                  `json:"Resource"`
	Condition map[string]map[string]any `json:"Condition"`
}

// rolePolicies reads every PutRolePolicy artifact: statements by role, and
// whether each policy's manifest entry carries a note.
func rolePolicies(errorf func(string, ...any), res *Result) map[string][]policyStatement {
	out := map[string][]policyStatement{}
	for _, a := range res.Artifacts {
		if a.Kind != KindIAMRolePolicy {
			continue
		}
		var put struct{ RoleName, PolicyName, PolicyDocument string }
		if err := json.Unmarshal(a.Data, &put); err != nil {
			errorf("%s: %v", a.Path, err)
			continue
		}
		var doc struct{ Statement []policyStatement }
		if err := json.Unmarshal([]byte(put.PolicyDocument), &doc); err != nil {
			errorf("%s: the policy document: %v", a.Path, err)
			continue
		}
		for _, st := range doc.Statement {
			for _, act := range st.Action {
				if strings.Contains(act, "*") {
					errorf("%s: statement %s grants %q", a.Path, st.Sid, act)
				}
			}
			if slices.Contains(st.Resource, "*") && len(a.Notes) == 0 {
				errorf("%s: statement %s has Resource \"*\" but the manifest says not why", a.Path, st.Sid)
			}
			if slices.Contains(st.Resource, "*") && !slices.Contains(starSids, st.Sid) {
				errorf("%s: statement %s has Resource \"*\" where AWS allows narrower", a.Path, st.Sid)
			}
		}
		out[put.RoleName] = append(out[put.RoleName], doc.Statement...)
	}
	return out
}

// granted is the set of RESOURCE ACTION pairs a role's statements grant for
// actions with the prefix.
func granted(stmts []policyStatement, prefix string) map[string]bool {
	out := map[string]bool{}
	for _, st := range stmts {
		for _, act := range st.Action {
			if !strings.HasPrefix(act, prefix) {
				continue
			}
			for _, r := range st.Resource {
				out[r+" "+act] = true
			}
		}
	}
	return out
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func neverRuns(s *graph.Step) bool {
	return s.When != nil && s.When.IsStatic() && string(s.When.Static) == "false"
}

// checkIAM holds the policies of one compiled configuration to its graph.
func checkIAM(errorf func(string, ...any), res *Result) {
	g := res.Graph
	roles := rolePolicies(errorf, res)
	checkPlatformIAM(errorf, res, roles)
	// The state machine role starts exactly the pipeline's tasks and
	// functions, and passes exactly their roles.
	for _, p := range g.Pipelines {
		want := map[string]bool{}
		for _, s := range p.Steps {
			if s.Task == nil || neverRuns(s) {
				continue
			}
			if s.Task.RunsOn == "lambda" {
				arn := g.FunctionARN(s.Task.ResourceName)
				want[arn+" lambda:InvokeFunction"], want[arn+":* lambda:InvokeFunction"] = true, true
				continue
			}
			arn := g.TaskDefinitionARN(s.Task.ResourceName)
			want[arn+" ecs:RunTask"], want[arn+":* ecs:RunTask"] = true, true
			want[g.RoleARN(s.Task.TaskRole)+" iam:PassRole"] = true
			want[g.RoleARN(s.Task.ExecutionRole)+" iam:PassRole"] = true
		}
		stmts := roles[p.StateMachineRole]
		got := granted(stmts, "ecs:RunTask")
		for k := range granted(stmts, "lambda:") {
			got[k] = true
		}
		for k := range granted(stmts, "iam:") {
			got[k] = true
		}
		if fmt.Sprint(sortedSet(got)) != fmt.Sprint(sortedSet(want)) {
			errorf("pipeline %s: role %s may start and pass\n %q\nbut the graph needs exactly\n %q", p.Name, p.StateMachineRole, sortedSet(got), sortedSet(want))
		}
		sns := sortedSet(granted(stmts, "sns:"))
		if p.Notify == "" && len(sns) > 0 || p.Notify != "" && fmt.Sprint(sns) != fmt.Sprint([]string{p.Notify + " sns:Publish"}) {
			errorf("pipeline %s: role %s may publish %q (notify %q)", p.Name, p.StateMachineRole, sns, p.Notify)
		}
	}
	checkDataPipelineIAM(errorf, res, roles)
	// Each task role: the S3 actions and prefixes its steps use, no more,
	// no fewer.
	want := map[string]map[string]bool{} // task role -> RESOURCE ACTION
	for _, p := range g.Pipelines {
		cols := pipelineCollections(g, p)
		moved := map[string]bool{}
		for _, s := range p.Steps {
			afterMove := false
			for _, a := range s.After {
				afterMove = afterMove || moved[a]
			}
			moved[s.Name] = afterMove || s.Uses == "move_granule"
			if s.Task == nil || neverRuns(s) {
				continue
			}
			w := want[s.Task.TaskRole]
			if w == nil {
				w = map[string]bool{}
				want[s.Task.TaskRole] = w
			}
			archive := specArchive[s.Uses]
			if afterMove && !slices.Contains(archive, "s3:GetObject") {
				archive = append(slices.Clone(archive), "s3:GetObject")
			}
			if s.Uses == "sync_granule" {
				// It reads the granule from an S3 provider: the provider's
				// bucket, under the source's path.
				for _, src := range g.Sources {
					if src.Pipeline == p.Name && src.S3Bucket != "" {
						w["arn:aws:s3:::"+src.S3Bucket+"/"+src.S3Prefix+"* s3:GetObject"] = true
						w["arn:aws:s3:::"+src.S3Bucket+" s3:ListBucket "+src.S3Prefix+"*"] = true
					}
				}
			}
			for _, c := range cols {
				for _, act := range specStaging[s.Uses] {
					w["arn:aws:s3:::"+g.ArtifactBucket+"/"+c.Name+"/* "+act] = true
				}
				for _, f := range c.Files {
					prefix := urlPrefix(f, c)
					for _, act := range archive {
						if act == "s3:ListBucket" {
							w["arn:aws:s3:::"+f.Bucket+" "+act+" "+prefix+"*"] = true
						} else {
							w["arn:aws:s3:::"+f.Bucket+"/"+prefix+"* "+act] = true
						}
					}
				}
			}
		}
	}
	for _, t := range g.Tasks {
		got := granted(roles[t.TaskRole], "s3:")
		for k := range got {
			if strings.HasSuffix(k, " s3:ListBucket") {
				delete(got, k)
			}
		}
		for _, st := range roles[t.TaskRole] {
			if !slices.Contains(st.Action, "s3:ListBucket") {
				continue
			}
			prefixes, _ := st.Condition["StringLike"]["s3:prefix"].([]any)
			if len(prefixes) == 0 {
				errorf("role %s may list %v without a prefix condition", t.TaskRole, st.Resource)
			}
			for _, r := range st.Resource {
				for _, pfx := range prefixes {
					got[r+" s3:ListBucket "+fmt.Sprint(pfx)] = true
				}
			}
		}
		w := want[t.TaskRole]
		if w == nil {
			w = map[string]bool{}
		}
		for k := range runStateWant(g, t) {
			w[k] = true
		}
		// A task invokes no function but the engine's recorder, and only
		// when compile told it to report there.
		wantInvoke := map[string]bool{}
		if g.Engine != nil && g.Engine.Recorder != nil && (t.Platform || t.RunsOn == "ecs") {
			wantInvoke[g.FunctionARN(g.Engine.Recorder.ResourceName)+" lambda:InvokeFunction"] = true
		}
		if got := granted(roles[t.TaskRole], "lambda:"); fmt.Sprint(sortedSet(got)) != fmt.Sprint(sortedSet(wantInvoke)) {
			errorf("task %s: role %s may %q, want %q", t.Name, t.TaskRole, sortedSet(got), sortedSet(wantInvoke))
		}
		// Only the metadata step looks up the distribution's API, and only
		// when there is a distribution and a private bucket.
		wantAPI := map[string]bool{}
		if t.Name == "stdlib-cmr_metadata" && len(g.Distributions) > 0 && g.ArtifactBucket != "" {
			wantAPI["arn:aws:apigateway:"+g.Region+"::/apis apigateway:GET"] = true
		}
		if got := granted(roles[t.TaskRole], "apigateway:"); fmt.Sprint(sortedSet(got)) != fmt.Sprint(sortedSet(wantAPI)) {
			errorf("task %s: role %s may %q, want %q", t.Name, t.TaskRole, sortedSet(got), sortedSet(wantAPI))
		}
		if fmt.Sprint(sortedSet(got)) != fmt.Sprint(sortedSet(w)) {
			errorf("task %s: role %s grants\n %q\nbut its steps use exactly\n %q", t.Name, t.TaskRole, sortedSet(got), sortedSet(w))
		}
		// Execution and function roles write only their own log group.
		for _, role := range []string{t.ExecutionRole, t.TaskRole} {
			for k := range granted(roles[role], "logs:") {
				if !strings.HasPrefix(k, g.LogGroupARN(t.LogGroup)+" ") {
					errorf("role %s writes logs outside its task's log group: %s", role, k)
				}
			}
		}
	}
}

// checkDataPipelineIAM: each pipeline's Data Pipeline resource role runs
// exactly the tasks and functions of its steps (every step with a task: the
// step wrapper, not Data Pipeline, skips a step whose when is false) and
// passes exactly their roles; its service role passes exactly the resource
// role; the trigger starts runs only on the deployment's orchestrator.
func checkDataPipelineIAM(errorf func(string, ...any), res *Result, roles map[string][]policyStatement) {
	g := res.Graph
	var machines, dpRoles []string
	for _, p := range g.Pipelines {
		machines = append(machines, g.StateMachineARN(p.ResourceName)+" states:StartExecution")
		dpRoles = append(dpRoles, g.RoleARN(p.DataPipelineRole)+" iam:PassRole", g.RoleARN(p.DataPipelineResource)+" iam:PassRole")
		if roles[p.DataPipelineRole] == nil || roles[p.DataPipelineResource] == nil {
			errorf("pipeline %s: no policies for its Data Pipeline roles %s, %s", p.Name, p.DataPipelineRole, p.DataPipelineResource)
			continue
		}
		want := map[string]bool{}
		for _, s := range p.Steps {
			if s.Task == nil {
				continue
			}
			if s.Task.RunsOn == "lambda" {
				want[g.FunctionARN(s.Task.ResourceName)+" lambda:InvokeFunction"] = true
				continue
			}
			arn := g.TaskDefinitionARN(s.Task.ResourceName)
			want[arn+" ecs:RunTask"], want[arn+":* ecs:RunTask"] = true, true
			want[g.RoleARN(s.Task.TaskRole)+" iam:PassRole"] = true
			want[g.RoleARN(s.Task.ExecutionRole)+" iam:PassRole"] = true
		}
		stmts := roles[p.DataPipelineResource]
		got := granted(stmts, "ecs:RunTask")
		for _, pre := range []string{"lambda:", "iam:", "states:", "s3:Delete", "s3:Get"} {
			for k := range granted(stmts, pre) {
				got[k] = true
			}
		}
		if fmt.Sprint(sortedSet(got)) != fmt.Sprint(sortedSet(want)) {
			errorf("pipeline %s: role %s may start and pass\n %q\nbut its steps need exactly\n %q", p.Name, p.DataPipelineResource, sortedSet(got), sortedSet(want))
		}
		if got, want := sortedSet(granted(roles[p.DataPipelineRole], "iam:PassRole")), []string{g.RoleARN(p.DataPipelineResource) + " iam:PassRole"}; fmt.Sprint(got) != fmt.Sprint(want) {
			errorf("pipeline %s: role %s may pass %q, want %q", p.Name, p.DataPipelineRole, got, want)
		}
	}
	for _, f := range g.Functions {
		if f.Name != "trigger" {
			continue
		}
		stmts := roles[f.TaskRole]
		states, dp, pass := granted(stmts, "states:"), granted(stmts, "datapipeline:"), granted(stmts, "iam:PassRole")
		if len(g.Pipelines) == 0 {
			if len(states)+len(dp)+len(pass) > 0 {
				errorf("the trigger may start runs of no pipeline, but may %q %q", sortedSet(states), sortedSet(dp))
			}
			continue
		}
		if g.Orchestrator == "datapipeline" {
			if len(states) > 0 || len(dp) == 0 || !dp["arn:aws:datapipeline:"+g.Region+":"+g.AccountID+":pipeline/* datapipeline:ActivatePipeline"] {
				errorf("orchestrator datapipeline: the trigger may %q and %q", sortedSet(states), sortedSet(dp))
			}
			if fmt.Sprint(sortedSet(pass)) != fmt.Sprint(sortedSet(setOf(dpRoles))) {
				errorf("the trigger may pass %q, want %q", sortedSet(pass), sortedSet(setOf(dpRoles)))
			}
			for _, st := range stmts {
				if slices.Contains(st.Action, "datapipeline:ActivatePipeline") && st.Condition["StringEquals"]["datapipeline:Tag/cumulus:config"] != g.Prefix {
					errorf("the trigger may activate pipelines not tagged cumulus:config=%s: %v", g.Prefix, st.Condition)
				}
			}
			continue
		}
		if len(dp) > 0 || len(pass) > 0 || fmt.Sprint(sortedSet(states)) != fmt.Sprint(sortedSet(setOf(machines))) {
			errorf("orchestrator stepfunctions: the trigger may %q %q %q, want exactly %q", sortedSet(states), sortedSet(dp), sortedSet(pass), sortedSet(setOf(machines)))
		}
	}
}

func setOf(s []string) map[string]bool {
	out := map[string]bool{}
	for _, x := range s {
		out[x] = true
	}
	return out
}

// checkPlatformIAM: each poller stages only its collection's files and is
// started by a role that runs exactly its task definition; each
// distribution function only reads the buckets it serves.
func checkPlatformIAM(errorf func(string, ...any), res *Result, roles map[string][]policyStatement) {
	g := res.Graph
	for _, s := range g.Sources {
		want := map[string]bool{}
		stage := "arn:aws:s3:::" + g.ArtifactBucket + "/" + s.Collection + "/*"
		want[stage+" s3:GetObject"], want[stage+" s3:PutObject"] = true, true
		maps.Copy(want, runStateWant(g, s.Task))
		// It lists only its collection's keys (to find manifests).
		want["arn:aws:s3:::"+g.ArtifactBucket+" s3:ListBucket"] = true
		for _, st := range roles[s.Task.TaskRole] {
			if slices.Contains(st.Action, "s3:ListBucket") {
				if p := fmt.Sprint(st.Condition["StringLike"]["s3:prefix"]); p != "["+s.Collection+"/*]" {
					errorf("source %s: the poller may list %s, want %s/*", s.Name, p, s.Collection)
				}
			}
		}
		if got := granted(roles[s.Task.TaskRole], "s3:"); fmt.Sprint(sortedSet(got)) != fmt.Sprint(sortedSet(want)) {
			errorf("source %s: the poller may %q, want %q", s.Name, sortedSet(got), sortedSet(want))
		}
		def := g.TaskDefinitionARN(s.Task.ResourceName)
		want = map[string]bool{def + " ecs:RunTask": true, def + ":* ecs:RunTask": true,
			g.RoleARN(s.Task.TaskRole) + " iam:PassRole": true, g.RoleARN(s.Task.ExecutionRole) + " iam:PassRole": true}
		got := granted(roles[s.ScheduleRole], "ecs:")
		for k := range granted(roles[s.ScheduleRole], "iam:") {
			got[k] = true
		}
		if fmt.Sprint(sortedSet(got)) != fmt.Sprint(sortedSet(want)) {
			errorf("source %s: the schedule role may %q, want %q", s.Name, sortedSet(got), sortedSet(want))
		}
	}
	for _, d := range g.Distributions {
		want := map[string]bool{}
		for _, b := range d.Buckets {
			want["arn:aws:s3:::"+b.BucketName+"/* s3:GetObject"] = true
		}
		maps.Copy(want, runStateWant(g, d.Function))
		if g.ArtifactBucket != "" {
			// Its signing key and users, which deploy keeps there.
			want["arn:aws:s3:::"+g.ArtifactBucket+"/cumulus/secrets/distribution.json s3:GetObject"] = true
		}
		if got := granted(roles[d.Function.TaskRole], "s3:"); fmt.Sprint(sortedSet(got)) != fmt.Sprint(sortedSet(want)) {
			errorf("distribution %s: its function may %q, want %q", d.Name, sortedSet(got), sortedSet(want))
		}
	}
}

func pipelineCollections(g *graph.Graph, p *graph.Pipeline) []*graph.Collection {
	var out []*graph.Collection
	for _, c := range g.Collections {
		for _, s := range g.Sources {
			if s.Pipeline == p.Name && s.Collection == c.Name {
				out = append(out, c)
				break
			}
		}
	}
	if len(out) == 0 {
		return g.Collections
	}
	return out
}

// urlPrefix is the literal start of the file's url_path: the part of the
// key every granule's file shares.
func urlPrefix(f *graph.CollectionFile, c *graph.Collection) string {
	v := f.URLPath
	if v == nil {
		v = c.URLPath
	}
	switch {
	case v == nil:
		return ""
	case v.IsStatic():
		return v.StaticString() + "/"
	case len(v.Parts) > 0 && v.Parts[0].Ref == "":
		return v.Parts[0].Lit
	}
	return ""
}

// TestIAMFromGraph checks the policies of the example and every compile_*
// script against their graphs.
func TestIAMFromGraph(t *testing.T) {
	for name, res := range compiledCorpus(t) {
		checkIAM(func(f string, a ...any) { t.Errorf(name+": "+f, a...) }, res)
	}
}

// TestIAMCheckBites: a read-only step given write access, a state machine
// that may start one task too many, and an unexplained Resource "*" are
// each refused.
func TestIAMCheckBites(t *testing.T) {
	for _, tc := range []struct{ name, path, from, to string }{
		{"a step that never deletes may delete", "iam/hs3-dev-stdlib-cmr_metadata-fn.s3.json", `\"Action\":[\"s3:PutObject\"]`, `\"Action\":[\"s3:PutObject\",\"s3:DeleteObject\"]`},
		{"a task role reaches another collection", "iam/hs3-dev-preprocess-task.s3.json", `hs3-dev-staging/hs3_avaps/*`, `hs3-dev-staging/*`},
		{"the state machine may run one task too many", "iam/hs3-dev-ingest-sfn.orchestrate.json", `task-definition/hs3-dev-preprocess\"`, `task-definition/hs3-dev-preprocess\",\"arn:aws:ecs:us-west-2:123456789012:task-definition/hs3-dev-avaps-poller\"`},
		{"a poller that may write another collection", "iam/hs3-dev-hamsr-poller.s3.json", `\"Action\":[\"s3:PutObject\"],\"Resource\":[\"arn:aws:s3:::hs3-dev-staging/hs3_hamsr/*\"]`, `\"Action\":[\"s3:PutObject\"],\"Resource\":[\"arn:aws:s3:::hs3-dev-staging/*\"]`},
		{"a wildcard action", "iam/hs3-dev-ingest-sfn.orchestrate.json", `\"sns:Publish\"`, `\"sns:*\"`},
		{"the Data Pipeline worker may run one task too many", "iam/hs3-dev-ingest-dpres.orchestrate.json", `task-definition/hs3-dev-preprocess\"`, `task-definition/hs3-dev-preprocess\",\"arn:aws:ecs:us-west-2:123456789012:task-definition/hs3-dev-avaps-poller\"`},
		{"the Data Pipeline service role may pass a task role", "iam/hs3-dev-ingest-dp.orchestrate.json", `role/hs3-dev-ingest-dpres\"`, `role/hs3-dev-ingest-dpres\",\"arn:aws:iam::123456789012:role/hs3-dev-preprocess-task\"`},
		{"the trigger may start a machine that is not a pipeline's", "iam/hs3-dev-trigger-fn.orchestrate.json", `stateMachine:hs3-dev-ingest\"`, `stateMachine:hs3-dev-ingest\",\"arn:aws:states:us-west-2:123456789012:stateMachine:hs3-dev-ingest-backfill\"`},
		{"an unexplained Resource *", "iam/hs3-dev-ingest-sfn.orchestrate.json", `\"Resource\":[\"arn:aws:sns:us-west-2:123456789012:hs3-alerts\"]`, `\"Resource\":[\"*\"]`},
	} {
		res := compileDir(t, filepath.Join("..", "examples", "hs3"))
		found := false
		for i, a := range res.Artifacts {
			if a.Path != tc.path {
				continue
			}
			found = true
			mutated := strings.Replace(string(a.Data), tc.from, tc.to, 1)
			if mutated == string(a.Data) {
				t.Fatalf("%s: the mutation did not apply", tc.name)
			}
			res.Artifacts[i].Data = []byte(mutated)
		}
		if !found {
			t.Fatalf("%s: no artifact %s", tc.name, tc.path)
		}
		var errs []string
		checkIAM(func(f string, a ...any) { errs = append(errs, fmt.Sprintf(f, a...)) }, res)
		if len(errs) == 0 {
			t.Errorf("%s: the IAM check accepted it", tc.name)
		} else {
			t.Logf("%s: refused: %s", tc.name, strings.SplitN(errs[0], "\n", 2)[0])
		}
	}
}

// TestIAMS3Provider: sync_granule reads (and lists, under the source's
// path) the bucket of a source whose provider's protocol is "s3", and only
// that; the other steps do not.
func TestIAMS3Provider(t *testing.T) {
	dir := t.TempDir()
	cfg := `deployment {
  prefix     = "prov"
  region     = "us-west-2"
  account_id = "123456789012"
}
bucket "staging" { kind = "private" }
bucket "archive" { kind = "protected" }
provider "drop" {
  protocol = "s3"
  host     = "provider-drop"
}
collection "c" {
  version    = "1"
  granule_id = "^(G_[0-9]{8})"
  bucket     = bucket.archive
  file "data" {
    match = "\\.nc$"
  }
  url_path = "${granule.year}/${granule.id}"
}
source "drop" {
  provider   = provider.drop
  path       = "incoming/"
  collection = collection.c
  pipeline   = pipeline.ingest
}
pipeline "ingest" {
  step "sync" {
    uses = stdlib.sync_granule
  }
  step "archive" {
    uses  = stdlib.move_granule
    after = [step.sync]
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.cumulus.hcl"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	res := compileDir(t, dir)
	checkIAM(t.Errorf, res)
	roles := rolePolicies(t.Errorf, res)
	sync := roles["prov-stdlib-sync_granule-task"]
	if !granted(sync, "s3:")["arn:aws:s3:::provider-drop/incoming/* s3:GetObject"] {
		t.Errorf("sync_granule may not read the provider's objects: %q", sortedSet(granted(sync, "s3:")))
	}
	listed := false
	for _, st := range sync {
		if slices.Contains(st.Action, "s3:ListBucket") && slices.Contains(st.Resource, "arn:aws:s3:::provider-drop") {
			listed = fmt.Sprint(st.Condition["StringLike"]["s3:prefix"]) == "[incoming/*]"
		}
	}
	if !listed {
		t.Errorf("sync_granule may not list the provider's bucket under incoming/")
	}
	for role, stmts := range roles {
		if role == "prov-stdlib-sync_granule-task" {
			continue
		}
		for k := range granted(stmts, "s3:") {
			if strings.Contains(k, "provider-drop") {
				t.Errorf("role %s may %s", role, k)
			}
		}
	}
}

// runStateWant is what the platform's code on AWS needs of the private
// bucket besides the steps' own objects: graph.json, for every task told
// where it is, and the step results of each pipeline a step of the task
// may run in (runtime/platform).
func runStateWant(g *graph.Graph, t *graph.Task) map[string]bool {
	out := map[string]bool{}
	told := false
	for _, e := range t.Environment {
		told = told || e.Name == "CUMULUS_GRAPH"
	}
	if !told || g.ArtifactBucket == "" {
		return out
	}
	out["arn:aws:s3:::"+g.ArtifactBucket+"/cumulus/graph.json s3:GetObject"] = true
	for _, p := range g.Pipelines {
		for _, s := range p.Steps {
			if s.Task == t && !iam.NeverRuns(s) {
				runs := "arn:aws:s3:::" + g.ArtifactBucket + "/cumulus/runs/" + p.Name + "/*"
				out[runs+" s3:GetObject"], out[runs+" s3:PutObject"] = true, true
				out["arn:aws:s3:::"+g.ArtifactBucket+" s3:ListBucket cumulus/runs/"+p.Name+"/*"] = true
			}
		}
	}
	return out
}
