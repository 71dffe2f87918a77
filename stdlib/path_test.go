package stdlib

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

func parseExpr(t *testing.T, src string) hcl.Expression {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(src), "test.cumulus.hcl", hcl.Pos{Line: 1, Column: 1, Byte: 0})
	if diags.HasErrors() {
		t.Fatalf("parsing %s: %s", src, diags.Error())
	}
	return expr
}

func testGranule() Granule {
	return Granule{
		ID:         "HS3_HAMSR_20130825T000000",
		Collection: "hs3_hamsr",
		Version:    "1",
		Time:       time.Date(2013, 8, 25, 0, 0, 0, 0, time.UTC),
		Files:      []File{{Name: "HS3_HAMSR_20130825T000000.nc", Type: "data", Size: 10}},
	}
}

func TestRenderPath(t *testing.T) {
	base := &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var": cty.ObjectVal(map[string]cty.Value{"stage": cty.StringVal("dev")}),
		},
		Functions: Functions(t.TempDir(), false),
	}
	file := &File{Name: "HS3_HAMSR_20130825T000000.png", Type: "browse", Size: 5}
	good := []struct {
		name string
		src  string
		file *File
		base *hcl.EvalContext
		want string
	}{
		{"normal", `"hamsr/${granule.year}/${granule.id}"`, nil, base, "hamsr/2013/HS3_HAMSR_20130825T000000"},
		{"nil base context", `"hamsr/${granule.date}"`, nil, nil, "hamsr/2013-08-25"},
		{"leading slash normalised", `"/hamsr/${granule.year}"`, nil, base, "hamsr/2013"},
		{"trailing and repeated slashes", `"hamsr//${granule.month}///${granule.day}/"`, nil, base, "hamsr/08/25"},
		{"backslashes become slashes", `"hamsr\\${granule.doy}"`, nil, base, "hamsr/237"},
		{"var and functions from base", `"${var.stage}/${upper(granule.collection)}"`, nil, base, "dev/HS3_HAMSR"},
		{"file", `"hamsr/${file.type}/${file.name}"`, file, base, "hamsr/browse/HS3_HAMSR_20130825T000000.png"},
		{"granule.files indexed", `"x/${granule.files[0].type}"`, nil, base, "x/data"},
		{"dots inside a segment are fine", `"v1.2/${granule.id}.d"`, nil, base, "v1.2/HS3_HAMSR_20130825T000000.d"},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			got, diags := RenderPath(parseExpr(t, tc.src), tc.base, testGranule(), tc.file)
			if diags.HasErrors() {
				t.Fatalf("RenderPath(%s): %s", tc.src, diags.Error())
			}
			if got != tc.want {
				t.Errorf("RenderPath(%s) = %q, want %q", tc.src, got, tc.want)
			}
		})
	}

	bad := []struct {
		name    string
		src     string
		file    *File
		summary string
		detail  string // part of the detail
		atExpr  bool   // the subject is the whole expression
	}{
		{"dot-dot", `"hamsr/../${granule.id}"`, nil, "url_path contains a relative segment", `".." segment`, true},
		{"dot", `"hamsr/./x"`, nil, "url_path contains a relative segment", `"." segment`, true},
		{"number", `2013`, nil, "url_path must be a string", "evaluated to a number", true},
		{"list", `["a", granule.id]`, nil, "url_path must be a string", `join("/"`, true},
		{"null", `null`, nil, "url_path is null", "null", true},
		{"empty", `"/${granule.year}/"`, nil, "url_path is empty", "granule id carries no date", true},
		{"control character", `"a\nb"`, nil, "url_path contains a control character", "U+000A", true},
		{"too long", `"${join("/", [for i in range(200) : "abcdefgh"])}"`, nil, "url_path is too long", "at most 1024 bytes", true},
		{"unknown granule attribute", `"hamsr/${granule.yeer}"`, nil, "Unsupported attribute", `Did you mean "year"?`, false},
		{"unknown file attribute", `"x/${granule.files[0].nmae}"`, nil, "Unsupported attribute", `granule.files[0] has no attribute "nmae". Did you mean "name"?`, false},
		{"file without a file", `"x/${file.name}"`, nil, "No file here", "granule.files", false},
		{"unknown file attribute with a file", `"x/${file.sise}"`, &File{Name: "a"}, "Unsupported attribute", `Did you mean "size"?`, false},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			expr := parseExpr(t, tc.src)
			g := testGranule()
			if tc.name == "empty" {
				g.Time = time.Time{}
			}
			got, diags := RenderPath(expr, base, g, tc.file)
			if !diags.HasErrors() {
				t.Fatalf("RenderPath(%s) = %q, want an error", tc.src, got)
			}
			if got != "" {
				t.Errorf("RenderPath(%s) returned %q with an error", tc.src, got)
			}
			d := diags[len(diags)-1]
			if d.Severity != hcl.DiagError || d.Summary != tc.summary || !strings.Contains(d.Detail, tc.detail) {
				t.Errorf("RenderPath(%s) diagnostic = %q / %q; want %q / containing %q", tc.src, d.Summary, d.Detail, tc.summary, tc.detail)
			}
			if d.Subject == nil {
				t.Fatalf("RenderPath(%s) diagnostic has no subject", tc.src)
			}
			rng := expr.Range()
			if tc.atExpr && *d.Subject != rng {
				t.Errorf("RenderPath(%s) subject = %v, want the expression's range %v", tc.src, *d.Subject, rng)
			}
			if !tc.atExpr && !rng.Overlaps(*d.Subject) {
				t.Errorf("RenderPath(%s) subject = %v, outside the expression %v", tc.src, *d.Subject, rng)
			}
		})
	}
}

// The subject of an unknown attribute is the attribute itself, so an editor
// underlines just the typo.
func TestRenderPathTypoRange(t *testing.T) {
	src := `"hamsr/${granule.yeer}"`
	_, diags := RenderPath(parseExpr(t, src), nil, testGranule(), nil)
	if len(diags) != 1 {
		t.Fatalf("got %d diagnostics, want 1: %s", len(diags), diags.Error())
	}
	s := diags[0].Subject
	if got := src[s.Start.Byte:s.End.Byte]; got != ".yeer" {
		t.Errorf("subject covers %q, want %q", got, ".yeer")
	}
}

func TestNormalisePath(t *testing.T) {
	for in, want := range map[string]string{
		"a/b":        "a/b",
		"/a/b/":      "a/b",
		"//a//b//":   "a/b",
		`a\b\\c`:     "a/b/c",
		"///":        "",
		"":           "",
		"a b/c d.nc": "a b/c d.nc",
	} {
		if got := normalisePath(in); got != want {
			t.Errorf("normalisePath(%q) = %q, want %q", in, got, want)
		}
	}
}
