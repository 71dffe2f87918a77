package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/cumulus-toolchain/cumulus/compiler/httpapi"
)

// The HTTP APIs: the engine's, and one per distribution, each planned and
// applied on its own. API Gateway names an API by an id it makes, and lets
// several APIs share a name, so an API is found by its name and the
// cumulus:config tag; one of that name that another owner tagged is a
// conflict. Its integration is the one whose URI is the wanted function,
// its routes are found by route key, its stage by name. The plan lists
// what differs; apply reads the API again and makes each part as wanted,
// so a run that stopped between the API and its routes is finished by the
// next one.

// apiState is what exists of the HTTP API.
type apiState struct {
	api *agtypes.Api
	// integration is the one whose URI is the wanted function's.
	integration *agtypes.Integration
	routes      map[string]agtypes.Route // by route key
	stage       *agtypes.Stage
}

// apiFix is one difference and what makes it right.
type apiFix struct {
	reason string
	do     func(ctx context.Context, id string, st *apiState) error
}

func (p *planner) apiARN(id string) string {
	return "arn:aws:apigateway:" + p.want.Region + "::/apis/" + id
}

// Endpoint is where an HTTP API serves: the invoke URL of its $default
// stage.
type Endpoint struct {
	Name  string `json:"name"`
	Block string `json:"block"`
	// Title says what the API serves ("Engine API and dashboard",
	// "Distribution NAME").
	Title string `json:"title"`
	URL   string `json:"url"`
}

// apiRef is what the planner knows of a wanted HTTP API: its id and
// endpoint, once it exists.
type apiRef struct {
	Endpoint
	id string
}

// found records that the API of ep exists, with that id and endpoint.
func (p *planner) found(ep *apiRef, id, endpoint string) {
	ep.id = id
	if endpoint == "" {
		// The form API Gateway gives every HTTP API.
		endpoint = "https://" + id + ".execute-api." + p.want.Region + ".amazonaws.com"
	}
	ep.URL = strings.TrimSuffix(endpoint, "/") + "/"
}

// findAPI returns the owned API named as h, or else one of that name owned
// by someone else.
func (p *planner) findAPI(ctx context.Context, h *HTTPAPI) (owned, foreign *agtypes.Api, err error) {
	in := &apigatewayv2.GetApisInput{}
	for {
		out, err := p.c.APIGateway.GetApis(ctx, in)
		if err != nil {
			return nil, nil, err
		}
		for i := range out.Items {
			a := &out.Items[i]
			if aws.ToString(a.Name) != h.Name {
				continue
			}
			if p.owned(a.Tags) {
				if owned == nil {
					owned = a
				}
			} else if foreign == nil {
				foreign = a
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return owned, foreign, nil
		}
		in.NextToken = out.NextToken
	}
}

// readAPI reads the integration, routes and stage of the API wanted as h.
func (p *planner) readAPI(ctx context.Context, h *HTTPAPI, api *agtypes.Api) (*apiState, error) {
	id := api.ApiId
	st := &apiState{api: api, routes: map[string]agtypes.Route{}}
	in := &apigatewayv2.GetIntegrationsInput{ApiId: id}
	for {
		out, err := p.c.APIGateway.GetIntegrations(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("integrations: %w", err)
		}
		for i := range out.Items {
			if st.integration == nil && aws.ToString(out.Items[i].IntegrationUri) == aws.ToString(h.Integration.IntegrationUri) {
				st.integration = &out.Items[i]
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	rin := &apigatewayv2.GetRoutesInput{ApiId: id}
	for {
		out, err := p.c.APIGateway.GetRoutes(ctx, rin)
		if err != nil {
			return nil, fmt.Errorf("routes: %w", err)
		}
		for _, r := range out.Items {
			st.routes[aws.ToString(r.RouteKey)] = r
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		rin.NextToken = out.NextToken
	}
	sin := &apigatewayv2.GetStagesInput{ApiId: id}
	for {
		out, err := p.c.APIGateway.GetStages(ctx, sin)
		if err != nil {
			return nil, fmt.Errorf("stages: %w", err)
		}
		for i := range out.Items {
			if aws.ToString(out.Items[i].StageName) == aws.ToString(h.Stage.StageName) {
				st.stage = &out.Items[i]
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		sin.NextToken = out.NextToken
	}
	return st, nil
}

// apiFixes lists what differs between the wanted API h and st, in the
// order it must be done (the integration before the routes that target
// it).
func (p *planner) apiFixes(h *HTTPAPI, st *apiState) []apiFix {
	var fixes []apiFix
	if d := aws.ToString(h.API.Description); d != aws.ToString(st.api.Description) {
		fixes = append(fixes, apiFix{reason: fmt.Sprintf("description %q -> %q", aws.ToString(st.api.Description), d), do: func(ctx context.Context, id string, _ *apiState) error {
			_, err := p.c.APIGateway.UpdateApi(ctx, &apigatewayv2.UpdateApiInput{ApiId: aws.String(id), Description: h.API.Description})
			return err
		}})
	}
	if diff := tagDiff(h.API.Tags, st.api.Tags); len(diff) > 0 {
		fixes = append(fixes, apiFix{reason: tagReason(diff), do: func(ctx context.Context, id string, _ *apiState) error {
			_, err := p.c.APIGateway.TagResource(ctx, &apigatewayv2.TagResourceInput{ResourceArn: aws.String(p.apiARN(id)), Tags: h.API.Tags})
			return err
		}})
	}
	want := h.Integration
	switch cur := st.integration; {
	case cur == nil:
		fixes = append(fixes, apiFix{reason: "integration with " + aws.ToString(want.IntegrationUri) + " to create", do: func(ctx context.Context, id string, st *apiState) error {
			in := *want
			in.ApiId = aws.String(id)
			out, err := p.c.APIGateway.CreateIntegration(ctx, &in)
			if err != nil {
				return err
			}
			st.integration = &agtypes.Integration{IntegrationId: out.IntegrationId}
			return nil
		}})
	case cur.IntegrationType != want.IntegrationType || aws.ToString(cur.PayloadFormatVersion) != aws.ToString(want.PayloadFormatVersion) ||
		aws.ToInt32(cur.TimeoutInMillis) != aws.ToInt32(want.TimeoutInMillis) || aws.ToString(cur.Description) != aws.ToString(want.Description):
		fixes = append(fixes, apiFix{reason: "integration differs", do: func(ctx context.Context, id string, st *apiState) error {
			_, err := p.c.APIGateway.UpdateIntegration(ctx, &apigatewayv2.UpdateIntegrationInput{
				ApiId: aws.String(id), IntegrationId: st.integration.IntegrationId, IntegrationType: want.IntegrationType,
				IntegrationUri: want.IntegrationUri, PayloadFormatVersion: want.PayloadFormatVersion,
				TimeoutInMillis: want.TimeoutInMillis, Description: want.Description,
			})
			return err
		}})
	}
	target := func(st *apiState) string {
		return strings.ReplaceAll(aws.ToString(h.Routes[0].Target), httpapi.IntegrationID, aws.ToString(st.integration.IntegrationId))
	}
	wanted := map[string]bool{}
	for _, r := range h.Routes {
		key := aws.ToString(r.RouteKey)
		wanted[key] = true
		cur, ok := st.routes[key]
		switch {
		case !ok:
			fixes = append(fixes, apiFix{reason: "route " + key + " to create", do: func(ctx context.Context, id string, st *apiState) error {
				_, err := p.c.APIGateway.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: aws.String(id), RouteKey: aws.String(key), Target: aws.String(target(st))})
				return err
			}})
		case st.integration == nil || aws.ToString(cur.Target) != target(st):
			routeID := cur.RouteId
			fixes = append(fixes, apiFix{reason: "route " + key + " targets " + aws.ToString(cur.Target), do: func(ctx context.Context, id string, st *apiState) error {
				_, err := p.c.APIGateway.UpdateRoute(ctx, &apigatewayv2.UpdateRouteInput{ApiId: aws.String(id), RouteId: routeID, Target: aws.String(target(st))})
				return err
			}})
		}
	}
	for _, key := range sortedKeys(st.routes) {
		if wanted[key] {
			continue
		}
		routeID := st.routes[key].RouteId
		fixes = append(fixes, apiFix{reason: "route " + key + " to delete", do: func(ctx context.Context, id string, _ *apiState) error {
			_, err := p.c.APIGateway.DeleteRoute(ctx, &apigatewayv2.DeleteRouteInput{ApiId: aws.String(id), RouteId: routeID})
			return err
		}})
	}
	switch stage := h.Stage; {
	case st.stage == nil:
		fixes = append(fixes, apiFix{reason: "stage " + aws.ToString(stage.StageName) + " to create", do: func(ctx context.Context, id string, _ *apiState) error {
			in := *stage
			in.ApiId = aws.String(id)
			_, err := p.c.APIGateway.CreateStage(ctx, &in)
			return err
		}})
	case aws.ToBool(st.stage.AutoDeploy) != aws.ToBool(stage.AutoDeploy) || aws.ToString(st.stage.Description) != aws.ToString(stage.Description):
		fixes = append(fixes, apiFix{reason: "stage " + aws.ToString(stage.StageName) + " differs", do: func(ctx context.Context, id string, _ *apiState) error {
			_, err := p.c.APIGateway.UpdateStage(ctx, &apigatewayv2.UpdateStageInput{ApiId: aws.String(id), StageName: stage.StageName, AutoDeploy: stage.AutoDeploy, Description: stage.Description})
			return err
		}})
	}
	return fixes
}

// httpAPIs plans each HTTP API.
func (p *planner) httpAPIs(ctx context.Context) error {
	for _, h := range p.want.HTTPAPIs {
		if err := p.httpAPI(ctx, h); err != nil {
			return err
		}
	}
	return nil
}

func (p *planner) httpAPI(ctx context.Context, h *HTTPAPI) error {
	ep := p.apis[h.Name]
	owned, foreign, err := p.findAPI(ctx, h)
	if err != nil {
		return fmt.Errorf("HTTP API %s: %w", h.Name, err)
	}
	if owned == nil && foreign != nil {
		p.conflict(KindHTTPAPI, h.Name, h.Block, foreign.Tags)
		return nil
	}
	converge := func(ctx context.Context) error { return p.convergeAPI(ctx, h) }
	if owned == nil {
		p.add(&Action{Op: OpCreate, Kind: KindHTTPAPI, Name: h.Name, Block: h.Block,
			Reasons: []string{fmt.Sprintf("with its integration, %d routes and stage %s", len(h.Routes), aws.ToString(h.Stage.StageName))},
			run:     converge})
		return nil
	}
	p.found(ep, aws.ToString(owned.ApiId), aws.ToString(owned.ApiEndpoint))
	st, err := p.readAPI(ctx, h, owned)
	if err != nil {
		return fmt.Errorf("HTTP API %s: %w", h.Name, err)
	}
	fixes := p.apiFixes(h, st)
	if len(fixes) == 0 {
		p.add(&Action{Op: OpUnchanged, Kind: KindHTTPAPI, Name: h.Name, Block: h.Block})
		return nil
	}
	var reasons []string
	for _, f := range fixes {
		reasons = append(reasons, f.reason)
	}
	p.add(&Action{Op: OpUpdate, Kind: KindHTTPAPI, Name: h.Name, Block: h.Block, Reasons: reasons, run: converge})
	return nil
}

// convergeAPI makes the HTTP API h as wanted from what exists when it
// runs: it creates the API if there is none yet, then fixes each
// difference.
func (p *planner) convergeAPI(ctx context.Context, h *HTTPAPI) error {
	owned, foreign, err := p.findAPI(ctx, h)
	if err != nil {
		return err
	}
	if owned == nil && foreign != nil {
		return fmt.Errorf("an HTTP API named %s that %s does not own appeared", h.Name, p.want.Prefix)
	}
	if owned == nil {
		out, err := p.c.APIGateway.CreateApi(ctx, h.API)
		if err != nil {
			return err
		}
		owned = &agtypes.Api{ApiId: out.ApiId, ApiEndpoint: out.ApiEndpoint, Name: out.Name, Description: out.Description, Tags: out.Tags, ProtocolType: out.ProtocolType}
	}
	id := aws.ToString(owned.ApiId)
	p.found(p.apis[h.Name], id, aws.ToString(owned.ApiEndpoint))
	st, err := p.readAPI(ctx, h, owned)
	if err != nil {
		return err
	}
	for _, f := range p.apiFixes(h, st) {
		if err := f.do(ctx, id, st); err != nil {
			return fmt.Errorf("%s: %w", f.reason, err)
		}
	}
	return nil
}

// permissions: the statements of the functions' resource policies that let
// EventBridge invoke the recorder and API Gateway the functions behind the
// HTTP APIs (each from its own API only), found by statement id and
// compared by principal and source ARN.
func (p *planner) permissions(ctx context.Context) error {
	for _, perm := range p.want.Permissions {
		perm := perm
		sid := aws.ToString(perm.Input.StatementId)
		name := perm.Function + "/" + sid
		source := func() (string, error) {
			arn := aws.ToString(perm.Input.SourceArn)
			if strings.Contains(arn, httpapi.APIID) {
				ep := p.apis[perm.API]
				if ep == nil || ep.id == "" {
					return "", fmt.Errorf("the HTTP API %s does not exist, so its id is unknown", perm.API)
				}
				arn = strings.ReplaceAll(arn, httpapi.APIID, ep.id)
			}
			return arn, nil
		}
		add := func(ctx context.Context) error {
			arn, err := source()
			if err != nil {
				return err
			}
			in := *perm.Input
			in.SourceArn = aws.String(arn)
			return retry(ctx, p.retry, "AddPermission", func() error {
				_, err := p.c.Lambda.AddPermission(ctx, &in)
				return err
			})
		}
		reason := aws.ToString(perm.Input.Principal) + " may invoke " + perm.Function
		cur, err := p.statement(ctx, perm.Function, sid)
		if err != nil {
			return err
		}
		if cur == nil {
			p.add(&Action{Op: OpCreate, Kind: KindPermission, Name: name, Block: perm.Block, Reasons: []string{reason}, run: add})
			continue
		}
		want, werr := source()
		if werr == nil && cur.Principal.Service == aws.ToString(perm.Input.Principal) && cur.Condition.ArnLike["AWS:SourceArn"] == want {
			p.add(&Action{Op: OpUnchanged, Kind: KindPermission, Name: name, Block: perm.Block})
			continue
		}
		p.add(&Action{Op: OpUpdate, Kind: KindPermission, Name: name, Block: perm.Block,
			Reasons: []string{fmt.Sprintf("source %s -> %s", cur.Condition.ArnLike["AWS:SourceArn"], orUnknown(want, werr))},
			run: func(ctx context.Context) error {
				_, err := p.c.Lambda.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(perm.Function), StatementId: aws.String(sid)})
				if err != nil && errorCode(err) != "ResourceNotFoundException" {
					return err
				}
				return add(ctx)
			}})
	}
	return nil
}

func orUnknown(s string, err error) string {
	if err != nil {
		return "the new API's"
	}
	return s
}

// policyStatement is a statement of a Lambda function's resource policy,
// as GetPolicy returns it.
type policyStatement struct {
	Sid       string
	Principal struct {
		Service string
	}
	Condition struct {
		ArnLike map[string]string
	}
}

// statement returns the statement sid of fn's policy, nil when there is
// none (or no function yet).
func (p *planner) statement(ctx context.Context, fn, sid string) (*policyStatement, error) {
	out, err := p.c.Lambda.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(fn)})
	if errorCode(err) == "ResourceNotFoundException" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("policy of %s: %w", fn, err)
	}
	var pol struct{ Statement []policyStatement }
	if err := json.Unmarshal([]byte(aws.ToString(out.Policy)), &pol); err != nil {
		return nil, fmt.Errorf("policy of %s: %w", fn, err)
	}
	for i := range pol.Statement {
		if pol.Statement[i].Sid == sid {
			return &pol.Statement[i], nil
		}
	}
	return nil, nil
}
