package lang

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// FuzzCheck feeds arbitrary bytes as a configuration file through the whole
// checker. It must never panic, and every diagnostic it reports must carry
// a summary (and, where it points into the file, a range inside it).
//
// Seeds: the bundled examples, every configuration in the testscript
// archives, and the inputs kept in the repository's testdata/fuzz/FuzzCheck
// (go test -fuzz writes new finds to lang/testdata/fuzz; move the worthwhile
// ones there).
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
	kept, _ := filepath.Glob(filepath.Join(root, "testdata", "fuzz", "FuzzCheck", "*"))
	for _, p := range kept {
		if b, ok := readCorpusFile(p); ok {
			f.Add(b)
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

// readCorpusFile reads a file in go test fuzz's corpus format holding one
// []byte value ("go test fuzz v1" then []byte("...")).
func readCorpusFile(path string) ([]byte, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 1<<20), 1<<26)
	if !sc.Scan() || sc.Text() != "go test fuzz v1" || !sc.Scan() {
		return nil, false
	}
	line := sc.Text()
	if !strings.HasPrefix(line, "[]byte(") || !strings.HasSuffix(line, ")") {
		return nil, false
	}
	s, err := strconv.Unquote(line[len("[]byte(") : len(line)-1])
	if err != nil {
		return nil, false
	}
	return []byte(s), true
}
