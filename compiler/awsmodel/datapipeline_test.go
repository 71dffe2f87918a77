package awsmodel

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

func TestDefinitionToAPI(t *testing.T) {
	def := `{
	  "objects": [
	    {"id": "Default", "scheduleType": "ondemand", "role": "R"},
	    {"name": "Run it", "id": "A", "type": "ShellCommandActivity", "command": "a && b > c",
	     "dependsOn": [{"ref": "B"}, {"ref": "C"}], "onFail": {"ref": "Alarm"}, "maximumRetries": "3"}
	  ],
	  "parameters": [{"id": "myGranuleId", "type": "String", "watermark": ["x", "y"]}],
	  "values": {"myZ": "last", "myGranuleId": ["g1", "g2"]}
	}`
	got, err := DefinitionToAPI("df-0", []byte(def))
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "pipelineId": "df-0",
  "pipelineObjects": [
    {
      "id": "Default",
      "name": "Default",
      "fields": [
        {"key": "role", "stringValue": "R"},
        {"key": "scheduleType", "stringValue": "ondemand"}
      ]
    },
    {
      "id": "A",
      "name": "Run it",
      "fields": [
        {"key": "command", "stringValue": "a && b > c"},
        {"key": "dependsOn", "refValue": "B"},
        {"key": "dependsOn", "refValue": "C"},
        {"key": "maximumRetries", "stringValue": "3"},
        {"key": "onFail", "refValue": "Alarm"},
        {"key": "type", "stringValue": "ShellCommandActivity"}
      ]
    }
  ],
  "parameterObjects": [
    {
      "id": "myGranuleId",
      "attributes": [
        {"key": "type", "stringValue": "String"},
        {"key": "watermark", "stringValue": "x"},
        {"key": "watermark", "stringValue": "y"}
      ]
    }
  ],
  "parameterValues": [
    {"id": "myZ", "stringValue": "last"},
    {"id": "myGranuleId", "stringValue": "g1"},
    {"id": "myGranuleId", "stringValue": "g2"}
  ]
}`
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(want)); err != nil {
		t.Fatal(err)
	}
	var gotCompact bytes.Buffer
	if err := json.Compact(&gotCompact, got); err != nil {
		t.Fatal(err)
	}
	if gotCompact.String() != compact.String() {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	// Deterministic: the same bytes every time.
	again, _ := DefinitionToAPI("df-0", []byte(def))
	if !bytes.Equal(got, again) {
		t.Error("two translations differ")
	}

	// Sections the definition leaves out are left out of the input.
	got, err = DefinitionToAPI("df-0", []byte(`{"objects": []}`))
	if err != nil {
		t.Fatal(err)
	}
	if s := string(got); strings.Contains(s, "parameter") || !strings.Contains(s, `"pipelineObjects": []`) {
		t.Errorf("minimal definition: %s", s)
	}
}

func TestDefinitionToAPIErrors(t *testing.T) {
	for _, tc := range []struct{ def, want string }{
		{`[]`, "pipeline definition: expected an object, got array"},
		{`{"objects": [], "extra": 1}`, `pipeline definition: unknown top-level key "extra" (want objects, parameters, values)`},
		{`{"parameters": []}`, `pipeline definition: missing "objects" key`},
		{`{"objects": {}}`, `pipeline definition: "objects" must be an array, got object`},
		{`{"objects": [{"name": "x"}]}`, `objects[0]: missing "id" key`},
		{`{"objects": [{"id": 7}]}`, `objects[0]: id must be a string, got 7`},
		{`{"objects": ["Default"]}`, `objects[0]: expected an object, got "Default"`},
		{`{"objects": [{"id": "A", "id": "B"}]}`, `objects[0]: key "id" appears more than once`},
		{`{"objects": [{"id": "A", "name": 1}]}`, `objects[0] (id "A"): name must be a string, got number`},
		{`{"objects": [{"id": "A", "maximumRetries": 3}]}`,
			`objects[0] (id "A"): field "maximumRetries": a value must be a string, {"ref": "<id>"} or a list of those, got 3`},
		{`{"objects": [{"id": "A", "x": null}]}`, `objects[0] (id "A"): field "x": a value must be a string, {"ref": "<id>"} or a list of those, got null`},
		{`{"objects": [{"id": "A", "x": [["a"]]}]}`, `objects[0] (id "A"): field "x": a value must be a string, {"ref": "<id>"} or a list of those, got an array of 1`},
		{`{"objects": [{"id": "A", "x": {"ref": "B", "y": "C"}}]}`, `objects[0] (id "A"): field "x": a value must be a string, {"ref": "<id>"} or a list of those, got an object`},
		{`{"objects": [], "parameters": [{"type": "String"}]}`, `parameters[0]: missing "id" key`},
		{`{"objects": [], "parameters": [{"id": "myP", "default": {"ref": "A"}}]}`,
			`parameters[0] (id "myP"): attribute "default": a value must be a string or a list of strings, got an object`},
		{`{"objects": [], "values": {"myP": 1}}`, `values: "myP": a value must be a string or a list of strings, got 1`},
		{`{"objects": [], "values": []}`, `pipeline definition: "values" must be an object, got array`},
		{`{"objects": [`, `pipeline definition: invalid JSON: unexpected EOF`},
	} {
		_, err := DefinitionToAPI("df-0", []byte(tc.def))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got  %v\n want %s", tc.def, err, tc.want)
		}
	}
}

// TestDefinitionToAPIMatchesAWSCLI runs awscli's own translator (the Python
// module the CLI uses) on the good definition and compares its result with
// DefinitionToAPI's, as JSON values. It skips where no Python can import
// awscli.
func TestDefinitionToAPIMatchesAWSCLI(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("skipping: python3 is not on PATH")
	}
	if err := exec.Command(py, "-c", "import awscli.customizations.datapipeline.translator").Run(); err != nil {
		t.Skip("skipping: python3 cannot import awscli's datapipeline translator")
	}
	// What PipelineDefinitionArgument.add_to_params does, minus the call.
	script := `
import json, sys
from awscli.customizations.datapipeline import translator as t
d = json.load(sys.stdin)
p = {'pipelineId': sys.argv[1], 'pipelineObjects': t.definition_to_api_objects(d)}
o = t.definition_to_api_parameters(d)
if o is not None: p['parameterObjects'] = o
v = t.definition_to_parameter_values(d)
if v is not None: p['parameterValues'] = v
json.dump(p, sys.stdout)
`
	def := readFile(t, dpDef)
	cmd := exec.Command(py, "-c", script, "df-0123456789ABCDEFGHIJ")
	cmd.Stdin = bytes.NewReader(def)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("awscli translator: %v", err)
	}
	var want, got any
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(dpInput(t), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DefinitionToAPI differs from awscli's translator:\n got  %v\n want %v", got, want)
	}
}
