// Package cli is the cumulus command line: flags, then a call into the
// packages that do the work, then diagnostics printed in one place. It
// returns exit codes instead of exiting, so tests run it in process.
package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cumulus-toolchain/cumulus/lang/suggest"
)

// Exit codes shared by every command.
const (
	exitOK      = 0
	exitFailed  = 1 // the input is wrong (diagnostics say how)
	exitUsage   = 2 // the command line is wrong
	exitChanged = 3 // fmt -check: files need formatting
)

// env is what a command may touch of the outside world, passed in so that
// nothing reads globals and tests can substitute any of it.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	environ        []string
	// color says whether diagnostics on stderr may use ANSI colours.
	color bool
	// liveStdout says whether stdout is a terminal a status line can be
	// redrawn on.
	liveStdout bool
	width      uint
}

type command struct {
	name    string
	summary string
	usage   string
	run     func(e *env, args []string) int
}

func commands() []*command {
	return []*command{
		{name: "validate", summary: "Check a configuration and report every mistake", usage: validateUsage, run: runValidate},
		{name: "compile", summary: "Write the AWS artifacts of a configuration", usage: compileUsage, run: runCompile},
		{name: "graph", summary: "Print the pipeline graph as DOT or text", usage: graphUsage, run: runGraph},
		{name: "simulate", summary: "Run the pipelines on this machine", usage: simulateUsage, run: runSimulate},
		{name: "serve", summary: "Serve the dashboard and distribution of a simulation", usage: serveUsage, run: runServe},
		{name: "step", summary: "Run a program as a pipeline step (a task container's entry point)", usage: stepUsage, run: runStep},
		{name: "task", summary: "Scaffold a task that runs an archive's script as a step (task init)", usage: taskUsage, run: runTask},
		{name: "poll", summary: "Poll a deployed source once (a poller task's command on ECS)", usage: pollUsage, run: runPoll},
		{name: "deploy", summary: "Plan and apply the compiled artifacts to AWS", usage: deployUsage, run: runDeploy},
		{name: "package", summary: "Build the platform functions' Lambda code zip", usage: packageUsage, run: runPackage},
		{name: "fmt", summary: "Rewrite configuration files in canonical format", usage: fmtUsage, run: runFmt},
		{name: "version", summary: "Print the cumulus version", usage: "Usage: cumulus version\n\nPrints the version of cumulus and the Go toolchain that built it.\n", run: runVersion},
		{name: "help", summary: "Show help for a command", usage: "Usage: cumulus help [COMMAND]\n", run: runHelp},
	}
}

// Main runs cumulus with the process's standard streams and environment.
func Main(args []string) int {
	e := &env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, environ: os.Environ(), width: 78}
	e.color = isTerminal(os.Stderr) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	e.liveStdout = isTerminal(os.Stdout) && os.Getenv("TERM") != "dumb"
	if e.liveStdout {
		e.width = terminalWidth(os.Stdout, e.width)
	}
	return run(e, args)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func run(e *env, args []string) int {
	if lambdaRuntime(e, args) {
		return runLambda(e)
	}
	if len(args) == 0 {
		fmt.Fprint(e.stderr, mainUsage())
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprint(e.stdout, mainUsage())
		return exitOK
	case "-v", "-version", "--version":
		return runVersion(e, nil)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(e, args[1:])
		}
	}
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	hint := suggest.DidYouMean(args[0], names)
	fmt.Fprintf(e.stderr, "cumulus: unknown command %q.%s Run 'cumulus help' for the list of commands.\n", args[0], hint)
	return exitUsage
}

func mainUsage() string {
	var b strings.Builder
	b.WriteString("Usage: cumulus COMMAND [OPTIONS] [ARGS]\n\ncumulus checks, compiles, simulates and deploys the data-ingest pipelines\nof Earth-science archives, written in *.cumulus.hcl files.\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'cumulus help COMMAND' for a command's options.\n")
	return b.String()
}

func runHelp(e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stdout, mainUsage())
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			fmt.Fprint(e.stdout, c.usage)
			return exitOK
		}
	}
	fmt.Fprintf(e.stderr, "cumulus help: unknown command %q. Run 'cumulus help' for the list of commands.\n", args[0])
	return exitUsage
}

// flagSet is a command's flags and its usage text.
type flagSet struct {
	*flag.FlagSet
	e     *env
	usage string
}

// newFlagSet returns a flag set that reports mistakes on stderr followed by
// the command's usage.
func newFlagSet(e *env, name, usage string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, usage) }
	return &flagSet{FlagSet: fs, e: e, usage: usage}
}

// parse parses flags wherever they appear among the arguments (users write
// "cumulus validate examples/hs3 -json" as often as the reverse) and returns
// the positional arguments. "--" ends the flags. When the command must stop
// here, stop is true and code is its exit status: 0 when help was asked for
// (the usage is the output, on stdout), 2 after a mistake.
func (f *flagSet) parse(args []string) (positional []string, code int, stop bool) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fmt.Fprint(f.e.stdout, f.usage)
			return nil, exitOK, true
		}
	}
	for {
		if err := f.Parse(args); err != nil {
			return nil, exitUsage, true
		}
		rest := f.Args()
		if len(rest) == 0 {
			return positional, 0, false
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), 0, false
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// usageError reports a command-line mistake and returns exitUsage.
func usageError(e *env, cmd, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "cumulus %s: %s\nRun 'cumulus help %s' for usage.\n", cmd, fmt.Sprintf(format, args...), cmd)
	return exitUsage
}
