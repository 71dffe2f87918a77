package lang

import (
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/cumulus-toolchain/cumulus/lang/suggest"
	"github.com/cumulus-toolchain/cumulus/stdlib"
)

// scope says which names an expression may refer to. Values that are known
// before anything runs come first; each later scope adds values that exist
// only while a granule (or one of its files) is processed.
type scope int

const (
	scopeStatic  scope = iota // var, local and functions
	scopeGranule              // also granule.*
	scopeFile                 // also granule.* and file.*
)

// blockKinds are the roots of references to blocks; listing them lets the
// checker tell "a reference where a value belongs" from a plain typo.
var blockKinds = []string{"bucket", "collection", "distribution", "pipeline", "provider", "source", "step", "stdlib", "task"}

// decoder carries what every block decoder needs: the diagnostics gathered so
// far, the evaluation contexts, and the names declared in the configuration,
// so references resolve whatever the order of declaration.
type decoder struct {
	diags hcl.Diagnostics

	static  *hcl.EvalContext
	granule *hcl.EvalContext
	file    *hcl.EvalContext

	vars   map[string]bool
	locals map[string]bool

	// declared holds, per block kind, each name and where it was declared.
	declared map[string]map[string]hcl.Range

	// The granule schema and the standard steps, looked up once per load
	// rather than once per reference: they are built on each stdlib call.
	granuleAttrs, fileAttrs []string
	steps                   map[string]*stdlib.Step
	stepNames               map[string]hcl.Range

	// mentioned holds "kind.name" of blocks a failed reference was probably
	// meant for (see mention).
	mentioned map[string]bool
}

func newDecoder() *decoder {
	d := &decoder{
		vars:         map[string]bool{},
		locals:       map[string]bool{},
		declared:     map[string]map[string]hcl.Range{},
		granuleAttrs: stdlib.GranuleAttributes(),
		fileAttrs:    stdlib.FileAttributes(),
		steps:        map[string]*stdlib.Step{},
		stepNames:    map[string]hcl.Range{},
	}
	for _, s := range stdlib.Steps() {
		d.steps[s.Name] = s
		d.stepNames[s.Name] = hcl.Range{}
	}
	return d
}

func (d *decoder) errorf(rng hcl.Range, summary, detail string, args ...any) {
	r := rng
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(detail, args...),
		Subject:  &r,
	})
}

func (d *decoder) warnf(rng hcl.Range, summary, detail string, args ...any) {
	r := rng
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  summary,
		Detail:   fmt.Sprintf(detail, args...),
		Subject:  &r,
	})
}

func (d *decoder) add(diags hcl.Diagnostics) { d.diags = append(d.diags, diags...) }

func (d *decoder) ctxFor(sc scope) *hcl.EvalContext {
	switch sc {
	case scopeGranule:
		return d.granule
	case scopeFile:
		return d.file
	}
	return d.static
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkRefs verifies every name expr refers to before it is evaluated, so
// that each mistake gets a message that says what to write instead, rather
// than hcl's generic "Unknown variable".
func (d *decoder) checkRefs(expr hcl.Expression, sc scope) bool {
	ok := true
	for _, t := range expr.Variables() {
		if !d.checkRef(t, sc) {
			ok = false
		}
	}
	return ok
}

func (d *decoder) checkRef(t hcl.Traversal, sc scope) bool {
	root := t.RootName()
	rng := t.SourceRange()
	attr, hasAttr := "", false
	if len(t) > 1 {
		if a, isAttr := t[1].(hcl.TraverseAttr); isAttr {
			attr, hasAttr = a.Name, true
		}
	}
	switch root {
	case "var", "local":
		names := d.vars
		what, fix := "variable", `Declare it with a variable block, or correct the name.`
		if root == "local" {
			names, what, fix = d.locals, "local value", `Define it in a locals block, or correct the name.`
		}
		if !hasAttr {
			d.errorf(rng, "Invalid reference", "%s must be followed by the name of a %s, such as %s.stage.", root, what, root)
			return false
		}
		if !names[attr] {
			d.errorf(rng, fmt.Sprintf("Reference to undeclared %s", what),
				"No %s named %q is declared.%s %s", what, attr, didYouMean(attr, sortedKeys(names)), fix)
			return false
		}
		return true
	case "granule", "file":
		if (root == "granule" && sc < scopeGranule) || (root == "file" && sc < scopeFile) {
			where := "in url_path, and in a step's env, with and when"
			if root == "file" {
				where = "in a url_path, where each file is placed"
			}
			d.errorf(rng, "Run-time value where a static value is required",
				"%s.* is known only while a granule is processed, so it can be used only %s. This setting must be known before anything runs: use a literal, var.NAME or local.NAME.", root, where)
			return false
		}
		if !hasAttr {
			return true
		}
		known := d.granuleAttrs
		if root == "file" {
			known = d.fileAttrs
		}
		if !contains(known, attr) {
			d.errorf(rng, fmt.Sprintf("Unknown %s attribute", root),
				"A %s has no attribute %q.%s Its attributes are: %s.", root, attr, didYouMean(attr, known), strings.Join(known, ", "))
			return false
		}
		// granule.files[N].name: each element is a file.
		if root == "granule" && attr == "files" && len(t) > 3 {
			if _, isIndex := t[2].(hcl.TraverseIndex); isIndex {
				if a, isAttr := t[3].(hcl.TraverseAttr); isAttr && !contains(d.fileAttrs, a.Name) {
					d.errorf(rng, "Unknown file attribute",
						"A file of granule.files has no attribute %q.%s Its attributes are: %s.", a.Name, didYouMean(a.Name, d.fileAttrs), strings.Join(d.fileAttrs, ", "))
					return false
				}
			}
		}
		return true
	}
	if contains(blockKinds, root) {
		d.errorf(rng, "Block reference where a value is expected",
			"%s is a reference to a block; references are accepted only by the attributes that name a block (bucket, provider, collection, pipeline, task, uses, after). Here a value is expected: use a literal, var.NAME or local.NAME.", t.RootName()+traversalSuffix(t))
		return false
	}
	allowed := []string{"var", "local"}
	if sc >= scopeGranule {
		allowed = append(allowed, "granule")
	}
	if sc >= scopeFile {
		allowed = append(allowed, "file")
	}
	d.errorf(rng, "Unknown name",
		"There is nothing named %q here.%s An expression here can refer to %s.", root, didYouMean(root, append(append([]string(nil), allowed...), blockKinds...)), strings.Join(allowed, ", "))
	return false
}

func traversalSuffix(t hcl.Traversal) string {
	if len(t) > 1 {
		if a, ok := t[1].(hcl.TraverseAttr); ok {
			return "." + a.Name
		}
	}
	return ""
}

// eval checks references, evaluates and converts to ty. ok is false when an
// error was reported or the value is unknown because something it depends on
// already failed (which was reported where it failed). A null value counts as
// unset, as in Terraform.
func (d *decoder) eval(a *hcl.Attribute, sc scope, ty cty.Type) (cty.Value, bool) {
	if a == nil {
		return cty.NilVal, false
	}
	if !d.checkRefs(a.Expr, sc) {
		return cty.NilVal, false
	}
	v, diags := a.Expr.Value(d.ctxFor(sc))
	d.add(diags)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	if v.IsNull() {
		return cty.NilVal, false
	}
	if ty != cty.DynamicPseudoType {
		cv, err := convert.Convert(v, ty)
		if err != nil {
			d.errorf(a.Expr.Range(), "Incorrect attribute value type",
				"Inappropriate value for attribute %q: %s.", a.Name, typeMismatch(err, ty))
			return cty.NilVal, false
		}
		v = cv
	}
	if sc == scopeStatic && !v.IsWhollyKnown() {
		return cty.NilVal, false
	}
	return v, true
}

// typeMismatch words a conversion failure with an example of what is expected.
func typeMismatch(err error, ty cty.Type) string {
	msg := err.Error()
	switch {
	case ty == cty.String:
		return msg + `; write a quoted string such as "example"`
	case ty == cty.Number:
		return msg + `; write a number such as 512, without quotes`
	case ty == cty.Bool:
		return msg + "; write true or false"
	case ty.IsListType() && ty.ElementType() == cty.String:
		return msg + `; write a list of strings such as ["a", "b"]`
	case ty.IsMapType():
		return msg + `; write an object such as { KEY = "value" }`
	}
	return msg
}

func (d *decoder) str(a *hcl.Attribute, def string) string {
	v, ok := d.eval(a, scopeStatic, cty.String)
	if !ok {
		return def
	}
	return v.AsString()
}

func (d *decoder) boolean(a *hcl.Attribute, def bool) bool {
	v, ok := d.eval(a, scopeStatic, cty.Bool)
	if !ok {
		return def
	}
	return v.True()
}

// integer evaluates a whole number within [lo, hi]; what describes the limit
// for the message (e.g. "a port").
func (d *decoder) integer(a *hcl.Attribute, def, lo, hi int, why string) int {
	v, ok := d.eval(a, scopeStatic, cty.Number)
	if !ok {
		return def
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		d.errorf(a.Expr.Range(), fmt.Sprintf("Invalid %s", a.Name), "%s must be a whole number; %s is not. %s", a.Name, bf.Text('g', -1), why)
		return def
	}
	if bf.Cmp(big.NewFloat(float64(lo))) < 0 || bf.Cmp(big.NewFloat(float64(hi))) > 0 {
		d.errorf(a.Expr.Range(), fmt.Sprintf("Invalid %s", a.Name), "%s must be between %d and %d; %s is not. %s", a.Name, lo, hi, bf.Text('g', -1), why)
		return def
	}
	i, _ := bf.Int64()
	return int(i)
}

func (d *decoder) number(a *hcl.Attribute, def, lo, hi float64, why string) float64 {
	v, ok := d.eval(a, scopeStatic, cty.Number)
	if !ok {
		return def
	}
	f, _ := v.AsBigFloat().Float64()
	if f < lo || f > hi {
		d.errorf(a.Expr.Range(), fmt.Sprintf("Invalid %s", a.Name), "%s must be between %g and %g; %g is not. %s", a.Name, lo, hi, f, why)
		return def
	}
	return f
}

// duration evaluates a duration string and checks it against [lo, hi] (hi 0
// means no upper bound).
func (d *decoder) duration(a *hcl.Attribute, def, lo, hi time.Duration, why string) time.Duration {
	sv, ok := d.eval(a, scopeStatic, cty.String)
	if !ok {
		return def
	}
	s := sv.AsString()
	v, err := stdlib.ParseDuration(s)
	if err != nil {
		d.errorf(a.Expr.Range(), "Invalid duration", "%s: %s.", a.Name, err)
		return def
	}
	if v < lo || (hi > 0 && v > hi) {
		bound := fmt.Sprintf("at least %s", stdlib.FormatDuration(lo))
		if hi > 0 {
			bound = fmt.Sprintf("between %s and %s", stdlib.FormatDuration(lo), stdlib.FormatDuration(hi))
		}
		d.errorf(a.Expr.Range(), fmt.Sprintf("Invalid %s", a.Name), "%s must be %s; %q is not. %s", a.Name, bound, s, why)
		return def
	}
	return v
}

func (d *decoder) strings(a *hcl.Attribute) []string {
	v, ok := d.eval(a, scopeStatic, cty.List(cty.String))
	if !ok {
		return nil
	}
	out := make([]string, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			d.errorf(a.Expr.Range(), "Null list element", "%s must not contain null elements.", a.Name)
			return nil
		}
		out = append(out, e.AsString())
	}
	return out
}

func (d *decoder) stringMap(a *hcl.Attribute) map[string]string {
	v, ok := d.eval(a, scopeStatic, cty.Map(cty.String))
	if !ok {
		return nil
	}
	out := map[string]string{}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if e.IsNull() {
			d.errorf(a.Expr.Range(), "Null map value", "%s.%s must not be null.", a.Name, k.AsString())
			continue
		}
		out[k.AsString()] = e.AsString()
	}
	return out
}

// enum evaluates a string that must be one of allowed.
func (d *decoder) enum(a *hcl.Attribute, def string, allowed []string) string {
	if a == nil {
		return def
	}
	v, ok := d.eval(a, scopeStatic, cty.String)
	if !ok {
		return def
	}
	s := v.AsString()
	if !contains(allowed, s) {
		d.errorf(a.Expr.Range(), fmt.Sprintf("Unsupported %s %q", a.Name, s),
			"%s must be one of %s.%s", a.Name, quoteList(allowed), didYouMean(s, allowed))
		return def
	}
	return s
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// regexp compiles a pattern with Go's RE2 syntax, the engine the simulator and
// the platform functions match with.
func (d *decoder) regexp(a *hcl.Attribute) *regexp.Regexp {
	if a == nil {
		return nil
	}
	v, ok := d.eval(a, scopeStatic, cty.String)
	if !ok {
		return nil
	}
	s := v.AsString()
	re, err := regexp.Compile(s)
	if err != nil {
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "error parsing regexp: ")
		if strings.Contains(msg, "invalid or unsupported Perl syntax") || strings.Contains(msg, "invalid escape sequence: `\\1") {
			msg += " (RE2 has no lookahead, lookbehind or backreferences: match more loosely and let granule_id or another file's pattern tell the files apart)"
		}
		d.errorf(a.Expr.Range(), "Invalid regular expression", "%s is not a valid regular expression: %s. Patterns use RE2 syntax (https://github.com/google/re2/wiki/Syntax); remember that a backslash in an HCL string is written \\\\, e.g. \"\\\\.nc$\".", a.Name, msg)
		return nil
	}
	return re
}

// runtime checks an expression that may use run-time values and keeps it for
// later evaluation. Its type is checked now: the value of an expression over
// unknown granule attributes is an unknown of the right type.
func (d *decoder) runtime(a *hcl.Attribute, sc scope, ty cty.Type) *Expr {
	if a == nil {
		return nil
	}
	return d.runtimeExpr(a.Name, a.Expr, sc, ty)
}

func (d *decoder) runtimeExpr(name string, expr hcl.Expression, sc scope, ty cty.Type) *Expr {
	if !d.checkRefs(expr, sc) {
		return nil
	}
	v, diags := expr.Value(d.ctxFor(sc))
	d.add(diags)
	if diags.HasErrors() {
		return nil
	}
	if ty != cty.DynamicPseudoType {
		cv, err := convert.Convert(v, ty)
		if err != nil {
			d.errorf(expr.Range(), "Incorrect attribute value type",
				"Inappropriate value for %q: %s.", name, typeMismatch(err, ty))
			return nil
		}
		v = cv
	}
	e := &Expr{Expr: expr, Value: v}
	for _, t := range expr.Variables() {
		if r := t.RootName(); r == "granule" || r == "file" {
			e.Runtime = append(e.Runtime, t)
		}
	}
	return e
}

// Expr is an expression kept for run time. Value is its value when it is
// known now (Runtime empty), or an unknown of the checked type otherwise.
type Expr struct {
	Expr    hcl.Expression
	Value   cty.Value
	Runtime []hcl.Traversal
}

// Static says whether the value is known without a granule.
func (e *Expr) Static() bool { return len(e.Runtime) == 0 && e.Value.IsWhollyKnown() }

// Range is the source range of the expression.
func (e *Expr) Range() hcl.Range { return e.Expr.Range() }

// blockRef is a resolved typed reference such as bucket.protected.
type blockRef struct {
	Kind, Name string
	Range      hcl.Range
}

// ref resolves an attribute that names a block of kind want. names lists the
// candidates (nil means the configuration's declarations of that kind).
func (d *decoder) ref(expr hcl.Expression, attr, want string, names map[string]hcl.Range) (blockRef, bool) {
	return d.refIn(expr, attr, want, names, false)
}

// refIn is ref for one element of a list (inList), which changes only how
// the fix is written: after = [step.a], not after = step.a.
func (d *decoder) refIn(expr hcl.Expression, attr, want string, names map[string]hcl.Range, inList bool) (blockRef, bool) {
	if names == nil {
		names = d.declared[want]
	}
	noun := kindNoun(want)
	// Only messages need an example; sorting every name for every
	// reference made validation quadratic in the number of blocks.
	exampleOf := func() string {
		if n := sortedKeys(names); len(n) > 0 {
			return want + "." + n[0]
		}
		return want + ".NAME"
	}
	write := func(name string) string {
		if inList {
			return fmt.Sprintf("%s = [%s.%s]", attr, want, name)
		}
		return fmt.Sprintf("%s = %s.%s", attr, want, name)
	}
	t, diags := hcl.AbsTraversalForExpr(expr)
	if diags.HasErrors() {
		// Quoting a name is the common mistake; say exactly what to write.
		if v, vd := expr.Value(nil); !vd.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			s := v.AsString()
			if _, ok := names[s]; ok {
				d.mention(want, s)
				d.errorf(expr.Range(), "Invalid reference", "%s takes a reference, not a string: write %s, without quotes.", attr, write(s))
				return blockRef{}, false
			}
		}
		d.errorf(expr.Range(), "Invalid reference", "%s must refer to %s, such as %s.", attr, article(noun), exampleOf())
		return blockRef{}, false
	}
	root := t.RootName()
	rng := t.SourceRange()
	if len(t) == 1 {
		// A bare name: the kind was left out.
		if _, ok := names[root]; ok {
			d.mention(want, root)
			d.errorf(rng, "Invalid reference", "A reference names the kind of block first: write %s.", write(root))
			return blockRef{}, false
		}
		d.errorf(rng, "Invalid reference", "%s must refer to %s as %s.NAME, such as %s.", attr, article(noun), want, exampleOf())
		return blockRef{}, false
	}
	name := ""
	if a, ok := t[1].(hcl.TraverseAttr); ok && len(t) == 2 {
		name = a.Name
	} else {
		d.errorf(rng, "Invalid reference", "%s must refer to %s by its name alone, such as %s.", attr, article(noun), exampleOf())
		return blockRef{}, false
	}
	if root != want {
		if contains(blockKinds, root) || root == "var" || root == "local" {
			hint := ""
			if _, ok := names[name]; ok {
				d.mention(want, name)
				hint = fmt.Sprintf(" Did you mean %s.%s?", want, name)
			}
			d.errorf(rng, "Wrong kind of reference",
				"%s must refer to %s (such as %s), but %s.%s is %s.%s", attr, article(noun), exampleOf(), root, name, article(kindNoun(root)), hint)
			return blockRef{}, false
		}
		d.errorf(rng, "Invalid reference", "%q is not a kind of block.%s %s must refer to %s, such as %s.",
			root, didYouMean(root, blockKinds), attr, article(noun), exampleOf())
		return blockRef{}, false
	}
	if _, ok := names[name]; !ok {
		known := sortedKeys(names)
		if s := suggest.Name(name, known); s != "" {
			d.mention(want, s)
		}
		d.errorf(rng, fmt.Sprintf("Reference to undeclared %s", noun),
			"There is no %s named %q.%s Declared: %s.", noun, name, didYouMean(name, known), listNames(known))
		return blockRef{}, false
	}
	return blockRef{Kind: want, Name: name, Range: rng}, true
}

// mention records that a failed reference was probably meant for kind.name,
// so that name is not also reported as unused.
func (d *decoder) mention(kind, name string) {
	if d.mentioned == nil {
		d.mentioned = map[string]bool{}
	}
	d.mentioned[kind+"."+name] = true
}

func kindNoun(kind string) string {
	switch kind {
	case "stdlib":
		return "standard step"
	case "var":
		return "variable"
	case "local":
		return "local value"
	}
	return kind
}

func article(noun string) string {
	if strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}

// known says whether an attribute evaluates cleanly to a known value (its
// errors, if any, were reported when it was first evaluated).
func (d *decoder) known(a *hcl.Attribute) bool {
	v, diags := a.Expr.Value(d.static)
	return !diags.HasErrors() && v.IsWhollyKnown() && !v.IsNull()
}
