// Package stepfunctions owns the AWS Step Functions target: for each
// pipeline, a state machine that runs one granule (NAME.asl.json, and
// NAME.json, the input of `aws stepfunctions create-state-machine
// --cli-input-json`), and a backfill state machine that runs the first for
// every granule of a list (NAME.backfill.asl.json and NAME.backfill.json).
//
// # The per-granule machine
//
// Its execution input, which the trigger function (and a backfill list
// item) gives each run, is
//
//	{"granule":     the granule document (files included),
//	 "attributes":  {"id", "collection", "version", "year", "month", "day",
//	                 "doy", "date"}: the granule's string attributes, so the
//	                 definition can read them without parsing anything,
//	 "staged_keys": the S3 keys of the staged files}
//
// Every state keeps its input as its output (ResultPath null), so each
// step sees the same document. A step is a Task state: a container step
// runs its task definition with arn:aws:states:::ecs:runTask.sync on
// Fargate (the deployment's cluster, subnets and security groups, no public
// address), its values as container environment overrides, exactly as the
// Data Pipeline target passes them (see package datapipeline: CUMULUS_GRANULE,
// CUMULUS_STAGED_KEYS, CUMULUS_PIPELINE, CUMULUS_STEP, CUMULUS_WHEN,
// CUMULUS_WITH, CUMULUS_WITH_EXPR, CUMULUS_ENV_EXPR_NAME); a Lambda step
// invokes its function with arn:aws:states:::lambda:invoke and the same
// payload members. Templates over granule attributes become JSONPath or
// States.Format; anything else is HCL source for the step wrapper.
//
// A step's retries become one Retry rule (IntervalSeconds from
// retry_delay, MaxAttempts, BackoffRate from backoff, 1 when not set: ASL's
// own default is 2), its attempt timeout TimeoutSeconds. Failure handling is
// written once: every top-level state catches States.ALL into the error
// branch, which publishes the error to SNS when the pipeline asks to be
// notified, and ends in a Fail state that carries the step's error and
// cause. (A failure inside a Parallel branch fails the Parallel state, whose
// Catch takes it there.)
//
// A step with when is preceded by a Choice state ("Check STEP") that runs it
// when the condition holds and otherwise goes to a Pass state ("Skip STEP"),
// so a skipped step counts as done for the steps after it. Choice rules
// compare granule attributes with strings (==, !=, !, &&, ||); a condition
// beyond them is passed to the step wrapper, which skips the step and
// succeeds when it is false, and a warning says so.
//
// # Order
//
// Sequences are written with Next, fan-out and fan-in with Parallel. A
// pipeline graph that is not series-parallel cannot be written with those
// alone; plan (plan.go) cuts it into a series-parallel one that keeps every
// edge, adding the fewest waits a step did not ask for, and each added wait
// is a warning at the step.
//
// # The backfill machine
//
// A distributed Map state reads a JSON list of execution inputs (the form
// above) from the configuration's private bucket, under
// cumulus/backfill/PIPELINE/lists/ (execution input {"list": "NAME.json"}),
// and starts the per-granule machine for each as a child execution
// (arn:aws:states:::states:startExecution.sync:2), at most the pipeline's
// concurrency at once. A failed granule does not stop the others
// (ToleratedFailurePercentage 100); the results of every child are written
// under cumulus/backfill/PIPELINE/results/. Without a private bucket there is
// no backfill machine.
package stepfunctions

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/cumulus-toolchain/cumulus/compiler/ecs"
	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

// ErrorFatal is the error a platform function reports for a failure no
// retry can fix (runtime/platform.ErrorFatal).
const ErrorFatal = "cumulus.Fatal"

// Names in the execution input.
const (
	InputGranule    = "granule"
	InputAttributes = "attributes"
	InputStagedKeys = "staged_keys"
)

// Fixed state names. Steps are named as they are; these have spaces, which
// no step name has, so they cannot collide.
const (
	NotifyState = "Notify failure"
	FailState   = "Failed"
	CheckPre    = "Check "
	SkipPre     = "Skip "
	ParallelPre = "Parallel "
	MapState    = "Granules"
	RunPre      = "Run "
)

// Integration ARNs.
const (
	ResourceECS          = "arn:aws:states:::ecs:runTask.sync"
	ResourceLambda       = "arn:aws:states:::lambda:invoke"
	ResourceSNS          = "arn:aws:states:::sns:publish"
	ResourceStartSync    = "arn:aws:states:::states:startExecution.sync:2"
	ResourceS3GetObject  = "arn:aws:states:::s3:getObject"
	ResourceS3PutObject  = "arn:aws:states:::s3:putObject"
	maxStateName         = 80
	maxSNSSubject        = 99
	failureError         = "cumulus.StepFailed"
	failureErrorPath     = "$.error.Error"
	failureCausePath     = "$.error.Cause"
	errorResultPath      = "$.error"
	notifyErrResultPath  = "$.notify_error"
	backfillListsFolder  = "lists"
	backfillResultFolder = "results"
)

// BackfillPrefix is the folder of a pipeline's backfill lists and results
// in the private bucket.
func BackfillPrefix(p *graph.Pipeline) string { return "cumulus/backfill/" + p.Name + "/" }

// BackfillListsPrefix is where the backfill machine reads granule lists.
func BackfillListsPrefix(p *graph.Pipeline) string {
	return BackfillPrefix(p) + backfillListsFolder + "/"
}

// BackfillResultsPrefix is where the backfill machine writes its results.
func BackfillResultsPrefix(p *graph.Pipeline) string {
	return BackfillPrefix(p) + backfillResultFolder
}

// Machine is what the target writes for one state machine.
type Machine struct {
	// ASL is the definition as written to NAME.asl.json.
	ASL    []byte
	Create *CreateInput
}

// Result is a pipeline's state machines. Backfill is nil without a private
// bucket.
type Result struct {
	Granule  *Machine
	Backfill *Machine
}

// CreateInput is the CreateStateMachine input.
type CreateInput struct {
	Name                 string  `json:"name"`
	Definition           string  `json:"definition"`
	RoleArn              string  `json:"roleArn"`
	Type                 string  `json:"type"`
	LoggingConfiguration Logging `json:"loggingConfiguration"`
	Tags                 []Tag   `json:"tags"`
}

// Logging sends execution history events to the pipeline's log group.
type Logging struct {
	Level                string        `json:"level"`
	IncludeExecutionData bool          `json:"includeExecutionData"`
	Destinations         []Destination `json:"destinations"`
}

// Destination is one log destination.
type Destination struct {
	CloudWatchLogsLogGroup LogGroup `json:"cloudWatchLogsLogGroup"`
}

// LogGroup names a CloudWatch Logs group by ARN.
type LogGroup struct {
	LogGroupArn string `json:"logGroupArn"`
}

// Tag is a Step Functions resource tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Build returns p's state machines. Its diagnostics are warnings (waits
// the translation adds, conditions the wrapper evaluates), reported only
// when Step Functions is the orchestrator, and errors for what AWS would
// refuse.
func Build(g *graph.Graph, p *graph.Pipeline) (*Result, hcl.Diagnostics) {
	b := &builder{g: g, p: p, parNames: map[*block]string{}}
	def := b.definition()
	out := &Result{}
	var err error
	if out.Granule, err = b.machine(p.ResourceName, p.StateMachineRole, def); err != nil {
		b.internal(err)
		return nil, b.diags
	}
	if p.Backfill != "" {
		if out.Backfill, err = b.machine(p.Backfill, p.BackfillRole, b.backfill()); err != nil {
			b.internal(err)
			return nil, b.diags
		}
	}
	if g.Orchestrator == "stepfunctions" {
		return out, b.diags
	}
	var kept hcl.Diagnostics
	for _, d := range b.diags {
		if d.Severity == hcl.DiagError {
			kept = append(kept, d)
		}
	}
	return out, kept
}

type builder struct {
	g        *graph.Graph
	p        *graph.Pipeline
	diags    hcl.Diagnostics
	parNames map[*block]string
}

func (b *builder) internal(err error) {
	b.diags = append(b.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Internal compiler error", Detail: err.Error() + " Please report this."})
}

func (b *builder) machine(name, role string, def *Definition) (*Machine, error) {
	asl, err := encode(def)
	if err != nil {
		return nil, fmt.Errorf("encoding the definition of %s: %w", name, err)
	}
	tags := ecs.Tags(b.g, "pipeline."+b.p.Name)
	c := &CreateInput{
		Name:       name,
		Definition: string(asl),
		RoleArn:    b.g.RoleARN(role),
		Type:       "STANDARD",
		LoggingConfiguration: Logging{
			Level:                "ERROR",
			IncludeExecutionData: true,
			Destinations:         []Destination{{CloudWatchLogsLogGroup: LogGroup{LogGroupArn: b.g.LogGroupARN(b.p.LogGroup)}}},
		},
	}
	for _, t := range tags {
		c.Tags = append(c.Tags, Tag{Key: t.Key, Value: t.Value})
	}
	return &Machine{ASL: asl, Create: c}, nil
}

// definition is the per-granule machine.
func (b *builder) definition() *Definition {
	p := b.p
	root, waits := plan(p)
	b.reportWaits(waits)
	b.nameParallels(root, new(int))
	def := &Definition{
		Comment: "cumulus pipeline " + p.Name + ": one execution per granule (compiled; do not edit)",
		States:  map[string]*State{},
	}
	def.StartAt = b.emit(root, "", def.States, true)
	b.failureBranch(def.States)
	for name := range def.States {
		if len(name) > maxStateName {
			rng := p.Range
			b.diags = append(b.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Step name too long for Step Functions",
				Detail:  fmt.Sprintf("Pipeline %q needs a state named %q (%d characters), but Step Functions allows %d. Shorten the step's name.", p.Name, name, len(name), maxStateName),
				Subject: &rng})
		}
	}
	return def
}

func (b *builder) reportWaits(waits []added) {
	by := map[string][]string{}
	var order []string
	for _, w := range waits {
		if _, ok := by[w.step]; !ok {
			order = append(order, w.step)
		}
		by[w.step] = append(by[w.step], w.other)
	}
	for _, name := range order {
		s := b.p.Step(name)
		others := by[name]
		sort.Strings(others)
		rng := s.Range
		b.diags = append(b.diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Step Functions adds waiting",
			Detail: fmt.Sprintf("The steps of pipeline %q do not form a series-parallel graph, which Step Functions' Parallel states can write exactly, so step %q will also wait for %s, which it does not depend on. Nothing runs early or twice; it only starts later. Add those steps to its after list to make this explicit, or reshape the pipeline.",
				b.p.Name, name, quoteList(others)),
			Subject: &rng,
		})
	}
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "step." + n
	}
	return strings.Join(q, ", ")
}

// nameParallels numbers Parallel states in the order they start.
func (b *builder) nameParallels(bl *block, n *int) {
	if bl.par != nil {
		*n++
		b.parNames[bl] = fmt.Sprintf("%s%d", ParallelPre, *n)
	}
	for _, c := range bl.seq {
		b.nameParallels(c, n)
	}
	for _, c := range bl.par {
		b.nameParallels(c, n)
	}
}

// emit writes bl into states, each of its last states going to next (""
// ends), and returns its first state. top says whether states may catch
// into the error branch (only the machine's own level can).
func (b *builder) emit(bl *block, next string, states map[string]*State, top bool) string {
	switch {
	case bl.step != nil:
		return b.step(bl.step, next, states, top)
	case bl.seq != nil:
		for i := len(bl.seq) - 1; i >= 0; i-- {
			next = b.emit(bl.seq[i], next, states, top)
		}
		return next
	}
	name := b.parNames[bl]
	st := &State{Type: "Parallel", ResultPath: null}
	var names []string
	for _, br := range bl.par {
		d := &Definition{States: map[string]*State{}}
		d.StartAt = b.emit(br, "", d.States, false)
		st.Branches = append(st.Branches, d)
		names = append(names, d.StartAt)
	}
	st.Comment = "side by side: " + strings.Join(names, ", ")
	link(st, next)
	if top {
		st.Catch = b.catch()
	}
	states[name] = st
	return name
}

func link(st *State, next string) {
	if next == "" {
		st.End = true
	} else {
		st.Next = next
	}
}

func (b *builder) catch() []Catcher {
	return []Catcher{{ErrorEquals: []string{"States.ALL"}, ResultPath: path(errorResultPath), Next: b.failureEntry()}}
}

func (b *builder) failureEntry() string {
	if b.p.Notify != "" {
		return NotifyState
	}
	return FailState
}

// step writes one step: its Task state, and before it the Choice and Pass
// states of its when.
func (b *builder) step(s *graph.Step, next string, states map[string]*State, top bool) string {
	wrapperWhen := false
	entry := s.Name
	if s.When != nil {
		skip := SkipPre + s.Name
		pass := &State{Type: "Pass", Comment: "step " + s.Name + " is skipped: its when is false for this granule; skipped counts as done"}
		link(pass, next)
		switch {
		case s.When.IsStatic() && string(s.When.Static) == "false":
			states[skip] = pass
			return skip
		case s.When.IsStatic():
			// Always true: nothing to decide.
		default:
			r, ok := choiceRule(source(*s.When))
			if !ok {
				wrapperWhen = true
				rng := s.Range
				b.diags = append(b.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Condition evaluated by the step",
					Detail:  fmt.Sprintf("Step Functions' Choice state can compare granule attributes with strings (==, !=, !, &&, ||), but the when of step %q is more than that, so the step starts for every granule and cumulus's step wrapper skips it when the condition is false. Rewrite the condition in those terms to skip it without starting anything.", s.Name),
					Subject: &rng})
				break
			}
			r["Next"] = s.Name
			check := CheckPre + s.Name
			states[check] = &State{Type: "Choice", Comment: "when " + source(*s.When), Choices: []map[string]any{r}, Default: skip}
			states[skip] = pass
			entry = check
		}
	}
	t := &State{Type: "Task", ResultPath: null}
	if s.Task == nil {
		b.internal(fmt.Errorf("step %q of pipeline %q has no task", s.Name, b.p.Name))
		return entry
	}
	what := "task." + s.TaskName
	if s.Uses != "" {
		what = "stdlib." + s.Uses
	}
	if s.Task.RunsOn == "lambda" {
		t.Comment = "step " + s.Name + ": " + what + " on Lambda"
		t.Resource = ResourceLambda
		t.Parameters = map[string]any{
			"FunctionName": b.g.FunctionARN(s.Task.ResourceName),
			"Payload":      b.payload(s, wrapperWhen),
		}
	} else {
		t.Comment = "step " + s.Name + ": " + what + " on ECS Fargate"
		t.Resource = ResourceECS
		vpc := map[string]any{"Subnets": nonNil(b.g.Subnets), "AssignPublicIp": "DISABLED"}
		if len(b.g.SecurityGroups) > 0 {
			vpc["SecurityGroups"] = b.g.SecurityGroups
		}
		t.Parameters = map[string]any{
			"Cluster":              b.g.ClusterARN(),
			"LaunchType":           "FARGATE",
			"TaskDefinition":       b.g.TaskDefinitionARN(s.Task.ResourceName),
			"NetworkConfiguration": map[string]any{"AwsvpcConfiguration": vpc},
			"Overrides": map[string]any{"ContainerOverrides": []any{map[string]any{
				"Name":        ecs.ContainerName,
				"Environment": b.environment(s, wrapperWhen),
			}}},
		}
	}
	if secs := s.Timeout.Seconds(); secs > 0 {
		t.TimeoutSeconds = secs
	}
	if s.Retries > 0 {
		interval := max(s.RetryDelay.Seconds(), 1)
		rate := s.Backoff
		if rate < 1 {
			rate = 1
		}
		t.Retry = []Retrier{
			// What no retry can fix (a refused input, a checksum that does
			// not match) fails at once; see runtime/platform.
			{ErrorEquals: []string{ErrorFatal}, MaxAttempts: 0},
			{ErrorEquals: []string{"States.ALL"}, IntervalSeconds: interval, MaxAttempts: s.Retries, BackoffRate: rate},
		}
	}
	if top {
		t.Catch = b.catch()
	}
	link(t, next)
	states[s.Name] = t
	return entry
}

// failureBranch records the error, publishes it when the pipeline asks,
// and fails the execution.
func (b *builder) failureBranch(states map[string]*State) {
	p := b.p
	states[FailState] = &State{Type: "Fail", Comment: "the failed step's error and cause", ErrorPath: failureErrorPath, CausePath: failureCausePath}
	if p.Notify == "" {
		return
	}
	subject := "cumulus " + p.ResourceName + ": a granule failed"
	if len(subject) > maxSNSSubject {
		subject = "cumulus: a granule failed"
	}
	msg := "Pipeline " + p.Name + " (" + p.ResourceName + ") failed for granule {} of collection {}.\nError: {}\nCause: {}\nExecution: {}"
	states[NotifyState] = &State{
		Type:     "Task",
		Comment:  "on_failure: notify",
		Resource: ResourceSNS,
		Parameters: map[string]any{
			"TopicArn": p.Notify,
			"Subject":  subject,
			"Message.$": "States.Format('" + formatLit(msg) + "', $." + InputAttributes + ".id, $." + InputAttributes + ".collection, " +
				failureErrorPath + ", " + failureCausePath + ", $$.Execution.Id)",
		},
		ResultPath: null,
		Retry:      []Retrier{{ErrorEquals: []string{"States.ALL"}, IntervalSeconds: 5, MaxAttempts: 3, BackoffRate: 2}},
		// A failed notification must not hide the step's error.
		Catch: []Catcher{{ErrorEquals: []string{"States.ALL"}, ResultPath: path(notifyErrResultPath), Next: FailState}},
		Next:  FailState,
	}
}

// formatLit escapes text for a States.Format string literal: quote, braces
// and backslash take a backslash. The {} placeholders of msg are kept.
func formatLit(s string) string {
	var out strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '{' && i+1 < len(s) && s[i+1] == '}' {
			out.WriteString("{}")
			i++
			continue
		}
		if strings.IndexByte(`'{}\`, c) >= 0 {
			out.WriteByte('\\')
		}
		out.WriteByte(c)
	}
	return out.String()
}

// escapeLit escapes literal text with no placeholders.
func escapeLit(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, `{`, `\{`, `}`, `\}`)
	return r.Replace(s)
}

// dynamic is a value's JSONPath or intrinsic expression, for a "NAME.$"
// member; ok is false when it is static or needs the step wrapper.
func dynamic(v graph.Value) (string, bool) {
	if v.IsStatic() || v.Expr != "" || len(v.Parts) == 0 {
		return "", false
	}
	var paths []string
	var format strings.Builder
	for _, pt := range v.Parts {
		if pt.Ref == "" {
			format.WriteString(escapeLit(pt.Lit))
			continue
		}
		p, ok := attrPath(pt.Ref)
		if !ok {
			return "", false
		}
		paths = append(paths, p)
		format.WriteString("{}")
	}
	if len(v.Parts) == 1 && len(paths) == 1 {
		return paths[0], true
	}
	return "States.Format('" + format.String() + "', " + strings.Join(paths, ", ") + ")", true
}

// source is the HCL source of a value the step wrapper evaluates.
func source(v graph.Value) string {
	if v.Expr != "" {
		return v.Expr
	}
	if v.IsStatic() {
		return string(v.Static)
	}
	var b strings.Builder
	b.WriteByte('"')
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "${", "$${", "%{", "%%{")
	for _, p := range v.Parts {
		if p.Ref != "" {
			b.WriteString("${" + p.Ref + "}")
			continue
		}
		b.WriteString(r.Replace(p.Lit))
	}
	b.WriteByte('"')
	return b.String()
}

func env(name string, v any, dyn bool) map[string]any {
	if dyn {
		return map[string]any{"Name": name, "Value.$": v}
	}
	return map[string]any{"Name": name, "Value": v}
}

// environment is a container step's environment overrides.
func (b *builder) environment(s *graph.Step, wrapperWhen bool) []any {
	var out, exprs []any
	for _, e := range s.Env {
		switch d, ok := dynamic(e.Value); {
		case e.Value.IsStatic():
			out = append(out, env(e.Name, e.Value.StaticString(), false))
		case ok:
			out = append(out, env(e.Name, d, true))
		default:
			exprs = append(exprs, env("CUMULUS_ENV_EXPR_"+e.Name, source(e.Value), false))
		}
	}
	out = append(out, exprs...)
	out = append(out,
		env("CUMULUS_GRANULE", "States.JsonToString($."+InputGranule+")", true),
		env("CUMULUS_STAGED_KEYS", "States.JsonToString($."+InputStagedKeys+")", true),
		env("CUMULUS_PIPELINE", b.p.Name, false),
		env("CUMULUS_STEP", s.Name, false),
		env("CUMULUS_RUN", "$$.Execution.Name", true),
		env("CUMULUS_ATTEMPT", "States.Format('{}', States.MathAdd($$.State.RetryCount, 1))", true),
	)
	if wrapperWhen {
		out = append(out, env("CUMULUS_WHEN", source(*s.When), false))
	}
	with, withExpr := map[string]json.RawMessage{}, map[string]string{}
	for _, w := range s.With {
		if w.Value.IsStatic() {
			with[w.Name] = w.Value.Static
		} else {
			withExpr[w.Name] = source(w.Value)
		}
	}
	if s.Uses != "" || len(with) > 0 {
		out = append(out, env("CUMULUS_WITH", compact(with), false))
	}
	if len(withExpr) > 0 {
		out = append(out, env("CUMULUS_WITH_EXPR", compact(withExpr), false))
	}
	return out
}

// payload is a Lambda step's payload.
func (b *builder) payload(s *graph.Step, wrapperWhen bool) map[string]any {
	pl := map[string]any{
		InputGranule + ".$":    "$." + InputGranule,
		InputStagedKeys + ".$": "$." + InputStagedKeys,
		"pipeline":             b.p.Name,
		"step":                 s.Name,
		"run.$":                "$$.Execution.Name",
		"retry.$":              "$$.State.RetryCount",
	}
	envs, exprs := map[string]any{}, map[string]any{}
	for _, e := range s.Env {
		switch d, ok := dynamic(e.Value); {
		case e.Value.IsStatic():
			envs[e.Name] = e.Value.StaticString()
		case ok:
			envs[e.Name+".$"] = d
		default:
			exprs[e.Name] = source(e.Value)
		}
	}
	with, withExpr := map[string]any{}, map[string]any{}
	for _, w := range s.With {
		switch d, ok := dynamic(w.Value); {
		case w.Value.IsStatic():
			with[w.Name] = w.Value.Static
		case ok:
			with[w.Name+".$"] = d
		default:
			withExpr[w.Name] = source(w.Value)
		}
	}
	for k, m := range map[string]map[string]any{"env": envs, "env_expr": exprs, "with": with, "with_expr": withExpr} {
		if len(m) > 0 || (k == "with" && s.Uses != "") {
			pl[k] = m
		}
	}
	if wrapperWhen {
		pl["when"] = source(*s.When)
	}
	return pl
}

func compact[V any](m map[string]V) string {
	b, _ := json.Marshal(m) // strings and raw JSON the checker made
	return string(b)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// backfill is the machine that runs the per-granule one for a list.
func (b *builder) backfill() *Definition {
	p, g := b.p, b.g
	conc := p.Concurrency
	tolerated := 100
	run := RunPre + p.Name
	return &Definition{
		Comment: "cumulus pipeline " + p.Name + ": backfill, runs " + p.ResourceName + " for every granule of a list in s3://" + g.ArtifactBucket + "/" + BackfillListsPrefix(p) + " (compiled; do not edit)",
		StartAt: MapState,
		States: map[string]*State{MapState: {
			Type:    "Map",
			Comment: "one child execution per granule, at most " + fmt.Sprint(conc) + " at once",
			ItemReader: &IO{
				Resource:     ResourceS3GetObject,
				ReaderConfig: map[string]any{"InputType": "JSON"},
				Parameters: map[string]any{
					"Bucket": g.ArtifactBucket,
					"Key.$":  "States.Format('" + escapeLit(BackfillListsPrefix(p)) + "{}', $.list)",
				},
			},
			ItemProcessor: &Definition{
				ProcessorConfig: &ProcessorConfig{Mode: "DISTRIBUTED", ExecutionType: "STANDARD"},
				StartAt:         run,
				States: map[string]*State{run: {
					Type:     "Task",
					Comment:  "the per-granule machine, as a child execution",
					Resource: ResourceStartSync,
					Parameters: map[string]any{
						"StateMachineArn": g.StateMachineARN(p.ResourceName),
						"Input": map[string]any{
							InputGranule + ".$":                            "$." + InputGranule,
							InputAttributes + ".$":                         "$." + InputAttributes,
							InputStagedKeys + ".$":                         "$." + InputStagedKeys,
							"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
						},
					},
					End: true,
				}},
			},
			MaxConcurrency:             &conc,
			ToleratedFailurePercentage: &tolerated,
			ResultWriter: &IO{
				Resource:   ResourceS3PutObject,
				Parameters: map[string]any{"Bucket": g.ArtifactBucket, "Prefix": BackfillResultsPrefix(p)},
			},
			End: true,
		}},
	}
}
