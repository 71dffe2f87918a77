package awsmodel

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"
)

func TestSDKAcceptsGoodDocuments(t *testing.T) {
	for _, tc := range []struct {
		op  string
		doc func(testing.TB) []byte
		// members the serialized body must carry, as the wire spells them
		want []string
	}{
		{"RegisterTaskDefinition", func(t testing.TB) []byte { return readFile(t, ecsDoc) },
			[]string{"family", "containerDefinitions", "requiresCompatibilities", "networkMode", "cpu", "memory", "executionRoleArn", "taskRoleArn"}},
		{"CreateFunction", func(t testing.TB) []byte { return readFile(t, lambdaDoc) },
			[]string{"FunctionName", "Role", "Runtime", "Handler", "Code", "MemorySize", "Timeout", "Environment", "Architectures", "Tags", "Description"}},
		{"PutPipelineDefinition", dpInput, []string{"pipelineId", "pipelineObjects", "parameterObjects", "parameterValues"}},
		{"CreateRole", func(testing.TB) []byte {
			return []byte(`{"RoleName": "hs3-sync-granule-task", "AssumeRolePolicyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[]}"}`)
		}, nil},
		{"PutRolePolicy", func(testing.TB) []byte {
			return []byte(`{"RoleName": "hs3-sync-granule-task", "PolicyName": "s3", "PolicyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[]}"}`)
		}, nil},
		{"CreateStateMachine", func(testing.TB) []byte {
			return []byte(`{"name": "hs3-ingest", "roleArn": "arn:aws:iam::123456789012:role/hs3-sfn", "definition": "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Succeed\"}}}"}`)
		}, []string{"name", "roleArn", "definition"}},
	} {
		t.Run(tc.op, func(t *testing.T) {
			body, err := SDKRequestBody(tc.op, tc.doc(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(body) == 0 {
				t.Fatal("empty request body")
			}
			if tc.want == nil {
				return // awsQuery: a form, not JSON
			}
			var sent map[string]any
			if err := json.Unmarshal(body, &sent); err != nil {
				t.Fatalf("body is not JSON: %v\n%s", err, body)
			}
			for _, k := range tc.want {
				if _, ok := sent[k]; !ok {
					t.Errorf("body lacks %q: %s", k, body)
				}
			}
		})
	}
}

// TestSDKSerializesTheDocument checks that what the SDK sends is the
// document itself: for the JSON protocols, the body equals the input.
func TestSDKSerializesTheDocument(t *testing.T) {
	for _, tc := range []struct {
		op  string
		doc []byte
	}{
		{"RegisterTaskDefinition", readFile(t, ecsDoc)},
		{"CreateFunction", readFile(t, lambdaDoc)},
		{"PutPipelineDefinition", dpInput(t)},
	} {
		body, err := SDKRequestBody(tc.op, tc.doc)
		if err != nil {
			t.Fatal(err)
		}
		var sent, orig any
		if err := json.Unmarshal(body, &sent); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(tc.doc, &orig); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(sent, orig) {
			t.Errorf("%s: the SDK sent\n%s\nfor\n%s", tc.op, body, tc.doc)
		}
	}
}

func TestSDKValidationRejects(t *testing.T) {
	for _, tc := range []struct {
		op, field string
		doc       []byte
	}{
		{"CreateFunction", "Role", mutate(t, readFile(t, lambdaDoc), func(d map[string]any) { delete(d, "Role") })},
		{"RegisterTaskDefinition", "ContainerDefinitions", mutate(t, readFile(t, ecsDoc), func(d map[string]any) { delete(d, "containerDefinitions") })},
		{"RegisterTaskDefinition", "ContainerDefinitions[0].LogConfiguration.LogDriver", mutate(t, readFile(t, ecsDoc), func(d map[string]any) {
			delete(container(d)["logConfiguration"].(map[string]any), "logDriver")
		})},
		{"PutPipelineDefinition", "PipelineObjects[0].Fields[0].Key", mutate(t, dpInput(t), func(d map[string]any) {
			obj := d["pipelineObjects"].([]any)[0].(map[string]any)
			delete(obj["fields"].([]any)[0].(map[string]any), "key")
		})},
	} {
		t.Run(tc.op+"/"+tc.field, func(t *testing.T) {
			_, err := SDKRequestBody(tc.op, tc.doc)
			var inv smithy.InvalidParamsError
			if !errors.As(err, &inv) {
				t.Fatalf("want the SDK's InvalidParamsError, got %v", err)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error does not name %s: %v", tc.field, err)
			}
		})
	}
}

// The SDK ignores what its types lack; SDKRequest must not.
func TestSDKReportsDroppedMembers(t *testing.T) {
	doc := mutate(t, readFile(t, ecsDoc), func(d map[string]any) {
		d["containerDefinition"] = []any{}
		container(d)["memorySize"] = 512
	})
	_, err := SDKRequestBody("RegisterTaskDefinition", doc)
	var dropped *DroppedError
	if !errors.As(err, &dropped) {
		t.Fatalf("want a DroppedError, got %v", err)
	}
	want := []string{"containerDefinition", "containerDefinitions[0].memorySize"}
	if !reflect.DeepEqual(dropped.Paths, want) {
		t.Errorf("dropped %v, want %v", dropped.Paths, want)
	}

	// A type the SDK cannot hold is a decode error, not a silent zero.
	doc = mutate(t, readFile(t, ecsDoc), func(d map[string]any) { container(d)["memory"] = "1024" })
	if _, err := SDKRequestBody("RegisterTaskDefinition", doc); err == nil || !strings.Contains(err.Error(), "decoding into") {
		t.Errorf("want a decode error, got %v", err)
	}
}

// SDKRequest is generic, so a test can reach any operation of any client.
func TestSDKRequestGeneric(t *testing.T) {
	deregister := func(ctx context.Context, cfg aws.Config, in *ecs.DeregisterTaskDefinitionInput) (*ecs.DeregisterTaskDefinitionOutput, error) {
		return ecs.NewFromConfig(cfg).DeregisterTaskDefinition(ctx, in)
	}
	body, err := SDKRequest([]byte(`{"taskDefinition": "hs3-sync-granule:1"}`), deregister)
	if err != nil || string(body) != `{"taskDefinition":"hs3-sync-granule:1"}` {
		t.Errorf("got %s, %v", body, err)
	}
	_, err = SDKRequest([]byte(`{}`), deregister)
	var inv smithy.InvalidParamsError
	if !errors.As(err, &inv) {
		t.Errorf("want InvalidParamsError, got %v", err)
	}
	if _, err := SDKRequestBody("NoSuchOperation", nil); err == nil {
		t.Error("unknown operation: no error")
	}
}
