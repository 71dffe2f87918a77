// Package compiler turns a checked configuration into the artifacts an AWS
// account takes: it builds the pipeline graph (compiler/graph), asks each
// target's package for its documents, and writes them with a manifest. Output
// is deterministic: the same configuration gives the same bytes.
package compiler

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"

	"github.com/cumulus-toolchain/cumulus/compiler/datapipeline"
	"github.com/cumulus-toolchain/cumulus/compiler/distribution"
	"github.com/cumulus-toolchain/cumulus/compiler/ecs"
	"github.com/cumulus-toolchain/cumulus/compiler/engine"
	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/compiler/httpapi"
	"github.com/cumulus-toolchain/cumulus/compiler/iam"
	"github.com/cumulus-toolchain/cumulus/compiler/lambda"
	"github.com/cumulus-toolchain/cumulus/compiler/stepfunctions"
	"github.com/cumulus-toolchain/cumulus/lang"
)

// Kinds of artifacts, as the manifest names them.
const (
	KindGraph              = "graph"
	KindECSTaskDefinition  = "ecs-task-definition"
	KindLambdaFunction     = "lambda-function"
	KindEventsRule         = "events-rule"
	KindEventsTargets      = "events-targets"
	KindDataPipeline       = "datapipeline-definition"
	KindStateMachine       = "stepfunctions-definition"
	KindStateMachineCreate = "stepfunctions-create"
	KindIAMRole            = "iam-role"
	KindIAMRolePolicy      = "iam-role-policy"
	KindBucketMap          = "distribution-bucket-map"
	KindCachePolicy        = "cloudfront-cache-policy"

	// The engine's (compiler/engine); the HTTP API's and the permissions'
	// also each distribution's (compiler/httpapi).
	KindDynamoDBTable      = "dynamodb-table"
	KindHTTPAPI            = "apigatewayv2-api"
	KindHTTPAPIIntegration = "apigatewayv2-integration"
	KindHTTPAPIRoute       = "apigatewayv2-route"
	KindHTTPAPIStage       = "apigatewayv2-stage"
	KindLambdaPermission   = "lambda-permission"
	KindLogGroup           = "logs-log-group"
)

// Artifact is one file of the output.
type Artifact struct {
	// Path is relative to the output folder, with forward slashes.
	Path string
	Kind string
	// Block is the configuration block it came from ("task.preprocess"), or
	// "platform" for cumulus's own pieces.
	Block string
	Data  []byte
	// Notes explain what a reviewer would question (an IAM statement
	// with Resource "*", which AWS requires); the manifest carries them.
	Notes []string
}

// Result is a compiled configuration.
type Result struct {
	Graph     *graph.Graph
	Artifacts []Artifact // sorted by Path
}

// Compile builds the graph and every artifact. cfg must have loaded without
// errors. Diagnostics carry what only compiling can find; with errors, the
// Result must not be written.
func Compile(cfg *lang.Config) (*Result, hcl.Diagnostics) {
	g, diags := graph.Build(cfg)
	c := &compilation{cfg: cfg, g: g, diags: diags}
	c.add("graph.json", KindGraph, "platform", g)
	for _, t := range g.Tasks {
		c.task(t)
	}
	for _, f := range g.Functions {
		c.lambda(f, "platform", "cumulus: starts a pipeline run for each granule staged")
	}
	for _, d := range g.Distributions {
		c.distribution(d)
	}
	c.engine()
	for _, s := range g.Sources {
		block := "source." + s.Name
		td, err := ecs.Build(g, s.Task, block)
		if err != nil {
			c.internal(err)
			continue
		}
		c.add("ecs/"+s.Task.Name+".json", KindECSTaskDefinition, block, td)
		rule, targets := ecs.Schedule(g, s)
		c.add("events/"+s.Task.Name+".rule.json", KindEventsRule, block, rule)
		c.add("events/"+s.Task.Name+".targets.json", KindEventsTargets, block, targets)
	}
	for _, p := range g.Pipelines {
		c.pipeline(p)
	}
	c.roles()
	sort.Slice(c.artifacts, func(i, j int) bool { return c.artifacts[i].Path < c.artifacts[j].Path })
	return &Result{Graph: g, Artifacts: c.artifacts}, c.diags
}

type compilation struct {
	cfg       *lang.Config
	g         *graph.Graph
	artifacts []Artifact
	diags     hcl.Diagnostics
}

func (c *compilation) internal(err error) {
	c.diags = append(c.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Internal compiler error", Detail: err.Error() + " Please report this."})
}

func (c *compilation) add(path, kind, block string, doc any) {
	data, err := Marshal(doc)
	if err != nil {
		c.internal(fmt.Errorf("encoding %s: %w", path, err))
		return
	}
	c.artifacts = append(c.artifacts, Artifact{Path: path, Kind: kind, Block: block, Data: data})
}

// distribution writes what AWS needs to serve d: its function, its bucket
// map, a CloudFront cache policy per path, and the HTTP API in front of the
// function with API Gateway's permission to invoke it.
func (c *compilation) distribution(d *graph.Distribution) {
	block := "distribution." + d.Name
	dir := "distribution/" + d.Name
	c.lambda(d.Function, block, "cumulus: serves distribution "+d.Name)
	c.add(dir+"/bucket-map.json", KindBucketMap, block, distribution.BuildBucketMap(d))
	for _, b := range d.Buckets {
		c.add(dir+"/cache-policy."+b.Bucket+".json", KindCachePolicy, block, distribution.BuildCachePolicy(c.g, d, b))
	}
	h := distribution.BuildHTTPAPI(c.g, d)
	c.httpAPI(dir, block, h)
	c.permission(dir, block, h.Permission)
}

// httpAPI writes the documents of an HTTP API under DIR/http-api/. Deploy
// reads the documents of a folder as one API, and the permissions under
// DIR/permissions/ as the ones whose {api-id} is that API's.
func (c *compilation) httpAPI(dir, block string, h *httpapi.Documents) {
	c.add(dir+"/http-api/api.json", KindHTTPAPI, block, h.API)
	c.add(dir+"/http-api/integration.json", KindHTTPAPIIntegration, block, h.Integration)
	for i, r := range h.Routes {
		c.add(dir+"/http-api/route."+h.RouteFiles[i]+".json", KindHTTPAPIRoute, block, r)
	}
	c.add(dir+"/http-api/stage.json", KindHTTPAPIStage, block, h.Stage)
}

// permission writes an AddPermission input under DIR/permissions/.
func (c *compilation) permission(dir, block string, p *httpapi.AddPermission) {
	c.add(dir+"/permissions/"+p.FunctionName+"."+p.StatementID+".json", KindLambdaPermission, block, p)
}

// engine writes what the workflow engine needs on AWS: its store's tables,
// the recorder's rule, the HTTP API in front of the engine API, both
// functions with their log groups, permissions and roles.
func (c *compilation) engine() {
	const block = "platform"
	e := c.g.Engine
	c.lambda(e.Recorder, block, "cumulus: records pipeline runs from Step Functions events in the engine's tables")
	c.lambda(e.API, block, "cumulus: serves the engine API and dashboard")
	d, err := engine.Build(c.g)
	if err != nil {
		c.internal(err)
		return
	}
	for i, t := range d.Tables {
		c.add("engine/tables/"+d.TableNames[i]+".json", KindDynamoDBTable, block, t)
	}
	if d.Rule != nil {
		c.add("events/engine-recorder.rule.json", KindEventsRule, block, d.Rule)
		c.add("events/engine-recorder.targets.json", KindEventsTargets, block, d.Targets)
	}
	c.httpAPI("engine", block, d.HTTPAPI)
	for _, p := range d.Permissions {
		c.permission("engine", block, p)
	}
	for i, lg := range d.LogGroups {
		c.add("engine/log-groups/"+c.g.EngineFunctions()[i].Name+".json", KindLogGroup, block, lg)
	}
	for _, r := range d.Roles {
		c.add("iam/"+r.Create.RoleName+".json", KindIAMRole, r.Block, r.Create)
		for _, p := range r.Policies {
			c.add("iam/"+r.Create.RoleName+"."+p.Put.PolicyName+".json", KindIAMRolePolicy, r.Block, p.Put)
		}
	}
}

// pipeline writes what each orchestration target needs to run p.
func (c *compilation) pipeline(p *graph.Pipeline) {
	c.dataPipeline(p)
	c.stepFunctions(p)
}

func (c *compilation) dataPipeline(p *graph.Pipeline) {
	def, diags := datapipeline.Build(c.g, p)
	c.diags = append(c.diags, diags...)
	if def != nil {
		c.add("datapipeline/"+p.Name+".json", KindDataPipeline, "pipeline."+p.Name, def)
	}
}

// stepFunctions writes p's state machines: the per-granule one and the
// backfill.
func (c *compilation) stepFunctions(p *graph.Pipeline) {
	block := "pipeline." + p.Name
	sm, diags := stepfunctions.Build(c.g, p)
	c.diags = append(c.diags, diags...)
	if sm == nil {
		return
	}
	c.addRaw("stepfunctions/"+p.Name+".asl.json", KindStateMachine, block, sm.Granule.ASL)
	c.add("stepfunctions/"+p.Name+".json", KindStateMachineCreate, block, sm.Granule.Create)
	if sm.Backfill != nil {
		c.addRaw("stepfunctions/"+p.Name+".backfill.asl.json", KindStateMachine, block, sm.Backfill.ASL)
		c.add("stepfunctions/"+p.Name+".backfill.json", KindStateMachineCreate, block, sm.Backfill.Create)
	}
}

// roles writes the IAM roles of the pipelines' state machines and of the
// tasks their steps run, with their inline policies.
func (c *compilation) roles() {
	roles, diags := iam.Build(c.g)
	c.diags = append(c.diags, diags...)
	for _, r := range roles {
		c.add("iam/"+r.Create.RoleName+".json", KindIAMRole, r.Block, r.Create)
		for _, p := range r.Policies {
			c.add("iam/"+r.Create.RoleName+"."+p.Put.PolicyName+".json", KindIAMRolePolicy, r.Block, p.Put)
			c.artifacts[len(c.artifacts)-1].Notes = p.Notes
		}
	}
}

// addRaw adds a document already encoded the way Marshal encodes.
func (c *compilation) addRaw(path, kind, block string, data []byte) {
	c.artifacts = append(c.artifacts, Artifact{Path: path, Kind: kind, Block: block, Data: data})
}

func (c *compilation) task(t *graph.Task) {
	block := "task." + t.Name
	if t.Platform {
		block = "platform"
	}
	if t.RunsOn == "ecs" {
		td, err := ecs.Build(c.g, t, block)
		if err != nil {
			c.internal(err)
			return
		}
		c.add("ecs/"+t.Name+".json", KindECSTaskDefinition, block, td)
		c.checkSize(t, KindECSTaskDefinition, maxTaskDefinitionBytes, "ECS task definition", "Shorten the task's command and environment, or pass large values in a file.")
		return
	}
	desc := "cumulus: task " + t.Name
	if t.Platform {
		desc = "cumulus: standard step " + t.Name
	}
	c.lambda(t, block, desc)
}

func (c *compilation) lambda(t *graph.Task, block, desc string) {
	sha := ""
	if !t.Platform && t.Image == "" {
		b, err := os.ReadFile(filepath.Join(c.cfg.Dir, t.CodeFile))
		if err != nil {
			rng := t.Range
			c.diags = append(c.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Lambda code not found",
				Detail:  fmt.Sprintf("task.%s's code %q cannot be read (%v). Build the zip first, or correct the path (relative to the configuration).", t.Name, t.CodeFile, err),
				Subject: &rng})
			return
		}
		sum := sha256.Sum256(b)
		sha = hex.EncodeToString(sum[:])
	}
	if t.Image == "" && c.g.ArtifactBucket == "" {
		rng := t.Range
		c.diags = append(c.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No bucket for Lambda code",
			Detail:  fmt.Sprintf("The Lambda function of %s is deployed from a zip in S3, kept in the configuration's private bucket, but there is none. Declare one, such as bucket \"internal\" { kind = \"private\" }.", block),
			Subject: &rng})
		return
	}
	f, err := lambda.Build(c.g, t, block, desc, sha)
	if err != nil {
		c.internal(err)
		return
	}
	c.add("lambda/"+t.Name+".json", KindLambdaFunction, block, f)
}

// maxTaskDefinitionBytes is ECS's limit on the size of a task definition.
const maxTaskDefinitionBytes = 64 << 10

// checkSize reports the last artifact added for t when it is larger than AWS
// accepts: a limit the checker cannot see, since it depends on everything
// the compiler puts in the document.
func (c *compilation) checkSize(t *graph.Task, kind string, limit int, what, fix string) {
	if len(c.artifacts) == 0 {
		return
	}
	a := c.artifacts[len(c.artifacts)-1]
	if a.Kind != kind || len(a.Data) <= limit {
		return
	}
	rng := t.Range
	c.diags = append(c.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Artifact too large for AWS",
		Detail:  fmt.Sprintf("The %s of %s would be %d bytes; AWS accepts at most %d. %s", what, a.Block, len(a.Data), limit, fix),
		Subject: &rng})
}

// Marshal encodes a document the way every artifact is written: indented,
// no HTML escaping, a final newline.
func Marshal(doc any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ManifestEntry describes one artifact in manifest.json.
type ManifestEntry struct {
	Path   string `json:"path"`
	Kind   string `json:"kind"`
	Block  string `json:"block"`
	SHA256 string `json:"sha256"`
	Size   int    `json:"size"`
	// Notes say why an artifact is as it is where a reviewer would ask.
	Notes []string `json:"notes,omitempty"`
}

// Manifest is the content of manifest.json.
type Manifest struct {
	Version   string          `json:"cumulus_version"`
	Prefix    string          `json:"prefix"`
	Artifacts []ManifestEntry `json:"artifacts"`
}

// Manifest returns manifest.json: every artifact with its kind, block and
// sha256.
func (r *Result) Manifest() []byte {
	m := Manifest{Version: graph.PlatformVersion, Prefix: r.Graph.Prefix, Artifacts: []ManifestEntry{}}
	for _, a := range r.Artifacts {
		sum := sha256.Sum256(a.Data)
		m.Artifacts = append(m.Artifacts, ManifestEntry{Path: a.Path, Kind: a.Kind, Block: a.Block, SHA256: hex.EncodeToString(sum[:]), Size: len(a.Data), Notes: a.Notes})
	}
	b, _ := Marshal(m) // plain strings and ints always encode
	return b
}
