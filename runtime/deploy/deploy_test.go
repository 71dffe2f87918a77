package deploy_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cumulus-toolchain/cumulus/compiler"
	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/lang"
	"github.com/cumulus-toolchain/cumulus/runtime/deploy"
	"github.com/cumulus-toolchain/cumulus/runtime/deploy/awsfake"
)

const account, region = "123456789012", "us-west-2"

// copyHS3 copies the example's configuration files, with edits applied
// (old -> new), and the Data Pipeline orchestrator.
func copyHS3(t *testing.T, dir string, edits ...string) {
	t.Helper()
	edits = append(edits, `orchestrator    = "stepfunctions"`, `orchestrator    = "datapipeline"`)
	copyHS3As(t, dir, edits...)
}

// copyHS3As copies the example as it is, with edits applied.
func copyHS3As(t testing.TB, dir string, edits ...string) {
	t.Helper()
	files, err := filepath.Glob("../../examples/hs3/*.cumulus.hcl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for i := 0; i+1 < len(edits); i += 2 {
			s = strings.ReplaceAll(s, edits[i], edits[i+1])
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func desired(t *testing.T, dir string, zip []byte) *deploy.Desired {
	t.Helper()
	cfg, diags := lang.Load(dir, lang.Options{})
	if diags.HasErrors() {
		t.Fatalf("load: %v", diags)
	}
	if err := deploy.Resolve(cfg, account, region); err != nil {
		t.Fatal(err)
	}
	res, diags := compiler.Compile(cfg)
	if diags.HasErrors() {
		t.Fatalf("compile: %v", diags)
	}
	d, err := deploy.Desire(cfg, res, deploy.DesireOptions{Stage: "dev", PlatformZip: zip})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func newDeployer(t *testing.T, fake *awsfake.Server) *deploy.Deployer {
	cfg := aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", ""),
		BaseEndpoint: aws.String(fake.URL),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 5 * time.Millisecond })
		},
	}
	return deploy.New(deploy.NewClients(cfg), nil, deploy.Backoff{Attempts: 4, Initial: time.Millisecond, Max: 5 * time.Millisecond})
}

func ops(p *deploy.Plan, op deploy.Op) []string {
	var out []string
	for _, a := range p.Actions {
		if a.Op == op {
			out = append(out, a.Kind+" "+a.Name)
		}
	}
	return out
}

func mutating(calls []string) []string {
	var out []string
	for _, c := range calls {
		op := c[strings.Index(c, ":")+1:]
		if !strings.HasPrefix(op, "Get") && !strings.HasPrefix(op, "List") && !strings.HasPrefix(op, "Describe") && !strings.HasPrefix(op, "Head") {
			out = append(out, c)
		}
	}
	return out
}

func TestPlanApplyIdempotentUpdate(t *testing.T) {
	ctx := context.Background()
	fake := awsfake.New(t, account, region)
	d := newDeployer(t, fake)
	dir := t.TempDir()
	copyHS3(t, dir)
	zip, err := deploy.ZipBootstrap([]byte("#!/bin/sh\necho fake bootstrap\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := desired(t, dir, zip)

	// An empty account: everything is created.
	plan, err := d.Plan(ctx, want, deploy.PlanOptions{Activate: []string{"ingest"}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(plan.Actions); n == 0 || plan.Count(deploy.OpCreate) != n {
		var b strings.Builder
		_ = plan.WriteText(&b)
		t.Fatalf("empty account: want only creations, got:\n%s", b.String())
	}
	// Throttling (the SDK retryer) and a role not yet assumable (deploy's
	// own retry) on the way do not fail the apply.
	fake.Throttle("logs:CreateLogGroup", 2)
	fake.Fail("lambda:CreateFunction", 2, awsfake.Error{Status: 400, Code: "InvalidParameterValueException", Message: "The role defined for the function cannot be assumed by Lambda."})
	rep := d.Apply(ctx, plan)
	if rep.Err() != nil {
		var b strings.Builder
		_ = rep.WriteText(&b)
		t.Fatalf("apply: %v\n%s", rep.Err(), b.String())
	}
	if got := fake.PipelineState("hs3-dev-ingest"); got != "SCHEDULED" {
		t.Errorf("pipeline state after -activate ingest: %q, want SCHEDULED", got)
	}
	// The Data Pipeline worker role reaches its instances through an
	// instance profile of its name.
	if got := fake.InstanceProfiles(); !slices.Equal(got, []string{"hs3-dev-ingest-dpres: hs3-dev-ingest-dpres"}) {
		t.Errorf("instance profiles: %q", got)
	}
	// What the platform's code reads at run time is in the private
	// bucket, and only granule manifests start runs.
	gj, ok := fake.Object("hs3-dev-staging", "cumulus/graph.json")
	if g, err := graph.Decode(gj); !ok || err != nil || g.Prefix != "hs3-dev" || g.AccountID != "123456789012" {
		t.Errorf("graph.json: %v, %v", ok, err)
	}
	if cj, ok := fake.Object("hs3-dev-staging", "cumulus/config.json"); !ok || !strings.Contains(string(cj), "pipeline.cumulus.hcl") {
		t.Errorf("config.json: %v %.200s", ok, cj)
	}
	// The distribution's signing key is made once and kept.
	sj, ok := fake.Object("hs3-dev-staging", "cumulus/secrets/distribution.json")
	var sec struct{ Key, Users string }
	if err := json.Unmarshal(sj, &sec); !ok || err != nil || len(sec.Key) != 44 || sec.Users != "" {
		t.Errorf("secrets: %v %v %q", ok, err, sec.Users)
	}
	if got := fake.NotificationFilters("hs3-dev-staging"); len(got) != 3 || !slices.Contains(got, "cumulus-hs3_avaps: prefix=hs3_avaps/ suffix=.cumulus.json") {
		t.Errorf("notifications: %q", got)
	}

	// Again: nothing to do, and planning changes nothing.
	fake.Reset()
	plan, err = d.Plan(ctx, want, deploy.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if plan.HasChanges() || plan.Count(deploy.OpConflict) > 0 {
		var b strings.Builder
		_ = plan.WriteText(&b)
		t.Fatalf("second plan has changes:\n%s", b.String())
	}
	if m := mutating(fake.Calls()); len(m) > 0 {
		t.Errorf("planning called mutating operations: %v", m)
	}
	if rep := d.Apply(ctx, plan); rep.Err() != nil || len(rep.Done) != 0 {
		t.Fatalf("second apply: %v, done %d", rep.Err(), len(rep.Done))
	}
	if m := mutating(fake.Calls()); len(m) > 0 {
		t.Errorf("second apply called mutating operations: %v", m)
	}

	// Local users given at deploy time update the secrets, key kept.
	withUsers := desired(t, dir, zip)
	withUsers.Secrets.Users = "alice:wonderland"
	plan, err = d.Plan(ctx, withUsers, deploy.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ops(plan, deploy.OpUpdate); !slices.Equal(got, []string{"s3-object s3://hs3-dev-staging/cumulus/secrets/distribution.json"}) {
		t.Fatalf("users: updates %v", got)
	}
	var text strings.Builder
	_ = plan.WriteText(&text)
	if strings.Contains(text.String(), "wonderland") {
		t.Error("the plan shows a password")
	}
	if rep := d.Apply(ctx, plan); rep.Err() != nil {
		t.Fatal(rep.Err())
	}
	sj2, _ := fake.Object("hs3-dev-staging", "cumulus/secrets/distribution.json")
	var sec2 struct{ Key, Users string }
	if err := json.Unmarshal(sj2, &sec2); err != nil || sec2.Key != sec.Key || sec2.Users != "alice:wonderland" {
		t.Errorf("secrets after users: %v key kept %v users %q", err, sec2.Key == sec.Key, sec2.Users)
	}

	// Change the configuration: exactly the expected updates.
	copyHS3(t, dir, `"ghrc/hs3-preprocess:1.2"`, `"ghrc/hs3-preprocess:1.3"`, "every      = \"15m\"\n  pipeline   = pipeline.ingest\n}\n\nsource \"hirad\"", "every      = \"30m\"\n  pipeline   = pipeline.ingest\n}\n\nsource \"hirad\"")
	want2 := desired(t, dir, zip)
	plan, err = d.Plan(ctx, want2, deploy.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gotUpdates := ops(plan, deploy.OpUpdate)
	// The graph and the configuration the platform reads change with it.
	objects := []string{"s3-object s3://hs3-dev-staging/cumulus/graph.json", "s3-object s3://hs3-dev-staging/cumulus/config.json"}
	wantUpdates := append(slices.Clone(objects), "ecs-task-definition hs3-dev-preprocess", "events-rule hs3-dev-hamsr-poller")
	if !slices.Equal(gotUpdates, wantUpdates) || plan.Count(deploy.OpCreate)+plan.Count(deploy.OpDelete) != 0 {
		var b strings.Builder
		_ = plan.WriteText(&b)
		t.Fatalf("updates: got %v, want %v\n%s", gotUpdates, wantUpdates, b.String())
	}
	if rep := d.Apply(ctx, plan); rep.Err() != nil {
		t.Fatal(rep.Err())
	}
	plan, err = d.Plan(ctx, want2, deploy.PlanOptions{})
	if err != nil || plan.HasChanges() {
		t.Fatalf("after the update: err %v, changes %v", err, ops(plan, deploy.OpUpdate))
	}

	// A new platform zip updates the code of the platform functions only.
	zip2, _ := deploy.ZipBootstrap([]byte("#!/bin/sh\necho new bootstrap\n"))
	plan, err = d.Plan(ctx, desired(t, dir, zip2), deploy.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range plan.Actions {
		if a.Op == deploy.OpUpdate && (a.Kind != "lambda-function" || !strings.HasPrefix(a.Reasons[0], "code: sha256")) {
			t.Errorf("new zip: unexpected update %s %s %v", a.Kind, a.Name, a.Reasons)
		}
	}
	if plan.Count(deploy.OpUpdate) == 0 {
		t.Error("new zip: no function updated")
	}

	// Prune: a source removed from the configuration is deleted (its
	// task definition, rule and log group), nothing else.
	dir2 := t.TempDir()
	copyHS3(t, dir2)
	b, _ := os.ReadFile(filepath.Join(dir2, "collections.cumulus.hcl"))
	s := string(b)
	i := strings.Index(s, "source \"avaps\"")
	if i < 0 {
		t.Fatal("no source avaps in the example")
	}
	j := i + strings.Index(s[i:], "\n}\n") + 3
	_ = os.WriteFile(filepath.Join(dir2, "collections.cumulus.hcl"), []byte(s[:i]+s[j:]), 0o644)
	plan, err = d.Plan(ctx, desired(t, dir2, zip), deploy.PlanOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("prune deletes %v", ops(plan, deploy.OpDelete))
	dels := ops(plan, deploy.OpDelete)
	for _, want := range []string{"events-rule hs3-dev-avaps-poller", "ecs-task-definition hs3-dev-avaps-poller",
		"iam-role hs3-dev-avaps-exec", "iam-role hs3-dev-avaps-poller", "iam-role hs3-dev-avaps-sched"} {
		if !slices.Contains(dels, want) {
			t.Errorf("prune: deletes %v, not %s", dels, want)
		}
	}
	if len(dels) != 6 {
		t.Errorf("prune deletes %d resources, want 6: %v", len(dels), dels)
	}
	if rep := d.Apply(ctx, plan); rep.Err() != nil {
		t.Fatal(rep.Err())
	}
	for _, r := range fake.Roles() {
		if strings.HasPrefix(r, "hs3-dev-avaps-") {
			t.Errorf("role %s left after prune", r)
		}
	}
	if plan, err = d.Plan(ctx, desired(t, dir2, zip), deploy.PlanOptions{Prune: true}); err != nil || plan.HasChanges() {
		t.Errorf("after prune: %v, changes %v", err, plan != nil && plan.HasChanges())
	}
}

func TestFailureMidwayConverges(t *testing.T) {
	ctx := context.Background()
	fake := awsfake.New(t, account, region)
	d := newDeployer(t, fake)
	dir := t.TempDir()
	copyHS3(t, dir)
	zip, _ := deploy.ZipBootstrap([]byte("bootstrap"))
	want := desired(t, dir, zip)
	plan, err := d.Plan(ctx, want, deploy.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A failure that is not a "not yet": the apply stops there.
	fake.Fail("lambda:CreateFunction", 1, awsfake.Error{Status: 400, Code: "InvalidParameterValueException", Message: "injected failure"})
	fake.Fail("s3:PutBucketTagging", 0, awsfake.Error{})
	rep := d.Apply(ctx, plan)
	var out strings.Builder
	_ = rep.WriteText(&out)
	t.Logf("first apply:\n%s", out.String())
	if rep.Err() == nil || rep.Failed == nil || rep.Failed.Kind != "lambda-function" {
		t.Fatalf("want a failed lambda-function, got %v", rep.Err())
	}
	if len(rep.Done) == 0 || len(rep.NotDone) == 0 || !strings.Contains(out.String(), "FAILED") || !strings.Contains(out.String(), "not done") {
		t.Fatalf("the report must say what was done and what was not:\n%s", out.String())
	}
	// The next run plans from what exists: only what was not done.
	plan, err = d.Plan(ctx, want, deploy.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := plan.Count(deploy.OpCreate)+plan.Count(deploy.OpUpdate), len(rep.NotDone)+1; got != want {
		t.Errorf("second plan: %d changes, want %d (the failed one and those not done)", got, want)
	}
	if rep := d.Apply(ctx, plan); rep.Err() != nil {
		t.Fatal(rep.Err())
	}
	plan, err = d.Plan(ctx, want, deploy.PlanOptions{})
	if err != nil || plan.HasChanges() {
		t.Fatalf("not converged: %v %v", err, plan.HasChanges())
	}
}

func TestZipBootstrapDeterministic(t *testing.T) {
	a, _ := deploy.ZipBootstrap([]byte("x"))
	time.Sleep(1100 * time.Millisecond)
	b, _ := deploy.ZipBootstrap([]byte("x"))
	if string(a) != string(b) {
		t.Fatal("two zips of the same binary differ")
	}
}

// The example as it is (Step Functions): its IAM roles and state machines
// are created, then left alone, then updated exactly where the
// configuration changed.
func TestStepFunctionsAndRoles(t *testing.T) {
	ctx := context.Background()
	fake := awsfake.New(t, account, region)
	d := newDeployer(t, fake)
	dir := t.TempDir()
	copyHS3As(t, dir)
	zip, _ := deploy.ZipBootstrap([]byte("bootstrap"))
	want := desired(t, dir, zip)
	if len(want.Roles) == 0 || len(want.StateMachines) == 0 {
		t.Skipf("the compiler emits no IAM roles or state machines (%d, %d)", len(want.Roles), len(want.StateMachines))
	}
	plan, err := d.Plan(ctx, want, deploy.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A state machine's new role is not assumable at once.
	fake.Fail("states:CreateStateMachine", 1, awsfake.Error{Status: 400, Code: "AccessDeniedException", Message: "Neither the global service principal states.amazonaws.com, nor the regional one is authorized to assume the provided role."})
	if rep := d.Apply(ctx, plan); rep.Err() != nil {
		t.Fatal(rep.Err())
	}
	for _, r := range want.Roles {
		if got := fake.RolePolicies(r.Name); len(got) != len(r.Policies) {
			t.Errorf("role %s: policies %v, want %d", r.Name, got, len(r.Policies))
		}
	}
	plan, err = d.Plan(ctx, want, deploy.PlanOptions{})
	if err != nil || plan.HasChanges() {
		var b strings.Builder
		_ = plan.WriteText(&b)
		t.Fatalf("second plan: %v\n%s", err, b.String())
	}
	// A longer retry delay changes the state machine (and the graph and
	// configuration the platform reads) only.
	copyHS3As(t, dir, `retry_delay = "2m"`, `retry_delay = "5m"`)
	plan, err = d.Plan(ctx, desired(t, dir, zip), deploy.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ops(plan, deploy.OpUpdate); !slices.Equal(got, []string{"s3-object s3://hs3-dev-staging/cumulus/graph.json", "s3-object s3://hs3-dev-staging/cumulus/config.json", "sfn-state-machine hs3-dev-ingest"}) {
		var b strings.Builder
		_ = plan.WriteText(&b)
		t.Fatalf("updates %v\n%s", got, b.String())
	}
}

// A bucket of the wanted name that another configuration owns is a
// conflict: the plan says so, and apply changes nothing at all.
func TestConflictRefused(t *testing.T) {
	ctx := context.Background()
	fake := awsfake.New(t, account, region)
	d := newDeployer(t, fake)
	dir := t.TempDir()
	copyHS3As(t, dir)
	want := desired(t, dir, nil)
	// Someone else's bucket: created and tagged with another owner.
	clients := deploy.NewClients(aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", ""), BaseEndpoint: aws.String(fake.URL)})
	if _, err := clients.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("hs3-dev-public"), CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: region}}); err != nil {
		t.Fatal(err)
	}
	if _, err := clients.S3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("hs3-dev-public"), Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("cumulus:config"), Value: aws.String("other")}}}}); err != nil {
		t.Fatal(err)
	}
	plan, err := d.Plan(ctx, want, deploy.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ops(plan, deploy.OpConflict); !slices.Equal(got, []string{"s3-bucket hs3-dev-public"}) {
		t.Fatalf("conflicts: %v", got)
	}
	fake.Reset()
	rep := d.Apply(ctx, plan)
	if !errors.Is(rep.Err(), deploy.ErrConflict) || len(rep.Done) != 0 {
		t.Fatalf("apply of a plan with a conflict: %v, done %d", rep.Err(), len(rep.Done))
	}
	if m := mutating(fake.Calls()); len(m) != 0 {
		t.Fatalf("apply with a conflict called %v", m)
	}
}

// BenchmarkPlanHS3 measures a plan of the example against an account where
// everything is deployed (every resource read, nothing to do): the cost of
// a no-op deploy, dominated by the round trips.
func BenchmarkPlanHS3(b *testing.B) {
	ctx := context.Background()
	fake := awsfake.New(b, account, region)
	dir := b.TempDir()
	copyHS3As(b, dir)
	zip, _ := deploy.ZipBootstrap([]byte("bootstrap"))
	cfg, diags := lang.Load(dir, lang.Options{})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	if err := deploy.Resolve(cfg, account, region); err != nil {
		b.Fatal(err)
	}
	res, diags := compiler.Compile(cfg)
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	want, err := deploy.Desire(cfg, res, deploy.DesireOptions{Stage: "dev", PlatformZip: zip})
	if err != nil {
		b.Fatal(err)
	}
	d := deploy.New(deploy.NewClients(aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", ""), BaseEndpoint: aws.String(fake.URL)}), nil, deploy.Backoff{Attempts: 1})
	plan, err := d.Plan(ctx, want, deploy.PlanOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if rep := d.Apply(ctx, plan); rep.Err() != nil {
		b.Fatal(rep.Err())
	}
	fake.Reset()
	b.ResetTimer()
	for b.Loop() {
		plan, err := d.Plan(ctx, want, deploy.PlanOptions{})
		if err != nil || plan.HasChanges() {
			b.Fatalf("%v %v", err, plan.HasChanges())
		}
	}
	b.ReportMetric(float64(len(fake.Calls()))/float64(b.N), "requests/op")
}

// Package builds the same zip twice from the same source (a small main
// package standing in for cumulus, which takes minutes to cross-compile
// from a cold cache).
func TestPackageDeterministic(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	mod := t.TempDir()
	if err := os.MkdirAll(filepath.Join(mod, "cmd", "cumulus"), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module example.com/fake\n\ngo 1.22\n"), 0o644)
	_ = os.WriteFile(filepath.Join(mod, "cmd", "cumulus", "main.go"), []byte("package main\n\nfunc main() { println(\"bootstrap\") }\n"), 0o644)
	ctx := context.Background()
	build := func(arch string) []byte {
		z, err := deploy.Package(ctx, deploy.PackageOptions{ModuleDir: mod, Arch: arch})
		if err != nil {
			t.Fatal(err)
		}
		return z
	}
	a, b, c := build("amd64"), build("arm64"), build("")
	if !bytes.Equal(a, c) {
		t.Fatal("two builds of the same source differ")
	}
	if bytes.Equal(a, b) {
		t.Fatal("amd64 and arm64 zips are the same")
	}
	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode()&0o111 == 0 {
		t.Fatalf("zip holds %v, want one executable bootstrap", zr.File)
	}
	if _, err := deploy.Package(ctx, deploy.PackageOptions{ModuleDir: mod, Arch: "386"}); err == nil {
		t.Error("arch 386 accepted")
	}
}
