// Package stepinput owns what a step of a run receives, decided the same
// way wherever the run happens: the simulator's scheduler on a laptop, and
// the platform's functions and step wrapper on AWS. A step's granule is the
// run's granule for a first step and otherwise the outputs of the steps it
// waits for, merged; its when, env and with are evaluated for that granule.
// Keeping this in one place is what makes a simulated run mean what the
// deployed one does.
package stepinput

import (
	"fmt"
	"sort"

	"github.com/zclconf/go-cty/cty"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/stdlib"
)

// Merge is the granule a step receives: start for a first step; the output
// of the step it waits for; at a fan-in, the outputs of all it waits for
// merged in the order of its after list, a later branch's file replacing an
// earlier one's of the same name. outputs holds the output of every step in
// st's after list (a skipped step's output is its own input).
func Merge(start contract.Granule, st *graph.Step, outputs map[string]contract.Granule) contract.Granule {
	if len(st.After) == 0 {
		return start
	}
	merged := outputs[st.After[0]]
	merged.Files = append([]contract.File(nil), merged.Files...)
	for _, a := range st.After[1:] {
		for _, f := range outputs[a].Files {
			replaced := false
			for i := range merged.Files {
				if merged.Files[i].Name == f.Name {
					merged.Files[i], replaced = f, true
				}
			}
			if !replaced {
				merged.Files = append(merged.Files, f)
			}
		}
	}
	return merged
}

// When says whether st runs for the granule: true when it has no
// condition.
func When(g *graph.Graph, st *graph.Step, in contract.Granule) (bool, error) {
	if st.When == nil {
		return true, nil
	}
	v, err := g.Eval(*st.When, Runtime(in), nil)
	if err != nil {
		return false, err
	}
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.Bool {
		return false, fmt.Errorf("when is not true or false for granule %s", in.ID)
	}
	return v.True(), nil
}

// Bindings evaluates a step's env and with for the granule.
func Bindings(g *graph.Graph, st *graph.Step, in contract.Granule) (map[string]string, map[string]any, error) {
	gr := Runtime(in)
	env := map[string]string{}
	for _, b := range st.Env {
		v, err := g.Eval(b.Value, gr, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("env %s: %w", b.Name, err)
		}
		if v.IsNull() || v.Type() != cty.String {
			return nil, nil, fmt.Errorf("env %s is not a string for granule %s", b.Name, in.ID)
		}
		env[b.Name] = v.AsString()
	}
	var with map[string]any
	if len(st.With) > 0 {
		with = map[string]any{}
		for _, b := range st.With {
			v, err := g.Eval(b.Value, gr, nil)
			if err != nil {
				return nil, nil, fmt.Errorf("with %s: %w", b.Name, err)
			}
			with[b.Name] = goValue(v)
		}
	}
	return env, with, nil
}

// goValue converts the primitive values standard-step inputs have.
func goValue(v cty.Value) any {
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	switch v.Type() {
	case cty.String:
		return v.AsString()
	case cty.Bool:
		return v.True()
	case cty.Number:
		f, _ := v.AsBigFloat().Float64()
		return f
	}
	return nil
}

// Runtime is the granule as run-time expressions see it.
func Runtime(g contract.Granule) stdlib.Granule {
	out := stdlib.Granule{ID: g.ID, Collection: g.Collection, Version: g.Version}
	out.Time, _ = stdlib.GranuleDate(g.ID)
	names := make([]string, 0, len(g.Files))
	byName := map[string]contract.File{}
	for _, f := range g.Files {
		names = append(names, f.Name)
		byName[f.Name] = f
	}
	sort.Strings(names)
	for _, n := range names {
		f := byName[n]
		out.Files = append(out.Files, stdlib.File{Name: f.Name, Type: f.Type, Size: f.Size, Checksum: f.Checksum, ChecksumType: f.ChecksumType})
	}
	return out
}
