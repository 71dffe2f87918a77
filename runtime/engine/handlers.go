package engine

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

var (
	runStatuses     = []string{RunQueued, RunRunning, RunSucceeded, RunFailed, RunCancelled}
	granuleStatuses = []string{GranuleQueued, GranuleRunning, GranuleCompleted, GranuleFailed}
)

// Health is /api/health's answer.
type Health struct {
	// Status is "ok", or "unavailable" (503) when the store cannot be read.
	Status   string         `json:"status"`
	Time     time.Time      `json:"time"`
	UptimeS  int64          `json:"uptime_s"`
	Error    string         `json:"error,omitempty"`
	Runs     map[string]int `json:"runs"`
	Granules map[string]int `json:"granules"`
	// Pipelines counts the pipelines of the graph (0 without one).
	Pipelines int `json:"pipelines"`
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	if _, err := newParams(r); err != nil {
		s.failErr(w, r, err)
		return
	}
	now := s.opts.Now()
	h := Health{Status: "ok", Time: now.UTC(), UptimeS: int64(now.Sub(s.start) / time.Second),
		Runs: map[string]int{}, Granules: map[string]int{}}
	if s.opts.Graph != nil {
		h.Pipelines = len(s.opts.Graph.Pipelines)
	}
	c, err := s.opts.Store.Counts(r.Context())
	if err != nil {
		s.log.Error("engine health: the store cannot be read", "err", err)
		h.Status, h.Error = "unavailable", "the engine's state cannot be read"
		body, _ := json.Marshal(h)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusServiceUnavailable)
		if r.Method != http.MethodHead {
			_, _ = w.Write(append(body, '\n'))
		}
		return
	}
	for _, st := range runStatuses {
		h.Runs[st] = 0
	}
	for _, st := range granuleStatuses {
		h.Granules[st] = 0
	}
	for _, m := range c.Runs {
		for st, n := range m {
			h.Runs[st] += n
		}
	}
	for _, m := range c.Granules {
		for st, n := range m {
			h.Granules[st] += n
		}
	}
	s.reply(w, r, h)
}

// PipelineInfo is a pipeline with its graph and its runs' counts.
type PipelineInfo struct {
	Name        string `json:"name"`
	Concurrency int    `json:"concurrency"`
	// InGraph is false for a pipeline the store has runs of but the
	// graph does not have (removed from the configuration since).
	InGraph bool           `json:"in_graph"`
	Steps   []StepInfo     `json:"steps"`
	Sources []SourceInfo   `json:"sources"`
	Runs    map[string]int `json:"runs"`
}

// StepInfo is one node of a pipeline's graph.
type StepInfo struct {
	Name  string   `json:"name"`
	After []string `json:"after"`
	// Level is the step's depth: 0 for steps after nothing, else one more
	// than the deepest step it waits for (a layout's column).
	Level int `json:"level"`
	// Runs is what the step runs: "stdlib.sync_granule" or "task.NAME".
	Runs       string `json:"runs"`
	RunsOn     string `json:"runs_on,omitempty"`
	Retries    int    `json:"retries"`
	RetryDelay string `json:"retry_delay,omitempty"`
	Timeout    string `json:"timeout,omitempty"`
	// Conditional is true when a `when` decides per granule whether the
	// step runs.
	Conditional bool `json:"conditional"`
}

// SourceInfo is a source feeding a pipeline.
type SourceInfo struct {
	Name       string `json:"name"`
	Collection string `json:"collection"`
	Every      string `json:"every"`
}

func durText(d graph.Duration) string {
	if d == 0 {
		return ""
	}
	b, _ := d.MarshalJSON()
	var s string
	_ = json.Unmarshal(b, &s)
	return s
}

func (s *Server) pipelineInfos(r *http.Request) ([]PipelineInfo, error) {
	c, err := s.opts.Store.Counts(r.Context())
	if err != nil {
		return nil, err
	}
	var out []PipelineInfo
	seen := map[string]bool{}
	if g := s.opts.Graph; g != nil {
		for _, p := range g.Pipelines {
			seen[p.Name] = true
			info := PipelineInfo{Name: p.Name, Concurrency: p.Concurrency, InGraph: true,
				Steps: []StepInfo{}, Sources: []SourceInfo{}, Runs: countsOf(c.Runs[p.Name], runStatuses)}
			level := map[string]int{}
			for _, st := range p.Steps { // in an order that respects every edge
				l := 0
				for _, a := range st.After {
					l = max(l, level[a]+1)
				}
				level[st.Name] = l
				si := StepInfo{Name: st.Name, After: append([]string{}, st.After...), Level: l, Retries: st.Retries,
					RetryDelay: durText(st.RetryDelay), Timeout: durText(st.Timeout), Conditional: st.When != nil}
				switch {
				case st.Uses != "":
					si.Runs = "stdlib." + st.Uses
				case st.Task != nil:
					si.Runs, si.RunsOn = "task."+st.Task.Name, st.Task.RunsOn
				default:
					si.Runs = "task." + st.TaskName
				}
				info.Steps = append(info.Steps, si)
			}
			for _, src := range g.Sources {
				if src.Pipeline == p.Name {
					info.Sources = append(info.Sources, SourceInfo{Name: src.Name, Collection: src.Collection, Every: durText(src.Every)})
				}
			}
			out = append(out, info)
		}
	}
	var extra []string
	for name := range c.Runs {
		if !seen[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		out = append(out, PipelineInfo{Name: name, Steps: []StepInfo{}, Sources: []SourceInfo{}, Runs: countsOf(c.Runs[name], runStatuses)})
	}
	return out, nil
}

func countsOf(m map[string]int, keys []string) map[string]int {
	out := make(map[string]int, len(keys))
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}

func (s *Server) pipelines(w http.ResponseWriter, r *http.Request) {
	if _, err := newParams(r); err != nil {
		s.failErr(w, r, err)
		return
	}
	ps, err := s.pipelineInfos(r)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.reply(w, r, map[string]any{"pipelines": ps})
}

func (s *Server) pipeline(w http.ResponseWriter, r *http.Request) {
	if _, err := newParams(r); err != nil {
		s.failErr(w, r, err)
		return
	}
	ps, err := s.pipelineInfos(r)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	name := r.PathValue("name")
	for _, p := range ps {
		if p.Name == name {
			s.reply(w, r, p)
			return
		}
	}
	s.fail(w, r, http.StatusNotFound, fmt.Sprintf("no pipeline %q", name))
}

// decorate fills what the API derives: durations (to now while running)
// and each attempt's log link.
func (s *Server) decorate(run *Run) {
	now := s.opts.Now()
	span := func(a, b time.Time) int64 {
		if a.IsZero() {
			return 0
		}
		if b.IsZero() {
			b = now
		}
		return max(b.Sub(a).Milliseconds(), 0)
	}
	run.DurationMS = span(run.Started, run.Ended)
	if run.Steps == nil {
		run.Steps = []Step{}
	}
	for i := range run.Steps {
		st := &run.Steps[i]
		st.DurationMS = span(st.Started, st.Ended)
		if st.Attempts == nil {
			st.Attempts = []Attempt{}
		}
		for j := range st.Attempts {
			a := &st.Attempts[j]
			end := a.Ended
			if end.IsZero() && a.Status != RunRunning {
				end = a.Started
			}
			a.DurationMS = span(a.Started, end)
			a.Log = "/api/logs?" + url.Values{"run": {run.ID}, "step": {st.Name}, "attempt": {strconv.Itoa(a.Number)}}.Encode()
		}
	}
}

// RunList is /api/runs's answer.
type RunList struct {
	Runs []Run `json:"runs"`
	// Next is the cursor of the next page ("" on the last): pass it as
	// cursor= with the same filters.
	Next string `json:"next"`
}

func (s *Server) runs(w http.ResponseWriter, r *http.Request) {
	p, err := newParams(r, "pipeline", "status", "since", "until", "order", "limit", "cursor")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	q, err := runQuery(p, s.opts.Now())
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	page, err := s.opts.Store.Runs(r.Context(), q)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	out := RunList{Runs: page.Runs, Next: encodeCursor("runs", runFilter(p), page.Next)}
	if out.Runs == nil {
		out.Runs = []Run{}
	}
	for i := range out.Runs {
		s.decorate(&out.Runs[i])
		out.Runs[i].Input = nil
		for j := range out.Runs[i].Steps {
			out.Runs[i].Steps[j].Outputs = nil // a listing stays small; /api/runs/{id} has them
		}
	}
	s.reply(w, r, out)
}

// runFilter fingerprints the filters as written, so "-1h" keeps meaning
// the same query from page to page (the cursor, not the clock, moves).
func runFilter(p params) string {
	return filterHash(p.str("pipeline"), p.str("status"), p.str("since"), p.str("until"), p.str("order"))
}

func runQuery(p params, now time.Time) (RunQuery, error) {
	var q RunQuery
	var err error
	q.Pipeline = p.str("pipeline")
	if q.Status, err = p.oneOf("status", runStatuses...); err != nil {
		return q, err
	}
	order, err := p.oneOf("order", "newest", "oldest")
	if err != nil {
		return q, err
	}
	q.OldestFirst = order == "oldest"
	if q.Since, err = p.time("since", now); err != nil {
		return q, err
	}
	if q.Until, err = p.time("until", now); err != nil {
		return q, err
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return q, badf("since (%s) is not before until (%s)", q.Since.Format(time.RFC3339), q.Until.Format(time.RFC3339))
	}
	if q.Limit, err = p.limit(); err != nil {
		return q, err
	}
	q.Cursor, err = decodeCursor(p.str("cursor"), "runs", runFilter(p))
	return q, err
}

func (s *Server) run(w http.ResponseWriter, r *http.Request) {
	if _, err := newParams(r); err != nil {
		s.failErr(w, r, err)
		return
	}
	run, err := s.opts.Store.Run(r.Context(), r.PathValue("id"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.decorate(&run)
	s.reply(w, r, run)
}

// GranuleList is /api/granules's answer.
type GranuleList struct {
	Granules []Granule `json:"granules"`
	Next     string    `json:"next"`
}

func granuleFilter(p params) string {
	return filterHash(p.str("status"), p.str("collection"), p.str("prefix"))
}

func (s *Server) granules(w http.ResponseWriter, r *http.Request) {
	p, err := newParams(r, "status", "collection", "prefix", "limit", "cursor")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	var q GranuleQuery
	if q.Status, err = p.oneOf("status", granuleStatuses...); err != nil {
		s.failErr(w, r, err)
		return
	}
	q.Collection, q.IDPrefix = p.str("collection"), p.str("prefix")
	if q.Limit, err = p.limit(); err != nil {
		s.failErr(w, r, err)
		return
	}
	if q.Cursor, err = decodeCursor(p.str("cursor"), "granules", granuleFilter(p)); err != nil {
		s.failErr(w, r, err)
		return
	}
	page, err := s.opts.Store.Granules(r.Context(), q)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	out := GranuleList{Granules: page.Granules, Next: encodeCursor("granules", granuleFilter(p), page.Next)}
	if out.Granules == nil {
		out.Granules = []Granule{}
	}
	for i := range out.Granules {
		out.Granules[i].Document = nil
		if out.Granules[i].Runs == nil {
			out.Granules[i].Runs = []RunRef{}
		}
	}
	s.reply(w, r, out)
}

// GranuleDetail is /api/granules/{id}'s answer: the granule with its files
// (checksums, archive locations), its metadata and its latest run.
type GranuleDetail struct {
	Granule
	Files []File `json:"files"`
	// Metadata is the metadata record the latest run produced (the
	// cmr_metadata step's UMM-G), when it produced one.
	Metadata  any  `json:"metadata,omitempty"`
	LatestRun *Run `json:"latest_run,omitempty"`
}

func (s *Server) granule(w http.ResponseWriter, r *http.Request) {
	if _, err := newParams(r); err != nil {
		s.failErr(w, r, err)
		return
	}
	g, err := s.opts.Store.Granule(r.Context(), r.PathValue("id"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	d := GranuleDetail{Granule: g, Files: []File{}}
	if g.Document != nil {
		d.Files = g.Document.Files
	}
	if d.Runs == nil {
		d.Runs = []RunRef{}
	}
	if n := len(g.Runs); n > 0 {
		run, err := s.opts.Store.Run(r.Context(), g.Runs[n-1].ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			s.failErr(w, r, err)
			return
		}
		if err == nil {
			s.decorate(&run)
			run.Input = nil
			for _, st := range run.Steps {
				if m, ok := st.Outputs["metadata"]; ok {
					d.Metadata = metadataValue(m)
				}
			}
			d.LatestRun = &run
		}
	}
	s.reply(w, r, d)
}

// metadataValue returns a metadata output as JSON when it is JSON text (the
// form cmr_metadata gives it), so clients need not parse twice.
func metadataValue(v any) any {
	if s, ok := v.(string); ok {
		var parsed any
		if json.Unmarshal([]byte(s), &parsed) == nil {
			return parsed
		}
	}
	return v
}

// Logs: how much of one attempt's log the API reads.
const maxLogBytes = 1 << 20

// LogAnswer is /api/logs's answer.
type LogAnswer struct {
	Run       string `json:"run"`
	Pipeline  string `json:"pipeline"`
	GranuleID string `json:"granule_id"`
	// Query is the text searched for ("" lists every line).
	Query string    `json:"query,omitempty"`
	Logs  []StepLog `json:"logs"`
}

// StepLog is one attempt's log, or the lines of it that match the query.
type StepLog struct {
	Step    string    `json:"step"`
	Attempt int       `json:"attempt"`
	Status  string    `json:"status"`
	Lines   []LogLine `json:"lines"`
	// Matches counts the lines that matched (all lines without a query).
	Matches int `json:"matches"`
	// Missing is true when the attempt left no log; Truncated when only
	// its first MiB was read.
	Missing   bool `json:"missing,omitempty"`
	Truncated bool `json:"truncated,omitempty"`
}

// LogLine is a line of a log and its number (from 1).
type LogLine struct {
	N    int    `json:"n"`
	Text string `json:"text"`
}

func (s *Server) logs(w http.ResponseWriter, r *http.Request) {
	p, err := newParams(r, "run", "step", "attempt", "q")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	runID := p.str("run")
	if runID == "" {
		s.fail(w, r, http.StatusBadRequest, "run is required: /api/logs?run=RUN_ID[&step=STEP][&attempt=N][&q=TEXT]")
		return
	}
	attempt, err := p.positive("attempt")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	step := p.str("step")
	if attempt > 0 && step == "" {
		s.fail(w, r, http.StatusBadRequest, "attempt needs step")
		return
	}
	if s.opts.Logs == nil {
		s.fail(w, r, http.StatusNotFound, "this server has no step logs")
		return
	}
	run, err := s.opts.Store.Run(r.Context(), runID)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if step != "" && !hasStep(run, step) {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("run %s has no step %q", run.ID, step))
		return
	}
	query := p.str("q")
	out := LogAnswer{Run: run.ID, Pipeline: run.Pipeline, GranuleID: run.GranuleID, Query: query, Logs: []StepLog{}}
	found := false
	for _, st := range run.Steps {
		if step != "" && st.Name != step {
			continue
		}
		for _, a := range st.Attempts {
			if attempt > 0 && a.Number != attempt {
				continue
			}
			found = true
			l, err := s.readLog(r, run, st.Name, a, query)
			if err != nil {
				s.failErr(w, r, err)
				return
			}
			out.Logs = append(out.Logs, l)
		}
	}
	if attempt > 0 && !found {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("step %q of run %s has no attempt %d", step, run.ID, attempt))
		return
	}
	s.reply(w, r, out)
}

func hasStep(run Run, name string) bool {
	for _, st := range run.Steps {
		if st.Name == name {
			return true
		}
	}
	return false
}

// Server-side search: how many matching lines an answer holds at most, and
// the slack around an attempt's span for the clocks of whoever wrote the
// log.
const (
	maxSearchLines = 10000
	logClockSlack  = time.Minute
)

func (s *Server) readLog(r *http.Request, run Run, step string, a Attempt, query string) (StepLog, error) {
	out := StepLog{Step: step, Attempt: a.Number, Status: a.Status, Lines: []LogLine{}}
	ref := LogRef{Run: run.ID, Pipeline: run.Pipeline, Granule: run.GranuleID, Step: step, Attempt: a.Number, Path: a.LogPath}
	if searcher, ok := s.opts.Logs.(LogSearcher); ok && query != "" {
		q := LogQuery{Text: query, Limit: maxSearchLines}
		if !a.Started.IsZero() {
			q.Start = a.Started.Add(-logClockSlack)
		}
		if !a.Ended.IsZero() {
			q.End = a.Ended.Add(logClockSlack)
		}
		m, err := searcher.SearchLog(r.Context(), ref, q)
		if errors.Is(err, ErrNotFound) {
			out.Missing = true
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out.Lines = append(out.Lines, m.Lines...)
		out.Matches, out.Truncated = len(out.Lines), m.Truncated
		return out, nil
	}
	rc, err := s.opts.Logs.Open(r.Context(), ref)
	if errors.Is(err, ErrNotFound) {
		out.Missing = true
		return out, nil
	}
	if err != nil {
		return out, err
	}
	defer rc.Close()
	sc := bufio.NewScanner(io.LimitReader(rc, maxLogBytes+1))
	sc.Buffer(make([]byte, 64<<10), maxLogBytes+1)
	needle := strings.ToLower(query)
	read := 0
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		read += len(line) + 1
		if read > maxLogBytes {
			out.Truncated = true
			break
		}
		if needle == "" || strings.Contains(strings.ToLower(line), needle) {
			out.Lines = append(out.Lines, LogLine{N: n, Text: line})
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			out.Truncated = true
		} else {
			return out, fmt.Errorf("reading the log of attempt %d of step %q of run %s: %w", a.Number, step, run.ID, err)
		}
	}
	out.Matches = len(out.Lines)
	return out, nil
}
