package compiler

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/cumulus-toolchain/cumulus/compiler/datapipeline"
	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/compiler/stepfunctions"
	"github.com/cumulus-toolchain/cumulus/stdlib"
)

// This file holds the emitted definitions to their meaning, not only their
// syntax: a small interpreter of the ASL states the compiler uses (Task,
// Pass, Choice, Parallel, Map, Succeed, Fail) enumerates every order in
// which a run's steps can finish, for granules that take every branch of
// every Choice, and the orders must be exactly those the pipeline graph
// allows: every edge kept, no step twice, none missing, a step skipped
// exactly when its when is false. The Data Pipeline definitions' dependsOn
// edges are held to the same graph.

// aslDoc and aslState read a definition generically, independent of the
// compiler's own types.
type aslDoc struct {
	StartAt string               `json:"StartAt"`
	States  map[string]*aslState `json:"States"`
}

type aslState struct {
	Type          string           `json:"Type"`
	Next          string           `json:"Next"`
	End           bool             `json:"End"`
	Default       string           `json:"Default"`
	Resource      string           `json:"Resource"`
	Choices       []map[string]any `json:"Choices"`
	Branches      []*aslDoc        `json:"Branches"`
	ItemProcessor *aslDoc          `json:"ItemProcessor"`
	Parameters    map[string]any   `json:"Parameters"`
	Catch         []struct {
		ErrorEquals []string `json:"ErrorEquals"`
		Next        string   `json:"Next"`
	} `json:"Catch"`
	MaxConcurrency *int `json:"MaxConcurrency"`
}

// event is a step that finished (run) or was skipped.
type event struct {
	step string
	skip bool
	// wrapperWhen: the step runs with its condition for the wrapper.
	wrapperWhen bool
}

type interp struct {
	fatalf func(format string, args ...any)
	input  map[string]any
}

// run returns every sequence of events from state name of doc to its end.
func (in *interp) run(doc *aslDoc, name string, depth int) [][]event {
	if depth > 1000 {
		in.fatalf("the definition loops")
	}
	st, ok := doc.States[name]
	if !ok {
		in.fatalf("no state %q", name)
	}
	cont := func() [][]event {
		if st.End {
			return [][]event{{}}
		}
		return in.run(doc, st.Next, depth+1)
	}
	prefix := func(ev event, rest [][]event) [][]event {
		out := make([][]event, 0, len(rest))
		for _, r := range rest {
			out = append(out, append([]event{ev}, r...))
		}
		return out
	}
	switch st.Type {
	case "Task":
		return prefix(in.task(st), cont())
	case "Pass":
		step, ok := strings.CutPrefix(name, stepfunctions.SkipPre)
		if !ok {
			in.fatalf("Pass state %q stands for no step", name)
		}
		return prefix(event{step: step, skip: true}, cont())
	case "Choice":
		for _, c := range st.Choices {
			if in.rule(c) {
				return in.run(doc, c["Next"].(string), depth+1)
			}
		}
		if st.Default == "" {
			in.fatalf("Choice %q has no rule that matches and no Default", name)
		}
		return in.run(doc, st.Default, depth+1)
	case "Parallel":
		combined := [][]event{{}}
		for _, b := range st.Branches {
			var next [][]event
			for _, tr := range in.run(b, b.StartAt, depth+1) {
				for _, c := range combined {
					next = append(next, interleavings(c, tr)...)
				}
			}
			combined = next
		}
		var out [][]event
		rest := cont()
		for _, c := range combined {
			for _, r := range rest {
				out = append(out, append(slices.Clone(c), r...))
			}
		}
		return out
	case "Map":
		items := in.run(st.ItemProcessor, st.ItemProcessor.StartAt, depth+1)
		var out [][]event
		for _, it := range items {
			for _, r := range cont() {
				out = append(out, append(slices.Clone(it), r...))
			}
		}
		return out
	case "Succeed":
		return [][]event{{}}
	case "Fail":
		return [][]event{{{step: "(fail)"}}}
	}
	in.fatalf("state %q: type %q is not one the compiler uses", name, st.Type)
	return nil
}

// task is the step a Task state runs: what it tells the step's work
// (CUMULUS_STEP, or the payload's step), not the state's name.
func (in *interp) task(st *aslState) event {
	switch st.Resource {
	case stepfunctions.ResourceECS:
		ov := st.Parameters["Overrides"].(map[string]any)["ContainerOverrides"].([]any)[0].(map[string]any)
		ev := event{}
		for _, e := range ov["Environment"].([]any) {
			kv := e.(map[string]any)
			switch kv["Name"] {
			case "CUMULUS_STEP":
				ev.step = kv["Value"].(string)
			case "CUMULUS_WHEN":
				ev.wrapperWhen = true
			}
		}
		return ev
	case stepfunctions.ResourceLambda:
		pl := st.Parameters["Payload"].(map[string]any)
		_, w := pl["when"]
		return event{step: pl["step"].(string), wrapperWhen: w}
	case stepfunctions.ResourceStartSync:
		return event{step: "(child " + st.Parameters["StateMachineArn"].(string) + ")"}
	}
	in.fatalf("Task resource %q is not one the compiler uses", st.Resource)
	return event{}
}

// rule evaluates a Choice rule over the input.
func (in *interp) rule(r map[string]any) bool {
	switch {
	case r["Not"] != nil:
		return !in.rule(r["Not"].(map[string]any))
	case r["And"] != nil:
		for _, x := range r["And"].([]any) {
			if !in.rule(x.(map[string]any)) {
				return false
			}
		}
		return true
	case r["Or"] != nil:
		for _, x := range r["Or"].([]any) {
			if in.rule(x.(map[string]any)) {
				return true
			}
		}
		return false
	case r["StringEquals"] != nil:
		return in.path(r["Variable"].(string)) == r["StringEquals"]
	}
	in.fatalf("Choice rule %v uses an operator the interpreter does not know", r)
	return false
}

func (in *interp) path(p string) any {
	var cur any = in.input
	for _, k := range strings.Split(strings.TrimPrefix(p, "$."), ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			in.fatalf("path %s does not lead to a value", p)
		}
		cur = m[k]
	}
	return cur
}

func interleavings(a, b []event) [][]event {
	if len(a) == 0 {
		return [][]event{slices.Clone(b)}
	}
	if len(b) == 0 {
		return [][]event{slices.Clone(a)}
	}
	var out [][]event
	for _, r := range interleavings(a[1:], b) {
		out = append(out, append([]event{a[0]}, r...))
	}
	for _, r := range interleavings(a, b[1:]) {
		out = append(out, append([]event{b[0]}, r...))
	}
	return out
}

// linearExtensions lists every order of the steps that keeps each edge
// (before[x] are the steps x waits for).
func linearExtensions(steps []string, before map[string][]string) []string {
	var out []string
	done := map[string]bool{}
	var walk func(seq []string)
	walk = func(seq []string) {
		if len(seq) == len(steps) {
			out = append(out, strings.Join(seq, " "))
			return
		}
		for _, s := range steps {
			if done[s] {
				continue
			}
			ready := true
			for _, a := range before[s] {
				if !done[a] {
					ready = false
				}
			}
			if !ready {
				continue
			}
			done[s] = true
			walk(append(seq, s))
			done[s] = false
		}
	}
	walk(nil)
	sort.Strings(out)
	return out
}

// choiceLiterals are the strings Choice rules compare each attribute with.
func choiceLiterals(doc *aslDoc, into map[string][]string) {
	var walk func(r map[string]any)
	walk = func(r map[string]any) {
		if v, ok := r["Variable"].(string); ok {
			attr := strings.TrimPrefix(v, "$."+stepfunctions.InputAttributes+".")
			into[attr] = append(into[attr], r["StringEquals"].(string))
		}
		for _, k := range []string{"And", "Or"} {
			if xs, ok := r[k].([]any); ok {
				for _, x := range xs {
					walk(x.(map[string]any))
				}
			}
		}
		if n, ok := r["Not"].(map[string]any); ok {
			walk(n)
		}
	}
	for _, st := range doc.States {
		for _, c := range st.Choices {
			walk(c)
		}
		for _, b := range st.Branches {
			choiceLiterals(b, into)
		}
	}
}

// granules are test granules that between them take every branch of every
// Choice: each collection a rule names and one it does not, each year a
// rule names and one it does not.
func granules(doc *aslDoc) []stdlib.Granule {
	lits := map[string][]string{}
	choiceLiterals(doc, lits)
	for attr := range lits {
		if attr != "collection" && attr != "year" {
			panic("the test granules cover collection and year only; extend granules() for " + attr)
		}
	}
	cols := append([]string{"zz_other"}, lits["collection"]...)
	years := append([]string{"1999"}, lits["year"]...)
	var out []stdlib.Granule
	for _, c := range cols {
		for _, y := range years {
			tm, err := time.Parse("2006-01-02", y+"-08-25")
			if err != nil {
				panic(err)
			}
			out = append(out, stdlib.Granule{ID: "G_" + y + "0825", Collection: c, Version: "1", Time: tm})
		}
	}
	return out
}

// executionInput is what the trigger gives a run for gr.
func executionInput(gr stdlib.Granule) map[string]any {
	attrs := map[string]any{}
	v := gr.Value()
	for _, gp := range datapipeline.GranuleParams {
		if a := v.GetAttr(gp.Attr); a.Type() == cty.String && !a.IsNull() {
			attrs[gp.Attr] = a.AsString()
		}
	}
	return map[string]any{
		stepfunctions.InputGranule:    map[string]any{"id": gr.ID, "collection": gr.Collection},
		stepfunctions.InputAttributes: attrs,
		stepfunctions.InputStagedKeys: []any{},
	}
}

func parseASL(t *testing.T, data []byte) *aslDoc {
	t.Helper()
	var d aslDoc
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

// TestStateMachinesMeanTheGraph runs every per-granule definition of the
// corpus through the interpreter.
func TestStateMachinesMeanTheGraph(t *testing.T) {
	checked := 0
	for name, res := range compiledCorpus(t) {
		g := res.Graph
		for _, p := range g.Pipelines {
			t.Run(name+"/"+p.Name, func(t *testing.T) {
				doc := parseASL(t, artifact(t, res, "stepfunctions/"+p.Name+".asl.json"))
				checkMeaning(t.Fatalf, g, p, doc)
				checkFailureHandling(t, p, doc)
				if p.Backfill != "" {
					checkBackfill(t, g, p, parseASL(t, artifact(t, res, "stepfunctions/"+p.Name+".backfill.asl.json")))
				}
				checked++
			})
		}
	}
	if checked < 5 {
		t.Fatalf("only %d pipelines were checked", checked)
	}
}

func checkMeaning(fatalf func(string, ...any), g *graph.Graph, p *graph.Pipeline, doc *aslDoc) {
	var steps []string
	before := map[string][]string{}
	for _, s := range p.Steps {
		steps = append(steps, s.Name)
		before[s.Name] = append(before[s.Name], s.After...)
	}
	// The only waits allowed beyond the graph's are the ones the compiler
	// reports (and warns about).
	for _, w := range stepfunctions.AddedWaits(p) {
		before[w[0]] = append(before[w[0]], w[1])
	}
	want := linearExtensions(steps, before)
	for _, gr := range granules(doc) {
		in := &interp{fatalf: fatalf, input: executionInput(gr)}
		traces := in.run(doc, doc.StartAt, 0)
		var got []string
		for _, tr := range traces {
			seen := map[string]bool{}
			var order []string
			for _, ev := range tr {
				s := p.Step(ev.step)
				if s == nil {
					fatalf("granule %s/%s: the run reaches %q, which is no step of the pipeline: %v", gr.Collection, gr.ID, ev.step, tr)
				}
				if seen[ev.step] {
					fatalf("granule %s/%s: step %s runs twice: %v", gr.Collection, gr.ID, ev.step, tr)
				}
				seen[ev.step] = true
				order = append(order, ev.step)
				switch wantSkip := expectSkip(fatalf, g, s, gr); {
				case ev.wrapperWhen:
					// The step's work gets the condition, and the wrapper
					// skips it: only for a run-time condition.
					if s.When == nil || s.When.IsStatic() {
						fatalf("step %s passes a condition to the wrapper, but has no run-time when", s.Name)
					}
				case ev.skip != wantSkip:
					fatalf("granule %s/%s: step %s skipped=%v, but its when says skipped=%v", gr.Collection, gr.ID, s.Name, ev.skip, wantSkip)
				}
			}
			if len(order) != len(steps) {
				fatalf("granule %s/%s: a run reaches %d of %d steps: %v", gr.Collection, gr.ID, len(order), len(steps), order)
			}
			got = append(got, strings.Join(order, " "))
		}
		sort.Strings(got)
		got = slices.Compact(got)
		if !slices.Equal(got, want) {
			fatalf("granule %s/%s: the orders the state machine allows are not those of the graph\n got: %q\nwant: %q", gr.Collection, gr.ID, got, want)
		}
	}
}

// expectSkip says whether s is skipped for gr by its when.
func expectSkip(fatalf func(string, ...any), g *graph.Graph, s *graph.Step, gr stdlib.Granule) bool {
	if s.When == nil {
		return false
	}
	v, err := g.Eval(*s.When, gr, nil)
	if err != nil {
		fatalf("step %s: evaluating when: %v", s.Name, err)
	}
	return v.False()
}

// checkFailureHandling: every state at the machine's level that can fail
// catches every error into the failure branch (which notifies when asked
// and ends in Fail), and states inside Parallel branches leave failures to
// the Parallel.
func checkFailureHandling(t *testing.T, p *graph.Pipeline, doc *aslDoc) {
	for name, st := range doc.States {
		if st.Type != "Task" && st.Type != "Parallel" || name == stepfunctions.NotifyState {
			continue
		}
		if len(st.Catch) != 1 || !slices.Equal(st.Catch[0].ErrorEquals, []string{"States.ALL"}) {
			t.Errorf("state %s does not catch States.ALL", name)
			continue
		}
		next := st.Catch[0].Next
		if p.Notify != "" {
			n := doc.States[next]
			if n == nil || n.Resource != stepfunctions.ResourceSNS || n.Parameters["TopicArn"] != p.Notify || n.Next != stepfunctions.FailState {
				t.Errorf("state %s: a failure does not publish to %s and then fail", name, p.Notify)
			}
			next = n.Next
		}
		if f := doc.States[next]; f == nil || f.Type != "Fail" {
			t.Errorf("state %s: a failure does not end in a Fail state", name)
		}
		for _, b := range st.Branches {
			for bn, bs := range b.States {
				if len(bs.Catch) > 0 {
					t.Errorf("state %s inside %s catches its own failure", bn, name)
				}
			}
		}
	}
}

func checkBackfill(t *testing.T, g *graph.Graph, p *graph.Pipeline, doc *aslDoc) {
	m := doc.States[doc.StartAt]
	if m == nil || m.Type != "Map" || m.ItemProcessor == nil {
		t.Fatalf("the backfill does not start with a Map state")
	}
	if m.MaxConcurrency == nil || *m.MaxConcurrency != p.Concurrency {
		t.Errorf("the backfill runs %v granules at once, the pipeline's concurrency is %d", m.MaxConcurrency, p.Concurrency)
	}
	in := &interp{fatalf: t.Fatalf, input: map[string]any{"list": "l.json"}}
	traces := in.run(doc, doc.StartAt, 0)
	want := "(child " + g.StateMachineARN(p.ResourceName) + ")"
	if len(traces) != 1 || len(traces[0]) != 1 || traces[0][0].step != want {
		t.Errorf("a backfill item runs %v, want the per-granule machine as a child %s", traces, want)
	}
}

// TestDataPipelineMeansTheGraph: each step is one activity whose dependsOn
// are exactly its after list, so the orders Data Pipeline allows are the
// graph's, and a conditional step carries its condition to the wrapper.
func TestDataPipelineMeansTheGraph(t *testing.T) {
	for name, res := range compiledCorpus(t) {
		for _, p := range res.Graph.Pipelines {
			checkDataPipeline(func(f string, a ...any) { t.Errorf(name+": "+f, a...) }, p, artifact(t, res, "datapipeline/"+p.Name+".json"))
		}
	}
	// And it bites: an activity that loses a dependsOn, or its condition.
	res := compiledCorpus(t)["examples/hs3"]
	def := string(artifact(t, res, "datapipeline/ingest.json"))
	for what, broken := range map[string]string{
		"a lost edge":      strings.Replace(def, `"ref": "Step_sync"`, `"ref": "Step_metadata"`, 1),
		"a lost condition": strings.Replace(def, "CUMULUS_WHEN", "CUMULUS_WHERE", -1),
	} {
		if broken == def {
			t.Fatalf("%s: the mutation did not apply", what)
		}
		var errs []string
		checkDataPipeline(func(f string, a ...any) { errs = append(errs, fmt.Sprintf(f, a...)) }, res.Graph.Pipelines[0], []byte(broken))
		if len(errs) == 0 {
			t.Errorf("%s: the Data Pipeline check accepted it", what)
		}
	}
}

func checkDataPipeline(errorf func(string, ...any), p *graph.Pipeline, data []byte) {
	var def struct {
		Objects []map[string]any `json:"objects"`
	}
	if err := json.Unmarshal(data, &def); err != nil {
		errorf("%v", err)
		return
	}
	before := map[string][]string{}
	var steps []string
	whens := map[string]bool{}
	for _, o := range def.Objects {
		if o["type"] != "ShellCommandActivity" {
			continue
		}
		step := strings.TrimPrefix(o["id"].(string), datapipeline.StepIDPre)
		steps = append(steps, step)
		deps, _ := o["dependsOn"].([]any)
		for _, d := range deps {
			before[step] = append(before[step], strings.TrimPrefix(d.(map[string]any)["ref"].(string), datapipeline.StepIDPre))
		}
		cmd, _ := o["command"].(string)
		whens[step] = strings.Contains(cmd, "CUMULUS_WHEN") || strings.Contains(cmd, `"when"`)
	}
	var gsteps []string
	gbefore := map[string][]string{}
	for _, s := range p.Steps {
		gsteps = append(gsteps, s.Name)
		gbefore[s.Name] = s.After
		if whens[s.Name] != (s.When != nil) {
			errorf("pipeline %s: step %s has when=%v, its activity carries a condition: %v", p.Name, s.Name, s.When != nil, whens[s.Name])
		}
	}
	got, want := linearExtensions(steps, before), linearExtensions(gsteps, gbefore)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		errorf("pipeline %s: Data Pipeline allows the orders %q, the graph %q", p.Name, got, want)
	}
}

// TestMeaningCheckBites breaks definitions the way a compiler bug would and
// makes sure the interpreter check refuses each one.
func TestMeaningCheckBites(t *testing.T) {
	corpus := compiledCorpus(t)
	load := func(script string) (*graph.Graph, *graph.Pipeline, *aslDoc) {
		res := corpus[script]
		if res == nil {
			t.Fatalf("no %s in the corpus", script)
		}
		p := res.Graph.Pipelines[0]
		return res.Graph, p, parseASL(t, artifact(t, res, "stepfunctions/"+p.Name+".asl.json"))
	}
	for _, tc := range []struct {
		name, script string
		mutate       func(d *aslDoc)
	}{
		{"a step left out", "examples/hs3", func(d *aslDoc) { d.States["sync"].Next = "metadata" }},
		{"a step run twice", "compile_nonsp.txtar", func(d *aslDoc) {
			p1, p2 := d.States["Parallel 1"], d.States["Parallel 2"]
			p2.Branches = append(p2.Branches, p1.Branches[1])
		}},
		{"skipped when it should run", "examples/hs3", func(d *aslDoc) {
			c := d.States["Check preprocess"]
			c.Choices[0]["Next"], c.Default = c.Default, c.Choices[0]["Next"].(string)
		}},
		{"a Parallel branch run after the others (waiting added silently)", "compile_fanout.txtar", func(d *aslDoc) {
			for _, st := range d.States {
				if st.Type == "Parallel" {
					st.Branches = st.Branches[:1]
				}
			}
			d.States["qc"] = &aslState{Type: "Task", Resource: d.States["archive"].Resource, Parameters: map[string]any{"Overrides": map[string]any{"ContainerOverrides": []any{map[string]any{"Environment": []any{map[string]any{"Name": "CUMULUS_STEP", "Value": "qc"}}}}}}, Next: "archive"}
			d.States["qc"].Resource = stepfunctions.ResourceECS
			for _, st := range d.States {
				if st.Type == "Parallel" {
					st.Next = "qc"
				}
			}
		}},
		{"an edge lost", "compile_nonsp.txtar", func(d *aslDoc) {
			p1, p2 := d.States["Parallel 1"], d.States["Parallel 2"]
			p1.Branches = append(p1.Branches, p2.Branches[1])
			p2.Branches = p2.Branches[:1]
		}},
	} {
		g, p, doc := load(tc.script)
		tc.mutate(doc)
		refused := func() (msg string) {
			defer func() {
				if r := recover(); r != nil {
					msg = fmt.Sprint(r)
				}
			}()
			checkMeaning(func(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }, g, p, doc)
			return ""
		}()
		if refused == "" {
			t.Errorf("%s: the meaning check accepted the broken definition", tc.name)
		} else {
			t.Logf("%s: refused: %s", tc.name, strings.SplitN(refused, "\n", 2)[0])
		}
	}
}
