package graph

import (
	"fmt"
	"io"
	"strings"
)

// WriteDOT writes pipelines as one Graphviz digraph, a cluster per pipeline,
// a node per step (labelled with what it runs, and its condition: a
// conditional step is dashed), an edge per after, and the pipeline's
// backfill (a distributed Map over a granule list) as a node that leads to
// the steps that start a run.
func WriteDOT(w io.Writer, pipelines []*Pipeline) {
	fmt.Fprintln(w, "digraph cumulus {")
	fmt.Fprintln(w, "  rankdir=LR;")
	fmt.Fprintln(w, "  node [shape=box, style=rounded, fontname=\"Helvetica\"];")
	for _, p := range pipelines {
		fmt.Fprintf(w, "  subgraph %s {\n", dotID("cluster_"+p.Name))
		fmt.Fprintf(w, "    label=%s;\n", dotString(fmt.Sprintf("pipeline %s (concurrency %d)", p.Name, p.Concurrency)))
		if p.Backfill != "" {
			fmt.Fprintf(w, "    %s [shape=folder, style=dashed, label=%s];\n", dotID(p.Name+" backfill"), dotString(backfillText(p)))
		}
		for _, s := range p.Steps {
			if s.When != nil {
				fmt.Fprintf(w, "    %s [style=\"rounded,dashed\", label=%s];\n", dotID(p.Name+"."+s.Name), dotString(s.Name+"\n"+stepDetail(s)+"\nwhen "+WhenText(s)))
				continue
			}
			fmt.Fprintf(w, "    %s [label=%s];\n", dotID(p.Name+"."+s.Name), dotString(s.Name+"\n"+stepDetail(s)))
		}
		if p.Backfill != "" {
			for _, s := range p.Steps {
				if len(s.After) == 0 {
					fmt.Fprintf(w, "    %s -> %s [style=dashed, label=\"each granule\"];\n", dotID(p.Name+" backfill"), dotID(p.Name+"."+s.Name))
				}
			}
		}
		for _, s := range p.Steps {
			for _, a := range s.After {
				fmt.Fprintf(w, "    %s -> %s;\n", dotID(p.Name+"."+a), dotID(p.Name+"."+s.Name))
			}
		}
		fmt.Fprintln(w, "  }")
	}
	fmt.Fprintln(w, "}")
}

// WriteText writes pipelines as indented text: each step with what it runs,
// what it waits for, and its retry policy.
func WriteText(w io.Writer, pipelines []*Pipeline) {
	for i, p := range pipelines {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "pipeline %s (concurrency %d)\n", p.Name, p.Concurrency)
		if p.Backfill != "" {
			fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(backfillText(p), "\n", "; "))
		}
		for _, s := range p.Steps {
			after := "start"
			if len(s.After) > 0 {
				after = "after " + strings.Join(s.After, ", ")
			}
			fmt.Fprintf(w, "  %-14s %s; %s", s.Name, stepDetail(s), after)
			if s.Retries > 0 {
				fmt.Fprintf(w, "; retries %d every %s", s.Retries, formatDuration(s.RetryDelay))
				if s.Backoff > 1 {
					fmt.Fprintf(w, " x%g", s.Backoff)
				}
			}
			if s.When != nil {
				fmt.Fprintf(w, "; when %s (skipped counts as done)", WhenText(s))
			}
			fmt.Fprintln(w)
		}
	}
}

// WhenText is a step's condition as written ("" without one).
func WhenText(s *Step) string {
	switch {
	case s.When == nil:
		return ""
	case s.When.Expr != "":
		return s.When.Expr
	case s.When.IsStatic():
		return string(s.When.Static)
	}
	return s.When.Template(func(ref string) string { return "${" + ref + "}" })
}

func backfillText(p *Pipeline) string {
	return fmt.Sprintf("backfill %s: distributed Map over a granule list\nat most %d granules at once", p.Backfill, p.Concurrency)
}

func stepDetail(s *Step) string {
	where := ""
	if s.Task != nil {
		where = s.Task.RunsOn
	}
	if s.Uses != "" {
		return fmt.Sprintf("stdlib.%s (%s)", s.Uses, where)
	}
	return fmt.Sprintf("task.%s (%s)", s.TaskName, where)
}

func formatDuration(d Duration) string {
	b, _ := d.MarshalJSON()
	return strings.Trim(string(b), `"`)
}

func dotID(s string) string { return dotString(s) }

// dotString quotes a DOT string, escaping quotes and backslashes, and
// turning newlines into DOT's centred line breaks.
func dotString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
