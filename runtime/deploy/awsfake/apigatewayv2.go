package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode"
)

// httpAPI is an API Gateway v2 API, its parts kept in their wire form
// (restJson1 with the members' lower-camel JSON names).
type httpAPI struct {
	api          obj
	integrations map[string]obj
	routes       map[string]obj
	stages       map[string]obj
}

func writeAPIGatewayError(w http.ResponseWriter, e *Error) {
	status := e.Status
	switch e.Code {
	case "NotFoundException":
		status = 404
	case "ConflictException":
		status = 409
	}
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(obj{"message": e.Message})
}

// memberNames turns a wire document (lower-camel JSON names) into the
// member names the model (and the CLI) use, leaving the keys of maps of
// user data alone.
func memberNames(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := obj{}
		for k, e := range x {
			switch k {
			case "tags", "stageVariables", "requestParameters", "requestTemplates", "responseParameters", "routeSettings":
				out[upperFirst(k)] = e
			default:
				out[upperFirst(k)] = memberNames(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = memberNames(e)
		}
		return out
	}
	return v
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func (s *Server) serveAPIGateway(w http.ResponseWriter, r *http.Request, body []byte) {
	wire := obj{}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &wire); err != nil {
			writeAPIGatewayError(w, &Error{Status: 400, Code: "BadRequestException", Message: err.Error()})
			return
		}
	}
	parts := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	for i := range parts {
		parts[i], _ = url.PathUnescape(parts[i])
	}
	doc := memberNames(wire).(obj)
	for k, v := range r.URL.Query() {
		doc[upperFirst(k)] = v[0]
	}
	op := ""
	label := "" // the member the fifth path segment is
	switch {
	case len(parts) >= 2 && parts[0] == "v2" && parts[1] == "tags":
		doc["ResourceArn"] = strings.Join(parts[2:], "/")
		op = map[string]string{"GET": "GetTags", "POST": "TagResource"}[r.Method]
	case len(parts) == 2 && parts[1] == "apis":
		op = map[string]string{"GET": "GetApis", "POST": "CreateApi"}[r.Method]
	case len(parts) == 3 && parts[1] == "apis":
		op = map[string]string{"GET": "GetApi", "DELETE": "DeleteApi", "PATCH": "UpdateApi"}[r.Method]
	case len(parts) == 4 && parts[1] == "apis":
		kind := map[string]string{"integrations": "Integrations", "routes": "Routes", "stages": "Stages"}[parts[3]]
		if kind != "" {
			op = map[string]string{"GET": "Get" + kind, "POST": "Create" + strings.TrimSuffix(kind, "s")}[r.Method]
		}
	case len(parts) == 5 && parts[1] == "apis":
		one := map[string]string{"integrations": "Integration", "routes": "Route", "stages": "Stage"}[parts[3]]
		label = map[string]string{"integrations": "IntegrationId", "routes": "RouteId", "stages": "StageName"}[parts[3]]
		if one != "" {
			op = map[string]string{"GET": "Get" + one, "PATCH": "Update" + one, "DELETE": "Delete" + one}[r.Method]
		}
	}
	if len(parts) >= 3 && parts[1] == "apis" {
		doc["ApiId"] = parts[2]
	}
	if len(parts) == 5 && label != "" {
		doc[label] = parts[4]
	}
	if op == "" {
		writeAPIGatewayError(w, &Error{Status: 400, Code: "BadRequestException", Message: "the fake does not implement " + r.Method + " " + r.URL.Path})
		return
	}
	if e := s.begin("apigateway", op, doc); e != nil {
		writeAPIGatewayError(w, e)
		return
	}
	s.mu.Lock()
	out, status, e := s.apigateway(op, doc, wire)
	s.mu.Unlock()
	if e != nil {
		writeAPIGatewayError(w, e)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if out != nil {
		_ = json.NewEncoder(w).Encode(out)
	}
}

func (s *Server) newID() string {
	s.eng.nextID++
	return fmt.Sprintf("%07x", 0xa1b2c00+s.eng.nextID)
}

// merge copies the members of a wire document into item, but for the path
// labels.
func merge(item, wire obj) {
	for k, v := range wire {
		item[k] = v
	}
}

func items[V any](m map[string]V) []any {
	out := []any{}
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}

func (s *Server) apigateway(op string, doc, wire obj) (any, int, *Error) {
	st := s.eng
	if op == "GetTags" || op == "TagResource" {
		arn := str(doc, "ResourceArn")
		a, ok := st.apis[strings.TrimPrefix(arn, "arn:aws:apigateway:"+s.Region+"::/apis/")]
		if !ok {
			return nil, 0, notFound("NotFoundException", "Invalid resource identifier: %s", arn)
		}
		tags, _ := a.api["tags"].(map[string]any)
		if tags == nil {
			tags = obj{}
			a.api["tags"] = tags
		}
		if op == "TagResource" {
			for k, v := range tagMap(wire["tags"]) {
				tags[k] = v
			}
			return obj{}, 201, nil
		}
		return obj{"tags": tags}, 200, nil
	}
	switch op {
	case "GetApis":
		list := []any{}
		for _, id := range sortedKeys(st.apis) {
			list = append(list, st.apis[id].api)
		}
		return obj{"items": list}, 200, nil
	case "CreateApi":
		id := s.newID()
		api := obj{"apiId": id, "apiEndpoint": "https://" + id + ".execute-api." + s.Region + ".amazonaws.com", "routeSelectionExpression": "${request.method} ${request.path}"}
		merge(api, wire)
		st.apis[id] = &httpAPI{api: api, integrations: map[string]obj{}, routes: map[string]obj{}, stages: map[string]obj{}}
		return api, 201, nil
	}
	a, ok := st.apis[str(doc, "ApiId")]
	if !ok {
		return nil, 0, notFound("NotFoundException", "Invalid API identifier specified %s:%s", s.Account, str(doc, "ApiId"))
	}
	switch op {
	case "GetApi":
		return a.api, 200, nil
	case "DeleteApi":
		delete(st.apis, str(doc, "ApiId"))
		return nil, 204, nil
	case "UpdateApi":
		merge(a.api, wire)
		return a.api, 200, nil
	case "GetIntegrations":
		return obj{"items": items(a.integrations)}, 200, nil
	case "GetRoutes":
		return obj{"items": items(a.routes)}, 200, nil
	case "GetStages":
		return obj{"items": items(a.stages)}, 200, nil
	case "CreateIntegration":
		id := s.newID()
		it := obj{"integrationId": id}
		merge(it, wire)
		a.integrations[id] = it
		return it, 201, nil
	case "CreateRoute":
		for _, r := range a.routes {
			if str(r, "routeKey") == str(wire, "routeKey") {
				return nil, 0, notFound("ConflictException", "Unable to complete operation due to concurrent modification. Please try again later.")
			}
		}
		if e := checkTarget(a, str(wire, "target")); e != nil {
			return nil, 0, e
		}
		id := s.newID()
		rt := obj{"routeId": id}
		merge(rt, wire)
		a.routes[id] = rt
		return rt, 201, nil
	case "CreateStage":
		name := str(wire, "stageName")
		if _, ok := a.stages[name]; ok {
			return nil, 0, notFound("ConflictException", "Stage already exists")
		}
		sg := obj{}
		merge(sg, wire)
		a.stages[name] = sg
		return sg, 201, nil
	case "UpdateIntegration", "UpdateRoute", "DeleteRoute", "UpdateStage":
		var m map[string]obj
		var key string
		switch op {
		case "UpdateIntegration":
			m, key = a.integrations, str(doc, "IntegrationId")
		case "UpdateStage":
			m, key = a.stages, str(doc, "StageName")
		default:
			m, key = a.routes, str(doc, "RouteId")
		}
		item, ok := m[key]
		if !ok {
			return nil, 0, notFound("NotFoundException", "Invalid identifier specified %s", key)
		}
		if op == "DeleteRoute" {
			delete(m, key)
			return nil, 204, nil
		}
		if op == "UpdateRoute" {
			if e := checkTarget(a, str(wire, "target")); e != nil {
				return nil, 0, e
			}
		}
		merge(item, wire)
		return item, 200, nil
	}
	return nil, 0, notFound("BadRequestException", "the fake does not implement apigateway:%s", op)
}

// checkTarget refuses a route target that names no integration of the API,
// as API Gateway does.
func checkTarget(a *httpAPI, target string) *Error {
	if target == "" {
		return nil
	}
	id, ok := strings.CutPrefix(target, "integrations/")
	if _, found := a.integrations[id]; !ok || !found {
		return &Error{Status: 400, Code: "BadRequestException", Message: "Invalid integration identifier specified " + target}
	}
	return nil
}

// HTTPAPIs returns each HTTP API's name with its route keys and stages,
// for tests: "NAME: ROUTE, ROUTE; stages STAGE".
func (s *Server) HTTPAPIs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, id := range sortedKeys(s.eng.apis) {
		a := s.eng.apis[id]
		var routes []string
		for _, r := range items(a.routes) {
			routes = append(routes, str(r.(obj), "routeKey"))
		}
		sort.Strings(routes)
		out = append(out, fmt.Sprintf("%s: %s; stages %s", str(a.api, "name"), strings.Join(routes, ", "), strings.Join(sortedKeys(a.stages), ", ")))
	}
	return out
}
