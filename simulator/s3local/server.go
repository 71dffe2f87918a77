package s3local

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// Server is the embedded S3 endpoint: an S3 REST API on a local address,
// keeping its buckets and objects under one folder.
type Server struct {
	url    string
	http   *http.Server
	store  *store
	served chan error

	closeOnce sync.Once
	closeErr  error
}

// Option configures Start.
type Option func(*options)

type options struct {
	addr   string
	logger *slog.Logger
}

// WithAddr makes the server listen on addr ("host:port") instead of a
// free port on 127.0.0.1, for a user who wants to point another S3 client
// at a known address.
func WithAddr(addr string) Option { return func(o *options) { o.addr = addr } }

// WithLogger sends the server's log to l (request-level detail at Debug).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Start opens (or creates) the store under dir and serves the S3 API on
// 127.0.0.1 at a free port. ctx bounds the start only; the server runs
// until Close. Starting again on the same dir after a Close finds every
// bucket, object and unfinished multipart upload as it was.
func Start(ctx context.Context, dir string, opts ...Option) (*Server, error) {
	o := options{addr: "127.0.0.1:0"}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	st, err := openStore(ctx, dir, o.logger)
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", o.addr)
	if err != nil {
		st.close()
		return nil, fmt.Errorf("s3local: listen on %s: %w", o.addr, err)
	}
	faker := gofakes3.New(st,
		gofakes3.WithLogger(slogAdapter{o.logger}),
		gofakes3.WithoutVersioning(),
	)
	s := &Server{
		url:   "http://" + ln.Addr().String(),
		store: st,
		http: &http.Server{
			Handler:           verifyChecksums(fixETag(faker.Server())),
			ReadHeaderTimeout: 30 * time.Second,
			ErrorLog:          slog.NewLogLogger(o.logger.Handler(), slog.LevelWarn),
		},
		served: make(chan error, 1),
	}
	go func() { s.served <- s.http.Serve(ln) }()
	o.logger.Info("s3local: serving", "url", s.url, "dir", dir)
	return s, nil
}

// URL is the endpoint to give Client, e.g. "http://127.0.0.1:43121".
func (s *Server) URL() string { return s.url }

// closeTimeout bounds how long Close waits for requests in flight.
const closeTimeout = 30 * time.Second

// Close stops accepting requests, lets those in flight finish (for at most
// closeTimeout), then closes the store. Calling it again returns the first
// result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		var errs []error
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("s3local: shut down: %w", err), s.http.Close())
		}
		if err := <-s.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("s3local: serve: %w", err))
		}
		errs = append(errs, s.store.close())
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// slogAdapter routes gofakes3's log to slog. Its INFO lines are one per
// request, so they go to Debug.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Print(level gofakes3.LogLevel, v ...any) {
	msg := strings.TrimSpace(fmt.Sprintln(v...))
	switch level {
	case gofakes3.LogErr:
		a.l.Error("s3local: " + msg)
	case gofakes3.LogWarn:
		a.l.Warn("s3local: " + msg)
	default:
		a.l.Debug("s3local: " + msg)
	}
}

// etagHeader carries an object's ETag from the store to fixETag.
const etagHeader = "X-Cumulus-Etag"

// fixETag answers the ETag the store recorded for an object. gofakes3
// writes an object's ETag as the hex of Object.Hash, which cannot say the
// "-N" of an object made by a multipart upload, so the store also puts the
// ETag among the object's headers, and this moves it into place.
func fixETag(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ew := &etagWriter{ResponseWriter: w}
		next.ServeHTTP(ew, r)
		ew.fix() // a HEAD may write nothing: the server sends the headers after we return
	})
}

type etagWriter struct {
	http.ResponseWriter
	fixed bool
}

func (w *etagWriter) fix() {
	if w.fixed {
		return
	}
	w.fixed = true
	h := w.Header()
	if e := h.Get(etagHeader); e != "" {
		h.Set("ETag", e)
		h.Del(etagHeader)
	}
}

func (w *etagWriter) WriteHeader(code int) {
	w.fix()
	w.ResponseWriter.WriteHeader(code)
}

func (w *etagWriter) Write(p []byte) (int, error) {
	w.fix()
	return w.ResponseWriter.Write(p)
}

// ReadFrom keeps the underlying writer's copy path for object bodies.
func (w *etagWriter) ReadFrom(r io.Reader) (int64, error) {
	w.fix()
	return io.Copy(w.ResponseWriter, r)
}

var errChecksumMismatch = errors.New("checksum mismatch")

// checksumHeaders are the flexible-checksum headers an SDK sends with a
// PUT body (PutObject, UploadPart), base64 of the big-endian digest.
var checksumHeaders = []struct {
	header string
	new    func() hash.Hash
}{
	{"X-Amz-Checksum-Crc32", func() hash.Hash { return crc32.NewIEEE() }},
	{"X-Amz-Checksum-Crc32c", func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }},
	// CRC-64/NVME: reflected polynomial, all-ones init and final xor,
	// which is what hash/crc64 computes for any table.
	{"X-Amz-Checksum-Crc64nvme", func() hash.Hash { return crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5)) }},
	{"X-Amz-Checksum-Sha1", sha1.New},
	{"X-Amz-Checksum-Sha256", sha256.New},
}

// verifyChecksums checks a PUT body against the checksum header the client
// sent, as S3 does: the SDKs send one by default, and it is what catches
// data damaged between client and server. gofakes3 itself checks only
// Content-MD5. A mismatch makes the body's last read fail, so the store
// discards the data and answers BadDigest.
func verifyChecksums(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.Body != nil && r.Header.Get("X-Amz-Copy-Source") == "" &&
			!strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
			for _, c := range checksumHeaders {
				if v := r.Header.Get(c.header); v != "" {
					want, err := base64.StdEncoding.DecodeString(v)
					if err != nil {
						http.Error(w, "malformed "+c.header, http.StatusBadRequest)
						return
					}
					r.Body = &verifyingBody{ReadCloser: r.Body, h: c.new(), want: want, name: c.header}
					break
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

type verifyingBody struct {
	io.ReadCloser
	h    hash.Hash
	want []byte
	name string
}

func (b *verifyingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.h.Write(p[:n])
	if err == io.EOF {
		if got := b.h.Sum(nil); string(got) != string(b.want) {
			return n, fmt.Errorf("%w: %s says %s, the body has %s", errChecksumMismatch, b.name,
				base64.StdEncoding.EncodeToString(b.want), base64.StdEncoding.EncodeToString(got))
		}
	}
	return n, err
}
