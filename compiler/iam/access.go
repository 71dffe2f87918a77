package iam

import (
	"sort"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

// S3 actions a step's work uses. HeadObject and CopyObject's source need
// GetObject; ListObjectsV2 needs ListBucket.
const (
	S3Get    = "s3:GetObject"
	S3Put    = "s3:PutObject"
	S3Delete = "s3:DeleteObject"
	S3List   = "s3:ListBucket"
)

// What each standard step does to the granule's files. A user's task reads
// staged files and may write outputs beside them (the step contract). A step
// after a move_granule step (in the graph's order) finds the granule's
// files in the archive, so it may read them there too.
//
//	sync_granule   staging: read (verifies checksums), write; an S3
//	               provider: read and list under the source's path
//	checksum       staging: read
//	cmr_metadata   staging: read, write (the metadata record)
//	move_granule   staging: read, delete; archive: read, write, list
//	               (duplicates are found by listing the url_path)
//	delete_staged  staging: delete; archive: read (is there a copy?)
//	publish_cmr    staging: read (the metadata record)
var stdAccess = map[string]struct{ staging, archive []string }{
	"sync_granule":  {staging: []string{S3Get, S3Put}},
	"checksum":      {staging: []string{S3Get}},
	"cmr_metadata":  {staging: []string{S3Get, S3Put}},
	"move_granule":  {staging: []string{S3Get, S3Delete}, archive: []string{S3Get, S3Put, S3List}},
	"delete_staged": {staging: []string{S3Delete}, archive: []string{S3Get}},
	"publish_cmr":   {staging: []string{S3Get}},
}

// userAccess is what a user's task may do in staging.
var userAccess = []string{S3Get, S3Put}

// Access is the S3 access of one task: object actions by resource ARN
// (bucket/prefix*), and list permission by bucket ARN and key prefix.
type Access struct {
	Objects map[string]map[string]bool // action -> object ARNs
	Lists   map[string]map[string]bool // bucket ARN -> prefixes
	// Providers are the S3 providers' buckets the task lists (sync_granule
	// on a source whose provider's protocol is "s3"): bucket ARN ->
	// prefixes.
	Providers map[string]map[string]bool
}

func (a *Access) list(m *map[string]map[string]bool, bucket, prefix string) {
	if *m == nil {
		*m = map[string]map[string]bool{}
	}
	if (*m)[bucket] == nil {
		(*m)[bucket] = map[string]bool{}
	}
	(*m)[bucket][prefix] = true
}

func (a *Access) object(action, arn string) {
	if a.Objects[action] == nil {
		a.Objects[action] = map[string]bool{}
	}
	a.Objects[action][arn] = true
}

// Statements are the access as policy statements, one per action, in a
// fixed order.
func (a *Access) Statements() []*Statement {
	if a == nil {
		return nil
	}
	var out []*Statement
	sid := map[string]string{S3Get: "ReadObjects", S3Put: "WriteObjects", S3Delete: "DeleteObjects"}
	for _, action := range []string{S3Get, S3Put, S3Delete} {
		if len(a.Objects[action]) == 0 {
			continue
		}
		out = append(out, &Statement{Sid: sid[action], Effect: "Allow", Action: []string{action}, Resource: keys(a.Objects[action])})
	}
	out = append(out, listStatements("ListArchive", a.Lists)...)
	out = append(out, listStatements("ListProvider", a.Providers)...)
	return out
}

// listStatements are one s3:ListBucket statement per bucket, limited to its
// prefixes.
func listStatements(sid string, lists map[string]map[string]bool) []*Statement {
	var out []*Statement
	for i, bucket := range keys2(lists) {
		prefixes := keys(lists[bucket])
		vals := make([]any, len(prefixes))
		for j, p := range prefixes {
			vals[j] = p + "*"
		}
		out = append(out, &Statement{Sid: sid + string(rune('A'+i%26)), Effect: "Allow", Action: []string{S3List}, Resource: []string{bucket},
			Condition: map[string]map[string]any{"StringLike": {"s3:prefix": vals}}})
	}
	return out
}

func keys2(m map[string]map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Location is where a collection's files are: a bucket and a key prefix.
type Location struct{ Bucket, Prefix string }

// ObjectARN is the ARN of every object under the location.
func (l Location) ObjectARN() string { return "arn:aws:s3:::" + l.Bucket + "/" + l.Prefix + "*" }

// Collections are the collections a pipeline runs: those of the sources
// that feed it, or every collection when no source does (a pipeline run
// only by backfills can see any).
func Collections(g *graph.Graph, p *graph.Pipeline) []*graph.Collection {
	var out []*graph.Collection
	seen := map[string]bool{}
	for _, s := range g.Sources {
		if s.Pipeline == p.Name && s.Collection != "" && !seen[s.Collection] {
			if c := g.Collection(s.Collection); c != nil {
				seen[s.Collection] = true
				out = append(out, c)
			}
		}
	}
	if len(out) == 0 {
		return g.Collections
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Staging is where a collection's granules are staged: the poller's layout,
// STAGING/COLLECTION/GRANULE/FILE. ok is false without a staging bucket.
func Staging(g *graph.Graph, c *graph.Collection) (Location, bool) {
	if g.ArtifactBucket == "" {
		return Location{}, false
	}
	return Location{Bucket: g.ArtifactBucket, Prefix: c.Name + "/"}, true
}

// Archive is where a collection's files are archived: for each file, its
// bucket and the literal start of its url_path.
func Archive(c *graph.Collection) []Location {
	seen := map[Location]bool{}
	var out []Location
	for _, f := range c.Files {
		if f.Bucket == "" {
			continue
		}
		up := f.URLPath
		if up == nil {
			up = c.URLPath
		}
		l := Location{Bucket: f.Bucket, Prefix: literalPrefix(up)}
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Bucket != out[j].Bucket {
			return out[i].Bucket < out[j].Bucket
		}
		return out[i].Prefix < out[j].Prefix
	})
	return out
}

// literalPrefix is the text of a url_path before its first run-time part;
// "" (the whole bucket) when it starts with one or is not a template.
func literalPrefix(v *graph.Value) string {
	if v == nil {
		return ""
	}
	if v.IsStatic() {
		s := v.StaticString()
		if s != "" {
			s += "/"
		}
		return s
	}
	if len(v.Parts) > 0 && v.Parts[0].Ref == "" {
		return v.Parts[0].Lit
	}
	return ""
}

// StepAccess is the S3 access of every task, by task name: the union over
// the steps that run it, in every pipeline.
func StepAccess(g *graph.Graph) map[string]*Access {
	out := map[string]*Access{}
	for _, p := range g.Pipelines {
		cols := Collections(g, p)
		afterMove := afterMoves(p)
		for _, s := range p.Steps {
			if s.Task == nil || NeverRuns(s) {
				continue
			}
			a := out[s.Task.Name]
			if a == nil {
				a = &Access{Objects: map[string]map[string]bool{}, Lists: map[string]map[string]bool{}}
				out[s.Task.Name] = a
			}
			staging, archive := userAccess, []string(nil)
			if s.Uses != "" {
				staging, archive = stdAccess[s.Uses].staging, stdAccess[s.Uses].archive
			}
			if afterMove[s.Name] && !contains(archive, S3Get) {
				archive = append(append([]string(nil), archive...), S3Get)
			}
			if s.Uses == "sync_granule" {
				// It copies each granule from its provider: on an S3
				// provider, it reads (and lists, to find the granule's
				// files) under the source's path.
				for _, l := range ProviderReads(g, p) {
					a.object(S3Get, l.ObjectARN())
					a.list(&a.Providers, "arn:aws:s3:::"+l.Bucket, l.Prefix)
				}
			}
			for _, c := range cols {
				if l, ok := Staging(g, c); ok {
					for _, act := range staging {
						a.object(act, l.ObjectARN())
					}
				}
				for _, l := range Archive(c) {
					for _, act := range archive {
						if act == S3List {
							a.list(&a.Lists, "arn:aws:s3:::"+l.Bucket, l.Prefix)
							continue
						}
						a.object(act, l.ObjectARN())
					}
				}
			}
		}
	}
	return out
}

// ProviderReads are where the sources that feed p read on their S3
// providers: the provider's bucket and the source's path.
func ProviderReads(g *graph.Graph, p *graph.Pipeline) []Location {
	seen := map[Location]bool{}
	var out []Location
	for _, s := range g.Sources {
		if s.Pipeline != p.Name || s.S3Bucket == "" {
			continue
		}
		l := Location{Bucket: s.S3Bucket, Prefix: s.S3Prefix}
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

// afterMoves says which steps come after a move_granule step.
func afterMoves(p *graph.Pipeline) map[string]bool {
	out := map[string]bool{}
	moved := map[string]bool{}  // the step moves, or comes after one that does
	for _, s := range p.Steps { // topological order
		for _, a := range s.After {
			if moved[a] {
				out[s.Name] = true
			}
		}
		moved[s.Name] = out[s.Name] || s.Uses == "move_granule"
	}
	return out
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}
