package lang

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Bucket is an S3 bucket of the archive.
type Bucket struct {
	Decl
	Name string
	// Kind is "private" (staging, internal), "protected" (distributed to
	// authenticated users) or "public" (distributed anonymously); "" when
	// it was missing or invalid (and reported), so that nothing downstream
	// reports a mistake made only of a guessed kind.
	Kind string
	// BucketName is the S3 bucket's name: the name attribute, or the
	// deployment prefix and the block name.
	BucketName string
}

var bucketKinds = []string{"private", "protected", "public"}

var bucketSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "kind"}, {Name: "name"},
}}

func (c *checker) decodeBucket(b *hcl.Block) *Bucket {
	d := c.d
	content, diags := b.Body.Content(bucketSchema)
	d.add(diags)
	bk := &Bucket{Decl: newDecl(b, content), Name: b.Labels[0]}
	if a := content.Attributes["kind"]; a == nil || d.isNull(a) {
		d.errorf(bk.DeclRange, "Missing required argument", "A bucket needs a kind: add kind = \"private\" (staging and internal files, never distributed), \"protected\" (distributed to authenticated users) or \"public\" (distributed to anyone).")
	}
	bk.Kind = d.enum(content.Attributes["kind"], "", bucketKinds)
	bk.BucketName = c.cfg.bucketName(bk.Name)
	rng := bk.NameRange
	fix := "Set name = \"...\" in the bucket block to choose the S3 name, or shorten the block's name or deployment.prefix."
	if a := content.Attributes["name"]; a != nil {
		bk.BucketName = d.str(a, bk.BucketName)
		rng, fix = a.Expr.Range(), "Choose another name."
		if s := sanitizeBucketName(bk.BucketName); s != bk.BucketName && bucketNameProblem(s) == "" {
			fix = fmt.Sprintf("Choose another name, such as %q.", s)
		}
	}
	if problem := bucketNameProblem(bk.BucketName); problem != "" {
		d.errorf(rng, "Invalid S3 bucket name", "The S3 bucket would be named %q, but %s. %s", bk.BucketName, problem, fix)
	}
	for _, other := range c.cfg.Buckets {
		if other.BucketName == bk.BucketName {
			d.errorf(rng, "Duplicate S3 bucket name", "bucket.%s and bucket.%s (declared at %s) would both be the S3 bucket %q. Give one of them another name.", bk.Name, other.Name, rangeString(other.DeclRange), bk.BucketName)
		}
	}
	c.cfg.register("bucket", bk.Name, bk)
	return bk
}

// sanitizeBucketName lowercases name and replaces what S3 refuses with
// hyphens, for a suggestion; the result may still break another rule.
func sanitizeBucketName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	return strings.Trim(b.String(), "-.")
}

// isNull says whether an attribute evaluates, without errors, to null: it is
// then unset, as in Terraform, and a required one is missing. Errors are left
// to the attribute's own evaluation to report.
func (d *decoder) isNull(a *hcl.Attribute) bool {
	for _, t := range a.Expr.Variables() {
		if r := t.RootName(); r != "var" && r != "local" {
			return false
		}
	}
	v, diags := a.Expr.Value(d.static)
	return !diags.HasErrors() && v.IsNull()
}
