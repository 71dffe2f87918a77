package compiler

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/cumulus-toolchain/cumulus/lang"
)

// FuzzCompile feeds arbitrary configurations through the checker and, when
// they check clean, through the compiler: it must never panic, and every
// artifact must be valid JSON.
func FuzzCompile(f *testing.F) {
	examples, _ := filepath.Glob(filepath.Join("..", "examples", "*", "*.cumulus.hcl"))
	for _, p := range examples {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	scripts, _ := filepath.Glob(filepath.Join("..", "testdata", "script", "compile_*.txtar"))
	for _, p := range scripts {
		if a, err := txtar.ParseFile(p); err == nil {
			for _, file := range a.Files {
				if strings.HasSuffix(file.Name, ".cumulus.hcl") || strings.HasSuffix(file.Name, ".hcl.txt") {
					f.Add(file.Data)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, diags := lang.LoadSources(".", map[string][]byte{"fuzz.cumulus.hcl": src}, lang.Options{NoFileFunctions: true})
		if diags.HasErrors() {
			return
		}
		res, diags := Compile(cfg)
		if diags.HasErrors() {
			return
		}
		for _, a := range res.Artifacts {
			if !json.Valid(a.Data) {
				t.Errorf("%s is not valid JSON", a.Path)
			}
		}
		if !json.Valid(res.Manifest()) {
			t.Error("manifest is not valid JSON")
		}
	})
}
