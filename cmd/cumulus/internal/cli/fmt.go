package cli

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/cumulus-toolchain/cumulus/lang/format"
)

const fmtUsage = `Usage: cumulus fmt [OPTIONS] [DIR|FILE ...]

Rewrites *.cumulus.hcl and *.cumulus.vars files in canonical format (the
current folder when no path is given). Files with syntax errors are reported
and left untouched. Files are replaced atomically.

Options:
  -check       Write nothing; list the files that need formatting and exit
               with status 3 if there are any.
  -diff        Print a unified diff of each change.
  -list=false  Do not print the names of changed files.
  -recursive   Also format files in sub-folders.
  -no-color    Never colour the output.

Exit status: 0 done (or nothing to do), 1 syntax or I/O errors, 2 usage
error, 3 with -check when files need formatting.
`

func runFmt(e *env, args []string) int {
	fs := newFlagSet(e, "fmt", fmtUsage)
	check := fs.Bool("check", false, "check only")
	diff := fs.Bool("diff", false, "print diffs")
	list := fs.Bool("list", true, "list changed files")
	recursive := fs.Bool("recursive", false, "descend into sub-folders")
	noColor := fs.Bool("no-color", false, "never colour the output")
	paths, code, stop := fs.parse(args)
	if stop {
		return code
	}
	if *noColor {
		e.color = false
	}
	res, diags, err := format.Run(paths, format.Options{Check: *check, Diff: *diff, Recursive: *recursive, List: *list, Out: e.stdout})
	files := map[string]*hcl.File{}
	for name, src := range res.Files {
		files[name] = &hcl.File{Bytes: src}
	}
	printDiagnostics(e, files, diags)
	code = exitOK
	if err != nil {
		fmt.Fprintf(e.stderr, "cumulus fmt: %v\n", err)
		code = exitFailed
	}
	if diags.HasErrors() {
		code = exitFailed
	}
	if code == exitOK && *check && len(res.Changed) > 0 {
		code = exitChanged
	}
	return code
}
