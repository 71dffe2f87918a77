package state

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// EnqueueRequest asks for a granule to be taken through a pipeline.
type EnqueueRequest struct {
	// Granule is the document the run starts from; ID and Collection are
	// required.
	Granule  contract.Granule
	Pipeline string
	// Policy is the collection's duplicates setting; "" means
	// DuplicateError, the collections' default.
	Policy DuplicatePolicy
	// Files are recorded as seen in the same transaction, whatever the
	// outcome (skipped or refused included): a crash cannot separate "the
	// poller saw these files" from "their granule was enqueued", and a
	// refused granule is reported once, not on every poll. An empty
	// SeenFile.Granule means Granule.ID.
	Files []SeenFile
}

// Enqueued is what EnqueueGranule did.
type Enqueued struct {
	// New is true when a run was created.
	New bool
	// RunID is the new run, or, when none was created, the granule's
	// active run (running, else queued) or else its latest one.
	RunID string
	// Version is the granule's version after the call.
	Version int
	Status  GranuleStatus
}

// EnqueueGranule creates a queued run of the granule, or not, as the
// duplicate policy says when the granule exists:
//
//	skip     completed, queued or running: nothing; failed: a new run, same version
//	replace  a new run, same version; its document becomes the granule's
//	version  a new run of version+1
//	error    refused: the error wraps ErrDuplicate (Files are still recorded)
//
// A granule id belongs to one collection: enqueuing it for another is
// refused with ErrDuplicate whatever the policy.
func (s *Store) EnqueueGranule(ctx context.Context, req EnqueueRequest) (Enqueued, error) {
	var res Enqueued
	var refused error
	err := s.update(ctx, func(t *txn) error {
		var err error
		res, refused, err = t.enqueue(req)
		return err
	})
	if err == nil {
		err = refused
	}
	if err != nil {
		return res, fmt.Errorf("enqueue granule %q for pipeline %q: %w", req.Granule.ID, req.Pipeline, err)
	}
	return res, nil
}

// enqueue returns refused (with a nil error, so the transaction commits the
// files seen) when the policy refuses the granule.
func (t *txn) enqueue(req EnqueueRequest) (res Enqueued, refused, err error) {
	doc := req.Granule
	if err := checkName("granule id", doc.ID); err != nil {
		return res, nil, err
	}
	if err := checkName("collection", doc.Collection); err != nil {
		return res, nil, err
	}
	if err := checkName("pipeline", req.Pipeline); err != nil {
		return res, nil, err
	}
	policy := req.Policy
	switch policy {
	case "":
		policy = DuplicateError
	case DuplicateSkip, DuplicateReplace, DuplicateVersion, DuplicateError:
	default:
		return res, nil, fmt.Errorf("duplicate policy %q is none of skip, replace, version, error: %w", policy, ErrInvalid)
	}
	for _, f := range req.Files {
		if f.Granule == "" {
			f.Granule = doc.ID
		}
		if err := t.recordFile(f); err != nil {
			return res, nil, err
		}
	}

	g, found, err := t.getGranule(doc.ID)
	if err != nil {
		return res, nil, err
	}
	version := 1
	if found {
		res = Enqueued{RunID: representative(g.Runs), Version: g.Version, Status: g.Status}
		if g.Collection != doc.Collection {
			return res, fmt.Errorf("granule %q already belongs to collection %q: %w", doc.ID, g.Collection, ErrDuplicate), nil
		}
		switch policy {
		case DuplicateError:
			return res, fmt.Errorf("granule %q already exists (%s, version %d) and the duplicate policy is %q: %w", doc.ID, g.Status, g.Version, policy, ErrDuplicate), nil
		case DuplicateSkip:
			if g.Status != GranuleFailed {
				return res, nil, nil
			}
			version = g.Version
		case DuplicateReplace:
			version = g.Version
		case DuplicateVersion:
			version = g.Version + 1
		}
	} else {
		g = &Granule{ID: doc.ID, Collection: doc.Collection, Created: t.now}
	}

	id, err := t.newRunID()
	if err != nil {
		return res, nil, err
	}
	run := &Run{ID: id, Pipeline: req.Pipeline, GranuleID: doc.ID, Collection: doc.Collection,
		GranuleVersion: version, Status: RunQueued, Created: t.now, Steps: []Step{}}
	if err := t.putRun(run, ""); err != nil {
		return res, nil, err
	}
	if err := t.putJSON(bRunDocs, key(id, ""), &doc); err != nil {
		return res, nil, err
	}
	old := g.Status
	g.Pipeline, g.Version = req.Pipeline, version
	g.Runs = append(g.Runs, RunRef{ID: id, Pipeline: req.Pipeline, Version: version, Status: RunQueued})
	if err := t.setGranuleDoc(g, &doc); err != nil {
		return res, nil, err
	}
	if err := t.putGranule(g, old); err != nil {
		return res, nil, err
	}
	return Enqueued{New: true, RunID: id, Version: version, Status: g.Status}, nil, nil
}

// representative is the run a granule is "at": its running run, else its
// first queued one, else its latest.
func representative(runs []RunRef) string {
	for _, st := range []RunStatus{RunRunning, RunQueued} {
		for _, r := range runs {
			if r.Status == st {
				return r.ID
			}
		}
	}
	if len(runs) == 0 {
		return ""
	}
	return runs[len(runs)-1].ID
}

// Granule returns a granule with its current document.
func (s *Store) Granule(ctx context.Context, id string) (Granule, error) {
	var g Granule
	err := s.view(ctx, func(t *txn) error {
		rec, ok, err := t.getGranule(id)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		g = *rec
		var doc contract.Granule
		if ok, err := t.getJSON(bGranuleDocs, []byte(id), &doc); err != nil {
			return err
		} else if ok {
			g.Document = &doc
		}
		return nil
	})
	if err != nil {
		return Granule{}, fmt.Errorf("granule %q: %w", id, err)
	}
	return g, nil
}

// GranuleQuery selects granules; empty fields select everything.
type GranuleQuery struct {
	Status     GranuleStatus
	Collection string
	// IDPrefix keeps the granules whose id starts with it.
	IDPrefix string
	// Limit is the page size: 0 means DefaultPageSize, at most MaxPageSize.
	Limit int
	// Cursor is a previous page's Next: the page after it.
	Cursor string
}

// GranulePage is one page of granules, in id order, without documents.
type GranulePage struct {
	Granules []Granule
	// Next is the cursor of the following page, "" on the last page.
	Next string
}

// Page sizes of the listing queries.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

func pageSize(n int) int {
	switch {
	case n <= 0:
		return DefaultPageSize
	case n > MaxPageSize:
		return MaxPageSize
	}
	return n
}

// Granules lists granules in id order, one page at a time. Each filter
// combination reads its own index, so a page costs its size whatever the
// store holds. Pages are stable: the order is by key, and a cursor names the
// last key returned, so granules added meanwhile never shift a page; a
// granule whose status changes meanwhile may move out of (or into) a
// status-filtered listing.
func (s *Store) Granules(ctx context.Context, q GranuleQuery) (GranulePage, error) {
	var page GranulePage
	err := s.view(ctx, func(t *txn) error {
		var bucket, prefix []byte
		switch {
		case q.Status != "" && q.Collection != "":
			bucket, prefix = bGranulesByStatusColl, key(string(q.Status), q.Collection, "")
		case q.Status != "":
			bucket, prefix = bGranulesByStatus, key(string(q.Status), "")
		case q.Collection != "":
			bucket, prefix = bGranulesByCollection, key(q.Collection, "")
		default:
			bucket, prefix = bGranules, nil
		}
		full := append(append([]byte{}, prefix...), q.IDPrefix...)
		start := full
		var after []byte
		if q.Cursor != "" {
			id, err := base64.RawURLEncoding.DecodeString(q.Cursor)
			if err != nil || len(id) == 0 {
				return fmt.Errorf("cursor %q is not one a granule listing returned: %w", q.Cursor, ErrInvalid)
			}
			after = append(append([]byte{}, prefix...), id...)
			if bytes.Compare(after, start) > 0 {
				start = after
			}
		}
		limit := pageSize(q.Limit)
		c := t.b(bucket).Cursor()
		for k, _ := c.Seek(start); k != nil && bytes.HasPrefix(k, full); k, _ = c.Next() {
			if after != nil && bytes.Equal(k, after) {
				continue
			}
			id := string(k[len(prefix):])
			if len(page.Granules) == limit {
				page.Next = base64.RawURLEncoding.EncodeToString([]byte(page.Granules[limit-1].ID))
				break
			}
			g, ok, err := t.getGranule(id)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("index %s names granule %q, which does not exist: %w", bucket, id, ErrNotFound)
			}
			page.Granules = append(page.Granules, *g)
		}
		return nil
	})
	if err != nil {
		return GranulePage{}, fmt.Errorf("list granules: %w", err)
	}
	return page, nil
}
