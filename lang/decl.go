package lang

import (
	"sort"

	"github.com/hashicorp/hcl/v2"
)

// Decl is embedded in every model struct: where the block was declared and
// where each of its attributes' values are, so that later stages (the
// compiler's name checks, the simulator's run-time errors) can point at the
// exact source of what they complain about.
type Decl struct {
	// DeclRange covers the block header (type and labels).
	DeclRange hcl.Range
	// NameRange covers the block's name label (DeclRange when it has none).
	NameRange hcl.Range
	// Attrs maps each attribute set in the block to the range of its value.
	Attrs map[string]hcl.Range
}

func newDecl(block *hcl.Block, content *hcl.BodyContent) Decl {
	d := Decl{DeclRange: block.DefRange, NameRange: block.DefRange, Attrs: map[string]hcl.Range{}}
	if len(block.LabelRanges) > 0 {
		d.NameRange = block.LabelRanges[len(block.LabelRanges)-1]
	}
	if content != nil {
		for name, a := range content.Attributes {
			d.Attrs[name] = a.Expr.Range()
		}
	}
	return d
}

// Range returns the range of attribute name's value, or the block's range when
// the attribute was not set (a default applies), which is where a user would
// add it.
func (d Decl) Range(name string) hcl.Range {
	if r, ok := d.Attrs[name]; ok {
		return r
	}
	return d.DeclRange
}

// Has says whether the attribute was written in the source.
func (d Decl) Has(name string) bool {
	_, ok := d.Attrs[name]
	return ok
}

// sortByPos sorts items by the start of their range: hcl returns attributes
// in maps, and output must follow the source.
func sortByPos[T any](items []T, rng func(T) hcl.Range) {
	sort.SliceStable(items, func(i, j int) bool {
		a, b := rng(items[i]), rng(items[j])
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
}
