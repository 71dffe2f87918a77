package enginetest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cumulus-toolchain/cumulus/runtime/engine"
)

// Run runs the API contract suite: the engine's HTTP API (the real
// engine.Server handler) over the store newStore returns, which must hold
// the state of fx (the simulation's runs, granules and counters). Every
// store answers the same fixtures with the same expected answers: filters,
// ordering, pagination, cursors, ETags, errors.
func Run(t *testing.T, fx *Fixtures, newStore func(t testing.TB) engine.Store) {
	c := &suite{fx: fx, newStore: newStore}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *suite)
	}{
		{"HealthAndPipelines", testHealthAndPipelines},
		{"Runs", testRuns},
		{"RunDetail", testRunDetail},
		{"Granules", testGranules},
		{"GranuleDetail", testGranuleDetail},
		{"Logs", testLogs},
		{"Stats", testStats},
		{"ETagsMethodsAndStatic", testETagsMethodsAndStatic},
		{"Events", testEvents},
		{"StoreFailures", testStoreFailures},
		{"SameState", testSameState},
		{"PagingEveryFilter", testPagingEveryFilter},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, c) })
	}
}

type suite struct {
	fx       *Fixtures
	newStore func(t testing.TB) engine.Store
}

// api serves a fresh store over HTTP, as `cumulus serve` does.
func (c *suite) api(t testing.TB) *httptest.Server {
	t.Helper()
	return Serve(t, engine.Options{Store: c.newStore(t), Logs: engine.FileLogs(c.fx.Dir + "/logs"),
		Graph: c.fx.Graph, Title: "enginetest"})
}

// Serve serves the API with opts until the test ends.
func Serve(t testing.TB, opts engine.Options) *httptest.Server {
	t.Helper()
	h, err := engine.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		h.Close() // ends event streams first, or srv.Close waits for them
		srv.Close()
	})
	return srv
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func request(t testing.TB, srv *httptest.Server, method, path string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, body}
}

// getJSON GETs path, checks the status and decodes the body into v.
func getJSON(t testing.TB, srv *httptest.Server, path string, status int, v any) response {
	t.Helper()
	r := request(t, srv, http.MethodGet, path)
	if r.status != status {
		t.Fatalf("GET %s = %d %s, want %d", path, r.status, r.body, status)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("GET %s: Content-Type %q, want JSON", path, ct)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("GET %s: decoding %s: %v", path, r.body, err)
		}
	}
	return r
}

type apiError struct {
	Error struct {
		Status  int    `json:"status"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// wantError checks that path answers status with a JSON error whose
// message contains msg.
func wantError(t testing.TB, srv *httptest.Server, path string, status int, msg string) {
	t.Helper()
	var e apiError
	getJSON(t, srv, path, status, &e)
	if e.Error.Status != status || e.Error.Code == "" || !strings.Contains(e.Error.Message, msg) {
		t.Errorf("GET %s: error %+v, want status %d and a message containing %q", path, e.Error, status, msg)
	}
}

func granuleIDs(gs []engine.Granule) []string {
	var ids []string
	for _, g := range gs {
		ids = append(ids, g.ID)
	}
	return ids
}

func runIDs(rs []engine.Run) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func testHealthAndPipelines(t *testing.T, c *suite) {
	srv := c.api(t)
	var h engine.Health
	getJSON(t, srv, "/api/health", 200, &h)
	if h.Status != "ok" || h.Runs["succeeded"] != 3 || h.Runs["failed"] != 1 || h.Granules["completed"] != 3 || h.Granules["failed"] != 1 || h.Pipelines != 1 {
		t.Errorf("health = %+v", h)
	}

	var ps struct{ Pipelines []engine.PipelineInfo }
	getJSON(t, srv, "/api/pipelines", 200, &ps)
	if len(ps.Pipelines) != 1 {
		t.Fatalf("pipelines = %+v", ps)
	}
	p := ps.Pipelines[0]
	var got []string
	for _, st := range p.Steps {
		got = append(got, st.Name+"@"+string(rune('0'+st.Level))+"="+st.Runs)
	}
	want := []string{"sync@0=stdlib.sync_granule", "preprocess@1=task.preprocess", "metadata@2=stdlib.cmr_metadata", "archive@3=stdlib.move_granule"}
	if p.Name != "ingest" || !p.InGraph || !slices.Equal(got, want) || p.Runs["succeeded"] != 3 || p.Runs["failed"] != 1 {
		t.Errorf("pipeline = %+v; steps %v, want %v", p, got, want)
	}
	if st := p.Steps[1]; st.Retries != 1 || st.RetryDelay != "1s" || !slices.Equal(st.After, []string{"sync"}) || st.RunsOn != "ecs" {
		t.Errorf("preprocess = %+v", st)
	}
	if len(p.Sources) != 1 || p.Sources[0] != (engine.SourceInfo{Name: "disk", Collection: "hamsr", Every: "15m"}) {
		t.Errorf("sources = %+v", p.Sources)
	}
	var one engine.PipelineInfo
	getJSON(t, srv, "/api/pipelines/ingest", 200, &one)
	if one.Name != "ingest" || len(one.Steps) != 4 {
		t.Errorf("/api/pipelines/ingest = %+v", one)
	}
	wantError(t, srv, "/api/pipelines/nope", 404, `no pipeline "nope"`)
	wantError(t, srv, "/api/health?verbose=1", 400, `unknown query parameter "verbose"`)

	// Without a graph, the pipelines the store knows are still listed.
	bare := Serve(t, engine.Options{Store: c.newStore(t)})
	getJSON(t, bare, "/api/pipelines", 200, &ps)
	if len(ps.Pipelines) != 1 || ps.Pipelines[0].InGraph || len(ps.Pipelines[0].Steps) != 0 || ps.Pipelines[0].Runs["succeeded"] != 3 {
		t.Errorf("pipelines without a graph = %+v", ps)
	}
	wantError(t, bare, "/api/logs?run=x", 404, "no step logs")
}

func testRuns(t *testing.T, c *suite) {
	srv := c.api(t)
	var all engine.RunList
	getJSON(t, srv, "/api/runs", 200, &all)
	if len(all.Runs) != 4 || all.Next != "" {
		t.Fatalf("runs = %d, next %q", len(all.Runs), all.Next)
	}
	ids := runIDs(all.Runs)
	if !slices.IsSortedFunc(ids, func(a, b string) int { return strings.Compare(b, a) }) {
		t.Errorf("runs are not newest first: %v", ids)
	}
	var oldest engine.RunList
	getJSON(t, srv, "/api/runs?order=oldest", 200, &oldest)
	rev := slices.Clone(ids)
	slices.Reverse(rev)
	if got := runIDs(oldest.Runs); !slices.Equal(got, rev) {
		t.Errorf("order=oldest = %v, want %v", got, rev)
	}

	for _, c := range []struct {
		query string
		n     int
	}{
		{"status=failed", 1}, {"status=succeeded", 3}, {"status=running", 0}, {"pipeline=ingest", 4},
		{"pipeline=ingest&status=failed", 1}, {"pipeline=other", 0}, {"since=-1h", 4}, {"since=now", 0},
		{"until=2000-01-01", 0}, {"since=2000-01-01&until=-1h", 0}, {"since=946684800", 4},
		{"since=" + url.QueryEscape(all.Runs[1].Created.Format(time.RFC3339Nano)), 2},
	} {
		var l engine.RunList
		getJSON(t, srv, "/api/runs?"+c.query, 200, &l)
		if len(l.Runs) != c.n {
			t.Errorf("runs?%s = %d runs, want %d", c.query, len(l.Runs), c.n)
		}
	}
	var failed engine.RunList
	getJSON(t, srv, "/api/runs?status=failed", 200, &failed)
	if r := failed.Runs[0]; r.GranuleID != FailedID || r.Status != "failed" || r.Error == "" {
		t.Errorf("failed run = %+v", r)
	}

	// Pages of one run each walk the same list, in the same order.
	var paged []string
	path := "/api/runs?limit=1"
	for range 10 {
		var l engine.RunList
		getJSON(t, srv, path, 200, &l)
		paged = append(paged, runIDs(l.Runs)...)
		if l.Next == "" {
			break
		}
		path = "/api/runs?limit=1&cursor=" + url.QueryEscape(l.Next)
	}
	if !slices.Equal(paged, ids) {
		t.Errorf("paged runs = %v, want %v", paged, ids)
	}
	var first engine.RunList
	getJSON(t, srv, "/api/runs?limit=2&status=succeeded", 200, &first)
	if first.Next == "" {
		t.Fatal("no next page")
	}
	cur := url.QueryEscape(first.Next)
	wantError(t, srv, "/api/runs?limit=2&status=failed&cursor="+cur, 400, "other filters")
	wantError(t, srv, "/api/granules?cursor="+cur, 400, "runs listing")

	for q, msg := range map[string]string{
		"status=done":              `status "done" is none of`,
		"order=random":             `order "random"`,
		"limit=0":                  "limit",
		"limit=1001":               "limit",
		"limit=x":                  "limit",
		"since=yesterday":          "not a time",
		"since=-1x":                "before now",
		"until=2013-02-30":         "not a time",
		"since=-1h&until=-2h":      "not before until",
		"cursor=%%%":               "malformed",
		"cursor=not-a-cursor":      "cursor is not one this API returned",
		"cursor=eyJ2IjoxfQ":        "cursor is not one this API returned",
		"pipline=ingest":           `unknown query parameter "pipline"`,
		"status=failed&status=foo": "given 2 times",
	} {
		wantError(t, srv, "/api/runs?"+q, 400, msg)
	}
}

func testRunDetail(t *testing.T, c *suite) {
	srv := c.api(t)
	var failed engine.RunList
	getJSON(t, srv, "/api/runs?status=failed", 200, &failed)
	var r engine.Run
	getJSON(t, srv, "/api/runs/"+failed.Runs[0].ID, 200, &r)
	if r.Status != "failed" || r.GranuleID != FailedID || len(r.Steps) != 4 || r.Input == nil || r.Input.ID != FailedID {
		t.Fatalf("run = %+v", r)
	}
	var states []string
	for _, st := range r.Steps {
		states = append(states, st.Name+"="+st.Status)
	}
	if want := []string{"sync=succeeded", "preprocess=failed", "metadata=pending", "archive=pending"}; !slices.Equal(states, want) {
		t.Errorf("steps = %v, want %v", states, want)
	}
	pre := r.Steps[1]
	if len(pre.Attempts) != 2 || pre.Error == "" || pre.DurationMS < 1000 { // a retry delay of 1s separates the attempts
		t.Errorf("preprocess = %+v", pre)
	}
	for _, a := range pre.Attempts {
		if a.Status != "failed" || a.ExitCode == nil || *a.ExitCode == 0 || a.Error == "" || a.Ended.Before(a.Started) ||
			a.Log != "/api/logs?attempt="+string(rune('0'+a.Number))+"&run="+r.ID+"&step=preprocess" {
			t.Errorf("attempt = %+v", a)
		}
	}
	if sync := r.Steps[0]; sync.Attempts[0].ExitCode == nil || *sync.Attempts[0].ExitCode != 0 || sync.Order != 1 || sync.Outputs == nil {
		t.Errorf("sync = %+v", sync)
	}
	if len(r.Steps[2].Attempts) != 0 || r.Steps[2].DurationMS != 0 {
		t.Errorf("a pending step = %+v", r.Steps[2])
	}
	wantError(t, srv, "/api/runs/01ABCDEFGHJKMNPQRS", 404, "not found")
	wantError(t, srv, "/api/runs/nonsense", 404, "not found")
	wantError(t, srv, "/api/runs/"+r.ID+"?x=1", 400, "takes none")
}

func testGranules(t *testing.T, c *suite) {
	srv := c.api(t)
	all := append(slices.Clone(CompletedIDs), FailedID)
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", all},
		{"status=completed", CompletedIDs},
		{"status=failed", []string{FailedID}},
		{"status=running", nil},
		{"status=queued", nil},
		{"collection=hamsr", all},
		{"collection=other", nil},
		{"status=completed&collection=hamsr", CompletedIDs},
		{"prefix=HS3_HAMSR_20130826", CompletedIDs[1:2]},
		{"prefix=HS3_HAMSR_2013082&status=failed", []string{FailedID}},
		{"prefix=XYZ", nil},
	} {
		var l engine.GranuleList
		getJSON(t, srv, "/api/granules?"+c.query, 200, &l)
		if got := granuleIDs(l.Granules); !slices.Equal(got, c.want) || l.Next != "" {
			t.Errorf("granules?%s = %v (next %q), want %v", c.query, got, l.Next, c.want)
		}
	}
	var l engine.GranuleList
	getJSON(t, srv, "/api/granules?status=completed", 200, &l)
	for _, g := range l.Granules {
		if g.Status != "completed" || g.Collection != "hamsr" || g.Pipeline != "ingest" || g.FileCount != 2 || g.Bytes == 0 || len(g.Runs) != 1 || g.Document != nil {
			t.Errorf("granule = %+v", g)
		}
	}

	var paged []string
	path := "/api/granules?limit=3"
	for range 5 {
		var p engine.GranuleList
		getJSON(t, srv, path, 200, &p)
		paged = append(paged, granuleIDs(p.Granules)...)
		if p.Next == "" {
			break
		}
		path = "/api/granules?limit=3&cursor=" + url.QueryEscape(p.Next)
	}
	if !slices.Equal(paged, all) {
		t.Errorf("paged granules = %v, want %v", paged, all)
	}
	var p engine.GranuleList
	getJSON(t, srv, "/api/granules?limit=1", 200, &p)
	wantError(t, srv, "/api/granules?limit=1&prefix=HS3&cursor="+url.QueryEscape(p.Next), 400, "other filters")
	wantError(t, srv, "/api/granules?status=succeeded", 400, `status "succeeded" is none of queued, running, completed, failed`)
	wantError(t, srv, "/api/granules?q=HS3", 400, `unknown query parameter "q"`)
	wantError(t, srv, "/api/granules?limit=-1", 400, "limit")
}

func testGranuleDetail(t *testing.T, c *suite) {
	srv := c.api(t)
	id := CompletedIDs[0]
	var d engine.GranuleDetail
	getJSON(t, srv, "/api/granules/"+id, 200, &d)
	if d.ID != id || d.Status != "completed" || d.Document == nil || d.Document.Date != "2013-08-25" || d.LatestRun == nil || d.LatestRun.Status != "succeeded" {
		t.Fatalf("granule = %+v", d)
	}
	var data *engine.File
	for i, f := range d.Files {
		if f.Type == "data" {
			data = &d.Files[i]
		}
	}
	if data == nil || data.Name != id+".nc" || data.ChecksumType != "md5" || len(data.Checksum) != 32 ||
		data.Location != "s3://enginetest-protected/hamsr/2013/"+id+"/"+id+".nc" || data.Bucket != "enginetest-protected" {
		t.Errorf("data file = %+v", data)
	}
	md, ok := d.Metadata.(map[string]any)
	if !ok || md["GranuleUR"] == nil {
		t.Errorf("metadata = %v, want the UMM-G record", d.Metadata)
	}
	var failed engine.GranuleDetail
	getJSON(t, srv, "/api/granules/"+FailedID, 200, &failed)
	if failed.Status != "failed" || failed.LatestRun == nil || failed.LatestRun.Steps[1].Status != "failed" || failed.Metadata != nil {
		t.Errorf("failed granule = %+v", failed)
	}
	wantError(t, srv, "/api/granules/HS3_NOPE", 404, "not found")
}

func testLogs(t *testing.T, c *suite) {
	srv := c.api(t)
	var failed engine.RunList
	getJSON(t, srv, "/api/runs?status=failed", 200, &failed)
	run := failed.Runs[0].ID

	var all engine.LogAnswer
	getJSON(t, srv, "/api/logs?run="+run, 200, &all)
	var got []string
	for _, l := range all.Logs {
		got = append(got, l.Step+"."+string(rune('0'+l.Attempt))+"="+l.Status)
	}
	if want := []string{"sync.1=succeeded", "preprocess.1=failed", "preprocess.2=failed"}; !slices.Equal(got, want) || all.GranuleID != FailedID || all.Pipeline != "ingest" {
		t.Errorf("logs of the run = %v, want %v", got, want)
	}

	var pre engine.LogAnswer
	getJSON(t, srv, "/api/logs?run="+run+"&step=preprocess&attempt=2", 200, &pre)
	if len(pre.Logs) != 1 || pre.Logs[0].Missing {
		t.Fatalf("logs = %+v", pre)
	}
	var text []string
	for _, l := range pre.Logs[0].Lines {
		text = append(text, l.Text)
	}
	if joined := strings.Join(text, "\n"); !strings.Contains(joined, "preprocessing "+FailedID) || !strings.Contains(joined, "calibration table missing") {
		t.Errorf("preprocess log = %q", joined)
	}

	var found engine.LogAnswer
	getJSON(t, srv, "/api/logs?run="+run+"&step=preprocess&q=CALIBRATION", 200, &found)
	if len(found.Logs) != 2 || found.Query != "CALIBRATION" {
		t.Fatalf("search = %+v", found)
	}
	for _, l := range found.Logs {
		if l.Matches != 1 || len(l.Lines) != 1 || l.Lines[0].Text != "calibration table missing" || l.Lines[0].N < 2 {
			t.Errorf("search in attempt %d = %+v", l.Attempt, l)
		}
	}
	var none engine.LogAnswer
	getJSON(t, srv, "/api/logs?run="+run+"&q=no+such+text", 200, &none)
	for _, l := range none.Logs {
		if l.Matches != 0 || len(l.Lines) != 0 {
			t.Errorf("search for absent text = %+v", l)
		}
	}

	wantError(t, srv, "/api/logs", 400, "run is required")
	wantError(t, srv, "/api/logs?run="+run+"&attempt=1", 400, "attempt needs step")
	wantError(t, srv, "/api/logs?run="+run+"&step=preprocess&attempt=x", 400, "attempt")
	wantError(t, srv, "/api/logs?run="+run+"&step=preprocess&attempt=3", 404, "no attempt 3")
	wantError(t, srv, "/api/logs?run="+run+"&step=nope", 404, `no step "nope"`)
	wantError(t, srv, "/api/logs?run=01ABCDEFGHJKMNPQRS", 404, "not found")
	wantError(t, srv, "/api/logs?run="+run+"&grep=x", 400, "unknown query parameter")
}

func testStats(t *testing.T, c *suite) {
	srv := c.api(t)
	var s engine.StatsAnswer
	getJSON(t, srv, "/api/stats", 200, &s)
	if s.Counts.Runs["ingest"]["succeeded"] != 3 || s.Counts.Runs["ingest"]["failed"] != 1 || s.Counts.Granules["hamsr"]["completed"] != 3 || s.Counts.Files["disk"] != 4 {
		t.Errorf("counts = %+v", s.Counts)
	}
	tp := s.Throughput
	if len(tp.Series) != 1 || tp.Series[0].Pipeline != "ingest" || tp.Series[0].Succeeded != 3 || tp.Series[0].Failed != 1 || tp.IntervalS != 60 {
		t.Fatalf("throughput = %+v", tp)
	}
	sum := 0
	for i, p := range tp.Series[0].Points {
		sum += p.Succeeded + p.Failed
		if want := tp.Since.Add(time.Duration(i) * time.Minute); !p.T.Equal(want) {
			t.Errorf("point %d at %s, want %s", i, p.T, want)
		}
		if p.Succeeded+p.Failed > 0 && p.MeanDurationMS <= 0 {
			t.Errorf("point %+v has no mean duration", p)
		}
	}
	if sum != 4 || len(tp.Series[0].Points) < 60 {
		t.Errorf("%d runs in %d points, want 4 in 60 or more", sum, len(tp.Series[0].Points))
	}

	var fine engine.StatsAnswer
	getJSON(t, srv, "/api/stats?since=-10m&interval=1s", 200, &fine)
	if fine.Throughput.IntervalS != 1 || len(fine.Throughput.Series[0].Points) < 600 {
		t.Errorf("since=-10m&interval=1s: %d points of %ds", len(fine.Throughput.Series[0].Points), fine.Throughput.IntervalS)
	}
	var other engine.StatsAnswer
	getJSON(t, srv, "/api/stats?pipeline=other&until=now", 200, &other)
	if len(other.Throughput.Series) != 0 {
		t.Errorf("pipeline=other: %+v", other.Throughput)
	}
	var past engine.StatsAnswer
	getJSON(t, srv, "/api/stats?since=2013-08-25&until=2013-08-26", 200, &past)
	if len(past.Throughput.Series) != 0 || past.Throughput.IntervalS != 30*60 {
		t.Errorf("a window without runs: %+v", past.Throughput)
	}
	wantError(t, srv, "/api/stats?interval=500ms", 400, "interval")
	wantError(t, srv, "/api/stats?since=-1000h&interval=1s", 400, "more than 1000 intervals")
	wantError(t, srv, "/api/stats?since=now&until=-1h", 400, "not before")
}

func testETagsMethodsAndStatic(t *testing.T, c *suite) {
	srv := c.api(t)
	// (Not /api/health: it tells the time, so each answer differs.)
	for _, path := range []string{"/api/granules?status=completed", "/api/runs", "/api/runs?status=failed", "/api/stats?since=2013-08-25&until=2013-08-26", "/", "/app.js"} {
		r := request(t, srv, http.MethodGet, path)
		etag := r.header.Get("ETag")
		if r.status != 200 || !strings.HasPrefix(etag, `"`) || r.header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("GET %s = %d, ETag %q, Cache-Control %q", path, r.status, etag, r.header.Get("Cache-Control"))
		}
		for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
			nm := request(t, srv, http.MethodGet, path, "If-None-Match", inm)
			if nm.status != http.StatusNotModified || len(nm.body) != 0 || nm.header.Get("ETag") != etag {
				t.Errorf("GET %s with If-None-Match %s = %d (%d bytes), want 304", path, inm, nm.status, len(nm.body))
			}
		}
		if again := request(t, srv, http.MethodGet, path, "If-None-Match", `"stale"`); again.status != 200 || string(again.body) != string(r.body) {
			t.Errorf("GET %s with a stale ETag = %d", path, again.status)
		}
		head := request(t, srv, http.MethodHead, path)
		if head.status != 200 || len(head.body) != 0 || head.header.Get("ETag") != etag || head.header.Get("Content-Length") != r.header.Get("Content-Length") {
			t.Errorf("HEAD %s = %d, %d bytes, ETag %q, length %q", path, head.status, len(head.body), head.header.Get("ETag"), head.header.Get("Content-Length"))
		}
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		r := request(t, srv, m, "/api/runs")
		var e apiError
		if err := json.Unmarshal(r.body, &e); err != nil || r.status != 405 || r.header.Get("Allow") != "GET, HEAD" || !strings.Contains(e.Error.Message, "read-only") {
			t.Errorf("%s /api/runs = %d %s, Allow %q", m, r.status, r.body, r.header.Get("Allow"))
		}
	}
	wantError(t, srv, "/api/nothing", 404, "no API endpoint /api/nothing")

	page := request(t, srv, http.MethodGet, "/")
	if !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") || !strings.Contains(string(page.body), "<title>enginetest") ||
		!strings.Contains(page.header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("dashboard page: %s %q", page.header.Get("Content-Type"), page.body)
	}
	for path, ctype := range map[string]string{"/app.js": "javascript", "/style.css": "text/css"} {
		if r := request(t, srv, http.MethodGet, path); r.status != 200 || !strings.Contains(r.header.Get("Content-Type"), ctype) {
			t.Errorf("GET %s = %d %s", path, r.status, r.header.Get("Content-Type"))
		}
	}
	// Nothing in the dashboard is loaded from elsewhere: it works offline.
	for _, path := range []string{"/", "/app.js", "/style.css"} {
		body := string(request(t, srv, http.MethodGet, path).body)
		if strings.Contains(body, "http://") && !strings.Contains(body, "http://www.w3.org/2000/svg") || strings.Contains(body, "https://") || strings.Contains(body, "//cdn") {
			t.Errorf("%s refers to another site", path)
		}
	}
	if r := request(t, srv, http.MethodGet, "/missing.js"); r.status != 404 {
		t.Errorf("GET /missing.js = %d", r.status)
	}
}

// versioned is a Store whose version a test moves, standing for a
// simulation writing.
type versioned struct {
	engine.Store
	v atomic.Uint64
}

func (s *versioned) Version(context.Context) (uint64, error) { return s.v.Load(), nil }

// failing is a Store that cannot be read.
type failing struct{ engine.Store }

var errDisk = errors.New("reading /secret/state.db: input/output error")

func (failing) Counts(context.Context) (engine.Counts, error) { return engine.Counts{}, errDisk }
func (failing) Granules(context.Context, engine.GranuleQuery) (engine.GranulePage, error) {
	return engine.GranulePage{}, errDisk
}

func testEvents(t *testing.T, c *suite) {
	store := &versioned{Store: c.newStore(t)}
	h, err := engine.New(engine.Options{Store: store, PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/events", nil)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /api/events = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	events := bufio.NewScanner(res.Body)
	next := func() string {
		var ev, data string
		for events.Scan() {
			line := events.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				data = line[len("data: "):]
			case line == "" && ev != "":
				return ev + " " + data
			}
		}
		return fmt.Sprintf("end: %v, %v", events.Err(), ctx.Err())
	}
	if got := next(); got != `hello {"version":"0"}` {
		t.Fatalf("first event = %q", got)
	}
	store.v.Store(7)
	if got := next(); got != `change {"version":"7"}` {
		t.Fatalf("after a write: %q", got)
	}
	// Close ends the stream, so a server can shut down.
	h.Close()
	if got := next(); !strings.HasPrefix(got, "end") || ctx.Err() != nil {
		t.Errorf("after Close: %q", got)
	}
}

func testStoreFailures(t *testing.T, c *suite) {
	srv := Serve(t, engine.Options{Store: failing{c.newStore(t)}})
	var h engine.Health
	r := request(t, srv, http.MethodGet, "/api/health")
	if err := json.Unmarshal(r.body, &h); err != nil || r.status != 503 || h.Status != "unavailable" {
		t.Errorf("health of a broken store = %d %s", r.status, r.body)
	}
	r = request(t, srv, http.MethodGet, "/api/granules")
	if r.status != 500 || strings.Contains(string(r.body), "secret") {
		t.Errorf("granules of a broken store = %d %s (must not leak the error's text)", r.status, r.body)
	}
	if _, err := engine.New(engine.Options{}); err == nil {
		t.Error("New without a store succeeded")
	}
}

// testSameState reads the whole state back through the Store interface:
// it must be the fixtures' exactly (log paths included, which the API's
// JSON leaves out).
func testSameState(t *testing.T, c *suite) {
	got := &Fixtures{}
	if err := got.export(context.Background(), c.newStore(t)); err != nil {
		t.Fatal(err)
	}
	same := func(what string, a, b any) {
		t.Helper()
		ja, _ := json.MarshalIndent(a, "", " ")
		jb, _ := json.MarshalIndent(b, "", " ")
		if string(ja) != string(jb) {
			t.Errorf("%s differ:\n got %s\nwant %s", what, ja, jb)
		}
	}
	same("runs", got.Runs, c.fx.Runs)
	same("granules", got.Granules, c.fx.Granules)
	same("counts", got.Counts, c.fx.Counts)
	logPaths := func(rs []engine.Run) []string {
		var out []string
		for _, r := range rs {
			for _, s := range r.Steps {
				for _, a := range s.Attempts {
					out = append(out, a.LogPath)
				}
			}
		}
		return out
	}
	if a, b := logPaths(got.Runs), logPaths(c.fx.Runs); !slices.Equal(a, b) {
		t.Errorf("log paths = %v, want %v", a, b)
	}
}

// testPagingEveryFilter walks every listing, under every filter, one and
// two items a page, both ways for runs: the pages must join into the
// unpaged answer.
func testPagingEveryFilter(t *testing.T, c *suite) {
	srv := c.api(t)
	walk := func(path string, limit int, ids func([]byte) ([]string, string)) []string {
		var all []string
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		next := ""
		for range 20 {
			p := fmt.Sprintf("%s%slimit=%d", path, sep, limit)
			if next != "" {
				p += "&cursor=" + url.QueryEscape(next)
			}
			r := request(t, srv, http.MethodGet, p)
			if r.status != 200 {
				t.Fatalf("GET %s = %d %s", p, r.status, r.body)
			}
			var page []string
			page, next = ids(r.body)
			if len(page) > limit {
				t.Fatalf("GET %s: %d items", p, len(page))
			}
			all = append(all, page...)
			if next == "" {
				return all
			}
		}
		t.Fatalf("%s: more than 20 pages", path)
		return nil
	}
	granules := func(b []byte) ([]string, string) {
		var l engine.GranuleList
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatal(err)
		}
		return granuleIDs(l.Granules), l.Next
	}
	runs := func(b []byte) ([]string, string) {
		var l engine.RunList
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatal(err)
		}
		return runIDs(l.Runs), l.Next
	}
	for _, q := range []string{"", "status=completed", "status=failed", "collection=hamsr",
		"collection=hamsr&status=completed", "prefix=HS3_HAMSR_2013082", "prefix=HS3_HAMSR_20130826",
		"prefix=HS3_HAMSR_2013082&status=completed&collection=hamsr", "prefix=Z"} {
		full := walk("/api/granules?"+q, engine.MaxLimit, granules)
		for _, n := range []int{1, 2} {
			if got := walk("/api/granules?"+q, n, granules); !slices.Equal(got, full) {
				t.Errorf("granules?%s by %d = %v, want %v", q, n, got, full)
			}
		}
	}
	for _, q := range []string{"", "status=succeeded", "status=failed", "pipeline=ingest",
		"pipeline=ingest&status=succeeded", "since=-1h", "until=2000-01-01"} {
		for _, order := range []string{"newest", "oldest"} {
			path := "/api/runs?order=" + order
			if q != "" {
				path += "&" + q
			}
			full := walk(path, engine.MaxLimit, runs)
			for _, n := range []int{1, 2} {
				if got := walk(path, n, runs); !slices.Equal(got, full) {
					t.Errorf("%s by %d = %v, want %v", path, n, got, full)
				}
			}
		}
	}
}
