package deploy_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/cumulus-toolchain/cumulus/runtime/deploy"
	"github.com/cumulus-toolchain/cumulus/runtime/deploy/awsfake"
)

func planText(p *deploy.Plan) string {
	var b strings.Builder
	_ = p.WriteText(&b)
	return b.String()
}

// The engine's resources (its tables, the HTTP API with its integration,
// routes and stage, the permissions that let EventBridge and API Gateway
// invoke its functions, the recorder's rule) and the distribution's HTTP
// API are created in an empty account, left alone by the next plan, and
// changed exactly where the configuration or the account changed.
func TestEngineResources(t *testing.T) {
	ctx := context.Background()
	fake := awsfake.New(t, account, region)
	d := newDeployer(t, fake)
	dir := t.TempDir()
	copyHS3As(t, dir)
	zip, _ := deploy.ZipBootstrap([]byte("bootstrap"))
	want := desired(t, dir, zip)
	if len(want.Tables) != 3 || len(want.HTTPAPIs) != 2 || len(want.Permissions) != 3 {
		t.Fatalf("desired: %d tables, %d HTTP APIs, %d permissions", len(want.Tables), len(want.HTTPAPIs), len(want.Permissions))
	}
	if e, dist := want.HTTPAPIs[0], want.HTTPAPIs[1]; e.Name != "hs3-dev-engine-api" || e.Title != "Engine API and dashboard" ||
		dist.Name != "hs3-dev-dist-main" || dist.Block != "distribution.main" || dist.Title != "Distribution main" || len(dist.Routes) != 2 {
		t.Fatalf("HTTP APIs %+v, %+v", e, dist)
	}
	apiOf := map[string]string{}
	for _, p := range want.Permissions {
		apiOf[p.Function] = p.API
	}
	if apiOf["hs3-dev-engine-api"] != "hs3-dev-engine-api" || apiOf["hs3-dev-dist-main"] != "hs3-dev-dist-main" || apiOf["hs3-dev-recorder"] != "" {
		t.Fatalf("the permissions' APIs %v", apiOf)
	}
	plan, err := d.Plan(ctx, want, deploy.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	creates := ops(plan, deploy.OpCreate)
	for _, w := range []string{
		"dynamodb-table hs3-dev-granules", "dynamodb-table hs3-dev-runs", "dynamodb-table hs3-dev-counters",
		"apigateway-http-api hs3-dev-engine-api", "apigateway-http-api hs3-dev-dist-main", "events-rule hs3-dev-engine-recorder",
		"lambda-function hs3-dev-recorder", "lambda-function hs3-dev-engine-api",
		"lambda-permission hs3-dev-recorder/cumulus-events", "lambda-permission hs3-dev-engine-api/cumulus-apigateway",
		"lambda-permission hs3-dev-dist-main/cumulus-apigateway",
		"log-group /cumulus/hs3-dev/functions/recorder", "log-group /cumulus/hs3-dev/functions/engine-api",
		"iam-role hs3-dev-recorder-fn", "iam-role hs3-dev-engine-api-fn",
	} {
		if !slices.Contains(creates, w) {
			t.Errorf("the plan does not create %s:\n%s", w, planText(plan))
		}
	}
	// A failure midway through the engine's HTTP API: the API exists, its
	// routes do not, the distribution's API is not begun; the next plan
	// finishes the one and creates the other.
	fake.Fail("apigateway:CreateRoute", 1, awsfake.Error{Status: 400, Code: "BadRequestException", Message: "injected failure"})
	rep := d.Apply(ctx, plan)
	if rep.Err() == nil || rep.Failed == nil || rep.Failed.Kind != deploy.KindHTTPAPI {
		t.Fatalf("want the HTTP API to fail, got %v", rep.Err())
	}
	plan, err = d.Plan(ctx, want, deploy.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ops(plan, deploy.OpUpdate); !slices.Equal(got, []string{"apigateway-http-api hs3-dev-engine-api"}) {
		t.Fatalf("after the failure, updates %v:\n%s", got, planText(plan))
	}
	if got := ops(plan, deploy.OpCreate); !slices.Contains(got, "apigateway-http-api hs3-dev-dist-main") || slices.Contains(got, "apigateway-http-api hs3-dev-engine-api") {
		t.Fatalf("after the failure, creates %v:\n%s", got, planText(plan))
	}
	rep = d.Apply(ctx, plan)
	if rep.Err() != nil {
		t.Fatal(rep.Err())
	}
	if got := fake.Tables(); !slices.Equal(got, []string{"hs3-dev-counters", "hs3-dev-granules", "hs3-dev-runs"}) {
		t.Errorf("tables %v", got)
	}
	if got := fake.HTTPAPIs(); !slices.Equal(got, []string{
		"hs3-dev-engine-api: GET /, GET /api/{proxy+}, GET /{proxy+}; stages $default",
		"hs3-dev-dist-main: ANY /, ANY /{proxy+}; stages $default",
	}) {
		t.Errorf("HTTP APIs %v", got)
	}
	fake.Reset()
	plan, err = d.Plan(ctx, want, deploy.PlanOptions{})
	if err != nil || plan.HasChanges() || plan.Count(deploy.OpConflict) > 0 {
		t.Fatalf("second plan: %v\n%s", err, planText(plan))
	}
	if m := mutating(fake.Calls()); len(m) > 0 {
		t.Errorf("planning called %v", m)
	}

	// Each function's permission for API Gateway names its own API, and
	// each API's integration its function.
	clients := deploy.NewClients(aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", ""), BaseEndpoint: aws.String(fake.URL)})
	ids := apiIDs(t, clients)
	if len(ids) != 2 {
		t.Fatalf("APIs %v", ids)
	}
	for _, fn := range []string{"hs3-dev-engine-api", "hs3-dev-dist-main"} {
		id := ids[fn]
		pol, err := clients.Lambda.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(fn)})
		if err != nil {
			t.Fatal(err)
		}
		if wantARN := "arn:aws:execute-api:" + region + ":" + account + ":" + id + "/*"; !strings.Contains(aws.ToString(pol.Policy), wantARN) {
			t.Errorf("the policy of %s, %s, does not name %s", fn, aws.ToString(pol.Policy), wantARN)
		}
		integ, err := clients.APIGateway.GetIntegrations(ctx, &apigatewayv2.GetIntegrationsInput{ApiId: aws.String(id)})
		if err != nil || len(integ.Items) != 1 {
			t.Fatalf("integrations: %v", err)
		}
		if i := integ.Items[0]; aws.ToString(i.IntegrationUri) != "arn:aws:lambda:"+region+":"+account+":function:"+fn ||
			aws.ToString(i.PayloadFormatVersion) != "2.0" || i.IntegrationType != "AWS_PROXY" || aws.ToInt32(i.TimeoutInMillis) != 29000 {
			b, _ := json.Marshal(i)
			t.Errorf("integration %s", b)
		}
	}
	// The apply reported where each API serves.
	wantEndpoints := []deploy.Endpoint{
		{Name: "hs3-dev-engine-api", Block: "platform", Title: "Engine API and dashboard", URL: "https://" + ids["hs3-dev-engine-api"] + ".execute-api." + region + ".amazonaws.com/"},
		{Name: "hs3-dev-dist-main", Block: "distribution.main", Title: "Distribution main", URL: "https://" + ids["hs3-dev-dist-main"] + ".execute-api." + region + ".amazonaws.com/"},
	}
	if !slices.Equal(rep.Endpoints, wantEndpoints) || !slices.Equal(plan.Endpoints(), wantEndpoints) {
		t.Errorf("endpoints %+v, want %+v", rep.Endpoints, wantEndpoints)
	}
	var out strings.Builder
	_ = rep.WriteText(&out)
	if !strings.Contains(out.String(), "\nEngine API and dashboard: "+wantEndpoints[0].URL+"\nDistribution main: "+wantEndpoints[1].URL+"\n") {
		t.Errorf("the report does not print the endpoints:\n%s", out.String())
	}
	id := ids["hs3-dev-engine-api"]

	// Someone deletes a route and the stage's auto deploy: the HTTP API
	// alone is updated, and then it is as wanted again.
	routes, err := clients.APIGateway.GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes.Items {
		if aws.ToString(r.RouteKey) == "GET /" {
			if _, err := clients.APIGateway.DeleteRoute(ctx, &apigatewayv2.DeleteRouteInput{ApiId: aws.String(id), RouteId: r.RouteId}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := clients.APIGateway.UpdateStage(ctx, &apigatewayv2.UpdateStageInput{ApiId: aws.String(id), StageName: aws.String("$default"), AutoDeploy: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	plan, err = d.Plan(ctx, want, deploy.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ops(plan, deploy.OpUpdate); !slices.Equal(got, []string{"apigateway-http-api hs3-dev-engine-api"}) || plan.Count(deploy.OpCreate) > 0 {
		t.Fatalf("updates %v:\n%s", got, planText(plan))
	}
	if rep := d.Apply(ctx, plan); rep.Err() != nil {
		t.Fatal(rep.Err())
	}

	// A new tag in the configuration: every owned resource is retagged,
	// the tables and the HTTP API among them, and nothing is created.
	copyHS3As(t, dir, `project = "hs3"`, `project = "hs3", team = "ingest"`)
	want2 := desired(t, dir, zip)
	plan, err = d.Plan(ctx, want2, deploy.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	updates := ops(plan, deploy.OpUpdate)
	for _, w := range []string{"dynamodb-table hs3-dev-runs", "apigateway-http-api hs3-dev-engine-api", "apigateway-http-api hs3-dev-dist-main"} {
		if !slices.Contains(updates, w) {
			t.Errorf("a new tag does not update %s:\n%s", w, planText(plan))
		}
	}
	if plan.Count(deploy.OpCreate)+plan.Count(deploy.OpDelete) > 0 {
		t.Errorf("a new tag creates or deletes:\n%s", planText(plan))
	}
	if rep := d.Apply(ctx, plan); rep.Err() != nil {
		t.Fatal(rep.Err())
	}
	plan, err = d.Plan(ctx, want2, deploy.PlanOptions{Prune: true})
	if err != nil || plan.HasChanges() {
		t.Fatalf("after retagging: %v\n%s", err, planText(plan))
	}
}

// apiIDs returns the id of each HTTP API by name.
func apiIDs(t *testing.T, c *deploy.Clients) map[string]string {
	t.Helper()
	apis, err := c.APIGateway.GetApis(context.Background(), &apigatewayv2.GetApisInput{})
	if err != nil {
		t.Fatalf("GetApis: %v", err)
	}
	ids := map[string]string{}
	for _, a := range apis.Items {
		ids[aws.ToString(a.Name)] = aws.ToString(a.ApiId)
	}
	return ids
}

// The distribution's HTTP API is planned and applied on its own: deleted
// behind deploy's back, it alone is made again, a failure midway through
// it leaves the engine's alone and is finished by the next run, and its
// function's permission is moved to the new API's id. Prune keeps both.
func TestDistributionHTTPAPI(t *testing.T) {
	ctx := context.Background()
	fake := awsfake.New(t, account, region)
	d := newDeployer(t, fake)
	dir := t.TempDir()
	copyHS3As(t, dir)
	zip, _ := deploy.ZipBootstrap([]byte("bootstrap"))
	want := desired(t, dir, zip)
	plan, err := d.Plan(ctx, want, deploy.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep := d.Apply(ctx, plan); rep.Err() != nil {
		t.Fatal(rep.Err())
	}
	clients := deploy.NewClients(aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", ""), BaseEndpoint: aws.String(fake.URL)})
	before := apiIDs(t, clients)
	if _, err := clients.APIGateway.DeleteApi(ctx, &apigatewayv2.DeleteApiInput{ApiId: aws.String(before["hs3-dev-dist-main"])}); err != nil {
		t.Fatal(err)
	}
	plan, err = d.Plan(ctx, want, deploy.PlanOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	changed := append(ops(plan, deploy.OpCreate), ops(plan, deploy.OpUpdate)...)
	if !slices.Equal(changed, []string{"apigateway-http-api hs3-dev-dist-main", "lambda-permission hs3-dev-dist-main/cumulus-apigateway"}) || plan.Count(deploy.OpDelete) > 0 {
		t.Fatalf("changes %v:\n%s", changed, planText(plan))
	}
	if eps := plan.Endpoints(); len(eps) != 1 || eps[0].Name != "hs3-dev-engine-api" {
		t.Errorf("the plan knows endpoints %+v, want the engine's only", eps)
	}
	fake.Fail("apigateway:CreateStage", 1, awsfake.Error{Status: 400, Code: "BadRequestException", Message: "injected failure"})
	rep := d.Apply(ctx, plan)
	if rep.Err() == nil || rep.Failed == nil || rep.Failed.Name != "hs3-dev-dist-main" || len(rep.NotDone) != 1 || rep.Endpoints != nil {
		t.Fatalf("want the distribution's API to fail before its permission, got %v, not done %v", rep.Err(), rep.NotDone)
	}
	plan, err = d.Plan(ctx, want, deploy.PlanOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := ops(plan, deploy.OpUpdate); !slices.Equal(got, []string{"apigateway-http-api hs3-dev-dist-main", "lambda-permission hs3-dev-dist-main/cumulus-apigateway"}) ||
		plan.Count(deploy.OpCreate)+plan.Count(deploy.OpDelete) > 0 {
		t.Fatalf("after the failure, updates %v:\n%s", got, planText(plan))
	}
	if rep := d.Apply(ctx, plan); rep.Err() != nil || len(rep.Endpoints) != 2 {
		t.Fatalf("%v, endpoints %+v", rep.Err(), rep.Endpoints)
	}
	after := apiIDs(t, clients)
	if after["hs3-dev-engine-api"] != before["hs3-dev-engine-api"] || after["hs3-dev-dist-main"] == before["hs3-dev-dist-main"] || after["hs3-dev-dist-main"] == "" {
		t.Fatalf("APIs before %v, after %v", before, after)
	}
	pol, err := clients.Lambda.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("hs3-dev-dist-main")})
	if err != nil {
		t.Fatal(err)
	}
	if wantARN := "arn:aws:execute-api:" + region + ":" + account + ":" + after["hs3-dev-dist-main"] + "/*"; !strings.Contains(aws.ToString(pol.Policy), wantARN) {
		t.Errorf("the distribution function's policy %s does not name %s", aws.ToString(pol.Policy), wantARN)
	}
	plan, err = d.Plan(ctx, want, deploy.PlanOptions{Prune: true})
	if err != nil || plan.HasChanges() {
		t.Fatalf("after converging: %v\n%s", err, planText(plan))
	}
	if got := fake.HTTPAPIs(); len(got) != 2 {
		t.Errorf("HTTP APIs %v", got)
	}
}

// A table of the wanted name that this configuration does not own is a
// conflict, and so is one whose keys changed (DynamoDB cannot change them
// and deploy never replaces a table).
func TestEngineTableConflicts(t *testing.T) {
	ctx := context.Background()
	fake := awsfake.New(t, account, region)
	d := newDeployer(t, fake)
	dir := t.TempDir()
	copyHS3As(t, dir)
	want := desired(t, dir, nil)
	// Someone else's table.
	clients := deploy.NewClients(aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", ""), BaseEndpoint: aws.String(fake.URL)})
	other := *want.Tables[0].Input
	other.Tags = nil
	if _, err := clients.DynamoDB.CreateTable(ctx, &other); err != nil {
		t.Fatal(err)
	}
	plan, err := d.Plan(ctx, want, deploy.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ops(plan, deploy.OpConflict); !slices.Equal(got, []string{"dynamodb-table " + want.Tables[0].Name}) {
		t.Fatalf("conflicts %v", got)
	}
	// An owned table whose key schema is not the wanted one.
	changed := *want.Tables[1].Input
	changed.KeySchema = append(slices.Clone(changed.KeySchema), changed.GlobalSecondaryIndexes[0].KeySchema[1])
	if _, err := clients.DynamoDB.CreateTable(ctx, &changed); err != nil {
		t.Fatal(err)
	}
	plan, err = d.Plan(ctx, want, deploy.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ops(plan, deploy.OpConflict); len(got) != 2 || !strings.Contains(planText(plan), "key schema") {
		t.Fatalf("conflicts %v:\n%s", got, planText(plan))
	}
	if rep := d.Apply(ctx, plan); rep.Err() == nil {
		t.Fatal("a plan with conflicts applied")
	}
}
