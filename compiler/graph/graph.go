// Package graph owns the pipeline graph: the one neutral structure, built
// from the checked model, that every compiler backend (Data Pipeline, Step
// Functions, ECS, Lambda) and the simulator read. It resolves what the model
// leaves implicit (the platform tasks that run standard steps, the AWS names
// and roles of everything, the order steps can run in) and turns run-time
// expressions into values each target can carry: constants, string templates
// over granule attributes, or HCL source for the platform to evaluate.
package graph

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/cumulus-toolchain/cumulus/stdlib"
)

// PlatformVersion is the version of cumulus's own image and Lambda code that
// compiled artifacts refer to; fixed, so output is the same on every run.
const PlatformVersion = "0.1.0"

// PlatformImage is the container image of cumulus's own tasks (the poller,
// standard steps that run on ECS): the cumulus binary, which also wraps users'
// commands.
const PlatformImage = "ghcr.io/cumulus-toolchain/cumulus:" + PlatformVersion

// Placeholders used when the configuration does not say, so that compile
// works without a deployment block; deploy replaces them.
const (
	PlaceholderAccount = "000000000000"
	PlaceholderRegion  = "us-east-1"
)

// Graph is a whole configuration, compiled.
type Graph struct {
	Prefix    string `json:"prefix"`
	Region    string `json:"region"`
	AccountID string `json:"account_id"`
	// Placeholder lists what was not configured and was given a placeholder
	// ("account_id", "region"), so backends and deploy know.
	Placeholder []string `json:"placeholder,omitempty"`
	Cluster     string   `json:"cluster"`
	// Orchestrator is the target deploy uses ("stepfunctions" or
	// "datapipeline"); compile writes both, and warns only for this one.
	Orchestrator   string            `json:"orchestrator"`
	Subnets        []string          `json:"subnets,omitempty"`
	SecurityGroups []string          `json:"security_groups,omitempty"`
	LogRetention   int               `json:"log_retention"`
	Tags           map[string]string `json:"tags,omitempty"`
	// ArtifactBucket is the private bucket that holds code, configuration
	// and logs the platform needs ("" when the configuration has none).
	ArtifactBucket string `json:"artifact_bucket,omitempty"`

	// Variables and Locals are the configuration's values, for evaluating
	// Expr values at run time in the context they were written in.
	Variables map[string]json.RawMessage `json:"variables,omitempty"`
	Locals    map[string]json.RawMessage `json:"locals,omitempty"`

	Collections []*Collection `json:"collections,omitempty"`
	Pipelines   []*Pipeline   `json:"pipelines,omitempty"`
	// Tasks are every task a step runs, the users' and the platform's, in
	// name order.
	Tasks   []*Task   `json:"tasks,omitempty"`
	Sources []*Source `json:"sources,omitempty"`
	// Functions are the platform's own Lambda functions (the S3-event
	// trigger), beside the ones in Tasks.
	Functions []*Task `json:"functions,omitempty"`
	// Distributions are the compiled distribution policies, each with the
	// function that serves it (distribution.go).
	Distributions []*Distribution `json:"distributions,omitempty"`
	// Engine is the engine's recorder and API functions (engine.go).
	Engine *Engine `json:"engine,omitempty"`
}

// Pipeline is one pipeline: a graph of steps run once per granule.
type Pipeline struct {
	Name         string `json:"name"`
	ResourceName string `json:"resource_name"`
	Concurrency  int    `json:"concurrency"`
	// Steps are in an order that respects every edge (declaration order
	// among steps that are ready together).
	Steps    []*Step `json:"steps,omitempty"`
	Notify   string  `json:"notify,omitempty"` // SNS topic ARN for failures, "" for none
	LogGroup string  `json:"log_group"`
	// Backfill is the name of the pipeline's second state machine, which
	// runs the per-granule one (named ResourceName) for every granule of a
	// list, as a distributed Map; "" when the configuration has no private
	// bucket to keep the lists in.
	Backfill string `json:"backfill,omitempty"`
	// Roles of the orchestrators that may run it.
	StateMachineRole     string    `json:"state_machine_role"`
	BackfillRole         string    `json:"backfill_role,omitempty"`
	DataPipelineRole     string    `json:"data_pipeline_role"`
	DataPipelineResource string    `json:"data_pipeline_resource"`
	Range                hcl.Range `json:"-"`
}

// Step is one node of a pipeline.
type Step struct {
	Name  string   `json:"name"`
	After []string `json:"after,omitempty"`
	// Task is what the step runs; TaskName its name (the form graph.json
	// keeps, since tasks are listed once in Graph.Tasks).
	Task     *Task  `json:"-"`
	TaskName string `json:"task_name"`
	// Uses is the standard step's name when the step uses one.
	Uses       string   `json:"uses,omitempty"`
	Retries    int      `json:"retries"`
	RetryDelay Duration `json:"retry_delay"`
	Backoff    float64  `json:"backoff"`
	Timeout    Duration `json:"timeout"`
	// Env reaches the task as environment variables (sorted by name);
	// With holds a standard step's inputs (sorted by name).
	Env  []Binding `json:"env,omitempty"`
	With []Binding `json:"with,omitempty"`
	// When, if not nil, decides per granule whether the step runs.
	When  *Value    `json:"when,omitempty"`
	Range hcl.Range `json:"-"`
}

// Binding is a name and its value.
type Binding struct {
	Name  string `json:"name"`
	Value Value  `json:"value"`
}

// Task is something a step runs: a Fargate task definition or a Lambda
// function, the user's or the platform's.
type Task struct {
	// Name is the task block's name, or "stdlib-NAME" for the platform task
	// of a standard step.
	Name string `json:"name"`
	// RunsOn is "ecs" or "lambda".
	RunsOn string `json:"runs_on"`
	// Platform is true for cumulus's own tasks.
	Platform bool `json:"platform,omitempty"`
	// ResourceName is the ECS family or Lambda function name.
	ResourceName string   `json:"resource_name"`
	Image        string   `json:"image,omitempty"`
	Command      []string `json:"command,omitempty"`
	Entrypoint   []string `json:"entrypoint,omitempty"`
	// LocalCommand is what the simulator runs instead of the container or
	// function when asked to (or when there is no Docker engine).
	LocalCommand []string `json:"local_command,omitempty"`
	// TransientExitCodes, when set, are the only exit codes retried.
	TransientExitCodes []int `json:"transient_exit_codes,omitempty"`
	// Build is the folder (relative to the configuration) the simulator
	// builds Image from.
	Build       string    `json:"build,omitempty"`
	Environment []Binding `json:"environment,omitempty"` // static values only
	CPU         int       `json:"cpu"`
	Memory      int       `json:"memory"`
	Timeout     Duration  `json:"timeout"`
	// Lambda code: Runtime and Handler, and CodeFile (relative to the
	// configuration) or, for the platform, the cumulus bootstrap zip.
	Runtime  string `json:"runtime,omitempty"`
	Handler  string `json:"handler,omitempty"`
	CodeFile string `json:"code_file,omitempty"`
	LogGroup string `json:"log_group"`
	// Roles: for ECS the task role and the execution role, for Lambda the
	// function's role (in TaskRole).
	TaskRole      string    `json:"task_role"`
	ExecutionRole string    `json:"execution_role,omitempty"`
	Range         hcl.Range `json:"-"`
}

// Source is one acquisition poller and its schedule.
type Source struct {
	Name string `json:"name"`
	Task *Task  `json:"task,omitempty"`
	// ScheduleRole is the role EventBridge assumes to start the poller.
	ScheduleRole string   `json:"schedule_role"`
	Every        Duration `json:"every"`
	Pipeline     string   `json:"pipeline,omitempty"`
	Collection   string   `json:"collection,omitempty"`
	// S3Bucket and S3Prefix are where the source reads, when its provider's
	// protocol is "s3": the provider's host (the bucket) and the source's
	// path (a key prefix, "" for the whole bucket).
	S3Bucket string    `json:"s3_bucket,omitempty"`
	S3Prefix string    `json:"s3_prefix,omitempty"`
	Range    hcl.Range `json:"-"`
}

// Pipeline returns the pipeline named name, or nil.
func (g *Graph) Pipeline(name string) *Pipeline {
	for _, p := range g.Pipelines {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Step returns the step named name, or nil.
func (p *Pipeline) Step(name string) *Step {
	for _, s := range p.Steps {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// ARN builders: one place for the account and region.

// RoleARN is the ARN of an IAM role of this configuration.
func (g *Graph) RoleARN(name string) string { return "arn:aws:iam::" + g.AccountID + ":role/" + name }

// LogGroupARN is the ARN of a CloudWatch Logs group.
func (g *Graph) LogGroupARN(name string) string {
	return "arn:aws:logs:" + g.Region + ":" + g.AccountID + ":log-group:" + name + ":*"
}

// FunctionARN is the ARN of a Lambda function.
func (g *Graph) FunctionARN(name string) string {
	return "arn:aws:lambda:" + g.Region + ":" + g.AccountID + ":function:" + name
}

// StateMachineARN is the ARN of a Step Functions state machine.
func (g *Graph) StateMachineARN(name string) string {
	return "arn:aws:states:" + g.Region + ":" + g.AccountID + ":stateMachine:" + name
}

// ClusterARN is the ARN of the ECS cluster tasks run in.
func (g *Graph) ClusterARN() string {
	return "arn:aws:ecs:" + g.Region + ":" + g.AccountID + ":cluster/" + g.Cluster
}

// TaskDefinitionARN is the ARN of a task definition family (its latest
// active revision).
func (g *Graph) TaskDefinitionARN(family string) string {
	return "arn:aws:ecs:" + g.Region + ":" + g.AccountID + ":task-definition/" + family
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Duration is a time.Duration that graph.json writes as users do ("2m").
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Seconds returns the whole seconds.
func (d Duration) Seconds() int64 { return int64(time.Duration(d) / time.Second) }

// MarshalJSON writes the duration as cumulus duration text.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(stdlib.FormatDuration(time.Duration(d)))
}

// UnmarshalJSON reads cumulus duration text.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := stdlib.ParseDuration(s)
	*d = Duration(v)
	return err
}
