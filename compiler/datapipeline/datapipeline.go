// Package datapipeline owns the AWS Data Pipeline target: one pipeline
// definition file per pipeline (objects and parameters), as
// `aws datapipeline put-pipeline-definition --pipeline-definition` takes it.
//
// The definition runs one granule: it is on demand (scheduleType ondemand),
// and everything that varies per granule reaches it as a parameter
// (myGranule, myGranuleId, ...) that the trigger function passes when it
// activates a run. Because activating an on-demand pipeline that is already
// running cancels the run in progress (ActivatePipeline's documentation),
// one pipeline cannot hold two granules at once: the definition is a
// template, and the trigger runs each granule in a pipeline of its own made
// from it, at most Pipeline.Concurrency of them at a time. That is why the
// definition carries no maxActiveInstances: within one run every object has
// one instance, and the cap on granules in flight is the trigger's.
//
// The objects are:
//
//   - Default: on demand, CASCADE failure and rerun, the pipeline's roles,
//     and the log folder in the configuration's private bucket;
//   - Worker: the Ec2Resource every activity runs on. Activities only start
//     an ECS task or invoke a Lambda function and wait, so the smallest
//     instance does; terminateAfter bounds it by the longest run the steps'
//     timeouts and retries allow;
//   - FailureAlarm: an SnsAlarm, when the pipeline asks to be notified of
//     failures, that every activity and the worker name as onFail;
//   - Step_NAME: one ShellCommandActivity per step, dependsOn every step in
//     its after list, with the step's retries, retry delay and attempt
//     timeout. Its command is a POSIX sh script (see command.go) that runs
//     the step's ECS task and polls it to the end, or invokes its Lambda
//     function synchronously, and fails when the work failed.
//
// What the activities give the step's work, which cumulus's step wrapper
// (the platform image, and the platform's Lambda bootstrap) reads:
//
//	CUMULUS_GRANULE            the granule document (JSON, files included)
//	CUMULUS_STAGED_KEYS        the staged S3 keys (a JSON list)
//	CUMULUS_PIPELINE           the pipeline's name
//	CUMULUS_STEP               the step's name
//	CUMULUS_WHEN               the step's when, if it has one: "true",
//	                           "false", or HCL source that the wrapper
//	                           evaluates for the granule; the wrapper skips
//	                           the step (and succeeds) when it is false
//	CUMULUS_WITH               a standard step's inputs (a JSON object)
//	CUMULUS_WITH_EXPR          inputs Data Pipeline cannot express: a JSON
//	                           object of input name to HCL source
//	CUMULUS_ENV_EXPR_NAME      an env value Data Pipeline cannot express, as
//	                           HCL source; the wrapper evaluates it and sets
//	                           NAME
//
// ECS tasks get them as container environment (with the step's env beside
// them); Lambda functions get one JSON payload with the members granule,
// staged_keys, pipeline, step, env, env_expr, with, with_expr and when.
package datapipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/stdlib"
)

// Object ids. Steps are "Step_" + the step's name, so that no step name can
// collide with the fixed ones.
const (
	DefaultID = "Default"
	WorkerID  = "Worker"
	AlarmID   = "FailureAlarm"
	StepIDPre = "Step_"
)

// WorkerInstanceType is the worker's EC2 instance type: activities only
// start work elsewhere and wait for it.
const WorkerInstanceType = "t3.micro"

// Definition is a pipeline definition file. There is no "values" member:
// an on-demand run takes its parameter values when it is activated, and the
// AWS CLI sends no parameterValues when the file has none.
type Definition struct {
	Objects    []*Object   `json:"objects"`
	Parameters []Parameter `json:"parameters"`
}

// Object is one pipeline object. Fields hold a string, a Ref, or a list of
// either ([]string, []Ref), which Data Pipeline stores as the key repeated
// once per element.
type Object struct {
	ID     string
	Name   string
	Type   string // "" for Default, which has none
	Fields map[string]any
}

// Ref is a reference to another object.
type Ref struct {
	Ref string `json:"ref"`
}

// Parameter declares a value given per run.
type Parameter struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Description string `json:"description"`
}

// MarshalJSON writes id, name and type first, then the fields in key order,
// so that the file reads well and is the same on every run.
func (o *Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	write := func(key string, v any) error {
		if b.Len() > 0 {
			b.WriteByte(',')
		} else {
			b.WriteByte('{')
		}
		k, err := marshal(key)
		if err != nil {
			return err
		}
		val, err := marshal(v)
		if err != nil {
			return err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
		return nil
	}
	head := [][2]string{{"id", o.ID}, {"name", o.Name}, {"type", o.Type}}
	for _, kv := range head {
		if kv[1] == "" {
			continue
		}
		if err := write(kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	for _, k := range o.keys() {
		if err := write(k, o.Fields[k]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (o *Object) keys() []string {
	keys := make([]string, 0, len(o.Fields))
	for k := range o.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// marshal encodes without HTML escaping: the compiler's encoder does not
// escape, and would keep the \u0026 of an escaping inner encoder in every
// "&&" of a command.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Build returns the definition of p. Its diagnostics are warnings: what
// Data Pipeline cannot do as the configuration asks (and what it does
// instead), and the limits a definition must keep. (An error means a
// malformed graph: a step without a task.)
func Build(g *graph.Graph, p *graph.Pipeline) (*Definition, hcl.Diagnostics) {
	b := &builder{g: g, p: p}
	def := b.build()
	if g.Orchestrator == "datapipeline" {
		return def, b.diags
	}
	// Deployed with Step Functions, this definition is a spare: what Data
	// Pipeline would adjust or refuse in it is not the user's concern, and
	// warning about it would only teach them to ignore warnings. Internal
	// errors still count.
	var kept hcl.Diagnostics
	for _, d := range b.diags {
		if d.Summary == "Internal compiler error" {
			kept = append(kept, d)
		}
	}
	return def, kept
}

type builder struct {
	g     *graph.Graph
	p     *graph.Pipeline
	diags hcl.Diagnostics
}

func (b *builder) warn(rng hcl.Range, summary, format string, args ...any) {
	b.diags = append(b.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  &rng,
	})
}

// limit reports a Data Pipeline limit the definition breaks: an error, since
// diagnostics reach the user only when Data Pipeline is the orchestrator
// (see Build) and then the service would refuse the definition.
func (b *builder) limit(rng hcl.Range, summary, format string, args ...any) {
	b.diags = append(b.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  &rng,
	})
}

func (b *builder) build() *Definition {
	g, p := b.g, b.p
	def := &Definition{Parameters: parameters()}

	dflt := &Object{ID: DefaultID, Name: DefaultID, Fields: map[string]any{
		"scheduleType":        "ondemand",
		"failureAndRerunMode": "CASCADE",
		"role":                p.DataPipelineRole,
		"resourceRole":        p.DataPipelineResource,
	}}
	if g.ArtifactBucket != "" {
		dflt.Fields["pipelineLogUri"] = LogURI(g, p)
	} else {
		b.warn(p.Range, "Data Pipeline logs go nowhere",
			"The Data Pipeline definition of pipeline %q keeps its activities' logs in the configuration's private bucket, but there is none, so a failed step's output will be lost. Declare one, such as bucket \"internal\" { kind = \"private\" }.", p.Name)
	}
	def.Objects = append(def.Objects, dflt)

	steps := make([]*stepPlan, 0, len(p.Steps))
	for _, s := range p.Steps {
		steps = append(steps, b.plan(s))
	}

	worker := &Object{ID: WorkerID, Name: WorkerID, Type: "Ec2Resource", Fields: map[string]any{
		"instanceType":        WorkerInstanceType,
		"terminateAfter":      hoursPeriod(runBound(steps)),
		"actionOnTaskFailure": "terminate",
	}}
	if len(g.Subnets) > 0 {
		worker.Fields["subnetId"] = g.Subnets[0]
	}
	if len(g.SecurityGroups) > 0 {
		worker.Fields["securityGroupIds"] = append([]string(nil), g.SecurityGroups...)
	}
	def.Objects = append(def.Objects, worker)

	if p.Notify != "" {
		def.Objects = append(def.Objects, alarm(g, p))
		worker.Fields["onFail"] = Ref{AlarmID}
	}

	for _, sp := range steps {
		def.Objects = append(def.Objects, b.activity(sp))
	}
	b.checkLimits(def)
	return def
}

// LogURI is the S3 folder Data Pipeline writes the pipeline's logs to.
func LogURI(g *graph.Graph, p *graph.Pipeline) string {
	return "s3://" + g.ArtifactBucket + "/cumulus/logs/datapipeline/" + p.Name + "/"
}

// StepID is the object id of a step's activity.
func StepID(step string) string { return StepIDPre + step }

// Data Pipeline's own bounds on retries (documented service limits).
const (
	maxRetries    = 5
	minRetryDelay = 2 * time.Minute
)

// stepPlan is a step with the settings Data Pipeline will use, after
// rounding to what it accepts.
type stepPlan struct {
	step              *graph.Step
	retries           int
	delay, timeout    time.Duration
	delayText, toText string
}

func (b *builder) plan(s *graph.Step) *stepPlan {
	sp := &stepPlan{step: s, retries: s.Retries}
	if sp.retries > maxRetries {
		b.limit(s.Range, "Too many retries for Data Pipeline",
			"Step %q retries %d times, but Data Pipeline retries an activity at most %d times. Set retries = %d or fewer, or deploy with orchestrator = \"stepfunctions\", which retries as often as asked.",
			s.Name, s.Retries, maxRetries, maxRetries)
		sp.retries = maxRetries
	}
	if sp.retries > 0 {
		sp.delay = roundMinutes(s.RetryDelay.D())
		if sp.delay < minRetryDelay {
			sp.delay = minRetryDelay
		}
		if sp.delay != s.RetryDelay.D() {
			b.warn(s.Range, "Retry delay raised for Data Pipeline",
				"Step %q waits %s before a retry, but Data Pipeline counts periods in whole minutes and waits at least 2 minutes between attempts, so its definition waits %s. Set retry_delay to a whole number of minutes, 2 or more, to make both orchestrators behave alike.",
				s.Name, stdlib.FormatDuration(s.RetryDelay.D()), period(sp.delay))
		}
		sp.delayText = period(sp.delay)
	}
	if s.Backoff > 1 && sp.retries > 0 {
		b.warn(s.Range, "Backoff applies on Step Functions only",
			"Step %q multiplies its retry delay by %g for each retry, but Data Pipeline waits the same retryDelay (%s) before every retry. Step Functions honours backoff; set backoff = 1 to make both orchestrators behave alike.",
			s.Name, s.Backoff, sp.delayText)
	}
	if s.Timeout > 0 {
		sp.timeout = roundMinutes(s.Timeout.D())
		if sp.timeout != s.Timeout.D() {
			b.warn(s.Range, "Timeout rounded up for Data Pipeline",
				"Step %q times out after %s, but Data Pipeline counts periods in whole minutes, so its definition allows %s per attempt. Set timeout to a whole number of minutes to make both orchestrators behave alike.",
				s.Name, stdlib.FormatDuration(s.Timeout.D()), period(sp.timeout))
		}
		sp.toText = period(sp.timeout)
	}
	return sp
}

// runBound is the longest a run can last: every attempt of every step,
// one after another, with the delays between them (steps that run in
// parallel only make it shorter), plus time for the worker to boot and for
// each step's last poll.
func runBound(steps []*stepPlan) time.Duration {
	total := 10 * time.Minute
	for _, sp := range steps {
		attempts := time.Duration(sp.retries + 1)
		total += attempts*sp.timeout + time.Duration(sp.retries)*sp.delay
	}
	return total
}

func (b *builder) activity(sp *stepPlan) *Object {
	s := sp.step
	o := &Object{ID: StepID(s.Name), Name: s.Name, Type: "ShellCommandActivity", Fields: map[string]any{
		"runsOn":         Ref{WorkerID},
		"maximumRetries": fmt.Sprint(sp.retries),
	}}
	if sp.delayText != "" {
		o.Fields["retryDelay"] = sp.delayText
	}
	if sp.toText != "" {
		o.Fields["attemptTimeout"] = sp.toText
	}
	if len(s.After) > 0 {
		var deps []Ref
		for _, a := range s.After {
			deps = append(deps, Ref{StepID(a)})
		}
		o.Fields["dependsOn"] = deps
	}
	if b.p.Notify != "" {
		o.Fields["onFail"] = Ref{AlarmID}
	}
	if s.Task == nil {
		b.diags = append(b.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Internal compiler error",
			Detail: fmt.Sprintf("Step %q of pipeline %q has no task. Please report this.", s.Name, b.p.Name)})
		return o
	}
	cmd, args := command(b.g, b.p, s)
	o.Fields["command"] = cmd
	o.Fields["scriptArgument"] = args
	return o
}

// alarm is the SnsAlarm that reports a failed step (or worker). node is the
// object that failed. SNS refuses a subject of 100 characters or more, so
// the step's name is in it only when every expansion fits.
func alarm(g *graph.Graph, p *graph.Pipeline) *Object {
	longest := len(WorkerID)
	for _, s := range p.Steps {
		longest = max(longest, len(s.Name))
	}
	subject := "cumulus " + p.ResourceName + ": #{node.name} failed"
	if len("cumulus "+p.ResourceName+":  failed")+longest >= 100 {
		subject = "cumulus: a step failed"
	}
	msg := []string{
		"Pipeline " + p.Name + " (" + p.ResourceName + ") failed for granule #{myGranuleId} of collection #{myGranuleCollection}.",
		"Step: #{node.name}",
		"Error: #{node.errorMessage}",
		"Data Pipeline: #{node.@pipelineId}",
	}
	if g.ArtifactBucket != "" {
		msg = append(msg, "Logs: "+LogURI(g, p))
	}
	return &Object{ID: AlarmID, Name: AlarmID, Type: "SnsAlarm", Fields: map[string]any{
		"topicArn": p.Notify,
		"role":     p.DataPipelineRole,
		"subject":  subject,
		"message":  strings.Join(msg, "\n"),
	}}
}

// roundMinutes rounds up to whole minutes, at least one: Data Pipeline's
// periods count whole units, and a minute is its smallest.
func roundMinutes(d time.Duration) time.Duration {
	if d <= time.Minute {
		return time.Minute
	}
	return (d + time.Minute - 1) / time.Minute * time.Minute
}

// period writes whole minutes as a Data Pipeline period in the largest unit
// that divides it exactly: "2 Minutes", "1 Hours", "3 Days".
func period(d time.Duration) string {
	m := int64(d / time.Minute)
	switch {
	case m%(24*60) == 0:
		return fmt.Sprintf("%d Days", m/(24*60))
	case m%60 == 0:
		return fmt.Sprintf("%d Hours", m/60)
	}
	return fmt.Sprintf("%d Minutes", m)
}

// hoursPeriod rounds up to whole hours.
func hoursPeriod(d time.Duration) string {
	return fmt.Sprintf("%d Hours", (d+time.Hour-1)/time.Hour)
}
