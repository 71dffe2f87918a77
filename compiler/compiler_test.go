package compiler

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cumulus-toolchain/cumulus/lang"
	"github.com/cumulus-toolchain/cumulus/lang/langtest"
)

func compileDir(t *testing.T, dir string) *Result {
	t.Helper()
	cfg, diags := lang.Load(dir, lang.Options{})
	if diags.HasErrors() {
		t.Fatalf("load %s: %v", dir, diags)
	}
	res, diags := Compile(cfg)
	if diags.HasErrors() {
		t.Fatalf("compile %s: %v", dir, diags)
	}
	return res
}

// copyExample copies examples/hs3 into a new folder named name.
func copyExample(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Only the configuration: a simulation of the example leaves a
	// .cumulus folder beside it, and the demo tree is not configuration.
	files, _ := filepath.Glob(filepath.Join("..", "examples", "hs3", "*"+lang.Extension))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestDeterministic: the same configuration compiles to the same bytes,
// run after run (map order) and wherever its folder is.
func TestDeterministic(t *testing.T) {
	first := compileDir(t, filepath.Join("..", "examples", "hs3"))
	for i, dir := range []string{filepath.Join("..", "examples", "hs3"), copyExample(t, "elsewhere"), copyExample(t, "hs3")} {
		again := compileDir(t, dir)
		if len(again.Artifacts) != len(first.Artifacts) {
			t.Fatalf("run %d: %d artifacts, first had %d", i, len(again.Artifacts), len(first.Artifacts))
		}
		for j, a := range again.Artifacts {
			b := first.Artifacts[j]
			if a.Path != b.Path || !bytes.Equal(a.Data, b.Data) {
				t.Errorf("run %d: %s differs from the first compile", i, a.Path)
			}
		}
		if !bytes.Equal(again.Manifest(), first.Manifest()) {
			t.Errorf("run %d: manifest differs", i)
		}
	}
}

func TestWriteReplacesOutput(t *testing.T) {
	res := compileDir(t, filepath.Join("..", "examples", "hs3"))
	out := filepath.Join(t.TempDir(), "out")
	if err := Write(out, res); err != nil {
		t.Fatal(err)
	}
	// Something from an older compile that this one does not produce.
	stale := filepath.Join(out, "ecs", "gone.json")
	if err := os.WriteFile(stale, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(out, res); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a stale artifact survived the rewrite: %v", err)
	}
	for _, a := range res.Artifacts {
		b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(a.Path)))
		if err != nil || !bytes.Equal(b, a.Data) {
			t.Errorf("%s not written as compiled: %v", a.Path, err)
		}
	}
	m, err := os.ReadFile(filepath.Join(out, ManifestName))
	if err != nil || !bytes.Equal(m, res.Manifest()) {
		t.Errorf("manifest not written: %v", err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".out.tmp-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary folders left behind: %v", leftovers)
	}
}

func TestWriteRefusesForeignFolder(t *testing.T) {
	res := compileDir(t, filepath.Join("..", "examples", "hs3"))
	out := t.TempDir()
	precious := filepath.Join(out, "notes.txt")
	if err := os.WriteFile(precious, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Write(out, res)
	if err == nil || !strings.Contains(err.Error(), "not written by cumulus compile") {
		t.Fatalf("Write into a folder compile did not make: err = %v", err)
	}
	if b, _ := os.ReadFile(precious); string(b) != "mine" {
		t.Errorf("the folder's contents were touched")
	}
}

// TestWriteFailureKeepsPreviousOutput: when writing fails midway (here, the
// parent folder becomes read-only), the previous output stays as it was.
func TestWriteFailureKeepsPreviousOutput(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: permissions cannot make the write fail")
	}
	res := compileDir(t, filepath.Join("..", "examples", "hs3"))
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	if err := Write(out, res); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(out, ManifestName))
	if err := os.Chmod(parent, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(parent, 0o755)
	if err := Write(out, res); err == nil {
		t.Fatal("Write succeeded in a read-only folder")
	}
	after, _ := os.ReadFile(filepath.Join(out, ManifestName))
	if !bytes.Equal(before, after) {
		t.Error("the previous output changed")
	}
}

// BenchmarkCompile compiles the generated configuration of 1,000 pipelines
// of 10 steps (graph and every artifact, not writing them).
func BenchmarkCompile(b *testing.B) {
	cfg, diags := lang.LoadSources("bench", langtest.GenerateConfig(1000), lang.Options{})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	for b.Loop() {
		res, diags := Compile(cfg)
		if diags.HasErrors() || len(res.Artifacts) == 0 {
			b.Fatal(diags)
		}
	}
}

// TestWriteFailureMidwayKeepsPreviousOutput: a write that fails after some
// files were written (two artifacts that cannot both exist) leaves the
// previous output exactly as it was and no temporary folder behind.
func TestWriteFailureMidwayKeepsPreviousOutput(t *testing.T) {
	res := compileDir(t, filepath.Join("..", "examples", "hs3"))
	out := filepath.Join(t.TempDir(), "out")
	if err := Write(out, res); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(out, ManifestName))
	broken := &Result{Graph: res.Graph, Artifacts: []Artifact{
		{Path: "a/first.json", Data: []byte("{}\n")},
		{Path: "a/first.json/second.json", Data: []byte("{}\n")},
	}}
	if err := Write(out, broken); err == nil {
		t.Fatal("Write of impossible artifacts succeeded")
	}
	after, _ := os.ReadFile(filepath.Join(out, ManifestName))
	if !bytes.Equal(before, after) {
		t.Error("the previous output changed")
	}
	if _, err := os.Stat(filepath.Join(out, "a")); !os.IsNotExist(err) {
		t.Error("part of the failed write reached the output")
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".out.tmp-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary folders left behind: %v", leftovers)
	}
}

// TestTaskDefinitionTooLarge: a limit only the compiled document shows.
func TestTaskDefinitionTooLarge(t *testing.T) {
	src := `bucket "staging" { kind = "private" }
task "big" {
  runs_on = "ecs"
  image   = "daac/big:1"
  command = ["run", "` + strings.Repeat("x", 70000) + `"]
}
pipeline "p" {
  step "big" {
    task = task.big
  }
}
`
	cfg, diags := lang.LoadSources("big", map[string][]byte{"main.cumulus.hcl": []byte(src)}, lang.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	_, diags = Compile(cfg)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "AWS accepts at most 65536") {
		t.Fatalf("want a size error, got %v", diags)
	}
	if r := diags[0].Subject; r == nil || r.Start.Line != 2 {
		t.Errorf("the error should point at the task block: %v", r)
	}
}

// loadDir loads a configuration, returning its diagnostics only when there
// are errors.
func loadDir(dir string) (*lang.Config, error) {
	cfg, diags := lang.Load(dir, lang.Options{})
	if diags.HasErrors() {
		return nil, diags
	}
	return cfg, nil
}
