package graph

import (
	"encoding/json"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/cumulus-toolchain/cumulus/lang"
)

// Collection is what the platform needs to know of a collection at run
// time: how to recognise its files and group them, and where each goes.
type Collection struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	GranuleID  string `json:"granule_id"` // RE2; the id is group 1 or the whole match
	Duplicates string `json:"duplicates"`
	// URLPath is where files are archived in their bucket (nil: the file's
	// name at the bucket's root).
	URLPath *Value            `json:"url_path,omitempty"`
	Files   []*CollectionFile `json:"files"`
}

// CollectionFile is one kind of file of a granule.
type CollectionFile struct {
	Name        string `json:"name"`
	Match       string `json:"match"`
	Bucket      string `json:"bucket"` // the S3 bucket's name
	BucketBlock string `json:"bucket_block"`
	BucketKind  string `json:"bucket_kind"`
	Required    bool   `json:"required"`
	ChecksumFor string `json:"checksum_for,omitempty"`
	// URLPath overrides the collection's (nil: the collection's).
	URLPath *Value `json:"url_path,omitempty"`
}

// Collection returns the collection named name, or nil.
func (g *Graph) Collection(name string) *Collection {
	for _, c := range g.Collections {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (b *builder) collection(c *lang.Collection) *Collection {
	out := &Collection{Name: c.Name, Version: c.Version, Duplicates: c.Duplicates}
	if c.GranuleID != nil {
		out.GranuleID = c.GranuleID.String()
	}
	if c.URLPath != nil {
		v := valueOf(c.URLPath, b.cfg.EvalContext, b.cfg.Files, false)
		out.URLPath = &v
	}
	for _, f := range c.Files {
		cf := &CollectionFile{Name: f.Name, Required: f.Required, ChecksumFor: f.ChecksumFor}
		if f.Match != nil {
			cf.Match = f.Match.String()
		}
		if f.Bucket != nil {
			cf.Bucket, cf.BucketBlock, cf.BucketKind = f.Bucket.BucketName, f.Bucket.Name, f.Bucket.Kind
		}
		if f.URLPath != nil {
			v := valueOf(f.URLPath, b.cfg.EvalContext, b.cfg.Files, false)
			cf.URLPath = &v
		}
		out.Files = append(out.Files, cf)
	}
	return out
}

// staticValues encodes var and local values (type and value), so that run
// time can rebuild the context an Expr value was written in.
func staticValues(vals map[string]cty.Value) map[string]json.RawMessage {
	if len(vals) == 0 {
		return nil
	}
	out := map[string]json.RawMessage{}
	for k, v := range vals {
		if !v.IsWhollyKnown() {
			continue
		}
		b, err := ctyjson.Marshal(v, cty.DynamicPseudoType) // keeps the type beside the value
		if err != nil {
			continue
		}
		out[k] = b
	}
	return out
}
