package builtin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// CMRIngest puts UMM-G records to CMR's ingest API, retrying what CMR
// asks to be retried (5xx, 429) and nothing else.
type CMRIngest struct {
	// HTTP is the client (nil: one with a 60 s timeout).
	HTTP *http.Client
	// Attempts bounds the tries of one record (default 5).
	Attempts int
	// Delay is the first wait between tries, doubled each time (default
	// 1 s); a Retry-After from CMR wins when it is longer.
	Delay time.Duration
}

// IngestResult is CMR's answer to a record it took.
type IngestResult struct {
	ConceptID  string `json:"concept-id"`
	RevisionID int    `json:"revision-id"`
	// Created is true for a new granule (201), false for a new revision.
	Created bool `json:"-"`
}

// CMRError is CMR refusing a request, with its own messages.
type CMRError struct {
	Status   int
	Messages []string
}

func (e *CMRError) Error() string {
	msg := strings.Join(e.Messages, "; ")
	if msg == "" {
		msg = "no message"
	}
	return fmt.Sprintf("CMR answered %d %s: %s", e.Status, http.StatusText(e.Status), msg)
}

// Retryable says whether CMR may take the request on a later try.
func (e *CMRError) Retryable() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

// Put puts record as provider's granule nativeID.
func (c *CMRIngest) Put(ctx context.Context, endpoint, provider, nativeID, token string, record []byte) (IngestResult, error) {
	hc, attempts, delay := http.DefaultClient, 5, time.Second
	if c != nil {
		if c.HTTP != nil {
			hc = c.HTTP
		}
		if c.Attempts > 0 {
			attempts = c.Attempts
		}
		if c.Delay > 0 {
			delay = c.Delay
		}
	}
	if c == nil || c.HTTP == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	u := strings.TrimRight(endpoint, "/") + "/ingest/providers/" + url.PathEscape(provider) + "/granules/" + url.PathEscape(nativeID)
	var last error
	for try := 1; ; try++ {
		res, wait, err := c.put(ctx, hc, u, token, record)
		if err == nil {
			return res, nil
		}
		last = err
		var cerr *CMRError
		if errors.As(err, &cerr) && !cerr.Retryable() {
			return IngestResult{}, err
		}
		if try >= attempts {
			return IngestResult{}, fmt.Errorf("after %d tries: %w", try, last)
		}
		wait = max(wait, delay<<(try-1))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return IngestResult{}, fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-t.C:
		}
	}
}

// put is one try; wait is CMR's Retry-After, if it said one.
func (c *CMRIngest) put(ctx context.Context, hc *http.Client, u, token string, record []byte) (IngestResult, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, bytes.NewReader(record))
	if err != nil {
		return IngestResult{}, 0, err
	}
	req.Header.Set("Content-Type", UMMGContentType)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return IngestResult{}, 0, fmt.Errorf("PUT %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return IngestResult{}, 0, fmt.Errorf("PUT %s: reading the answer: %w", u, err)
	}
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated {
		var res IngestResult
		if err := json.Unmarshal(body, &res); err != nil || res.ConceptID == "" {
			return IngestResult{}, 0, fmt.Errorf("PUT %s: CMR's answer is not an ingest result: %q", u, truncate(body, 200))
		}
		res.Created = resp.StatusCode == http.StatusCreated
		return res, 0, nil
	}
	var wait time.Duration
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		wait = min(time.Duration(s)*time.Second, time.Minute)
	}
	return IngestResult{}, wait, &CMRError{Status: resp.StatusCode, Messages: cmrMessages(body)}
}

// cmrMessages reads CMR's error document: {"errors": ["..."]}, or errors
// with a path ({"errors": [{"path": [...], "errors": [...]}]}); anything
// else is quoted.
func cmrMessages(body []byte) []string {
	var doc struct {
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || len(doc.Errors) == 0 {
		if s := strings.TrimSpace(string(truncate(body, 500))); s != "" {
			return []string{s}
		}
		return nil
	}
	var out []string
	for _, raw := range doc.Errors {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out = append(out, s)
			continue
		}
		var p struct {
			Path   []any    `json:"path"`
			Errors []string `json:"errors"`
		}
		if json.Unmarshal(raw, &p) == nil {
			var path []string
			for _, x := range p.Path {
				path = append(path, fmt.Sprint(x))
			}
			for _, e := range p.Errors {
				out = append(out, strings.Join(path, "/")+": "+e)
			}
		}
	}
	return out
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// PublishCMR is publish_cmr: it puts the granule's UMM-G record (its file
// of Type "metadata", which cmr_metadata writes) to CMR's ingest API as
// PUT /ingest/providers/{provider}/granules/{granule id}, with the token
// from the environment variable token_env (the step's env first, then
// Env.Getenv). CMR's 5xx and 429 answers are retried; a 4xx fails the
// step for good, with CMR's messages.
//
// Outputs: concept_id, revision_id. The granule is unchanged.
func PublishCMR(ctx context.Context, env Env, in contract.Input) (contract.Result, error) {
	const step = "publish_cmr"
	args, _, err := env.begin(step, false, in)
	if err != nil {
		return contract.Result{}, err
	}
	g := cloneGranule(in.Granule)
	provider, endpoint, tokenEnv := args.string("provider"), args.string("endpoint"), args.string("token_env")
	if provider == "" {
		return contract.Result{}, fatalf("%s: with.provider is not set: give the CMR provider id, e.g. provider = \"GHRC_DAAC\"", step)
	}
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return contract.Result{}, fatalf("%s: endpoint %q is not a URL like https://cmr.uat.earthdata.nasa.gov", step, endpoint)
	}
	token := in.Env[tokenEnv]
	if token == "" && env.Getenv != nil {
		token = env.Getenv(tokenEnv)
	}
	if env.CMREndpoint != "" {
		// A simulation publishes to its stand-in, whatever the step names,
		// and needs no Earthdata Login token for it.
		endpoint = env.CMREndpoint
		if token == "" {
			token = "simulation"
		}
	}
	if token == "" {
		return contract.Result{}, fatalf("granule %s: %s: no CMR token: set the environment variable %s to an Earthdata Login token (on AWS, from a secret)", g.ID, step, tokenEnv)
	}
	var meta *contract.File
	for i, f := range g.Files {
		if f.Type == MetadataType {
			meta = &g.Files[i]
		}
	}
	if meta == nil {
		return contract.Result{}, fatalf("granule %s: %s: the granule has no UMM-G record (a file of type %q): run stdlib.cmr_metadata before this step", g.ID, step, MetadataType)
	}
	obj, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(meta.Bucket), Key: aws.String(meta.Key)})
	if err != nil {
		return contract.Result{}, fmt.Errorf("granule %s: reading its UMM-G record %s: %w", g.ID, s3url(meta.Bucket, meta.Key), err)
	}
	record, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	if err != nil {
		return contract.Result{}, fmt.Errorf("granule %s: reading its UMM-G record %s: %w", g.ID, s3url(meta.Bucket, meta.Key), err)
	}
	res, err := env.CMR.Put(ctx, endpoint, provider, g.ID, token, record)
	if err != nil {
		var cerr *CMRError
		if errors.As(err, &cerr) && !cerr.Retryable() {
			hint := ""
			switch cerr.Status {
			case http.StatusUnauthorized, http.StatusForbidden:
				hint = fmt.Sprintf(" (check the token in %s and that it may ingest for provider %s)", tokenEnv, provider)
			case http.StatusBadRequest, http.StatusUnprocessableEntity:
				hint = " (the record was refused: fix what CMR names, then re-run cmr_metadata)"
			}
			return contract.Result{}, &FatalError{Err: fmt.Errorf("granule %s: publishing to CMR at %s as %s: %w%s", g.ID, endpoint, provider, err, hint)}
		}
		return contract.Result{}, fmt.Errorf("granule %s: publishing to CMR at %s as %s: %w", g.ID, endpoint, provider, err)
	}
	env.logger().Info("published to CMR", "step", step, "granule", g.ID, "concept_id", res.ConceptID, "revision", res.RevisionID, "created", res.Created)
	return contract.Result{Granule: g, Outputs: map[string]any{"concept_id": res.ConceptID, "revision_id": res.RevisionID}}, nil
}

// CMRPublisher is the Publisher (cmr_metadata's publish = true) over CMR's
// ingest API: the simulator points it at its local stand-in.
type CMRPublisher struct {
	Ingest *CMRIngest
	// Endpoints maps a cmr_environment (UAT, SIT, OPS) to a base URL;
	// Endpoint is used for any environment it does not list.
	Endpoints map[string]string
	Endpoint  string
	// Provider is used when the step names none; Token is sent to CMR.
	Provider string
	Token    string
}

var _ Publisher = CMRPublisher{}

// Publish puts r's record and returns CMR's concept id.
func (p CMRPublisher) Publish(ctx context.Context, r PublishRequest) (string, error) {
	endpoint := p.Endpoints[r.Environment]
	if endpoint == "" {
		endpoint = p.Endpoint
	}
	provider := r.Provider
	if provider == "" {
		provider = p.Provider
	}
	if endpoint == "" || provider == "" {
		return "", fatalf("no CMR endpoint or provider is configured for %s", r.Environment)
	}
	res, err := p.Ingest.Put(ctx, endpoint, provider, r.GranuleUR, p.Token, r.Record)
	var cerr *CMRError
	if errors.As(err, &cerr) && !cerr.Retryable() {
		return "", &FatalError{Err: err}
	}
	return res.ConceptID, err
}
