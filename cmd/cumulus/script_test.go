package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/cumulus-toolchain/cumulus/cmd/cumulus/internal/cli"
)

// update rewrites the golden sections of the scripts (cmp stdout/stderr
// against a file in the archive) from the actual output. Only on request.
var update = flag.Bool("update", false, "update testscript golden files")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"cumulus": func() { os.Exit(cli.Main(os.Args[1:])) },
	})
}

// TestScript runs the scripts in testdata/script against the real CLI, in
// process (cue's pattern). Each script documents one behaviour: a diagnostic
// with its exact position, an output format, a command.
func TestScript(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join(root, "testdata", "script"),
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", filepath.Join(root, "examples"))
			env.Setenv("NO_COLOR", "1")
			return nil
		},
	})
}
