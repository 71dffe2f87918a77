package stepfunctions

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/cumulus-toolchain/cumulus/compiler/datapipeline"
)

// attrPath is the JSONPath, in the execution input, of a granule attribute
// that every run carries ("granule.id" -> "$.attributes.id"), if it has one.
func attrPath(ref string) (string, bool) {
	for _, gp := range datapipeline.GranuleParams {
		if ref == "granule."+gp.Attr {
			return "$." + InputAttributes + "." + gp.Attr, true
		}
	}
	return "", false
}

// choiceRule translates a step's when into an ASL Choice rule (without
// Next). It handles comparisons of a granule attribute with a string
// literal (== and !=), and !, && and || over them; ok is false for anything
// else, which the step wrapper then evaluates instead.
func choiceRule(src string) (map[string]any, bool) {
	expr, diags := hclsyntax.ParseExpression([]byte(src), "when", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, false
	}
	return rule(expr)
}

func rule(e hclsyntax.Expression) (map[string]any, bool) {
	switch x := e.(type) {
	case *hclsyntax.ParenthesesExpr:
		return rule(x.Expression)
	case *hclsyntax.UnaryOpExpr:
		if x.Op != hclsyntax.OpLogicalNot {
			return nil, false
		}
		r, ok := rule(x.Val)
		if !ok {
			return nil, false
		}
		return map[string]any{"Not": r}, true
	case *hclsyntax.BinaryOpExpr:
		switch x.Op {
		case hclsyntax.OpLogicalAnd, hclsyntax.OpLogicalOr:
			l, ok := rule(x.LHS)
			if !ok {
				return nil, false
			}
			r, ok := rule(x.RHS)
			if !ok {
				return nil, false
			}
			op := "And"
			if x.Op == hclsyntax.OpLogicalOr {
				op = "Or"
			}
			return map[string]any{op: []any{l, r}}, true
		case hclsyntax.OpEqual, hclsyntax.OpNotEqual:
			path, ok := attrRef(x.LHS)
			lit, ok2 := stringLit(x.RHS)
			if !ok || !ok2 {
				path, ok = attrRef(x.RHS)
				lit, ok2 = stringLit(x.LHS)
			}
			if !ok || !ok2 {
				return nil, false
			}
			r := map[string]any{"Variable": path, "StringEquals": lit}
			if x.Op == hclsyntax.OpNotEqual {
				return map[string]any{"Not": r}, true
			}
			return r, true
		}
	}
	return nil, false
}

func attrRef(e hclsyntax.Expression) (string, bool) {
	t, ok := e.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(t.Traversal) != 2 || t.Traversal.RootName() != "granule" {
		return "", false
	}
	a, ok := t.Traversal[1].(hcl.TraverseAttr)
	if !ok {
		return "", false
	}
	return attrPath("granule." + a.Name)
}

func stringLit(e hclsyntax.Expression) (string, bool) {
	switch x := e.(type) {
	case *hclsyntax.TemplateExpr:
		if len(x.Parts) == 1 {
			return stringLit(x.Parts[0])
		}
		if len(x.Parts) == 0 {
			return "", true
		}
	case *hclsyntax.LiteralValueExpr:
		if x.Val.Type() == cty.String && x.Val.IsKnown() && !x.Val.IsNull() {
			return x.Val.AsString(), true
		}
	}
	return "", false
}
