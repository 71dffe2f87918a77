package cli

import (
	"bufio"
	"fmt"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

const graphUsage = `Usage: cumulus graph [OPTIONS] [DIR]

Prints the pipeline graph of the configuration in DIR as Graphviz DOT (pipe
it to "dot -Tsvg"), or as text.

Options:
  -pipeline NAME    Only this pipeline.
  -text             Plain text instead of DOT.
  -var NAME=VALUE   Set a variable (repeatable).
  -var-file FILE    Read variables from a file (repeatable).
  -no-color         Never colour the output.
`

func runGraph(e *env, args []string) int {
	fs := newFlagSet(e, "graph", graphUsage)
	var cf configFlags
	cf.register(fs)
	only := fs.String("pipeline", "", "only this pipeline")
	text := fs.Bool("text", false, "plain text")
	cfg, diags, code, stop := cf.load(e, fs, "graph", args)
	if stop {
		return code
	}
	if diags.HasErrors() {
		return reportFailure(e, cfg.Files, diags, "No graph was drawn.")
	}
	g, gdiags := graph.Build(cfg)
	diags = append(diags, gdiags...)
	if diags.HasErrors() {
		return reportFailure(e, cfg.Files, diags, "No graph was drawn.")
	}
	pipelines := g.Pipelines
	if *only != "" {
		p := g.Pipeline(*only)
		if p == nil {
			var names []string
			for _, p := range g.Pipelines {
				names = append(names, p.Name)
			}
			return usageError(e, "graph", "there is no pipeline %q; the pipelines are: %s", *only, joinOr(names))
		}
		pipelines = []*graph.Pipeline{p}
	}
	w := bufio.NewWriter(e.stdout)
	if *text {
		graph.WriteText(w, pipelines)
	} else {
		graph.WriteDOT(w, pipelines)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(e.stderr, "cumulus graph: %v\n", err)
		return exitFailed
	}
	return exitOK
}

func joinOr(names []string) string {
	if len(names) == 0 {
		return "(none)"
	}
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}
