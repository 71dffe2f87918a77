package graph

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/cumulus-toolchain/cumulus/lang"
	"github.com/cumulus-toolchain/cumulus/stdlib"
)

// Build compiles a checked configuration (one Load returned without errors)
// into its graph. The diagnostics are what only a compiled view can see:
// names that the platform adds to and that AWS would refuse, settings a
// target cannot honour.
func Build(cfg *lang.Config) (*Graph, hcl.Diagnostics) {
	b := &builder{cfg: cfg, tasks: map[string]*Task{}}
	dep := cfg.Deployment
	g := &Graph{
		Prefix:         dep.Prefix,
		Region:         dep.Region,
		AccountID:      dep.AccountID,
		Cluster:        dep.Cluster,
		Orchestrator:   dep.Orchestrator,
		Subnets:        append([]string(nil), dep.Subnets...),
		SecurityGroups: append([]string(nil), dep.SecurityGroups...),
		LogRetention:   dep.LogRetention,
		Tags:           map[string]string{},
	}
	if g.AccountID == "" {
		g.AccountID = PlaceholderAccount
		g.Placeholder = append(g.Placeholder, "account_id")
	}
	if g.Region == "" {
		g.Region = PlaceholderRegion
		g.Placeholder = append(g.Placeholder, "region")
	}
	for k, v := range dep.Tags {
		g.Tags[k] = v
	}
	for _, bk := range cfg.Buckets {
		if bk.Kind == "private" {
			g.ArtifactBucket = bk.BucketName
			break
		}
	}
	b.g = g

	vars, locals := map[string]cty.Value{}, map[string]cty.Value{}
	for _, v := range cfg.Variables {
		vars[v.Name] = v.Value
	}
	for _, l := range cfg.Locals {
		locals[l.Name] = l.Value
	}
	g.Variables, g.Locals = staticValues(vars), staticValues(locals)
	for _, c := range cfg.Collections {
		g.Collections = append(g.Collections, b.collection(c))
	}
	for _, t := range cfg.Tasks {
		b.tasks[t.Name] = b.userTask(t)
	}
	for _, p := range cfg.Pipelines {
		g.Pipelines = append(g.Pipelines, b.pipeline(p))
	}
	for _, s := range cfg.Sources {
		g.Sources = append(g.Sources, b.source(s))
	}
	g.Functions = append(g.Functions, b.triggerFunction())
	g.Distributions = b.distributions()
	for _, name := range sortedKeys(b.tasks) {
		g.Tasks = append(g.Tasks, b.tasks[name])
	}
	g.Engine = b.engine()
	b.graphEnv()
	b.checkNames()
	return g, b.diags
}

type builder struct {
	cfg   *lang.Config
	g     *Graph
	tasks map[string]*Task
	diags hcl.Diagnostics
}

func (b *builder) roles(t *Task, kind string) {
	if t.RunsOn == "lambda" {
		t.TaskRole = b.cfg.RoleName(kind, lang.RoleFunction)
		return
	}
	t.TaskRole = b.cfg.RoleName(kind, lang.RoleTask)
	t.ExecutionRole = b.cfg.RoleName(kind, lang.RoleExecution)
}

func (b *builder) logGroup(kind, name string) string {
	return "/cumulus/" + b.g.Prefix + "/" + kind + "/" + name
}

func (b *builder) userTask(t *lang.Task) *Task {
	out := &Task{
		Name:               t.Name,
		RunsOn:             t.RunsOn,
		ResourceName:       b.cfg.ResourceName(t.Name),
		Image:              t.Image,
		Command:            append([]string(nil), t.Command...),
		Entrypoint:         append([]string(nil), t.Entrypoint...),
		LocalCommand:       append([]string(nil), t.LocalCommand...),
		TransientExitCodes: append([]int(nil), t.TransientExitCodes...),
		Build:              t.Build,
		CPU:                t.CPU,
		Memory:             t.Memory,
		Timeout:            Duration(t.Timeout),
		Runtime:            t.Runtime,
		Handler:            t.Handler,
		CodeFile:           t.Code,
		LogGroup:           b.logGroup("tasks", t.Name),
		Range:              t.DeclRange,
	}
	for _, k := range sortedKeys(t.Environment) {
		out.Environment = append(out.Environment, Binding{Name: k, Value: staticString(t.Environment[k])})
	}
	b.roles(out, t.Name)
	return out
}

// platformTask is the task that runs a standard step: cumulus's own image on
// ECS, or its own function on Lambda, one per standard step used.
func (b *builder) platformTask(s *stdlib.Step) *Task {
	name := "stdlib-" + s.Name
	if t, ok := b.tasks[name]; ok {
		return t
	}
	t := &Task{
		Name:         name,
		RunsOn:       s.RunsOn,
		Platform:     true,
		ResourceName: b.cfg.ResourceName(name),
		Memory:       s.Memory,
		Timeout:      Duration(s.Timeout),
		LogGroup:     b.logGroup("tasks", name),
	}
	if s.RunsOn == "ecs" {
		t.Image = PlatformImage
		t.Command = []string{"step", s.Name}
		t.CPU = lang.FargateCPUFor(s.Memory)
	} else {
		t.Runtime, t.Handler = "provided.al2023", "bootstrap"
	}
	t.Environment = []Binding{{Name: "CUMULUS_STEP", Value: staticString(s.Name)}}
	b.roles(t, name)
	b.tasks[name] = t
	return t
}

func (b *builder) pipeline(p *lang.Pipeline) *Pipeline {
	out := &Pipeline{
		Name:                 p.Name,
		ResourceName:         b.cfg.ResourceName(p.Name),
		Concurrency:          p.Concurrency,
		LogGroup:             b.logGroup("pipelines", p.Name),
		StateMachineRole:     b.cfg.RoleName(p.Name, lang.RoleStateMachine),
		DataPipelineRole:     b.cfg.RoleName(p.Name, lang.RoleDataPipeline),
		DataPipelineResource: b.cfg.RoleName(p.Name, lang.RoleDataPipelineResource),
		Range:                p.DeclRange,
	}
	if b.g.ArtifactBucket != "" {
		// The backfill reads granule lists from the private bucket.
		out.Backfill = b.cfg.BackfillName(p.Name)
		out.BackfillRole = b.cfg.RoleName(p.Name, lang.RoleBackfill)
	}
	if p.OnFailure.Notify {
		out.Notify = p.OnFailure.Topic
		if out.Notify == "" {
			out.Notify = b.cfg.Deployment.Notify
		}
	}
	for _, s := range topoOrder(p) {
		out.Steps = append(out.Steps, b.step(s))
	}
	return out
}

func (b *builder) step(s *lang.Step) *Step {
	out := &Step{
		Name:       s.Name,
		Retries:    s.Retries,
		RetryDelay: Duration(s.RetryDelay),
		Backoff:    s.Backoff,
		Timeout:    Duration(s.Timeout),
		Range:      s.DeclRange,
	}
	for _, a := range s.After {
		out.After = append(out.After, a.Name)
	}
	switch {
	case s.Uses != nil:
		out.Uses = s.Uses.Name
		out.Task = b.platformTask(s.Uses)
	case s.Task != nil:
		out.Task = b.tasks[s.Task.Name]
	}
	if out.Task != nil {
		out.TaskName = out.Task.Name
	}
	files := b.cfg.Files
	for _, k := range sortedKeys(s.Env) {
		out.Env = append(out.Env, Binding{Name: k, Value: valueOf(s.Env[k], b.cfg.EvalContext, files, true)})
	}
	for _, k := range sortedKeys(s.With) {
		out.With = append(out.With, Binding{Name: k, Value: valueOf(s.With[k], b.cfg.EvalContext, files, false)})
	}
	if s.When != nil {
		v := valueOf(s.When, b.cfg.EvalContext, files, false)
		out.When = &v
	}
	return out
}

func (b *builder) source(s *lang.Source) *Source {
	name := s.Name + "-poller"
	t := &Task{
		Name:         name,
		RunsOn:       "ecs",
		Platform:     true,
		ResourceName: b.cfg.ResourceName(name),
		Image:        PlatformImage,
		Command:      []string{"poll", "-source", s.Name},
		CPU:          256,
		Memory:       512,
		Timeout:      Duration(s.Every),
		LogGroup:     b.logGroup("sources", s.Name),
		Range:        s.DeclRange,
	}
	t.TaskRole = b.cfg.RoleName(s.Name, lang.RolePoller)
	t.ExecutionRole = b.cfg.RoleName(s.Name, lang.RoleExecution)
	out := &Source{Name: s.Name, Task: t, Every: Duration(s.Every), ScheduleRole: b.cfg.RoleName(s.Name, lang.RoleScheduler), Range: s.DeclRange}
	if s.Pipeline != nil {
		out.Pipeline = s.Pipeline.Name
	}
	if s.Collection != nil {
		out.Collection = s.Collection.Name
	}
	if s.Provider != nil && s.Provider.Protocol == "s3" {
		out.S3Bucket, out.S3Prefix = s.Provider.Host, s.Path
	}
	return out
}

// triggerFunction is the S3-event handler that starts a pipeline run for
// each granule staged.
func (b *builder) triggerFunction() *Task {
	t := &Task{
		Name:         "trigger",
		RunsOn:       "lambda",
		Platform:     true,
		ResourceName: b.cfg.ResourceName("trigger"),
		Memory:       512,
		Timeout:      Duration(time.Minute), // it only starts runs
		Runtime:      "provided.al2023",
		Handler:      "bootstrap",
		LogGroup:     b.logGroup("functions", "trigger"),
		Environment:  []Binding{{Name: "CUMULUS_FUNCTION", Value: staticString("trigger")}},
	}
	b.roles(t, "trigger")
	return t
}

// checkNames checks the names the platform made (which the checker could
// not see) against AWS's limits.
func (b *builder) checkNames() {
	check := func(what, name string, limit int) {
		if len(name) > limit {
			rng := b.cfg.Deployment.Range("prefix")
			b.diags = append(b.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Name too long for AWS",
				Detail:   fmt.Sprintf("cumulus names its %s %q (%d characters), but AWS allows %d. Shorten deployment.prefix by %d characters.", what, name, len(name), limit, len(name)-limit),
				Subject:  &rng,
			})
		}
	}
	all := append(append(append([]*Task(nil), b.g.Tasks...), b.g.Functions...), b.g.EngineFunctions()...)
	for _, s := range b.g.Sources {
		all = append(all, s.Task)
	}
	if e := b.g.Engine; e != nil {
		check("EventBridge rule", e.Rule, 64)
	}
	for _, p := range b.g.Pipelines {
		check("Step Functions state machine", p.Backfill, 80)
		for _, r := range []string{p.StateMachineRole, p.BackfillRole} {
			if r != "" {
				check("IAM role", r, 64)
			}
		}
	}
	for _, t := range all {
		if t.RunsOn == "lambda" {
			check("Lambda function", t.ResourceName, 64)
		} else {
			check("ECS task definition family", t.ResourceName, 255)
		}
		for _, r := range []string{t.TaskRole, t.ExecutionRole} {
			if r != "" {
				check("IAM role", r, 64)
			}
		}
	}
}

// topoOrder orders a pipeline's steps so each comes after everything in its
// after list, keeping declaration order among steps ready at the same time
// (Kahn's algorithm); the checker has refused cycles.
func topoOrder(p *lang.Pipeline) []*lang.Step {
	index := map[*lang.Step]int{}
	for i, s := range p.Steps {
		index[s] = i
	}
	waiting := map[*lang.Step]int{}
	next := map[*lang.Step][]*lang.Step{}
	for _, s := range p.Steps {
		waiting[s] = len(s.After)
		for _, a := range s.After {
			next[a] = append(next[a], s)
		}
	}
	var ready, out []*lang.Step
	for _, s := range p.Steps {
		if waiting[s] == 0 {
			ready = append(ready, s)
		}
	}
	for len(ready) > 0 {
		sort.Slice(ready, func(i, j int) bool { return index[ready[i]] < index[ready[j]] })
		s := ready[0]
		ready = ready[1:]
		out = append(out, s)
		for _, n := range next[s] {
			if waiting[n]--; waiting[n] == 0 {
				ready = append(ready, n)
			}
		}
	}
	return out
}

func staticString(s string) Value {
	b, _ := json.Marshal(s) // a string always marshals
	return Value{Static: b}
}
