package deploy

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	dptypes "github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/cumulus-toolchain/cumulus/compiler"
	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/compiler/httpapi"
	"github.com/cumulus-toolchain/cumulus/lang"
	"github.com/cumulus-toolchain/cumulus/runtime/platform/layout"
)

// Tags deploy sets on everything it owns.
const (
	TagConfig = "cumulus:config" // the deployment prefix: the owner
	TagStage  = "cumulus:stage"
	TagBlock  = "cumulus:block"
	TagSHA256 = "cumulus:sha256" // content hash of an ECS task definition
)

// Desired is the state the account should be in for one configuration,
// read from the compiled artifacts (documents become SDK inputs as they are).
type Desired struct {
	Prefix  string
	Stage   string
	Account string
	Region  string
	// Tags are the ownership tags and the deployment's own, set on
	// every resource (with cumulus:block added per resource).
	Tags map[string]string

	Buckets         []Bucket
	LogGroups       []LogGroup
	Cluster         string
	TaskDefinitions []TaskDefinition
	Functions       []Function
	Triggers        []Trigger
	// Objects are what the platform's code reads at run time.
	Objects []Object
	// Secrets are the distribution's signing key and users.
	Secrets       *SecretsObject
	Roles         []Role
	StateMachines []StateMachine
	Rules         []Rule
	Pipelines     []DataPipeline
	// The engine's store's tables (tables.go); the HTTP APIs, the engine's
	// and each distribution's, and who may invoke the functions behind
	// them (httpapi.go).
	Tables      []Table
	HTTPAPIs    []*HTTPAPI
	Permissions []Permission
	// Notes are things the plan says but does not do (a target not yet
	// deployable, for instance).
	Notes []string
}

// Bucket is an S3 bucket of the configuration.
type Bucket struct {
	Name  string
	Block string
	Tags  map[string]string
}

// LogGroup is a CloudWatch Logs group a task, function or pipeline writes to.
type LogGroup struct {
	Name          string
	RetentionDays int32
	Tags          map[string]string
}

// TaskDefinition is one ECS task definition family.
type TaskDefinition struct {
	Family string
	Block  string
	// SHA256 is the hex sha256 of the compiled document, kept in the
	// cumulus:sha256 tag: a new revision is registered when it changes.
	SHA256 string
	Input  *ecs.RegisterTaskDefinitionInput
}

// Function is one Lambda function and its code.
type Function struct {
	Name  string
	Block string
	Input *lambda.CreateFunctionInput
	// Zip is the function's code (nil when it runs an image), uploaded to
	// Input.Code's S3 location; CodeSHA256 is its base64 sha256, as
	// Lambda reports it.
	Zip        []byte
	CodeSHA256 string
}

// Trigger is an S3 event notification: objects created under Prefix in
// Bucket invoke Function.
type Trigger struct {
	Bucket   string
	Function string
	ID       string
	Prefix   string
	// Suffix ends the keys of granule manifests, which the pollers write
	// once a granule's files are staged: only they start runs.
	Suffix string
}

// Rule is an EventBridge rule and its targets (a source's schedule).
type Rule struct {
	Name    string
	Block   string
	Rule    *eventbridge.PutRuleInput
	Targets *eventbridge.PutTargetsInput
}

// Table is a DynamoDB table of the engine's store.
type Table struct {
	Name  string
	Block string
	Input *dynamodb.CreateTableInput
}

// HTTPAPI is an API Gateway HTTP API in front of one function (the engine
// API's, a distribution's): the API, its one integration, its routes and
// its stage. The inputs after the API's carry compiler/httpapi's
// placeholders for the ids API Gateway assigns.
type HTTPAPI struct {
	Name  string
	Block string
	// Title says what the API serves, for people: "Engine API and
	// dashboard", "Distribution NAME".
	Title       string
	API         *apigatewayv2.CreateApiInput
	Integration *apigatewayv2.CreateIntegrationInput
	Routes      []*apigatewayv2.CreateRouteInput
	Stage       *apigatewayv2.CreateStageInput
}

// Permission lets a service invoke a function (a statement of its resource
// policy); its SourceArn may hold the id placeholder of the HTTP API named
// API.
type Permission struct {
	Function string
	Block    string
	// API is the name of the HTTP API whose id fills the SourceArn's
	// placeholder: the one compiled in the same folder.
	API   string
	Input *lambda.AddPermissionInput
}

// DataPipeline is one AWS Data Pipeline and its definition.
type DataPipeline struct {
	Name       string // the pipeline's AWS name
	Pipeline   string // the configuration's pipeline block name
	UniqueID   string
	Block      string
	Tags       map[string]string
	Definition *PipelineDefinition
}

// PipelineDefinition is the PutPipelineDefinition input without the id.
type PipelineDefinition struct {
	Objects    []dptypes.PipelineObject
	Parameters []dptypes.ParameterObject
	Values     []dptypes.ParameterValue
}

// DesireOptions are what the desired state needs beyond the artifacts.
type DesireOptions struct {
	Stage string
	// PlatformZip is the bootstrap zip of the platform functions (see
	// [Package]); nil plans them as "code unknown" and apply refuses.
	PlatformZip []byte
	// DistUsers are the distribution's local users with their passwords
	// (NAME:PASSWORD,..., CUMULUS_DIST_USERS where deploy runs), kept in
	// the distribution's secrets; "" leaves what is there.
	DistUsers string
}

// Resolve fills the deployment's account and region from the caller's
// identity and the SDK's region when the configuration leaves them out, and
// refuses a configuration that names another account or region than the
// credentials reach. Call it before compiling, so ARNs name the real account.
func Resolve(cfg *lang.Config, account, region string) error {
	d := cfg.Deployment
	if d == nil {
		return fmt.Errorf("the configuration has no deployment settings")
	}
	switch {
	case d.AccountID == "":
		d.AccountID = account
	case account != "" && d.AccountID != account:
		return fmt.Errorf("the configuration deploys to account %s (deployment.account_id), but the credentials are for account %s: use the profile of account %s, or correct account_id", d.AccountID, account, d.AccountID)
	}
	switch {
	case d.Region == "":
		if region == "" {
			return fmt.Errorf("no region: set deployment.region, or pass -region (or AWS_REGION)")
		}
		d.Region = region
	case region != "" && d.Region != region:
		return fmt.Errorf("the configuration deploys to region %s (deployment.region), but -region says %s", d.Region, region)
	}
	return nil
}

// Desire builds the desired state from a compiled configuration. cfg is
// the configuration res was compiled from (for its buckets and the
// location of user Lambda code).
func Desire(cfg *lang.Config, res *compiler.Result, opts DesireOptions) (*Desired, error) {
	g := res.Graph
	for _, p := range g.Placeholder {
		return nil, fmt.Errorf("the compiled artifacts still hold a placeholder %s: resolve the account and region before compiling", p)
	}
	d := &Desired{Prefix: g.Prefix, Stage: opts.Stage, Account: g.AccountID, Region: g.Region, Cluster: g.Cluster}
	d.Tags = map[string]string{}
	for k, v := range g.Tags {
		d.Tags[k] = v
	}
	d.Tags[TagConfig] = g.Prefix
	if opts.Stage != "" {
		d.Tags[TagStage] = opts.Stage
	}
	tags := func(block string) map[string]string {
		m := make(map[string]string, len(d.Tags)+1)
		for k, v := range d.Tags {
			m[k] = v
		}
		m[TagBlock] = block
		return m
	}
	for _, b := range cfg.Buckets {
		d.Buckets = append(d.Buckets, Bucket{Name: b.BucketName, Block: "bucket." + b.Name, Tags: tags("bucket." + b.Name)})
	}
	d.LogGroups = logGroups(g, tags("platform"))

	platformSHA := ""
	if opts.PlatformZip != nil {
		sum := sha256.Sum256(opts.PlatformZip)
		platformSHA = base64.StdEncoding.EncodeToString(sum[:])
	}
	for _, a := range res.Artifacts {
		switch a.Kind {
		case compiler.KindECSTaskDefinition:
			var in ecs.RegisterTaskDefinitionInput
			if err := json.Unmarshal(a.Data, &in); err != nil {
				return nil, fmt.Errorf("reading %s: %w", a.Path, err)
			}
			sum := sha256.Sum256(a.Data)
			td := TaskDefinition{Family: aws.ToString(in.Family), Block: a.Block, SHA256: hex.EncodeToString(sum[:]), Input: &in}
			in.Tags = append(withStage(in.Tags, opts.Stage), ecsTag(TagSHA256, td.SHA256))
			d.TaskDefinitions = append(d.TaskDefinitions, td)
		case compiler.KindLambdaFunction:
			var in lambda.CreateFunctionInput
			if err := json.Unmarshal(a.Data, &in); err != nil {
				return nil, fmt.Errorf("reading %s: %w", a.Path, err)
			}
			if opts.Stage != "" {
				in.Tags[TagStage] = opts.Stage
			}
			f := Function{Name: aws.ToString(in.FunctionName), Block: a.Block, Input: &in}
			if in.Code != nil && in.Code.ImageUri == nil {
				if t := findTask(g, f.Name); t != nil && !t.Platform && t.CodeFile != "" {
					zip, err := os.ReadFile(filepath.Join(cfg.Dir, t.CodeFile))
					if err != nil {
						return nil, fmt.Errorf("reading the code of %s: %w", a.Block, err)
					}
					f.Zip = zip
					sum := sha256.Sum256(zip)
					f.CodeSHA256 = base64.StdEncoding.EncodeToString(sum[:])
				} else {
					f.Zip, f.CodeSHA256 = opts.PlatformZip, platformSHA
				}
			}
			d.Functions = append(d.Functions, f)
		case compiler.KindIAMRole:
			var in iam.CreateRoleInput
			if err := json.Unmarshal(a.Data, &in); err != nil {
				return nil, fmt.Errorf("reading %s: %w", a.Path, err)
			}
			if opts.Stage != "" {
				in.Tags = append(in.Tags, iamtypes.Tag{Key: aws.String(TagStage), Value: aws.String(opts.Stage)})
			}
			d.Roles = append(d.Roles, Role{Name: aws.ToString(in.RoleName), Block: a.Block, Input: &in})
		case compiler.KindStateMachineCreate:
			if g.Orchestrator == "datapipeline" {
				continue
			}
			var in sfn.CreateStateMachineInput
			if err := json.Unmarshal(a.Data, &in); err != nil {
				return nil, fmt.Errorf("reading %s: %w", a.Path, err)
			}
			if opts.Stage != "" {
				in.Tags = append(in.Tags, sfntypes.Tag{Key: aws.String(TagStage), Value: aws.String(opts.Stage)})
			}
			d.StateMachines = append(d.StateMachines, StateMachine{Name: aws.ToString(in.Name), Block: a.Block, Input: &in})
		case compiler.KindEventsRule:
			var in eventbridge.PutRuleInput
			if err := json.Unmarshal(a.Data, &in); err != nil {
				return nil, fmt.Errorf("reading %s: %w", a.Path, err)
			}
			in.Tags = append(in.Tags, ebTags(opts.Stage)...)
			d.Rules = append(d.Rules, Rule{Name: aws.ToString(in.Name), Block: a.Block, Rule: &in})
		case compiler.KindDataPipeline:
			if g.Orchestrator != "datapipeline" {
				continue
			}
			p := g.Pipeline(strings.TrimPrefix(a.Block, "pipeline."))
			if p == nil {
				return nil, fmt.Errorf("%s: no pipeline %s in the graph", a.Path, a.Block)
			}
			def, err := definitionToAPI(a.Data)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", a.Path, err)
			}
			d.Pipelines = append(d.Pipelines, DataPipeline{Name: p.ResourceName, Pipeline: p.Name, UniqueID: "cumulus-" + p.ResourceName, Block: a.Block, Tags: tags(a.Block), Definition: def})
		}
	}
	// Targets and policies come in other artifacts than their rules and
	// roles; attach them.
	for _, a := range res.Artifacts {
		if a.Kind == compiler.KindIAMRolePolicy {
			var in iam.PutRolePolicyInput
			if err := json.Unmarshal(a.Data, &in); err != nil {
				return nil, fmt.Errorf("reading %s: %w", a.Path, err)
			}
			found := false
			for i := range d.Roles {
				if d.Roles[i].Name == aws.ToString(in.RoleName) {
					d.Roles[i].Policies, found = append(d.Roles[i].Policies, &in), true
				}
			}
			if !found {
				return nil, fmt.Errorf("%s: a policy of role %s, which no artifact defines", a.Path, aws.ToString(in.RoleName))
			}
			continue
		}
		if a.Kind != compiler.KindEventsTargets {
			continue
		}
		var in eventbridge.PutTargetsInput
		if err := json.Unmarshal(a.Data, &in); err != nil {
			return nil, fmt.Errorf("reading %s: %w", a.Path, err)
		}
		found := false
		for i := range d.Rules {
			if d.Rules[i].Name == aws.ToString(in.Rule) {
				d.Rules[i].Targets, found = &in, true
			}
		}
		if !found {
			return nil, fmt.Errorf("%s: targets of rule %s, which no artifact defines", a.Path, aws.ToString(in.Rule))
		}
	}
	if g.ArtifactBucket != "" {
		for _, f := range g.Functions {
			if f.Name != "trigger" {
				continue
			}
			for _, c := range g.Collections {
				d.Triggers = append(d.Triggers, Trigger{Bucket: g.ArtifactBucket, Function: f.ResourceName, ID: "cumulus-" + c.Name, Prefix: c.Name + "/", Suffix: layout.ManifestSuffix})
			}
		}
		// What the platform's functions and tasks read at run time: the
		// graph compiled for this account, and the configuration itself
		// for the pollers.
		for _, a := range res.Artifacts {
			if a.Kind == compiler.KindGraph {
				d.Objects = append(d.Objects, Object{Bucket: g.ArtifactBucket, Key: graph.GraphKey, ContentType: "application/json", Data: a.Data})
			}
		}
		bundle, err := layout.NewConfigBundle(cfg)
		if err != nil {
			return nil, fmt.Errorf("the configuration for the pollers: %w", err)
		}
		d.Objects = append(d.Objects, Object{Bucket: g.ArtifactBucket, Key: layout.ConfigKey, ContentType: "application/json", Data: bundle})
		if len(g.Distributions) > 0 {
			d.Secrets = &SecretsObject{Bucket: g.ArtifactBucket, Key: layout.SecretsKey, Users: opts.DistUsers}
		}
	}
	if err := d.engine(res, tags("platform"), opts.Stage, g.LogRetention); err != nil {
		return nil, err
	}
	d.Notes = append(d.Notes, missingRoles(d, res)...)
	return d, nil
}

// engine reads the engine's artifacts: tables, the HTTP API's documents,
// the Lambda permissions and the functions' log groups.
func (d *Desired) engine(res *compiler.Result, tags map[string]string, stage string, retention int) error {
	decode := func(a compiler.Artifact, v any) error {
		if err := json.Unmarshal(a.Data, v); err != nil {
			return fmt.Errorf("reading %s: %w", a.Path, err)
		}
		return nil
	}
	// An HTTP API's documents are in one folder, DIR/http-api/, and the
	// permissions naming it in DIR/permissions/.
	apis := map[string]*HTTPAPI{}
	var dirs []string
	apiOf := func(a compiler.Artifact) *HTTPAPI {
		dir := path.Dir(path.Dir(a.Path))
		h, ok := apis[dir]
		if !ok {
			h = &HTTPAPI{}
			apis[dir] = h
			dirs = append(dirs, dir)
		}
		return h
	}
	type permission struct {
		dir string
		p   Permission
	}
	var perms []permission
	for _, a := range res.Artifacts {
		var err error
		switch a.Kind {
		case compiler.KindDynamoDBTable:
			var in dynamodb.CreateTableInput
			err = decode(a, &in)
			if stage != "" {
				in.Tags = append(in.Tags, ddbtypes.Tag{Key: aws.String(TagStage), Value: aws.String(stage)})
			}
			d.Tables = append(d.Tables, Table{Name: aws.ToString(in.TableName), Block: a.Block, Input: &in})
		case compiler.KindHTTPAPI:
			var in apigatewayv2.CreateApiInput
			err = decode(a, &in)
			if stage != "" && in.Tags != nil {
				in.Tags[TagStage] = stage
			}
			api := apiOf(a)
			api.Name, api.Block, api.Title, api.API = aws.ToString(in.Name), a.Block, apiTitle(a.Block), &in
		case compiler.KindHTTPAPIIntegration:
			api := apiOf(a)
			api.Integration = &apigatewayv2.CreateIntegrationInput{}
			err = decode(a, api.Integration)
		case compiler.KindHTTPAPIRoute:
			var in apigatewayv2.CreateRouteInput
			err = decode(a, &in)
			api := apiOf(a)
			api.Routes = append(api.Routes, &in)
		case compiler.KindHTTPAPIStage:
			api := apiOf(a)
			api.Stage = &apigatewayv2.CreateStageInput{}
			err = decode(a, api.Stage)
			if stage != "" && api.Stage.Tags != nil {
				api.Stage.Tags[TagStage] = stage
			}
		case compiler.KindLambdaPermission:
			var in lambda.AddPermissionInput
			err = decode(a, &in)
			perms = append(perms, permission{dir: path.Dir(path.Dir(a.Path)), p: Permission{Function: aws.ToString(in.FunctionName), Block: a.Block, Input: &in}})
		case compiler.KindLogGroup:
			var in struct {
				LogGroupName string `json:"logGroupName"`
			}
			err = decode(a, &in)
			found := false
			for _, lg := range d.LogGroups {
				found = found || lg.Name == in.LogGroupName
			}
			if !found {
				d.LogGroups = append(d.LogGroups, LogGroup{Name: in.LogGroupName, RetentionDays: int32(retention), Tags: tags})
			}
		}
		if err != nil {
			return err
		}
	}
	sort.Slice(d.LogGroups, func(i, j int) bool { return d.LogGroups[i].Name < d.LogGroups[j].Name })
	for _, dir := range dirs {
		api := apis[dir]
		if api.API == nil {
			return fmt.Errorf("the HTTP API documents in %s/http-api come without the API's", dir)
		}
		if api.Integration == nil || api.Stage == nil || len(api.Routes) == 0 {
			return fmt.Errorf("the HTTP API %s comes without its integration, routes or stage", api.Name)
		}
		for _, o := range d.HTTPAPIs {
			if o.Name == api.Name {
				return fmt.Errorf("two HTTP APIs are named %s (%s and %s)", api.Name, o.Block, api.Block)
			}
		}
		d.HTTPAPIs = append(d.HTTPAPIs, api)
	}
	// The engine's first, then the distributions' by name.
	sort.SliceStable(d.HTTPAPIs, func(i, j int) bool {
		return d.HTTPAPIs[i].Block == "platform" && d.HTTPAPIs[j].Block != "platform"
	})
	for _, pm := range perms {
		if strings.Contains(aws.ToString(pm.p.Input.SourceArn), httpapi.APIID) {
			api, ok := apis[pm.dir]
			if !ok || api.API == nil {
				return fmt.Errorf("the permission of %s names an HTTP API, but %s/http-api has none", pm.p.Function, pm.dir)
			}
			pm.p.API = api.Name
		}
		d.Permissions = append(d.Permissions, pm.p)
	}
	return nil
}

// apiTitle says what the HTTP API of block serves.
func apiTitle(block string) string {
	if name, ok := strings.CutPrefix(block, "distribution."); ok {
		return "Distribution " + name
	}
	return "Engine API and dashboard"
}

// missingRoles notes the roles the artifacts name but do not define: deploy
// cannot create them, so they must exist.
func missingRoles(d *Desired, res *compiler.Result) []string {
	defined := map[string]bool{}
	for _, r := range d.Roles {
		defined[r.Name] = true
	}
	prefix := "arn:aws:iam::" + d.Account + ":role/"
	named := map[string]bool{}
	for _, a := range res.Artifacts {
		if a.Kind != compiler.KindECSTaskDefinition && a.Kind != compiler.KindLambdaFunction && a.Kind != compiler.KindEventsTargets && a.Kind != compiler.KindStateMachineCreate {
			continue
		}
		s := string(a.Data)
		for {
			i := strings.Index(s, prefix)
			if i < 0 {
				break
			}
			s = s[i+len(prefix):]
			j := strings.IndexAny(s, "\"\\")
			if j < 0 {
				break
			}
			if name := s[:j]; !defined[name] {
				named[name] = true
			}
		}
	}
	if len(named) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%d roles the artifacts name are not among them and must exist already: %s.", len(named), strings.Join(sortedKeys(named), ", "))}
}

func logGroups(g *graph.Graph, tags map[string]string) []LogGroup {
	seen := map[string]bool{}
	var out []LogGroup
	add := func(name string) {
		if name == "" || seen[name] {
			return
		}
		seen[name] = true
		out = append(out, LogGroup{Name: name, RetentionDays: int32(g.LogRetention), Tags: tags})
	}
	for _, t := range g.Tasks {
		add(t.LogGroup)
	}
	for _, t := range g.Functions {
		add(t.LogGroup)
	}
	for _, s := range g.Sources {
		if s.Task != nil {
			add(s.Task.LogGroup)
		}
	}
	for _, dist := range g.Distributions {
		if dist.Function != nil {
			add(dist.Function.LogGroup)
		}
	}
	if g.Orchestrator != "datapipeline" {
		for _, p := range g.Pipelines {
			add(p.LogGroup)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func findTask(g *graph.Graph, resourceName string) *graph.Task {
	for _, t := range g.Tasks {
		if t.ResourceName == resourceName {
			return t
		}
	}
	return nil
}

// definitionToAPI turns a Data Pipeline definition file (objects,
// parameters, values) into API objects, the way the AWS CLI does.
func definitionToAPI(data []byte) (*PipelineDefinition, error) {
	var file struct {
		Objects    []map[string]any `json:"objects"`
		Parameters []map[string]any `json:"parameters"`
		Values     map[string]any   `json:"values"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, err
	}
	def := &PipelineDefinition{}
	for _, o := range file.Objects {
		id, _ := o["id"].(string)
		name, _ := o["name"].(string)
		if id == "" {
			return nil, fmt.Errorf("an object without an id")
		}
		if name == "" {
			name = id
		}
		obj := dptypes.PipelineObject{Id: aws.String(id), Name: aws.String(name), Fields: []dptypes.Field{}}
		for _, k := range sortedKeys(o) {
			if k == "id" || k == "name" {
				continue
			}
			err := eachValue(o[k], func(v any) error {
				switch v := v.(type) {
				case string:
					obj.Fields = append(obj.Fields, dptypes.Field{Key: aws.String(k), StringValue: aws.String(v)})
				case map[string]any:
					ref, ok := v["ref"].(string)
					if !ok || len(v) != 1 {
						return fmt.Errorf("object %s, field %s: an object value must be {\"ref\": ID}", id, k)
					}
					obj.Fields = append(obj.Fields, dptypes.Field{Key: aws.String(k), RefValue: aws.String(ref)})
				default:
					return fmt.Errorf("object %s, field %s: unsupported value %v", id, k, v)
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
		def.Objects = append(def.Objects, obj)
	}
	for _, p := range file.Parameters {
		id, _ := p["id"].(string)
		po := dptypes.ParameterObject{Id: aws.String(id), Attributes: []dptypes.ParameterAttribute{}}
		for _, k := range sortedKeys(p) {
			if k == "id" {
				continue
			}
			err := eachValue(p[k], func(v any) error {
				s, ok := v.(string)
				if !ok {
					return fmt.Errorf("parameter %s, attribute %s: not a string", id, k)
				}
				po.Attributes = append(po.Attributes, dptypes.ParameterAttribute{Key: aws.String(k), StringValue: aws.String(s)})
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
		def.Parameters = append(def.Parameters, po)
	}
	for _, k := range sortedKeys(file.Values) {
		err := eachValue(file.Values[k], func(v any) error {
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("value %s: not a string", k)
			}
			def.Values = append(def.Values, dptypes.ParameterValue{Id: aws.String(k), StringValue: aws.String(s)})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return def, nil
}

func eachValue(v any, f func(any) error) error {
	if list, ok := v.([]any); ok {
		for _, e := range list {
			if err := f(e); err != nil {
				return err
			}
		}
		return nil
	}
	return f(v)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
