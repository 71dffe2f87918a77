package stdlib

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// listedFunctions is the table promised to the language: a change here is a
// change to the language.
var listedFunctions = strings.Fields(`
	abs ceil floor log max min parseint pow signum
	chomp format formatlist indent join lower upper regex regexall split strrev substr title
	trim trimprefix trimsuffix trimspace replace startswith endswith strcontains
	chunklist coalesce coalescelist compact concat contains distinct element flatten index keys
	length lookup merge range reverse setintersection setproduct setsubtract setunion slice sort
	values zipmap
	csvdecode jsondecode jsonencode formatdate timeadd
	tostring tonumber tobool tolist toset tomap try can
	base64encode base64decode urlencode md5 sha1 sha256 sha512 basename dirname duration`)

var fsFunctions = []string{"file", "fileexists", "filebase64"}

func TestFunctionTable(t *testing.T) {
	for _, allowFS := range []bool{false, true} {
		fns := Functions(t.TempDir(), allowFS)
		want := append([]string(nil), listedFunctions...)
		if allowFS {
			want = append(want, fsFunctions...)
		}
		for _, name := range want {
			if _, ok := fns[name]; !ok {
				t.Errorf("Functions(allowFS=%v) lacks %q", allowFS, name)
			}
		}
		if len(fns) != len(want) {
			var extra []string
			for name := range fns {
				if !contains(want, name) {
					extra = append(extra, name)
				}
			}
			sort.Strings(extra)
			t.Errorf("Functions(allowFS=%v) has %d functions, want %d; unexpected: %v", allowFS, len(fns), len(want), extra)
		}
		for _, banned := range []string{"timestamp", "uuid", "plantimestamp", "uuidv5", "bcrypt"} {
			if _, ok := fns[banned]; ok {
				t.Errorf("Functions has the non-deterministic %q", banned)
			}
		}
	}
	if _, ok := Functions(".", false)["file"]; ok {
		t.Error("file() is present with allowFS=false")
	}
	// Fresh per call: changing one table does not change the next.
	a := Functions(".", false)
	delete(a, "upper")
	if _, ok := Functions(".", false)["upper"]; !ok {
		t.Error("deleting from one table changed another")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// eval evaluates an HCL expression with the function table, as a configuration would.
func eval(t *testing.T, baseDir string, allowFS bool, src string) (cty.Value, hcl.Diagnostics) {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(src), "test.cumulus.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parsing %s: %s", src, diags.Error())
	}
	return expr.Value(&hcl.EvalContext{Functions: Functions(baseDir, allowFS)})
}

func TestFunctionResults(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin"), []byte{0xff, 0x00}, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		src  string
		want cty.Value
	}{
		{`duration("1h30m")`, cty.NumberIntVal(5400)},
		{`duration("0s")`, cty.NumberIntVal(0)},
		{`duration("30d")`, cty.NumberIntVal(30 * 86400)},
		{`replace("a-1-22-b", "/[0-9]+/", "N")`, cty.StringVal("a-N-N-b")},
		{`replace("HS3_20130825", "/([0-9]{4})([0-9]{4})/", "$1/$2")`, cty.StringVal("HS3_2013/0825")},
		{`replace("a.b.c", ".", "/")`, cty.StringVal("a/b/c")},
		{`replace("a/b/", "/", "-")`, cty.StringVal("a-b-")},
		{`base64decode(base64encode("héllo, wörld"))`, cty.StringVal("héllo, wörld")},
		{`base64encode("hello")`, cty.StringVal("aGVsbG8=")},
		{`urlencode("a b&c/d")`, cty.StringVal("a+b%26c%2Fd")},
		{`md5("hello")`, cty.StringVal("5d41402abc4b2a76b9719d911017c592")},
		{`sha1("hello")`, cty.StringVal("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d")},
		{`sha256("hello")`, cty.StringVal("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")},
		{`length(sha512("hello"))`, cty.NumberIntVal(128)},
		{`length(["a", "b"])`, cty.NumberIntVal(2)},
		{`length({a = 1})`, cty.NumberIntVal(1)},
		{`length("héllo")`, cty.NumberIntVal(5)},
		{`basename("hamsr/2013/a.nc")`, cty.StringVal("a.nc")},
		{`dirname("hamsr/2013/a.nc")`, cty.StringVal("hamsr/2013")},
		{`startswith("HS3_HAMSR", "HS3")`, cty.True},
		{`endswith("a.nc", ".md5")`, cty.False},
		{`strcontains("HS3_HAMSR", "HAM")`, cty.True},
		{`strrev("abc")`, cty.StringVal("cba")},
		{`reverse(tolist([1, 2, 3]))`, cty.ListVal([]cty.Value{cty.NumberIntVal(3), cty.NumberIntVal(2), cty.NumberIntVal(1)})},
		{`index(["a", "b", "c"], "b")`, cty.NumberIntVal(1)},
		{`try(index(["a"], "z"), -1)`, cty.NumberIntVal(-1)},
		{`can(duration("15 minutes"))`, cty.False},
		{`try(tonumber("x"), 7)`, cty.NumberIntVal(7)},
		{`formatdate("YYYY/MM", "2013-08-25T00:00:00Z")`, cty.StringVal("2013/08")},
		{`upper(trimspace(" a "))`, cty.StringVal("A")},
		{`file("hello.txt")`, cty.StringVal("hello\n")},
		{`filebase64("bin")`, cty.StringVal("/wA=")},
		{`fileexists("hello.txt")`, cty.True},
		{`fileexists("missing.txt")`, cty.False},
		{`file("` + filepath.ToSlash(filepath.Join(dir, "hello.txt")) + `")`, cty.StringVal("hello\n")},
	}
	for _, tc := range cases {
		got, diags := eval(t, dir, true, tc.src)
		if diags.HasErrors() {
			t.Errorf("%s: %s", tc.src, diags.Error())
			continue
		}
		if !got.RawEquals(tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.src, got, tc.want)
		}
	}
}

func TestFunctionErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bin"), []byte{0xff, 0x00}, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		src     string
		allowFS bool
		want    string // part of the diagnostic's detail
	}{
		{`duration("15 minutes")`, false, `such as "15m"`},
		{`duration("90")`, false, `write "90s" for seconds or "90m" for minutes`},
		{`replace("a", "/[/", "b")`, false, "not a valid regular expression"},
		{`base64decode("%%%")`, false, "not valid base64"},
		{`base64decode("/wA=")`, false, "not UTF-8"},
		{`index(["a"], "z")`, false, "not in the list"},
		{`index({a = 1}, 1)`, false, "lookup()"},
		{`file("missing.txt")`, true, "no file exists"},
		{`file("bin")`, true, "use filebase64"},
		{`file("sub")`, true, "is a folder"},
		{`fileexists("sub")`, true, "is a folder"},
		{`file("x")`, false, `no function named "file"`},
		{`timestamp()`, false, `no function named "timestamp"`},
	}
	for _, tc := range cases {
		_, diags := eval(t, dir, tc.allowFS, tc.src)
		if !diags.HasErrors() {
			t.Errorf("%s: expected an error", tc.src)
			continue
		}
		if msg := diags.Error(); !strings.Contains(msg, tc.want) {
			t.Errorf("%s: error %q does not contain %q", tc.src, msg, tc.want)
		}
	}
}

// Run-time values are unknown at validate time; functions must pass that
// through rather than fail, so the checker can type-check url_path and env.
func TestFunctionsWithUnknowns(t *testing.T) {
	ctx := &hcl.EvalContext{
		Functions: Functions(".", false),
		Variables: map[string]cty.Value{"granule": cty.UnknownVal(GranuleType())},
	}
	for _, src := range []string{
		`replace(granule.id, "/[0-9]+/", "")`,
		`startswith(granule.id, "HS3")`,
		`md5(granule.id)`,
		`basename(granule.id)`,
		`index(["a"], granule.id)`,
		`duration(granule.id)`,
		`length(granule.id)`,
		`length(granule.files)`,
	} {
		expr, diags := hclsyntax.ParseExpression([]byte(src), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		v, diags := expr.Value(ctx)
		if diags.HasErrors() {
			t.Errorf("%s with an unknown granule: %s", src, diags.Error())
			continue
		}
		if v.IsKnown() {
			t.Errorf("%s with an unknown granule = %#v, want unknown", src, v)
		}
	}
}
