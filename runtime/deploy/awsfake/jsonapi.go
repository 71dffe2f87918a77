package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

type obj = map[string]any

type logGroup struct {
	retention int
	tags      map[string]string
}

type taskDef struct {
	doc    obj
	tags   any
	rev    int
	active bool
}

type rule struct {
	doc     obj
	tags    map[string]string
	targets []any
}

type pipeline struct {
	id, name, uniqueID, state string
	tags                      any
	def                       obj
}

type state struct {
	logGroups map[string]*logGroup
	clusters  map[string]any // name -> tags
	taskDefs  map[string][]*taskDef
	rules     map[string]*rule
	pipelines map[string]*pipeline
	buckets   map[string]*bucket
	functions map[string]*function
	roles     map[string]*role
	machines  map[string]*stateMachine
	// profiles are IAM instance profiles (iam.go).
	profiles map[string]*profile
	// pipelineSeq numbers Data Pipeline ids.
	pipelineSeq int
}

func newState() *state {
	return &state{logGroups: map[string]*logGroup{}, clusters: map[string]any{}, taskDefs: map[string][]*taskDef{},
		rules: map[string]*rule{}, pipelines: map[string]*pipeline{}, buckets: map[string]*bucket{}, functions: map[string]*function{},
		roles: map[string]*role{}, machines: map[string]*stateMachine{}, profiles: map[string]*profile{}}
}

func notFound(code, format string, args ...any) *Error {
	return &Error{Status: 400, Code: code, Message: fmt.Sprintf(format, args...)}
}

func str(o obj, k string) string { s, _ := o[k].(string); return s }

func tagMap(v any) map[string]string {
	m := map[string]string{}
	if o, ok := v.(map[string]any); ok {
		for k, x := range o {
			m[k], _ = x.(string)
		}
	}
	return m
}

func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request, svc string, body []byte) {
	target := r.Header.Get("X-Amz-Target")
	op := target[strings.LastIndex(target, ".")+1:]
	in := obj{}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			writeJSONError(w, &Error{Status: 400, Code: "SerializationException", Message: err.Error()})
			return
		}
	}
	if e := s.begin(svc, op, in); e != nil {
		writeJSONError(w, e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out any
	var e *Error
	switch svc {
	case "logs":
		out, e = s.logs(op, in)
	case "ecs":
		out, e = s.ecs(op, in)
	case "events":
		out, e = s.events(op, in)
	case "datapipeline":
		out, e = s.datapipeline(op, in)
	case "states":
		out, e = s.states(op, in)
	}
	if e != nil {
		writeJSONError(w, e)
		return
	}
	if out == nil {
		out = obj{}
	}
	writeJSON(w, 200, out)
}

func (s *Server) arn(svc, rest string) string {
	return "arn:aws:" + svc + ":" + s.Region + ":" + s.Account + ":" + rest
}

func (s *Server) logs(op string, in obj) (any, *Error) {
	st := s.st
	name := str(in, "logGroupName")
	switch op {
	case "DescribeLogGroups":
		prefix := str(in, "logGroupNamePrefix")
		var names []string
		for n := range st.logGroups {
			if strings.HasPrefix(n, prefix) {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		groups := []any{}
		for _, n := range names {
			g := obj{"logGroupName": n, "arn": s.arn("logs", "log-group:"+n+":*"), "logGroupArn": s.arn("logs", "log-group:"+n), "creationTime": 1700000000000}
			if st.logGroups[n].retention > 0 {
				g["retentionInDays"] = st.logGroups[n].retention
			}
			groups = append(groups, g)
		}
		return obj{"logGroups": groups}, nil
	case "CreateLogGroup":
		if _, ok := st.logGroups[name]; ok {
			return nil, notFound("ResourceAlreadyExistsException", "The specified log group already exists")
		}
		st.logGroups[name] = &logGroup{tags: tagMap(in["tags"])}
		return nil, nil
	case "PutRetentionPolicy":
		g, ok := st.logGroups[name]
		if !ok {
			return nil, notFound("ResourceNotFoundException", "The specified log group does not exist.")
		}
		g.retention = int(in["retentionInDays"].(float64))
		return nil, nil
	case "DeleteLogGroup":
		if _, ok := st.logGroups[name]; !ok {
			return nil, notFound("ResourceNotFoundException", "The specified log group does not exist.")
		}
		delete(st.logGroups, name)
		return nil, nil
	case "ListTagsForResource", "TagResource":
		arn := str(in, "resourceArn")
		n := strings.TrimPrefix(arn, s.arn("logs", "log-group:"))
		g, ok := st.logGroups[n]
		if !ok {
			return nil, notFound("ResourceNotFoundException", "The specified log group does not exist.")
		}
		if op == "TagResource" {
			for k, v := range tagMap(in["tags"]) {
				g.tags[k] = v
			}
			return nil, nil
		}
		return obj{"tags": g.tags}, nil
	}
	return nil, notFound("UnknownOperationException", "the fake does not implement logs:%s", op)
}

func (s *Server) ecs(op string, in obj) (any, *Error) {
	st := s.st
	switch op {
	case "DescribeClusters":
		out := []any{}
		failures := []any{}
		for _, c := range in["clusters"].([]any) {
			name := c.(string)
			if tags, ok := st.clusters[name]; ok {
				out = append(out, obj{"clusterName": name, "clusterArn": s.arn("ecs", "cluster/"+name), "status": "ACTIVE", "tags": tags})
			} else {
				failures = append(failures, obj{"arn": s.arn("ecs", "cluster/"+name), "reason": "MISSING"})
			}
		}
		return obj{"clusters": out, "failures": failures}, nil
	case "CreateCluster":
		name := str(in, "clusterName")
		if in["tags"] == nil {
			in["tags"] = []any{}
		}
		st.clusters[name] = in["tags"]
		return obj{"cluster": obj{"clusterName": name, "clusterArn": s.arn("ecs", "cluster/"+name), "status": "ACTIVE"}}, nil
	case "RegisterTaskDefinition":
		fam := str(in, "family")
		doc := obj{}
		for k, v := range in {
			if k != "tags" {
				doc[k] = v
			}
		}
		td := &taskDef{doc: doc, tags: in["tags"], rev: len(st.taskDefs[fam]) + 1, active: true}
		st.taskDefs[fam] = append(st.taskDefs[fam], td)
		return obj{"taskDefinition": s.taskDefDoc(fam, td), "tags": td.tags}, nil
	case "DescribeTaskDefinition":
		fam, td := s.findTaskDef(str(in, "taskDefinition"))
		if td == nil {
			return nil, notFound("ClientException", "Unable to describe task definition.")
		}
		out := obj{"taskDefinition": s.taskDefDoc(fam, td)}
		if td.tags != nil {
			out["tags"] = td.tags
		}
		return out, nil
	case "ListTaskDefinitionFamilies":
		var fams []string
		for f, tds := range st.taskDefs {
			if strings.HasPrefix(f, str(in, "familyPrefix")) && activeRev(tds) != nil {
				fams = append(fams, f)
			}
		}
		sort.Strings(fams)
		return obj{"families": fams}, nil
	case "ListTaskDefinitions":
		arns := []string{}
		for _, td := range st.taskDefs[str(in, "familyPrefix")] {
			if td.active {
				arns = append(arns, s.arn("ecs", fmt.Sprintf("task-definition/%s:%d", str(in, "familyPrefix"), td.rev)))
			}
		}
		return obj{"taskDefinitionArns": arns}, nil
	case "DeregisterTaskDefinition":
		fam, td := s.findTaskDef(str(in, "taskDefinition"))
		if td == nil {
			return nil, notFound("ClientException", "The specified task definition does not exist.")
		}
		td.active = false
		return obj{"taskDefinition": s.taskDefDoc(fam, td)}, nil
	}
	return nil, notFound("UnknownOperationException", "the fake does not implement ecs:%s", op)
}

func activeRev(tds []*taskDef) *taskDef {
	for i := len(tds) - 1; i >= 0; i-- {
		if tds[i].active {
			return tds[i]
		}
	}
	return nil
}

// findTaskDef resolves "family", "family:rev" or an ARN.
func (s *Server) findTaskDef(ref string) (string, *taskDef) {
	if i := strings.LastIndex(ref, "task-definition/"); i >= 0 {
		ref = ref[i+len("task-definition/"):]
	}
	fam, rev, _ := strings.Cut(ref, ":")
	tds := s.st.taskDefs[fam]
	if rev == "" {
		return fam, activeRev(tds)
	}
	for _, td := range tds {
		if fmt.Sprint(td.rev) == rev {
			return fam, td
		}
	}
	return fam, nil
}

func (s *Server) taskDefDoc(fam string, td *taskDef) obj {
	d := obj{}
	for k, v := range td.doc {
		d[k] = v
	}
	d["taskDefinitionArn"] = s.arn("ecs", fmt.Sprintf("task-definition/%s:%d", fam, td.rev))
	d["revision"] = td.rev
	d["status"] = map[bool]string{true: "ACTIVE", false: "INACTIVE"}[td.active]
	return d
}

func (s *Server) events(op string, in obj) (any, *Error) {
	st := s.st
	ruleArn := func(name string) string { return s.arn("events", "rule/"+name) }
	byArn := func(arn string) (*rule, *Error) {
		r, ok := st.rules[strings.TrimPrefix(arn, s.arn("events", "rule/"))]
		if !ok {
			return nil, notFound("ResourceNotFoundException", "Rule %s does not exist.", arn)
		}
		return r, nil
	}
	name := str(in, "Name")
	switch op {
	case "PutRule":
		r, ok := st.rules[name]
		if !ok {
			r = &rule{tags: map[string]string{}}
			st.rules[name] = r
			if tags, ok := in["Tags"].([]any); ok {
				for _, t := range tags {
					t := t.(map[string]any)
					r.tags[str(t, "Key")] = str(t, "Value")
				}
			}
		}
		r.doc = obj{"Name": name, "Arn": ruleArn(name), "ScheduleExpression": in["ScheduleExpression"], "EventPattern": in["EventPattern"], "State": in["State"], "Description": in["Description"], "EventBusName": "default"}
		return obj{"RuleArn": ruleArn(name)}, nil
	case "DescribeRule":
		r, ok := st.rules[name]
		if !ok {
			return nil, notFound("ResourceNotFoundException", "Rule %s does not exist.", name)
		}
		return r.doc, nil
	case "ListRules":
		var names []string
		for n := range st.rules {
			if strings.HasPrefix(n, str(in, "NamePrefix")) {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		out := []any{}
		for _, n := range names {
			out = append(out, st.rules[n].doc)
		}
		return obj{"Rules": out}, nil
	case "DeleteRule":
		r, ok := st.rules[name]
		if ok && len(r.targets) > 0 {
			return nil, notFound("ValidationException", "Rule can't be deleted since it has targets.")
		}
		delete(st.rules, name)
		return nil, nil
	case "ListTagsForResource", "TagResource":
		r, e := byArn(str(in, "ResourceARN"))
		if e != nil {
			return nil, e
		}
		if op == "TagResource" {
			for _, t := range in["Tags"].([]any) {
				t := t.(map[string]any)
				r.tags[str(t, "Key")] = str(t, "Value")
			}
			return nil, nil
		}
		tags := []any{}
		for _, k := range sortedKeys(r.tags) {
			tags = append(tags, obj{"Key": k, "Value": r.tags[k]})
		}
		return obj{"Tags": tags}, nil
	case "ListTargetsByRule", "PutTargets", "RemoveTargets":
		r, ok := st.rules[str(in, "Rule")]
		if !ok {
			return nil, notFound("ResourceNotFoundException", "Rule %s does not exist.", str(in, "Rule"))
		}
		switch op {
		case "ListTargetsByRule":
			return obj{"Targets": r.targets}, nil
		case "PutTargets":
			for _, t := range in["Targets"].([]any) {
				id := str(t.(map[string]any), "Id")
				r.targets = removeID(r.targets, id)
				r.targets = append(r.targets, t)
			}
			return obj{"FailedEntryCount": 0, "FailedEntries": []any{}}, nil
		default:
			for _, id := range in["Ids"].([]any) {
				r.targets = removeID(r.targets, id.(string))
			}
			return obj{"FailedEntryCount": 0, "FailedEntries": []any{}}, nil
		}
	}
	return nil, notFound("UnknownOperationException", "the fake does not implement events:%s", op)
}

func removeID(list []any, id string) []any {
	out := list[:0:0]
	for _, t := range list {
		if str(t.(map[string]any), "Id") != id {
			out = append(out, t)
		}
	}
	return out
}

func (s *Server) datapipeline(op string, in obj) (any, *Error) {
	st := s.st
	get := func() (*pipeline, *Error) {
		p, ok := st.pipelines[str(in, "pipelineId")]
		if !ok {
			return nil, notFound("PipelineNotFoundException", "Pipeline %s not found", str(in, "pipelineId"))
		}
		return p, nil
	}
	switch op {
	case "CreatePipeline":
		for _, p := range st.pipelines {
			if p.uniqueID == str(in, "uniqueId") {
				return obj{"pipelineId": p.id}, nil
			}
		}
		st.pipelineSeq++ // ids are never reused, even after a delete
		id := fmt.Sprintf("df-%019d", st.pipelineSeq)
		st.pipelines[id] = &pipeline{id: id, name: str(in, "name"), uniqueID: str(in, "uniqueId"), state: "PENDING", tags: in["tags"]}
		return obj{"pipelineId": id}, nil
	case "ListPipelines":
		ids := []any{}
		for _, id := range sortedKeys(st.pipelines) {
			ids = append(ids, obj{"id": id, "name": st.pipelines[id].name})
		}
		return obj{"pipelineIdList": ids, "hasMoreResults": false}, nil
	case "DescribePipelines":
		out := []any{}
		for _, id := range in["pipelineIds"].([]any) {
			p, ok := st.pipelines[id.(string)]
			if !ok {
				return nil, notFound("PipelineNotFoundException", "Pipeline %s not found", id)
			}
			d := obj{"pipelineId": p.id, "name": p.name, "fields": []any{obj{"key": "@pipelineState", "stringValue": p.state}, obj{"key": "uniqueId", "stringValue": p.uniqueID}}}
			if p.tags != nil {
				d["tags"] = p.tags
			}
			out = append(out, d)
		}
		return obj{"pipelineDescriptionList": out}, nil
	case "GetPipelineDefinition":
		p, e := get()
		if e != nil {
			return nil, e
		}
		if p.def == nil {
			return obj{"pipelineObjects": []any{}}, nil
		}
		return p.def, nil
	case "ValidatePipelineDefinition", "PutPipelineDefinition":
		p, e := get()
		if e != nil {
			return nil, e
		}
		if op == "PutPipelineDefinition" {
			p.def = obj{"pipelineObjects": in["pipelineObjects"], "parameterObjects": in["parameterObjects"], "parameterValues": in["parameterValues"]}
		}
		return obj{"errored": false}, nil
	case "ActivatePipeline":
		p, e := get()
		if e != nil {
			return nil, e
		}
		if p.def == nil {
			return nil, notFound("InvalidRequestException", "Pipeline %s has no definition", p.id)
		}
		p.state = "SCHEDULED"
		return nil, nil
	case "DeletePipeline":
		if _, e := get(); e != nil {
			return nil, e
		}
		delete(st.pipelines, str(in, "pipelineId"))
		return nil, nil
	}
	return nil, notFound("UnknownOperationException", "the fake does not implement datapipeline:%s", op)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// PipelineState returns the state of the Data Pipeline named name ("" when
// there is none), for tests.
func (s *Server) PipelineState(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.st.pipelines {
		if p.name == name {
			return p.state
		}
	}
	return ""
}
