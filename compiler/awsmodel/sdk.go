package awsmodel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// DroppedError says that decoding a document into the SDK's input type lost
// members: encoding/json ignores a key the Go type has no field for, so a
// misspelt or unknown member would otherwise vanish without a word.
type DroppedError struct {
	// Paths of the dropped members, in the document's spelling, sorted.
	Paths []string
}

func (e *DroppedError) Error() string {
	return "the SDK input type has no field for: " + strings.Join(e.Paths, ", ")
}

// SDKRequest decodes doc into the SDK input type In, checks that nothing was
// dropped on the way (see [DroppedError]), and runs call, which should invoke
// the operation on a client made from the cfg it is given. The cfg's HTTP
// client records the request and answers 200 with an empty result, so the
// SDK's own validation middleware and serializer run, and nothing reaches the
// network. It returns the body the SDK would have sent.
//
// The SDK types have no json tags; encoding/json matches field names without
// regard to case, so "family" fills Family. That makes this oracle blind to
// the case of member names: [Model.ValidateInput] is the one that checks it.
//
// An SDK validation failure comes back as the SDK's own error, which wraps a
// smithy.InvalidParamsError (a value type: errors.As with a
// smithy.InvalidParamsError variable).
func SDKRequest[In, Out any](doc []byte, call func(context.Context, aws.Config, *In) (Out, error)) ([]byte, error) {
	in := new(In)
	if err := json.Unmarshal(doc, in); err != nil {
		return nil, fmt.Errorf("decoding into %T: %w", in, err)
	}
	back, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("re-encoding %T: %w", in, err)
	}
	var orig, got any
	if err := json.Unmarshal(doc, &orig); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(back, &got); err != nil {
		return nil, err
	}
	var dropped []string
	findDropped("", orig, got, &dropped)
	if len(dropped) > 0 {
		sort.Strings(dropped)
		return nil, &DroppedError{Paths: dropped}
	}

	rec := &recordingClient{}
	cfg := aws.Config{
		Region: "us-west-2",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", Source: "awsmodel"}, nil
		}),
		HTTPClient: rec,
		// One attempt: a canned 200 never needs a retry, and a failure
		// should surface as it is.
		Retryer: func() aws.Retryer { return aws.NopRetryer{} },
	}
	if _, err := call(context.Background(), cfg, in); err != nil {
		return nil, err
	}
	if !rec.called {
		return nil, fmt.Errorf("the operation sent no request")
	}
	return rec.body, nil
}

// findDropped walks the original document beside its round trip through
// the SDK type, and records members present in the first but absent (or
// null) in the second. Keys compare without case, as encoding/json matched
// them.
func findDropped(path string, orig, got any, out *[]string) {
	switch o := orig.(type) {
	case map[string]any:
		g, _ := got.(map[string]any)
		for k, ov := range o {
			p := joinPath(path, k)
			var gv any
			found := false
			for gk, v := range g {
				if strings.EqualFold(gk, k) && v != nil {
					gv, found = v, true
					break
				}
			}
			if !found {
				if ov != nil {
					*out = append(*out, p)
				}
				continue
			}
			findDropped(p, ov, gv, out)
		}
	case []any:
		g, _ := got.([]any)
		for i, ov := range o {
			p := path + "[" + strconv.Itoa(i) + "]"
			if i >= len(g) {
				*out = append(*out, p)
				continue
			}
			findDropped(p, ov, g[i], out)
		}
	}
}

// recordingClient is an aws.HTTPClient that keeps the request and answers
// with an empty success for the request's protocol.
type recordingClient struct {
	mu     sync.Mutex
	called bool
	body   []byte
}

func (c *recordingClient) Do(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	c.called, c.body = true, body
	c.mu.Unlock()

	resp := `{}`
	ctype := "application/json"
	if strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		// awsQuery (IAM): the result is wrapped in <ActionResponse>.
		form, _ := url.ParseQuery(string(body))
		action := form.Get("Action")
		resp = "<" + action + "Response><" + action + "Result></" + action + "Result></" + action + "Response>"
		ctype = "text/xml"
	}
	return &http.Response{
		Status:        "200 OK",
		StatusCode:    200,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {ctype}, "X-Amzn-Requestid": {"00000000-0000-0000-0000-000000000000"}},
		Body:          io.NopCloser(bytes.NewReader([]byte(resp))),
		ContentLength: int64(len(resp)),
		Request:       req,
	}, nil
}

// SDKRequestBody runs op ("RegisterTaskDefinition", "CreateFunction",
// "PutPipelineDefinition", "CreateStateMachine", "CreateRole",
// "PutRolePolicy") through [SDKRequest] with its SDK client. For
// PutPipelineDefinition doc is the API input, so a definition file goes
// through [DefinitionToAPI] first. Other operations can call SDKRequest
// directly.
func SDKRequestBody(op string, doc []byte) ([]byte, error) {
	switch op {
	case "RegisterTaskDefinition":
		return SDKRequest(doc, func(ctx context.Context, cfg aws.Config, in *ecs.RegisterTaskDefinitionInput) (*ecs.RegisterTaskDefinitionOutput, error) {
			return ecs.NewFromConfig(cfg).RegisterTaskDefinition(ctx, in)
		})
	case "CreateFunction":
		return SDKRequest(doc, func(ctx context.Context, cfg aws.Config, in *lambda.CreateFunctionInput) (*lambda.CreateFunctionOutput, error) {
			return lambda.NewFromConfig(cfg).CreateFunction(ctx, in)
		})
	case "PutPipelineDefinition":
		return SDKRequest(doc, func(ctx context.Context, cfg aws.Config, in *datapipeline.PutPipelineDefinitionInput) (*datapipeline.PutPipelineDefinitionOutput, error) {
			return datapipeline.NewFromConfig(cfg).PutPipelineDefinition(ctx, in)
		})
	case "CreateStateMachine":
		return SDKRequest(doc, func(ctx context.Context, cfg aws.Config, in *sfn.CreateStateMachineInput) (*sfn.CreateStateMachineOutput, error) {
			return sfn.NewFromConfig(cfg).CreateStateMachine(ctx, in)
		})
	case "CreateRole":
		return SDKRequest(doc, func(ctx context.Context, cfg aws.Config, in *iam.CreateRoleInput) (*iam.CreateRoleOutput, error) {
			return iam.NewFromConfig(cfg).CreateRole(ctx, in)
		})
	case "PutRolePolicy":
		return SDKRequest(doc, func(ctx context.Context, cfg aws.Config, in *iam.PutRolePolicyInput) (*iam.PutRolePolicyOutput, error) {
			return iam.NewFromConfig(cfg).PutRolePolicy(ctx, in)
		})
	}
	return nil, fmt.Errorf("SDKRequestBody: operation %q is not wired up; call SDKRequest with its client", op)
}
