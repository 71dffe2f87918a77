package graph

import (
	"encoding/json"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/cumulus-toolchain/cumulus/lang"
)

// Value is a value as the targets can carry it. Exactly one form is set:
//   - Static: known at compile time (JSON);
//   - Parts: a string built from literal text and run-time references, which
//     every target can express natively (Data Pipeline #{...} parameters,
//     Step Functions States.Format, container environment);
//   - Expr: any other run-time expression, as HCL source, which cumulus's
//     step wrapper evaluates per granule.
type Value struct {
	Static json.RawMessage `json:"static,omitempty"`
	Parts  []Part          `json:"parts,omitempty"`
	Expr   string          `json:"expr,omitempty"`
	// Refs are the run-time references the value uses ("granule.id"),
	// sorted and unique.
	Refs []string `json:"refs,omitempty"`
}

// Part is literal text (Lit) or a run-time reference (Ref, e.g. "granule.id").
type Part struct {
	Lit string `json:"lit,omitempty"`
	Ref string `json:"ref,omitempty"`
}

// IsStatic says whether the value is known at compile time.
func (v Value) IsStatic() bool { return v.Static != nil }

// StaticString returns a static value as text: strings as they are, other
// values as JSON (the form environment variables get).
func (v Value) StaticString() string {
	var s string
	if json.Unmarshal(v.Static, &s) == nil {
		return s
	}
	return string(v.Static)
}

// Template renders Parts with each reference replaced by ref(name): the one
// function backends need to express a template in their own syntax.
func (v Value) Template(ref func(string) string) string {
	var b strings.Builder
	for _, p := range v.Parts {
		if p.Ref != "" {
			b.WriteString(ref(p.Ref))
		} else {
			b.WriteString(p.Lit)
		}
	}
	return b.String()
}

// valueOf converts a checked expression. asString asks for string output
// (environment variables), which templates of any type become.
func valueOf(e *lang.Expr, base *hcl.EvalContext, files map[string]*hcl.File, asString bool) Value {
	if e == nil {
		return Value{}
	}
	if e.Static() {
		v := e.Value
		if asString && v.Type() != cty.String && !v.IsNull() {
			if sv, err := convert.Convert(v, cty.String); err == nil {
				v = sv
			}
		}
		b, err := ctyjson.Marshal(v, v.Type())
		if err != nil {
			b = []byte("null")
		}
		return Value{Static: b}
	}
	refs := map[string]bool{}
	for _, t := range e.Runtime {
		refs[refName(t)] = true
	}
	out := Value{Refs: sortedKeys(refs)}
	if parts, ok := partsOf(e.Expr, base); ok {
		out.Parts = parts
		return out
	}
	out.Expr = sourceOf(e.Expr, files)
	return out
}

// refName is "granule.id" for granule.id (deeper traversals keep only the
// first attribute: the rest is evaluated by whoever holds the value).
func refName(t hcl.Traversal) string {
	name := t.RootName()
	if len(t) > 1 {
		if a, ok := t[1].(hcl.TraverseAttr); ok {
			name += "." + a.Name
		}
	}
	return name
}

// partsOf splits a template into literal text and plain references to
// run-time values. Static pieces (var.x, local.y) are evaluated now. Anything
// else (function calls or conditions over run-time values) is not a plain
// template, and ok is false.
func partsOf(expr hcl.Expression, base *hcl.EvalContext) ([]Part, bool) {
	switch x := expr.(type) {
	case *hclsyntax.TemplateWrapExpr:
		return partsOf(x.Wrapped, base)
	case *hclsyntax.TemplateExpr:
		var parts []Part
		for _, p := range x.Parts {
			sub, ok := partsOf(p, base)
			if !ok {
				return nil, false
			}
			parts = append(parts, sub...)
		}
		return mergeLits(parts), true
	case *hclsyntax.ScopeTraversalExpr:
		root := x.Traversal.RootName()
		if root == "granule" || root == "file" {
			if len(x.Traversal) != 2 {
				return nil, false
			}
			return []Part{{Ref: refName(x.Traversal)}}, true
		}
	}
	if len(expr.Variables()) > 0 {
		for _, t := range expr.Variables() {
			if r := t.RootName(); r == "granule" || r == "file" {
				return nil, false
			}
		}
	}
	v, diags := expr.Value(base)
	if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() {
		return nil, false
	}
	sv, err := convert.Convert(v, cty.String)
	if err != nil {
		return nil, false
	}
	return []Part{{Lit: sv.AsString()}}, true
}

func mergeLits(parts []Part) []Part {
	var out []Part
	for _, p := range parts {
		if p.Ref == "" && p.Lit == "" {
			continue
		}
		if n := len(out); n > 0 && p.Ref == "" && out[n-1].Ref == "" {
			out[n-1].Lit += p.Lit
			continue
		}
		out = append(out, p)
	}
	return out
}

// sourceOf is the expression's text as written.
func sourceOf(expr hcl.Expression, files map[string]*hcl.File) string {
	r := expr.Range()
	if f := files[r.Filename]; f != nil && r.End.Byte <= len(f.Bytes) && r.Start.Byte <= r.End.Byte {
		return string(f.Bytes[r.Start.Byte:r.End.Byte])
	}
	return ""
}
