package graph

import (
	"time"

	"github.com/cumulus-toolchain/cumulus/lang"
)

// Engine is the workflow engine's footprint on AWS: the recorder function
// that turns Step Functions' execution events into the engine's DynamoDB
// state, and the function that serves the engine API (and the dashboard)
// behind an API Gateway HTTP API, reading that state and the steps' log
// groups. Both are the cumulus binary, as the trigger is, told by
// CUMULUS_FUNCTION which handler to run.
//
// They are kept apart from Functions because their permissions have
// nothing in common with the trigger's (which starts runs): compiler/engine
// writes their roles, compiler/iam does not see them.
type Engine struct {
	// TablePrefix starts the name of every table of the engine's store
	// (runtime/dynamostore.Tables names them PREFIX-granules and so on).
	TablePrefix string `json:"table_prefix"`
	// Recorder receives the "Step Functions Execution Status Change" events
	// of the configuration's state machines, through Rule.
	Recorder *Task `json:"recorder"`
	// API serves the engine API behind the HTTP API named HTTPAPI.
	API     *Task  `json:"api"`
	Rule    string `json:"rule"`
	HTTPAPI string `json:"http_api"`
	// StepLogGroups are the log groups of the tasks steps run: all the API
	// may read of CloudWatch Logs.
	StepLogGroups []string `json:"step_log_groups,omitempty"`
	// DashboardAuth is the distribution whose authentication the API and
	// dashboard sit behind (deployment.dashboard_auth), "" for none.
	DashboardAuth string `json:"dashboard_auth,omitempty"`
}

// CUMULUS_FUNCTION values of the engine's functions, and the environment
// variables that tell them where the store and the logs are.
const (
	FunctionRecorder = "recorder"
	FunctionAPI      = "api"

	EnvFunction       = "CUMULUS_FUNCTION"
	EnvTablePrefix    = "CUMULUS_TABLE_PREFIX"
	EnvLogGroupPrefix = "CUMULUS_LOG_GROUP_PREFIX"
	EnvDashboardAuth  = "CUMULUS_DASHBOARD_AUTH"
)

// engine builds the engine's functions. It runs after the tasks are known,
// for their log groups.
func (b *builder) engine() *Engine {
	e := &Engine{
		TablePrefix: b.g.Prefix,
		Rule:        b.cfg.ResourceName("engine-recorder"),
		HTTPAPI:     b.cfg.ResourceName("engine-api"),
	}
	e.Recorder = b.engineFunction("recorder", FunctionRecorder, 256, time.Minute,
		Binding{Name: EnvTablePrefix, Value: staticString(e.TablePrefix)})
	// API Gateway gives up on an integration after 29 s.
	e.API = b.engineFunction("engine-api", FunctionAPI, 512, 30*time.Second,
		Binding{Name: EnvLogGroupPrefix, Value: staticString("/cumulus/" + b.g.Prefix + "/")},
		Binding{Name: EnvTablePrefix, Value: staticString(e.TablePrefix)})
	// The API shows the pipelines' shape from the compiled graph, as the
	// platform's other code reads it (platformenv.go). The recorder needs
	// no graph: an event names its state machine, PREFIX-PIPELINE, and
	// the table prefix is the deployment's prefix.
	if u := b.g.GraphURL(); u != "" {
		e.API.Environment = append(e.API.Environment, Binding{Name: GraphEnv, Value: staticString(u)})
	}
	if dep := b.cfg.Deployment; dep != nil && dep.DashboardAuth != "" {
		b.dashboardAuth(e, dep)
	}
	seen := map[string]bool{}
	for _, name := range sortedKeys(b.tasks) {
		if lg := b.tasks[name].LogGroup; lg != "" && !seen[lg] {
			seen[lg] = true
			e.StepLogGroups = append(e.StepLogGroups, lg)
		}
	}
	return e
}

func (b *builder) engineFunction(name, role string, memory int, timeout time.Duration, env ...Binding) *Task {
	t := &Task{
		Name:         name,
		RunsOn:       "lambda",
		Platform:     true,
		ResourceName: b.cfg.ResourceName(name),
		Memory:       memory,
		Timeout:      Duration(timeout),
		Runtime:      "provided.al2023",
		Handler:      "bootstrap",
		LogGroup:     b.logGroup("functions", name),
		Environment:  append([]Binding{{Name: EnvFunction, Value: staticString(role)}}, env...),
	}

	b.roles(t, name)
	return t
}

// EngineFunctions are the engine's functions (none before Build).
func (g *Graph) EngineFunctions() []*Task {
	if g.Engine == nil {
		return nil
	}
	return []*Task{g.Engine.Recorder, g.Engine.API}
}

// TableARN is the ARN of a DynamoDB table.
func (g *Graph) TableARN(name string) string {
	return "arn:aws:dynamodb:" + g.Region + ":" + g.AccountID + ":table/" + name
}

// RuleARN is the ARN of an EventBridge rule on the default bus.
func (g *Graph) RuleARN(name string) string {
	return "arn:aws:events:" + g.Region + ":" + g.AccountID + ":rule/" + name
}

// dashboardAuth puts the API and dashboard behind a distribution's
// authentication (the checker made sure it has some).
func (b *builder) dashboardAuth(e *Engine, dep *lang.Deployment) {
	e.DashboardAuth = dep.DashboardAuth
	e.API.Environment = append(e.API.Environment, Binding{Name: EnvDashboardAuth, Value: staticString(dep.DashboardAuth)})
}
