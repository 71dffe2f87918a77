package engine

import (
	"encoding/json"
	"fmt"

	"github.com/cumulus-toolchain/cumulus/compiler/ecs"
	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/compiler/iam"
)

// What the recorder does to its tables: each write is a read, a merge and
// a conditional write (runtime/dynamostore), and the counters move by an
// update. No Query, Scan or DeleteItem: it never lists nor forgets. Its
// events carry all it records (runtime/recorder), so it reads nothing
// else: no execution history, no graph.
var recorderTableActions = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}

// What the API does to the tables and their indexes: it only reads (a
// page of runs is a query of each shard of an index, the counters a scan,
// a page's granules one batch get).
var apiTableActions = []string{
	"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan",
}

// buildRoles returns the recorder's and the API function's roles, with
// their policies encoded.
func buildRoles(g *graph.Graph, tables []string) ([]*iam.Role, error) {
	e := g.Engine
	var tableARNs, indexARNs []string
	for _, t := range tables {
		arn := g.TableARN(t)
		tableARNs = append(tableARNs, arn)
		indexARNs = append(indexARNs, arn, arn+"/index/*")
	}

	rec := newRole(g, e.Recorder, "cumulus: the engine's recorder function (writes the engine's tables from Step Functions events)")
	rec.add(iam.PolicyLogs, writeLogs(g, e.Recorder))
	rec.add(PolicyWriteState, &iam.Statement{Sid: "WriteState", Effect: "Allow", Action: recorderTableActions, Resource: tableARNs})

	api := newRole(g, e.API, "cumulus: the engine API function (reads the engine's tables and the steps' logs)")
	api.add(iam.PolicyLogs, writeLogs(g, e.API))
	api.add(PolicyReadState, &iam.Statement{Sid: "ReadState", Effect: "Allow", Action: apiTableActions, Resource: indexARNs})
	var groups []string
	for _, lg := range e.StepLogGroups {
		groups = append(groups, g.LogGroupARN(lg))
	}
	if len(groups) > 0 {
		api.add(PolicyStepLogs, &iam.Statement{Sid: "ReadStepLogs", Effect: "Allow",
			Action: []string{"logs:FilterLogEvents", "logs:GetLogEvents"}, Resource: groups})
	}

	// The API reads the compiled graph, where graph.Engine tells it it is.
	if g.GraphURL() != "" {
		api.add(PolicyReadGraph, &iam.Statement{Sid: "ReadGraph", Effect: "Allow", Action: []string{iam.S3Get},
			Resource: []string{"arn:aws:s3:::" + g.ArtifactBucket + "/" + graph.GraphKey}})
		if e.DashboardAuth != "" {
			// Behind a distribution's logins: its signing key and users.
			api.add(iam.PolicySecrets, iam.SecretsStatement(g))
		}
	}

	out := []*iam.Role{rec.Role, api.Role}
	for _, r := range out {
		if err := encode(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type role struct{ *iam.Role }

func newRole(g *graph.Graph, f *graph.Task, desc string) role {
	trust := &iam.Document{Version: "2012-10-17", Statement: []*iam.Statement{{
		Effect: "Allow", Principal: map[string]string{"Service": "lambda.amazonaws.com"}, Action: []string{"sts:AssumeRole"},
	}}}
	r := &iam.Role{Block: "platform", Trust: trust, Create: &iam.CreateRoleInput{RoleName: f.TaskRole, Path: "/", Description: desc}}
	for _, t := range ecs.Tags(g, "platform") {
		r.Create.Tags = append(r.Create.Tags, iam.Tag{Key: t.Key, Value: t.Value})
	}
	return role{r}
}

func (r role) add(name string, st *iam.Statement) {
	r.Policies = append(r.Policies, &iam.Policy{
		Put: &iam.PutRolePolicyInput{RoleName: r.Create.RoleName, PolicyName: name},
		Doc: &iam.Document{Version: "2012-10-17", Statement: []*iam.Statement{st}},
	})
}

// writeLogs is what every function needs: to write its own log group.
func writeLogs(g *graph.Graph, f *graph.Task) *iam.Statement {
	return &iam.Statement{Sid: "WriteLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
		Resource: []string{g.LogGroupARN(f.LogGroup)}}
}

// encode fills the documents' strings of the API inputs, as compiler/iam
// does for its roles.
func encode(r *iam.Role) error {
	trust, err := json.Marshal(r.Trust)
	if err != nil {
		return fmt.Errorf("encoding the trust policy of %s: %w", r.Create.RoleName, err)
	}
	r.Create.AssumeRolePolicyDocument = string(trust)
	for _, p := range r.Policies {
		doc, err := json.Marshal(p.Doc)
		if err != nil {
			return fmt.Errorf("encoding policy %s of %s: %w", p.Put.PolicyName, r.Create.RoleName, err)
		}
		p.Put.PolicyDocument = string(doc)
	}
	return nil
}
