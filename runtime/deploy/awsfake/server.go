// Package awsfake is a local, stateful stand-in for the few AWS API
// operations `cumulus deploy` uses, for tests: an httptest server that
// speaks each service's wire protocol (awsJson1_1 for CloudWatch Logs, ECS,
// EventBridge and Data Pipeline; awsJson1_0 for Step Functions and
// DynamoDB; restJson1 for Lambda and API Gateway v2; restXml for S3;
// awsQuery for IAM and STS), reached through the SDK clients' BaseEndpoint.
// It routes by the service named in the request's SigV4 credential scope.
// Besides what deploy uses, it keeps log events (PutLogEvents in Go,
// GetLogEvents and FilterLogEvents through the API) for the engine's
// CloudWatch Logs reader.
//
// Every request is turned back into its operation's input document and
// checked against the official AWS API model (the compiler's awsmodel
// validator); an invalid one fails the test. Failures can be injected per
// operation (fail N times with a given error, or throttle) to test retries
// and convergence.
package awsfake

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cumulus-toolchain/cumulus/compiler/awsmodel"
)

// Error is an AWS error the fake answers with.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

type fault struct {
	op  string // "service:Operation"
	n   int
	err Error
}

// Server is the fake. Its zero value is not usable; call New.
type Server struct {
	URL     string
	Account string
	Region  string

	tb  Reporter
	srv *httptest.Server

	mu     sync.Mutex
	models map[string]*awsmodel.Model
	faults []*fault
	calls  []string
	st     *state
	eng    *engineState // DynamoDB, API Gateway, log events (engine.go)
}

// Reporter receives the requests that are invalid for the AWS model: a
// testing.TB, or a testscript adapter.
type Reporter interface {
	Errorf(format string, args ...any)
}

// New starts a fake for account and region, closed when the test ends. The
// AWS models must be present (the test is skipped otherwise, as the
// compiler's model tests are).
func New(tb testing.TB, account, region string) *Server {
	tb.Helper()
	s, err := Start(tb, account, region)
	if err != nil {
		tb.Skipf("skipping: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Start starts a fake that reports invalid requests to r; Close stops it.
// It fails when the AWS models are absent.
func Start(r Reporter, account, region string) (*Server, error) {
	if _, err := awsmodel.ModelsDir(); err != nil {
		return nil, err
	}
	s := &Server{Account: account, Region: region, tb: r, models: map[string]*awsmodel.Model{}, st: newState(), eng: newEngineState()}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s, nil
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Fail makes the next n calls of op ("lambda:CreateFunction") answer err.
func (s *Server) Fail(op string, n int, err Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{op: op, n: n, err: err})
}

// Throttle makes the next n calls of op answer the service's throttling
// error, which the SDK retryer retries.
func (s *Server) Throttle(op string, n int) {
	svc := strings.SplitN(op, ":", 2)[0]
	e := Error{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded"}
	switch svc {
	case "lambda":
		e = Error{Status: 429, Code: "TooManyRequestsException", Message: "Rate exceeded"}
	case "s3":
		e = Error{Status: 503, Code: "SlowDown", Message: "Please reduce your request rate."}
	}
	s.Fail(op, n, e)
}

// Calls returns every operation called so far, as "service:Operation", in
// order (including those answered with an injected error).
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// Reset forgets the calls recorded so far.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

var scope = regexp.MustCompile(`Credential=[^/]+/[0-9]+/([^/]+)/([^/]+)/aws4_request`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	m := scope.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		writeJSONError(w, &Error{Status: 403, Code: "MissingAuthenticationToken", Message: "no SigV4 signature"})
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
		body = unchunk(body)
	}
	switch svc := m[2]; svc {
	case "logs":
		if h, ok := s.logEventOps(r); ok {
			s.serveJSONWith(w, r, svc, body, h)
			return
		}
		s.serveJSON(w, r, svc, body)
	case "dynamodb":
		s.serveJSONWith(w, r, svc, body, s.dynamodb)
	case "apigateway":
		s.serveAPIGateway(w, r, body)
	case "ecs", "events", "datapipeline", "states":
		s.serveJSON(w, r, svc, body)
	case "lambda":
		s.serveLambda(w, r, body)
	case "s3":
		s.serveS3(w, r, body)
	case "sts":
		s.serveSTS(w, r, body)
	case "iam":
		s.serveIAM(w, r, body)
	default:
		writeJSONError(w, &Error{Status: 400, Code: "UnknownService", Message: "the fake does not speak " + svc})
	}
}

// begin records a call, validates its input document against the model,
// and returns an injected failure if one is due.
func (s *Server) begin(service, op string, doc any) *Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, service+":"+op)
	if err := s.validate(service, op, doc); err != nil {
		return err
	}
	for _, f := range s.faults {
		if f.op == service+":"+op && f.n > 0 {
			f.n--
			e := f.err
			return &e
		}
	}
	return nil
}

var modelNames = map[string]string{"events": "eventbridge", "states": "sfn", "apigateway": "apigatewayv2"}

func (s *Server) validate(service, op string, doc any) *Error {
	if service == "sts" {
		return nil // GetCallerIdentity has no members; no sts model is kept
	}
	name := service
	if n, ok := modelNames[service]; ok {
		name = n
	}
	model, ok := s.models[name]
	if !ok {
		var err error
		model, err = awsmodel.LoadService(name)
		if err != nil {
			s.tb.Errorf("awsfake: loading the %s model: %v", name, err)
			return &Error{Status: 500, Code: "InternalFailure", Message: err.Error()}
		}
		s.models[name] = model
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return &Error{Status: 400, Code: "SerializationException", Message: err.Error()}
	}
	if vs := awsmodel.Errors(model.ValidateInput(op, data)); len(vs) > 0 {
		var msgs []string
		for _, v := range vs {
			msgs = append(msgs, v.String())
		}
		s.tb.Errorf("awsfake: %s:%s: the request is invalid for the AWS model:\n  %s\n  request: %s", service, op, strings.Join(msgs, "\n  "), data)
		return &Error{Status: 400, Code: "ValidationException", Message: strings.Join(msgs, "; ")}
	}
	return nil
}

// unchunk decodes an aws-chunked body (chunks of "HEXSIZE[;ext]\r\nDATA\r\n",
// then trailers).
func unchunk(b []byte) []byte {
	var out []byte
	for len(b) > 0 {
		i := strings.Index(string(b), "\r\n")
		if i < 0 {
			break
		}
		var n int
		if _, err := fmt.Sscanf(strings.SplitN(string(b[:i]), ";", 2)[0], "%x", &n); err != nil || n == 0 {
			break
		}
		b = b[i+2:]
		if n > len(b) {
			n = len(b)
		}
		out = append(out, b[:n]...)
		b = b[n:]
		b = []byte(strings.TrimPrefix(string(b), "\r\n"))
	}
	return out
}

// serveJSONWith serves one operation of an awsJson service (named by
// X-Amz-Target) with handler, for the services whose state is in
// engineState.
func (s *Server) serveJSONWith(w http.ResponseWriter, r *http.Request, svc string, body []byte, handler func(op string, in obj) (any, *Error)) {
	target := r.Header.Get("X-Amz-Target")
	op := target[strings.LastIndex(target, ".")+1:]
	in := obj{}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			writeJSONError(w, &Error{Status: 400, Code: "SerializationException", Message: err.Error()})
			return
		}
	}
	status := 200
	out, e := any(nil), s.begin(svc, op, in)
	if e == nil {
		s.mu.Lock()
		out, e = handler(op, in)
		s.mu.Unlock()
	}
	if e != nil {
		w.Header().Set("X-Amzn-ErrorType", e.Code)
		status, out = e.Status, map[string]string{"__type": e.Code, "message": e.Message, "Message": e.Message}
	}
	if out == nil {
		out = obj{}
	}
	b, err := json.Marshal(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// DynamoDB's client checks every response body against this CRC32.
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10))
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

func writeJSONError(w http.ResponseWriter, e *Error) {
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	writeJSON(w, e.Status, map[string]string{"__type": e.Code, "message": e.Message, "Message": e.Message})
}
