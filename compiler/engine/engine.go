// Package engine owns the engine's AWS artifacts: what the workflow
// engine's state and API need on AWS besides the functions' own
// CreateFunction inputs (which compiler/lambda writes).
//
//   - the DynamoDB tables of the engine's store: CreateTable inputs, from
//     runtime/dynamostore.Tables, so the table design has one owner;
//   - the EventBridge rule (PutRule, with an event pattern) that sends the
//     "Step Functions Execution Status Change" events of the configuration's
//     per-granule state machines to the recorder function, and its target
//     (PutTargets);
//   - the HTTP API in front of the engine API function (compiler/httpapi
//     builds its documents), with the routes GET /api/{proxy+} for the API
//     and GET / and GET /{proxy+} for the dashboard;
//   - the Lambda permissions (AddPermission) that let EventBridge invoke the
//     recorder and API Gateway invoke the API function;
//   - the two functions' log groups (CreateLogGroup);
//   - the two functions' roles, least privilege: the recorder may write its
//     tables and nothing else; the API may read the tables and their
//     indexes, the steps' log groups and the compiled graph. Neither needs
//     Resource "*".
package engine

import (
	"encoding/json"
	"fmt"

	"github.com/cumulus-toolchain/cumulus/compiler/ecs"
	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/compiler/httpapi"
	"github.com/cumulus-toolchain/cumulus/compiler/iam"
	"github.com/cumulus-toolchain/cumulus/runtime/dynamostore"
)

// Routes of the HTTP API: the engine API, and the dashboard (its page and
// its static files) from the same function.
var Routes = []httpapi.Route{{Key: "GET /api/{proxy+}", File: "api"}, {Key: "GET /", File: "root"}, {Key: "GET /{proxy+}", File: "dashboard"}}

// Policy names of the engine's roles (beside iam.PolicyLogs).
const (
	PolicyWriteState = "write-state"
	PolicyReadState  = "read-state"
	PolicyStepLogs   = "step-logs"
	PolicyReadGraph  = "read-graph"
)

// Documents are the engine's artifacts.
type Documents struct {
	// Tables are the CreateTable inputs, in dynamostore's order, as plain
	// JSON values (members the SDK's types leave unset are dropped).
	Tables     []any
	TableNames []string
	// Rule and Targets are nil for a configuration without pipelines: no
	// state machine, no event to record.
	Rule    *Rule
	Targets *Targets
	// HTTPAPI is the API in front of the engine API function.
	HTTPAPI *httpapi.Documents
	// Permissions let EventBridge invoke the recorder (when there is a
	// rule) and API Gateway the API function.
	Permissions []*httpapi.AddPermission
	LogGroups   []*CreateLogGroup
	Roles       []*iam.Role
}

// Rule is the PutRule input of the recorder's rule.
type Rule struct {
	Name         string        `json:"Name"`
	EventPattern string        `json:"EventPattern"`
	State        string        `json:"State"`
	Description  string        `json:"Description"`
	Tags         []ecs.RuleTag `json:"Tags"`
}

// Targets is the PutTargets input: the recorder function.
type Targets struct {
	Rule    string   `json:"Rule"`
	Targets []Target `json:"Targets"`
}

// Target is a Lambda function target (EventBridge invokes it under the
// function's resource policy, so it takes no role).
type Target struct {
	ID  string `json:"Id"`
	Arn string `json:"Arn"`
}

// CreateLogGroup is the CloudWatch Logs CreateLogGroup input.
type CreateLogGroup struct {
	LogGroupName string            `json:"logGroupName"`
	Tags         map[string]string `json:"tags"`
}

// SidEvents is the statement id of EventBridge's permission to invoke the
// recorder, which deploy finds it by (API Gateway's is
// httpapi.SidAPIGateway).
const SidEvents = "cumulus-events"

// ExecutionStatusChange is the detail-type of the Step Functions events
// the recorder records.
const ExecutionStatusChange = "Step Functions Execution Status Change"

// Build returns the engine's documents. g must have been built
// (g.Engine set).
func Build(g *graph.Graph) (*Documents, error) {
	e := g.Engine
	if e == nil {
		return nil, fmt.Errorf("the graph has no engine functions")
	}
	const block = "platform"
	tags := ecs.OwnTags(g, block)
	d := &Documents{}
	for _, in := range dynamostore.Tables(e.TablePrefix, tags) {
		doc, err := plain(in)
		if err != nil {
			return nil, fmt.Errorf("table %v: %w", in.TableName, err)
		}
		d.Tables = append(d.Tables, doc)
	}
	d.TableNames = dynamostore.TableNames(e.TablePrefix)

	if rule, err := recorderRule(g); err != nil {
		return nil, err
	} else if rule != nil {
		d.Rule = rule
		d.Targets = &Targets{Rule: rule.Name, Targets: []Target{{ID: "recorder", Arn: g.FunctionARN(e.Recorder.ResourceName)}}}
		d.Permissions = append(d.Permissions, &httpapi.AddPermission{
			FunctionName: e.Recorder.ResourceName, StatementID: SidEvents, Action: "lambda:InvokeFunction",
			Principal: "events.amazonaws.com", SourceArn: g.RuleARN(rule.Name), SourceAccount: g.AccountID,
		})
	}

	d.HTTPAPI = httpapi.Build(g, httpapi.Spec{
		Name:                   e.HTTPAPI,
		Description:            "cumulus: the engine API and dashboard of " + g.Prefix,
		IntegrationDescription: "cumulus: the engine API function",
		Function:               e.API,
		Routes:                 Routes,
		Tags:                   tags,
	})
	d.Permissions = append(d.Permissions, d.HTTPAPI.Permission)
	for _, f := range g.EngineFunctions() {
		d.LogGroups = append(d.LogGroups, &CreateLogGroup{LogGroupName: f.LogGroup, Tags: tags})
	}
	roles, err := buildRoles(g, d.TableNames)
	if err != nil {
		return nil, err
	}
	d.Roles = roles
	return d, nil
}

// recorderRule is the rule matching the execution events of the
// configuration's per-granule state machines, or nil when it has none.
// The backfill machines are left out: a backfill's own execution is not a
// granule's run, and the per-granule executions it starts are matched
// anyway.
func recorderRule(g *graph.Graph) (*Rule, error) {
	var machines []string
	for _, p := range g.Pipelines {
		machines = append(machines, g.StateMachineARN(p.ResourceName))
	}
	if len(machines) == 0 {
		return nil, nil
	}
	pattern, err := json.Marshal(map[string]any{
		"source":      []string{"aws.states"},
		"detail-type": []string{ExecutionStatusChange},
		"detail":      map[string]any{"stateMachineArn": machines},
	})
	if err != nil {
		return nil, fmt.Errorf("encoding the recorder's event pattern: %w", err)
	}
	var rt []ecs.RuleTag
	for _, t := range ecs.Tags(g, "platform") {
		rt = append(rt, ecs.RuleTag(t))
	}
	return &Rule{
		Name:         g.Engine.Rule,
		EventPattern: string(pattern),
		State:        "ENABLED",
		Description:  "cumulus: every status change of a pipeline run, to the engine's recorder",
		Tags:         rt,
	}, nil
}

// plain turns an SDK input into the JSON value the CLI takes: the SDK's
// types marshal unset members as null or "", which no AWS model accepts.
func plain(in any) (any, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	v, _ = prune(v)
	return v, nil
}

// prune drops nulls, empty strings, and lists and objects left empty, and
// says whether anything of v is left.
func prune(v any) (any, bool) {
	switch x := v.(type) {
	case nil:
		return nil, false
	case string:
		return x, x != ""
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if e, ok := prune(e); ok {
				out = append(out, e)
			}
		}
		return out, len(out) > 0
	case map[string]any:
		for k, e := range x {
			if e, ok := prune(e); ok {
				x[k] = e
			} else {
				delete(x, k)
			}
		}
		return x, len(x) > 0
	}
	return v, true
}
