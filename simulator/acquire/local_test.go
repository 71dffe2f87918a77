package acquire

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cumulus-toolchain/cumulus/lang"
)

func TestLocal(t *testing.T) {
	base := t.TempDir() // the configuration's folder
	want := hs3Tree(t, filepath.Join(base, "data"))
	if err := os.WriteFile(filepath.Join(base, "data/pub/hs3/hamsr/.HS3_HAMSR_20130826T000000.nc.part"), []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "data/pub/hs3/hamsr/README.txt"), filepath.Join(base, "data/pub/hs3/hamsr/LINK.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "data/pub"), filepath.Join(base, "data/pub/hs3/hamsr/loop")); err != nil {
		t.Fatal(err)
	}
	l, err := New(&lang.Provider{Name: "incoming", Protocol: "local"}, base, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	files, err := l.List(ctx, "data/pub/hs3", true) // relative to the configuration's folder
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		rel, _ := filepath.Rel(filepath.Join(base, "data"), f.Path)
		rel = filepath.ToSlash(rel)
		got = append(got, rel)
		if rel == "pub/hs3/hamsr/LINK.txt" {
			rel = "pub/hs3/hamsr/README.txt"
		}
		if f.Size != int64(len(want[rel])) || f.ModTime.IsZero() || !strings.HasPrefix(f.URL, "file:///") {
			t.Errorf("%s: size %d time %v URL %q", rel, f.Size, f.ModTime, f.URL)
		}
		b, err := readAll(t, l, f)
		if err != nil || !bytes.Equal(b, want[rel]) {
			t.Errorf("%s: read %d bytes, %v", rel, len(b), err)
		}
	}
	wantPaths := []string{
		"pub/hs3/hamsr/2013/09/HS3_HAMSR_20130912T120000.nc",
		"pub/hs3/hamsr/HS3_HAMSR_20130825T000000.nc",
		"pub/hs3/hamsr/HS3_HAMSR_20130825T000000.nc.md5",
		"pub/hs3/hamsr/HS3_HAMSR_20130825T000000.png",
		"pub/hs3/hamsr/LINK.txt",
		"pub/hs3/hamsr/README.txt",
		"pub/hs3/hirad/2013/HS3_HIRAD_20130825_v02.nc",
	}
	if strings.Join(got, "\n") != strings.Join(wantPaths, "\n") {
		t.Errorf("listing:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantPaths, "\n"))
	}

	abs, err := l.List(ctx, filepath.Join(base, "data/pub/hs3/hamsr"), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(abs) != 5 {
		t.Errorf("non-recursive listing of an absolute path: %d files, want 5", len(abs))
	}

	if _, err := l.List(ctx, "missing", true); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("listing a missing folder: %v", err)
	}

	// A file that shrank since it was listed is not passed off as whole.
	f := files[1]
	if err := os.WriteFile(f.Path, []byte("short"), 0o644); err != nil {
		t.Fatal(err)
	}
	lf, _ := New(&lang.Provider{Name: "incoming", Protocol: "local"}, base, nil, fastRetry())
	if _, err := readAll(t, lf, f); !errors.Is(err, ErrIncomplete) {
		t.Errorf("reading a file that changed: %v, want ErrIncomplete", err)
	}
}

func TestNew(t *testing.T) {
	if _, err := New(&lang.Provider{Name: "b", Protocol: "s3", Host: "bucket"}, "", nil); err == nil {
		t.Error("an s3 provider without a client")
	}
	if _, err := New(&lang.Provider{Name: "x", Protocol: "sftp"}, "", nil); err == nil {
		t.Error("an unsupported protocol")
	}
	if _, err := New(nil, "", nil); err == nil {
		t.Error("no provider")
	}
	p := &lang.Provider{Name: "ghrc-ftp", Username: "cfg", Password: "pw"}
	env := []string{"CUMULUS_PROVIDER_GHRC_FTP_USERNAME=env", "CUMULUS_PROVIDER_GHRC_FTP_PASSWORD=envpw"}
	if u, pw := providerCredentials(p, env); u != "cfg" || pw != "pw" {
		t.Errorf("the configuration's credentials win: %q %q", u, pw)
	}
	p.Username, p.Password = "", ""
	if u, pw := providerCredentials(p, env); u != "env" || pw != "envpw" {
		t.Errorf("credentials from the environment: %q %q", u, pw)
	}
	if u, pw := providerCredentials(p, nil); u != "" || pw != "" {
		t.Errorf("no environment: %q %q", u, pw)
	}
}
