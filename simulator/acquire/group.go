package acquire

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/cumulus-toolchain/cumulus/lang"
)

// File is a provider's file recognised as part of a granule.
type File struct {
	RemoteFile
	// Type is the label of the collection's file block it matched ("data",
	// "md5"): the first block, in declaration order, whose pattern matches
	// the file's name.
	Type string
}

// Candidate is a granule as the files on the provider make it up.
type Candidate struct {
	// GranuleID is what the collection's granule_id extracts from the
	// files' names. It is "" for the one candidate that gathers the files
	// no id can be extracted from; that candidate has only Unmatched files
	// and is never Ready.
	GranuleID string
	// Files are the granule's files to fetch, ordered as the collection
	// declares its file blocks, then by path. A block may match several
	// files (the same name in two folders); all are kept for the caller to
	// judge.
	Files []File
	// Seen are the granule's files already ingested and unchanged (only
	// Poll sets them): they count towards Ready, since the granule has
	// them, but are not fetched again.
	Seen []File
	// Missing are the required file blocks that no file matched.
	Missing []string
	// Ready says every required file block has a file, so the granule can
	// be ingested. A granule with a missing file waits for a later poll.
	Ready bool
	// Unmatched are files that carry the granule's id but match no file
	// block (or, for the "" candidate, files without an id). They are
	// reported, not ingested.
	Unmatched []RemoteFile
}

// Group sorts files into granules by the collection's granule_id and file
// patterns. Candidates are ordered by granule id, the "" candidate of files
// without an id (if any) last; the same files give the same result whatever
// their order.
func Group(c *lang.Collection, files []RemoteFile) []Candidate {
	byID := map[string]*Candidate{}
	var ids []string
	get := func(id string) *Candidate {
		cand := byID[id]
		if cand == nil {
			cand = &Candidate{GranuleID: id}
			byID[id] = cand
			ids = append(ids, id)
		}
		return cand
	}
	order := map[string]int{}
	for i, fb := range c.Files {
		order[fb.Name] = i
	}
	for _, f := range files {
		id := c.GranuleIDOf(f.Name)
		cand := get(id)
		block := matchBlock(c, f.Name)
		if id == "" || block == "" {
			cand.Unmatched = append(cand.Unmatched, f)
			continue
		}
		cand.Files = append(cand.Files, File{RemoteFile: f, Type: block})
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := ids[i], ids[j]
		if (a == "") != (b == "") {
			return b == ""
		}
		return a < b
	})
	out := make([]Candidate, 0, len(ids))
	for _, id := range ids {
		cand := byID[id]
		sort.SliceStable(cand.Files, func(i, j int) bool {
			a, b := cand.Files[i], cand.Files[j]
			if order[a.Type] != order[b.Type] {
				return order[a.Type] < order[b.Type]
			}
			return a.Path < b.Path
		})
		sort.SliceStable(cand.Unmatched, func(i, j int) bool { return cand.Unmatched[i].Path < cand.Unmatched[j].Path })
		readiness(c, cand)
		out = append(out, *cand)
	}
	return out
}

// matchBlock returns the first file block whose pattern matches name, as
// the checker's "overlapping patterns" warning describes.
func matchBlock(c *lang.Collection, name string) string {
	for _, fb := range c.Files {
		if fb.Match != nil && fb.Match.MatchString(name) {
			return fb.Name
		}
	}
	return ""
}

// readiness sets Missing and Ready from Files and Seen.
func readiness(c *lang.Collection, cand *Candidate) {
	have := map[string]bool{}
	for _, f := range cand.Files {
		have[f.Type] = true
	}
	for _, f := range cand.Seen {
		have[f.Type] = true
	}
	cand.Missing = nil
	for _, fb := range c.Files {
		if fb.Required && !have[fb.Name] {
			cand.Missing = append(cand.Missing, fb.Name)
		}
	}
	cand.Ready = cand.GranuleID != "" && len(cand.Missing) == 0
}

// Poll is one round of a source's poller: it lists the source's path,
// groups the files into granules, and leaves out what seen reports as
// already ingested unchanged (the state store's judgement: same path,
// size and time). A candidate with nothing new is dropped; one with
// something new keeps its seen files in Seen, so that a late file (a
// browse image after its data file) completes a granule instead of waiting
// forever for a data file that will not be fetched again. A candidate whose
// only new files are unmatched is kept, for the report, but is not Ready.
func Poll(ctx context.Context, lister Lister, src *lang.Source, seen func(RemoteFile) bool) ([]Candidate, error) {
	if src == nil || src.Collection == nil {
		return nil, errors.New("acquire: poll: source without a collection")
	}
	files, err := lister.List(ctx, src.Path, src.Recursive)
	if err != nil {
		return nil, fmt.Errorf("polling source %q: %w", src.Name, err)
	}
	if seen == nil {
		seen = func(RemoteFile) bool { return false }
	}
	var out []Candidate
	for _, cand := range Group(src.Collection, files) {
		var fresh, old []File
		for _, f := range cand.Files {
			if seen(f.RemoteFile) {
				old = append(old, f)
			} else {
				fresh = append(fresh, f)
			}
		}
		var unmatched []RemoteFile
		for _, f := range cand.Unmatched {
			if !seen(f) {
				unmatched = append(unmatched, f)
			}
		}
		if len(fresh) == 0 && len(unmatched) == 0 {
			continue
		}
		cand.Files, cand.Seen, cand.Unmatched = fresh, old, unmatched
		// Only unmatched files are new: something to report, nothing to ingest.
		cand.Ready = cand.Ready && len(fresh) > 0
		out = append(out, cand)
	}
	return out, nil
}
