package awsmodel

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCLIOracle runs each good document, and one bad variant, through the
// AWS CLI. botocore checks required members, unknown members, types and
// minimums (not enums, maximums or patterns), so the bad variants are of
// those kinds.
func TestCLIOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: the AWS CLI takes about a second a run")
	}
	for _, tc := range []struct {
		name, op string
		doc      func(t *testing.T) []byte
		accepted bool
		says     string // in the CLI's output when rejected
	}{
		{"good", "RegisterTaskDefinition", func(t *testing.T) []byte { return readFile(t, ecsDoc) }, true, ""},
		{"misspelt member", "RegisterTaskDefinition", func(t *testing.T) []byte {
			return mutate(t, readFile(t, ecsDoc), func(d map[string]any) {
				d["containerDefinition"] = d["containerDefinitions"]
				delete(d, "containerDefinitions")
			})
		}, false, `Unknown parameter in input: "containerDefinition"`},
		{"good", "CreateFunction", func(t *testing.T) []byte { return readFile(t, lambdaDoc) }, true, ""},
		{"missing Role", "CreateFunction", func(t *testing.T) []byte {
			return mutate(t, readFile(t, lambdaDoc), func(d map[string]any) { delete(d, "Role") })
		}, false, `Missing required parameter in input: "Role"`},
		{"string MemorySize", "CreateFunction", func(t *testing.T) []byte {
			return mutate(t, readFile(t, lambdaDoc), func(d map[string]any) { d["MemorySize"] = "512" })
		}, false, `Invalid type for parameter MemorySize`},
		{"good", "PutPipelineDefinition", func(t *testing.T) []byte { return readFile(t, dpDef) }, true, ""},
		{"number field", "PutPipelineDefinition", func(t *testing.T) []byte {
			return []byte(`{"objects": [{"id": "Default", "maximumRetries": 3}]}`)
		}, false, `Invalid type for parameter pipelineObjects[0].fields[0].stringValue`},
		{"object without id", "PutPipelineDefinition", func(t *testing.T) []byte {
			return []byte(`{"objects": [{"name": "Default"}]}`)
		}, false, `Missing "id" key of element`},
	} {
		t.Run(tc.op+"/"+tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "doc.json")
			if err := os.WriteFile(file, tc.doc(t), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := CheckWithCLI(ctx, tc.op, file)
			if errors.Is(err, ErrNoCLI) {
				t.Skipf("skipping: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("aws took %v", res.Elapsed.Round(time.Millisecond))
			if res.Accepted != tc.accepted {
				t.Fatalf("accepted = %v, want %v; the CLI said:\n%s", res.Accepted, tc.accepted, res.Output)
			}
			if !strings.Contains(res.Output, tc.says) {
				t.Errorf("the CLI's answer lacks %q:\n%s", tc.says, res.Output)
			}
		})
	}
}

func TestCLIUnknownOperation(t *testing.T) {
	if _, err := CheckWithCLI(context.Background(), "NoSuchOperation", "x.json"); err == nil || errors.Is(err, ErrNoCLI) {
		t.Errorf("got %v", err)
	}
}
