package lang

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Distribution says how the archive hands data out: which buckets, to whom,
// with what link lifetimes and cache lifetimes.
type Distribution struct {
	Decl
	Name    string
	Buckets []*DistributionBucket
}

// DistributionBucket is the policy of one distributed bucket.
type DistributionBucket struct {
	Decl
	Bucket *Bucket
	// Access is "anonymous" or "authenticated".
	Access string
	// CacheTTL is how long CloudFront (and browsers) may cache responses.
	CacheTTL time.Duration
	// LinkTTL is how long the signed link given to an authenticated user lasts.
	LinkTTL time.Duration
	// Prefix is the URL path under which the bucket's objects are served.
	Prefix string
	// Stream serves objects through the distribution instead of redirecting
	// to a signed S3 URL.
	Stream bool
}

var accessModes = []string{"anonymous", "authenticated"}

var distributionSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "bucket", LabelNames: []string{"name"}}}}

var distributionBucketSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "access"}, {Name: "cache_ttl"}, {Name: "link_ttl"}, {Name: "prefix"}, {Name: "stream"},
}}

// Limits of what CloudFront caches and how long an S3 presigned URL lives.
const (
	maxCacheTTL = 365 * 24 * time.Hour
	maxLinkTTL  = 7 * 24 * time.Hour
)

func (c *checker) decodeDistribution(b *hcl.Block) *Distribution {
	d := c.d
	content, diags := b.Body.Content(distributionSchema)
	d.add(diags)
	dist := &Distribution{Decl: newDecl(b, content), Name: b.Labels[0]}
	seen := map[string]hcl.Range{}
	prefixes := map[string]hcl.Range{}
	for _, bb := range content.Blocks {
		name := bb.Labels[0]
		bucket := c.cfg.Bucket(name)
		if bucket == nil {
			d.errorf(bb.LabelRanges[0], "Reference to undeclared bucket",
				"Distribution %q names bucket %q, which is not declared.%s Declared buckets: %s.", dist.Name, name, didYouMean(name, sortedKeys(d.declared["bucket"])), listNames(sortedKeys(d.declared["bucket"])))
			continue
		}
		if prev, dup := seen[name]; dup {
			d.errorf(bb.LabelRanges[0], fmt.Sprintf("Duplicate bucket %q", name), "Distribution %q already has a policy for bucket %q at %s; merge them.", dist.Name, name, rangeString(prev))
			continue
		}
		seen[name] = bb.DefRange
		db := c.decodeDistributionBucket(bb, bucket)
		if prev, dup := prefixes[db.Prefix]; dup {
			d.errorf(db.Range("prefix"), "Duplicate prefix", "The URL prefix %q is already used at %s; give each bucket its own prefix.", db.Prefix, rangeString(prev))
		}
		prefixes[db.Prefix] = db.Range("prefix")
		dist.Buckets = append(dist.Buckets, db)
	}
	if len(dist.Buckets) == 0 && len(content.Blocks) == 0 {
		d.warnf(dist.NameRange, "Distribution without buckets", "Distribution %q serves nothing; add a bucket block for each bucket to distribute, such as:\n  bucket \"public\" {\n    access = \"anonymous\"\n  }", dist.Name)
	}
	return dist
}

func (c *checker) decodeDistributionBucket(b *hcl.Block, bucket *Bucket) *DistributionBucket {
	d := c.d
	content, diags := b.Body.Content(distributionBucketSchema)
	d.add(diags)
	attr := content.Attributes
	db := &DistributionBucket{Decl: newDecl(b, content), Bucket: bucket, Prefix: bucket.Name}
	switch bucket.Kind {
	case "private":
		d.errorf(b.LabelRanges[0], "Private bucket in a distribution", "bucket.%s is private (kind = \"private\", declared at %s) and cannot be distributed. Distribute a protected or public bucket, or change its kind.", bucket.Name, rangeString(bucket.DeclRange))
	case "public":
		db.Access = "anonymous"
	default:
		db.Access = "authenticated"
	}
	db.Access = d.enum(attr["access"], db.Access, accessModes)
	if a := attr["access"]; a != nil && bucket.Kind == "protected" && db.Access == "anonymous" {
		d.errorf(a.Expr.Range(), "Anonymous access to a protected bucket", "bucket.%s is protected, so its data is for authenticated users; anonymous access would publish it. Set access = \"authenticated\", or make the bucket kind = \"public\".", bucket.Name)
	}
	db.CacheTTL = d.duration(attr["cache_ttl"], 0, 0, maxCacheTTL, "CloudFront caches an object for at most a year.")
	if a := attr["link_ttl"]; a != nil {
		if db.Access != "authenticated" {
			d.errorf(a.Expr.Range(), "Unexpected link_ttl", "link_ttl is the lifetime of the signed link given to an authenticated user; anonymous access gets no signed link. Remove it, or set access = \"authenticated\".")
		} else {
			db.LinkTTL = d.duration(a, time.Hour, time.Second, maxLinkTTL, "S3 signed links last at most 7 days.")
		}
	} else if db.Access == "authenticated" {
		db.LinkTTL = time.Hour
	}
	if a := attr["prefix"]; a != nil {
		p := d.str(a, db.Prefix)
		if !urlPrefixPattern.MatchString(p) {
			d.errorf(a.Expr.Range(), "Invalid prefix", "The URL prefix %q must be one or more path segments of letters, digits, dots, dashes and underscores, without leading or trailing slashes, e.g. \"hs3/public\".", p)
		} else {
			db.Prefix = p
		}
	}
	db.Stream = d.boolean(attr["stream"], false)
	return db
}
