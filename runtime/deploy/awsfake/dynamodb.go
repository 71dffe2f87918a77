package awsfake

import (
	"strings"
)

// engineState is the state of the services the engine's resources live in:
// DynamoDB tables, API Gateway HTTP APIs, and log events.
type engineState struct {
	tables map[string]*table
	apis   map[string]*httpAPI
	// streams: log group -> stream -> events, in the order put.
	streams map[string]map[string][]LogEvent
	nextID  int
}

func newEngineState() *engineState {
	return &engineState{tables: map[string]*table{}, apis: map[string]*httpAPI{}, streams: map[string]map[string][]LogEvent{}}
}

type table struct {
	desc obj
	tags map[string]string
}

func (s *Server) tableByARN(arn string) (*table, *Error) {
	t, ok := s.eng.tables[strings.TrimPrefix(arn, s.arn("dynamodb", "table/"))]
	if !ok {
		return nil, notFound("ResourceNotFoundException", "Requested resource not found: ResourceArn: %s not found", arn)
	}
	return t, nil
}

func tagList(v any) map[string]string {
	m := map[string]string{}
	list, _ := v.([]any)
	for _, t := range list {
		if t, ok := t.(map[string]any); ok {
			m[str(t, "Key")] = str(t, "Value")
		}
	}
	return m
}

// gsiDescription is an index as DescribeTable shows it once built.
func (s *Server) gsiDescription(tableName string, ix obj) obj {
	return obj{"IndexName": ix["IndexName"], "KeySchema": ix["KeySchema"], "Projection": ix["Projection"], "IndexStatus": "ACTIVE",
		"IndexArn": s.arn("dynamodb", "table/"+tableName+"/index/"+str(ix, "IndexName"))}
}

// dynamodb serves the table operations deploy uses. Tables are ACTIVE at
// once, indexes too.
func (s *Server) dynamodb(op string, in obj) (any, *Error) {
	st := s.eng
	name := str(in, "TableName")
	switch op {
	case "CreateTable":
		if _, ok := st.tables[name]; ok {
			return nil, notFound("ResourceInUseException", "Table already exists: %s", name)
		}
		desc := obj{"TableName": name, "TableArn": s.arn("dynamodb", "table/"+name), "TableStatus": "ACTIVE",
			"KeySchema": in["KeySchema"], "AttributeDefinitions": in["AttributeDefinitions"], "CreationDateTime": 1700000000,
			"ItemCount": 0, "TableSizeBytes": 0}
		if bm := str(in, "BillingMode"); bm != "" {
			desc["BillingModeSummary"] = obj{"BillingMode": bm}
		}
		if list, ok := in["GlobalSecondaryIndexes"].([]any); ok {
			var out []any
			for _, ix := range list {
				out = append(out, s.gsiDescription(name, ix.(map[string]any)))
			}
			desc["GlobalSecondaryIndexes"] = out
		}
		st.tables[name] = &table{desc: desc, tags: tagList(in["Tags"])}
		return obj{"TableDescription": desc}, nil
	case "DescribeTable":
		t, ok := st.tables[name]
		if !ok {
			return nil, notFound("ResourceNotFoundException", "Requested resource not found: Table: %s not found", name)
		}
		return obj{"Table": t.desc}, nil
	case "UpdateTable":
		t, ok := st.tables[name]
		if !ok {
			return nil, notFound("ResourceNotFoundException", "Requested resource not found: Table: %s not found", name)
		}
		if bm := str(in, "BillingMode"); bm != "" {
			t.desc["BillingModeSummary"] = obj{"BillingMode": bm}
		}
		if defs, ok := in["AttributeDefinitions"].([]any); ok {
			have := map[string]bool{}
			cur, _ := t.desc["AttributeDefinitions"].([]any)
			for _, d := range cur {
				have[str(d.(map[string]any), "AttributeName")] = true
			}
			for _, d := range defs {
				if !have[str(d.(map[string]any), "AttributeName")] {
					cur = append(cur, d)
				}
			}
			t.desc["AttributeDefinitions"] = cur
		}
		if ups, ok := in["GlobalSecondaryIndexUpdates"].([]any); ok {
			if len(ups) > 1 {
				return nil, notFound("ValidationException", "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")
			}
			for _, u := range ups {
				if c, ok := u.(map[string]any)["Create"].(map[string]any); ok {
					list, _ := t.desc["GlobalSecondaryIndexes"].([]any)
					t.desc["GlobalSecondaryIndexes"] = append(list, s.gsiDescription(name, c))
				}
			}
		}
		return obj{"TableDescription": t.desc}, nil
	case "ListTagsOfResource", "TagResource":
		t, e := s.tableByARN(str(in, "ResourceArn"))
		if e != nil {
			return nil, e
		}
		if op == "TagResource" {
			for k, v := range tagList(in["Tags"]) {
				t.tags[k] = v
			}
			return nil, nil
		}
		tags := []any{}
		for _, k := range sortedKeys(t.tags) {
			tags = append(tags, obj{"Key": k, "Value": t.tags[k]})
		}
		return obj{"Tags": tags}, nil
	}
	return nil, notFound("UnknownOperationException", "the fake does not implement dynamodb:%s", op)
}

// Tables returns the names of the tables that exist, sorted.
func (s *Server) Tables() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedKeys(s.eng.tables)
}
