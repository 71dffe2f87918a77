package acquire

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cumulus-toolchain/cumulus/lang"
)

// httpLister reads a web server's directory listings: the index pages
// Apache's mod_autoindex, nginx's autoindex and most others generate, where
// each entry is a link, and a link ending in '/' is a sub-folder.
type httpLister struct {
	o          options
	client     *http.Client
	base       url.URL // scheme://host[:port]
	user, pass string
	maxConns   int
}

func newHTTP(p *lang.Provider, user, pass string, o options) (*httpLister, error) {
	base := url.URL{Scheme: p.Protocol, Host: p.Host}
	if p.Port != 0 && p.Port != defaultPort(p.Protocol) {
		base.Host = net.JoinHostPort(p.Host, strconv.Itoa(p.Port))
	}
	n := max(p.MaxConnections, 1)
	client := o.httpClient
	if client == nil {
		// No overall Timeout: a large file may take long. Stalls are caught
		// per read instead (see idleBody).
		client = &http.Client{Transport: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: o.timeout}).DialContext,
			TLSHandshakeTimeout:   o.timeout,
			ResponseHeaderTimeout: o.timeout,
			IdleConnTimeout:       90 * time.Second,
			MaxConnsPerHost:       n,
		}}
	}
	return &httpLister{o: o, client: client, base: base, user: user, pass: pass, maxConns: n}, nil
}

func defaultPort(scheme string) int {
	if scheme == "https" {
		return 443
	}
	return 80
}

func (l *httpLister) request(ctx context.Context, method string, u *url.URL) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, &permanent{err}
	}
	if l.user != "" {
		req.SetBasicAuth(l.user, l.pass)
	}
	return req, nil
}

// statusError turns an HTTP error status into an error, permanent when
// asking again cannot help (404, 403...), not for the statuses that mean
// "later" (408, 425, 429, 5xx).
func statusError(method string, u *url.URL, resp *http.Response) error {
	err := fmt.Errorf("%s %s: %s", method, u.Redacted(), resp.Status)
	switch c := resp.StatusCode; {
	case c == http.StatusRequestTimeout, c == http.StatusTooEarly, c == http.StatusTooManyRequests, c >= 500:
		return err
	}
	return &permanent{err}
}

// hrefPattern finds the links of an index page. Index pages are generated,
// regular HTML, so a pattern is enough; no HTML parser is needed.
var hrefPattern = regexp.MustCompile(`(?is)<a\s[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))`)

// index fetches one listing page and returns its links, resolved, and the
// page's own URL after redirects (a folder asked without its '/' is
// usually redirected to it).
func (l *httpLister) index(ctx context.Context, page *url.URL) ([]*url.URL, *url.URL, error) {
	req, err := l.request(ctx, http.MethodGet, page)
	if err != nil {
		return nil, nil, err
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", page.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, statusError("GET", page, resp)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "" && mt != "text/html" && mt != "application/xhtml+xml" {
		return nil, nil, &permanent{fmt.Errorf("GET %s: %s is not a directory listing (an HTML page)", page.Redacted(), mt)}
	}
	// Listings of folders with many thousands of files run to megabytes;
	// 64 MiB is far beyond any, and stops a runaway response.
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", page.Redacted(), err)
	}
	self := resp.Request.URL
	var links []*url.URL
	for _, m := range hrefPattern.FindAllStringSubmatch(string(body), -1) {
		ref := html.UnescapeString(m[1] + m[2] + m[3])
		u, err := self.Parse(ref)
		if err != nil {
			continue
		}
		links = append(links, u)
	}
	return links, self, nil
}

// under says whether link is an entry of the folder page: on the same
// server, below the page's path, and not one of the sorting links
// (?C=N;O=D) or anchors index pages carry.
func under(link, page *url.URL) bool {
	return link.Scheme == page.Scheme && link.Host == page.Host && link.RawQuery == "" &&
		strings.HasPrefix(link.Path, page.Path) && len(link.Path) > len(page.Path)
}

// List reads the listing at root and, when recursive, the listings of its
// sub-folders; then asks each file's size and time with HEAD.
func (l *httpLister) List(ctx context.Context, root string, recursive bool) ([]RemoteFile, error) {
	start := l.base
	start.Path = root
	if !strings.HasSuffix(start.Path, "/") {
		start.Path += "/"
	}
	pages := []*url.URL{&start}
	visited := map[string]bool{}
	byPath := map[string]*url.URL{}
	for len(pages) > 0 {
		page := pages[0]
		pages = pages[1:]
		if visited[page.Path] {
			continue
		}
		visited[page.Path] = true
		var links []*url.URL
		var self *url.URL
		err := l.o.retry(ctx, "list "+page.Redacted(), func() error {
			var err error
			links, self, err = l.index(ctx, page)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", page.Redacted(), err)
		}
		visited[self.Path] = true
		for _, link := range links {
			link.Fragment, link.RawFragment = "", ""
			if !under(link, self) {
				continue
			}
			if strings.HasSuffix(link.Path, "/") {
				if recursive && !visited[link.Path] {
					pages = append(pages, link)
				}
				continue
			}
			byPath[link.Path] = link
		}
	}
	files := make([]RemoteFile, 0, len(byPath))
	for p, u := range byPath {
		files = append(files, RemoteFile{Path: p, Name: path.Base(p), Size: -1, URL: u.Redacted()})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	if err := l.stat(ctx, files, byPath); err != nil {
		return nil, err
	}
	return files, nil
}

// stat fills in sizes and times with HEAD requests, max_connections at a
// time. A server refusing HEAD for a file leaves its size unknown (-1).
func (l *httpLister) stat(ctx context.Context, files []RemoteFile, byPath map[string]*url.URL) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		slots    = make(chan struct{}, l.maxConns)
	)
	for i := range files {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(f *RemoteFile) {
			defer func() { <-slots; wg.Done() }()
			u := byPath[f.Path]
			err := l.o.retry(ctx, "HEAD "+u.Redacted(), func() error {
				req, err := l.request(ctx, http.MethodHead, u)
				if err != nil {
					return err
				}
				resp, err := l.client.Do(req)
				if err != nil {
					return fmt.Errorf("HEAD %s: %w", u.Redacted(), err)
				}
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return statusError("HEAD", u, resp)
				}
				f.Size = resp.ContentLength
				if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
					f.ModTime = t.UTC()
				}
				return nil
			})
			if err != nil && isPermanent(err) && ctx.Err() == nil {
				l.o.log.Warn("size and time unknown", "file", f.URL, "error", err)
				err = nil
			}
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("listing: %w", err)
				}
				mu.Unlock()
				cancel()
			}
		}(&files[i])
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// Open streams a file with GET, resuming with a Range request when a
// transfer breaks (or reading again from the start where the server ignores
// Range).
func (l *httpLister) Open(ctx context.Context, f RemoteFile) (io.ReadCloser, error) {
	u := l.base
	u.Path = f.Path
	if f.URL == "" {
		f.URL = u.Redacted()
	}
	// A resumed transfer must continue the same version of the file: the
	// first response's validators are kept and compared with later ones.
	var etag, modified string
	open := func(ctx context.Context, offset int64) (transfer, int64, error) {
		tctx, cancel := context.WithCancel(ctx)
		req, err := l.request(tctx, http.MethodGet, &u)
		if err != nil {
			cancel()
			return nil, 0, err
		}
		if offset > 0 {
			req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
			if etag != "" && !strings.HasPrefix(etag, "W/") {
				req.Header.Set("If-Range", etag)
			}
		}
		resp, err := l.client.Do(req)
		if err != nil {
			cancel()
			return nil, 0, fmt.Errorf("GET %s: %w", u.Redacted(), err)
		}
		at := int64(0)
		switch resp.StatusCode {
		case http.StatusRequestedRangeNotSatisfiable:
			// The previous transfer broke right after the last byte: there
			// is nothing more to send ("bytes */size").
			_ = resp.Body.Close()
			if offset > 0 && resp.Header.Get("Content-Range") == "bytes */"+strconv.FormatInt(offset, 10) {
				return newIdleBody(http.NoBody, cancel, 0), offset, nil
			}
			cancel()
			return nil, 0, statusError("GET", &u, resp)
		case http.StatusOK:
		case http.StatusPartialContent:
			if !strings.HasPrefix(resp.Header.Get("Content-Range"), "bytes "+strconv.FormatInt(offset, 10)+"-") {
				_ = resp.Body.Close()
				cancel()
				return nil, 0, &permanent{fmt.Errorf("GET %s: Content-Range %q does not start at %d", u.Redacted(), resp.Header.Get("Content-Range"), offset)}
			}
			at = offset
		default:
			_ = resp.Body.Close()
			cancel()
			return nil, 0, statusError("GET", &u, resp)
		}
		e, m := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		// A validator one response lacks proves nothing either way.
		if offset > 0 && (e != "" && etag != "" && e != etag || m != "" && modified != "" && m != modified) {
			_ = resp.Body.Close()
			cancel()
			return nil, 0, &permanent{fmt.Errorf("GET %s: %w: it changed while being read (ETag %q, Last-Modified %q, were %q, %q)", u.Redacted(), ErrIncomplete, e, m, etag, modified)}
		}
		etag, modified = e, m
		return newIdleBody(resp.Body, cancel, l.o.timeout), at, nil
	}
	return newResumer(ctx, &l.o, f, open), nil
}

// idleBody is a response body whose request is cancelled when no byte
// arrives for the timeout: the transport's timeouts cover only the
// headers, and a stalled body would otherwise hang the poller.
type idleBody struct {
	body    io.ReadCloser
	cancel  context.CancelFunc
	timer   *time.Timer
	timeout time.Duration
	stalled atomic.Bool
}

// errStalled is a body that stopped sending: worth another try, unlike the
// cancellation that cut it.
var errStalled = errors.New("transfer stalled")

func newIdleBody(body io.ReadCloser, cancel context.CancelFunc, timeout time.Duration) *idleBody {
	b := &idleBody{body: body, cancel: cancel, timeout: timeout}
	if timeout > 0 {
		b.timer = time.AfterFunc(timeout, func() {
			b.stalled.Store(true)
			cancel()
		})
	}
	return b
}

func (b *idleBody) Read(p []byte) (int, error) {
	if b.timer != nil {
		b.timer.Reset(b.timeout)
	}
	n, err := b.body.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && b.stalled.Load() {
		err = fmt.Errorf("%w: no data for %s", errStalled, b.timeout)
	}
	return n, err
}

// end closes the body. net/http reports a body cut short of its
// Content-Length, or a chunked body without its last chunk, as an error
// rather than io.EOF, so a clean EOF here is a complete body.
func (b *idleBody) end(bool) error {
	if b.timer != nil {
		b.timer.Stop()
	}
	err := b.body.Close()
	b.cancel()
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// Close releases idle connections of the lister's own client.
func (l *httpLister) Close() error {
	if l.o.httpClient == nil {
		l.client.CloseIdleConnections()
	}
	return nil
}
