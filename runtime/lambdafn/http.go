// Package lambdafn runs the platform's handlers as AWS Lambda functions:
// the same net/http handlers `cumulus simulate` serves on localhost
// (distribution, engine API) behind an API Gateway HTTP API, whose Lambda
// proxy integration (payload format 2.0) turns each HTTP request into an
// event and expects the response back as one. Nothing here knows what the
// handlers do.
package lambdafn

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// HTTP adapts h to API Gateway's HTTP API: the event becomes an
// *http.Request (method, path, query, headers, cookies, body, the caller's
// address), h answers into a buffer, and the buffer becomes the response
// event. A body that is not valid UTF-8 text goes back base64-encoded, as
// the integration requires. A handler that aborts (http.ErrAbortHandler,
// as the distribution does when a streamed object fails midway) gets a 502,
// the status API Gateway gives a failed integration.
func HTTP(h http.Handler, log *slog.Logger) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
		req, err := Request(ctx, ev)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusBadRequest, Body: "bad request\n",
				Headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"}}, nil
		}
		w := &recorder{header: http.Header{}}
		defer func() {
			if p := recover(); p != nil {
				if p != http.ErrAbortHandler { // the sentinel itself is what is panicked
					log.Error("handler panicked", "path", ev.RawPath, "panic", fmt.Sprint(p))
				}
				resp, err = events.APIGatewayV2HTTPResponse{StatusCode: http.StatusBadGateway, Body: "bad gateway\n",
					Headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"}}, nil
			}
		}()
		h.ServeHTTP(w, req)
		return w.response(), nil
	}
}

// Request is the *http.Request an HTTP API event stands for.
func Request(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	method := ev.RequestContext.HTTP.Method
	if method == "" {
		return nil, errors.New("lambdafn: the event has no HTTP method (not an HTTP API payload 2.0)")
	}
	path := ev.RawPath
	if path == "" {
		path = "/"
	}
	// RawPath is as the client sent it, percent-encoding included: parse
	// it as such, so the handler sees what it would see on localhost (the
	// distribution refuses encoded traversal by looking at it).
	u, err := url.Parse(path)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return nil, fmt.Errorf("lambdafn: path %q: %w", path, err)
	}
	u.RawQuery = ev.RawQueryString
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return nil, fmt.Errorf("lambdafn: body: %w", err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range ev.Headers {
		// HTTP API joins repeated headers with commas, which is how
		// net/http reads a list anyway.
		req.Header.Set(k, v)
	}
	if len(ev.Cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	if host := ev.Headers["host"]; host != "" {
		req.Host = host
	} else {
		req.Host = ev.RequestContext.DomainName
	}
	req.RemoteAddr = ev.RequestContext.HTTP.SourceIP
	req.RequestURI = u.RequestURI()
	req.ContentLength = int64(len(body))
	return req, nil
}

// recorder is the http.ResponseWriter a handler answers a Lambda event
// into: the whole response is the function's return value, so it is held.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}

func (r *recorder) response() events.APIGatewayV2HTTPResponse {
	status := r.status
	if status == 0 {
		status = http.StatusOK
	}
	out := events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: map[string]string{}}
	for k, vs := range r.header {
		if http.CanonicalHeaderKey(k) == "Set-Cookie" {
			out.Cookies = append(out.Cookies, vs...)
			continue
		}
		out.Headers[k] = strings.Join(vs, ",")
	}
	if b := r.body.Bytes(); utf8.Valid(b) {
		out.Body = string(b)
	} else {
		out.Body, out.IsBase64Encoded = base64.StdEncoding.EncodeToString(b), true
	}
	return out
}
