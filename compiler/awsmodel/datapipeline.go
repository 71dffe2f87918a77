package awsmodel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// The PutPipelineDefinition input, with json tags in the API's member
// names. Slices that the CLI sends only when the definition has the section
// are pointers, so "absent" and "empty" stay apart as they do in awscli.
type apiPipelineInput struct {
	PipelineID       string           `json:"pipelineId"`
	PipelineObjects  []apiObject      `json:"pipelineObjects"`
	ParameterObjects *[]apiParameter  `json:"parameterObjects,omitempty"`
	ParameterValues  *[]apiParamValue `json:"parameterValues,omitempty"`
}

type apiObject struct {
	ID     string     `json:"id"`
	Name   string     `json:"name"`
	Fields []apiField `json:"fields"`
}

type apiField struct {
	Key         string  `json:"key"`
	StringValue *string `json:"stringValue,omitempty"`
	RefValue    *string `json:"refValue,omitempty"`
}

type apiParameter struct {
	ID         string         `json:"id"`
	Attributes []apiAttribute `json:"attributes"`
}

type apiAttribute struct {
	Key         string `json:"key"`
	StringValue string `json:"stringValue"`
}

type apiParamValue struct {
	ID          string `json:"id"`
	StringValue string `json:"stringValue"`
}

// DefinitionToAPI translates a Data Pipeline definition file (objects,
// parameters, values: what `aws datapipeline put-pipeline-definition
// --pipeline-definition file://…` reads) into the PutPipelineDefinition API
// input, as awscli's datapipeline translator does:
//
//   - each object's id becomes id, its name (default: the id) name, and
//     every other key a field, in sorted key order; a string is a
//     stringValue, {"ref": "X"} a refValue, and a list one field per element;
//   - each parameter's id becomes id and every other key an attribute;
//   - each entry of values becomes one parameterValue per value, in file
//     order.
//
// awscli itself only rejects a missing "objects" or "id" and leaves the rest
// to botocore's validation of the result; here a value that could never
// validate (a number, null, a nested list, a ref in a parameter or value) is
// an error at once, naming the object, and so is a top-level key other than
// objects, parameters and values, or a key given twice, which Python's json
// would silently collapse.
func DefinitionToAPI(pipelineID string, def []byte) ([]byte, error) {
	root, err := parseJSON(def)
	if err != nil {
		return nil, fmt.Errorf("pipeline definition: %w", err)
	}
	if root.kind != jsonObject {
		return nil, fmt.Errorf("pipeline definition: expected an object, got %s", root.kind)
	}
	if len(root.dups) > 0 {
		return nil, fmt.Errorf("pipeline definition: key %q appears more than once", root.dups[0])
	}
	for _, k := range root.keys {
		if k != "objects" && k != "parameters" && k != "values" {
			return nil, fmt.Errorf("pipeline definition: unknown top-level key %q (want objects, parameters, values)", k)
		}
	}
	in := apiPipelineInput{PipelineID: pipelineID, PipelineObjects: []apiObject{}}
	objs := root.get("objects")
	if objs == nil {
		return nil, fmt.Errorf(`pipeline definition: missing "objects" key`)
	}
	if objs.kind != jsonArray {
		return nil, fmt.Errorf(`pipeline definition: "objects" must be an array, got %s`, objs.kind)
	}
	for i, o := range objs.elems {
		where := fmt.Sprintf("objects[%d]", i)
		id, rest, err := splitID(where, o)
		if err != nil {
			return nil, err
		}
		obj := apiObject{ID: id, Name: id, Fields: []apiField{}}
		for _, k := range rest {
			v := o.get(k)
			if k == "name" {
				if v.kind != jsonString {
					return nil, fmt.Errorf("%s (id %q): name must be a string, got %s", where, id, v.kind)
				}
				obj.Name = v.str
				continue
			}
			err := eachValue(v, func(e *node) error {
				if e.kind == jsonString {
					s := e.str
					obj.Fields = append(obj.Fields, apiField{Key: k, StringValue: &s})
					return nil
				}
				if ref, ok := refOf(e); ok {
					obj.Fields = append(obj.Fields, apiField{Key: k, RefValue: &ref})
					return nil
				}
				return fmt.Errorf(`%s (id %q): field %q: a value must be a string, {"ref": "<id>"} or a list of those, got %s`, where, id, k, e.short())
			})
			if err != nil {
				return nil, err
			}
		}
		in.PipelineObjects = append(in.PipelineObjects, obj)
	}
	if params := root.get("parameters"); params != nil {
		if params.kind != jsonArray {
			return nil, fmt.Errorf(`pipeline definition: "parameters" must be an array, got %s`, params.kind)
		}
		list := []apiParameter{}
		for i, o := range params.elems {
			where := fmt.Sprintf("parameters[%d]", i)
			id, rest, err := splitID(where, o)
			if err != nil {
				return nil, err
			}
			p := apiParameter{ID: id, Attributes: []apiAttribute{}}
			for _, k := range rest {
				err := eachValue(o.get(k), func(e *node) error {
					if e.kind != jsonString {
						return fmt.Errorf("%s (id %q): attribute %q: a value must be a string or a list of strings, got %s", where, id, k, e.short())
					}
					p.Attributes = append(p.Attributes, apiAttribute{Key: k, StringValue: e.str})
					return nil
				})
				if err != nil {
					return nil, err
				}
			}
			list = append(list, p)
		}
		in.ParameterObjects = &list
	}
	if vals := root.get("values"); vals != nil {
		if vals.kind != jsonObject {
			return nil, fmt.Errorf(`pipeline definition: "values" must be an object, got %s`, vals.kind)
		}
		if len(vals.dups) > 0 {
			return nil, fmt.Errorf("pipeline definition: values: key %q appears more than once", vals.dups[0])
		}
		list := []apiParamValue{}
		for i, k := range vals.keys {
			err := eachValue(vals.vals[i], func(e *node) error {
				if e.kind != jsonString {
					return fmt.Errorf("values: %q: a value must be a string or a list of strings, got %s", k, e.short())
				}
				list = append(list, apiParamValue{ID: k, StringValue: e.str})
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
		in.ParameterValues = &list
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Shell commands are full of && and >; keep them readable.
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(in); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// splitID checks that o is an object with a string id and returns the id and
// its other keys, sorted as awscli sorts them (Python sorts str by code
// point, which is Go's byte order for UTF-8).
func splitID(where string, o *node) (string, []string, error) {
	if o.kind != jsonObject {
		return "", nil, fmt.Errorf("%s: expected an object, got %s", where, o.short())
	}
	if len(o.dups) > 0 {
		return "", nil, fmt.Errorf("%s: key %q appears more than once", where, o.dups[0])
	}
	idn := o.get("id")
	if idn == nil {
		return "", nil, fmt.Errorf(`%s: missing "id" key`, where)
	}
	if idn.kind != jsonString {
		return "", nil, fmt.Errorf("%s: id must be a string, got %s", where, idn.short())
	}
	var rest []string
	for _, k := range o.keys {
		if k != "id" {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return idn.str, rest, nil
}

// eachValue calls f for v, or for each element when v is a list.
func eachValue(v *node, f func(*node) error) error {
	if v.kind != jsonArray {
		return f(v)
	}
	for _, e := range v.elems {
		if err := f(e); err != nil {
			return err
		}
	}
	return nil
}

// refOf recognises {"ref": "X"}: an object whose only key is ref.
func refOf(n *node) (string, bool) {
	if n.kind != jsonObject || len(n.keys) != 1 || n.keys[0] != "ref" || len(n.dups) > 0 {
		return "", false
	}
	r := n.vals[0]
	if r.kind != jsonString {
		return "", false
	}
	return r.str, true
}
