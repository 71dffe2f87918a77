package cmrlocal

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// UMMGVersion is the version of UMM-G the stand-in validates.
const UMMGVersion = "1.6.6"

//go:embed schema/umm-g-json-schema-v1.6.6.json
var schemaJSON []byte

// maxRecord bounds a record's size (CMR's own limit is larger; a granule
// record is a few kilobytes).
const maxRecord = 4 << 20

// Options configure the stand-in.
type Options struct {
	// Addr is where Start listens ("127.0.0.1:0" when empty: a free port).
	Addr string
	// Tokens are the accepted tokens; empty accepts any non-empty one (a
	// token is still required, as on CMR).
	Tokens []string
	// Providers are the known provider ids; empty accepts any.
	Providers []string
	// Dir, when set, receives each granule's latest record as
	// Dir/<provider>/<native-id>.json.
	Dir string
	// Logger receives a line per request (nil: discarded).
	Logger *slog.Logger
	// Now stamps revisions (nil: the system clock).
	Now func() time.Time
}

// Granule is one published granule as the stand-in holds it.
type Granule struct {
	ConceptID  string          `json:"concept-id"`
	RevisionID int             `json:"revision-id"`
	NativeID   string          `json:"native-id"`
	ProviderID string          `json:"provider-id"`
	Revised    time.Time       `json:"revision-date"`
	Deleted    bool            `json:"deleted"`
	ShortName  string          `json:"-"`
	Version    string          `json:"-"`
	GranuleUR  string          `json:"-"`
	UMM        json.RawMessage `json:"-"`
}

// Server is the stand-in. Its Handler may be served on any mux; Start
// serves it on a port of its own.
type Server struct {
	opts   Options
	schema *jsonschema.Schema
	log    *slog.Logger

	mu       sync.Mutex
	granules map[string]*Granule // provider + "\x00" + native id
	next     int                 // the next concept id's number

	http *http.Server
	url  string
}

// New returns a stand-in that is not listening: serve its Handler.
func New(opts Options) (*Server, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("cmrlocal: reading the embedded UMM-G schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("umm-g.json", doc); err != nil {
		return nil, fmt.Errorf("cmrlocal: %w", err)
	}
	sch, err := c.Compile("umm-g.json")
	if err != nil {
		return nil, fmt.Errorf("cmrlocal: compiling the UMM-G schema: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Server{opts: opts, schema: sch, log: log, granules: map[string]*Granule{}, next: 1200000000}, nil
}

// Start returns a stand-in serving on opts.Addr until Close; URL says where.
func Start(ctx context.Context, opts Options) (*Server, error) {
	s, err := New(opts)
	if err != nil {
		return nil, err
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cmrlocal: listen on %s: %w", addr, err)
	}
	s.url = "http://" + ln.Addr().String()
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(ln) }()
	return s, nil
}

// URL is the base URL of a started stand-in (publish_cmr's endpoint).
func (s *Server) URL() string { return s.url }

// Close stops a started stand-in.
func (s *Server) Close() error {
	if s.http == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.http.Shutdown(ctx)
}

// Handler serves CMR's ingest and search paths.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /ingest/providers/{provider}/granules/{native}", s.put)
	mux.HandleFunc("DELETE /ingest/providers/{provider}/granules/{native}", s.delete)
	mux.HandleFunc("GET /search/granules.umm_json", s.search)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeErrors(w, http.StatusNotFound, fmt.Sprintf("The resource %s %s is not served by the local CMR stand-in.", r.Method, r.URL.Path))
	})
	return mux
}

// Granules returns the granules held, deleted ones included, by concept id.
func (s *Server) Granules() []Granule {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Granule, 0, len(s.granules))
	for _, g := range s.granules {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b Granule) int { return strings.Compare(a.ConceptID, b.ConceptID) })
	return out
}

// writeErrors answers CMR's error document: {"errors": ["..."]}.
func writeErrors(w http.ResponseWriter, status int, msgs ...string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string][]string{"errors": msgs})
}

// authorize checks the token as CMR does: "Authorization: Bearer T" (or
// the token alone), or the legacy Echo-Token header.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	tok := strings.TrimSpace(r.Header.Get("Authorization"))
	tok = strings.TrimSpace(strings.TrimPrefix(tok, "Bearer "))
	if tok == "" {
		tok = r.Header.Get("Echo-Token")
	}
	if tok == "" {
		writeErrors(w, http.StatusUnauthorized, "You do not have permission to perform that action: no token was given (Authorization: Bearer <Earthdata Login token>).")
		return false
	}
	if len(s.opts.Tokens) > 0 && !slices.Contains(s.opts.Tokens, tok) {
		writeErrors(w, http.StatusUnauthorized, "Token does not exist")
		return false
	}
	return true
}

func (s *Server) provider(w http.ResponseWriter, p string) bool {
	if len(s.opts.Providers) > 0 && !slices.Contains(s.opts.Providers, p) {
		writeErrors(w, http.StatusNotFound, fmt.Sprintf("Provider with provider-id [%s] does not exist.", p))
		return false
	}
	return true
}

func (s *Server) put(w http.ResponseWriter, r *http.Request) {
	provider, native := r.PathValue("provider"), r.PathValue("native")
	if !s.authorize(w, r) || !s.provider(w, provider) {
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/vnd.nasa.cmr.umm+json" {
		writeErrors(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Invalid content-type: %s. The local CMR stand-in takes UMM-G JSON: application/vnd.nasa.cmr.umm+json;version=%s", r.Header.Get("Content-Type"), UMMGVersion))
		return
	}
	if v := params["version"]; v != UMMGVersion {
		writeErrors(w, http.StatusBadRequest, fmt.Sprintf("Unknown UMM JSON schema version: %q. The local CMR stand-in validates version %s.", v, UMMGVersion))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRecord+1))
	if err != nil {
		writeErrors(w, http.StatusBadRequest, "Reading the request body: "+err.Error())
		return
	}
	if len(body) > maxRecord {
		writeErrors(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("The record is over %d bytes.", maxRecord))
		return
	}
	if msgs := s.Validate(body); len(msgs) > 0 {
		s.log.Info("cmrlocal: refused a record", "provider", provider, "native_id", native, "errors", len(msgs))
		writeErrors(w, http.StatusBadRequest, msgs...)
		return
	}
	var rec struct {
		GranuleUR           string `json:"GranuleUR"`
		CollectionReference struct {
			ShortName string `json:"ShortName"`
			Version   string `json:"Version"`
		} `json:"CollectionReference"`
	}
	_ = json.Unmarshal(body, &rec) // valid already

	s.mu.Lock()
	key := provider + "\x00" + native
	g, ok := s.granules[key]
	status := http.StatusOK
	if !ok {
		g = &Granule{ConceptID: fmt.Sprintf("G%d-%s", s.next, provider), NativeID: native, ProviderID: provider}
		s.next++
		s.granules[key] = g
		status = http.StatusCreated
	}
	g.RevisionID++
	g.Revised = s.opts.Now().UTC()
	g.Deleted = false
	g.ShortName, g.Version, g.GranuleUR = rec.CollectionReference.ShortName, rec.CollectionReference.Version, rec.GranuleUR
	g.UMM = json.RawMessage(bytes.Clone(body))
	out := *g
	s.mu.Unlock()

	if err := s.save(out); err != nil {
		s.log.Warn("cmrlocal: could not keep the record on disk", "err", err)
	}
	s.log.Info("cmrlocal: ingested", "provider", provider, "native_id", native, "concept_id", out.ConceptID, "revision", out.RevisionID)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"concept-id": out.ConceptID, "revision-id": out.RevisionID})
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request) {
	provider, native := r.PathValue("provider"), r.PathValue("native")
	if !s.authorize(w, r) || !s.provider(w, provider) {
		return
	}
	s.mu.Lock()
	g, ok := s.granules[provider+"\x00"+native]
	if !ok || g.Deleted {
		s.mu.Unlock()
		writeErrors(w, http.StatusNotFound, fmt.Sprintf("Concept with native-id [%s] and concept-id [] is already deleted.", native))
		return
	}
	g.RevisionID++
	g.Deleted = true
	g.Revised = s.opts.Now().UTC()
	out := *g
	s.mu.Unlock()
	if s.opts.Dir != "" {
		_ = os.Remove(s.recordPath(provider, native))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"concept-id": out.ConceptID, "revision-id": out.RevisionID})
}

// search answers granules.umm_json: every live granule matching all the
// parameters given.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	start := time.Now()
	type item struct {
		Meta map[string]any  `json:"meta"`
		UMM  json.RawMessage `json:"umm"`
	}
	items := []item{}
	for _, g := range s.Granules() {
		if g.Deleted || !match(q, "short_name", g.ShortName) || !match(q, "version", g.Version) ||
			!match(q, "granule_ur", g.GranuleUR) || !match(q, "provider", g.ProviderID) || !match(q, "concept_id", g.ConceptID) {
			continue
		}
		items = append(items, item{Meta: map[string]any{
			"concept-type":  "granule",
			"concept-id":    g.ConceptID,
			"revision-id":   g.RevisionID,
			"native-id":     g.NativeID,
			"provider-id":   g.ProviderID,
			"format":        "application/vnd.nasa.cmr.umm+json",
			"revision-date": g.Revised.Format("2006-01-02T15:04:05.000Z"),
		}, UMM: g.UMM})
	}
	w.Header().Set("Content-Type", "application/vnd.nasa.cmr.umm_results+json;version="+UMMGVersion+"; charset=utf-8")
	w.Header().Set("CMR-Hits", fmt.Sprint(len(items)))
	_ = json.NewEncoder(w).Encode(map[string]any{"hits": len(items), "took": time.Since(start).Milliseconds(), "items": items})
}

// match says whether v is one of the query's values for name (any, when
// the query has none); CMR's parameters may repeat (name or name[]).
func match(q url.Values, name, v string) bool {
	vals := append(q[name], q[name+"[]"]...)
	return len(vals) == 0 || slices.Contains(vals, v)
}

// Validate checks a record against UMM-G 1.6.6 and returns CMR-like
// messages ("#/DataGranule: missing property DayNightFlag"), none when it
// is valid.
func (s *Server) Validate(record []byte) []string {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(record))
	if err != nil {
		return []string{"Invalid JSON: " + err.Error()}
	}
	err = s.schema.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []string{err.Error()}
	}
	p := message.NewPrinter(language.English)
	var msgs []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			loc := "#"
			if len(e.InstanceLocation) > 0 {
				loc += "/" + strings.Join(e.InstanceLocation, "/")
			}
			msgs = append(msgs, loc+": "+e.ErrorKind.LocalizedString(p))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	slices.Sort(msgs)
	return slices.Compact(msgs)
}

func (s *Server) recordPath(provider, native string) string {
	return filepath.Join(s.opts.Dir, url.PathEscape(provider), url.PathEscape(native)+".json")
}

// save keeps the latest revision as a plain JSON file, written through a
// temporary file and a rename.
func (s *Server) save(g Granule) error {
	if s.opts.Dir == "" {
		return nil
	}
	p := s.recordPath(g.ProviderID, g.NativeID)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".record-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(g.UMM); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), p)
}
