package lang

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Local is one named value of a locals block.
type Local struct {
	Name      string
	Expr      hcl.Expression
	Value     cty.Value // cty.DynamicVal when it could not be evaluated
	DeclRange hcl.Range // the whole "name = expr" line
	NameRange hcl.Range
}

// decodeLocals evaluates locals in dependency order (hcl's "interdependent
// blocks" pattern): each local's references to other locals are edges, a
// cycle is reported once naming every member, and the rest are evaluated
// as soon as what they depend on is known.
func (c *checker) decodeLocals(blocks []*hcl.Block) []*Local {
	d := c.d
	var locals []*Local
	byName := map[string]*Local{}
	for _, b := range blocks {
		attrs, diags := b.Body.JustAttributes()
		d.add(diags)
		for _, a := range sortedAttrs(attrs) {
			if prev, dup := byName[a.Name]; dup {
				d.errorf(a.NameRange, fmt.Sprintf("Duplicate local value %q", a.Name),
					"local.%s was already defined at %s. Rename one of them or remove the duplicate.", a.Name, rangeString(prev.NameRange))
				continue
			}
			l := &Local{Name: a.Name, Expr: a.Expr, Value: cty.DynamicVal, DeclRange: a.Range, NameRange: a.NameRange}
			locals = append(locals, l)
			byName[a.Name] = l
			d.locals[a.Name] = true
		}
	}

	deps := map[string][]string{}
	var names []string
	for _, l := range locals {
		names = append(names, l.Name)
		for _, t := range l.Expr.Variables() {
			if t.RootName() != "local" || len(t) < 2 {
				continue
			}
			if a, ok := t[1].(hcl.TraverseAttr); ok && byName[a.Name] != nil {
				deps[l.Name] = append(deps[l.Name], a.Name)
			}
		}
	}
	edges := func(n string) []string { return deps[n] }
	inCycle := map[string]bool{}
	for _, cyc := range findCycles(names, edges) {
		var lines []string
		for i, n := range cyc {
			inCycle[n] = true
			next := cyc[(i+1)%len(cyc)]
			lines = append(lines, fmt.Sprintf("  local.%s (%s) refers to local.%s", n, rangeString(byName[n].NameRange), next))
		}
		d.errorf(byName[cyc[0]].NameRange, "Cycle in local values",
			"These local values refer to each other in a loop, so none of them can be evaluated:\n%s\nBreak the loop: compute the shared part in one local without referring back.", strings.Join(lines, "\n"))
	}

	// Evaluate depth-first so that every local sees the values it needs.
	values := map[string]cty.Value{}
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(l *Local)
	visit = func(l *Local) {
		if state[l.Name] != 0 {
			return
		}
		state[l.Name] = 1
		for _, dep := range deps[l.Name] {
			visit(byName[dep])
		}
		state[l.Name] = 2
		if inCycle[l.Name] {
			values[l.Name] = cty.DynamicVal
			return
		}
		saved := d.static.Variables["local"]
		d.static.Variables["local"] = cty.ObjectVal(values)
		if d.checkRefs(l.Expr, scopeStatic) {
			v, diags := l.Expr.Value(d.static)
			d.add(diags)
			if !diags.HasErrors() {
				l.Value = v
			}
		}
		d.static.Variables["local"] = saved
		values[l.Name] = l.Value
	}
	for _, l := range locals {
		visit(l)
	}
	return locals
}

// sortedAttrs orders attributes by position: JustAttributes returns a map.
func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sortByPos(out, func(a *hcl.Attribute) hcl.Range { return a.Range })
	return out
}
