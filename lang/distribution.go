package lang

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
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

var distributionSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{{Type: "bucket", LabelNames: []string{"name"}}},
	// A bucket's settings written at the distribution's level are accepted
	// by the schema only to be reported with where they belong.
	Attributes: []hcl.AttributeSchema{{Name: "access"}, {Name: "cache_ttl"}, {Name: "link_ttl"}, {Name: "prefix"}, {Name: "stream"}},
}

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
	for _, a := range sortedAttrs(content.Attributes) {
		d.errorf(a.NameRange, "Unexpected "+a.Name, "%s is set for each bucket of a distribution: move it into the bucket blocks, such as:\n  bucket \"public\" {\n    %s = ...\n  }", a.Name, a.Name)
	}
	seen := map[string]hcl.Range{}
	prefixes := map[string]*DistributionBucket{}
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
		db, prefixOK := c.decodeDistributionBucket(bb, bucket)
		if prev, dup := prefixes[db.Prefix]; dup && prefixOK {
			what := fmt.Sprintf("The URL prefix %q", db.Prefix)
			if !db.Has("prefix") {
				what = fmt.Sprintf("bucket.%s is served under its name, and the URL prefix %q", bucket.Name, db.Prefix)
			}
			prevWhat := "bucket." + prev.Bucket.Name
			if !prev.Has("prefix") {
				prevWhat += " (its name, the default)"
			}
			d.errorf(db.Range("prefix"), "Duplicate prefix", "%s is already that of %s at %s. Give each bucket its own prefix = \"...\".", what, prevWhat, rangeString(prev.Range("prefix")))
		} else if prefixOK {
			prefixes[db.Prefix] = db
		}
		dist.Buckets = append(dist.Buckets, db)
	}
	if len(dist.Buckets) == 0 && len(content.Blocks) == 0 {
		d.warnf(dist.NameRange, "Distribution without buckets", "Distribution %q serves nothing; add a bucket block for each bucket to distribute, such as:\n  bucket \"public\" {\n    access = \"anonymous\"\n  }", dist.Name)
	}
	return dist
}

// decodeDistributionBucket decodes one bucket's policy; prefixOK is false
// when its prefix was invalid (and reported), so that it is not compared.
func (c *checker) decodeDistributionBucket(b *hcl.Block, bucket *Bucket) (db *DistributionBucket, prefixOK bool) {
	d := c.d
	content, diags := b.Body.Content(distributionBucketSchema)
	d.add(diags)
	attr := content.Attributes
	db = &DistributionBucket{Decl: newDecl(b, content), Bucket: bucket, Prefix: bucket.Name}
	prefixOK = true
	switch bucket.Kind {
	case "private":
		d.errorf(b.LabelRanges[0], "Private bucket in a distribution", "bucket.%s is private (kind = \"private\", declared at %s) and cannot be distributed. Distribute a protected or public bucket, or change its kind.", bucket.Name, rangeString(bucket.DeclRange))
	case "public":
		db.Access = "anonymous"
	default: // protected, or unknown because its kind was wrong
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
		v, ok := d.eval(a, scopeStatic, cty.String)
		switch {
		case !ok:
			prefixOK = false
		case !urlPrefixPattern.MatchString(v.AsString()):
			prefixOK = false
			p := v.AsString()
			fix := `e.g. "hs3/public"`
			if t := strings.Trim(p, "/"); urlPrefixPattern.MatchString(t) {
				fix = fmt.Sprintf("here prefix = %q", t)
			}
			d.errorf(a.Expr.Range(), "Invalid prefix", "The URL prefix %q must be one or more path segments of letters, digits, dots, dashes and underscores, without leading or trailing slashes: %s.", p, fix)
		default:
			db.Prefix = v.AsString()
		}
	}
	db.Stream = d.boolean(attr["stream"], false)
	return db, prefixOK
}
