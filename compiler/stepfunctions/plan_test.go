package stepfunctions

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

// pipeline builds a pipeline from "step:after,after" specs, in topological
// order.
func pipeline(specs ...string) *graph.Pipeline {
	p := &graph.Pipeline{Name: "p", ResourceName: "x-p", Concurrency: 2}
	for _, s := range specs {
		name, after, _ := strings.Cut(s, ":")
		st := &graph.Step{Name: name, Task: &graph.Task{Name: "t", RunsOn: "lambda", ResourceName: "x-t"}, TaskName: "t"}
		if after != "" {
			st.After = strings.Split(after, ",")
		}
		p.Steps = append(p.Steps, st)
	}
	return p
}

// shape writes blocks compactly: seq as a b c, par as (x | y).
func shape(b *block) string {
	switch {
	case b.step != nil:
		return b.step.Name
	case b.seq != nil:
		var parts []string
		for _, c := range b.seq {
			parts = append(parts, shape(c))
		}
		return strings.Join(parts, " ")
	}
	var parts []string
	for _, c := range b.par {
		parts = append(parts, shape(c))
	}
	return "(" + strings.Join(parts, " | ") + ")"
}

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		name  string
		specs []string
		shape string
		waits string
	}{
		{"straight line", []string{"a", "b:a", "c:b"}, "a b c", "[]"},
		{"fan-out, fan-in", []string{"a", "b:a", "c:a", "d:b,c"}, "a (b | c) d", "[]"},
		{"independent starts", []string{"a", "b", "c:a"}, "(a c | b)", "[]"},
		{"nested", []string{"a", "b:a", "c:b", "d:a", "e:c,d"}, "a (b c | d) e", "[]"},
		{"N", []string{"a", "b", "c:a,b", "d:b"}, "(a | b) (c | d)", "[[d a]]"},
		{"N then join", []string{"a", "b", "c:a,b", "d:b", "e:c,d"}, "(a | b) (c | d) e", "[[d a]]"},
		{"a shortcut edge is kept by order", []string{"a", "b:a", "c:a,b"}, "a b c", "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pipeline(tc.specs...)
			b, _ := plan(p)
			if got := shape(b); got != tc.shape {
				t.Errorf("shape %q, want %q", got, tc.shape)
			}
			if got := fmt.Sprint(AddedWaits(p)); got != tc.waits {
				t.Errorf("added waits %s, want %s", got, tc.waits)
			}
		})
	}
}

// TestWarningsFollowTheOrchestrator: the added-waiting warning reaches the
// user only when Step Functions runs the pipeline.
func TestWarningsFollowTheOrchestrator(t *testing.T) {
	p := pipeline("a", "b", "c:a,b", "d:b")
	for orch, want := range map[string]int{"stepfunctions": 1, "datapipeline": 0} {
		g := &graph.Graph{Prefix: "x", Region: "us-west-2", AccountID: "123456789012", Cluster: "x", Orchestrator: orch}
		res, diags := Build(g, p)
		if res == nil || len(diags) != want {
			t.Errorf("%s: %d diagnostics, want %d: %v", orch, len(diags), want, diags)
		}
	}
}

func TestChoiceRule(t *testing.T) {
	for src, want := range map[string]string{
		`granule.collection == "a"`:                           `map[StringEquals:a Variable:$.attributes.collection]`,
		`"a" != granule.id`:                                   `map[Not:map[StringEquals:a Variable:$.attributes.id]]`,
		`granule.year == "2013" && !(granule.day == "01")`:    `map[And:[map[StringEquals:2013 Variable:$.attributes.year] map[Not:map[StringEquals:01 Variable:$.attributes.day]]]]`,
		`length(granule.files) > 3`:                           `<nil>`,
		`granule.collection == "${granule.id}"`:               `<nil>`,
		`granule.files == "x"`:                                `<nil>`,
		`granule.collection == "a" || granule.collection < 3`: `<nil>`,
	} {
		r, ok := choiceRule(src)
		got := "<nil>"
		if ok {
			got = fmt.Sprint(r)
		}
		if got != want {
			t.Errorf("%s: %s, want %s", src, got, want)
		}
	}
}
