// Package distribution owns the AWS artifacts of a distribution block
// besides its Lambda function (which compiler/lambda writes like every
// platform function): the bucket map, in the shape NASA's Thin Egress App
// reads, one CloudFront CreateCachePolicy input per served path, and the
// API Gateway HTTP API that routes every request to the function (built by
// compiler/httpapi, like the engine's).
//
// What the policy itself means at run time (who may fetch what, links and
// their lifetimes) is runtime/distribution's; this package only says it in
// the documents AWS takes.
package distribution

import (
	"strings"

	"github.com/cumulus-toolchain/cumulus/compiler/ecs"
	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/compiler/httpapi"
)

// Routes of a distribution's HTTP API: every method and path goes to the
// handler, which serves GET and HEAD of files, POST /token and /login, and
// answers the rest itself. ANY /{proxy+} does not match the root, hence its
// own route.
var Routes = []httpapi.Route{{Key: "ANY /", File: "root"}, {Key: "ANY /{proxy+}", File: "proxy"}}

// BuildHTTPAPI returns the documents of the HTTP API in front of d's
// function, named as the function is (unique in the account, and telling
// which distribution it serves).
func BuildHTTPAPI(g *graph.Graph, d *graph.Distribution) *httpapi.Documents {
	return httpapi.Build(g, httpapi.Spec{
		Name:                   d.Function.ResourceName,
		Description:            "cumulus: distribution " + d.Name + " of " + g.Prefix,
		IntegrationDescription: "cumulus: the function of distribution " + d.Name,
		Function:               d.Function,
		Routes:                 Routes,
		Tags:                   ecs.OwnTags(g, "distribution."+d.Name),
	})
}

// BucketMap is a Thin Egress App bucket map, as JSON: MAP maps each URL
// path (one level per path segment, so "hs3/public" nests) to the S3 bucket
// served there; PUBLIC_BUCKETS lists the buckets anyone may read, every
// other bucket being for logged-in users. Bucket names are the full S3
// names, so a TEA deployment reading it sets no bucket name prefix.
type BucketMap struct {
	Map           map[string]any    `json:"MAP"`
	PublicBuckets map[string]string `json:"PUBLIC_BUCKETS,omitempty"`
}

// BuildBucketMap returns the bucket map of d. The checker refuses prefixes
// nested in each other, so every path lands on a bucket or a folder, never
// both.
func BuildBucketMap(d *graph.Distribution) *BucketMap {
	m := &BucketMap{Map: map[string]any{}}
	for _, b := range d.Buckets {
		segs := strings.Split(b.Prefix, "/")
		level := m.Map
		for _, s := range segs[:len(segs)-1] {
			next, ok := level[s].(map[string]any)
			if !ok {
				next = map[string]any{}
				level[s] = next
			}
			level = next
		}
		level[segs[len(segs)-1]] = b.BucketName
		if b.Anonymous() {
			if m.PublicBuckets == nil {
				m.PublicBuckets = map[string]string{}
			}
			m.PublicBuckets[b.BucketName] = "anonymous access: /" + b.Prefix + "/"
		}
	}
	return m
}

// CreateCachePolicy is the CloudFront CreateCachePolicy input, as `aws
// cloudfront create-cache-policy --cli-input-json` takes it.
type CreateCachePolicy struct {
	CachePolicyConfig CachePolicyConfig `json:"CachePolicyConfig"`
}

// CachePolicyConfig is one path's cache policy.
type CachePolicyConfig struct {
	Name       string   `json:"Name"`
	Comment    string   `json:"Comment"`
	MinTTL     int64    `json:"MinTTL"`
	DefaultTTL int64    `json:"DefaultTTL"`
	MaxTTL     int64    `json:"MaxTTL"`
	Parameters CacheKey `json:"ParametersInCacheKeyAndForwardedToOrigin"`
}

// CacheKey says what CloudFront keys its cache on, and so forwards to the
// distribution handler.
type CacheKey struct {
	EnableAcceptEncodingGzip   bool          `json:"EnableAcceptEncodingGzip"`
	EnableAcceptEncodingBrotli bool          `json:"EnableAcceptEncodingBrotli"`
	HeadersConfig              HeadersConfig `json:"HeadersConfig"`
	CookiesConfig              CookiesConfig `json:"CookiesConfig"`
	QueryStringsConfig         QueryConfig   `json:"QueryStringsConfig"`
}

// HeadersConfig lists the headers in the cache key.
type HeadersConfig struct {
	HeaderBehavior string `json:"HeaderBehavior"`
	Headers        *Names `json:"Headers,omitempty"`
}

// CookiesConfig lists the cookies in the cache key.
type CookiesConfig struct {
	CookieBehavior string `json:"CookieBehavior"`
	Cookies        *Names `json:"Cookies,omitempty"`
}

// QueryConfig lists the query parameters in the cache key.
type QueryConfig struct {
	QueryStringBehavior string `json:"QueryStringBehavior"`
	QueryStrings        *Names `json:"QueryStrings,omitempty"`
}

// Names is CloudFront's counted list.
type Names struct {
	Quantity int      `json:"Quantity"`
	Items    []string `json:"Items"`
}

func names(items ...string) *Names { return &Names{Quantity: len(items), Items: items} }

// What an authenticated request is told apart by; runtime/distribution
// reads the same names (its tests check they agree).
var (
	// AuthHeaders carry a bearer token or an OIDC JWT.
	AuthHeaders = []string{"Authorization"}
	// AuthCookies carry the token a browser logged in with.
	AuthCookies = []string{"cumulus-dist-token"}
	// LinkParams sign a link handed to an authenticated user.
	LinkParams = []string{"A-expires", "A-signature", "A-userid"}
)

// CachePolicyName is the name of the cache policy of bucket b of d:
// account-wide in CloudFront, so it carries the deployment prefix.
func CachePolicyName(g *graph.Graph, d *graph.Distribution, b *graph.DistributionBucket) string {
	return g.Prefix + "-dist-" + d.Name + "-" + b.Bucket
}

// BuildCachePolicy returns the cache policy of the path of bucket b.
//
// Anonymous paths are cached for cache_ttl (DefaultTTL and MaxTTL; the
// handler's Cache-Control says the same) with nothing of the request in the
// key but the path: every viewer gets the same answer. A cache_ttl of zero
// disables caching, which CloudFront allows only with an empty key.
//
// Authenticated paths must reach the handler with the viewer's credentials
// and link signature, and CloudFront forwards an Authorization header only
// when it is part of the cache key; so they are keyed on the credentials
// and the link parameters, with DefaultTTL zero: the handler marks every
// authenticated answer private, so CloudFront stores none, and MaxTTL is
// only there because a key with headers needs one above zero.
func BuildCachePolicy(g *graph.Graph, d *graph.Distribution, b *graph.DistributionBucket) *CreateCachePolicy {
	ttl := b.CacheTTL.Seconds()
	cfg := CachePolicyConfig{
		Name:    CachePolicyName(g, d, b),
		Comment: "cumulus: /" + b.Prefix + "/ of distribution " + d.Name + " (" + b.Access + ")",
		Parameters: CacheKey{
			HeadersConfig:      HeadersConfig{HeaderBehavior: "none"},
			CookiesConfig:      CookiesConfig{CookieBehavior: "none"},
			QueryStringsConfig: QueryConfig{QueryStringBehavior: "none"},
		},
	}
	switch {
	case b.Anonymous() && ttl == 0:
		// Caching disabled: all TTLs and the key stay empty.
	case b.Anonymous():
		cfg.DefaultTTL, cfg.MaxTTL = ttl, ttl
		cfg.Parameters.EnableAcceptEncodingGzip = true
		cfg.Parameters.EnableAcceptEncodingBrotli = true
	default:
		cfg.MaxTTL = max(ttl, 1)
		cfg.Parameters.HeadersConfig = HeadersConfig{HeaderBehavior: "whitelist", Headers: names(AuthHeaders...)}
		cfg.Parameters.CookiesConfig = CookiesConfig{CookieBehavior: "whitelist", Cookies: names(AuthCookies...)}
		cfg.Parameters.QueryStringsConfig = QueryConfig{QueryStringBehavior: "whitelist", QueryStrings: names(LinkParams...)}
	}
	return &CreateCachePolicy{CachePolicyConfig: cfg}
}
