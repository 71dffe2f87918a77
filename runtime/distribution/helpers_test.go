package distribution

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/simulator/s3local"
)

// Buckets of the test archive. staging is outside every policy.
const (
	publicBucket    = "hs3-dev-public"
	protectedBucket = "hs3-dev-protected"
	stagingBucket   = "hs3-dev-staging"
)

// testClock is a clock a test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testPolicy is the policy of the tests: each way of serving, one prefix
// of two segments.
func testPolicy() *graph.Distribution {
	return &graph.Distribution{
		Name: "main",
		Buckets: []*graph.DistributionBucket{
			{Prefix: "public", Bucket: "public", BucketName: publicBucket, Access: "anonymous", CacheTTL: graph.Duration(24 * time.Hour)},
			{Prefix: "open", Bucket: "public", BucketName: publicBucket, Access: "anonymous", Stream: true},
			{Prefix: "protected", Bucket: "protected", BucketName: protectedBucket, Access: "authenticated", LinkTTL: graph.Duration(time.Hour)},
			{Prefix: "hs3/streamed", Bucket: "protected", BucketName: protectedBucket, Access: "authenticated", LinkTTL: graph.Duration(time.Hour), CacheTTL: graph.Duration(2 * time.Hour), Stream: true},
		},
		Auth: &graph.DistributionAuth{Users: []string{"alice"}},
	}
}

// Objects of the test archive.
var (
	dataBody   = []byte("HS3 HAMSR granule 2013-08-25: 0123456789abcdefghijklmnopqrstuvwxyz")
	browseBody = []byte("\x89PNG browse image")
	secretBody = []byte("staging secret")
)

type fixture struct {
	t       *testing.T
	s3      *s3.Client
	s3URL   string
	clock   *testClock
	handler *Handler
	server  *httptest.Server
	logs    *bytes.Buffer
	// noFollow does not follow redirects; follow does.
	noFollow, follow *http.Client
}

// newFixture starts the embedded S3 server with the test objects and the
// handler of policy in front of it.
func newFixture(t *testing.T, policy *graph.Distribution, opts ...Option) *fixture {
	t.Helper()
	ctx := context.Background()
	srv, err := s3local.Start(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	client, err := s3local.Client(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if err := s3local.EnsureBuckets(ctx, client, []string{publicBucket, protectedBucket, stagingBucket}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []struct {
		bucket, key string
		body        []byte
	}{
		{publicBucket, "hamsr/browse/HS3_HAMSR_20130825T000000.png", browseBody},
		{publicBucket, "x.nc", dataBody},
		{protectedBucket, "hamsr/2013/HS3_HAMSR_20130825T000000/HS3_HAMSR_20130825T000000.nc", dataBody},
		{protectedBucket, "a b+c.nc", dataBody},
		{stagingBucket, "secret.txt", secretBody},
	} {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &o.bucket, Key: &o.key, Body: bytes.NewReader(o.body)}); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{t: t, s3: client, s3URL: srv.URL(), clock: &testClock{now: time.Date(2013, 8, 25, 12, 0, 0, 0, time.UTC)}, logs: &bytes.Buffer{}}
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: f.logs}, nil))
	all := append([]Option{WithClock(f.clock), WithLogger(logger), WithUsers(map[string]string{"alice": "wonderland"}), WithSigningKey(bytes.Repeat([]byte{7}, 32))}, opts...)
	h, err := New(policy, client, all...)
	if err != nil {
		t.Fatal(err)
	}
	f.handler = h
	f.server = httptest.NewServer(h)
	t.Cleanup(f.server.Close)
	f.noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
	f.follow = &http.Client{Timeout: 10 * time.Second}
	return f
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// do sends a request with the path written raw (not cleaned or re-escaped
// by the client), and returns the response with its body read.
func (f *fixture) do(c *http.Client, method, rawPath string, header http.Header) (*http.Response, []byte) {
	f.t.Helper()
	// url.Parse keeps the path as written (RawPath) and cleans nothing.
	u, err := url.Parse(f.server.URL + rawPath)
	if err != nil {
		f.t.Fatal(err)
	}
	req, err := http.NewRequest(method, f.server.URL, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	req.URL = u
	if got := u.RequestURI(); got != rawPath {
		f.t.Fatalf("the client would send %q, not %q", got, rawPath)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, rawPath, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp, body
}

// get follows a URL (absolute, or relative to the handler's base).
func (f *fixture) get(c *http.Client, rawURL string, header http.Header) (*http.Response, []byte) {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// token logs alice in through POST /token.
func (f *fixture) token() string {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.server.URL+"/token", nil)
	req.SetBasicAuth("alice", "wonderland")
	resp, err := f.noFollow.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("POST /token: %s", resp.Status)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := decodeJSON(resp.Body, &out); err != nil || out.AccessToken == "" {
		f.t.Fatalf("token response: %v %+v", err, out)
	}
	return out.AccessToken
}

// resolve makes a Location absolute against the request it answered.
func resolve(t *testing.T, resp *http.Response) string {
	t.Helper()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("%s: no Location: %v", resp.Status, err)
	}
	return loc.String()
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

// assertNoLeak checks a refusal's body for anything of the archive or the
// credentials.
func assertNoLeak(t *testing.T, what string, body []byte, secrets ...string) {
	t.Helper()
	for _, s := range append([]string{"hs3-dev", "wonderland", "X-Amz", "A-signature"}, secrets...) {
		if s != "" && bytes.Contains(body, []byte(s)) {
			t.Errorf("%s: body leaks %q: %q", what, s, body)
		}
	}
}
