package distribution

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	compdist "github.com/cumulus-toolchain/cumulus/compiler/distribution"
	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/lang"
)

func TestLocalUsers(t *testing.T) {
	random := bytes.NewReader(bytes.Repeat([]byte{1}, 1000))
	p := testPolicy()
	p.Auth.Users = []string{"alice", "bob"}
	users, generated, err := LocalUsers(p, "alice:s3cret, dave:pw:with:colons", random)
	if err != nil {
		t.Fatal(err)
	}
	if users["alice"] != "s3cret" || users["dave"] != "pw:with:colons" || users["bob"] == "" || !slices.Equal(generated, []string{"bob"}) {
		t.Errorf("users %v generated %v", users, generated)
	}
	// No user anywhere: one is made, so a simulation can be logged in to.
	p.Auth = nil
	users, generated, err = LocalUsers(p, "", random)
	if err != nil || len(users) != 1 || users[DefaultUser] == "" || !slices.Equal(generated, []string{DefaultUser}) {
		t.Errorf("default user: %v %v %v", users, generated, err)
	}
	// Nothing to log in to: nothing generated.
	anon := &graph.Distribution{Name: "x", Buckets: testPolicy().Buckets[:1]}
	if users, generated, _ := LocalUsers(anon, "", random); len(users) != 0 || len(generated) != 0 {
		t.Errorf("anonymous only: %v %v", users, generated)
	}
	_, _, err = LocalUsers(p, "alice", random)
	if err == nil {
		t.Errorf("a pair without password was accepted")
	}
	_, _, err = LocalUsers(p, "bad name:topsecret", random)
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Errorf("error %v should refuse without showing the password", err)
	}
}

func TestParseKey(t *testing.T) {
	if k, err := ParseKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="); err != nil || len(k) != 32 {
		t.Errorf("%v %d", err, len(k))
	}
	for _, bad := range []string{"short", "c2hvcnQ=", "not base64!"} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestPolicyFromExample builds the handler from the hs3 example the way
// `cumulus simulate` and the Lambda do: load, build the graph, pick the
// distribution by name.
func TestPolicyFromExample(t *testing.T) {
	cfg, diags := lang.Load(filepath.Join("..", "..", "examples", "hs3"), lang.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g, diags := graph.Build(cfg)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	d := g.Distribution("main")
	if d == nil {
		t.Fatal("no distribution main")
	}
	f := newFixture(t, d)
	resp, _ := f.do(f.noFollow, "GET", browsePath, nil)
	if resp.StatusCode != 307 || resp.Header.Get("Cache-Control") != "public, max-age=86400" {
		t.Errorf("public: %s %v", resp.Status, resp.Header)
	}
	resp, _ = f.do(f.noFollow, "GET", protectedPath, nil)
	if resp.StatusCode != 401 {
		t.Errorf("protected: %s", resp.Status)
	}
}

// TestCompilerAgrees checks that the CloudFront cache key the compiler
// writes forwards exactly what this handler reads.
func TestCompilerAgrees(t *testing.T) {
	if !slices.Equal(compdist.LinkParams, []string{paramExpires, paramSignature, paramUser}) ||
		!slices.Equal(compdist.AuthCookies, []string{tokenCookie}) ||
		!slices.Equal(compdist.AuthHeaders, []string{"Authorization"}) {
		t.Errorf("compiler/distribution forwards %v %v %v", compdist.LinkParams, compdist.AuthCookies, compdist.AuthHeaders)
	}
}
