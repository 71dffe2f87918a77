package lang

import (
	"github.com/hashicorp/hcl/v2"
)

// Bucket is an S3 bucket of the archive.
type Bucket struct {
	Decl
	Name string
	// Kind is "private" (staging, internal), "protected" (distributed to
	// authenticated users) or "public" (distributed anonymously).
	Kind string
	// BucketName is the S3 bucket's name: the name attribute, or the
	// deployment prefix and the block name.
	BucketName string
}

var bucketKinds = []string{"private", "protected", "public"}

var bucketSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "kind", Required: true}, {Name: "name"},
}}

func (c *checker) decodeBucket(b *hcl.Block) *Bucket {
	d := c.d
	content, diags := b.Body.Content(bucketSchema)
	d.add(diags)
	bk := &Bucket{Decl: newDecl(b, content), Name: b.Labels[0]}
	bk.Kind = d.enum(content.Attributes["kind"], "private", bucketKinds)
	bk.BucketName = c.cfg.bucketName(bk.Name)
	rng := bk.NameRange
	fix := "Set name = \"...\" in the bucket block to choose the S3 name, or shorten the block's name or deployment.prefix."
	if a := content.Attributes["name"]; a != nil {
		bk.BucketName = d.str(a, bk.BucketName)
		rng, fix = a.Expr.Range(), "Choose another name."
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
