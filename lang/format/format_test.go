package format

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestSource(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{
			name: "misaligned equals",
			in:   "a = 1\nlonger = 2\nbb= 3\n",
			want: "a      = 1\nlonger = 2\nbb     = 3\n",
		},
		{
			name: "indentation",
			in:   "toolchain \"go\" {\n      version = \"1.26\"\n  env {\n CGO_ENABLED = \"0\"\n        }\n}\n",
			want: "toolchain \"go\" {\n  version = \"1.26\"\n  env {\n    CGO_ENABLED = \"0\"\n  }\n}\n",
		},
		{
			name: "tabs",
			in:   "a {\n\tb = 1\n}\n",
			want: "a {\n  b = 1\n}\n",
		},
		{
			name: "crlf",
			in:   "a = 1\r\nbb = 2\r\n",
			want: "a  = 1\nbb = 2\n",
		},
		{
			name: "crlf in heredoc",
			in:   "a = <<EOT\r\nx\r\nEOT\r\n",
			want: "a = <<EOT\nx\nEOT\n",
		},
		{
			name: "trailing whitespace",
			in:   "a = 1   \nb = 2\t\n",
			want: "a = 1\nb = 2\n",
		},
		{
			name: "trailing whitespace in comments",
			in:   "# top   \na = 1 # note \t\n/* one  \n\n   two */\n",
			want: "# top\na = 1 # note\n/* one\n\n   two */\n",
		},
		{
			name: "missing final newline",
			in:   "a = 1",
			want: "a = 1\n",
		},
		{
			name: "final comment without newline",
			in:   "a = 1\n# end",
			want: "a = 1\n# end\n",
		},
		{
			name: "extra final newlines",
			in:   "a = 1\n\n\n  \n",
			want: "a = 1\n",
		},
		{
			name: "leading blank lines",
			in:   "\n  \n\n# hello\na = 1\n",
			want: "# hello\na = 1\n",
		},
		{
			name: "blank line runs",
			in:   "a = 1\n\n\n\nb = 2\n# c\n\n\n\nd {\n\n\n  e = 1\n}\n",
			want: "a = 1\n\nb = 2\n# c\n\nd {\n\n  e = 1\n}\n",
		},
		{
			name: "heredoc body untouched",
			in:   "x {\nc = <<-EOT\n   foo  \n\n\n\n  EOT\n}\n",
			want: "x {\n  c = <<-EOT\n   foo  \n\n\n\n  EOT\n}\n",
		},
		{
			name: "heredoc interpolation",
			in:   "c = <<EOT\n  a ${ b }  \nEOT\n",
			want: "c = <<EOT\n  a ${b}  \nEOT\n",
		},
		{
			name: "string spaces untouched",
			in:   "a = \"  x  ${y}  \"   \n",
			want: "a = \"  x  ${y}  \"\n",
		},
		{
			name: "empty",
			in:   "",
			want: "",
		},
		{
			name: "only whitespace",
			in:   "\n \r\n\t\n",
			want: "",
		},
		{
			name: "byte order mark dropped",
			in:   "\ufeffa = 1\n",
			want: "a = 1\n",
		},
		{
			name: "vars file",
			in:   "go_version=\"1.26\"\ntags=[ \"a\",\"b\" ]\n",
			want: "go_version = \"1.26\"\ntags       = [\"a\", \"b\"]\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, diags := Source([]byte(tt.in), "x.cumulus.hcl")
			if diags.HasErrors() {
				t.Fatalf("unexpected diagnostics: %v", diags)
			}
			if got == nil {
				t.Fatalf("got nil bytes")
			}
			if string(got) != tt.want {
				t.Errorf("Source(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			again, diags := Source(got, "x.cumulus.hcl")
			if diags.HasErrors() {
				t.Fatalf("reformatting: %v", diags)
			}
			if !bytes.Equal(again, got) {
				t.Errorf("not idempotent:\n once %q\ntwice %q", got, again)
			}
		})
	}
}

func TestSourceFormattedUnchanged(t *testing.T) {
	src := `# Build settings for the demo module.
module "demo" {
  path    = "./cmd/demo"
  version = "1.2.3"

  env = {
    CGO_ENABLED = "0"
    GOOS        = "linux"
  }

  flags = [
    "-trimpath",
    "-ldflags=-s -w",
  ]

  script = <<-EOT
    echo "${var.greeting}"   
	tab line
  EOT
}

toolchain "go" {
  version = var.go_version # pinned
  enabled = var.go_version != "" ? true : false
}
`
	got, diags := Source([]byte(src), "demo.cumulus.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if string(got) != src {
		t.Errorf("formatted file changed:\n%s", got)
	}
}

func TestSourceSyntaxError(t *testing.T) {
	got, diags := Source([]byte("a = 1\nb = {\n"), "broken.cumulus.hcl")
	if got != nil {
		t.Errorf("got %q, want nil", got)
	}
	if !diags.HasErrors() {
		t.Fatal("no error diagnostics")
	}
	d := diags[0]
	if d.Subject == nil {
		t.Fatal("diagnostic has no range")
	}
	if d.Subject.Filename != "broken.cumulus.hcl" || d.Subject.Start.Line < 2 {
		t.Errorf("diagnostic range %v, want one in broken.cumulus.hcl at line 2 or later", d.Subject)
	}
}

func TestSourceInvalidUTF8(t *testing.T) {
	got, diags := Source([]byte("a = 1\nb = \xe80\n"), "x.cumulus.hcl")
	if got != nil || !diags.HasErrors() {
		t.Fatalf("got %q, %v; want refusal", got, diags)
	}
	if r := diags[0].Subject; r == nil || r.Start.Line != 2 || r.Start.Column != 5 || r.Start.Byte != 10 {
		t.Errorf("diagnostic range %v, want 2:5 (byte 10)", r)
	}
}

// TestSourceRefusesMeaningChange pins a case where hclwrite alone would change
// what the file says, by gluing two tokens into one number.
func TestSourceRefusesMeaningChange(t *testing.T) {
	got, diags := Source([]byte("a = 1 .5\n"), "x.cumulus.hcl")
	if got != nil || !diags.HasErrors() {
		t.Fatalf("got %q, %v; want refusal", got, diags)
	}
	if d := diags[0]; d.Summary != "Cannot format file safely" || d.Subject == nil || d.Subject.Start.Line != 1 {
		t.Errorf("unexpected diagnostic %#v", d)
	}
}

const (
	messy = "a=1\nlonger = 2\n"
	tidy1 = "a      = 1\nlonger = 2\n"
)

// tree writes files (name -> content, mode 0644 unless the name has a mode in
// modes) under a new temporary directory and returns it.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRunCheck(t *testing.T) {
	dir := tree(t, map[string]string{
		"a.cumulus.hcl":  messy,
		"b.cumulus.vars": messy,
		"c.cumulus.hcl":  tidy1,
		"notes.hcl":      messy,
	})
	var out bytes.Buffer
	res, diags, err := Run([]string{dir}, Options{Check: true, List: true, Out: &out})
	if err != nil || diags.HasErrors() {
		t.Fatal(err, diags)
	}
	want := []string{filepath.Join(dir, "a.cumulus.hcl"), filepath.Join(dir, "b.cumulus.vars")}
	if !slices.Equal(res.Changed, want) {
		t.Errorf("Changed = %q, want %q", res.Changed, want)
	}
	if got := out.String(); got != strings.Join(want, "\n")+"\n" {
		t.Errorf("listed %q", got)
	}
	for _, name := range []string{"a.cumulus.hcl", "b.cumulus.vars", "notes.hcl"} {
		if got := read(t, filepath.Join(dir, name)); got != messy {
			t.Errorf("%s was written: %q", name, got)
		}
	}
	if len(res.Files) != 3 {
		t.Errorf("Files has %d entries, want 3", len(res.Files))
	}
	if string(res.Files[want[0]]) != messy {
		t.Errorf("Files[%s] = %q", want[0], res.Files[want[0]])
	}
}

func TestRunWrites(t *testing.T) {
	dir := tree(t, map[string]string{
		"a.cumulus.hcl": messy,
		"x.cumulus.hcl": messy,
	})
	exe := filepath.Join(dir, "x.cumulus.hcl")
	if err := os.Chmod(exe, 0o751); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, diags, err := Run([]string{dir}, Options{Out: &out})
	if err != nil || diags.HasErrors() {
		t.Fatal(err, diags)
	}
	if len(res.Changed) != 2 {
		t.Errorf("Changed = %q", res.Changed)
	}
	if out.Len() != 0 {
		t.Errorf("wrote %q to Out without List or Diff", out.String())
	}
	for _, name := range []string{"a.cumulus.hcl", "x.cumulus.hcl"} {
		if got := read(t, filepath.Join(dir, name)); got != tidy1 {
			t.Errorf("%s = %q", name, got)
		}
	}
	for name, want := range map[string]fs.FileMode{"a.cumulus.hcl": 0o644, "x.cumulus.hcl": 0o751} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode = %v, want %v", name, fi.Mode().Perm(), want)
		}
	}
	// No temporary files may be left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory holds %d entries after writing", len(entries))
	}

	// A second run has nothing to do.
	res, _, err = Run([]string{dir}, Options{})
	if err != nil || len(res.Changed) != 0 {
		t.Errorf("second run: %v, changed %q", err, res.Changed)
	}
}

func TestRunExplicitFile(t *testing.T) {
	dir := tree(t, map[string]string{"odd-name.txt": messy})
	name := filepath.Join(dir, "odd-name.txt")
	res, _, err := Run([]string{name}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Changed, []string{name}) || read(t, name) != tidy1 {
		t.Errorf("explicit file not formatted: %q", res.Changed)
	}
}

func TestRunSymlinkWrittenThrough(t *testing.T) {
	dir := tree(t, map[string]string{"real.cumulus.hcl": messy})
	link := filepath.Join(dir, "link.hcl")
	if err := os.Symlink("real.cumulus.hcl", link); err != nil {
		t.Skip(err)
	}
	if _, _, err := Run([]string{link}, Options{}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("symlink replaced: %v", err)
	}
	if got := read(t, filepath.Join(dir, "real.cumulus.hcl")); got != tidy1 {
		t.Errorf("target = %q", got)
	}
}

func TestRunRecursive(t *testing.T) {
	files := map[string]string{
		"a.cumulus.hcl":                   messy,
		"sub/b.cumulus.hcl":               messy,
		"sub/deeper/c.cumulus.vars":       messy,
		"sub/z.cumulus.hcl":               messy,
		".hidden/d.cumulus.hcl":           messy,
		"sub/.git/e.cumulus.hcl":          messy,
		"testdata/f.cumulus.hcl":          messy,
		"sub/deeper/not-cumulus.tf":       messy,
		"sub/deeper/g.cumulus.hcl.backup": messy,
	}

	dir := tree(t, files)
	res, _, err := Run([]string{dir}, Options{Check: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(dir, "a.cumulus.hcl")}; !slices.Equal(res.Changed, want) {
		t.Errorf("non-recursive Changed = %q, want %q", res.Changed, want)
	}

	res, _, err = Run([]string{dir}, Options{Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, n := range []string{"a.cumulus.hcl", "sub/b.cumulus.hcl", "sub/deeper/c.cumulus.vars", "sub/z.cumulus.hcl", "testdata/f.cumulus.hcl"} {
		want = append(want, filepath.Join(dir, filepath.FromSlash(n)))
	}
	if !slices.Equal(res.Changed, want) {
		t.Errorf("recursive Changed =\n%q\nwant\n%q", res.Changed, want)
	}
	for _, n := range []string{".hidden/d.cumulus.hcl", "sub/.git/e.cumulus.hcl", "sub/deeper/not-cumulus.tf"} {
		if got := read(t, filepath.Join(dir, filepath.FromSlash(n))); got != messy {
			t.Errorf("%s was formatted", n)
		}
	}
}

func TestRunRelativeNames(t *testing.T) {
	dir := tree(t, map[string]string{"a.cumulus.hcl": messy, "sub/b.cumulus.hcl": messy})
	t.Chdir(dir)
	res, _, err := Run(nil, Options{Check: true, Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a.cumulus.hcl", filepath.Join("sub", "b.cumulus.hcl")}; !slices.Equal(res.Changed, want) {
		t.Errorf("Changed = %q, want %q", res.Changed, want)
	}
}

func TestRunDiff(t *testing.T) {
	dir := tree(t, map[string]string{"a.cumulus.hcl": messy})
	t.Chdir(dir)
	var out bytes.Buffer
	_, _, err := Run([]string{"a.cumulus.hcl"}, Options{Check: true, Diff: true, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, line := range []string{
		"--- a.cumulus.hcl.orig\n",
		"+++ a.cumulus.hcl\n",
		"\n-a=1\n",
		"\n+a      = 1\n",
		"\n longer = 2\n",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("diff lacks %q:\n%s", line, got)
		}
	}
	if read(t, "a.cumulus.hcl") != messy {
		t.Error("Check with Diff wrote the file")
	}
}

func TestRunBrokenFile(t *testing.T) {
	dir := tree(t, map[string]string{
		"a.cumulus.hcl": messy,
		"b.cumulus.hcl": "b = {\n  x =\n",
		"c.cumulus.hcl": messy,
		"d.cumulus.hcl": "d = [\n",
	})
	res, diags, err := Run([]string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !diags.HasErrors() {
		t.Fatal("no diagnostics for broken files")
	}
	seen := map[string]bool{}
	for _, d := range diags {
		if d.Severity == hcl.DiagError && d.Subject != nil {
			seen[filepath.Base(d.Subject.Filename)] = true
		}
	}
	if !seen["b.cumulus.hcl"] || !seen["d.cumulus.hcl"] || len(seen) != 2 {
		t.Errorf("diagnostics name %v, want b and d", seen)
	}
	if read(t, filepath.Join(dir, "b.cumulus.hcl")) != "b = {\n  x =\n" {
		t.Error("broken file was written")
	}
	for _, n := range []string{"a.cumulus.hcl", "c.cumulus.hcl"} {
		if read(t, filepath.Join(dir, n)) != tidy1 {
			t.Errorf("%s not formatted", n)
		}
	}
	if b := filepath.Join(dir, "b.cumulus.hcl"); string(res.Files[b]) != "b = {\n  x =\n" {
		t.Errorf("Files lacks the broken file's source for snippets")
	}
}

func TestRunMissingPath(t *testing.T) {
	dir := tree(t, map[string]string{"a.cumulus.hcl": messy})
	missing := filepath.Join(dir, "nope.cumulus.hcl")
	res, _, err := Run([]string{missing, dir}, Options{})
	if err == nil {
		t.Fatal("no error for a missing path")
	}
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("error %q does not wrap ErrNotExist with the path", err)
	}
	// The paths that do exist are still formatted.
	if len(res.Changed) != 1 || read(t, filepath.Join(dir, "a.cumulus.hcl")) != tidy1 {
		t.Errorf("existing path not formatted after the missing one: %q", res.Changed)
	}
}

func FuzzSource(f *testing.F) {
	for _, s := range []string{
		"",
		"a = 1\n",
		messy,
		"a = <<EOT\n  x  \n\nEOT\n",
		"a = <<-EOT\n  ${b}\n  %{ if c }d%{ endif }\n  EOT\n",
		"b \"l\" {\n  c = [1, 2,\n 3]\n  d = { e = f }\n}\n",
		"a = \"${ foo(\n\n  1) }\"\n",
		"# c\n\n\n/* x \n */ a = 1 // y\n",
		"a = b ? c : d\nx = [for k, v in m : k => v if v]\n",
		"a = -1 - -2\nb = !c\n",
		"a = 1\r\nb = 2\r\n",
		"a = 1 .5\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		once, diags := Source(src, "fuzz.cumulus.hcl")
		if diags.HasErrors() {
			if once != nil {
				t.Fatalf("refused with non-nil bytes %q", once)
			}
			return
		}
		twice, diags := Source(once, "fuzz.cumulus.hcl")
		if diags.HasErrors() {
			t.Fatalf("formatted output refused: %v\ninput  %q\noutput %q", diags, src, once)
		}
		if !bytes.Equal(once, twice) {
			t.Fatalf("not idempotent\ninput %q\nonce  %q\ntwice %q", src, once, twice)
		}
	})
}
