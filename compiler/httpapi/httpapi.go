// Package httpapi builds the documents of an API Gateway HTTP API in front
// of one Lambda function, for every part of the configuration that serves
// HTTP on AWS (the engine's API and dashboard, each distribution):
//
//   - CreateApi, ProtocolType HTTP;
//   - CreateIntegration: AWS_PROXY to the function, payload format 2.0;
//   - CreateRoute, one per route key, each targeting that integration;
//   - CreateStage: the $default stage with automatic deployment;
//   - AddPermission: API Gateway may invoke the function from this API
//     only.
//
// API Gateway makes the ids of an API and of its integration when they are
// created, and the integration, routes, stage and the permission need them:
// their documents carry [APIID] and [IntegrationID] where the ids go, which
// deploy replaces.
package httpapi

import "github.com/cumulus-toolchain/cumulus/compiler/graph"

// Placeholders for the ids API Gateway assigns, replaced by deploy.
const (
	APIID         = "{api-id}"
	IntegrationID = "{integration-id}"
)

// StageName is the API's one stage: $default serves at the root of the
// API's URL, with no stage name in the path.
const StageName = "$default"

// SidAPIGateway is the statement id of the permission that lets API Gateway
// invoke the function, which deploy finds it by.
const SidAPIGateway = "cumulus-apigateway"

// TimeoutMillis is API Gateway's ceiling for an HTTP API integration.
const TimeoutMillis = 29000

// CreateAPI is the apigatewayv2 CreateApi input.
type CreateAPI struct {
	Name         string            `json:"Name"`
	ProtocolType string            `json:"ProtocolType"`
	Description  string            `json:"Description"`
	Tags         map[string]string `json:"Tags"`
}

// CreateIntegration is the CreateIntegration input.
type CreateIntegration struct {
	ApiId                string `json:"ApiId"`
	Description          string `json:"Description"`
	IntegrationType      string `json:"IntegrationType"`
	IntegrationUri       string `json:"IntegrationUri"`
	PayloadFormatVersion string `json:"PayloadFormatVersion"`
	TimeoutInMillis      int    `json:"TimeoutInMillis"`
}

// CreateRoute is the CreateRoute input.
type CreateRoute struct {
	ApiId    string `json:"ApiId"`
	RouteKey string `json:"RouteKey"`
	Target   string `json:"Target"`
}

// CreateStage is the CreateStage input.
type CreateStage struct {
	ApiId       string            `json:"ApiId"`
	StageName   string            `json:"StageName"`
	AutoDeploy  bool              `json:"AutoDeploy"`
	Description string            `json:"Description"`
	Tags        map[string]string `json:"Tags"`
}

// AddPermission is the Lambda AddPermission input: who may invoke a
// function.
type AddPermission struct {
	FunctionName  string `json:"FunctionName"`
	StatementID   string `json:"StatementId"`
	Action        string `json:"Action"`
	Principal     string `json:"Principal"`
	SourceArn     string `json:"SourceArn"`
	SourceAccount string `json:"SourceAccount"`
}

// Route is one route of an API: its key, and the name of its document
// (route.FILE.json).
type Route struct {
	Key  string
	File string
}

// Spec says what an API serves and how it is described.
type Spec struct {
	// Name is the API's name, unique among the configuration's APIs.
	Name string
	// Description is the API's; IntegrationDescription the integration's.
	Description            string
	IntegrationDescription string
	// Function is the task the API invokes.
	Function *graph.Task
	Routes   []Route
	Tags     map[string]string
}

// Documents are one API's artifacts.
type Documents struct {
	API         *CreateAPI
	Integration *CreateIntegration
	// Routes are in the Spec's order; RouteFiles names each one's file.
	Routes     []*CreateRoute
	RouteFiles []string
	Stage      *CreateStage
	// Permission lets API Gateway invoke the function from this API.
	Permission *AddPermission
}

// Build returns the documents of the API s describes in g.
func Build(g *graph.Graph, s Spec) *Documents {
	d := &Documents{
		API: &CreateAPI{Name: s.Name, ProtocolType: "HTTP", Description: s.Description, Tags: s.Tags},
		Integration: &CreateIntegration{
			ApiId: APIID, Description: s.IntegrationDescription, IntegrationType: "AWS_PROXY",
			IntegrationUri: g.FunctionARN(s.Function.ResourceName), PayloadFormatVersion: "2.0",
			TimeoutInMillis: TimeoutMillis,
		},
		Stage: &CreateStage{ApiId: APIID, StageName: StageName, AutoDeploy: true, Description: "cumulus: every change of the routes is live at once", Tags: s.Tags},
		Permission: &AddPermission{
			FunctionName: s.Function.ResourceName, StatementID: SidAPIGateway, Action: "lambda:InvokeFunction",
			Principal: "apigateway.amazonaws.com", SourceAccount: g.AccountID,
			// This API only, any of its stages and routes (the routes
			// are what limits the methods and paths).
			SourceArn: "arn:aws:execute-api:" + g.Region + ":" + g.AccountID + ":" + APIID + "/*",
		},
	}
	for _, r := range s.Routes {
		d.Routes = append(d.Routes, &CreateRoute{ApiId: APIID, RouteKey: r.Key, Target: "integrations/" + IntegrationID})
		d.RouteFiles = append(d.RouteFiles, r.File)
	}
	return d
}
