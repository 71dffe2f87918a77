package graph

import (
	"encoding/json"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/cumulus-toolchain/cumulus/stdlib"
)

// Eval evaluates a value for one granule (and file, which may be nil): the
// one way run time (the simulator, the platform's functions and step
// wrapper) turns a Value into a cty.Value, whatever its form.
func (g *Graph) Eval(v Value, gr stdlib.Granule, f *stdlib.File) (cty.Value, error) {
	switch {
	case v.IsStatic():
		var sv ctyjson.SimpleJSONValue
		if err := json.Unmarshal(v.Static, &sv); err != nil {
			return cty.NilVal, fmt.Errorf("decoding a static value: %w", err)
		}
		return sv.Value, nil
	case v.Parts != nil:
		granule := gr.Value()
		file := cty.NullVal(stdlib.FileType())
		if f != nil {
			file = f.Value()
		}
		var err error
		s := v.Template(func(ref string) string {
			root, attr := splitRef(ref)
			obj := granule
			if root == "file" {
				obj = file
			}
			if obj.IsNull() || !obj.Type().HasAttribute(attr) {
				err = fmt.Errorf("%s is not available here", ref)
				return ""
			}
			av := obj.GetAttr(attr)
			if av.IsNull() {
				err = fmt.Errorf("%s has no value here", ref)
				return ""
			}
			// Numbers (file.size) render as HCL templates render them.
			sv, cerr := convert.Convert(av, cty.String)
			if cerr != nil {
				err = fmt.Errorf("%s cannot be written as text: %w", ref, cerr)
				return ""
			}
			return sv.AsString()
		})
		return cty.StringVal(s), err
	case v.Expr != "":
		expr, diags := hclsyntax.ParseExpression([]byte(v.Expr), "expression", hcl.InitialPos)
		if diags.HasErrors() {
			return cty.NilVal, fmt.Errorf("parsing %q: %w", v.Expr, diags)
		}
		ctx, err := g.evalContext()
		if err != nil {
			return cty.NilVal, err
		}
		ctx.Variables["granule"] = gr.Value()
		ctx.Variables["file"] = cty.NullVal(stdlib.FileType())
		if f != nil {
			ctx.Variables["file"] = f.Value()
		}
		out, diags := expr.Value(ctx)
		if diags.HasErrors() {
			return cty.NilVal, fmt.Errorf("evaluating %q for granule %s: %w", v.Expr, gr.ID, diags)
		}
		return out, nil
	}
	return cty.NullVal(cty.DynamicPseudoType), nil
}

func splitRef(ref string) (string, string) {
	for i := 0; i < len(ref); i++ {
		if ref[i] == '.' {
			return ref[:i], ref[i+1:]
		}
	}
	return ref, ""
}

// evalContext rebuilds var, local and the functions. File functions are
// left out: at run time the configuration's folder is not there.
func (g *Graph) evalContext() (*hcl.EvalContext, error) {
	decode := func(m map[string]json.RawMessage) (cty.Value, error) {
		vals := map[string]cty.Value{}
		for k, raw := range m {
			var sv ctyjson.SimpleJSONValue
			if err := json.Unmarshal(raw, &sv); err != nil {
				return cty.NilVal, fmt.Errorf("decoding %s: %w", k, err)
			}
			vals[k] = sv.Value
		}
		return cty.ObjectVal(vals), nil
	}
	vars, err := decode(g.Variables)
	if err != nil {
		return nil, err
	}
	locals, err := decode(g.Locals)
	if err != nil {
		return nil, err
	}
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": vars, "local": locals},
		Functions: stdlib.Functions("", false),
	}, nil
}
