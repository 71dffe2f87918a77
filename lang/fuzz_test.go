package lang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// FuzzCheck feeds arbitrary bytes as a configuration file through the whole
// checker. It must never panic, and every diagnostic it reports must carry
// a summary (and, where it points into the file, a range inside it).
//
// Seeds: the bundled examples, every configuration in the testscript
// archives, and what go test -fuzz found and was kept in
// testdata/fuzz/FuzzCheck (each a regression test of a crash it found).
func FuzzCheck(f *testing.F) {
	root := filepath.Join("..")
	examples, _ := filepath.Glob(filepath.Join(root, "examples", "*", "*"+Extension))
	for _, p := range examples {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	scripts, _ := filepath.Glob(filepath.Join(root, "testdata", "script", "*.txtar"))
	for _, p := range scripts {
		a, err := txtar.ParseFile(p)
		if err != nil {
			continue
		}
		for _, file := range a.Files {
			if strings.HasSuffix(file.Name, Extension) {
				f.Add(file.Data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, diags := LoadSources(".", map[string][]byte{"fuzz.cumulus.hcl": src}, Options{NoFileFunctions: true})
		if cfg == nil {
			t.Fatal("nil config")
		}
		for _, d := range diags {
			if d.Summary == "" {
				t.Errorf("diagnostic without summary: %#v", d)
			}
			if d.Subject != nil && d.Subject.Filename == "fuzz.cumulus.hcl" && d.Subject.End.Byte > len(src) {
				t.Errorf("diagnostic %q points past the end of the input: %v", d.Summary, d.Subject)
			}
		}
	})
}
