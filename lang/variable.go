package lang

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// EnvVarPrefix is the prefix of environment variables that set variables:
// CUMULUS_VAR_stage=prod sets var.stage.
const EnvVarPrefix = "CUMULUS_VAR_"

// Variable is a variable block and the value it got.
type Variable struct {
	Decl
	Name        string
	Description string
	Type        cty.Type
	Default     cty.Value // cty.NilVal when the variable is required
	Sensitive   bool
	// Value is the final value (cty.DynamicVal when it could not be set, so
	// that nothing downstream reports the same mistake again).
	Value cty.Value
	// ValueFrom says where Value came from: "default", "environment",
	// a var file's name, or "-var".
	ValueFrom string
}

var variableSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"},
}}

// decodeVariables decodes the variable blocks and assigns each its value in
// Terraform's order of precedence, lowest first: the default, CUMULUS_VAR_
// environment variables, *.auto.cumulus.vars files in the folder (in name
// order), then -var and -var-file arguments in command-line order.
func (c *checker) decodeVariables(blocks []*hcl.Block) []*Variable {
	d := c.d
	var vars []*Variable
	byName := map[string]*Variable{}
	for _, b := range blocks {
		content, diags := b.Body.Content(variableSchema)
		d.add(diags)
		v := &Variable{Decl: newDecl(b, content), Name: b.Labels[0], Type: cty.DynamicPseudoType, Value: cty.DynamicVal}
		if diags.HasErrors() {
			// Most likely a misspelt default: reported above, and not
			// as a missing value as well.
			v.ValueFrom = "invalid block"
		}
		if contains(reservedVariables, v.Name) {
			d.errorf(b.LabelRanges[0], "Reserved variable name", "%q is reserved: cumulus keeps %s for its own values. Choose another name.", v.Name, strings.Join(reservedVariables[:len(reservedVariables)-1], ", ")+" and "+reservedVariables[len(reservedVariables)-1])
		}
		if a := content.Attributes["type"]; a != nil {
			if ty, ok := c.typeConstraint(a); ok {
				v.Type = ty
			}
		}
		// description and sensitive are read before any variable has a
		// value, so, like the default, they must be constants.
		if a := content.Attributes["description"]; a != nil {
			if val, ok := c.constant(a, cty.String, `a quoted string such as "Deployment stage"`); ok {
				v.Description = val.AsString()
			}
		}
		if a := content.Attributes["sensitive"]; a != nil {
			if val, ok := c.constant(a, cty.Bool, "true or false"); ok {
				v.Sensitive = val.True()
			}
		}
		if a := content.Attributes["default"]; a != nil {
			// A default is a constant: it cannot depend on other variables.
			val, vdiags := a.Expr.Value(nil)
			v.ValueFrom = "invalid default" // reported here; not "no value" as well
			if vdiags.HasErrors() {
				d.errorf(a.Expr.Range(), "Invalid default value", "A variable's default must be a constant value, without references or function calls. Compute derived values in a locals block instead.")
			} else if cv, err := convert.Convert(val, v.Type); err != nil {
				d.errorf(a.Expr.Range(), "Invalid default value", "The default of var.%s does not match its type %s: %s.", v.Name, typeexpr.TypeString(v.Type), typeMismatch(err, v.Type))
			} else {
				v.Default, v.Value, v.ValueFrom = cv, cv, "default"
			}
		}
		vars = append(vars, v)
		byName[v.Name] = v
	}

	c.assignEnvironment(byName)
	c.assignAutoVarFiles(byName)
	for _, arg := range c.opts.Vars {
		if arg.File != "" {
			c.assignVarFile(arg.File, byName)
			continue
		}
		v, ok := byName[arg.Name]
		if !ok {
			d.add(hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Value for undeclared variable",
				Detail: fmt.Sprintf("-var sets %q, but no variable of that name is declared.%s Declare it with a variable block, or correct the name.",
					arg.Name, didYouMean(arg.Name, sortedKeys(byName))),
			}})
			continue
		}
		c.setRaw(v, arg.Value, "-var", "-var")
	}
	for _, v := range vars {
		if v.ValueFrom == "" {
			d.errorf(v.DeclRange, "No value for required variable",
				"var.%s has no default and no value was given. Set it with -var '%s=VALUE', in a %s file passed with -var-file, or in the environment variable %s%s; or give the variable a default.",
				v.Name, v.Name, VarsExtension, EnvVarPrefix, v.Name)
		}
	}
	return vars
}

// reservedVariables are names a variable cannot have.
var reservedVariables = []string{"granule", "file", "stage_name", "count", "each", "self"}

func (c *checker) assignEnvironment(byName map[string]*Variable) {
	env := append([]string(nil), c.opts.Env...)
	sort.Strings(env) // deterministic whatever the environment's order
	for _, kv := range env {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, EnvVarPrefix) {
			continue
		}
		// Undeclared names are ignored: the environment is shared with other
		// configurations and tools.
		if v, ok := byName[strings.TrimPrefix(k, EnvVarPrefix)]; ok {
			c.setRaw(v, val, "environment", "environment variable "+k)
		}
	}
}

func (c *checker) assignAutoVarFiles(byName map[string]*Variable) {
	entries, err := os.ReadDir(c.cfg.Dir)
	if err != nil {
		return // LoadSources may be given files without a folder on disk
	}
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), autoVarsExt) && !strings.HasPrefix(e.Name(), ".") {
			c.assignVarFile(filepath.Join(c.cfg.Dir, e.Name()), byName)
		}
	}
}

// assignVarFile reads a variable file: HCL attributes, constant values only.
func (c *checker) assignVarFile(path string, byName map[string]*Variable) {
	d := c.d
	src, err := os.ReadFile(path)
	if err != nil {
		d.add(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read variable file",
			Detail: fmt.Sprintf("%s. Check the path given to -var-file.", err)}})
		return
	}
	f, diags := c.parser.ParseHCL(src, path)
	d.add(diags)
	if f == nil || diags.HasErrors() {
		return
	}
	attrs, diags := f.Body.JustAttributes()
	d.add(diags)
	for _, name := range sortedKeys(attrs) {
		a := attrs[name]
		v, ok := byName[name]
		if !ok {
			d.warnf(a.NameRange, "Value for undeclared variable",
				"%s sets %q, but no variable of that name is declared.%s Declare it, correct the name, or remove the line.",
				path, name, didYouMean(name, sortedKeys(byName)))
			continue
		}
		val, vdiags := a.Expr.Value(nil)
		if vdiags.HasErrors() {
			c.invalidate(v, filepath.Base(path))
			d.errorf(a.Expr.Range(), "Invalid value in variable file", "Variable files hold constant values only: no references to other variables or function calls. Write the value itself, as in %s = %s.", name, exampleValue(v.Type))
			continue
		}
		c.set(v, val, filepath.Base(path), filepath.Base(path), a.Expr.Range().Ptr(), false)
	}
}

// setRaw assigns a value given as text (-var or the environment). As in
// Terraform, the text is taken literally for primitive types and parsed as an
// HCL expression otherwise (lists, maps, objects, any). where names the
// source for messages, e.g. "-var" or "environment variable CUMULUS_VAR_x".
func (c *checker) setRaw(v *Variable, raw, from, where string) {
	if v.Type.IsPrimitiveType() {
		c.set(v, cty.StringVal(raw), from, where, nil, true)
		return
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), where, hcl.Pos{Line: 1, Column: 1})
	if !diags.HasErrors() {
		var val cty.Value
		val, diags = expr.Value(nil)
		if !diags.HasErrors() {
			c.set(v, val, from, where, nil, true)
			return
		}
	}
	given := fmt.Sprintf("'%s'", raw)
	if v.Sensitive {
		given = "it"
	}
	why := strings.TrimSuffix(diags[0].Summary, ".")
	if why == "Variables not allowed" {
		why = "a word without quotes is read as a reference"
	}
	c.invalidate(v, from)
	c.d.add(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid value for variable",
		Detail: fmt.Sprintf("var.%s has type %s, so the value from %s is read as an HCL expression, but %s is not a constant HCL value (%s). Write it as HCL, with strings in quotes: %s.",
			v.Name, typeexpr.TypeString(v.Type), where, given, why, rawExample(v, where))}})
}

// set assigns val to v after converting it to v's type; raw says the value
// was given as text (-var or the environment), which changes how a fix is
// worded.
func (c *checker) set(v *Variable, val cty.Value, from, where string, subject *hcl.Range, raw bool) {
	cv, err := convert.Convert(val, v.Type)
	if err != nil {
		c.invalidate(v, from)
		given := ""
		if raw && val.Type() == cty.String && val.IsKnown() && !val.IsNull() && !v.Sensitive {
			given = fmt.Sprintf(" is %q, which", val.AsString())
		}
		fix := typeMismatch(err, v.Type)
		if raw {
			fix = fmt.Sprintf("%s; write it as %s", err, rawExample(v, where))
		}
		c.d.add(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid value for variable", Subject: subject,
			Detail: fmt.Sprintf("The value of var.%s from %s%s does not match its type %s: %s.", v.Name, where, given, typeexpr.TypeString(v.Type), fix)}})
		return
	}
	v.Value, v.ValueFrom = cv, from
}

// invalidate records that the value given to v was wrong (and reported), so
// that v is neither reported as missing nor checked downstream with the
// value it had before; a later, valid value still wins.
func (c *checker) invalidate(v *Variable, from string) {
	v.Value, v.ValueFrom = cty.DynamicVal, "invalid "+from
}

// exampleValue is an HCL value of type ty, for messages.
func exampleValue(ty cty.Type) string {
	switch {
	case ty == cty.Number:
		return "8"
	case ty == cty.Bool:
		return "true"
	case ty.IsListType(), ty.IsSetType(), ty.IsTupleType():
		return `["a", "b"]`
	case ty.IsMapType(), ty.IsObjectType():
		return `{ key = "value" }`
	}
	return `"value"`
}

// rawExample shows how to give a value of v's type as text in where: as
// Terraform does, text is taken literally for a string (so without quotes).
func rawExample(v *Variable, where string) string {
	val := exampleValue(v.Type)
	if v.Type == cty.String {
		val = "text"
	}
	if strings.HasPrefix(where, "environment") {
		if v.Type.IsPrimitiveType() {
			return fmt.Sprintf("%s%s=%s", EnvVarPrefix, v.Name, val)
		}
		return fmt.Sprintf("%s%s='%s'", EnvVarPrefix, v.Name, val)
	}
	return fmt.Sprintf("-var '%s=%s'", v.Name, val)
}

// constant evaluates an attribute of a variable block, which is read before
// any variable has a value and so must be a constant of type ty; what says
// how to write one.
func (c *checker) constant(a *hcl.Attribute, ty cty.Type, what string) (cty.Value, bool) {
	val, diags := a.Expr.Value(nil)
	if diags.HasErrors() || !val.IsWhollyKnown() {
		c.d.errorf(a.Expr.Range(), fmt.Sprintf("Invalid %s", a.Name), "A variable's %s must be a constant: write %s, without references or function calls.", a.Name, what)
		return cty.NilVal, false
	}
	cv, err := convert.Convert(val, ty)
	if err != nil || cv.IsNull() {
		msg := "it must not be null"
		if err != nil {
			msg = err.Error()
		}
		c.d.errorf(a.Expr.Range(), "Incorrect attribute value type", "Inappropriate value for attribute %q: %s; write %s.", a.Name, msg, what)
		return cty.NilVal, false
	}
	return cv, true
}

// typeNames are the keywords of type constraints, for suggestions.
var typeNames = []string{"string", "number", "bool", "any", "list", "set", "map", "tuple", "object"}

// typeConstraint reads a variable's type, rewording hcl's messages so that
// they say what to write.
func (c *checker) typeConstraint(a *hcl.Attribute) (cty.Type, bool) {
	const types = "A type is string, number, bool or any, or a collection of them such as list(string), map(number) or object({ name = string })."
	// The common mistake: a type in quotes, as in Terraform 0.11.
	if v, diags := a.Expr.Value(nil); !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
		if _, err := typeexpr.TypeConstraint(mustParse(v.AsString())); err == nil {
			c.d.errorf(a.Expr.Range(), "Invalid type specification", "A type is written without quotes: type = %s.", v.AsString())
			return cty.DynamicPseudoType, false
		}
	}
	ty, diags := typeexpr.TypeConstraint(a.Expr)
	if !diags.HasErrors() {
		return ty, true
	}
	for _, diag := range diags {
		if diag.Severity != hcl.DiagError || diag.Subject == nil {
			c.d.add(hcl.Diagnostics{diag})
			continue
		}
		hint := ""
		if f := c.parser.Files()[diag.Subject.Filename]; f != nil && diag.Subject.End.Byte <= len(f.Bytes) {
			word := string(diag.Subject.SliceBytes(f.Bytes))
			if hclsyntax.ValidIdentifier(word) {
				hint = didYouMean(word, typeNames)
			}
		}
		c.d.errorf(*diag.Subject, diag.Summary, "%s%s %s", strings.TrimSpace(diag.Detail), hint, types)
	}
	return cty.DynamicPseudoType, false
}

// mustParse parses s as an expression for typeexpr, which reads keywords
// from the syntax; a parse failure yields an expression typeexpr rejects.
func mustParse(s string) hcl.Expression {
	expr, diags := hclsyntax.ParseExpression([]byte(s), "", hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		return hcl.StaticExpr(cty.NullVal(cty.DynamicPseudoType), hcl.Range{})
	}
	return expr
}
