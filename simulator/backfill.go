package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/simulator/state"
)

// Backfill is a list of granules to run through a pipeline: the local
// counterpart of the pipeline's backfill state machine, which reads the
// same list from S3 and runs the per-granule machine for each item.
type Backfill struct {
	Pipeline string
	Items    []BackfillItem
}

// BackfillItem is one item of a backfill list, as the backfill state
// machine reads it: the granule document whose files are already staged
// (bucket and key of each). The machine's other members (attributes,
// staged_keys) are derived from it on AWS and not needed here.
type BackfillItem struct {
	Granule contract.Granule `json:"granule"`
}

// ParseBackfill reads a backfill list: a JSON array of items, each with a
// granule document that names its collection and its staged files. The
// errors say which item is wrong and how.
func ParseBackfill(pipeline string, data []byte) (*Backfill, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var raw []struct {
		Granule    *contract.Granule `json:"granule"`
		Attributes json.RawMessage   `json:"attributes"`
		StagedKeys json.RawMessage   `json:"staged_keys"`
	}
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("not a JSON array of {\"granule\": {...}} items: %w", err)
	}
	b := &Backfill{Pipeline: pipeline}
	seen := map[string]int{}
	for i, it := range raw {
		n := i + 1
		switch {
		case it.Granule == nil:
			return nil, fmt.Errorf("item %d has no \"granule\"", n)
		case it.Granule.ID == "":
			return nil, fmt.Errorf("item %d: the granule has no \"id\"", n)
		case it.Granule.Collection == "":
			return nil, fmt.Errorf("item %d (granule %s) has no \"collection\"", n, it.Granule.ID)
		case len(it.Granule.Files) == 0:
			return nil, fmt.Errorf("item %d (granule %s) lists no files: a backfill runs granules whose files are staged; give each file's name, bucket and key", n, it.Granule.ID)
		}
		for _, f := range it.Granule.Files {
			if f.Name == "" || f.Bucket == "" || f.Key == "" {
				return nil, fmt.Errorf("item %d (granule %s): every file needs a name, a bucket and a key", n, it.Granule.ID)
			}
		}
		if prev, dup := seen[it.Granule.ID]; dup {
			return nil, fmt.Errorf("items %d and %d are both granule %s", prev, n, it.Granule.ID)
		}
		seen[it.Granule.ID] = n
		b.Items = append(b.Items, BackfillItem{Granule: *it.Granule})
	}
	return b, nil
}

// backfill enqueues every granule of the list for its pipeline, as a new
// run even when the granule was ingested before (a backfill reprocesses),
// and starts them; the pipeline's concurrency bounds how many run at once,
// as MaxConcurrency does for the Map state.
func (s *sim) backfill(ctx context.Context, b *Backfill) error {
	p := s.opts.Graph.Pipeline(b.Pipeline)
	if p == nil {
		return fmt.Errorf("backfill: the configuration has no pipeline %q", b.Pipeline)
	}
	for _, it := range b.Items {
		if ctx.Err() != nil {
			return nil
		}
		g := it.Granule
		if s.opts.Graph.Collection(g.Collection) == nil {
			s.emit(Event{Kind: "stage-failed", Pipeline: p.Name, Granule: g.ID, Error: fmt.Sprintf("collection %q is not in the configuration", g.Collection)})
			continue
		}
		enq, err := s.store.EnqueueGranule(ctx, state.EnqueueRequest{Granule: g, Pipeline: p.Name, Policy: state.DuplicateReplace})
		if errors.Is(err, context.Canceled) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("backfill: granule %s: %w", g.ID, err)
		}
		s.emit(Event{Kind: "backfill-queued", Pipeline: p.Name, Granule: g.ID})
		if enq.New {
			s.start(ctx, enq.RunID, p.Name)
		}
	}
	return nil
}
