package acquire

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cumulus-toolchain/cumulus/lang"
	"github.com/cumulus-toolchain/cumulus/simulator/acquire/ftpfault"
)

// hs3Tree writes a small HS3-like archive tree under root and returns its
// files by path (relative to root, slash-separated) with their content.
func hs3Tree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 2<<20) // big enough to be cut mid-transfer
	for i := range big {
		big[i] = byte(rng.UintN(256))
	}
	sum := sha256.Sum256(big)
	files := map[string][]byte{
		"pub/hs3/hamsr/HS3_HAMSR_20130825T000000.nc":         big,
		"pub/hs3/hamsr/HS3_HAMSR_20130825T000000.nc.md5":     []byte("0123456789abcdef0123456789abcdef  HS3_HAMSR_20130825T000000.nc\n"),
		"pub/hs3/hamsr/HS3_HAMSR_20130825T000000.png":        []byte("\x89PNG\r\n\x1a\nnot really a picture"),
		"pub/hs3/hamsr/2013/09/HS3_HAMSR_20130912T120000.nc": sum[:],
		"pub/hs3/hamsr/README.txt":                           []byte("HAMSR data of the HS3 campaign\n"),
		"pub/hs3/hirad/2013/HS3_HIRAD_20130825_v02.nc":       []byte("a HIRAD day file"),
		"pub/hs3/empty/.keep":                                nil,
	}
	for p, b := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	delete(files, "pub/hs3/empty/.keep") // hidden: FTP and local listings leave it out
	return files
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// fastRetry keeps failing tests quick.
func fastRetry() Option { return WithRetry(4, 5*time.Millisecond, 50*time.Millisecond) }

func ftpProvider(port int) *lang.Provider {
	return &lang.Provider{Name: "ghrc_ftp", Protocol: "ftp", Host: "127.0.0.1", Port: port, Passive: true, MaxConnections: 2}
}

func readAll(t *testing.T, l Lister, f RemoteFile) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rc, err := l.Open(ctx, f)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func find(files []RemoteFile, name string) (RemoteFile, bool) {
	for _, f := range files {
		if f.Name == name {
			return f, true
		}
	}
	return RemoteFile{}, false
}

func TestFTPListAndOpen(t *testing.T) {
	root := t.TempDir()
	want := hs3Tree(t, root)
	srv := startVsftpd(t, root, nil)
	l, err := New(ftpProvider(srv.Port), "", nil, WithLogger(testLogger(t)), fastRetry())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()

	base := srv.Prefix + "/pub/hs3"
	files, err := l.List(ctx, base, true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		rel := strings.TrimPrefix(f.Path, srv.Prefix+"/")
		got = append(got, rel)
		if f.Name != path.Base(f.Path) {
			t.Errorf("%s: Name %q", f.Path, f.Name)
		}
		if f.Size != int64(len(want[rel])) {
			t.Errorf("%s: Size %d, want %d", rel, f.Size, len(want[rel]))
		}
		if f.ModTime.IsZero() {
			t.Errorf("%s: no ModTime", rel)
		}
		if wantURL := "ftp://127.0.0.1:" + strconv.Itoa(srv.Port) + f.Path; f.URL != wantURL {
			t.Errorf("%s: URL %q, want %q", rel, f.URL, wantURL)
		}
	}
	wantPaths := []string{
		"pub/hs3/hamsr/2013/09/HS3_HAMSR_20130912T120000.nc",
		"pub/hs3/hamsr/HS3_HAMSR_20130825T000000.nc",
		"pub/hs3/hamsr/HS3_HAMSR_20130825T000000.nc.md5",
		"pub/hs3/hamsr/HS3_HAMSR_20130825T000000.png",
		"pub/hs3/hamsr/README.txt",
		"pub/hs3/hirad/2013/HS3_HIRAD_20130825_v02.nc",
	}
	if strings.Join(got, "\n") != strings.Join(wantPaths, "\n") {
		t.Errorf("recursive listing:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantPaths, "\n"))
	}

	flat, err := l.List(ctx, base+"/hamsr", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(flat) != 4 {
		t.Errorf("non-recursive listing has %d files, want the 4 directly in hamsr: %v", len(flat), flat)
	}

	// A folder holding only hidden files lists as empty; a missing one is
	// an error, though vsftpd lists both alike.
	if empty, err := l.List(ctx, base+"/empty", true); err != nil || len(empty) != 0 {
		t.Errorf("empty folder: %v, %v", empty, err)
	}
	if _, err := l.List(ctx, base+"/nope", true); err == nil || !strings.Contains(err.Error(), "no such folder") {
		t.Errorf("missing folder: %v", err)
	}

	for _, f := range files {
		rel := strings.TrimPrefix(f.Path, srv.Prefix+"/")
		b, err := readAll(t, l, f)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if !bytes.Equal(b, want[rel]) {
			t.Errorf("%s: read %d bytes, not the file's %d", rel, len(b), len(want[rel]))
		}
	}

	// A file that is not there fails at once: retrying cannot help.
	start := time.Now()
	_, err = readAll(t, l, RemoteFile{Path: base + "/nope.nc", Name: "nope.nc", Size: -1, URL: "ftp://x/nope.nc"})
	if err == nil || !errors.Is(err, ErrIncomplete) {
		t.Errorf("reading a missing file: %v, want an error wrapping ErrIncomplete", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a missing file took %s to fail", d)
	}
}

func TestFTPPoll(t *testing.T) {
	root := t.TempDir()
	hs3Tree(t, root)
	srv := startVsftpd(t, root, nil)
	cfg := loadHS3(t, srv.Port, srv.Prefix+"/pub/hs3/hamsr")
	src := cfg.Source("hamsr")
	l, err := New(src.Provider, cfg.Dir, nil, fastRetry())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cands, err := Poll(context.Background(), l, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := describe(cands)
	want := strings.Join([]string{
		"HS3_HAMSR_20130825T000000 ready: data=HS3_HAMSR_20130825T000000.nc md5=HS3_HAMSR_20130825T000000.nc.md5 browse=HS3_HAMSR_20130825T000000.png",
		"HS3_HAMSR_20130912T120000 ready: data=HS3_HAMSR_20130912T120000.nc",
		"(no id) unmatched: README.txt",
	}, "\n")
	if got != want {
		t.Errorf("poll:\n%s\nwant:\n%s", got, want)
	}

	// Files ingested before are not fetched again.
	seen := func(f RemoteFile) bool { return strings.Contains(f.Name, "20130825") || f.Name == "README.txt" }
	cands, err = Poll(context.Background(), l, src, seen)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := describe(cands), "HS3_HAMSR_20130912T120000 ready: data=HS3_HAMSR_20130912T120000.nc"; got != want {
		t.Errorf("second poll:\n%s\nwant:\n%s", got, want)
	}
}

func TestFTPUserPassword(t *testing.T) {
	vsftpdPath(t)
	root := t.TempDir()
	want := hs3Tree(t, root)
	u := addLocalUser(t, root)
	// The server refuses anonymous logins, so listing proves the user's
	// password was checked and accepted.
	srv := startVsftpd(t, root, u)
	p := ftpProvider(srv.Port)
	p.Username, p.Password = u.Name, u.Password
	l, err := New(p, "", nil, fastRetry())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	files, err := l.List(context.Background(), "/pub/hs3/hamsr", false)
	if err != nil {
		t.Fatalf("listing as %s: %v", u.Name, err)
	}
	f, ok := find(files, "HS3_HAMSR_20130825T000000.nc")
	if !ok {
		t.Fatalf("listing as %s: no data file in %v", u.Name, files)
	}
	b, err := readAll(t, l, f)
	if err != nil || !bytes.Equal(b, want["pub/hs3/hamsr/HS3_HAMSR_20130825T000000.nc"]) {
		t.Errorf("reading as %s: %d bytes, %v", u.Name, len(b), err)
	}

	// The same user from the environment, when the configuration names none.
	env := []string{"CUMULUS_PROVIDER_GHRC_FTP_USERNAME=" + u.Name, "CUMULUS_PROVIDER_GHRC_FTP_PASSWORD=" + u.Password}
	l2, err := New(ftpProvider(srv.Port), "", nil, fastRetry(), WithEnv(env))
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if _, err := l2.List(context.Background(), "/pub/hs3/hamsr", false); err != nil {
		t.Errorf("listing with credentials from the environment: %v", err)
	}

	// A wrong password is refused at once, not retried (the proxy counts
	// the logins; PAM and vsftpd delay each refusal by seconds).
	proxy := newFTPProxy(t, srv.Addr)
	p = ftpProvider(proxy.Port())
	p.Username, p.Password = u.Name, "wrong"
	bad, err := New(p, "", nil, WithRetry(5, 10*time.Millisecond, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if _, err := bad.List(context.Background(), "/", false); err == nil {
		t.Error("a wrong password was accepted")
	} else if !strings.Contains(err.Error(), "530") {
		t.Errorf("wrong password: %v, want the server's 530", err)
	}
	if n := len(proxy.Commands("PASS")); n != 1 {
		t.Errorf("%d logins with a wrong password: a refused login was retried", n)
	}
}

// TestFTPDroppedMidFile is the fault test: the connection is cut in the
// middle of a file, and the reader still returns the whole file, byte for
// byte, having resumed where the cut left it.
func TestFTPDroppedMidFile(t *testing.T) {
	root := t.TempDir()
	want := hs3Tree(t, root)
	srv := startVsftpd(t, root, nil)
	const file = "pub/hs3/hamsr/HS3_HAMSR_20130825T000000.nc"
	const cut = 100_000
	content := want[file]

	cases := []struct {
		name  string
		setup func(*ftpfault.Proxy)
		check func(t *testing.T, p *ftpfault.Proxy)
	}{
		{"data connection cut, resumed with REST", func(p *ftpfault.Proxy) {}, func(t *testing.T, p *ftpfault.Proxy) {
			if rests := p.Commands("REST"); len(rests) != 1 || rests[0] != "REST 100000" {
				t.Errorf("REST commands %q, want one REST 100000", rests)
			}
		}},
		{"whole session dropped, reconnected", func(p *ftpfault.Proxy) { p.CutControl = true }, func(t *testing.T, p *ftpfault.Proxy) {
			if n := len(p.Commands("USER")); n < 2 {
				t.Errorf("%d logins: the client did not reconnect", n)
			}
			// The session may die before the client has read the reply
			// to RETR (then it starts again from 0) or after (then it
			// resumes where the cut left it).
			if rests := p.Commands("REST"); len(rests) > 1 || len(rests) == 1 && rests[0] != "REST 100000" {
				t.Errorf("REST commands %q, want none or one REST 100000", rests)
			}
		}},
		{"server reports success for a short copy", func(p *ftpfault.Proxy) { p.Drain = true }, nil},
		{"server without REST: file read again from the start", func(p *ftpfault.Proxy) { p.RefuseREST = true }, func(t *testing.T, p *ftpfault.Proxy) {
			if retrs := p.Commands("RETR"); len(retrs) < 2 {
				t.Errorf("RETR commands %q, want the file asked for again", retrs)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			proxy := newFTPProxy(t, srv.Addr)
			proxy.CutAfter, proxy.CutTimes = cut, 1
			tc.setup(proxy)
			l, err := New(ftpProvider(proxy.Port()), "", nil, WithLogger(testLogger(t)), fastRetry(), WithTimeout(10*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			f := RemoteFile{Path: srv.Prefix + "/" + file, Name: path.Base(file), Size: int64(len(content)), URL: "ftp://test/" + file}
			b, err := readAll(t, l, f)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if retrs, cuts := proxy.Stats(); cuts != 1 || retrs < 2 {
				t.Fatalf("the proxy cut %d transfers of %d: the fault was not injected", cuts, retrs)
			}
			if !bytes.Equal(b, content) {
				t.Fatalf("read %d bytes (sha256 %x), want the file's %d (sha256 %x)", len(b), sha256.Sum256(b), len(content), sha256.Sum256(content))
			}
			if tc.check != nil {
				tc.check(t, proxy)
			}
		})
	}

	// When every attempt is cut, the reader fails: it never passes a short
	// file off as whole.
	t.Run("always cut", func(t *testing.T) {
		proxy := newFTPProxy(t, srv.Addr)
		proxy.CutAfter, proxy.CutTimes, proxy.Drain = cut, -1, true
		proxy.RefuseREST = true
		l, err := New(ftpProvider(proxy.Port()), "", nil, fastRetry())
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		f := RemoteFile{Path: srv.Prefix + "/" + file, Name: path.Base(file), Size: int64(len(content)), URL: "ftp://test/" + file}
		b, err := readAll(t, l, f)
		if !errors.Is(err, ErrIncomplete) {
			t.Fatalf("read %d bytes, error %v; want an error wrapping ErrIncomplete", len(b), err)
		}
	})

	// Without a listed size, the server's 226 is the only proof of a
	// whole file; a cut data connection (426) is resumed all the same.
	t.Run("size unknown", func(t *testing.T) {
		proxy := newFTPProxy(t, srv.Addr)
		proxy.CutAfter, proxy.CutTimes = cut, 1
		l, err := New(ftpProvider(proxy.Port()), "", nil, fastRetry())
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		f := RemoteFile{Path: srv.Prefix + "/" + file, Name: path.Base(file), Size: -1, URL: "ftp://test/" + file}
		b, err := readAll(t, l, f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, content) {
			t.Fatalf("read %d bytes, want %d", len(b), len(content))
		}
	})
}

// TestFTPListReconnects drops the session while listing: the listing is
// done again on a new connection.
func TestFTPListReconnects(t *testing.T) {
	root := t.TempDir()
	hs3Tree(t, root)
	srv := startVsftpd(t, root, nil)
	proxy := newFTPProxy(t, srv.Addr)
	l, err := New(ftpProvider(proxy.Port()), "", nil, WithLogger(testLogger(t)), fastRetry())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	first, err := l.List(ctx, srv.Prefix+"/pub/hs3", true)
	if err != nil {
		t.Fatal(err)
	}
	// Drop every session: the pooled connection is dead, which the lister
	// finds out by using it.
	proxy.DropAll()
	second, err := l.List(ctx, srv.Prefix+"/pub/hs3", true)
	if err != nil {
		t.Fatalf("listing after the connection dropped: %v", err)
	}
	if len(second) != len(first) {
		t.Errorf("listing after reconnecting has %d files, want %d", len(second), len(first))
	}
	if n := len(proxy.Commands("USER")); n != 2 {
		t.Errorf("%d logins, want 2: one before the drop, one after", n)
	}
}

// TestFTPCancel: a cancelled context ends a read at once, with the
// cancellation as its error, and the lister stays usable.
func TestFTPCancel(t *testing.T) {
	root := t.TempDir()
	want := hs3Tree(t, root)
	srv := startVsftpd(t, root, nil)
	l, err := New(ftpProvider(srv.Port), "", nil, fastRetry())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const file = "pub/hs3/hamsr/HS3_HAMSR_20130825T000000.nc"
	f := RemoteFile{Path: srv.Prefix + "/" + file, Name: path.Base(file), Size: int64(len(want[file])), URL: "ftp://test/" + file}
	ctx, cancel := context.WithCancel(context.Background())
	rc, err := l.Open(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(rc, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	cancel()
	start := time.Now()
	_, err = io.ReadAll(rc)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("read after cancel: %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancelled read took %s to end", d)
	}
	rc.Close()
	if b, err := readAll(t, l, f); err != nil || !bytes.Equal(b, want[file]) {
		t.Errorf("reading again after a cancelled read: %d bytes, %v", len(b), err)
	}
}

// newFTPProxy starts a fault-injecting proxy in front of upstream for the
// test's duration.
func newFTPProxy(t *testing.T, upstream string) *ftpfault.Proxy {
	t.Helper()
	p, err := ftpfault.Start(upstream)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
