package cwlogs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/runtime/deploy/awsfake"
	"github.com/cumulus-toolchain/cumulus/runtime/engine"
	"github.com/cumulus-toolchain/cumulus/runtime/engine/cwlogs"
)

const group = "/cumulus/hs3-dev/tasks/preprocess"

// testGraph has one pipeline whose step "preprocess" runs the ECS task
// "preprocess", logging where the compiler says.
func testGraph() *graph.Graph {
	return &graph.Graph{
		Prefix: "hs3-dev",
		Tasks:  []*graph.Task{{Name: "preprocess", RunsOn: "ecs", LogGroup: group}},
		Pipelines: []*graph.Pipeline{{Name: "ingest", Steps: []*graph.Step{
			{Name: "preprocess", TaskName: "preprocess"}, {Name: "archive", TaskName: "stdlib-move_granule"},
		}}},
	}
}

func client(fake *awsfake.Server) *cloudwatchlogs.Client {
	return cloudwatchlogs.NewFromConfig(aws.Config{Region: "us-west-2",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", ""), BaseEndpoint: aws.String(fake.URL)})
}

var t0 = time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)

func at(d time.Duration) int64 { return t0.Add(d).UnixMilli() }

// seed writes the log of the ECS task abc123 (the awslogs stream
// preprocess/main/abc123) and one of another task.
func seed(fake *awsfake.Server, lines int) {
	var evs []awsfake.LogEvent
	for i := 1; i <= lines; i++ {
		msg := fmt.Sprintf("line %d", i)
		if i%10 == 0 {
			msg = fmt.Sprintf("line %d: ERROR reading granule", i)
		}
		if i == 15 {
			msg = "line 15: error, lower case"
		}
		evs = append(evs, awsfake.LogEvent{Timestamp: at(time.Duration(i) * time.Second), Message: msg})
	}
	fake.PutLogEvents(group, "preprocess/main/abc123", evs...)
	fake.PutLogEvents(group, "preprocess/main/other", awsfake.LogEvent{Timestamp: at(time.Second), Message: "ERROR of another attempt"})
}

// Open reads a whole stream page by page, from every form of location.
func TestOpen(t *testing.T) {
	fake := awsfake.New(t, "123456789012", "us-west-2")
	seed(fake, 25)
	src := cwlogs.New(client(fake), testGraph(), cwlogs.Options{PageSize: 4})
	ctx := context.Background()
	for _, path := range []string{
		"arn:aws:ecs:us-west-2:123456789012:task/hs3-dev/abc123",
		"arn:aws:logs:us-west-2:123456789012:log-group:" + group + ":log-stream:preprocess/main/abc123",
		group + ":preprocess/main/abc123",
	} {
		rc, err := src.Open(ctx, engine.LogRef{Pipeline: "ingest", Step: "preprocess", Attempt: 1, Path: path})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(lines) != 25 || lines[0] != "line 1" || lines[24] != "line 25" {
			t.Errorf("%s: read %d lines: %q", path, len(lines), lines)
		}
	}
	pages := 0
	for _, c := range fake.Calls() {
		if c == "logs:GetLogEvents" {
			pages++
		}
	}
	// 25 events, 4 a page: 7 pages and the empty one that ends each
	// stream, three times.
	if pages != 3*8 {
		t.Errorf("%d GetLogEvents calls, want %d", pages, 3*8)
	}
	for _, tc := range []struct {
		ref  engine.LogRef
		want error
	}{
		{engine.LogRef{Pipeline: "ingest", Step: "preprocess"}, engine.ErrNotFound},
		{engine.LogRef{Pipeline: "ingest", Step: "preprocess", Path: group + ":preprocess/main/nothing"}, engine.ErrNotFound},
		{engine.LogRef{Pipeline: "ingest", Step: "archive", Path: "arn:aws:ecs:us-west-2:123456789012:task/hs3-dev/abc123"}, engine.ErrNotFound},
		{engine.LogRef{Pipeline: "ingest", Step: "preprocess", Path: "arn:aws:s3:::bucket/key"}, engine.ErrInvalid},
	} {
		if _, err := src.Open(ctx, tc.ref); !errors.Is(err, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.ref, err, tc.want)
		}
	}
}

// SearchLog asks CloudWatch Logs to filter, within the attempt's time and
// stream, following nextToken, up to the limit.
func TestSearchLog(t *testing.T) {
	fake := awsfake.New(t, "123456789012", "us-west-2")
	seed(fake, 95)
	src := cwlogs.New(client(fake), testGraph(), cwlogs.Options{PageSize: 2})
	ctx := context.Background()
	ref := engine.LogRef{Pipeline: "ingest", Step: "preprocess", Attempt: 1, Path: "arn:aws:ecs:us-west-2:123456789012:task/hs3-dev/abc123"}
	m, err := src.SearchLog(ctx, ref, engine.LogQuery{Text: "Error", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range m.Lines {
		got = append(got, l.Text)
	}
	// Lines 10..90 (upper case) and 15 (lower case); not the other
	// stream's.
	if len(got) != 10 || got[0] != "line 10: ERROR reading granule" || got[1] != "line 15: error, lower case" || m.Truncated {
		t.Errorf("matches %q (truncated %v)", got, m.Truncated)
	}
	filters := 0
	for _, c := range fake.Calls() {
		if c == "logs:FilterLogEvents" {
			filters++
		}
	}
	if filters != 5 {
		t.Errorf("%d FilterLogEvents calls, want 5 (10 matches, 2 a page)", filters)
	}
	// Time-bounded: seconds 20 to 50 hold lines 20, 30, 40.
	m, err = src.SearchLog(ctx, ref, engine.LogQuery{Text: "error", Start: t0.Add(20 * time.Second), End: t0.Add(50 * time.Second), Limit: 100})
	if err != nil || len(m.Lines) != 3 || !strings.HasPrefix(m.Lines[2].Text, "line 40") {
		t.Errorf("bounded search: %v %+v", err, m.Lines)
	}
	// The limit.
	m, err = src.SearchLog(ctx, ref, engine.LogQuery{Text: "ERROR", Limit: 4})
	if err != nil || len(m.Lines) != 4 || !m.Truncated {
		t.Errorf("limited search: %v %d %v", err, len(m.Lines), m.Truncated)
	}
	if _, err := src.SearchLog(ctx, engine.LogRef{Pipeline: "ingest", Step: "preprocess", Path: group + ":nothing"}, engine.LogQuery{Text: "x"}); err != nil {
		// FilterLogEvents on a stream that does not exist finds nothing.
		t.Errorf("search of a missing stream: %v", err)
	}
}

func TestFilterPattern(t *testing.T) {
	for in, want := range map[string]string{
		"error":      `?"error" ?"ERROR" ?"Error"`,
		"42":         `"42"`,
		`say "hi"\o`: `?"say \"hi\"\\o" ?"SAY \"HI\"\\O" ?"Say \"hi\"\\o"`,
	} {
		if got := cwlogs.FilterPattern(in); got != want {
			t.Errorf("FilterPattern(%q) = %s, want %s", in, got, want)
		}
	}
}

// store is an engine.Store with one run, for /api/logs.
type store struct{ run engine.Run }

func (s store) Runs(context.Context, engine.RunQuery) (engine.RunPage, error) {
	return engine.RunPage{Runs: []engine.Run{s.run}}, nil
}

func (s store) Run(_ context.Context, id string) (engine.Run, error) {
	if id != s.run.ID {
		return engine.Run{}, engine.ErrNotFound
	}
	return s.run, nil
}

func (s store) Granules(context.Context, engine.GranuleQuery) (engine.GranulePage, error) {
	return engine.GranulePage{}, nil
}

func (s store) Granule(context.Context, string) (engine.Granule, error) {
	return engine.Granule{}, engine.ErrNotFound
}

func (s store) Counts(context.Context) (engine.Counts, error) { return engine.Counts{}, nil }

// /api/logs?q= searches through CloudWatch Logs, bounded by the attempt's
// span; without q it reads the stream.
func TestAPILogs(t *testing.T) {
	fake := awsfake.New(t, "123456789012", "us-west-2")
	seed(fake, 95)
	run := engine.Run{ID: "r1", Pipeline: "ingest", GranuleID: "g1", Status: engine.RunSucceeded, Created: t0,
		Steps: []engine.Step{{Name: "preprocess", Status: "succeeded", Attempts: []engine.Attempt{{
			Number: 1, Status: "succeeded", Started: t0.Add(3 * time.Minute), Ended: t0.Add(4 * time.Minute),
			LogPath: "arn:aws:ecs:us-west-2:123456789012:task/hs3-dev/abc123"}}}}}
	srv, err := engine.New(engine.Options{Store: store{run}, Logs: cwlogs.New(client(fake), testGraph(), cwlogs.Options{}), Graph: testGraph()})
	if err != nil {
		t.Fatal(err)
	}
	get := func(url string) engine.LogAnswer {
		t.Helper()
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", url, rec.Code, rec.Body)
		}
		var a engine.LogAnswer
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	// The attempt ran from minute 3 to 4: with a minute's slack either
	// side, the search covers minutes 2 to 5, and the log's events are all
	// in its first 95 seconds, so nothing matches.
	a := get("/api/logs?run=r1&step=preprocess&q=error")
	if len(a.Logs) != 1 || a.Logs[0].Matches != 0 {
		t.Errorf("bounded search: %+v", a.Logs)
	}
	run.Steps[0].Attempts[0].Started, run.Steps[0].Attempts[0].Ended = t0, t0.Add(time.Minute)
	srv, _ = engine.New(engine.Options{Store: store{run}, Logs: cwlogs.New(client(fake), testGraph(), cwlogs.Options{}), Graph: testGraph()})
	a = get("/api/logs?run=r1&step=preprocess&q=error")
	if len(a.Logs) != 1 || a.Logs[0].Matches != 10 || a.Logs[0].Lines[1].Text != "line 15: error, lower case" {
		t.Errorf("search: %+v", a.Logs)
	}
	a = get("/api/logs?run=r1&step=preprocess")
	if len(a.Logs) != 1 || a.Logs[0].Matches != 95 || a.Logs[0].Lines[94].N != 95 {
		t.Errorf("whole log: %d lines", a.Logs[0].Matches)
	}
}

// BenchmarkSearchLog measures a search of a 10,000-line attempt log with
// ten matches through the fake CloudWatch Logs, against reading the whole
// log as a LogSource without search would: the round trips and bytes the
// server-side filter saves.
func BenchmarkSearchLog(b *testing.B) {
	fake := awsfake.New(b, "123456789012", "us-west-2")
	evs := make([]awsfake.LogEvent, 10000)
	for i := range evs {
		evs[i] = awsfake.LogEvent{Timestamp: at(time.Duration(i) * time.Millisecond), Message: fmt.Sprintf("line %d of the step's output", i)}
		if i%1000 == 0 {
			evs[i].Message += " ERROR"
		}
	}
	fake.PutLogEvents(group, "preprocess/main/abc123", evs...)
	src := cwlogs.New(client(fake), testGraph(), cwlogs.Options{PageSize: 1000})
	ref := engine.LogRef{Pipeline: "ingest", Step: "preprocess", Attempt: 1, Path: group + ":preprocess/main/abc123"}
	ctx := context.Background()
	b.Run("search", func(b *testing.B) {
		for b.Loop() {
			m, err := src.SearchLog(ctx, ref, engine.LogQuery{Text: "error", Limit: 100})
			if err != nil || len(m.Lines) != 10 {
				b.Fatal(err, len(m.Lines))
			}
		}
	})
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			rc, err := src.Open(ctx, ref)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, rc)
			rc.Close()
			b.SetBytes(n)
		}
	})
}
