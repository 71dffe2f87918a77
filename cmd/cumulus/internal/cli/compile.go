package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/cumulus-toolchain/cumulus/compiler"
)

const compileUsage = `Usage: cumulus compile [OPTIONS] [DIR]

Checks the configuration in DIR (default: the current folder) and writes the
AWS artifacts it compiles to: AWS Data Pipeline definitions, ECS task
definitions, Lambda function configurations, EventBridge schedules, the
pipeline graph, and a manifest of them all with their sha256. The same
configuration always gives the same bytes.

Nothing is written when there are errors. The output folder is replaced as a
whole (written beside it, then renamed), so a failed run never leaves it
half-written; a non-empty folder that compile did not write is refused.

Options:
  -o DIR            Output folder (default: out).
  -var NAME=VALUE   Set a variable (repeatable).
  -var-file FILE    Read variables from a file (repeatable).
  -json             Print the manifest as JSON on stdout instead of a summary.
  -no-color         Never colour the output.

Exit status: 0 written, 1 errors (nothing written), 2 usage error.
`

func runCompile(e *env, args []string) int {
	fs := newFlagSet(e, "compile", compileUsage)
	var cf configFlags
	cf.register(fs)
	out := fs.String("o", "out", "output folder")
	asJSON := fs.Bool("json", false, "print the manifest")
	cfg, diags, code, stop := cf.load(e, fs, "compile", args)
	if stop {
		return code
	}
	if diags.HasErrors() {
		return reportFailure(e, cfg.Files, diags, "Nothing was written.")
	}
	res, cdiags := compiler.Compile(cfg)
	diags = append(diags, cdiags...)
	if diags.HasErrors() {
		return reportFailure(e, cfg.Files, diags, "Nothing was written.")
	}
	printDiagnostics(e, cfg.Files, diags) // warnings
	if err := compiler.Write(*out, res); err != nil {
		fmt.Fprintf(e.stderr, "cumulus compile: %v\n", err)
		return exitFailed
	}
	if *asJSON {
		_, _ = e.stdout.Write(res.Manifest())
		return exitOK
	}
	kinds := map[string]int{}
	for _, a := range res.Artifacts {
		kinds[a.Kind]++
	}
	var names []string
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprintf(e.stdout, "Wrote %d artifacts and %s to %s:\n", len(res.Artifacts), compiler.ManifestName, *out)
	for _, k := range names {
		fmt.Fprintf(e.stdout, "  %-26s %d\n", k, kinds[k])
	}
	return exitOK
}

// oneDir takes the optional configuration folder argument.
func oneDir(e *env, cmd string, pos []string) (string, bool) {
	switch len(pos) {
	case 0:
		return ".", true
	case 1:
		return pos[0], true
	}
	usageError(e, cmd, "expected at most one folder, got %d: %s", len(pos), strings.Join(pos, " "))
	return "", false
}

// reportFailure prints diagnostics, a count, and what was not done.
func reportFailure(e *env, files map[string]*hcl.File, diags hcl.Diagnostics, consequence string) int {
	printDiagnostics(e, files, diags)
	errs, warns := counts(diags)
	fmt.Fprintf(e.stderr, "%s, %s. %s\n", plural(errs, "error"), plural(warns, "warning"), consequence)
	return exitFailed
}
