package distribution

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

const (
	protectedPath = "/protected/hamsr/2013/HS3_HAMSR_20130825T000000/HS3_HAMSR_20130825T000000.nc"
	browsePath    = "/public/hamsr/browse/HS3_HAMSR_20130825T000000.png"
)

func TestAnonymousRedirectsToPresignedURL(t *testing.T) {
	f := newFixture(t, testPolicy())
	resp, body := f.do(f.noFollow, http.MethodGet, browsePath, nil)
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("status %s, body %q", resp.Status, body)
	}
	loc := resolve(t, resp)
	if !strings.HasPrefix(loc, f.s3URL+"/"+publicBucket+"/hamsr/browse/") || !strings.Contains(loc, "X-Amz-Signature=") {
		t.Errorf("Location %q is not a presigned URL of the embedded S3", loc)
	}
	// A cached redirect must die before the URL it points at.
	if got := resp.Header.Get("Cache-Control"); got != "public, max-age=86400" {
		t.Errorf("Cache-Control = %q", got)
	}
	u, _ := url.Parse(loc)
	if got := u.Query().Get("X-Amz-Expires"); got != "86700" {
		t.Errorf("presigned for %ss, want 86700 (cache_ttl + 5m)", got)
	}
	resp, got := f.get(f.follow, f.server.URL+browsePath, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, browseBody) {
		t.Errorf("following the redirect: %s %q", resp.Status, got)
	}
	resp, _ = f.do(f.noFollow, http.MethodHead, browsePath, nil)
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("HEAD: %s", resp.Status)
	}
}

func TestAnonymousStream(t *testing.T) {
	f := newFixture(t, testPolicy())
	resp, body := f.do(f.noFollow, http.MethodGet, "/open/x.nc", nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, dataBody) {
		t.Fatalf("GET: %s %q", resp.Status, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("cache_ttl 0: Cache-Control = %q", cc)
	}
	if resp.Header.Get("Accept-Ranges") != "bytes" || resp.Header.Get("ETag") == "" {
		t.Errorf("headers %v", resp.Header)
	}
	resp, body = f.do(f.noFollow, http.MethodHead, "/open/x.nc", nil)
	if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.ContentLength != int64(len(dataBody)) {
		t.Errorf("HEAD: %s length %d body %q", resp.Status, resp.ContentLength, body)
	}
	resp, body = f.do(f.noFollow, http.MethodGet, "/open/x.nc", http.Header{"Range": {"bytes=4-8"}})
	if resp.StatusCode != http.StatusPartialContent || string(body) != string(dataBody[4:9]) {
		t.Errorf("Range: %s %q", resp.Status, body)
	}
	if got, want := resp.Header.Get("Content-Range"), "bytes 4-8/"+itoa(len(dataBody)); got != want {
		t.Errorf("Content-Range = %q, want %q", got, want)
	}
	resp, body = f.do(f.noFollow, http.MethodGet, "/open/x.nc", http.Header{"Range": {"bytes=-5"}})
	if resp.StatusCode != http.StatusPartialContent || string(body) != string(dataBody[len(dataBody)-5:]) {
		t.Errorf("suffix Range: %s %q", resp.Status, body)
	}
	resp, body = f.do(f.noFollow, http.MethodGet, "/open/x.nc", http.Header{"Range": {"bytes=1000-2000"}})
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("unsatisfiable Range: %s %q", resp.Status, body)
	}
	if got, want := resp.Header.Get("Content-Range"), "bytes */"+itoa(len(dataBody)); got != want {
		t.Errorf("416 Content-Range = %q, want %q", got, want)
	}
	assertNoLeak(t, "416", body)
	resp, body = f.do(f.noFollow, http.MethodGet, "/open/x.nc", http.Header{"Range": {"lines=1-2"}})
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, dataBody) {
		t.Errorf("unknown range unit is ignored: %s", resp.Status)
	}
	etag := resp.Header.Get("ETag")
	resp, _ = f.do(f.noFollow, http.MethodGet, "/open/x.nc", http.Header{"If-None-Match": {etag}})
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %s", resp.Status)
	}
	resp, body = f.do(f.noFollow, http.MethodGet, "/open/missing.nc", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing object: %s", resp.Status)
	}
	assertNoLeak(t, "missing object", body, "missing.nc")
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestAuthenticatedNeedsCredentials(t *testing.T) {
	f := newFixture(t, testPolicy())
	resp, body := f.do(f.noFollow, http.MethodGet, protectedPath, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Bearer realm="cumulus distribution main"`) {
		t.Errorf("no credentials: %s %q", resp.Status, resp.Header.Get("WWW-Authenticate"))
	}
	assertNoLeak(t, "401", body)
	// A browser is sent to log in, and back afterwards.
	resp, _ = f.do(f.noFollow, http.MethodGet, protectedPath, http.Header{"Accept": {"text/html,application/xhtml+xml"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("browser: %s", resp.Status)
	}
	loc, _ := url.Parse(resolve(t, resp))
	if loc.Path != "/login" || loc.Query().Get("next") != strings.TrimPrefix(protectedPath, "/") {
		t.Errorf("browser sent to %s", loc)
	}
	for _, h := range []string{"Bearer nonsense", "Bearer cdt1.e30.AAAA", "Basic YWxpY2U6d29uZGVybGFuZA=="} {
		resp, body = f.do(f.noFollow, http.MethodGet, protectedPath, http.Header{"Authorization": {h}})
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%q: %s %q", h, resp.Status, resp.Header.Get("WWW-Authenticate"))
		}
		assertNoLeak(t, h, body, strings.TrimPrefix(h, "Bearer "))
	}
}

func TestTokenEndpoint(t *testing.T) {
	f := newFixture(t, testPolicy())
	tok := f.token()
	if !strings.HasPrefix(tok, tokenPrefix) {
		t.Errorf("token %q", tok)
	}
	// The password grant's form works as well as HTTP Basic.
	resp, err := f.noFollow.PostForm(f.server.URL+"/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wonderland"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("form: %s %v", resp.Status, resp.Header)
	}
	for _, c := range []struct{ user, pw string }{{"alice", "wrong"}, {"mallory", "wonderland"}, {"", ""}} {
		req, _ := http.NewRequest(http.MethodPost, f.server.URL+"/token", nil)
		req.SetBasicAuth(c.user, c.pw)
		resp, err := f.noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s:%s: %s", c.user, c.pw, resp.Status)
		}
	}
	resp, _ = f.do(f.noFollow, http.MethodGet, "/token", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET /token: %s Allow %q", resp.Status, resp.Header.Get("Allow"))
	}
	// A token stops working when it expires, and when its user is gone.
	f.clock.Add(DefaultTokenTTL)
	resp, _ = f.do(f.noFollow, http.MethodGet, protectedPath, bearer(tok))
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("expired token: %s", resp.Status)
	}
	other, err := New(testPolicy(), f.s3, WithClock(f.clock), WithSigningKey(bytes.Repeat([]byte{7}, 32)), WithUsers(map[string]string{"bob": "builder"}))
	if err != nil {
		t.Fatal(err)
	}
	tok = f.token()
	if _, _, err := other.authenticate(&http.Request{Header: bearer(tok)}); err == nil {
		t.Errorf("a token of a user the handler does not know was accepted")
	}
}

// TestAuthenticatedLink follows the whole way: token, the handler's own
// link, the presigned URL, the bytes; and the access log says who.
func TestAuthenticatedLink(t *testing.T) {
	f := newFixture(t, testPolicy())
	tok := f.token()
	resp, _ := f.do(f.noFollow, http.MethodGet, protectedPath, bearer(tok))
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("with a token: %s %v", resp.Status, resp.Header)
	}
	if raw := resp.Header.Get("Location"); !strings.HasPrefix(raw, "./HS3_HAMSR_20130825T000000.nc?") {
		t.Errorf("the link should be relative to the request: %q", raw)
	}
	link := resolve(t, resp)
	u, _ := url.Parse(link)
	if u.Path != protectedPath || u.Query().Get(paramUser) != "alice" || u.Query().Get(paramExpires) != itoa(int(f.clock.Now().Add(time.Hour).Unix())) {
		t.Errorf("link %s", link)
	}
	// The link works without credentials, and leads to the bytes.
	resp, _ = f.get(f.noFollow, link, nil)
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("link: %s", resp.Status)
	}
	s3u, _ := url.Parse(resolve(t, resp))
	if !strings.HasPrefix(s3u.String(), f.s3URL+"/"+protectedBucket+"/") || s3u.Query().Get("X-Amz-Expires") != "60" {
		t.Errorf("link redirects to %s", s3u)
	}
	resp, body := f.get(f.follow, f.server.URL+protectedPath, bearer(tok))
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, dataBody) {
		t.Errorf("following all the way: %s %q", resp.Status, body)
	}
	// A key with characters that need escaping survives the round trip.
	resp, body = f.get(f.follow, f.server.URL+"/protected/a%20b+c.nc", bearer(tok))
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, dataBody) {
		t.Errorf("escaped key: %s %q", resp.Status, body)
	}
	var entry map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(f.logs.Bytes()), []byte("\n")) {
		var e map[string]any
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if e["via"] == "link" && e["user"] == "alice" {
			entry = e
		}
	}
	if entry == nil || entry["msg"] != "distribution request" || entry["status"] != float64(307) || entry["bucket"] != protectedBucket || entry["method"] != "GET" {
		t.Errorf("access log: %s", f.logs)
	}
	if strings.Contains(f.logs.String(), tok) || strings.Contains(f.logs.String(), "wonderland") {
		t.Errorf("the access log holds a credential")
	}
}

// TestLinkExpires moves the clock past link_ttl.
func TestLinkExpires(t *testing.T) {
	f := newFixture(t, testPolicy())
	resp, _ := f.do(f.noFollow, http.MethodGet, protectedPath, bearer(f.token()))
	link := resolve(t, resp)
	f.clock.Add(time.Hour - time.Second)
	resp, _ = f.get(f.noFollow, link, nil)
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("a second before link_ttl: %s", resp.Status)
	}
	// The presigned URL never outlives the link.
	s3u, _ := url.Parse(resolve(t, resp))
	if got := s3u.Query().Get("X-Amz-Expires"); got != "1" {
		t.Errorf("presigned for %ss with 1s of link left", got)
	}
	f.clock.Add(time.Second)
	resp, body := f.get(f.noFollow, link, nil)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "expired") {
		t.Errorf("at link_ttl: %s %q", resp.Status, body)
	}
	assertNoLeak(t, "expired link", body, "alice")
}

func TestTamperedLinks(t *testing.T) {
	f := newFixture(t, testPolicy())
	resp, _ := f.do(f.noFollow, http.MethodGet, protectedPath, bearer(f.token()))
	link, _ := url.Parse(resolve(t, resp))
	q := link.Query()
	with := func(path string, change func(url.Values)) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = append([]string(nil), vs...)
		}
		change(v)
		return f.server.URL + path + "?" + v.Encode()
	}
	sig := q.Get(paramSignature)
	for name, u := range map[string]string{
		"other file":       with("/protected/a%20b+c.nc", func(url.Values) {}),
		"other user":       with(protectedPath, func(v url.Values) { v.Set(paramUser, "mallory") }),
		"later expiry":     with(protectedPath, func(v url.Values) { v.Set(paramExpires, itoa(int(f.clock.Now().Add(48*time.Hour).Unix()))) }),
		"flipped bit":      with(protectedPath, func(v url.Values) { v.Set(paramSignature, string(sig[0]^1)+sig[1:]) }),
		"no signature":     with(protectedPath, func(v url.Values) { v.Set(paramSignature, "") }),
		"no user":          with(protectedPath, func(v url.Values) { v.Del(paramUser) }),
		"two users":        with(protectedPath, func(v url.Values) { v.Add(paramUser, "mallory") }),
		"not a number":     with(protectedPath, func(v url.Values) { v.Set(paramExpires, "tomorrow") }),
		"other prefix":     with("/hs3/streamed/hamsr/2013/HS3_HAMSR_20130825T000000/HS3_HAMSR_20130825T000000.nc", func(url.Values) {}),
		"signature base64": with(protectedPath, func(v url.Values) { v.Set(paramSignature, "!!!") }),
	} {
		resp, body := f.get(f.noFollow, u, nil)
		if resp.StatusCode != http.StatusForbidden || strings.Contains(string(body), "expired") {
			t.Errorf("%s: %s %q", name, resp.Status, body)
		}
		assertNoLeak(t, name, body, "alice", sig)
	}
	// A link to an anonymous path is just an anonymous request.
	resp, _ = f.get(f.noFollow, f.server.URL+browsePath+"?"+q.Encode(), nil)
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("anonymous path with a link's query: %s", resp.Status)
	}
}

func TestAuthenticatedStream(t *testing.T) {
	f := newFixture(t, testPolicy())
	path := "/hs3/streamed/hamsr/2013/HS3_HAMSR_20130825T000000/HS3_HAMSR_20130825T000000.nc"
	resp, _ := f.do(f.noFollow, http.MethodGet, path, bearer(f.token()))
	link := resolve(t, resp)
	resp, body := f.get(f.noFollow, link, http.Header{"Range": {"bytes=0-2"}})
	if resp.StatusCode != http.StatusPartialContent || string(body) != "HS3" {
		t.Errorf("streamed range through a link: %s %q", resp.Status, body)
	}
	// Browsers may keep the bytes no longer than the link lives.
	if cc := resp.Header.Get("Cache-Control"); cc != "private, max-age=3600" {
		t.Errorf("Cache-Control = %q", cc)
	}
	f.clock.Add(59 * time.Minute)
	resp, _ = f.get(f.noFollow, link, nil)
	if cc := resp.Header.Get("Cache-Control"); cc != "private, max-age=60" {
		t.Errorf("a minute before expiry: Cache-Control = %q", cc)
	}
}

// TestRefusals sends what the handler must refuse, each with its status
// and a body that gives nothing away.
func TestRefusals(t *testing.T) {
	f := newFixture(t, testPolicy())
	big := strings.Repeat("x", 9<<10)
	for _, c := range []struct {
		name, method, path string
		header             http.Header
		status             int
	}{
		{"unknown prefix", "GET", "/nothing/here.nc", nil, 404},
		{"bucket not in the policy", "GET", "/" + stagingBucket + "/secret.txt", nil, 404},
		{"prefix without key", "GET", "/public", nil, 404},
		{"root", "GET", "/", nil, 400},
		{"prefix of a prefix", "GET", "/hs3/x.nc", nil, 404},
		{"dot-dot", "GET", "/public/../" + stagingBucket + "/secret.txt", nil, 400},
		{"dot-dot at the end", "GET", "/public/hamsr/..", nil, 400},
		{"dot", "GET", "/public/./x.nc", nil, 400},
		{"encoded dot-dot", "GET", "/public/%2e%2e/" + stagingBucket + "/secret.txt", nil, 400},
		{"encoded dot-dot upper case", "GET", "/public/%2E%2E/x.nc", nil, 400},
		{"half-encoded dot-dot", "GET", "/public/.%2e/x.nc", nil, 400},
		{"encoded slash", "GET", "/public/hamsr%2fbrowse/x.png", nil, 400},
		{"encoded slash upper case", "GET", "/public/..%2F" + stagingBucket + "/secret.txt", nil, 400},
		{"encoded backslash", "GET", "/public/..%5csecret.txt", nil, 400},
		{"double-encoded dot-dot", "GET", "/public/%252e%252e/x.nc", nil, 400},
		{"double-encoded slash", "GET", "/public/a%252fb.nc", nil, 400},
		{"encoded NUL", "GET", "/public/x.nc%00.png", nil, 400},
		{"empty segment", "GET", "/public//x.nc", nil, 400},
		{"trailing slash", "GET", "/public/hamsr/", nil, 400},
		{"POST", "POST", "/public/x.nc", nil, 405},
		{"PUT", "PUT", "/protected/x.nc", nil, 405},
		{"DELETE", "DELETE", "/public/x.nc", nil, 405},
		{"OPTIONS", "OPTIONS", "/public/x.nc", nil, 405},
		{"oversized header", "GET", "/public/x.nc", http.Header{"X-Big": {big}}, 431},
		{"oversized token", "GET", protectedPath, http.Header{"Authorization": {"Bearer " + big}}, 431},
		{"long path", "GET", "/public/" + strings.Repeat("a/", 2100) + "x.nc", nil, 414},
		{"long key", "GET", "/public/" + strings.Repeat("k", 1100), nil, 404},
	} {
		resp, body := f.do(f.noFollow, c.method, c.path, c.header)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %s, want %d", c.name, resp.Status, c.status)
		}
		if c.status == 405 && resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: Allow %q", c.name, resp.Header.Get("Allow"))
		}
		if resp.Header.Get("Location") != "" {
			t.Errorf("%s: redirected to %s", c.name, resp.Header.Get("Location"))
		}
		assertNoLeak(t, c.name, body, "secret", "staging")
	}
}

// TestRawRefusals sends request targets no HTTP client library would.
func TestRawRefusals(t *testing.T) {
	f := newFixture(t, testPolicy())
	for _, target := range []string{"/public/%zz.nc", "/public/x%", "public/x.nc", "/public/a\\..\\b"} {
		conn, err := net.Dial("tcp", f.server.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", target)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%q: %v", target, err)
		}
		body, _ := io.ReadAll(resp.Body)
		conn.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%q: %s", target, resp.Status)
		}
		assertNoLeak(t, target, body)
	}
}

func TestBrowserLogin(t *testing.T) {
	f := newFixture(t, testPolicy())
	resp, body := f.do(f.noFollow, http.MethodGet, "/login?next="+url.QueryEscape(strings.TrimPrefix(protectedPath, "/")), nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `<form method="post"`) {
		t.Fatalf("login form: %s %q", resp.Status, body)
	}
	post := func(user, pw, next string) *http.Response {
		resp, err := f.noFollow.PostForm(f.server.URL+"/login", url.Values{"username": {user}, "password": {pw}, "next": {next}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post("alice", "nope", "x"); resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("wrong password: %s", resp.Status)
	}
	resp = post("alice", "wonderland", strings.TrimPrefix(protectedPath, "/"))
	if resp.StatusCode != http.StatusSeeOther || resolve(t, resp) != f.server.URL+protectedPath {
		t.Fatalf("login: %s to %s", resp.Status, resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == tokenCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("cookie %+v", cookie)
	}
	resp, got := f.get(f.follow, f.server.URL+protectedPath, http.Header{"Cookie": {cookie.String()}, "Accept": {"text/html"}})
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, dataBody) {
		t.Errorf("with the cookie: %s", resp.Status)
	}
	// No open redirect: next stays inside the distribution.
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "../../etc/passwd", "%2e%2e/x", "javascript:alert(1)"} {
		resp := post("alice", "wonderland", next)
		loc := resolve(t, resp)
		if !strings.HasPrefix(loc, f.server.URL+"/") {
			t.Errorf("next %q sends the browser to %s", next, loc)
		}
	}
}

func TestNewRefusesBadPolicies(t *testing.T) {
	f := newFixture(t, testPolicy())
	for name, d := range map[string]*graph.Distribution{
		"nil":          nil,
		"no bucket":    {Name: "x", Buckets: []*graph.DistributionBucket{{Prefix: "p", Access: "anonymous"}}},
		"no access":    {Name: "x", Buckets: []*graph.DistributionBucket{{Prefix: "p", BucketName: "b"}}},
		"twice served": {Name: "x", Buckets: []*graph.DistributionBucket{{Prefix: "p", BucketName: "b", Access: "anonymous"}, {Prefix: "p", BucketName: "c", Access: "anonymous"}}},
	} {
		if _, err := New(d, f.s3); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(testPolicy(), f.s3, WithSigningKey([]byte("short"))); err == nil {
		t.Errorf("a short key was accepted")
	}
	if _, err := New(testPolicy(), nil); err == nil {
		t.Errorf("no client was accepted")
	}
}
