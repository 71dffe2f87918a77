package deploy

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// Op is what an action does to its resource.
type Op string

// The operations of a plan.
const (
	OpCreate    Op = "create"
	OpUpdate    Op = "update"
	OpUnchanged Op = "unchanged"
	OpDelete    Op = "delete"
	// OpConflict: a resource of that name exists but this configuration
	// does not own it (no cumulus:config tag with its prefix). Apply
	// refuses a plan that has one.
	OpConflict Op = "conflict"
)

// Resource kinds, in the order apply works through them.
const (
	KindBucket   = "s3-bucket"
	KindObject   = "s3-object"
	KindLogGroup = "log-group"
	KindTable    = "dynamodb-table"
	KindRole     = "iam-role"
	// KindInstanceProfile (profiles.go) comes with the roles.
	KindCluster        = "ecs-cluster"
	KindTaskDefinition = "ecs-task-definition"
	KindFunction       = "lambda-function"
	KindPermission     = "lambda-permission"
	KindNotification   = "s3-notification"
	KindStateMachine   = "sfn-state-machine"
	KindRule           = "events-rule"
	KindHTTPAPI        = "apigateway-http-api"
	KindDataPipeline   = "datapipeline"
)

// Action is one resource's entry in a plan.
type Action struct {
	Op      Op       `json:"op"`
	Kind    string   `json:"kind"`
	Name    string   `json:"name"`
	Block   string   `json:"block,omitempty"`
	Reasons []string `json:"reasons,omitempty"`

	run func(ctx context.Context) error
}

func (a *Action) String() string { return a.Kind + " " + a.Name }

// Plan is what apply would do, in the order it would do it.
type Plan struct {
	Prefix  string    `json:"prefix"`
	Stage   string    `json:"stage,omitempty"`
	Account string    `json:"account"`
	Region  string    `json:"region"`
	Actions []*Action `json:"actions"`
	Notes   []string  `json:"notes,omitempty"`

	// endpoints are the HTTP APIs' URLs, in the order of Desired.HTTPAPIs:
	// known for those the plan found, and set by apply for those it
	// creates.
	endpoints []*apiRef
}

// Endpoints returns the URL of each HTTP API known to exist: found by the
// plan, or created by applying it.
func (p *Plan) Endpoints() []Endpoint {
	var out []Endpoint
	for _, e := range p.endpoints {
		if e.URL != "" {
			out = append(out, e.Endpoint)
		}
	}
	return out
}

// Count returns how many actions have op.
func (p *Plan) Count(op Op) int {
	n := 0
	for _, a := range p.Actions {
		if a.Op == op {
			n++
		}
	}
	return n
}

// HasChanges says whether applying the plan would change anything.
func (p *Plan) HasChanges() bool {
	return p.Count(OpCreate)+p.Count(OpUpdate)+p.Count(OpDelete) > 0
}

// PlanOptions are choices of the user that change the plan.
type PlanOptions struct {
	// Prune deletes resources this configuration owns but no longer has.
	Prune bool
	// Activate lists the pipelines (block names) to activate.
	Activate []string
}

// Deployer plans and applies with one set of clients.
type Deployer struct {
	c     *Clients
	log   *slog.Logger
	retry Backoff
}

// New returns a Deployer. A zero Backoff means [DefaultBackoff].
func New(c *Clients, log *slog.Logger, b Backoff) *Deployer {
	if b.Attempts == 0 {
		b = DefaultBackoff()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Deployer{c: c, log: log, retry: b}
}

// planner accumulates a plan and what the readers learn along the way.
type planner struct {
	*Deployer
	want *Desired
	opts PlanOptions
	plan *Plan
	// existing resources learned while reading, for the actions of later
	// kinds (a permission on a function that is about to be created).
	pipelineIDs map[string]string
	sfnARNs     map[string]string
	// apis are the HTTP APIs by name, with their ids: found by the plan,
	// or set when apply creates an API, for the permission that names it.
	apis map[string]*apiRef
}

// Plan reads the account's current state and diffs it against want.
func (d *Deployer) Plan(ctx context.Context, want *Desired, opts PlanOptions) (*Plan, error) {
	for _, name := range opts.Activate {
		found := false
		for _, p := range want.Pipelines {
			found = found || p.Pipeline == name || p.Name == name
		}
		if !found {
			return nil, fmt.Errorf("-activate %s: no Data Pipeline of that name is deployed by this configuration", name)
		}
	}
	p := &planner{Deployer: d, want: want, opts: opts, pipelineIDs: map[string]string{}, apis: map[string]*apiRef{},
		plan: &Plan{Prefix: want.Prefix, Stage: want.Stage, Account: want.Account, Region: want.Region, Actions: []*Action{}, Notes: want.Notes}}
	for _, h := range want.HTTPAPIs {
		ep := &apiRef{Endpoint: Endpoint{Name: h.Name, Block: h.Block, Title: h.Title}}
		p.apis[h.Name] = ep
		p.plan.endpoints = append(p.plan.endpoints, ep)
	}
	steps := []struct {
		what string
		f    func(context.Context) error
	}{
		{"S3 buckets", p.buckets},
		{"platform objects", p.objects},
		{"the distribution's secrets", p.secrets},
		{"log groups", p.logGroups},
		{"DynamoDB tables", p.tables},
		{"IAM roles", p.roles},
		{"IAM instance profiles", p.instanceProfiles},
		{"the ECS cluster", p.cluster},
		{"ECS task definitions", p.taskDefinitions},
		{"Lambda functions", p.functions},
		{"bucket notifications", p.triggers},
		{"Step Functions state machines", p.stateMachines},
		{"EventBridge rules", p.rules},
		{"the HTTP APIs", p.httpAPIs},
		{"Lambda permissions", p.permissions},
		{"Data Pipelines", p.pipelines},
	}
	for _, s := range steps {
		if err := s.f(ctx); err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.what, err)
		}
	}
	if opts.Prune {
		if err := p.prune(ctx); err != nil {
			return nil, fmt.Errorf("finding what to prune: %w", err)
		}
	}
	return p.plan, nil
}

func (p *planner) add(a *Action) { p.plan.Actions = append(p.plan.Actions, a) }

// owned says whether tags mark a resource of this configuration.
func (p *planner) owned(tags map[string]string) bool {
	return tags[TagConfig] == p.want.Prefix
}

func (p *planner) conflict(kind, name, block string, tags map[string]string) {
	owner := "no cumulus:config tag"
	if o, ok := tags[TagConfig]; ok {
		owner = fmt.Sprintf("cumulus:config is %q", o)
	}
	p.add(&Action{Op: OpConflict, Kind: kind, Name: name, Block: block,
		Reasons: []string{fmt.Sprintf("exists but is not owned by %s (%s); deploy never changes what it does not own: rename it in the configuration, or delete or tag it yourself", p.want.Prefix, owner)}})
}

// tagDiff lists the keys of want whose value in have differs.
func tagDiff(want, have map[string]string) []string {
	var out []string
	for _, k := range sortedKeys(want) {
		if have[k] != want[k] {
			out = append(out, k)
		}
	}
	return out
}

func tagReason(keys []string) string {
	return "tags differ: " + strings.Join(keys, ", ")
}
