package lang

import (
	"fmt"
	"regexp"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/cumulus-toolchain/cumulus/stdlib"
)

// Collection says what a granule of one product is: how its files are
// recognised and grouped, and where each is archived.
type Collection struct {
	Decl
	Name    string
	Version string
	// GranuleID extracts the granule id from a file name: the first capture
	// group, or the whole match when the pattern has none.
	GranuleID *regexp.Regexp
	Files     []*CollectionFile
	// URLPath is where files are archived in their bucket (per file, at run
	// time); nil means at the bucket's root under the file's name.
	URLPath *Expr
	// Duplicates is what happens to a granule ingested again: skip, replace,
	// version or error.
	Duplicates string
	// Bucket is the default bucket of files that name none (may be nil).
	Bucket *Bucket
}

// CollectionFile is one kind of file of a granule.
type CollectionFile struct {
	Decl
	Name     string
	Match    *regexp.Regexp
	Bucket   *Bucket
	Sample   string
	Required bool
	// ChecksumFor names the file (of this collection) whose checksum this
	// sidecar file holds; "" for ordinary files.
	ChecksumFor string
	URLPath     *Expr // nil: the collection's
}

// DuplicatePolicies are the values of a collection's duplicates.
var DuplicatePolicies = []string{"skip", "replace", "version", "error"}

var collectionSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "version", Required: true}, {Name: "granule_id", Required: true}, {Name: "url_path"},
		{Name: "duplicates"}, {Name: "bucket"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "file", LabelNames: []string{"name"}}},
}

var fileSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "match", Required: true}, {Name: "bucket"}, {Name: "sample"}, {Name: "required"},
	{Name: "checksum_for"}, {Name: "url_path"},
}}

// GranuleIDOf returns the granule id the collection extracts from a file
// name, or "" when the pattern does not match or extracts nothing.
func (c *Collection) GranuleIDOf(name string) string {
	if c.GranuleID == nil {
		return ""
	}
	m := c.GranuleID.FindStringSubmatch(name)
	switch {
	case m == nil:
		return ""
	case len(m) > 1:
		return m[1]
	}
	return m[0]
}

// File returns the file block named name, or nil.
func (c *Collection) File(name string) *CollectionFile {
	for _, f := range c.Files {
		if f.Name == name {
			return f
		}
	}
	return nil
}

func (c *checker) decodeCollection(b *hcl.Block) *Collection {
	d := c.d
	content, diags := b.Body.Content(collectionSchema)
	d.add(diags)
	attr := content.Attributes
	col := &Collection{Decl: newDecl(b, content), Name: b.Labels[0], Duplicates: "error"}
	c.cfg.register("collection", col.Name, col)
	col.Version = d.str(attr["version"], "")
	if a := attr["version"]; a != nil && col.Version == "" && d.known(a) {
		d.errorf(a.Expr.Range(), "Invalid version", "A collection's version must not be empty (CMR requires one); write version = \"1\".")
	}
	col.GranuleID = d.regexp(attr["granule_id"])
	col.Duplicates = d.enum(attr["duplicates"], col.Duplicates, DuplicatePolicies)
	if a := attr["bucket"]; a != nil {
		if r, ok := d.ref(a.Expr, "bucket", "bucket", nil); ok {
			col.Bucket = c.cfg.Bucket(r.Name)
		}
	}
	col.URLPath = d.runtime(attr["url_path"], scopeFile, cty.String)

	seen := map[string]hcl.Range{}
	var fileBlocks []*hcl.Block
	for _, fb := range content.Blocks {
		name := fb.Labels[0]
		if prev, dup := seen[name]; dup {
			d.errorf(fb.LabelRanges[0], fmt.Sprintf("Duplicate file %q", name), "Collection %q already has a file named %q, declared at %s. Rename one of them.", col.Name, name, rangeString(prev))
			continue
		}
		seen[name] = fb.DefRange
		fileBlocks = append(fileBlocks, fb)
	}
	if len(fileBlocks) == 0 {
		d.errorf(col.NameRange, "Collection without files", "Collection %q has no file blocks, so no file would be recognised as part of a granule. Add one, such as:\n  file \"data\" {\n    match  = \"\\\\.nc$\"\n    bucket = bucket.protected\n  }", col.Name)
	}
	for _, fb := range fileBlocks {
		col.Files = append(col.Files, c.decodeFile(col, fb, seen))
	}
	c.checkSamples(col)
	return col
}

func (c *checker) decodeFile(col *Collection, b *hcl.Block, siblings map[string]hcl.Range) *CollectionFile {
	d := c.d
	content, diags := b.Body.Content(fileSchema)
	d.add(diags)
	attr := content.Attributes
	f := &CollectionFile{Decl: newDecl(b, content), Name: b.Labels[0], Required: true}
	f.Match = d.regexp(attr["match"])
	f.Bucket = col.Bucket
	if a := attr["bucket"]; a != nil {
		f.Bucket = nil
		if r, ok := d.ref(a.Expr, "bucket", "bucket", nil); ok {
			f.Bucket = c.cfg.Bucket(r.Name)
		}
	}
	// A bad reference was reported already; "no bucket" would repeat it.
	if f.Bucket == nil && attr["bucket"] == nil && !col.Has("bucket") {
		d.errorf(f.NameRange, "File without a bucket",
			"File %q of collection %q can land in no bucket: it names none and the collection has no default. Add bucket = bucket.NAME to this file block, or to the collection for all its files. Buckets: %s.",
			f.Name, col.Name, listNames(sortedKeys(d.declared["bucket"])))
	}
	f.Sample = d.str(attr["sample"], "")
	f.Required = d.boolean(attr["required"], true)
	if a := attr["checksum_for"]; a != nil {
		target := d.str(a, "")
		var others []string
		for _, n := range sortedKeys(siblings) {
			if n != f.Name {
				others = append(others, n)
			}
		}
		switch {
		case target == f.Name:
			d.errorf(a.Expr.Range(), "Invalid checksum_for", "A file cannot hold its own checksum: checksum_for names the file whose checksum this sidecar holds, another file of collection %q (%s). If file %q is not a checksum sidecar, remove checksum_for.", col.Name, listNames(others), f.Name)
		case target != "":
			if _, ok := siblings[target]; !ok {
				d.errorf(a.Expr.Range(), "Unknown file in checksum_for", "Collection %q has no file named %q.%s checksum_for names the label of another file block of the collection: %s.", col.Name, target, didYouMean(target, others), listNames(others))
			} else {
				f.ChecksumFor = target
			}
		}
	}
	f.URLPath = d.runtime(attr["url_path"], scopeFile, cty.String)
	return f
}

// checkSamples proves each file's pattern and the collection's granule_id
// against the sample file names, and renders the url_path for them: the
// mistakes that otherwise show only when the first real file arrives. A
// url_path shared by several files is reported once, for the first sample
// that shows the problem.
func (c *checker) checkSamples(col *Collection) {
	d := c.d
	reported := map[*Expr]bool{}
	for i, f := range col.Files {
		if f.Sample == "" || f.Match == nil {
			continue
		}
		rng := f.Range("sample")
		if !f.Match.MatchString(f.Sample) {
			d.errorf(rng, "Sample does not match its pattern", "The sample %q does not match this file's pattern %q, so such a file would not be recognised. %s", f.Sample, f.Match.String(), caseHint(f.Match, f.Sample, "Fix match or the sample."))
			continue
		}
		for _, earlier := range col.Files[:i] {
			if earlier.Match != nil && earlier.Match.MatchString(f.Sample) {
				d.warnf(rng, "Overlapping file patterns", "The sample %q also matches the pattern of file %q, declared earlier, which takes it first. Anchor the patterns so each file has one kind, e.g. \"\\\\.nc$\" and \"\\\\.nc\\\\.md5$\".", f.Sample, earlier.Name)
			}
		}
		if col.GranuleID == nil {
			continue
		}
		m := col.GranuleID.FindStringSubmatch(f.Sample)
		if m == nil {
			d.errorf(rng, "granule_id extracts nothing from the sample", "The collection's granule_id %q does not match %q, so such a file could not be grouped into a granule. %s", col.GranuleID.String(), f.Sample, caseHint(col.GranuleID, f.Sample, "Fix granule_id (the id is its first capture group, or the whole match) or the sample."))
			continue
		}
		id := col.GranuleIDOf(f.Sample)
		if id == "" {
			d.errorf(rng, "granule_id extracts nothing from the sample", "The collection's granule_id %q matches %q, but its first capture group is empty there, so the granule id would be empty. Make the group match the id, e.g. \"^([A-Z0-9_]+)\\\\.\", or fix the sample.", col.GranuleID.String(), f.Sample)
			continue
		}
		g := stdlib.Granule{ID: id, Collection: col.Name, Version: col.Version}
		g.Time, _ = stdlib.GranuleDate(id)
		file := stdlib.File{Name: f.Sample, Type: f.Name}
		g.Files = []stdlib.File{file}
		path := f.URLPath
		if path == nil {
			path = col.URLPath
		}
		if path == nil || reported[path] {
			continue
		}
		rendered, diags := stdlib.RenderPath(path.Expr, d.static, g, &file)
		if g.Time.IsZero() {
			if ref, ok := dateRef(path); ok {
				reported[path] = true
				result := ""
				if !diags.HasErrors() {
					result = fmt.Sprintf(" (for this sample, url_path would be %q)", rendered)
				}
				d.warnf(ref.SourceRange(), "Granule has no date", "This url_path uses %s, but the granule id %q (from the sample %q of file %q) holds no date (YYYYMMDD or YYYYDDD), so the date parts would be empty%s. Make granule_id keep the date in the id, or leave the date out of url_path.", refText(ref), id, f.Sample, f.Name, result)
			}
		}
		if diags.HasErrors() {
			reported[path] = true
			for _, diag := range diags {
				diag.Detail += fmt.Sprintf(" (Rendered for the sample %q of file %q.)", f.Sample, f.Name)
			}
			d.add(diags)
		}
	}
}

// caseHint says how to fix a pattern that does not match s: when it would
// match with case ignored (a common slip with instrument names), that;
// otherwise fix.
func caseHint(re *regexp.Regexp, s, fix string) string {
	if ci, err := regexp.Compile("(?i)" + re.String()); err == nil && ci.MatchString(s) {
		return "Only the case differs: fix the case of the pattern or the sample, or begin the pattern with (?i) to ignore case."
	}
	return fix
}

// dateRef returns the first reference of e to a date part of the granule.
func dateRef(e *Expr) (hcl.Traversal, bool) {
	for _, t := range e.Runtime {
		if t.RootName() != "granule" || len(t) < 2 {
			continue
		}
		if a, ok := t[1].(hcl.TraverseAttr); ok {
			switch a.Name {
			case "year", "month", "day", "doy", "date":
				return t, true
			}
		}
	}
	return nil, false
}

// refText renders a granule.NAME reference for a message.
func refText(t hcl.Traversal) string {
	return t.RootName() + traversalSuffix(t)
}
