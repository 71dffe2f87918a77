package awsmodel

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
)

func TestECMAToRE2(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		match   []string
		reject  []string
		relaxed bool
	}{
		// Data Pipeline's XML-character pattern: \u escapes, and a surrogate
		// pair range that means U+10000-U+10FFFF.
		{pattern: `^[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\r\n\t]*$`,
			match: []string{"", "plain", "tab\tand\nnewline", "é", "😀 emoji"}, reject: []string{"bell\a", "\x00"}},
		{pattern: `^\p{Print}+$`, match: []string{"abc ~"}, reject: []string{"é", "a\tb"}},
		{pattern: `^\P{Print}$`, match: []string{"\t"}, reject: []string{"a"}},
		{pattern: `^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`, match: []string{"Größe 1:2", "a\u00a0b"}, reject: []string{"a!"}},
		// ECMA \s includes Unicode spaces and \v; RE2's is ASCII only.
		{pattern: `^\s$`, match: []string{" ", "\v", "\u00a0", "\u2028"}, reject: []string{"a"}},
		{pattern: `^[\s]$`, match: []string{"\u3000"}},
		{pattern: `^\S$`, match: []string{"a"}, reject: []string{"\u00a0"}},
		// ECMA '.' stops at \r and U+2028 as well as \n.
		{pattern: `^.$`, match: []string{"a", "😀"}, reject: []string{"\n", "\r", "\u2028"}},
		{pattern: `^[.]$`, match: []string{"."}, reject: []string{"a"}},
		{pattern: `a[]b`, reject: []string{"ab", "a]b"}},
		{pattern: `^a[^]b$`, match: []string{"a\nb"}},
		{pattern: `^[[a]+$`, match: []string{"[a["}},
		{pattern: `^\/\x41\u{1F600}\0$`, match: []string{"/A😀\x00"}},
		{pattern: `^\cJ$`, match: []string{"\n"}},
		{pattern: `^[0-9A-Za-z\.\-_]*(?<!\.)$`, match: []string{"bucket", "bucket."}, reject: []string{"a b"}, relaxed: true},
		{pattern: `^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$`, match: []string{"live"}, reject: []string{"a b"}, relaxed: true},
		{pattern: `^((?=[a(]\))x)+$`, match: []string{"xx"}, relaxed: true},
	} {
		pc := compilePattern(tc.pattern)
		if pc.err != nil {
			t.Errorf("%s: %v", tc.pattern, pc.err)
			continue
		}
		if pc.relaxed != tc.relaxed {
			t.Errorf("%s: relaxed = %v", tc.pattern, pc.relaxed)
		}
		for _, s := range tc.match {
			if !pc.re.MatchString(s) {
				t.Errorf("%s (as %s) does not match %q", tc.pattern, pc.re, s)
			}
		}
		for _, s := range tc.reject {
			if pc.re.MatchString(s) {
				t.Errorf("%s (as %s) matches %q", tc.pattern, pc.re, s)
			}
		}
	}
	for _, bad := range []string{`a\`, `[a`, `(?!a`, `(a)\1`} {
		if pc := compilePattern(bad); pc.err == nil {
			t.Errorf("%s: compiled as %s, want an error", bad, pc.re)
		}
	}
}

// probes are strings the differential test below feeds to every model
// pattern: identifiers, ARNs, edge characters.
var probes = []string{
	"", "a", "abc", "ABC-123_x.y", "-", "--", "a--b", "a-", "x.", ".x", "1", "123", "0123456789ab",
	"$LATEST", "live", "system.x", "_x", "a b", " ", "\t", "\n", "\r", "\v", "\u00a0", "é", "😀", "\x01",
	"/", "/path/", "/a/b/", "s3://bucket/key", "arn:aws:iam::123456789012:role/hs3-role",
	"arn:aws:lambda:us-west-2:123456789012:function:hs3-fn", "arn:aws:sns:us-west-2:123456789012:topic",
	"arn:aws:states:us-west-2:123456789012:stateMachine:hs3", "hs3-cmr-metadata", "my function",
	"us-west-2", "host.example.com:8080", "a=b,c@d+e", "%41bc", "deadbeefdeadbeef", "*", "Ref::x",
}

// TestPatternsAgreeWithECMAEngine runs every pattern in every model, as
// translated for RE2, against JavaScript's own regular expressions (Node.js,
// Unicode mode: Smithy's pattern semantics) on the probe strings. A relaxed
// pattern may match more than JavaScript does, never less.
func TestPatternsAgreeWithECMAEngine(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("skipping: node is not on PATH")
	}
	dir, err := ModelsDir()
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	set := map[string]*patternCheck{}
	for _, f := range files {
		m, err := LoadService(filepath.Base(f[:len(f)-len(".json")]))
		if err != nil {
			t.Fatal(err)
		}
		for p, c := range m.patterns {
			set[p] = c
		}
	}
	patterns := make([]string, 0, len(set))
	for p := range set {
		patterns = append(patterns, p)
	}
	sort.Strings(patterns)
	in, _ := json.Marshal(map[string]any{"patterns": patterns, "probes": probes})
	script := `
const {patterns, probes} = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'));
console.log(JSON.stringify(patterns.map(p => {
  let re;
  try { re = new RegExp(p, 'u'); } catch (e) {
    // Unicode mode forbids identity escapes such as \_ and \- that AWS
    // patterns use; without \u or \p the legacy mode reads them the same.
    if (/\\[upP]/.test(p)) return null;
    try { re = new RegExp(p); } catch (e) { return null; }
  }
  return probes.map(s => re.test(s));
})));`
	tmp := filepath.Join(t.TempDir(), "in.json")
	if err := os.WriteFile(tmp, in, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, "-e", script, tmp).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var results [][]bool
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatal(err)
	}
	compared := 0
	for i, p := range patterns {
		c := set[p]
		if results[i] == nil {
			// \p{Print} is Java's, not ECMA's: TestECMAToRE2 covers it.
			t.Logf("JavaScript rejects %q in Unicode mode; not compared", p)
			continue
		}
		if c.err != nil {
			continue
		}
		compared++
		for j, s := range probes {
			js, goes := results[i][j], c.re.MatchString(s)
			if js != goes && !(c.relaxed && goes) {
				t.Errorf("%q on %q: JavaScript %v, Go (%s) %v", p, s, js, c.re, goes)
			}
		}
	}
	t.Logf("%d patterns x %d probes agree with JavaScript", compared, len(probes))
}
