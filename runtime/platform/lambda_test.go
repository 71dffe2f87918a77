package platform

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cumulus-toolchain/cumulus/runtime/platform/layout"
)

// TestFunctionsFromEnvironment starts each platform function the way the
// Lambda bootstrap does, from its environment alone, and checks what it
// serves: the dashboard behind the distribution's logins (users and
// signing key from the secrets deploy keeps), and a missing setting
// refused with the variable's name.
func TestFunctionsFromEnvironment(t *testing.T) {
	src := strings.Replace(testConfig, `subnets    = ["subnet-0a1b2c3d4e5f60718"]`, `subnets        = ["subnet-0a1b2c3d4e5f60718"]
  dashboard_auth = distribution.main`, 1) + `
distribution "main" {
  bucket "protected" {
    access = "authenticated"
  }
  auth {
    users = ["alice"]
  }
}
`
	w := newWorld(t, src)
	sec, _ := json.Marshal(layout.Secrets{Key: base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32))), Users: "alice:wonderland"})
	w.put(staging, layout.SecretsKey, sec)
	cfg := aws.Config{Region: region, BaseEndpoint: aws.String("http://127.0.0.1:1"), Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")}
	clients := Clients{S3: w.s3, DynamoDB: dynamodb.NewFromConfig(cfg), Logs: cloudwatchlogs.NewFromConfig(cfg)}
	env := func(kv ...string) func(string) string {
		m := map[string]string{EnvGraph: w.graph.GraphURL()}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	type httpFn = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	get := func(fn httpFn, method, path string, headers map[string]string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: path, Headers: headers}
		ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path = method, path
		resp, err := fn(w.ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	h, err := Handler(w.ctx, clients, env(EnvFunction, "api", "CUMULUS_TABLE_PREFIX", "tp", "CUMULUS_DASHBOARD_AUTH", "main"), nil)
	if err != nil {
		t.Fatal(err)
	}
	api := h.(httpFn)
	if resp := get(api, "GET", "/api/runs", nil); resp.StatusCode != 401 {
		t.Errorf("the API without credentials: %d %s", resp.StatusCode, resp.Body)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:wonderland"))
	resp := get(api, "POST", "/token", map[string]string{"authorization": basic})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d %s", resp.StatusCode, resp.Body)
	}
	resp = get(api, "GET", "/", map[string]string{"authorization": "Bearer " + tok.AccessToken})
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, "<html") {
		t.Errorf("the dashboard with the token: %d %.200s", resp.StatusCode, resp.Body)
	}

	// The distribution signs with the same key: its token opens the
	// dashboard too.
	h, err = Handler(w.ctx, clients, env(EnvFunction, "distribution", EnvDistribution, "main"), nil)
	if err != nil {
		t.Fatal(err)
	}
	dist := h.(httpFn)
	if resp := get(dist, "GET", "/protected/c/2013/G/G.nc", nil); resp.StatusCode != 401 {
		t.Errorf("protected file without credentials: %d", resp.StatusCode)
	}
	resp = get(dist, "POST", "/token", map[string]string{"authorization": basic})
	if err := json.Unmarshal([]byte(resp.Body), &tok); err != nil || resp.StatusCode != 200 {
		t.Fatalf("distribution token: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := get(api, "GET", "/", map[string]string{"authorization": "Bearer " + tok.AccessToken}); resp.StatusCode != 200 {
		t.Errorf("the dashboard with the distribution's token: %d", resp.StatusCode)
	}

	for _, c := range []struct {
		env  func(string) string
		want string
	}{
		{env(), "neither CUMULUS_FUNCTION nor CUMULUS_STEP"},
		{env(EnvFunction, "nope"), `CUMULUS_FUNCTION="nope"`},
		{env(EnvFunction, "recorder"), "CUMULUS_TABLE_PREFIX is not set"},
		{env(EnvFunction, "api"), "CUMULUS_TABLE_PREFIX is not set"},
		{env(EnvFunction, "distribution", EnvDistribution, "other"), `no distribution "other"`},
		{func(k string) string { return map[string]string{EnvFunction: "trigger"}[k] }, "CUMULUS_GRAPH is not set"},
	} {
		if _, err := Handler(w.ctx, clients, c.env, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v, want %q", err, c.want)
		}
	}
}
