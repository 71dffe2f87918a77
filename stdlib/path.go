package stdlib

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// maxKeyBytes is S3's limit on the length of an object key, in UTF-8 bytes.
const maxKeyBytes = 1024

// RenderPath evaluates a url_path template for one granule (and file, may be nil) on top of
// the configuration's base context (which holds var, local and the functions; may be nil):
// it sets `granule` and `file` in a child context, evaluates, requires a string result, and
// normalises: forward slashes, no leading or trailing '/', repeated '/' collapsed. It refuses,
// with an hcl.Diagnostic whose Subject is expr.Range() and whose Detail says how to fix it: a
// non-string or null result, an empty result, a '..' or '.' segment, control characters, and
// a result longer than 1024 bytes (the S3 key limit).
//
// References to granule.* and file.* are checked against the schema before
// evaluation, so that a typo gets a "did you mean" rather than HCL's generic
// "Unsupported attribute", and a use of `file` where there is no file (f is
// nil) says why.
func RenderPath(expr hcl.Expression, base *hcl.EvalContext, g Granule, f *File) (string, hcl.Diagnostics) {
	if diags := checkRunTimeRefs(expr, f != nil); diags.HasErrors() {
		return "", diags
	}

	var ctx *hcl.EvalContext
	if base != nil {
		ctx = base.NewChild()
	} else {
		ctx = &hcl.EvalContext{}
	}
	fileVal := cty.NullVal(FileType()) // shadows any outer `file`; references were refused above
	if f != nil {
		fileVal = f.Value()
	}
	ctx.Variables = map[string]cty.Value{
		"granule": g.Value(),
		"file":    fileVal,
	}

	val, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return "", diags
	}
	val, _ = val.UnmarkDeep()

	rng := expr.Range()
	refuse := func(summary, detail string) (string, hcl.Diagnostics) {
		return "", append(diags, &hcl.Diagnostic{
			Severity:    hcl.DiagError,
			Summary:     summary,
			Detail:      detail,
			Subject:     &rng,
			Expression:  expr,
			EvalContext: ctx,
		})
	}
	forWhat := fmt.Sprintf("granule %q", g.ID)
	if f != nil {
		forWhat = fmt.Sprintf("file %q of granule %q", f.Name, g.ID)
	}

	switch {
	case !val.IsKnown():
		return refuse("url_path is not known",
			fmt.Sprintf("The url_path for %s depends on a value that is not known yet, so the archive location cannot be decided. Build it only from granule.*, file.*, var.* and local.* values.", forWhat))
	case val.IsNull():
		return refuse("url_path is null",
			fmt.Sprintf("The url_path for %s evaluated to null. Give it a string value, such as \"hamsr/${granule.year}/${granule.id}\", or remove the attribute to use the default location.", forWhat))
	case val.Type() != cty.String:
		fix := "Write it as a string template, such as \"hamsr/${granule.year}/${granule.id}\"."
		switch ty := val.Type(); {
		case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
			fix = "To build a path from a list of parts, join them: join(\"/\", [...])."
		case ty == cty.Number || ty == cty.Bool:
			fix = "Wrap the value in a template to use it as text: \"${...}\"."
		}
		return refuse("url_path must be a string",
			fmt.Sprintf("The url_path for %s evaluated to a %s, but a path must be a string. %s", forWhat, val.Type().FriendlyName(), fix))
	}

	raw := val.AsString()
	for i, r := range raw {
		if unicode.IsControl(r) {
			return refuse("url_path contains a control character",
				fmt.Sprintf("The url_path for %s, %s, contains the control character %U at byte %d. S3 keys with control characters cannot be used safely in URLs or listings; remove it from the template (or from the value it comes from, e.g. with replace()).", forWhat, quoteShort(raw), r, i))
		}
	}

	p := normalisePath(raw)
	if p == "" {
		return refuse("url_path is empty",
			fmt.Sprintf("The url_path for %s evaluated to %q, which leaves no folder to archive into. Check that the values it uses are not empty (granule.year and the other date parts are empty when the granule id carries no date), or remove the attribute to use the default location.", forWhat, raw))
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return refuse("url_path contains a relative segment",
				fmt.Sprintf("The url_path for %s, %s, contains a %q segment. An archive path is an S3 key, where %q is not resolved as in a file system but kept literally, which makes links ambiguous or broken. Remove it from the template, or check the values the template uses (one that is %q yields such a segment too).", forWhat, quoteShort(p), seg, seg, seg))
		}
	}
	if len(p) > maxKeyBytes {
		return refuse("url_path is too long",
			fmt.Sprintf("The url_path for %s is %d bytes long, starting %s, but an S3 key can be at most %d bytes, including the file name that follows it. Shorten the template.", forWhat, len(p), quoteShort(p), maxKeyBytes))
	}
	return p, diags
}

// normalisePath turns backslashes into slashes, collapses repeated slashes,
// and trims slashes at either end: a url_path is a key prefix, and
// "hamsr//2013/" and "/hamsr/2013" name the same place as "hamsr/2013".
func normalisePath(s string) string {
	s = strings.ReplaceAll(s, `\`, "/")
	parts := strings.Split(s, "/")
	kept := parts[:0]
	for _, part := range parts {
		if part != "" {
			kept = append(kept, part)
		}
	}
	return strings.Join(kept, "/")
}

// quoteShort quotes s for a message, eliding the middle of long values.
func quoteShort(s string) string {
	const max = 80
	if len(s) <= max {
		return fmt.Sprintf("%q", s)
	}
	// Cutting at a byte count may split a rune; ToValidUTF8 drops the broken tail.
	return fmt.Sprintf("%q", strings.ToValidUTF8(s[:max/2], "")+"…")
}

// checkRunTimeRefs checks every reference to granule or file in expr against
// the schema. It stops following a reference where the schema no longer says
// what comes next (a splat, or indexing something that is not a list), and
// leaves those to HCL's evaluation, which has its own messages for them.
func checkRunTimeRefs(expr hcl.Expression, haveFile bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		var ty cty.Type
		switch tr.RootName() {
		case "granule":
			ty = GranuleType()
		case "file":
			if !haveFile {
				rng := tr.SourceRange()
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "No file here",
					Detail:   "This url_path is rendered for the granule as a whole, so there is no current file for file.* to refer to. Use granule.* here (granule.files lists every file), or move the part that depends on the file into a file block's url_path.",
					Subject:  &rng,
				})
				continue
			}
			ty = FileType()
		default:
			continue
		}
		path := tr.RootName()
	steps:
		for _, step := range tr[1:] {
			switch s := step.(type) {
			case hcl.TraverseAttr:
				if !ty.IsObjectType() {
					break steps
				}
				if !ty.HasAttribute(s.Name) {
					names := attributeNames(ty)
					rng := s.SrcRange
					diags = append(diags, &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "Unsupported attribute",
						Detail: fmt.Sprintf("%s has no attribute %q.%s Its attributes are: %s.",
							path, s.Name, didYouMean(s.Name, names), strings.Join(names, ", ")),
						Subject: &rng,
					})
					break steps
				}
				ty = ty.AttributeType(s.Name)
				path += "." + s.Name
			case hcl.TraverseIndex:
				if !ty.IsListType() {
					break steps
				}
				ty = ty.ElementType()
				if s.Key.IsKnown() && !s.Key.IsNull() && s.Key.Type() == cty.Number {
					path += "[" + s.Key.AsBigFloat().Text('f', -1) + "]"
				} else {
					path += "[...]"
				}
			default:
				break steps
			}
		}
	}
	return diags
}
