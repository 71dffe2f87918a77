package cli

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/cumulus-toolchain/cumulus/lang"
)

const validateUsage = `Usage: cumulus validate [OPTIONS] [DIR]

Checks the configuration in DIR (default: the current folder): every
*.cumulus.hcl file in it, as one configuration. Reports every mistake found,
each with its file, line and column and how to fix it. Nothing is run or
written.

Options:
  -var NAME=VALUE   Set a variable (repeatable).
  -var-file FILE    Read variables from an HCL file of NAME = VALUE lines
                    (repeatable). -var and -var-file apply in the order given,
                    after CUMULUS_VAR_NAME environment variables and
                    *.auto.cumulus.vars files; later ones win.
  -json             Print the result as JSON on stdout (for editors and CI).
  -compact          One "FILE:LINE:COL: severity: summary" line per diagnostic,
                    with the detail indented below it.
  -no-color         Never colour the output.

Exit status: 0 valid (warnings allowed), 1 invalid, 2 usage error.
`

// varFlags collects -var and -var-file into one list, in command-line order,
// because the later of the two wins whatever its kind.
type varFlags struct {
	args *[]lang.VarArg
	file bool
}

func (v varFlags) String() string { return "" }

func (v varFlags) Set(s string) error {
	if v.file {
		*v.args = append(*v.args, lang.VarArg{File: s})
		return nil
	}
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("%q is not NAME=VALUE; write -var 'stage=prod'", s)
	}
	*v.args = append(*v.args, lang.VarArg{Name: name, Value: value})
	return nil
}

// configFlags are the flags of every command that loads a configuration.
type configFlags struct {
	vars    []lang.VarArg
	noColor bool
}

func (c *configFlags) register(fs *flagSet) {
	fs.Var(varFlags{args: &c.vars}, "var", "set a variable: NAME=VALUE")
	fs.Var(varFlags{args: &c.vars, file: true}, "var-file", "read variables from a file")
	fs.BoolVar(&c.noColor, "no-color", false, "never colour the output")
}

// validateResult is validate -json's document, in the shape of terraform
// validate -json so that editor and CI integrations carry over.
type validateResult struct {
	FormatVersion string           `json:"format_version"`
	Valid         bool             `json:"valid"`
	ErrorCount    int              `json:"error_count"`
	WarningCount  int              `json:"warning_count"`
	Diagnostics   []jsonDiagnostic `json:"diagnostics"`
}

// load parses a command's arguments (its own flags registered on fs
// beforehand) and loads the configuration in its one folder argument.
func (c *configFlags) load(e *env, fs *flagSet, cmd string, args []string) (cfg *lang.Config, diags hcl.Diagnostics, code int, stop bool) {
	pos, code, stop := fs.parse(args)
	if stop {
		return nil, nil, code, true
	}
	dir, ok := oneDir(e, cmd, pos)
	if !ok {
		return nil, nil, exitUsage, true
	}
	if c.noColor {
		e.color = false
	}
	cfg, diags = lang.Load(dir, lang.Options{Vars: c.vars, Env: e.environ})
	return cfg, diags, 0, false
}

func runValidate(e *env, args []string) int {
	fs := newFlagSet(e, "validate", validateUsage)
	var cf configFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "JSON output")
	compact := fs.Bool("compact", false, "one line per diagnostic")
	cfg, diags, code, stop := cf.load(e, fs, "validate", args)
	if stop {
		return code
	}
	errs, warns := counts(diags)
	if *asJSON {
		if err := writeJSON(e.stdout, validateResult{
			FormatVersion: "1.0",
			Valid:         errs == 0,
			ErrorCount:    errs,
			WarningCount:  warns,
			Diagnostics:   toJSON(cfg.Files, diags),
		}); err != nil {
			fmt.Fprintf(e.stderr, "cumulus validate: writing output: %v\n", err)
			return exitFailed
		}
	} else if *compact {
		printCompact(e.stderr, diags)
	} else {
		printDiagnostics(e, cfg.Files, diags)
		switch {
		case errs > 0:
			fmt.Fprintf(e.stderr, "The configuration is invalid: %s, %s.\n", plural(errs, "error"), plural(warns, "warning"))
		case warns > 0:
			fmt.Fprintf(e.stdout, "The configuration is valid, with %s.\n", plural(warns, "warning"))
		default:
			fmt.Fprintln(e.stdout, "The configuration is valid.")
		}
	}
	if errs > 0 {
		return exitFailed
	}
	return exitOK
}
