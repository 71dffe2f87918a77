package compiler

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/cumulus-toolchain/cumulus/compiler/awsmodel"
	"github.com/cumulus-toolchain/cumulus/compiler/engine"
	"github.com/cumulus-toolchain/cumulus/compiler/httpapi"
)

// engineOps are the engine's artifact kinds that the shared operations
// table does not cover: the operation each one is the input of, its model,
// the AWS CLI command that takes it, and the SDK call that sends it.
var engineOps = map[string]struct {
	service, op string
	cli         []string
	sdk         func(doc []byte) ([]byte, error)
}{
	KindDynamoDBTable: {"dynamodb", "CreateTable", []string{"dynamodb", "create-table"}, func(doc []byte) ([]byte, error) {
		return awsmodel.SDKRequest(doc, func(ctx context.Context, cfg aws.Config, in *dynamodb.CreateTableInput) (*dynamodb.CreateTableOutput, error) {
			return dynamodb.NewFromConfig(cfg).CreateTable(ctx, in)
		})
	}},
	KindHTTPAPI: {"apigatewayv2", "CreateApi", []string{"apigatewayv2", "create-api"}, func(doc []byte) ([]byte, error) {
		return awsmodel.SDKRequest(doc, func(ctx context.Context, cfg aws.Config, in *apigatewayv2.CreateApiInput) (*apigatewayv2.CreateApiOutput, error) {
			return apigatewayv2.NewFromConfig(cfg).CreateApi(ctx, in)
		})
	}},
	KindHTTPAPIIntegration: {"apigatewayv2", "CreateIntegration", []string{"apigatewayv2", "create-integration"}, func(doc []byte) ([]byte, error) {
		return awsmodel.SDKRequest(doc, func(ctx context.Context, cfg aws.Config, in *apigatewayv2.CreateIntegrationInput) (*apigatewayv2.CreateIntegrationOutput, error) {
			return apigatewayv2.NewFromConfig(cfg).CreateIntegration(ctx, in)
		})
	}},
	KindHTTPAPIRoute: {"apigatewayv2", "CreateRoute", []string{"apigatewayv2", "create-route"}, func(doc []byte) ([]byte, error) {
		return awsmodel.SDKRequest(doc, func(ctx context.Context, cfg aws.Config, in *apigatewayv2.CreateRouteInput) (*apigatewayv2.CreateRouteOutput, error) {
			return apigatewayv2.NewFromConfig(cfg).CreateRoute(ctx, in)
		})
	}},
	KindHTTPAPIStage: {"apigatewayv2", "CreateStage", []string{"apigatewayv2", "create-stage"}, func(doc []byte) ([]byte, error) {
		return awsmodel.SDKRequest(doc, func(ctx context.Context, cfg aws.Config, in *apigatewayv2.CreateStageInput) (*apigatewayv2.CreateStageOutput, error) {
			return apigatewayv2.NewFromConfig(cfg).CreateStage(ctx, in)
		})
	}},
	KindLambdaPermission: {"lambda", "AddPermission", []string{"lambda", "add-permission"}, func(doc []byte) ([]byte, error) {
		return awsmodel.SDKRequest(doc, func(ctx context.Context, cfg aws.Config, in *lambda.AddPermissionInput) (*lambda.AddPermissionOutput, error) {
			return lambda.NewFromConfig(cfg).AddPermission(ctx, in)
		})
	}},
	KindLogGroup: {"logs", "CreateLogGroup", []string{"logs", "create-log-group"}, func(doc []byte) ([]byte, error) {
		return awsmodel.SDKRequest(doc, func(ctx context.Context, cfg aws.Config, in *cloudwatchlogs.CreateLogGroupInput) (*cloudwatchlogs.CreateLogGroupOutput, error) {
			return cloudwatchlogs.NewFromConfig(cfg).CreateLogGroup(ctx, in)
		})
	}},
}

func find(t *testing.T, res *Result, path string) []byte {
	t.Helper()
	for _, a := range res.Artifacts {
		if a.Path == path {
			return a.Data
		}
	}
	t.Fatalf("no artifact %s", path)
	return nil
}

// Every configuration compiles the engine's artifacts, and each is valid
// input of its operation in the AWS models (the rule, the targets, the
// functions and the roles are checked with the other artifacts of their
// kinds by TestArtifactsMatchAWSModels).
func TestEngineArtifactsMatchAWSModels(t *testing.T) {
	for name, res := range compiledCorpus(t) {
		kinds := map[string]int{}
		for _, a := range res.Artifacts {
			op, ok := engineOps[a.Kind]
			if !ok {
				continue
			}
			kinds[a.Kind]++
			for _, v := range awsmodel.TestModel(t, op.service).ValidateInput(op.op, a.Data) {
				t.Errorf("%s %s: %s", name, a.Path, v)
			}
		}
		for k := range engineOps {
			if kinds[k] == 0 {
				t.Errorf("%s: no %s artifact", name, k)
			}
		}
		// Each distribution's HTTP API is among the documents checked.
		for _, d := range res.Graph.Distributions {
			n := 0
			for _, a := range res.Artifacts {
				if _, ok := engineOps[a.Kind]; ok && a.Block == "distribution."+d.Name {
					n++
				}
			}
			if n != 6 {
				t.Errorf("%s: distribution %s has %d HTTP API and permission documents, want 6", name, d.Name, n)
			}
		}
	}
}

// The engine's documents go through the SDK's own validation and
// serializer, with nothing dropped on the way.
func TestEngineArtifactsThroughSDK(t *testing.T) {
	res := compileDir(t, filepath.Join("..", "examples", "hs3"))
	n := 0
	for _, a := range res.Artifacts {
		op, ok := engineOps[a.Kind]
		if !ok {
			continue
		}
		n++
		if _, err := op.sdk(a.Data); err != nil {
			t.Errorf("%s: %v", a.Path, err)
		}
	}
	if n == 0 {
		t.Fatal("no engine artifact")
	}
	// The recorder's rule and target, which the shared SDK test leaves
	// out with every EventBridge document.
	if _, err := awsmodel.SDKRequest(find(t, res, "events/engine-recorder.rule.json"), func(ctx context.Context, cfg aws.Config, in *eventbridge.PutRuleInput) (*eventbridge.PutRuleOutput, error) {
		return eventbridge.NewFromConfig(cfg).PutRule(ctx, in)
	}); err != nil {
		t.Errorf("the recorder's rule: %v", err)
	}
	if _, err := awsmodel.SDKRequest(find(t, res, "events/engine-recorder.targets.json"), func(ctx context.Context, cfg aws.Config, in *eventbridge.PutTargetsInput) (*eventbridge.PutTargetsOutput, error) {
		return eventbridge.NewFromConfig(cfg).PutTargets(ctx, in)
	}); err != nil {
		t.Errorf("the recorder's targets: %v", err)
	}
	// The oracle bites: a table without its name is refused by the SDK's
	// required-member check.
	var doc map[string]any
	if err := json.Unmarshal(find(t, res, "engine/tables/hs3-dev-runs.json"), &doc); err != nil {
		t.Fatal(err)
	}
	delete(doc, "TableName")
	b, _ := json.Marshal(doc)
	if _, err := engineOps[KindDynamoDBTable].sdk(b); err == nil || !strings.Contains(err.Error(), "TableName") {
		t.Errorf("a table without TableName: %v", err)
	}
}

// One document of each engine kind, and of each kind a distribution shares
// with the engine, through the AWS CLI's own validation.
func TestEngineArtifactsThroughAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("the AWS CLI takes about a second a document; skipped with -short")
	}
	res := compileDir(t, filepath.Join("..", "examples", "hs3"))
	dir := t.TempDir()
	if err := Write(filepath.Join(dir, "out"), res); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range res.Artifacts {
		op, ok := engineOps[a.Kind]
		owner, _, _ := strings.Cut(a.Path, "/")
		if !ok || seen[owner+" "+a.Kind] {
			continue
		}
		seen[owner+" "+a.Kind] = true
		abs, _ := filepath.Abs(filepath.Join(dir, "out", filepath.FromSlash(a.Path)))
		r, err := awsmodel.RunCLI(context.Background(), append(append([]string(nil), op.cli...), "--cli-input-json", "file://"+abs)...)
		cliAccepts(t, a.Path, r, err)
	}
}

// Mutations a compiler bug could make are refused by the model check.
func TestEngineModelCheckBites(t *testing.T) {
	res := compileDir(t, filepath.Join("..", "examples", "hs3"))
	table := string(find(t, res, "engine/tables/hs3-dev-granules.json"))
	api := string(find(t, res, "engine/http-api/api.json"))
	integ := string(find(t, res, "engine/http-api/integration.json"))
	route := string(find(t, res, "engine/http-api/route.api.json"))
	perm := string(find(t, res, "engine/permissions/hs3-dev-engine-api.cumulus-apigateway.json"))
	group := string(find(t, res, "engine/log-groups/recorder.json"))
	dapi := string(find(t, res, "distribution/main/http-api/api.json"))
	dinteg := string(find(t, res, "distribution/main/http-api/integration.json"))
	droute := string(find(t, res, "distribution/main/http-api/route.proxy.json"))
	dstage := string(find(t, res, "distribution/main/http-api/stage.json"))
	dperm := string(find(t, res, "distribution/main/permissions/hs3-dev-dist-main.cumulus-apigateway.json"))
	for _, tc := range []struct {
		service, op, orig, doc, want string
	}{
		{"dynamodb", "CreateTable", table, strings.Replace(table, `"PAY_PER_REQUEST"`, `"ON_DEMAND"`, 1), "ON_DEMAND"},
		{"dynamodb", "CreateTable", table, strings.Replace(table, `"KeyType": "HASH"`, `"KeyType": "PARTITION"`, 1), "PARTITION"},
		{"dynamodb", "CreateTable", table, strings.Replace(table, `"TableName"`, `"Table"`, 1), "Table"},
		{"apigatewayv2", "CreateApi", api, strings.Replace(api, `"ProtocolType": "HTTP"`, `"ProtocolType": "REST"`, 1), "REST"},
		{"apigatewayv2", "CreateIntegration", integ, strings.Replace(integ, `"TimeoutInMillis": 29000`, `"TimeoutInMillis": 60000`, 1), "TimeoutInMillis"},
		{"apigatewayv2", "CreateIntegration", integ, strings.Replace(integ, `"AWS_PROXY"`, `"LAMBDA"`, 1), "LAMBDA"},
		{"apigatewayv2", "CreateRoute", route, strings.Replace(route, `"RouteKey"`, `"Route"`, 1), "Route"},
		{"lambda", "AddPermission", perm, strings.Replace(perm, `"Principal": "apigateway.amazonaws.com",`, ``, 1), "Principal"},
		{"logs", "CreateLogGroup", group, strings.Replace(group, `"/cumulus/hs3-dev/functions/recorder"`, `"/cumulus/hs3 dev"`, 1), "logGroupName"},
		// A distribution's HTTP API.
		{"apigatewayv2", "CreateApi", dapi, strings.Replace(dapi, `"ProtocolType": "HTTP"`, `"ProtocolType": "WEBSOCKETS"`, 1), "WEBSOCKETS"},
		{"apigatewayv2", "CreateIntegration", dinteg, strings.Replace(dinteg, `"TimeoutInMillis": 29000`, `"TimeoutInMillis": 30001`, 1), "TimeoutInMillis"},
		{"apigatewayv2", "CreateIntegration", dinteg, strings.Replace(dinteg, `"IntegrationType"`, `"Type"`, 1), "IntegrationType"},
		{"apigatewayv2", "CreateRoute", droute, strings.Replace(droute, `"ApiId"`, `"Api"`, 1), "ApiId"},
		{"apigatewayv2", "CreateStage", dstage, strings.Replace(dstage, `"AutoDeploy": true`, `"AutoDeploy": "yes"`, 1), "AutoDeploy"},
		{"lambda", "AddPermission", dperm, strings.Replace(dperm, `"Action"`, `"Actions"`, 1), "Action"},
	} {
		if tc.doc == tc.orig {
			t.Fatalf("mutation for %q did not apply: the artifact changed shape", tc.want)
		}
		vs := awsmodel.TestModel(t, tc.service).ValidateInput(tc.op, []byte(tc.doc))
		found := false
		for _, v := range vs {
			found = found || strings.Contains(v.String(), tc.want)
		}
		if !found {
			t.Errorf("mutation %q was not refused; violations: %v", tc.want, vs)
		}
	}
}

// Each distribution has its own HTTP API in front of its function, of the
// engine's shape: every method and path routed to the function, the
// $default stage, and API Gateway's permission limited to that API.
func TestDistributionHTTPAPI(t *testing.T) {
	res := compileDir(t, filepath.Join("..", "examples", "hs3"))
	var paths []string
	for _, a := range res.Artifacts {
		if strings.HasPrefix(a.Path, "distribution/main/http-api/") || strings.HasPrefix(a.Path, "distribution/main/permissions/") {
			paths = append(paths, a.Path)
			if a.Block != "distribution.main" {
				t.Errorf("%s: block %s", a.Path, a.Block)
			}
		}
	}
	if want := []string{
		"distribution/main/http-api/api.json", "distribution/main/http-api/integration.json",
		"distribution/main/http-api/route.proxy.json", "distribution/main/http-api/route.root.json",
		"distribution/main/http-api/stage.json", "distribution/main/permissions/hs3-dev-dist-main.cumulus-apigateway.json",
	}; !slices.Equal(paths, want) {
		t.Fatalf("artifacts %v, want %v", paths, want)
	}
	var api apigatewayv2.CreateApiInput
	var integ apigatewayv2.CreateIntegrationInput
	var root, proxy apigatewayv2.CreateRouteInput
	var stage apigatewayv2.CreateStageInput
	var perm lambda.AddPermissionInput
	for path, v := range map[string]any{
		"http-api/api.json": &api, "http-api/integration.json": &integ, "http-api/route.root.json": &root,
		"http-api/route.proxy.json": &proxy, "http-api/stage.json": &stage, "permissions/hs3-dev-dist-main.cumulus-apigateway.json": &perm,
	} {
		if err := json.Unmarshal(find(t, res, "distribution/main/"+path), v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	if aws.ToString(api.Name) != "hs3-dev-dist-main" || api.ProtocolType != "HTTP" || api.Tags["cumulus:block"] != "distribution.main" {
		t.Errorf("API %+v", api)
	}
	if aws.ToString(integ.IntegrationUri) != "arn:aws:lambda:us-west-2:123456789012:function:hs3-dev-dist-main" || integ.IntegrationType != "AWS_PROXY" ||
		aws.ToString(integ.PayloadFormatVersion) != "2.0" || aws.ToInt32(integ.TimeoutInMillis) != 29000 || aws.ToString(integ.ApiId) != httpapi.APIID {
		t.Errorf("integration %+v", integ)
	}
	for _, r := range []apigatewayv2.CreateRouteInput{root, proxy} {
		if aws.ToString(r.Target) != "integrations/"+httpapi.IntegrationID {
			t.Errorf("route %s targets %s", aws.ToString(r.RouteKey), aws.ToString(r.Target))
		}
	}
	if aws.ToString(root.RouteKey) != "ANY /" || aws.ToString(proxy.RouteKey) != "ANY /{proxy+}" {
		t.Errorf("routes %s, %s", aws.ToString(root.RouteKey), aws.ToString(proxy.RouteKey))
	}
	if aws.ToString(stage.StageName) != "$default" || !aws.ToBool(stage.AutoDeploy) {
		t.Errorf("stage %+v", stage)
	}
	if aws.ToString(perm.Principal) != "apigateway.amazonaws.com" || aws.ToString(perm.FunctionName) != "hs3-dev-dist-main" ||
		aws.ToString(perm.SourceArn) != "arn:aws:execute-api:us-west-2:123456789012:"+httpapi.APIID+"/*" {
		t.Errorf("permission %+v", perm)
	}
}

// The engine's roles are least privilege: the recorder writes its tables
// and nothing else of DynamoDB, the API only reads the tables and reads
// exactly the steps' log groups; neither has a wildcard action or
// resource.
func TestEngineRolesLeastPrivilege(t *testing.T) {
	res := compileDir(t, filepath.Join("..", "examples", "hs3"))
	type stmt struct {
		Action   []string
		Resource []string
	}
	policies := func(role string) map[string][]stmt {
		out := map[string][]stmt{}
		for _, a := range res.Artifacts {
			if a.Kind != KindIAMRolePolicy || !strings.HasPrefix(a.Path, "iam/"+role+".") {
				continue
			}
			var put struct{ PolicyName, PolicyDocument string }
			if err := json.Unmarshal(a.Data, &put); err != nil {
				t.Fatal(err)
			}
			var doc struct{ Statement []stmt }
			if err := json.Unmarshal([]byte(put.PolicyDocument), &doc); err != nil {
				t.Fatal(err)
			}
			out[put.PolicyName] = doc.Statement
		}
		return out
	}
	tables := []string{
		"arn:aws:dynamodb:us-west-2:123456789012:table/hs3-dev-counters",
		"arn:aws:dynamodb:us-west-2:123456789012:table/hs3-dev-granules",
		"arn:aws:dynamodb:us-west-2:123456789012:table/hs3-dev-runs",
	}
	rec := policies("hs3-dev-recorder-fn")
	if got := slices.Sorted(mapKeys(rec)); !slices.Equal(got, []string{"logs", engine.PolicyWriteState}) {
		t.Fatalf("recorder policies %v", got)
	}
	w := rec[engine.PolicyWriteState][0]
	if r := slices.Sorted(slices.Values(w.Resource)); !slices.Equal(r, tables) {
		t.Errorf("recorder writes %v, want exactly its tables", r)
	}
	for _, a := range w.Action {
		if a == "dynamodb:Scan" || a == "dynamodb:DeleteItem" || strings.Contains(a, "Table") {
			t.Errorf("recorder may %s", a)
		}
	}
	api := policies("hs3-dev-engine-api-fn")
	if got := slices.Sorted(mapKeys(api)); !slices.Equal(got, []string{"logs", engine.PolicyReadGraph, engine.PolicyReadState, engine.PolicyStepLogs}) {
		t.Fatalf("api policies %v", got)
	}
	for _, a := range api[engine.PolicyReadState][0].Action {
		if strings.Contains(a, "Put") || strings.Contains(a, "Update") || strings.Contains(a, "Write") || strings.Contains(a, "Delete") {
			t.Errorf("the API may %s", a)
		}
	}
	if got := len(api[engine.PolicyReadState][0].Resource); got != 2*len(tables) {
		t.Errorf("the API reads %d resources, want the %d tables and their indexes", got, len(tables))
	}
	logs := api[engine.PolicyStepLogs][0]
	var want []string
	for _, tk := range res.Graph.Tasks {
		want = append(want, res.Graph.LogGroupARN(tk.LogGroup))
	}
	if !slices.Equal(slices.Sorted(slices.Values(logs.Resource)), slices.Sorted(slices.Values(want))) {
		t.Errorf("the API reads log groups %v, want the steps' %v", logs.Resource, want)
	}
	for _, ps := range []map[string][]stmt{rec, api} {
		for name, sts := range ps {
			for _, s := range sts {
				if slices.Contains(s.Resource, "*") || slices.Contains(s.Action, "*") {
					t.Errorf("policy %s has a wildcard: %+v", name, s)
				}
			}
		}
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
