package awsmodel

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// The good documents are written by hand from the AWS API references, not
// produced by the compiler, so they check the checker rather than echo it.
const (
	ecsDoc    = "testdata/ecs-register-task-definition.json"
	lambdaDoc = "testdata/lambda-create-function.json"
	dpDef     = "testdata/datapipeline-definition.json"
)

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dpInput is the good Data Pipeline definition as PutPipelineDefinition input.
func dpInput(t testing.TB) []byte {
	t.Helper()
	in, err := DefinitionToAPI("df-0123456789ABCDEFGHIJ", readFile(t, dpDef))
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestGoodDocumentsPass(t *testing.T) {
	for _, tc := range []struct {
		service, op string
		doc         func(testing.TB) []byte
	}{
		{"ecs", "RegisterTaskDefinition", func(t testing.TB) []byte { return readFile(t, ecsDoc) }},
		{"lambda", "CreateFunction", func(t testing.TB) []byte { return readFile(t, lambdaDoc) }},
		{"datapipeline", "PutPipelineDefinition", dpInput},
	} {
		t.Run(tc.op, func(t *testing.T) {
			m := TestModel(t, tc.service)
			if vs := m.ValidateInput(tc.op, tc.doc(t)); len(vs) != 0 {
				t.Errorf("good %s document has %d violations:\n%s", tc.op, len(vs), lines(vs))
			}
		})
	}
}

func lines(vs []Violation) string {
	var b strings.Builder
	for _, v := range vs {
		b.WriteString("\t" + v.String() + "\n")
	}
	return b.String()
}

// mutate decodes a JSON document, lets f change it, and encodes it again.
func mutate(t *testing.T, doc []byte, f func(d map[string]any)) []byte {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	f(d)
	out, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func container(d map[string]any) map[string]any {
	return d["containerDefinitions"].([]any)[0].(map[string]any)
}

// TestMutationsAreCaught changes one thing in a good document and expects
// exactly the violations that change causes: the path, kind and full message.
func TestMutationsAreCaught(t *testing.T) {
	for _, tc := range []struct {
		name, service, op, doc string
		f                      func(d map[string]any)
		want                   []Violation
	}{{
		name: "misspelt member", service: "ecs", op: "RegisterTaskDefinition", doc: ecsDoc,
		f: func(d map[string]any) {
			d["containerDefinition"] = d["containerDefinitions"]
			delete(d, "containerDefinitions")
		},
		want: []Violation{
			{"containerDefinition", `unknown member "containerDefinition" of RegisterTaskDefinitionRequest; did you mean "containerDefinitions"?`, KindUnknownMember},
			{"containerDefinitions", `missing required member "containerDefinitions" of RegisterTaskDefinitionRequest`, KindRequired},
		},
	}, {
		name: "member name in the wrong case", service: "ecs", op: "RegisterTaskDefinition", doc: ecsDoc,
		f: func(d map[string]any) { d["Tags"] = []any{} },
		want: []Violation{
			{"Tags", `unknown member "Tags" of RegisterTaskDefinitionRequest; did you mean "tags"? (member names are case-sensitive)`, KindUnknownMember},
		},
	}, {
		name: "enum typo", service: "ecs", op: "RegisterTaskDefinition", doc: ecsDoc,
		f: func(d map[string]any) { d["requiresCompatibilities"] = []any{"FARGAT"} },
		want: []Violation{
			{"requiresCompatibilities[0]", `"FARGAT" is not a value of Compatibility; did you mean "FARGATE"? (values: EC2, EXTERNAL, FARGATE)`, KindEnum},
		},
	}, {
		name: "enum values are the wire values, not member names", service: "ecs", op: "RegisterTaskDefinition", doc: ecsDoc,
		f: func(d map[string]any) { d["networkMode"] = "AWSVPC" },
		want: []Violation{
			{"networkMode", `"AWSVPC" is not a value of NetworkMode; did you mean "awsvpc"? (values: awsvpc, bridge, host, none)`, KindEnum},
		},
	}, {
		name: "string where an integer goes", service: "ecs", op: "RegisterTaskDefinition", doc: ecsDoc,
		f:    func(d map[string]any) { container(d)["memory"] = "1024" },
		want: []Violation{{"containerDefinitions[0].memory", `expected integer, got string "1024"`, KindType}},
	}, {
		name: "integer where a string goes", service: "ecs", op: "RegisterTaskDefinition", doc: ecsDoc,
		f:    func(d map[string]any) { d["cpu"] = 512 },
		want: []Violation{{"cpu", `expected string, got number 512`, KindType}},
	}, {
		name: "nested required member", service: "ecs", op: "RegisterTaskDefinition", doc: ecsDoc,
		f: func(d map[string]any) {
			delete(container(d)["logConfiguration"].(map[string]any), "logDriver")
		},
		want: []Violation{{"containerDefinitions[0].logConfiguration.logDriver", `missing required member "logDriver" of LogConfiguration`, KindRequired}},
	}, {
		name: "map value type", service: "ecs", op: "RegisterTaskDefinition", doc: ecsDoc,
		f: func(d map[string]any) {
			container(d)["logConfiguration"].(map[string]any)["options"].(map[string]any)["awslogs-create-group"] = true
		},
		want: []Violation{{`containerDefinitions[0].logConfiguration.options["awslogs-create-group"]`, `expected string, got boolean true`, KindType}},
	}, {
		name: "null member", service: "ecs", op: "RegisterTaskDefinition", doc: ecsDoc,
		f:    func(d map[string]any) { d["taskRoleArn"] = nil },
		want: []Violation{{"taskRoleArn", `null is not allowed here; omit the member instead`, KindType}},
	}, {
		name: "memory out of range", service: "lambda", op: "CreateFunction", doc: lambdaDoc,
		f:    func(d map[string]any) { d["MemorySize"] = 20000 },
		want: []Violation{{"MemorySize", `20000 is above the maximum 10240`, KindRange}},
	}, {
		name: "timeout below range", service: "lambda", op: "CreateFunction", doc: lambdaDoc,
		f:    func(d map[string]any) { d["Timeout"] = 0 },
		want: []Violation{{"Timeout", `0 is below the minimum 1`, KindRange}},
	}, {
		name: "fraction where an integer goes", service: "lambda", op: "CreateFunction", doc: lambdaDoc,
		f:    func(d map[string]any) { d["MemorySize"] = 512.5 },
		want: []Violation{{"MemorySize", `expected integer, got number 512.5`, KindType}},
	}, {
		name: "missing required Role", service: "lambda", op: "CreateFunction", doc: lambdaDoc,
		f:    func(d map[string]any) { delete(d, "Role") },
		want: []Violation{{"Role", `missing required member "Role" of CreateFunctionRequest`, KindRequired}},
	}, {
		name: "FunctionName too long", service: "lambda", op: "CreateFunction", doc: lambdaDoc,
		f:    func(d map[string]any) { d["FunctionName"] = strings.Repeat("f", 200) },
		want: []Violation{{"FunctionName", `has 200 characters; the maximum is 140`, KindLength}},
	}, {
		name: "FunctionName with a space", service: "lambda", op: "CreateFunction", doc: lambdaDoc,
		f: func(d map[string]any) { d["FunctionName"] = "hs3 cmr-metadata" },
		want: []Violation{{"FunctionName", `"hs3 cmr-metadata" does not match the pattern ` +
			`^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$`, KindPattern}},
	}, {
		name: "list too long", service: "lambda", op: "CreateFunction", doc: lambdaDoc,
		f:    func(d map[string]any) { d["Architectures"] = []any{"arm64", "x86_64"} },
		want: []Violation{{"Architectures", `has 2 elements; the maximum is 1`, KindLength}},
	}, {
		name: "runtime enum", service: "lambda", op: "CreateFunction", doc: lambdaDoc,
		f: func(d map[string]any) { d["Runtime"] = "provided.al2024" },
		want: []Violation{{"Runtime", `"provided.al2024" is not a value of Runtime; did you mean "provided.al2023"? ` +
			`(values: dotnet6, dotnet8, dotnetcore1.0, dotnetcore2.0, dotnetcore2.1, dotnetcore3.1, go1.x, java11, java17, java21, java8, java8.al2, … (41 in all))`, KindEnum}},
	}, {
		name: "blob that is not base64", service: "lambda", op: "CreateFunction", doc: lambdaDoc,
		f: func(d map[string]any) {
			d["Code"] = map[string]any{"ZipFile": "not base64!"}
		},
		want: []Violation{{"Code.ZipFile", `expected a base64 string (blob): illegal base64 data at input byte 3`, KindType}},
	}, {
		name: "pattern with a lookbehind is still checked without it", service: "lambda", op: "CreateFunction", doc: lambdaDoc,
		f:    func(d map[string]any) { d["Code"].(map[string]any)["S3Bucket"] = "hs3 artifacts" },
		want: []Violation{{"Code.S3Bucket", `"hs3 artifacts" does not match the pattern ^[0-9A-Za-z\.\-_]*(?<!\.)$ (even without its lookaround assertions)`, KindPattern}},
	}, {
		name: "map key constraints", service: "lambda", op: "CreateFunction", doc: lambdaDoc,
		f: func(d map[string]any) {
			d["Environment"].(map[string]any)["Variables"].(map[string]any)["1BAD-NAME"] = "x"
		},
		want: []Violation{{`Environment.Variables["1BAD-NAME"]`, `map key "1BAD-NAME" does not match the pattern ^[a-zA-Z]([a-zA-Z0-9_])+$`, KindPattern}},
	}, {
		name: "long field key", service: "datapipeline", op: "PutPipelineDefinition",
		f: func(d map[string]any) {
			obj := d["pipelineObjects"].([]any)[2].(map[string]any)
			obj["fields"] = append(obj["fields"].([]any), map[string]any{"key": strings.Repeat("k", 300), "stringValue": "v"})
		},
		want: []Violation{{"pipelineObjects[2].fields[7].key", `has 300 characters; the maximum is 256`, KindLength}},
	}, {
		name: "field with a control character", service: "datapipeline", op: "PutPipelineDefinition",
		f: func(d map[string]any) {
			obj := d["pipelineObjects"].([]any)[0].(map[string]any)
			obj["fields"].([]any)[0].(map[string]any)["stringValue"] = "bell\a"
		},
		want: []Violation{{"pipelineObjects[0].fields[0].stringValue", `"bell\a" does not match the pattern ^[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\r\n\t]*$`, KindPattern}},
	}, {
		name: "parameter value without an id", service: "datapipeline", op: "PutPipelineDefinition",
		f: func(d map[string]any) {
			delete(d["parameterValues"].([]any)[0].(map[string]any), "id")
		},
		want: []Violation{{"parameterValues[0].id", `missing required member "id" of ParameterValue`, KindRequired}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			m := TestModel(t, tc.service)
			var base []byte
			if tc.doc == "" {
				base = dpInput(t)
			} else {
				base = readFile(t, tc.doc)
			}
			got := m.ValidateInput(tc.op, mutate(t, base, tc.f))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got:\n%swant:\n%s", lines(got), lines(tc.want))
			}
		})
	}
}

func TestDocumentLevelViolations(t *testing.T) {
	m := TestModel(t, "ecs")
	for _, tc := range []struct {
		name, doc string
		want      []Violation
	}{
		{"not JSON", `{"family": `, []Violation{{"", "invalid JSON: unexpected EOF", KindSyntax}}},
		{"not an object", `[]`, []Violation{
			{"", "expected object (structure RegisterTaskDefinitionRequest), got array an array of 0", KindType},
		}},
		{"duplicate member", `{"family": "a", "family": "b", "containerDefinitions": []}`, []Violation{
			{"family", `member "family" appears more than once`, KindDuplicate},
		}},
		{"every violation, sorted by path", `{"containerDefinitions": [{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {"cpu": "x"}], "cpu": 1}`, []Violation{
			{"containerDefinitions[10].cpu", `expected integer, got string "x"`, KindType},
			{"cpu", "expected string, got number 1", KindType},
			{"family", `missing required member "family" of RegisterTaskDefinitionRequest`, KindRequired},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := m.ValidateInput("RegisterTaskDefinition", []byte(tc.doc))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got:\n%swant:\n%s", lines(got), lines(tc.want))
			}
		})
	}
	if got := m.ValidateInput("NoSuchOperation", []byte(`{}`)); len(got) != 1 || got[0].Kind != KindSyntax {
		t.Errorf("unknown operation: got %v", got)
	}
	// The full shape ID names the operation too.
	if got := m.ValidateInput("com.amazonaws.ecs#RegisterTaskDefinition", readFile(t, ecsDoc)); len(got) != 0 {
		t.Errorf("by shape ID: %v", got)
	}
}

func TestErrorsDropsEnumViolations(t *testing.T) {
	m := TestModel(t, "lambda")
	// python3.14 is newer than the model snapshot: a warning, not an error.
	doc := mutate(t, readFile(t, lambdaDoc), func(d map[string]any) { d["Runtime"] = "python3.14"; d["Timeout"] = 0 })
	vs := m.ValidateInput("CreateFunction", doc)
	if len(vs) != 2 {
		t.Fatalf("want an enum and a range violation, got:\n%s", lines(vs))
	}
	errs := Errors(vs)
	if len(errs) != 1 || errs[0].Kind != KindRange {
		t.Errorf("Errors kept:\n%s", lines(errs))
	}
}

// TestShapeTypes covers the shape types and traits the three good documents
// do not reach, on a small model written here.
func TestShapeTypes(t *testing.T) {
	model := `{"smithy": "2.0", "shapes": {
	  "t#Op": {"type": "operation", "input": {"target": "t#In"}},
	  "t#In": {"type": "structure", "members": {
	    "u":   {"target": "t#U"},
	    "ie":  {"target": "t#IE"},
	    "b":   {"target": "smithy.api#Byte"},
	    "l":   {"target": "smithy.api#Long"},
	    "d":   {"target": "smithy.api#Double", "traits": {"smithy.api#range": {"min": 0.5, "max": 1.5}}},
	    "ts":  {"target": "smithy.api#Timestamp"},
	    "doc": {"target": "smithy.api#Document"},
	    "bl":  {"target": "t#Blob"},
	    "le":  {"target": "t#Legacy"},
	    "set": {"target": "t#Set"},
	    "sp":  {"target": "t#Sparse"},
	    "s":   {"target": "t#Short", "traits": {"smithy.api#length": {"min": 2}}},
	    "ok":  {"target": "smithy.api#PrimitiveBoolean"}
	  }},
	  "t#U": {"type": "union", "members": {"a": {"target": "smithy.api#String"}, "b": {"target": "smithy.api#Integer"}}},
	  "t#IE": {"type": "intEnum", "members": {"ONE": {"target": "smithy.api#Unit", "traits": {"smithy.api#enumValue": 1}}}},
	  "t#Blob": {"type": "blob", "traits": {"smithy.api#length": {"max": 2}}},
	  "t#Legacy": {"type": "string", "traits": {"smithy.api#enum": [{"value": "x"}, {"value": "y"}]}},
	  "t#Set": {"type": "list", "member": {"target": "smithy.api#String"}, "traits": {"smithy.api#uniqueItems": {}}},
	  "t#Sparse": {"type": "list", "member": {"target": "smithy.api#String"}, "traits": {"smithy.api#sparse": {}}},
	  "t#Short": {"type": "string", "traits": {"smithy.api#length": {"max": 3}}}
	}}`
	path := filepath.Join(t.TempDir(), "t.json")
	if err := os.WriteFile(path, []byte(model), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	good := `{"u": {"a": "x"}, "ie": 1, "b": -128, "l": 9223372036854775807, "d": 1.5,
	  "ts": "2025-04-02T10:00:00Z", "doc": {"any": [1, null]}, "bl": "AAA=", "le": "y",
	  "set": ["a", "b"], "sp": ["a", null], "s": "héé", "ok": false}`
	if vs := m.ValidateInput("Op", []byte(good)); len(vs) != 0 {
		t.Errorf("good: %s", lines(vs))
	}
	bad := `{"u": {"a": "x", "b": 1}, "ie": 2, "b": 128, "l": 9223372036854775808, "d": 1.51,
	  "ts": "yesterday", "bl": "AAAA", "le": "z", "set": ["a", "a"], "sp": [null, 1], "s": "x", "ok": "false"}`
	want := []Violation{
		{"b", "128 does not fit a 8-bit integer", KindType},
		{"bl", "has 3 bytes; the maximum is 2", KindLength},
		{"d", "1.51 is above the maximum 1.5", KindRange},
		{"ie", `"2" is not a value of IE (values: 1)`, KindEnum},
		{"l", "9223372036854775808 does not fit a 64-bit integer", KindType},
		{"le", `"z" is not a value of Legacy (values: x, y)`, KindEnum},
		{"ok", `expected boolean, got string "false"`, KindType},
		{"s", "has 1 character; the minimum is 2", KindLength},
		{"set[1]", "repeats element 0; list Set must have unique items", KindDuplicate},
		{"sp[1]", "expected string, got number 1", KindType},
		{"ts", `expected a timestamp (epoch seconds, or an RFC 3339 date-time string), got string "yesterday"`, KindType},
		{"u", "union U must have exactly one member set, has 2 [a b]", KindUnion},
	}
	if got := m.ValidateInput("Op", []byte(bad)); !reflect.DeepEqual(got, want) {
		t.Errorf("got:\n%swant:\n%s", lines(got), lines(want))
	}
}

// TestAllModelsLoad loads every model beside the repository and resolves
// every member target of every shape an operation's input can reach, so a
// later test against, say, IAM or Step Functions does not meet an unknown
// shape type or prelude shape for the first time.
func TestAllModelsLoad(t *testing.T) {
	dir, err := ModelsDir()
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		t.Fatalf("no models in %s", dir)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			m := TestModel(t, name)
			ops := m.Operations()
			if len(ops) == 0 {
				t.Fatal("no operations")
			}
			seen := map[string]bool{}
			var walk func(id string)
			walk = func(id string) {
				if seen[id] {
					return
				}
				seen[id] = true
				s := m.shapes[id]
				if s == nil {
					t.Errorf("unresolved shape %s", id)
					return
				}
				switch s.typ {
				case "structure", "union", "list", "set", "map", "string", "enum", "intEnum", "byte", "short",
					"integer", "long", "bigInteger", "float", "double", "bigDecimal", "boolean", "timestamp",
					"blob", "document":
				default:
					t.Errorf("input shape %s has unsupported type %s", id, s.typ)
				}
				for _, mem := range s.allMembers() {
					if s.typ != "enum" && s.typ != "intEnum" {
						walk(mem.target)
					}
				}
			}
			for _, op := range ops {
				if in := m.shapes[m.ops[op]].input; in != "" {
					walk(in)
				}
			}
			t.Logf("%d operations, %d input shapes reachable", len(ops), len(seen))
		})
	}
}

// TestUncheckedPatterns logs, for every model, the patterns that are not
// fully enforced, so the gap is visible in `go test -v` rather than silent.
// It fails if a model the compiler emits documents for has a pattern skipped
// outright; in other models a skipped pattern is only logged.
func TestUncheckedPatterns(t *testing.T) {
	dir, err := ModelsDir()
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	sort.Strings(files)
	emitted := map[string]bool{"ecs": true, "lambda": true, "datapipeline": true, "sfn": true, "iam": true}
	total := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		m := TestModel(t, name)
		for _, p := range m.UncheckedPatterns() {
			total++
			t.Logf("%s: %s", name, p)
			if !p.Relaxed && emitted[name] {
				t.Errorf("%s: pattern skipped outright: %s", name, p)
			}
		}
	}
	t.Logf("%d patterns not fully checked", total)
}

func BenchmarkValidateInput(b *testing.B) {
	m := TestModel(b, "ecs")
	doc := readFile(b, ecsDoc)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if vs := m.ValidateInput("RegisterTaskDefinition", doc); len(vs) != 0 {
			b.Fatal(vs)
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	dir, err := ModelsDir()
	if err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		if _, err := Load(filepath.Join(dir, "ecs.json")); err != nil {
			b.Fatal(err)
		}
	}
}
