package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

//go:embed web
var webFS embed.FS

// Options configure New.
type Options struct {
	// Store is the engine's state; required.
	Store Store
	// Logs reads step logs; nil means the API has none (/api/logs answers
	// 404).
	Logs LogSource
	// Graph is the compiled configuration: the pipelines and their steps.
	// Nil shows the pipelines the store knows, without their graphs.
	Graph *graph.Graph
	// Links are other services of the deployment the dashboard links to
	// from its navigation bar (the CMR stand-in's search in a simulation,
	// say); only http and https URLs are shown.
	Links []Link
	// Title names what is served in the dashboard (a configuration's
	// prefix or folder); "" means "cumulus".
	Title string
	// Logger receives a line per failed request (and per request at debug
	// level); nil discards.
	Logger *slog.Logger
	// Now tells the time (durations of running steps, "-1h" filters); nil
	// means time.Now.
	Now func() time.Time
	// PollInterval is how often the live event stream looks for changes;
	// 0 means one second.
	PollInterval time.Duration
	// ThroughputLookback is how long before a throughput window a run may
	// have been created and still count in it (by when it ended); 0 means
	// 24 hours.
	ThroughputLookback time.Duration
}

// Server is the API and dashboard handler.
type Server struct {
	opts  Options
	log   *slog.Logger
	mux   *http.ServeMux
	start time.Time

	static map[string]staticFile

	// done ends the live event streams, which would otherwise hold an
	// http.Server's Shutdown until their clients leave.
	done      chan struct{}
	closeOnce sync.Once

	// cache holds the last throughput computed, for the store version it
	// was computed at: dashboards poll the same window again and again.
	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	version uint64
	value   any
}

type staticFile struct {
	body  []byte
	etag  string
	ctype string
}

// New returns the API and dashboard handler: /api/* answers JSON, / the
// dashboard. Close it before shutting down the http.Server it runs in.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("engine: Options.Store is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.ThroughputLookback <= 0 {
		opts.ThroughputLookback = 24 * time.Hour
	}
	if opts.Title == "" {
		opts.Title = "cumulus"
	}
	s := &Server{opts: opts, log: opts.Logger, mux: http.NewServeMux(), start: opts.Now(),
		done: make(chan struct{}), cache: map[string]cached{}}
	if err := s.loadStatic(); err != nil {
		return nil, err
	}
	s.mux.HandleFunc("/api/health", s.health)
	s.mux.HandleFunc("/api/pipelines", s.pipelines)
	s.mux.HandleFunc("/api/pipelines/{name}", s.pipeline)
	s.mux.HandleFunc("/api/runs", s.runs)
	s.mux.HandleFunc("/api/runs/{id}", s.run)
	s.mux.HandleFunc("/api/granules", s.granules)
	s.mux.HandleFunc("/api/granules/{id}", s.granule)
	s.mux.HandleFunc("/api/logs", s.logs)
	s.mux.HandleFunc("/api/stats", s.stats)
	s.mux.HandleFunc("/api/events", s.events)
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "no API endpoint "+r.URL.Path+"; see /api/health, /api/pipelines, /api/runs, /api/granules, /api/logs, /api/stats, /api/events")
	})
	s.mux.HandleFunc("/", s.serveStatic)
	return s, nil
}

// Close ends the live event streams. The handler keeps answering other
// requests.
func (s *Server) Close() { s.closeOnce.Do(func() { close(s.done) }) }

// ServeHTTP refuses every method but GET and HEAD: the API is passive.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		rec.Header().Set("Allow", "GET, HEAD")
		s.fail(rec, r, http.StatusMethodNotAllowed, "the engine API is read-only: "+r.Method+" is not allowed, only GET and HEAD")
	} else {
		h := rec.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		// The dashboard loads nothing from elsewhere: it must work offline.
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		s.mux.ServeHTTP(rec, r)
	}
	s.log.Debug("engine request", "method", r.Method, "path", r.URL.Path, "query", r.URL.RawQuery,
		"status", rec.status, "duration", time.Since(start))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Flush lets the event stream through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// apiError is the body of every error answer.
type apiError struct {
	Error struct {
		Status  int    `json:"status"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	var e apiError
	e.Error.Status = status
	e.Error.Code = strings.ReplaceAll(strings.ToLower(http.StatusText(status)), " ", "_")
	e.Error.Message = msg
	body, _ := json.Marshal(e)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(append(body, '\n'))
	}
}

// failErr answers with the status an error calls for. Store failures are
// logged in full and answered without their text, which can name the
// server's files.
func (s *Server) failErr(w http.ResponseWriter, r *http.Request, err error) {
	var bad *badRequest
	switch {
	case errors.As(err, &bad):
		s.fail(w, r, http.StatusBadRequest, bad.msg)
	case errors.Is(err, ErrInvalid):
		s.fail(w, r, http.StatusBadRequest, err.Error())
	case errors.Is(err, ErrNotFound):
		s.fail(w, r, http.StatusNotFound, err.Error())
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		s.fail(w, r, http.StatusServiceUnavailable, "the request was cancelled")
	default:
		s.log.Error("engine API request failed", "path", r.URL.Path, "query", r.URL.RawQuery, "err", err)
		s.fail(w, r, http.StatusInternalServerError, "internal error reading the engine's state; the server's log has the details")
	}
}

// reply writes v as JSON with a strong ETag over the body, and answers 304
// when the client already has it.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		s.failErr(w, r, fmt.Errorf("encoding the answer: %w", err))
		return
	}
	body = append(body, '\n')
	sum := sha256.Sum256(body)
	s.send(w, r, body, `"`+hex.EncodeToString(sum[:16])+`"`, "application/json; charset=utf-8")
}

func (s *Server) send(w http.ResponseWriter, r *http.Request, body []byte, etag, ctype string) {
	h := w.Header()
	h.Set("ETag", etag)
	// Always revalidate: the state changes while a simulation runs.
	h.Set("Cache-Control", "no-cache")
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// etagMatch implements If-None-Match's weak comparison (RFC 9110 §13.1.2).
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

func (s *Server) loadStatic() error {
	s.static = map[string]staticFile{}
	return fs.WalkDir(webFS, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := webFS.ReadFile(p)
		if err != nil {
			return fmt.Errorf("engine: reading the embedded dashboard: %w", err)
		}
		if path.Base(p) == "index.html" {
			body = bytes.ReplaceAll(body, []byte("{{TITLE}}"), []byte(htmlEscape(s.opts.Title)))
			body = bytes.ReplaceAll(body, []byte("{{LINKS}}"), []byte(linksHTML(s.opts.Links)))
		}
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		sum := sha256.Sum256(body)
		s.static[strings.TrimPrefix(p, "web")] = staticFile{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, ctype: ctype}
		return nil
	})
}

func htmlEscape(v string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace(v)
}

func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "/" {
		p = "/index.html"
	}
	f, ok := s.static[p]
	if !ok {
		s.fail(w, r, http.StatusNotFound, "no page "+r.URL.Path+"; the dashboard is at /")
		return
	}
	s.send(w, r, f.body, f.etag, f.ctype)
}

// Link is a link of the dashboard's navigation bar to another service.
type Link struct {
	Name, URL string
}

// linksHTML renders links for the navigation bar, each opening in a new
// tab; a URL that is not http or https is left out.
func linksHTML(links []Link) string {
	var b strings.Builder
	for _, l := range links {
		u, err := url.Parse(l.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || l.Name == "" {
			continue
		}
		fmt.Fprintf(&b, "\n    <a href=\"%s\" target=\"_blank\" rel=\"noopener\" class=\"external\">%s ↗</a>", htmlEscape(u.String()), htmlEscape(l.Name))
	}
	return b.String()
}
