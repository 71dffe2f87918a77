package distribution

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cumulus-toolchain/cumulus/compiler/awsmodel"
	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

func testGraph() (*graph.Graph, *graph.Distribution) {
	g := &graph.Graph{Prefix: "hs3-dev"}
	d := &graph.Distribution{Name: "main", Buckets: []*graph.DistributionBucket{
		{Prefix: "hs3/browse", Bucket: "public", BucketName: "hs3-dev-public", Access: "anonymous", CacheTTL: graph.Duration(24 * time.Hour)},
		{Prefix: "hs3/data", Bucket: "protected", BucketName: "hs3-dev-protected", Access: "authenticated", LinkTTL: graph.Duration(time.Hour)},
		{Prefix: "nocache", Bucket: "scratch", BucketName: "hs3-dev-scratch", Access: "anonymous"},
		{Prefix: "cached", Bucket: "archive", BucketName: "hs3-dev-archive", Access: "authenticated", CacheTTL: graph.Duration(time.Hour)},
	}}
	g.Distributions = []*graph.Distribution{d}
	return g, d
}

func TestBucketMapNests(t *testing.T) {
	_, d := testGraph()
	b, err := json.Marshal(BuildBucketMap(d))
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	_ = json.Unmarshal(b, &got)
	_ = json.Unmarshal([]byte(`{
		"MAP": {"hs3": {"browse": "hs3-dev-public", "data": "hs3-dev-protected"}, "nocache": "hs3-dev-scratch", "cached": "hs3-dev-archive"},
		"PUBLIC_BUCKETS": {"hs3-dev-public": "anonymous access: /hs3/browse/", "hs3-dev-scratch": "anonymous access: /nocache/"}
	}`), &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("bucket map %s", b)
	}
}

// TestCachePoliciesMatchAWSModel checks each shape of cache policy against
// CloudFront's API model, and against the AWS CLI when it is installed.
func TestCachePoliciesMatchAWSModel(t *testing.T) {
	g, d := testGraph()
	m := awsmodel.TestModel(t, "cloudfront")
	dir := t.TempDir()
	for _, b := range d.Buckets {
		p := BuildCachePolicy(g, d, b)
		doc, err := json.MarshalIndent(p, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range m.ValidateInput("CreateCachePolicy", doc) {
			t.Errorf("%s: %s", b.Prefix, v)
		}
		c := p.CachePolicyConfig
		// CloudFront refuses a key with headers, cookies or query strings
		// when caching is disabled (MaxTTL 0), and TTLs out of order.
		keyed := c.Parameters.HeadersConfig.HeaderBehavior != "none" || c.Parameters.QueryStringsConfig.QueryStringBehavior != "none" || c.Parameters.EnableAcceptEncodingGzip
		if (c.MaxTTL == 0 && keyed) || c.MinTTL > c.DefaultTTL || c.DefaultTTL > c.MaxTTL {
			t.Errorf("%s: CloudFront would refuse %+v", b.Prefix, c)
		}
		f := filepath.Join(dir, strings.ReplaceAll(b.Prefix, "/", "-")+".json")
		if err := os.WriteFile(f, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		if testing.Short() {
			continue
		}
		r, err := awsmodel.RunCLI(context.Background(), "cloudfront", "create-cache-policy", "--cli-input-json", "file://"+f)
		if errors.Is(err, awsmodel.ErrNoCLI) {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", b.Prefix, err)
		}
		if !r.Accepted {
			t.Errorf("%s refused by the AWS CLI:\n%s", b.Prefix, r.Output)
		}
	}
}

func TestCachePolicyTTLs(t *testing.T) {
	g, d := testGraph()
	for _, c := range []struct {
		bucket                 int
		min, def, max          int64
		headers, query, cookie string
	}{
		{0, 0, 86400, 86400, "none", "none", "none"},
		{1, 0, 0, 1, "whitelist", "whitelist", "whitelist"},
		{2, 0, 0, 0, "none", "none", "none"},
		{3, 0, 0, 3600, "whitelist", "whitelist", "whitelist"},
	} {
		p := BuildCachePolicy(g, d, d.Buckets[c.bucket]).CachePolicyConfig
		k := p.Parameters
		if p.MinTTL != c.min || p.DefaultTTL != c.def || p.MaxTTL != c.max || k.HeadersConfig.HeaderBehavior != c.headers || k.QueryStringsConfig.QueryStringBehavior != c.query || k.CookiesConfig.CookieBehavior != c.cookie {
			t.Errorf("%s: %+v", d.Buckets[c.bucket].Prefix, p)
		}
	}
	if n := CachePolicyName(g, d, d.Buckets[0]); n != "hs3-dev-dist-main-public" {
		t.Errorf("name %q", n)
	}
}

// The HTTP API sends every method and path, the root included, to the
// distribution's function, and is named as the function is.
func TestHTTPAPI(t *testing.T) {
	g, d := testGraph()
	g.Region, g.AccountID = "us-west-2", "123456789012"
	d.Function = &graph.Task{Name: "dist-main", ResourceName: "hs3-dev-dist-main"}
	h := BuildHTTPAPI(g, d)
	var keys []string
	for _, r := range h.Routes {
		keys = append(keys, r.RouteKey)
	}
	if h.API.Name != "hs3-dev-dist-main" || !reflect.DeepEqual(keys, []string{"ANY /", "ANY /{proxy+}"}) || !reflect.DeepEqual(h.RouteFiles, []string{"root", "proxy"}) {
		t.Errorf("API %s, routes %v, files %v", h.API.Name, keys, h.RouteFiles)
	}
	if h.Integration.IntegrationUri != "arn:aws:lambda:us-west-2:123456789012:function:hs3-dev-dist-main" || h.API.Tags["cumulus:block"] != "distribution.main" {
		t.Errorf("integration %+v, tags %v", h.Integration, h.API.Tags)
	}
	if p := h.Permission; p.FunctionName != "hs3-dev-dist-main" || p.SourceArn != "arn:aws:execute-api:us-west-2:123456789012:{api-id}/*" {
		t.Errorf("permission %+v", p)
	}
}
