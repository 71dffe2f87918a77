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
		if reservedVariable(v.Name) {
			d.errorf(b.LabelRanges[0], "Reserved variable name", "%q is reserved for cumulus's own use; choose another name.", v.Name)
		}
		if a := content.Attributes["type"]; a != nil {
			ty, tdiags := typeexpr.TypeConstraint(a.Expr)
			d.add(tdiags)
			if !tdiags.HasErrors() {
				v.Type = ty
			}
		}
		if a := content.Attributes["description"]; a != nil {
			v.Description = d.str(a, "")
		}
		if a := content.Attributes["sensitive"]; a != nil {
			v.Sensitive = d.boolean(a, false)
		}
		if a := content.Attributes["default"]; a != nil {
			// A default is a constant: it cannot depend on other variables.
			val, vdiags := a.Expr.Value(nil)
			v.ValueFrom = "invalid default" // reported here; not "no value" as well
			if vdiags.HasErrors() {
				d.errorf(a.Expr.Range(), "Invalid default value", "A variable's default must be a constant value, without references or function calls.")
			} else if cv, err := convert.Convert(val, v.Type); err != nil {
				d.errorf(a.Expr.Range(), "Invalid default value", "The default of var.%s does not match its type %s: %s.", v.Name, typeexpr.TypeString(v.Type), err)
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
		c.setRaw(v, arg.Value, "-var", fmt.Sprintf("-var %s=...", arg.Name))
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

func reservedVariable(name string) bool {
	switch name {
	case "granule", "file", "stage_name", "count", "each", "self":
		return true
	}
	return false
}

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
		if !e.IsDir() && strings.HasSuffix(e.Name(), autoVarsExt) {
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
			d.errorf(a.Expr.Range(), "Invalid value in variable file", "Variable files hold constant values only: no references to other variables or function calls.")
			continue
		}
		c.set(v, val, filepath.Base(path), a.Expr.Range().Ptr())
	}
}

// setRaw assigns a value given as text (-var or the environment). As in
// Terraform, the text is taken literally for primitive types and parsed as an
// HCL expression otherwise (lists, maps, objects, any).
func (c *checker) setRaw(v *Variable, raw, from, where string) {
	if v.Type.IsPrimitiveType() {
		c.set(v, cty.StringVal(raw), from, nil)
		return
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), where, hcl.Pos{Line: 1, Column: 1})
	if !diags.HasErrors() {
		var val cty.Value
		val, diags = expr.Value(nil)
		if !diags.HasErrors() {
			c.set(v, val, from, nil)
			return
		}
	}
	c.d.add(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid value for variable",
		Detail: fmt.Sprintf("The value of var.%s from %s is not a valid HCL expression for type %s: %s. Write it as HCL, e.g. '[\"a\", \"b\"]' for a list.",
			v.Name, where, typeexpr.TypeString(v.Type), diags[0].Summary)}})
}

func (c *checker) set(v *Variable, val cty.Value, from string, subject *hcl.Range) {
	cv, err := convert.Convert(val, v.Type)
	if err != nil {
		c.d.add(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid value for variable", Subject: subject,
			Detail: fmt.Sprintf("The value of var.%s from %s does not match its type %s: %s.", v.Name, from, typeexpr.TypeString(v.Type), err)}})
		return
	}
	v.Value, v.ValueFrom = cv, from
}
