package lambdafn

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func event(method, rawPath, query string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: rawPath, RawQueryString: query,
		Headers: map[string]string{"host": "dist.example.org", "accept": "text/html"}}
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.HTTP.SourceIP = "203.0.113.9"
	return ev
}

// What the handler sees is the request the client sent; what it answers is
// the response API Gateway returns.
func TestHTTPRoundTrip(t *testing.T) {
	var seen *http.Request
	var body []byte
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		body, _ = io.ReadAll(r.Body)
		http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
		http.SetCookie(w, &http.Cookie{Name: "b", Value: "2"})
		w.Header().Set("Location", "https://s3.example.org/x")
		w.Header().Add("Vary", "Accept")
		w.Header().Add("Vary", "Cookie")
		w.WriteHeader(http.StatusTemporaryRedirect)
	})
	ev := event(http.MethodPost, "/protected/a%2e%2e/b.nc", "A-userid=alice&x=1")
	ev.Cookies = []string{"cumulus-dist-token=t1", "other=2"}
	ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte{0, 1, 2}), true
	resp, err := HTTP(h, nil)(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if seen.Method != http.MethodPost || seen.URL.EscapedPath() != "/protected/a%2e%2e/b.nc" || seen.URL.Query().Get("A-userid") != "alice" {
		t.Errorf("request %s %s ? %s", seen.Method, seen.URL.EscapedPath(), seen.URL.RawQuery)
	}
	if c, err := seen.Cookie("cumulus-dist-token"); err != nil || c.Value != "t1" {
		t.Errorf("cookie = %v, %v", c, err)
	}
	if seen.Host != "dist.example.org" || seen.RemoteAddr != "203.0.113.9" || seen.Header.Get("Accept") != "text/html" || string(body) != "\x00\x01\x02" {
		t.Errorf("host %q remote %q accept %q body %q", seen.Host, seen.RemoteAddr, seen.Header.Get("Accept"), body)
	}
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Headers["Location"] != "https://s3.example.org/x" || resp.Headers["Vary"] != "Accept,Cookie" {
		t.Errorf("response %+v", resp)
	}
	if len(resp.Cookies) != 2 || resp.Cookies[0] != "a=1" || resp.Cookies[1] != "b=2" {
		t.Errorf("cookies = %v", resp.Cookies)
	}
}

// Text goes back as text, anything else base64-encoded; a handler that
// writes without a status answers 200.
func TestHTTPBodies(t *testing.T) {
	for _, tc := range []struct {
		body   []byte
		base64 bool
	}{{[]byte("hello\n"), false}, {[]byte{0xff, 0xfe, 0}, true}} {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(tc.body) })
		resp, err := HTTP(h, nil)(context.Background(), event(http.MethodGet, "/public/x", ""))
		if err != nil {
			t.Fatal(err)
		}
		got := []byte(resp.Body)
		if resp.IsBase64Encoded {
			got, _ = base64.StdEncoding.DecodeString(resp.Body)
		}
		if resp.StatusCode != http.StatusOK || resp.IsBase64Encoded != tc.base64 || string(got) != string(tc.body) {
			t.Errorf("body %q: %+v", tc.body, resp)
		}
	}
}

// An aborted handler is a 502; an event that is not an HTTP API request is
// a 400, not an error that would make Lambda retry it.
func TestHTTPFailures(t *testing.T) {
	abort := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("partial"))
		panic(http.ErrAbortHandler)
	})
	resp, err := HTTP(abort, nil)(context.Background(), event(http.MethodGet, "/public/x", ""))
	if err != nil || resp.StatusCode != http.StatusBadGateway {
		t.Errorf("abort: %+v, %v", resp, err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for _, ev := range []events.APIGatewayV2HTTPRequest{
		event("", "/x", ""),
		func() events.APIGatewayV2HTTPRequest {
			e := event(http.MethodPost, "/x", "")
			e.Body, e.IsBase64Encoded = "not base64!", true
			return e
		}(),
		event(http.MethodGet, "//evil.example.org/x", ""),
	} {
		resp, err := HTTP(ok, nil)(context.Background(), ev)
		if err != nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%q %q: %+v, %v", ev.RequestContext.HTTP.Method, ev.RawPath, resp, err)
		}
	}
}

// FuzzRequest: no event, however odd, panics the adapter; what it accepts
// is a request for a path on this host.
func FuzzRequest(f *testing.F) {
	f.Add("GET", "/public/a.nc", "x=1", "", false)
	f.Add("POST", "/token", "", "dXNlcg==", true)
	f.Add("GET", "//evil/x", "%zz", "", false)
	f.Fuzz(func(t *testing.T, method, path, query, body string, b64 bool) {
		ev := event(method, path, query)
		ev.Body, ev.IsBase64Encoded = body, b64
		req, err := Request(context.Background(), ev)
		if err != nil {
			return
		}
		if req.URL.Host != "" || req.URL.Scheme != "" {
			t.Fatalf("%q became a request for %s", path, req.URL)
		}
	})
}
