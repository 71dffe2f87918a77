package acquire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cumulus-toolchain/cumulus/lang"
)

// indexServer serves files and autoindex pages for their folders: Apache's
// layout at /pub/hs3/hamsr/, nginx's below it.
type indexServer struct {
	mu      sync.Mutex
	files   map[string][]byte // by path, "/pub/..."
	etags   map[string]string
	mtime   time.Time
	user    string // when set, basic authentication is required
	pass    string
	cutOnce map[string]int64 // cut the first full GET of a file after n bytes
	gets    []string         // "GET path range"
}

func (s *indexServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.user != "" {
		if u, p, ok := r.BasicAuth(); !ok || u != s.user || p != s.pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="hs3"`)
			http.Error(w, "login", http.StatusUnauthorized)
			return
		}
	}
	s.mu.Lock()
	b, isFile := s.files[r.URL.Path]
	etag := s.etags[r.URL.Path]
	cut, doCut := s.cutOnce[r.URL.Path]
	if r.Method == http.MethodGet && isFile {
		s.gets = append(s.gets, "GET "+r.URL.Path+" "+r.Header.Get("Range"))
		if doCut && r.Header.Get("Range") == "" {
			delete(s.cutOnce, r.URL.Path)
		} else {
			doCut = false
		}
	}
	s.mu.Unlock()
	if isFile {
		if etag != "" {
			w.Header().Set("ETag", etag)
		}
		if doCut && r.Method == http.MethodGet {
			// Promise the whole file, send part of it, and drop the
			// connection: what a broken link looks like to the client.
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			w.Header().Set("Last-Modified", s.mtime.Format(http.TimeFormat))
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(b[:cut])
			http.NewResponseController(w).Flush()
			panic(http.ErrAbortHandler)
		}
		http.ServeContent(w, r, path.Base(r.URL.Path), s.mtime, bytes.NewReader(b))
		return
	}
	dir := r.URL.Path
	if !strings.HasSuffix(dir, "/") {
		if s.isDir(dir + "/") {
			http.Redirect(w, r, dir+"/", http.StatusMovedPermanently)
			return
		}
		http.NotFound(w, r)
		return
	}
	if !s.isDir(dir) {
		http.NotFound(w, r)
		return
	}
	entries := s.entries(dir)
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	if dir == "/pub/hs3/hamsr/" {
		fmt.Fprint(w, apacheIndex(dir, entries))
	} else {
		fmt.Fprint(w, nginxIndex(dir, entries))
	}
}

func (s *indexServer) isDir(dir string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := range s.files {
		if strings.HasPrefix(p, dir) {
			return true
		}
	}
	return false
}

// entries lists a folder's children: sub-folders end in '/'.
func (s *indexServer) entries(dir string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := map[string]bool{}
	for p := range s.files {
		if rest, ok := strings.CutPrefix(p, dir); ok {
			if i := strings.Index(rest, "/"); i >= 0 {
				rest = rest[:i+1]
			}
			set[rest] = true
		}
	}
	var out []string
	for e := range set {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

// apacheIndex renders a page as Apache 2.4's mod_autoindex does (FancyIndexing).
func apacheIndex(dir string, entries []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html>
 <head>
  <title>Index of %s</title>
 </head>
 <body>
<h1>Index of %s</h1>
  <table>
   <tr><th valign="top"><img src="/icons/blank.gif" alt="[ICO]"></th><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th><th><a href="?C=S;O=A">Size</a></th><th><a href="?C=D;O=A">Description</a></th></tr>
   <tr><th colspan="5"><hr></th></tr>
<tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td><td><a href="/pub/hs3/">Parent Directory</a></td><td>&nbsp;</td><td align="right">  - </td><td>&nbsp;</td></tr>
`, dir, dir)
	for _, e := range entries {
		icon := "unknown.gif"
		if strings.HasSuffix(e, "/") {
			icon = "folder.gif"
		}
		href := (&url.URL{Path: e}).EscapedPath()
		fmt.Fprintf(&b, `<tr><td valign="top"><img src="/icons/%s" alt="[   ]"></td><td><a href="%s">%s</a></td><td align="right">2013-08-25 00:00  </td><td align="right">1.2M</td><td>&nbsp;</td></tr>
`, icon, html.EscapeString(href), html.EscapeString(e))
	}
	b.WriteString(`   <tr><th colspan="5"><hr></th></tr>
</table>
<address>Apache/2.4.62 (Debian) Server at data.example.org Port 80</address>
<p>Mirrors: <A HREF='https://mirror.example.net/pub/hs3/hamsr/'>mirror</A>, <a href="mailto:help@example.org">help</a>, <a href="#top">top</a></p>
</body></html>
`)
	return b.String()
}

// nginxIndex renders a page as nginx's autoindex does.
func nginxIndex(dir string, entries []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<html>\r\n<head><title>Index of %s</title></head>\r\n<body>\r\n<h1>Index of %s</h1><hr><pre><a href=\"../\">../</a>\r\n", dir, dir)
	for _, e := range entries {
		fmt.Fprintf(&b, "<a href=\"%s\">%s</a>%s25-Aug-2013 00:00       -\r\n", html.EscapeString((&url.URL{Path: e}).EscapedPath()), html.EscapeString(e), strings.Repeat(" ", 10))
	}
	b.WriteString("</pre><hr></body>\r\n</html>\r\n")
	return b.String()
}

func newIndexServer(t *testing.T) (*indexServer, *httptest.Server, map[string][]byte) {
	t.Helper()
	tree := hs3Tree(t, t.TempDir())
	s := &indexServer{files: map[string][]byte{}, etags: map[string]string{}, mtime: time.Date(2013, 8, 25, 1, 2, 3, 0, time.UTC), cutOnce: map[string]int64{}}
	for p, b := range tree {
		s.files["/"+p] = b
		s.etags["/"+p] = `"v1-` + path.Base(p) + `"`
	}
	s.files["/pub/hs3/hamsr/notes & more.txt"] = []byte("odd name")
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv, tree
}

func httpProvider(t *testing.T, srv *httptest.Server) *lang.Provider {
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	return &lang.Provider{Name: "web", Protocol: "http", Host: u.Hostname(), Port: port, MaxConnections: 3}
}

func TestHTTPList(t *testing.T) {
	s, srv, _ := newIndexServer(t)
	l, err := New(httpProvider(t, srv), "", nil, fastRetry(), WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	files, err := l.List(ctx, "/pub/hs3/hamsr", true) // no trailing slash: the server redirects
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.Path)
		want, ok := s.files[f.Path]
		if !ok {
			t.Errorf("listed %q, which the server does not hold", f.Path)
			continue
		}
		if f.Size != int64(len(want)) || !f.ModTime.Equal(s.mtime) {
			t.Errorf("%s: size %d time %s, want %d %s", f.Path, f.Size, f.ModTime, len(want), s.mtime)
		}
		if f.Name != path.Base(f.Path) || !strings.HasPrefix(f.URL, srv.URL+"/pub/hs3/hamsr/") {
			t.Errorf("%s: name %q URL %q", f.Path, f.Name, f.URL)
		}
	}
	want := []string{
		"/pub/hs3/hamsr/2013/09/HS3_HAMSR_20130912T120000.nc",
		"/pub/hs3/hamsr/HS3_HAMSR_20130825T000000.nc",
		"/pub/hs3/hamsr/HS3_HAMSR_20130825T000000.nc.md5",
		"/pub/hs3/hamsr/HS3_HAMSR_20130825T000000.png",
		"/pub/hs3/hamsr/README.txt",
		"/pub/hs3/hamsr/notes & more.txt",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("listing:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	flat, err := l.List(ctx, "/pub/hs3/hamsr/", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(flat) != 5 {
		t.Errorf("non-recursive listing: %d files, want 5", len(flat))
	}

	for _, f := range files {
		b, err := readAll(t, l, f)
		if err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		if !bytes.Equal(b, s.files[f.Path]) {
			t.Errorf("%s: read %d bytes, want %d", f.Path, len(b), len(s.files[f.Path]))
		}
	}

	if _, err := l.List(ctx, "/nowhere/", true); err == nil {
		t.Error("listing a folder that is not there succeeded")
	}
}

func TestHTTPResume(t *testing.T) {
	s, srv, _ := newIndexServer(t)
	const p = "/pub/hs3/hamsr/HS3_HAMSR_20130825T000000.nc"
	content := s.files[p]
	s.cutOnce[p] = 100_000
	l, err := New(httpProvider(t, srv), "", nil, fastRetry(), WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f := RemoteFile{Path: p, Name: path.Base(p), Size: int64(len(content))}
	b, err := readAll(t, l, f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, content) {
		t.Fatalf("read %d bytes, want the file's %d", len(b), len(content))
	}
	if got := strings.Join(s.gets, "; "); got != "GET "+p+" ; GET "+p+" bytes=100000-" {
		t.Errorf("requests: %s", got)
	}

	// The file changes between the cut and the resumption: the reader
	// fails rather than splice two versions together.
	s.gets = nil
	s.cutOnce[p] = 100_000
	rc, err := l.Open(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	buf := make([]byte, 50_000)
	if _, err := rc.Read(buf); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.etags[p] = `"v2"`
	s.mtime = s.mtime.Add(time.Hour)
	s.mu.Unlock()
	var rest bytes.Buffer
	_, err = rest.ReadFrom(rc)
	if !errors.Is(err, ErrIncomplete) {
		t.Errorf("file changed mid-read: err %v, want ErrIncomplete", err)
	}
}

func TestHTTPBasicAuth(t *testing.T) {
	s, srv, _ := newIndexServer(t)
	s.user, s.pass = "ghrc", "s3cret"
	p := httpProvider(t, srv)
	anon, _ := New(p, "", nil, fastRetry())
	if _, err := anon.List(context.Background(), "/pub/hs3/hamsr/", false); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("without credentials: %v, want 401", err)
	}
	p.Username, p.Password = "ghrc", "s3cret"
	l, _ := New(p, "", nil, fastRetry())
	files, err := l.List(context.Background(), "/pub/hs3/hamsr/", false)
	if err != nil || len(files) != 5 {
		t.Fatalf("with credentials: %d files, %v", len(files), err)
	}
	if strings.Contains(files[0].URL, "s3cret") {
		t.Errorf("URL carries the password: %s", files[0].URL)
	}
	if b, err := readAll(t, l, files[0]); err != nil || len(b) == 0 {
		t.Errorf("reading with credentials: %v", err)
	}
}
