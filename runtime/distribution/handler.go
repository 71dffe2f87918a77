package distribution

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

// Presigner makes presigned S3 GET URLs; s3.PresignClient is one.
type Presigner interface {
	PresignGetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// Objects reads objects for streamed buckets; *s3.Client is one.
type Objects interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

var (
	_ Presigner = (*s3.PresignClient)(nil)
	_ Objects   = (*s3.Client)(nil)
)

// Defaults of the options.
const (
	// DefaultMaxHeaderBytes bounds the request's header block: a JWT is a
	// few kilobytes; much more is an attack or a mistake.
	DefaultMaxHeaderBytes = 8 << 10
	// DefaultTokenTTL is how long a local token lasts.
	DefaultTokenTTL = 12 * time.Hour
	// linkPresignTTL is the life of the presigned URL a verified link
	// redirects to: S3 checks expiry when a download starts, so a minute
	// is enough, and a leaked URL is soon useless.
	linkPresignTTL = time.Minute
	// anonGrace is how much longer an anonymous presigned URL lives than a
	// cache may keep the redirect to it.
	anonGrace = 5 * time.Minute
	// maxPresignTTL is S3's limit for SigV4 presigned URLs.
	maxPresignTTL = 7 * 24 * time.Hour
)

// Option configures New.
type Option func(*Handler)

// WithClock sets the clock links, tokens and JWTs are judged by.
func WithClock(c Clock) Option { return func(h *Handler) { h.clock = c } }

// WithLogger sends the access log (one Info line per request) and errors
// to l.
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// WithSigningKey sets the secret links and local tokens are signed with
// (at least 32 bytes; see ParseKey). Without it New generates one, and
// links and tokens die with the handler.
func WithSigningKey(key []byte) Option { return func(h *Handler) { h.key = key } }

// WithUsers sets the local users and their passwords (see LocalUsers),
// who get tokens from POST /token and log in at /login.
func WithUsers(users map[string]string) Option {
	return func(h *Handler) { h.passwords = newPasswords(users) }
}

// WithTokenTTL sets how long a local token lasts.
func WithTokenTTL(d time.Duration) Option { return func(h *Handler) { h.tokenTTL = d } }

// WithMaxHeaderBytes bounds the request header block (names, values and
// the request target); larger requests get 431.
func WithMaxHeaderBytes(n int) Option { return func(h *Handler) { h.maxHeader = n } }

// WithHTTPClient sets the client that fetches the OIDC issuer's discovery
// document and keys.
func WithHTTPClient(c *http.Client) Option { return func(h *Handler) { h.httpClient = c } }

// WithObjects sets what streamed objects are read through, instead of the
// client given to New (tests, or a client with other settings).
func WithObjects(o Objects) Option { return func(h *Handler) { h.objects = o } }

// WithPresigner sets what presigns URLs, instead of a PresignClient over
// the client given to New.
func WithPresigner(p Presigner) Option { return func(h *Handler) { h.presign = p } }

// Handler serves one distribution. It is safe for concurrent use.
type Handler struct {
	name   string
	routes map[string]*graph.DistributionBucket
	// maxPrefixSegs bounds the prefix lookup of a path.
	maxPrefixSegs int

	presign    Presigner
	objects    Objects
	clock      Clock
	log        *slog.Logger
	key        []byte
	sign       *signer
	passwords  passwords
	jwt        *jwtVerifier
	tokenTTL   time.Duration
	maxHeader  int
	httpClient *http.Client
	realm      string
}

// New returns the handler of distribution d (from graph.Graph.Distribution)
// over client, the S3 client of the endpoint the buckets are in.
func New(d *graph.Distribution, client *s3.Client, opts ...Option) (*Handler, error) {
	if d == nil {
		return nil, errors.New("distribution: no policy")
	}
	h := &Handler{
		name:       d.Name,
		routes:     map[string]*graph.DistributionBucket{},
		clock:      systemClock{},
		log:        slog.New(slog.DiscardHandler),
		tokenTTL:   DefaultTokenTTL,
		maxHeader:  DefaultMaxHeaderBytes,
		httpClient: http.DefaultClient,
		realm:      "cumulus distribution " + d.Name,
	}
	if client != nil {
		h.presign, h.objects = s3.NewPresignClient(client), client
	}
	for _, o := range opts {
		o(h)
	}
	if h.presign == nil || h.objects == nil {
		return nil, fmt.Errorf("distribution %s: no S3 client", d.Name)
	}
	for _, b := range d.Buckets {
		if b.Prefix == "" || b.BucketName == "" || (b.Access != "anonymous" && b.Access != "authenticated") {
			return nil, fmt.Errorf("distribution %s: bucket %q has no prefix, S3 name or access", d.Name, b.Bucket)
		}
		if _, dup := h.routes[b.Prefix]; dup {
			return nil, fmt.Errorf("distribution %s: prefix %q is served twice", d.Name, b.Prefix)
		}
		h.routes[b.Prefix] = b
		h.maxPrefixSegs = max(h.maxPrefixSegs, strings.Count(b.Prefix, "/")+1)
	}
	if h.key == nil {
		h.key = make([]byte, minKeyBytes)
		if _, err := rand.Read(h.key); err != nil {
			return nil, fmt.Errorf("distribution %s: generating a signing key: %w", d.Name, err)
		}
	} else if len(h.key) < minKeyBytes {
		return nil, fmt.Errorf("distribution %s: signing key of %d bytes; use at least %d", d.Name, len(h.key), minKeyBytes)
	}
	h.sign = newSigner(h.key)
	if d.Auth != nil && d.Auth.OIDC != nil {
		h.jwt = newJWTVerifier(*d.Auth.OIDC, h.httpClient, h.clock)
	}
	return h, nil
}

// request is what one request came to, for the access log.
type request struct {
	user   string // "" for anonymous
	via    string // anonymous, link, token, jwt
	bucket *graph.DistributionBucket
	key    string
}

// ServeHTTP serves one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	lw := &logWriter{ResponseWriter: w}
	var rq request
	h.serve(lw, r, &rq)
	if lw.status == 0 {
		lw.status = http.StatusOK
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", truncate(r.URL.EscapedPath(), 256)),
		slog.Int("status", lw.status),
		slog.Int64("bytes", lw.bytes),
		slog.String("user", rq.user),
		slog.String("via", rq.via),
		slog.Duration("elapsed", time.Since(start)),
		slog.String("remote", r.RemoteAddr),
	}
	if rq.bucket != nil {
		attrs = append(attrs, slog.String("bucket", rq.bucket.BucketName), slog.String("key", rq.key))
	}
	if rg := r.Header.Get("Range"); rg != "" {
		attrs = append(attrs, slog.String("range", truncate(rg, 64)))
	}
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "distribution request", attrs...)
}

// front answers what every request of the handler (and of what it
// protects) may be before its path means anything: refused for its size,
// or the token endpoint, or the login page. It says whether it answered.
func (h *Handler) front(w http.ResponseWriter, r *http.Request, rq *request) bool {
	if len(r.RequestURI) > maxTargetBytes || len(r.URL.RawQuery) > maxTargetBytes {
		h.refuse(w, http.StatusRequestURITooLong, "request target too long")
		return true
	}
	if headerBytes(r) > h.maxHeader {
		h.refuse(w, http.StatusRequestHeaderFieldsTooLarge, "request headers too large")
		return true
	}
	switch r.URL.Path {
	case "/token":
		h.serveToken(w, r, rq)
		return true
	case "/login":
		h.serveLogin(w, r, rq)
		return true
	}
	return false
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, rq *request) {
	if h.front(w, r, rq) {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.refuse(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	segs, err := cleanPath(r.URL.EscapedPath())
	switch {
	case errors.Is(err, errLongPath):
		h.refuse(w, http.StatusRequestURITooLong, "path too long")
		return
	case err != nil:
		h.refuse(w, http.StatusBadRequest, "malformed path")
		return
	}
	b, key := h.route(segs)
	if b == nil || len(key) > maxKeyBytes {
		h.refuse(w, http.StatusNotFound, "not found")
		return
	}
	rq.bucket, rq.key = b, key
	path := strings.Join(segs, "/")
	if b.Anonymous() {
		rq.via = "anonymous"
		h.deliver(w, r, b, key, anonCache(b.CacheTTL.D()), h.anonPresignTTL(b))
		return
	}
	if r.URL.Query().Has(paramSignature) {
		h.serveLink(w, r, rq, b, key, path)
		return
	}
	user, via, err := h.authenticate(r)
	rq.user, rq.via = user, via
	switch {
	case errors.Is(err, errIdPUnavailable):
		h.log.LogAttrs(r.Context(), slog.LevelError, "distribution: identity provider", slog.String("error", err.Error()))
		h.refuse(w, http.StatusServiceUnavailable, "authentication unavailable; try again later")
		return
	case err != nil || user == "":
		h.challenge(w, r, segs, err != nil)
		return
	}
	// Credentials are good: hand out this handler's own link, relative to
	// the request's path so it survives any stage prefix in front.
	expires := h.clock.Now().Add(b.LinkTTL.D())
	w.Header().Set("Location", "./"+escapeSegment(segs[len(segs)-1])+"?"+h.sign.linkQuery(path, user, expires))
	w.Header().Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusTemporaryRedirect)
}

// route finds the bucket whose prefix starts segs (the longest: prefixes
// do not nest, but a lookup should not rely on what another package
// checked) and the key after it.
func (h *Handler) route(segs []string) (*graph.DistributionBucket, string) {
	for n := min(h.maxPrefixSegs, len(segs)-1); n >= 1; n-- {
		if b, ok := h.routes[strings.Join(segs[:n], "/")]; ok {
			return b, strings.Join(segs[n:], "/")
		}
	}
	return nil, ""
}

// serveLink serves a request bearing a link's signature.
func (h *Handler) serveLink(w http.ResponseWriter, r *http.Request, rq *request, b *graph.DistributionBucket, key, path string) {
	now := h.clock.Now()
	user, err := h.sign.verifyLink(path, r.URL.Query(), now)
	rq.via = "link"
	switch {
	case errors.Is(err, errLinkExpired):
		h.refuse(w, http.StatusForbidden, "this link has expired; request the file again for a new one")
		return
	case err != nil:
		h.refuse(w, http.StatusForbidden, "invalid link")
		return
	}
	rq.user = user
	exp, _ := strconv.ParseInt(r.URL.Query().Get(paramExpires), 10, 64)
	left := time.Unix(exp, 0).Sub(now)
	cache := "private, no-store"
	if b.Stream {
		// The bytes themselves may stay in the user's browser for as long
		// as the link could fetch them again.
		if ttl := min(b.CacheTTL.D(), left); ttl >= time.Second {
			cache = "private, max-age=" + strconv.FormatInt(int64(ttl/time.Second), 10)
		}
	}
	h.deliver(w, r, b, key, cache, min(linkPresignTTL, left))
}

// deliver streams the object or redirects to a presigned URL lasting ttl.
func (h *Handler) deliver(w http.ResponseWriter, r *http.Request, b *graph.DistributionBucket, key, cacheControl string, ttl time.Duration) {
	if b.Stream {
		h.stream(w, r, b, key, cacheControl)
		return
	}
	req, err := h.presign.PresignGetObject(r.Context(), &s3.GetObjectInput{Bucket: &b.BucketName, Key: &key}, s3.WithPresignExpires(max(ttl, time.Second)))
	if err != nil {
		h.log.LogAttrs(r.Context(), slog.LevelError, "distribution: presign", slog.String("error", err.Error()))
		h.refuse(w, http.StatusBadGateway, "storage unavailable")
		return
	}
	w.Header().Set("Location", req.URL)
	w.Header().Set("Cache-Control", cacheControl)
	w.WriteHeader(http.StatusTemporaryRedirect)
}

// anonPresignTTL is the life of an anonymous presigned URL: cache_ttl and a
// margin, so a cached redirect never points at a dead URL.
func (h *Handler) anonPresignTTL(b *graph.DistributionBucket) time.Duration {
	return min(b.CacheTTL.D()+anonGrace, maxPresignTTL)
}

// anonCache is the Cache-Control of an anonymous answer. For a redirect it
// must not outlast the presigned URL: max-age stays anonGrace below it.
func anonCache(ttl time.Duration) string {
	ttl = min(ttl, maxPresignTTL-anonGrace)
	if ttl < time.Second {
		return "no-cache"
	}
	return "public, max-age=" + strconv.FormatInt(int64(ttl/time.Second), 10)
}

// authenticate finds the request's credentials and checks them. No
// credentials is user "" and no error.
func (h *Handler) authenticate(r *http.Request) (user, via string, err error) {
	tok := ""
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, rest, _ := strings.Cut(a, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return "", "", errTokenBad
		}
		tok = strings.TrimSpace(rest)
	} else if c, err := r.Cookie(tokenCookie); err == nil {
		tok = c.Value
	}
	switch {
	case tok == "":
		return "", "", nil
	case strings.HasPrefix(tok, tokenPrefix):
		user, err := h.sign.verifyToken(tok, h.clock.Now())
		if err == nil {
			if _, ok := h.passwords[user]; !ok {
				err = errTokenBad // the user was removed since
			}
		}
		return user, "token", err
	case h.jwt != nil:
		user, err := h.jwt.verify(r.Context(), tok)
		return user, "jwt", err
	}
	return "", "", errTokenBad
}

// challenge answers a request for an authenticated bucket without valid
// credentials: a browser is sent to log in (when there is somewhere to log
// in), anything else gets 401.
func (h *Handler) challenge(w http.ResponseWriter, r *http.Request, segs []string, invalid bool) {
	if len(h.passwords) > 0 && r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") {
		// Relative, so it works under a stage prefix: up to the root,
		// then login, with the way back relative to the root.
		up := strings.Repeat("../", len(segs)-1)
		next := make([]string, len(segs))
		for i, s := range segs {
			next[i] = escapeSegment(s)
		}
		w.Header().Set("Location", "./"+up+"login?next="+escapeQuery(strings.Join(next, "/")))
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	c := `Bearer realm="` + h.realm + `"`
	if invalid {
		c += `, error="invalid_token"`
	}
	w.Header().Set("WWW-Authenticate", c)
	h.refuse(w, http.StatusUnauthorized, "authentication required")
}

// refuse writes a fixed sentence: nothing of the request, the bucket or a
// credential is ever echoed back.
func (h *Handler) refuse(w http.ResponseWriter, status int, msg string) {
	hd := w.Header()
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	hd.Set("X-Content-Type-Options", "nosniff")
	if hd.Get("Cache-Control") == "" {
		hd.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}

// headerBytes is the size of the header block as a client sent it, about.
func headerBytes(r *http.Request) int {
	n := len(r.RequestURI) + len(r.Method) + 12
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// logWriter counts what the handler sends, for the access log.
type logWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *logWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *logWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *logWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
