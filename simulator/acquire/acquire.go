// Package acquire is the acquisition poller's side of the simulator (DESIGN
// §4): it lists what a source's provider holds, reads files off it, and
// groups the files into granules by the collection's patterns.
//
// A provider is reached through a Lister, one per protocol: FTP (with
// github.com/jlaffaye/ftp, passive mode), HTTP(S) directory listings, an S3
// prefix, or a local folder. Listers are safe for concurrent use and
// survive the failures a long-running poller meets: a dropped FTP connection
// is re-established, and a read cut off mid-file resumes where it stopped
// (or starts the file again when the server cannot resume) so that a reader
// either yields the whole file or fails; it never ends early without an
// error.
//
// Poll is one round of a source's poller: list, drop what was already
// ingested unchanged, and group the rest into granule candidates. Scheduling
// rounds (every, --once) and recording what was ingested belong to the
// caller.
package acquire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cumulus-toolchain/cumulus/lang"
)

// RemoteFile is one file a provider holds, as its listing describes it.
type RemoteFile struct {
	// Path is where the file is on the provider: the absolute path on an FTP
	// or HTTP server, the object key in S3, the file's path on this machine
	// for a local provider. It is what Open needs, and what identifies the
	// file to the state store.
	Path string
	// Name is the file's base name, which the collection's patterns match.
	Name string
	// Size is in bytes; -1 when the provider did not say.
	Size int64
	// ModTime is the last modification time the provider reports (zero
	// when unknown). FTP LIST times are minutes or days precise only.
	ModTime time.Time
	// URL says where the file came from, for provenance (ftp://, http(s)://,
	// s3://, file://). It never carries credentials.
	URL string
}

// Lister lists and reads the files of one provider.
type Lister interface {
	// List returns the files under root (a path on the provider, or an S3
	// key prefix), descending into sub-folders when recursive, sorted by
	// Path.
	List(ctx context.Context, root string, recursive bool) ([]RemoteFile, error)
	// Open streams a file's content. The reader returns io.EOF only after
	// the whole file was delivered; a transfer that cannot be completed ends
	// in an error wrapping ErrIncomplete. ctx governs the whole read.
	Open(ctx context.Context, f RemoteFile) (io.ReadCloser, error)
	// Close releases the connections the lister keeps open.
	Close() error
}

// ErrIncomplete is wrapped by the error a reader returns when a file could
// not be read whole: the connection kept failing, or the file's size is not
// the one listed (it changed while being read; the next poll sees it anew).
var ErrIncomplete = errors.New("file not read whole")

// Option configures a Lister made by New.
type Option func(*options)

type options struct {
	log        *slog.Logger
	attempts   int
	minDelay   time.Duration
	maxDelay   time.Duration
	timeout    time.Duration
	httpClient *http.Client
	env        []string
}

// WithLogger sets where listers report retries, reconnections and files
// they skip. The default discards.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithRetry bounds how a lister retries after a failure: at most attempts
// tries of one operation (a listing of one folder, or a read that makes no
// progress), waiting from minDelay, doubling up to maxDelay, between them.
// The default is 5 tries, 250ms to 10s.
func WithRetry(attempts int, minDelay, maxDelay time.Duration) Option {
	return func(o *options) {
		o.attempts, o.minDelay, o.maxDelay = max(attempts, 1), minDelay, max(maxDelay, minDelay)
	}
}

// WithTimeout sets how long a connection may take to open, and how long it
// may stay silent in the middle of an exchange, before it is taken for
// dead. The default is 30s.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithHTTPClient sets the client of HTTP(S) providers (for proxies, custom
// certificate authorities). The default has the timeouts of WithTimeout.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithEnv passes the process environment ("KEY=VALUE"), read for the
// credentials of a provider whose configuration names none:
// CUMULUS_PROVIDER_<NAME>_USERNAME and CUMULUS_PROVIDER_<NAME>_PASSWORD,
// NAME being the provider's name in upper case with '-' as '_'. Deployments
// inject secrets this way; the configuration's own username and password
// (often var.x, itself settable as CUMULUS_VAR_x) win. Passed in so that no
// global state is read; without it the environment is not consulted.
func WithEnv(env []string) Option { return func(o *options) { o.env = env } }

func defaultOptions() options {
	return options{
		log:      slog.New(slog.DiscardHandler),
		attempts: 5,
		minDelay: 250 * time.Millisecond,
		maxDelay: 10 * time.Second,
		timeout:  30 * time.Second,
	}
}

// New returns the Lister of a provider. baseDir is the configuration's
// folder, against which a local source's relative path resolves; client is
// the S3 client of s3 providers (unused otherwise, may be nil).
func New(p *lang.Provider, baseDir string, client *s3.Client, opts ...Option) (Lister, error) {
	if p == nil {
		return nil, errors.New("acquire: no provider")
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	o.log = o.log.With("provider", p.Name)
	user, pass := providerCredentials(p, o.env)
	switch p.Protocol {
	case "ftp":
		return newFTP(p, user, pass, o)
	case "http", "https":
		return newHTTP(p, user, pass, o)
	case "s3":
		if client == nil {
			return nil, fmt.Errorf("acquire: provider %q reads S3 bucket %q but no S3 client was given", p.Name, p.Host)
		}
		return newS3(p, client, o), nil
	case "local":
		return newLocal(baseDir, o), nil
	}
	return nil, fmt.Errorf("acquire: provider %q: unsupported protocol %q", p.Name, p.Protocol)
}

// providerCredentials returns the provider's user and password: the configuration's
// when it names a user, else the environment's (see WithEnv), else none
// (anonymous).
func providerCredentials(p *lang.Provider, env []string) (user, pass string) {
	if p.Username != "" {
		return p.Username, p.Password
	}
	prefix := "CUMULUS_PROVIDER_" + strings.ToUpper(strings.ReplaceAll(p.Name, "-", "_")) + "_"
	lookup := func(key string) string {
		v := ""
		for _, kv := range env { // the last one wins, as in a shell
			if k, val, ok := strings.Cut(kv, "="); ok && k == key {
				v = val
			}
		}
		return v
	}
	if u := lookup(prefix + "USERNAME"); u != "" {
		return u, lookup(prefix + "PASSWORD")
	}
	return "", ""
}

// permanent marks an error that retrying cannot cure (a missing file, a
// refused login), so that retry loops stop at once.
type permanent struct{ err error }

func (p *permanent) Error() string { return p.err.Error() }
func (p *permanent) Unwrap() error { return p.err }

func isPermanent(err error) bool {
	var p *permanent
	return errors.As(err, &p) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// backoff waits before retry number try (1 for the first retry): minDelay
// doubled each time up to maxDelay, with jitter so that many pollers
// reconnecting to one server do not do so in step.
func (o *options) backoff(ctx context.Context, try int) error {
	d := o.minDelay
	for i := 1; i < try && d < o.maxDelay; i++ {
		d *= 2
	}
	d = min(d, o.maxDelay)
	if d > 0 {
		d = d/2 + rand.N(d/2+1)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retry runs op until it succeeds, fails permanently, or has been tried
// o.attempts times.
func (o *options) retry(ctx context.Context, what string, op func() error) error {
	var err error
	for try := 1; ; try++ {
		if err = ctx.Err(); err != nil {
			return err
		}
		if err = op(); err == nil || isPermanent(err) || try >= o.attempts {
			break
		}
		o.log.Warn("retrying after a failure", "op", what, "attempt", try, "error", err)
		if werr := o.backoff(ctx, try); werr != nil {
			return errors.Join(err, werr)
		}
	}
	return err
}
