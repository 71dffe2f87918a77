// Package iam owns the IAM roles both orchestration targets need, derived
// from the pipeline graph with least privilege: for each role, the
// CreateRole input (with its trust policy) and one PutRolePolicy input per
// inline policy, as `aws iam create-role --cli-input-json` and `aws iam
// put-role-policy --cli-input-json` take them.
//
// The roles:
//
//   - a pipeline's state machine role (PREFIX-PIPELINE-sfn) may run exactly
//     the task definitions of its container steps in the cluster, stop and
//     describe tasks there, pass exactly those tasks' task and execution
//     roles to ECS, invoke exactly the functions of its Lambda steps,
//     manage the EventBridge rule that the .sync ECS integration uses, and
//     publish to the pipeline's SNS topic when it notifies;
//   - a pipeline's backfill role (PREFIX-PIPELINE-bfill) may start the
//     per-granule machine (and its own distributed Map's children),
//     describe and stop those executions, manage the EventBridge rule of
//     the .sync Step Functions integration, read granule lists and write
//     results under the pipeline's backfill folder of the private bucket;
//   - a task's role (ECS task role, or Lambda function role) may use the S3
//     objects the steps that run it touch, and no others: staged files
//     are under s3://STAGING/COLLECTION/ (the layout the poller stages
//     granules in), archived ones under each collection file's url_path
//     (its literal part before the first run-time reference), in the
//     bucket the file goes to. Which actions depends on the step: see
//     access.go;
//   - an ECS task's execution role may write its own log group and, for an
//     image in Amazon ECR, pull from that repository;
//   - a Lambda function's role may also write its own log group;
//   - cumulus's own pieces: a source's poller may read and write staged
//     files of its collection (STAGING/COLLECTION/), its execution role
//     as above, and its EventBridge role may run exactly the poller's task
//     definition and pass exactly its roles; the trigger function may start
//     the pipelines' state machines (see below for Data Pipeline) and read
//     staged files; a distribution's function may read the buckets it
//     serves;
//   - a pipeline's Data Pipeline role (PREFIX-PIPELINE-dp), which Data
//     Pipeline assumes, may launch the worker (the definition's only
//     resource, an Ec2Resource of type datapipeline.WorkerInstanceType with
//     the pipeline's instance profile, in the configured subnet and
//     security groups), tag and terminate it, pass exactly the resource
//     role to EC2, and publish to the pipeline's SNS topic when it
//     notifies;
//   - a pipeline's Data Pipeline resource role (PREFIX-PIPELINE-dpres),
//     trusted by EC2 and used through an instance profile of the same name,
//     may do what the activities' scripts do (package datapipeline): run
//     exactly the task definitions of its container steps in the cluster,
//     describe and stop tasks there, pass exactly those tasks' roles,
//     invoke exactly its Lambda steps' functions; and what the Task Runner
//     does: poll for and report tasks, and write the logs under the
//     pipeline's log folder of the private bucket;
//   - the trigger function, with orchestrator = "datapipeline", may run
//     each granule in a pipeline made from the deployed one (create it with
//     the pipeline's tags, put the definition, activate, delete), on
//     pipelines tagged with this configuration's pipelines only, and pass
//     exactly their two roles.
//
// Some actions need Resource "*", because AWS defines no narrower resource
// for them: CloudWatch Logs log delivery (which Step Functions logging
// needs), ecr:GetAuthorizationToken, the EC2 Describe actions Data Pipeline
// uses, the Data Pipeline Task Runner's polling and reporting, and
// datapipeline:ListPipelines and CreatePipeline (the latter limited by the
// tags it must set). Their policies carry a note that the manifest shows.
// There is never an Action "*".
package iam

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/cumulus-toolchain/cumulus/compiler/datapipeline"
	"github.com/cumulus-toolchain/cumulus/compiler/ecs"
	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/compiler/stepfunctions"
)

// Role is one role and its inline policies.
type Role struct {
	// Block is the configuration block the role serves ("pipeline.ingest").
	Block    string
	Create   *CreateRoleInput
	Trust    *Document
	Policies []*Policy
}

// Policy is one inline policy.
type Policy struct {
	Put *PutRolePolicyInput
	Doc *Document
	// Notes explain statements a reviewer would question.
	Notes []string
}

// CreateRoleInput is the CreateRole input.
type CreateRoleInput struct {
	RoleName                 string `json:"RoleName"`
	Path                     string `json:"Path"`
	Description              string `json:"Description"`
	AssumeRolePolicyDocument string `json:"AssumeRolePolicyDocument"`
	Tags                     []Tag  `json:"Tags"`
}

// PutRolePolicyInput is the PutRolePolicy input.
type PutRolePolicyInput struct {
	RoleName       string `json:"RoleName"`
	PolicyName     string `json:"PolicyName"`
	PolicyDocument string `json:"PolicyDocument"`
}

// Tag is an IAM tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// Document is an IAM policy document.
type Document struct {
	Version   string       `json:"Version"`
	Statement []*Statement `json:"Statement"`
}

// Statement is one statement. Action and Resource are always lists.
type Statement struct {
	Sid       string                    `json:"Sid,omitempty"`
	Effect    string                    `json:"Effect"`
	Principal map[string]string         `json:"Principal,omitempty"`
	Action    []string                  `json:"Action"`
	Resource  []string                  `json:"Resource,omitempty"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// Policy names.
const (
	PolicyOrchestrate = "orchestrate"
	PolicyLogDelivery = "log-delivery"
	PolicyBackfillS3  = "backfill-s3"
	PolicyS3          = "s3"
	PolicyLogs        = "logs"
	PolicyPull        = "pull"
	PolicyDescribe    = "describe"
	PolicyTaskRunner  = "task-runner"
	PolicySecrets     = "secrets"
)

// maxInlinePolicies is IAM's limit on a role's inline policies together,
// in characters without whitespace.
const maxInlinePolicies = 10240

// Notes for Resource "*".
const (
	NoteLogDelivery = "Resource \"*\": CloudWatch Logs log-delivery actions (logs:CreateLogDelivery and the others Step Functions logging needs) support no resource narrower than \"*\" (Step Functions developer guide, \"IAM policies for logging to CloudWatch Logs\")."
	NoteECRAuth     = "Resource \"*\": ecr:GetAuthorizationToken is account-wide and supports no resource narrower than \"*\"; pulling is still limited to the task's repository."
	NoteEC2Describe = "Resource \"*\": the EC2 Describe actions Data Pipeline uses to launch and watch its worker instance support no resource narrower than \"*\" (Service Authorization Reference, Amazon EC2); launching and terminating are limited to instances with this pipeline's instance profile."
	NoteTaskRunner  = "Resource \"*\": the Task Runner on the worker instance polls with datapipeline:PollForTask and reports with ReportTaskRunnerHeartbeat, which name no pipeline; ReportTaskProgress and SetTaskStatus carry only the ids of tasks Data Pipeline handed this worker."
	NoteListDP      = "Resource \"*\": datapipeline:ListPipelines supports no resource or tag condition (the trigger lists pipelines to find its own by name), and datapipeline:CreatePipeline no resource (it is limited to pipelines created with this configuration's tags); everything else the trigger does to pipelines is limited to pipelines tagged with this configuration's pipelines."
)

// Build returns every role, sorted by name.
func Build(g *graph.Graph) ([]*Role, hcl.Diagnostics) {
	b := &builder{g: g, roles: map[string]*Role{}}
	for _, p := range g.Pipelines {
		b.stateMachine(p)
		if p.Backfill != "" {
			b.backfill(p)
		}
		b.dataPipeline(p)
	}
	b.tasks()
	b.platform()
	names := make([]string, 0, len(b.roles))
	for n := range b.roles {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*Role, 0, len(names))
	for _, n := range names {
		r := b.roles[n]
		if err := b.finish(r); err != nil {
			b.diags = append(b.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Internal compiler error", Detail: err.Error() + " Please report this."})
			continue
		}
		out = append(out, r)
	}
	return out, b.diags
}

type builder struct {
	g     *graph.Graph
	roles map[string]*Role
	diags hcl.Diagnostics
	// ranges of the blocks, for size diagnostics.
	ranges map[string]hcl.Range
	// runs holds, by task name, the prefixes of the step results of the
	// pipelines whose steps run it (runstate.go); made on first use.
	runs map[string][]string
}

func (b *builder) role(name, block, desc string, trust *Document, rng hcl.Range) *Role {
	if r, ok := b.roles[name]; ok {
		return r
	}
	r := &Role{Block: block, Trust: trust, Create: &CreateRoleInput{RoleName: name, Path: "/", Description: desc}}
	for _, t := range ecs.Tags(b.g, block) {
		r.Create.Tags = append(r.Create.Tags, Tag{Key: t.Key, Value: t.Value})
	}
	b.roles[name] = r
	if b.ranges == nil {
		b.ranges = map[string]hcl.Range{}
	}
	b.ranges[name] = rng
	return r
}

func (r *Role) add(name string, stmts []*Statement, notes ...string) {
	if len(stmts) == 0 {
		return
	}
	r.Policies = append(r.Policies, &Policy{Put: &PutRolePolicyInput{RoleName: r.Create.RoleName, PolicyName: name}, Doc: &Document{Version: "2012-10-17", Statement: stmts}, Notes: notes})
}

// finish encodes the documents into the API inputs' strings, and checks
// IAM's size limit.
func (b *builder) finish(r *Role) error {
	trust, err := json.Marshal(r.Trust)
	if err != nil {
		return fmt.Errorf("encoding the trust policy of %s: %w", r.Create.RoleName, err)
	}
	r.Create.AssumeRolePolicyDocument = string(trust)
	total := 0
	for _, p := range r.Policies {
		doc, err := json.Marshal(p.Doc)
		if err != nil {
			return fmt.Errorf("encoding policy %s of %s: %w", p.Put.PolicyName, r.Create.RoleName, err)
		}
		p.Put.PolicyDocument = string(doc)
		total += len(doc)
	}
	if total > maxInlinePolicies && widen(r) {
		rng := b.ranges[r.Create.RoleName]
		b.diags = append(b.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "IAM policy widened to fit",
			Detail:  fmt.Sprintf("Role %s, which cumulus derives from %s, would need %d characters of inline policies to list every S3 prefix its steps use, but IAM accepts %d per role, so its S3 access is widened to the common prefix of each bucket's prefixes. Give the collections' url_path a common literal start, or split the pipelines among tasks, to keep it exact.", r.Create.RoleName, r.Block, total, maxInlinePolicies),
			Subject: &rng})
		total = 0
		for _, p := range r.Policies {
			doc, err := json.Marshal(p.Doc)
			if err != nil {
				return fmt.Errorf("encoding policy %s of %s: %w", p.Put.PolicyName, r.Create.RoleName, err)
			}
			p.Put.PolicyDocument = string(doc)
			total += len(doc)
		}
	}
	if total > maxInlinePolicies {
		rng := b.ranges[r.Create.RoleName]
		b.diags = append(b.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "IAM policies too large",
			Detail:  fmt.Sprintf("The inline policies of role %s, which cumulus derives from %s, would be %d characters; IAM accepts at most %d per role. Split the work among fewer collections or steps per task.", r.Create.RoleName, r.Block, total, maxInlinePolicies),
			Subject: &rng})
	}
	return nil
}

// widen replaces the resources of each statement of r's policies by their
// common prefix and a wildcard (S3 objects bucket by bucket, other ARNs all
// together), and list conditions likewise, and says whether anything
// changed. It is for roles whose exact policies IAM would refuse as too
// large.
func widen(r *Role) bool {
	changed := false
	for _, p := range r.Policies {
		for _, st := range p.Doc.Statement {
			if len(st.Resource) > 1 {
				groups := map[string][]string{}
				var order []string
				for _, res := range st.Resource {
					key, rest := "", res
					if b, ok := strings.CutPrefix(res, "arn:aws:s3:::"); ok {
						bucket, _, _ := strings.Cut(b, "/")
						key = "arn:aws:s3:::" + bucket + "/"
					}
					if _, ok := groups[key]; !ok {
						order = append(order, key)
					}
					groups[key] = append(groups[key], strings.TrimSuffix(strings.TrimPrefix(rest, key), "*"))
				}
				var out []string
				for _, k := range order {
					out = append(out, k+commonPrefix(groups[k])+"*")
				}
				if len(out) < len(st.Resource) {
					st.Resource, changed = out, true
				}
			}
			if like, ok := st.Condition["StringLike"]["s3:prefix"].([]any); ok && len(like) > 1 {
				var ps []string
				for _, v := range like {
					ps = append(ps, strings.TrimSuffix(fmt.Sprint(v), "*"))
				}
				st.Condition["StringLike"]["s3:prefix"] = []any{commonPrefix(ps) + "*"}
				changed = true
			}
		}
	}
	return changed
}

func commonPrefix(s []string) string {
	if len(s) == 0 {
		return ""
	}
	p := s[0]
	for _, x := range s[1:] {
		for !strings.HasPrefix(x, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}

func trust(service string, cond map[string]map[string]any) *Document {
	return &Document{Version: "2012-10-17", Statement: []*Statement{{
		Effect: "Allow", Principal: map[string]string{"Service": service}, Action: []string{"sts:AssumeRole"}, Condition: cond,
	}}}
}

func (b *builder) arnPrefix(service string) string {
	return "arn:aws:" + service + ":" + b.g.Region + ":" + b.g.AccountID + ":"
}

func (b *builder) statesTrust(machine string) *Document {
	return trust("states.amazonaws.com", map[string]map[string]any{
		"StringEquals": {"aws:SourceAccount": b.g.AccountID},
		"ArnLike":      {"aws:SourceArn": b.g.StateMachineARN(machine)},
	})
}

func logDelivery() []*Statement {
	return []*Statement{{Sid: "LogDelivery", Effect: "Allow", Action: []string{
		"logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
		"logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
	}, Resource: []string{"*"}}}
}

// stateMachine is the per-granule machine's role.
func (b *builder) stateMachine(p *graph.Pipeline) {
	g := b.g
	r := b.role(p.StateMachineRole, "pipeline."+p.Name, "cumulus: Step Functions runs pipeline "+p.Name+" with this role", b.statesTrust(p.ResourceName), p.Range)
	var defs, pass, fns []string
	for _, s := range p.Steps {
		if s.Task == nil || NeverRuns(s) {
			continue
		}
		if s.Task.RunsOn == "lambda" {
			arn := g.FunctionARN(s.Task.ResourceName)
			fns = append(fns, arn, arn+":*")
			continue
		}
		arn := g.TaskDefinitionARN(s.Task.ResourceName)
		defs = append(defs, arn, arn+":*")
		pass = append(pass, g.RoleARN(s.Task.TaskRole), g.RoleARN(s.Task.ExecutionRole))
	}
	var stmts []*Statement
	if len(defs) > 0 {
		cluster := g.ClusterARN()
		stmts = append(stmts,
			&Statement{Sid: "RunTasks", Effect: "Allow", Action: []string{"ecs:RunTask"}, Resource: uniq(defs),
				Condition: map[string]map[string]any{"ArnEquals": {"ecs:cluster": cluster}}},
			&Statement{Sid: "WatchTasks", Effect: "Allow", Action: []string{"ecs:DescribeTasks", "ecs:StopTask"},
				Resource: []string{b.arnPrefix("ecs") + "task/" + g.Cluster + "/*"}},
			&Statement{Sid: "PassTaskRoles", Effect: "Allow", Action: []string{"iam:PassRole"}, Resource: uniq(pass),
				Condition: map[string]map[string]any{"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
			&Statement{Sid: "SyncRule", Effect: "Allow", Action: []string{"events:DescribeRule", "events:PutRule", "events:PutTargets"},
				Resource: []string{b.arnPrefix("events") + "rule/StepFunctionsGetEventsForECSTaskRule"}},
		)
	}
	if len(fns) > 0 {
		stmts = append(stmts, &Statement{Sid: "InvokeFunctions", Effect: "Allow", Action: []string{"lambda:InvokeFunction"}, Resource: uniq(fns)})
	}
	if p.Notify != "" {
		stmts = append(stmts, &Statement{Sid: "NotifyFailure", Effect: "Allow", Action: []string{"sns:Publish"}, Resource: []string{p.Notify}})
	}
	r.add(PolicyOrchestrate, stmts)
	r.add(PolicyLogDelivery, logDelivery(), NoteLogDelivery)
}

// backfill is the backfill machine's role.
func (b *builder) backfill(p *graph.Pipeline) {
	g := b.g
	r := b.role(p.BackfillRole, "pipeline."+p.Name, "cumulus: Step Functions runs the backfill of pipeline "+p.Name+" with this role", b.statesTrust(p.Backfill), p.Range)
	exec := b.arnPrefix("states") + "execution:"
	bucket := "arn:aws:s3:::" + g.ArtifactBucket + "/"
	r.add(PolicyOrchestrate, []*Statement{
		{Sid: "StartGranules", Effect: "Allow", Action: []string{"states:StartExecution"}, Resource: []string{g.StateMachineARN(p.ResourceName), g.StateMachineARN(p.Backfill)}},
		{Sid: "WatchGranules", Effect: "Allow", Action: []string{"states:DescribeExecution", "states:StopExecution"},
			Resource: []string{exec + p.ResourceName + ":*", exec + p.Backfill + "/*"}},
		{Sid: "SyncRule", Effect: "Allow", Action: []string{"events:DescribeRule", "events:PutRule", "events:PutTargets"},
			Resource: []string{b.arnPrefix("events") + "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"}},
	})
	r.add(PolicyBackfillS3, []*Statement{
		{Sid: "ReadLists", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{bucket + stepfunctions.BackfillListsPrefix(p) + "*"}},
		{Sid: "WriteResults", Effect: "Allow", Action: []string{"s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:PutObject"},
			Resource: []string{bucket + stepfunctions.BackfillResultsPrefix(p) + "/*"}},
	})
	r.add(PolicyLogDelivery, logDelivery(), NoteLogDelivery)
}

// dpARN is the ARN of every Data Pipeline pipeline of the account and
// region: pipeline ids are made by CreatePipeline, so policies tell this
// configuration's pipelines apart by their tags (datapipeline:Tag/KEY).
func (b *builder) dpARN() string { return b.arnPrefix("datapipeline") + "pipeline/*" }

// instanceProfileARN is the ARN of the instance profile of a Data
// Pipeline's resource role, which has the role's name.
func (b *builder) instanceProfileARN(role string) string {
	return "arn:aws:iam::" + b.g.AccountID + ":instance-profile/" + role
}

// dataPipeline is the roles of p's Data Pipeline definition: the service
// role Data Pipeline assumes to launch and end the worker (an Ec2Resource,
// and no EMR resource, so Data Pipeline alone assumes it) and alarm, and the
// resource role of the worker, whose activities run the steps' ECS tasks
// and Lambda functions (see package datapipeline) and whose Task Runner
// uploads their logs.
func (b *builder) dataPipeline(p *graph.Pipeline) {
	g := b.g
	block := "pipeline." + p.Name
	profile := b.instanceProfileARN(p.DataPipelineResource)
	ec2 := "arn:aws:ec2:" + g.Region + ":" + g.AccountID + ":"
	byProfile := map[string]map[string]any{"ArnEquals": {"ec2:InstanceProfile": profile}}

	r := b.role(p.DataPipelineRole, block, "cumulus: AWS Data Pipeline runs pipeline "+p.Name+" with this role (launches and ends its worker)",
		trust("datapipeline.amazonaws.com", map[string]map[string]any{"StringEquals": {"aws:SourceAccount": g.AccountID}}), p.Range)
	subnets, groups := []string{ec2 + "subnet/*"}, []string{ec2 + "security-group/*"}
	if len(g.Subnets) > 0 {
		subnets = []string{ec2 + "subnet/" + g.Subnets[0]}
	}
	if len(g.SecurityGroups) > 0 {
		groups = nil
		for _, sg := range g.SecurityGroups {
			groups = append(groups, ec2+"security-group/"+sg)
		}
	}
	stmts := []*Statement{
		{Sid: "LaunchWorker", Effect: "Allow", Action: []string{"ec2:RunInstances"}, Resource: []string{ec2 + "instance/*"},
			Condition: map[string]map[string]any{"StringEquals": {"ec2:InstanceType": datapipeline.WorkerInstanceType}, "ArnEquals": {"ec2:InstanceProfile": profile}}},
		{Sid: "LaunchWorkerWith", Effect: "Allow", Action: []string{"ec2:RunInstances"},
			Resource: append(append([]string{"arn:aws:ec2:" + g.Region + "::image/*", ec2 + "network-interface/*", ec2 + "volume/*"}, subnets...), groups...)},
		{Sid: "TagWorker", Effect: "Allow", Action: []string{"ec2:CreateTags"}, Resource: []string{ec2 + "instance/*"},
			Condition: map[string]map[string]any{"StringEquals": {"ec2:CreateAction": "RunInstances"}}},
		{Sid: "EndWorker", Effect: "Allow", Action: []string{"ec2:TerminateInstances"}, Resource: []string{ec2 + "instance/*"}, Condition: byProfile},
		{Sid: "PassWorkerRole", Effect: "Allow", Action: []string{"iam:PassRole"}, Resource: []string{g.RoleARN(p.DataPipelineResource)},
			Condition: map[string]map[string]any{"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}},
		{Sid: "ReadWorkerProfile", Effect: "Allow", Action: []string{"iam:GetInstanceProfile"}, Resource: []string{profile}},
	}
	if p.Notify != "" {
		stmts = append(stmts, &Statement{Sid: "NotifyFailure", Effect: "Allow", Action: []string{"sns:Publish"}, Resource: []string{p.Notify}})
	}
	r.add(PolicyOrchestrate, stmts)
	r.add(PolicyDescribe, []*Statement{{Sid: "WatchWorker", Effect: "Allow", Action: []string{
		"ec2:DescribeImages", "ec2:DescribeInstanceStatus", "ec2:DescribeInstances", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets",
	}, Resource: []string{"*"}}}, NoteEC2Describe)

	res := b.role(p.DataPipelineResource, block, "cumulus: the worker instance of pipeline "+p.Name+" on AWS Data Pipeline (its instance profile) runs the steps with this role",
		trust("ec2.amazonaws.com", nil), p.Range)
	// Every step with a task: on Data Pipeline the step wrapper decides
	// when, so even a step whose when is false starts its task.
	var defs, pass, fns []string
	for _, s := range p.Steps {
		if s.Task == nil {
			continue
		}
		if s.Task.RunsOn == "lambda" {
			fns = append(fns, g.FunctionARN(s.Task.ResourceName))
			continue
		}
		arn := g.TaskDefinitionARN(s.Task.ResourceName)
		defs = append(defs, arn, arn+":*")
		pass = append(pass, g.RoleARN(s.Task.TaskRole), g.RoleARN(s.Task.ExecutionRole))
	}
	var run []*Statement
	if len(defs) > 0 {
		run = append(run,
			&Statement{Sid: "RunTasks", Effect: "Allow", Action: []string{"ecs:RunTask"}, Resource: uniq(defs),
				Condition: map[string]map[string]any{"ArnEquals": {"ecs:cluster": g.ClusterARN()}}},
			&Statement{Sid: "WatchTasks", Effect: "Allow", Action: []string{"ecs:DescribeTasks", "ecs:StopTask"},
				Resource: []string{b.arnPrefix("ecs") + "task/" + g.Cluster + "/*"}},
			&Statement{Sid: "PassTaskRoles", Effect: "Allow", Action: []string{"iam:PassRole"}, Resource: uniq(pass),
				Condition: map[string]map[string]any{"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
		)
	}
	if len(fns) > 0 {
		run = append(run, &Statement{Sid: "InvokeFunctions", Effect: "Allow", Action: []string{"lambda:InvokeFunction"}, Resource: uniq(fns)})
	}
	res.add(PolicyOrchestrate, run)
	res.add(PolicyTaskRunner, []*Statement{{Sid: "TaskRunner", Effect: "Allow", Action: []string{
		"datapipeline:PollForTask", "datapipeline:ReportTaskProgress", "datapipeline:ReportTaskRunnerHeartbeat", "datapipeline:SetTaskStatus",
	}, Resource: []string{"*"}}}, NoteTaskRunner)
	if g.ArtifactBucket != "" {
		res.add(PolicyLogs, []*Statement{{Sid: "WriteLogs", Effect: "Allow", Action: []string{S3Put},
			Resource: []string{"arn:aws:s3:::" + strings.TrimPrefix(datapipeline.LogURI(g, p), "s3://") + "*"}}})
	}
}

// tasks writes the roles of every task a step runs.
func (b *builder) tasks() {
	g := b.g
	access := StepAccess(g)
	for _, t := range g.Tasks {
		block := "task." + t.Name
		rng := t.Range
		if t.Platform {
			block = "platform"
			rng = firstUse(g, t)
		}
		logs := &Statement{Sid: "WriteLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resource: []string{g.LogGroupARN(t.LogGroup)}}
		s3 := access[t.Name].Statements()
		if t.RunsOn == "lambda" {
			r := b.role(t.TaskRole, block, "cumulus: the Lambda function of "+block, trust("lambda.amazonaws.com", nil), rng)
			r.add(PolicyLogs, []*Statement{logs})
			r.add(PolicyS3, s3)
			b.runState(r, t)
			continue
		}
		ecsTrust := trust("ecs-tasks.amazonaws.com", map[string]map[string]any{
			"StringEquals": {"aws:SourceAccount": g.AccountID},
			"ArnLike":      {"aws:SourceArn": b.arnPrefix("ecs") + "*"},
		})
		r := b.role(t.TaskRole, block, "cumulus: what the containers of "+block+" may do", ecsTrust, rng)
		r.add(PolicyS3, s3)
		b.runState(r, t)
		x := b.role(t.ExecutionRole, block, "cumulus: what ECS may do to start "+block+" (pull its image, write its logs)", ecsTrust, rng)
		b.pull(x, t, logs)
	}
}

// firstUse is the range of the first step that runs a platform task, which
// has no block of its own.
func firstUse(g *graph.Graph, t *graph.Task) hcl.Range {
	for _, p := range g.Pipelines {
		for _, s := range p.Steps {
			if s.Task == t {
				return s.Range
			}
		}
	}
	return hcl.Range{}
}

// platform writes the roles of cumulus's own pieces: each source's poller
// (task, execution) and the EventBridge role that starts it, the trigger
// function that starts a run per staged granule, and each distribution's
// function.
func (b *builder) platform() {
	g := b.g
	ecsTrust := trust("ecs-tasks.amazonaws.com", map[string]map[string]any{
		"StringEquals": {"aws:SourceAccount": g.AccountID},
		"ArnLike":      {"aws:SourceArn": b.arnPrefix("ecs") + "*"},
	})
	logs := func(t *graph.Task) *Statement {
		return &Statement{Sid: "WriteLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resource: []string{g.LogGroupARN(t.LogGroup)}}
	}
	var staged []string
	for _, s := range g.Sources {
		block := "source." + s.Name
		t := s.Task
		var stage []string
		if c := g.Collection(s.Collection); c != nil {
			if l, ok := Staging(g, c); ok {
				stage = append(stage, l.ObjectARN())
			}
		}
		staged = append(staged, stage...)
		r := b.role(t.TaskRole, block, "cumulus: what the poller of "+block+" may do (stage files)", ecsTrust, s.Range)
		b.runState(r, t)
		if len(stage) > 0 {
			stmts := []*Statement{
				{Sid: "ReadObjects", Effect: "Allow", Action: []string{S3Get}, Resource: stage},
				{Sid: "WriteObjects", Effect: "Allow", Action: []string{S3Put}, Resource: stage},
			}
			// The poller looks for a granule's manifest by listing its
			// key (runtime/platform): only under its collection.
			stmts = append(stmts, listStatements("ListStaged", map[string]map[string]bool{"arn:aws:s3:::" + g.ArtifactBucket: {s.Collection + "/": true}})...)
			r.add(PolicyS3, stmts)
		}
		x := b.role(t.ExecutionRole, block, "cumulus: what ECS may do to start the poller of "+block, ecsTrust, s.Range)
		b.pull(x, t, logs(t))
		def := g.TaskDefinitionARN(t.ResourceName)
		sch := b.role(s.ScheduleRole, block, "cumulus: EventBridge starts the poller of "+block+" with this role",
			trust("events.amazonaws.com", map[string]map[string]any{"StringEquals": {"aws:SourceAccount": g.AccountID}}), s.Range)
		sch.add(PolicyOrchestrate, []*Statement{
			{Sid: "RunPoller", Effect: "Allow", Action: []string{"ecs:RunTask"}, Resource: []string{def, def + ":*"},
				Condition: map[string]map[string]any{"ArnEquals": {"ecs:cluster": g.ClusterARN()}}},
			{Sid: "PassPollerRoles", Effect: "Allow", Action: []string{"iam:PassRole"}, Resource: uniq([]string{g.RoleARN(t.TaskRole), g.RoleARN(t.ExecutionRole)}),
				Condition: map[string]map[string]any{"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
		})
	}
	for _, f := range g.Functions {
		r := b.role(f.TaskRole, "platform", "cumulus: the Lambda function "+f.Name, trust("lambda.amazonaws.com", nil), hcl.Range{})
		r.add(PolicyLogs, []*Statement{logs(f)})
		b.runState(r, f)
		stmts, notes := b.startRuns()
		if len(staged) > 0 {
			stmts = append(stmts, &Statement{Sid: "ReadStaged", Effect: "Allow", Action: []string{S3Get}, Resource: uniq(staged)})
		}
		r.add(PolicyOrchestrate, stmts, notes...)
	}
	for _, d := range g.Distributions {
		block := "distribution." + d.Name
		f := d.Function
		r := b.role(f.TaskRole, block, "cumulus: the function that serves "+block, trust("lambda.amazonaws.com", nil), d.Range)
		r.add(PolicyLogs, []*Statement{logs(f)})
		b.runState(r, f)
		if g.ArtifactBucket != "" {
			r.add(PolicySecrets, []*Statement{SecretsStatement(g)})
		}
		var objs []string
		for _, bk := range d.Buckets {
			objs = append(objs, "arn:aws:s3:::"+bk.BucketName+"/*")
		}
		if len(objs) > 0 {
			r.add(PolicyS3, []*Statement{{Sid: "ReadObjects", Effect: "Allow", Action: []string{S3Get}, Resource: uniq(objs)}})
		}
	}
}

// startRuns is what the trigger function needs to start a run of a
// pipeline for a granule, on the deployment's orchestrator: with Step
// Functions, start an execution of exactly the pipelines' state machines;
// with Data Pipeline, run each granule in a pipeline of its own made from
// the pipeline's definition (package datapipeline): find the deployed
// pipeline and read its definition, create a pipeline tagged as that
// pipeline, put the definition, activate it, and delete it when it is done,
// passing the pipeline's two roles. Data Pipeline ids are made by
// CreatePipeline, so these statements name this configuration's pipelines
// by their tags (cumulus:config and cumulus:block, which deploy sets).
func (b *builder) startRuns() ([]*Statement, []string) {
	g := b.g
	if len(g.Pipelines) == 0 {
		return nil, nil
	}
	if g.Orchestrator != "datapipeline" {
		var machines []string
		for _, p := range g.Pipelines {
			machines = append(machines, g.StateMachineARN(p.ResourceName))
		}
		return []*Statement{{Sid: "StartRuns", Effect: "Allow", Action: []string{"states:StartExecution"}, Resource: uniq(machines)}}, nil
	}
	var blocks, roles []string
	for _, p := range g.Pipelines {
		blocks = append(blocks, "pipeline."+p.Name)
		roles = append(roles, g.RoleARN(p.DataPipelineRole), g.RoleARN(p.DataPipelineResource))
	}
	blocks = uniq(blocks)
	tagged := func(key string) map[string]map[string]any {
		return map[string]map[string]any{"StringEquals": {key + "/cumulus:config": g.Prefix, key + "/cumulus:block": blocks}}
	}
	return []*Statement{
		{Sid: "FindPipelines", Effect: "Allow", Action: []string{"datapipeline:ListPipelines"}, Resource: []string{"*"}},
		{Sid: "CreateRuns", Effect: "Allow", Action: []string{"datapipeline:CreatePipeline"}, Resource: []string{"*"}, Condition: tagged("aws:RequestTag")},
		{Sid: "TagRuns", Effect: "Allow", Action: []string{"datapipeline:AddTags"}, Resource: []string{b.dpARN()}, Condition: tagged("aws:RequestTag")},
		{Sid: "StartRuns", Effect: "Allow", Action: []string{
			"datapipeline:ActivatePipeline", "datapipeline:DeletePipeline", "datapipeline:DescribePipelines",
			"datapipeline:GetPipelineDefinition", "datapipeline:PutPipelineDefinition",
		}, Resource: []string{b.dpARN()}, Condition: tagged("datapipeline:Tag")},
		{Sid: "PassPipelineRoles", Effect: "Allow", Action: []string{"iam:PassRole"}, Resource: uniq(roles),
			Condition: map[string]map[string]any{"StringEquals": {"iam:PassedToService": []string{"datapipeline.amazonaws.com", "ec2.amazonaws.com"}}}},
	}, []string{NoteListDP}
}

// pull gives an execution role its log group and, for an image in Amazon
// ECR, its repository.
func (b *builder) pull(x *Role, t *graph.Task, logs *Statement) {
	pull := []*Statement{logs}
	var notes []string
	if repo, ok := ecrRepository(t.Image); ok {
		pull = append(pull,
			&Statement{Sid: "PullImage", Effect: "Allow", Action: []string{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}, Resource: []string{repo}},
			&Statement{Sid: "ECRLogin", Effect: "Allow", Action: []string{"ecr:GetAuthorizationToken"}, Resource: []string{"*"}},
		)
		notes = append(notes, NoteECRAuth)
	}
	x.add(PolicyPull, pull, notes...)
}

// ecrRepository is the repository ARN of an image in Amazon ECR
// (ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME:TAG).
func ecrRepository(image string) (string, bool) {
	host, rest, ok := strings.Cut(image, "/")
	if !ok {
		return "", false
	}
	parts := strings.Split(host, ".")
	if len(parts) < 6 || parts[1] != "dkr" || parts[2] != "ecr" {
		return "", false
	}
	name := rest
	if i := strings.LastIndex(name, "@"); i >= 0 {
		name = name[:i]
	} else if i := strings.LastIndex(name, ":"); i >= 0 {
		name = name[:i]
	}
	return "arn:aws:ecr:" + parts[3] + ":" + parts[0] + ":repository/" + name, true
}

// NeverRuns says whether a step's when is the constant false: the state
// machine only skips it, so its role needs nothing for it.
func NeverRuns(s *graph.Step) bool {
	return s.When != nil && s.When.IsStatic() && string(s.When.Static) == "false"
}

func uniq(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}
