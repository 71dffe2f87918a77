package acquire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/cumulus-toolchain/cumulus/lang"
)

// hs3Config is a checked configuration with the HS3 HAMSR collection, read
// from a provider of the given protocol at host:port and path.
const hs3Config = `
variable "host" {
  type = string
}
variable "port" {
  type = number
}
variable "path" {
  type = string
}

bucket "staging"   { kind = "private" }
bucket "protected" { kind = "protected" }
bucket "public"    { kind = "public" }

provider "ghrc_ftp" {
  protocol = "ftp"
  host     = var.host
  port     = var.port
}

collection "hs3_hamsr" {
  version    = "1"
  granule_id = "^(HS3_HAMSR_[0-9]{8}T[0-9]{6})"
  file "data" {
    match  = "^HS3_HAMSR_[0-9]{8}T[0-9]{6}\\.nc$"
    bucket = bucket.protected
    sample = "HS3_HAMSR_20130825T000000.nc"
  }
  file "md5" {
    match        = "\\.nc\\.md5$"
    bucket       = bucket.staging
    checksum_for = "data"
    required     = false
    sample       = "HS3_HAMSR_20130825T000000.nc.md5"
  }
  file "browse" {
    match    = "\\.png$"
    bucket   = bucket.public
    required = false
    sample   = "HS3_HAMSR_20130825T000000.png"
  }
  url_path = "hamsr/${granule.year}/${granule.id}"
}

source "hamsr" {
  provider   = provider.ghrc_ftp
  path       = var.path
  collection = collection.hs3_hamsr
  pipeline   = pipeline.ingest
}

pipeline "ingest" {
  step "sync" {
    uses = stdlib.sync_granule
  }
}
`

func loadHS3(t *testing.T, port int, path string) *lang.Config {
	t.Helper()
	cfg, diags := lang.LoadSources(t.TempDir(), map[string][]byte{"main.cumulus.hcl": []byte(hs3Config)}, lang.Options{
		Vars: []lang.VarArg{{Name: "host", Value: "127.0.0.1"}, {Name: "port", Value: fmt.Sprint(port)}, {Name: "path", Value: path}},
	})
	if diags.HasErrors() {
		t.Fatalf("configuration: %s", diags.Error())
	}
	return cfg
}

// describe renders candidates one a line, for comparing.
func describe(cands []Candidate) string {
	var lines []string
	for _, c := range cands {
		id := c.GranuleID
		if id == "" {
			id = "(no id)"
		}
		var parts []string
		switch {
		case c.Ready:
			parts = append(parts, id+" ready:")
		case c.GranuleID != "":
			parts = append(parts, id+" waiting for "+strings.Join(c.Missing, ",")+":")
		default:
			parts = append(parts, id)
		}
		for _, f := range c.Files {
			parts = append(parts, f.Type+"="+f.Name)
		}
		for _, f := range c.Seen {
			parts = append(parts, "seen "+f.Type+"="+f.Name)
		}
		if len(c.Unmatched) > 0 {
			var names []string
			for _, f := range c.Unmatched {
				names = append(names, f.Name)
			}
			parts = append(parts, "unmatched: "+strings.Join(names, ","))
		}
		lines = append(lines, strings.Join(parts, " "))
	}
	return strings.Join(lines, "\n")
}

func hamsr() *lang.Collection {
	return &lang.Collection{
		Name:      "hs3_hamsr",
		Version:   "1",
		GranuleID: regexp.MustCompile(`^(HS3_HAMSR_[0-9]{8}T[0-9]{6})`),
		Files: []*lang.CollectionFile{
			{Name: "data", Match: regexp.MustCompile(`^HS3_HAMSR_[0-9]{8}T[0-9]{6}\.nc$`), Required: true},
			{Name: "md5", Match: regexp.MustCompile(`\.nc\.md5$`), ChecksumFor: "data"},
			{Name: "browse", Match: regexp.MustCompile(`\.png$`)},
		},
	}
}

func rf(p string) RemoteFile {
	name := p[strings.LastIndex(p, "/")+1:]
	return RemoteFile{Path: p, Name: name, Size: int64(len(p)), URL: "ftp://h" + p}
}

func TestGroup(t *testing.T) {
	files := []RemoteFile{
		rf("/pub/hamsr/HS3_HAMSR_20130825T000000.png"),
		rf("/pub/hamsr/HS3_HAMSR_20130825T000000.nc.md5"),
		rf("/pub/hamsr/HS3_HAMSR_20130825T000000.nc"),
		rf("/pub/hamsr/HS3_HAMSR_20130826T060000.nc.md5"), // sidecar before its data file
		rf("/pub/hamsr/HS3_HAMSR_20130826T060000.png"),
		rf("/pub/hamsr/2013/HS3_HAMSR_20130901T000000.nc"),
		rf("/pub/hamsr/HS3_HAMSR_20130825T000000.txt"), // the granule's id, but no file block
		rf("/pub/hamsr/README.txt"),
		rf("/pub/hamsr/index.html"),
	}
	got := describe(Group(hamsr(), files))
	want := strings.Join([]string{
		"HS3_HAMSR_20130825T000000 ready: data=HS3_HAMSR_20130825T000000.nc md5=HS3_HAMSR_20130825T000000.nc.md5 browse=HS3_HAMSR_20130825T000000.png unmatched: HS3_HAMSR_20130825T000000.txt",
		"HS3_HAMSR_20130826T060000 waiting for data: md5=HS3_HAMSR_20130826T060000.nc.md5 browse=HS3_HAMSR_20130826T060000.png",
		"HS3_HAMSR_20130901T000000 ready: data=HS3_HAMSR_20130901T000000.nc",
		"(no id) unmatched: README.txt,index.html",
	}, "\n")
	if got != want {
		t.Errorf("Group:\n%s\nwant:\n%s", got, want)
	}

	// The same files in any order give the same candidates.
	first := Group(hamsr(), files)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20; i++ {
		shuffled := append([]RemoteFile(nil), files...)
		rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		if again := Group(hamsr(), shuffled); !reflect.DeepEqual(again, first) {
			t.Fatalf("Group depends on the order of its input:\n%s\nthen\n%s", describe(first), describe(again))
		}
	}
}

func TestGroupDetails(t *testing.T) {
	c := hamsr()
	cands := Group(c, []RemoteFile{
		rf("/b/HS3_HAMSR_20130825T000000.nc"),
		rf("/a/HS3_HAMSR_20130825T000000.nc"), // the same name in two folders
	})
	if len(cands) != 1 {
		t.Fatalf("%d candidates: %s", len(cands), describe(cands))
	}
	g := cands[0]
	if !g.Ready || len(g.Files) != 2 || g.Files[0].Path != "/a/HS3_HAMSR_20130825T000000.nc" {
		t.Errorf("two data files of one granule: %+v", g)
	}
	if g.Files[0].URL != "ftp://h/a/HS3_HAMSR_20130825T000000.nc" || g.Files[0].Type != "data" {
		t.Errorf("the matched file keeps its listing: %+v", g.Files[0])
	}

	if got := Group(c, nil); len(got) != 0 {
		t.Errorf("no files: %v", got)
	}

	// A collection whose files are all optional: any file makes a granule ready.
	opt := hamsr()
	opt.Files[0].Required = false
	if got := describe(Group(opt, []RemoteFile{rf("/HS3_HAMSR_20130825T000000.png")})); got != "HS3_HAMSR_20130825T000000 ready: browse=HS3_HAMSR_20130825T000000.png" {
		t.Errorf("optional files only: %s", got)
	}
	// ...but files without an id never are.
	if cands := Group(opt, []RemoteFile{rf("/x.png")}); len(cands) != 1 || cands[0].Ready {
		t.Errorf("a file without a granule id: %+v", cands)
	}

	// A granule_id without a capture group takes the whole match.
	whole := hamsr()
	whole.GranuleID = regexp.MustCompile(`HS3_HAMSR_[0-9]{8}`)
	if got := Group(whole, []RemoteFile{rf("/HS3_HAMSR_20130825T000000.nc")}); len(got) != 1 || got[0].GranuleID != "HS3_HAMSR_20130825" {
		t.Errorf("whole-match id: %s", describe(got))
	}
}

// fakeLister serves a fixed listing.
type fakeLister struct {
	files []RemoteFile
	err   error
	root  string
	rec   bool
}

func (f *fakeLister) List(_ context.Context, root string, recursive bool) ([]RemoteFile, error) {
	f.root, f.rec = root, recursive
	return f.files, f.err
}
func (f *fakeLister) Open(context.Context, RemoteFile) (io.ReadCloser, error) {
	return nil, errors.New("not here")
}
func (f *fakeLister) Close() error { return nil }

func TestPoll(t *testing.T) {
	files := []RemoteFile{
		rf("/pub/hamsr/HS3_HAMSR_20130825T000000.nc"),
		rf("/pub/hamsr/HS3_HAMSR_20130825T000000.png"),
		rf("/pub/hamsr/HS3_HAMSR_20130826T060000.nc"),
		rf("/pub/hamsr/HS3_HAMSR_20130827T000000.nc.md5"),
		rf("/pub/hamsr/README.txt"),
	}
	src := &lang.Source{Name: "hamsr", Path: "/pub/hamsr", Collection: hamsr(), Recursive: true}
	l := &fakeLister{files: files}
	ingested := map[string]bool{
		"/pub/hamsr/HS3_HAMSR_20130825T000000.nc":  true, // the data file came first...
		"/pub/hamsr/HS3_HAMSR_20130826T060000.nc":  true,
		"/pub/hamsr/README.txt":                    true, // reported once already
		"/pub/hamsr/HS3_HAMSR_20130827T000000.png": true, // not listed: irrelevant
	}
	seen := func(f RemoteFile) bool { return ingested[f.Path] }
	cands, err := Poll(context.Background(), l, src, seen)
	if err != nil {
		t.Fatal(err)
	}
	if l.root != "/pub/hamsr" || !l.rec {
		t.Errorf("listed %q recursive=%v", l.root, l.rec)
	}
	got := describe(cands)
	want := strings.Join([]string{
		// ...the browse image later: the granule is complete with it.
		"HS3_HAMSR_20130825T000000 ready: browse=HS3_HAMSR_20130825T000000.png seen data=HS3_HAMSR_20130825T000000.nc",
		"HS3_HAMSR_20130827T000000 waiting for data: md5=HS3_HAMSR_20130827T000000.nc.md5",
	}, "\n")
	if got != want {
		t.Errorf("Poll:\n%s\nwant:\n%s", got, want)
	}

	// A granule whose only new file is unmatched is reported, not ready.
	l.files = append(l.files, rf("/pub/hamsr/HS3_HAMSR_20130826T060000.txt"))
	cands, _ = Poll(context.Background(), l, src, seen)
	for _, c := range cands {
		if c.GranuleID == "HS3_HAMSR_20130826T060000" && (c.Ready || len(c.Unmatched) != 1) {
			t.Errorf("only an unmatched file new: %+v", c)
		}
	}

	l.err = errors.New("boom")
	if _, err := Poll(context.Background(), l, src, nil); err == nil || !errors.Is(err, l.err) {
		t.Errorf("a failed listing: %v", err)
	}
	if _, err := Poll(context.Background(), l, &lang.Source{Name: "x"}, nil); err == nil {
		t.Error("a source without a collection polled")
	}
}
