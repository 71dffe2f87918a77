package iam

import (
	"sort"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

// PolicyRunState is the policy that lets the platform's code on AWS read
// the compiled graph and keep step results (runtime/platform): a step's
// own result it writes, the results of the steps before it it reads.
const PolicyRunState = "run-state"

// graphObject is the ARN of graph.json in the private bucket.
func graphObject(g *graph.Graph) string {
	return "arn:aws:s3:::" + g.ArtifactBucket + "/" + graph.GraphKey
}

// runPrefixes are the key prefixes of the step results of the pipelines
// that run task (by name), sorted. The index is made once: a
// configuration of thousands of pipelines has as many tasks.
func (b *builder) runPrefixes(task string) []string {
	if b.runs == nil {
		seen := map[string]map[string]bool{}
		for _, p := range b.g.Pipelines {
			for _, s := range p.Steps {
				if NeverRuns(s) {
					continue
				}
				if seen[s.TaskName] == nil {
					seen[s.TaskName] = map[string]bool{}
				}
				seen[s.TaskName]["cumulus/runs/"+p.Name+"/"] = true
			}
		}
		b.runs = map[string][]string{}
		for t, m := range seen {
			out := make([]string, 0, len(m))
			for k := range m {
				out = append(out, k)
			}
			sort.Strings(out)
			b.runs[t] = out
		}
	}
	return b.runs[task]
}

// hasGraphEnv says whether the compiler told t where the graph is.
func hasGraphEnv(t *graph.Task) bool {
	for _, e := range t.Environment {
		if e.Name == graph.GraphEnv {
			return true
		}
	}
	return false
}

// runState adds the run-state policy to the role of t: reading graph.json
// when t is told where it is, and the results of its pipelines' runs when
// it runs steps.
func (b *builder) runState(r *Role, t *graph.Task) {
	g := b.g
	if g.ArtifactBucket == "" || !hasGraphEnv(t) {
		return
	}
	stmts := []*Statement{{Sid: "ReadGraph", Effect: "Allow", Action: []string{S3Get}, Resource: []string{graphObject(g)}}}
	if prefixes := b.runPrefixes(t.Name); len(prefixes) > 0 {
		var objs []string
		for _, p := range prefixes {
			objs = append(objs, "arn:aws:s3:::"+g.ArtifactBucket+"/"+p+"*")
		}
		stmts = append(stmts, &Statement{Sid: "StepResults", Effect: "Allow", Action: []string{S3Get, S3Put}, Resource: objs})
		// A skipped step leaves no result: the platform lists the key to
		// tell a missing result from one it may not read.
		stmts = append(stmts, listStatements("ListStepResults", map[string]map[string]bool{"arn:aws:s3:::" + g.ArtifactBucket: set(prefixes)})...)
	}
	if envOf(t, graph.DistributionAPIEnv) != "" {
		// The metadata step finds the distribution's URL by its HTTP API's
		// name: GetApis, which API Gateway authorizes on /apis only.
		stmts = append(stmts, &Statement{Sid: "FindDistribution", Effect: "Allow", Action: []string{"apigateway:GET"}, Resource: []string{"arn:aws:apigateway:" + g.Region + "::/apis"}})
	}
	if f := recorderOf(g, t); f != "" {
		// What the trigger and the steps did, for the engine's record.
		stmts = append(stmts, &Statement{Sid: "ReportToEngine", Effect: "Allow", Action: []string{"lambda:InvokeFunction"}, Resource: []string{g.FunctionARN(f)}})
	}
	r.add(PolicyRunState, stmts)
}

// recorderOf is the recorder function t reports to, "" when none.
func recorderOf(g *graph.Graph, t *graph.Task) string { return envOf(t, graph.RecorderEnv) }

// envOf is the static value of t's environment variable name, "" when
// it has none.
func envOf(t *graph.Task, name string) string {
	for _, e := range t.Environment {
		if e.Name == name {
			return e.Value.StaticString()
		}
	}
	return ""
}

func set(s []string) map[string]bool {
	out := make(map[string]bool, len(s))
	for _, x := range s {
		out[x] = true
	}
	return out
}

// SecretsStatement lets a function read the distribution's secrets: the
// functions that serve a distribution, and the engine API behind one.
func SecretsStatement(g *graph.Graph) *Statement {
	return &Statement{Sid: "ReadSecrets", Effect: "Allow", Action: []string{S3Get}, Resource: []string{"arn:aws:s3:::" + g.ArtifactBucket + "/" + graph.SecretsKey}}
}
