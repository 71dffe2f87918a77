package distribution

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestProtect: a handler behind the distribution's authentication opens
// to its tokens and its login cookie, and to nothing else.
func TestProtect(t *testing.T) {
	f := newFixture(t, testPolicy())
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "dashboard "+r.URL.Path) })
	srv := httptest.NewServer(f.handler.Protect(inner))
	t.Cleanup(srv.Close)
	get := func(path string, h http.Header) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := f.noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, p := range []string{"/", "/api/runs", "/api/../api/runs"} {
		resp, body := get(p, nil)
		if resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "dashboard") {
			t.Errorf("%s without credentials: %s %q", p, resp.Status, body)
		}
	}
	resp, _ := get("/", http.Header{"Accept": {"text/html"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "./login") {
		t.Errorf("a browser at /: %s %q", resp.Status, resp.Header.Get("Location"))
	}
	resp, _ = get("/api/runs", http.Header{"Authorization": {"Bearer cdt1.forged"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("forged token: %s", resp.Status)
	}

	// The distribution's token opens it.
	tok := f.token()
	resp, body := get("/api/runs", bearer(tok))
	if resp.StatusCode != http.StatusOK || body != "dashboard /api/runs" {
		t.Errorf("with a token: %s %q", resp.Status, body)
	}
	// So does the login form's cookie.
	resp, err := f.noFollow.PostForm(srv.URL+"/login", url.Values{"username": {"alice"}, "password": {"wonderland"}, "next": {"api/runs"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == tokenCookie {
			cookie = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || cookie == nil || !cookie.HttpOnly {
		t.Fatalf("login: %s %v", resp.Status, resp.Cookies())
	}
	resp, body = get("/", http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}})
	if resp.StatusCode != http.StatusOK || body != "dashboard /" {
		t.Errorf("with the cookie: %s %q", resp.Status, body)
	}
	if !strings.Contains(f.logs.String(), `"msg":"protected request"`) || !strings.Contains(f.logs.String(), `"user":"alice"`) {
		t.Errorf("access log: %s", f.logs.String())
	}
}
