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
// invoke its functions, the recorder's rule) are created in an empty
// account, left alone by the next plan, and changed exactly where the
// configuration or the account changed.
func TestEngineResources(t *testing.T) {
	ctx := context.Background()
	fake := awsfake.New(t, account, region)
	d := newDeployer(t, fake)
	dir := t.TempDir()
	copyHS3As(t, dir)
	zip, _ := deploy.ZipBootstrap([]byte("bootstrap"))
	want := desired(t, dir, zip)
	if len(want.Tables) != 3 || want.HTTPAPI == nil || len(want.Permissions) != 2 {
		t.Fatalf("desired: %d tables, HTTP API %v, %d permissions", len(want.Tables), want.HTTPAPI != nil, len(want.Permissions))
	}
	plan, err := d.Plan(ctx, want, deploy.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	creates := ops(plan, deploy.OpCreate)
	for _, w := range []string{
		"dynamodb-table hs3-dev-granules", "dynamodb-table hs3-dev-runs", "dynamodb-table hs3-dev-counters",
		"apigateway-http-api hs3-dev-engine-api", "events-rule hs3-dev-engine-recorder",
		"lambda-function hs3-dev-recorder", "lambda-function hs3-dev-engine-api",
		"lambda-permission hs3-dev-recorder/cumulus-events", "lambda-permission hs3-dev-engine-api/cumulus-apigateway",
		"log-group /cumulus/hs3-dev/functions/recorder", "log-group /cumulus/hs3-dev/functions/engine-api",
		"iam-role hs3-dev-recorder-fn", "iam-role hs3-dev-engine-api-fn",
	} {
		if !slices.Contains(creates, w) {
			t.Errorf("the plan does not create %s:\n%s", w, planText(plan))
		}
	}
	// A failure midway through the HTTP API: the API exists, its routes
	// do not; the next plan finishes it.
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
	if rep := d.Apply(ctx, plan); rep.Err() != nil {
		t.Fatal(rep.Err())
	}
	if got := fake.Tables(); !slices.Equal(got, []string{"hs3-dev-counters", "hs3-dev-granules", "hs3-dev-runs"}) {
		t.Errorf("tables %v", got)
	}
	if got := fake.HTTPAPIs(); !slices.Equal(got, []string{"hs3-dev-engine-api: GET /, GET /api/{proxy+}, GET /{proxy+}; stages $default"}) {
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

	// The permission of API Gateway names this API, and the integration
	// the engine API function.
	clients := deploy.NewClients(aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", ""), BaseEndpoint: aws.String(fake.URL)})
	apis, err := clients.APIGateway.GetApis(ctx, &apigatewayv2.GetApisInput{})
	if err != nil || len(apis.Items) != 1 {
		t.Fatalf("GetApis: %v", err)
	}
	id := aws.ToString(apis.Items[0].ApiId)
	pol, err := clients.Lambda.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("hs3-dev-engine-api")})
	if err != nil {
		t.Fatal(err)
	}
	if wantARN := "arn:aws:execute-api:" + region + ":" + account + ":" + id + "/*"; !strings.Contains(aws.ToString(pol.Policy), wantARN) {
		t.Errorf("the API function's policy %s does not name %s", aws.ToString(pol.Policy), wantARN)
	}
	integ, err := clients.APIGateway.GetIntegrations(ctx, &apigatewayv2.GetIntegrationsInput{ApiId: aws.String(id)})
	if err != nil || len(integ.Items) != 1 {
		t.Fatalf("integrations: %v", err)
	}
	if i := integ.Items[0]; aws.ToString(i.IntegrationUri) != "arn:aws:lambda:"+region+":"+account+":function:hs3-dev-engine-api" ||
		aws.ToString(i.PayloadFormatVersion) != "2.0" || i.IntegrationType != "AWS_PROXY" {
		b, _ := json.Marshal(i)
		t.Errorf("integration %s", b)
	}

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
	for _, w := range []string{"dynamodb-table hs3-dev-runs", "apigateway-http-api hs3-dev-engine-api"} {
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
