package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/simulator/state"
)

// StateStore serves the simulator's store (simulator/state) through the
// API: the simulation's own open store in `cumulus simulate`, or one opened
// with state.OpenReadOnly in `cumulus serve`.
func StateStore(s *state.Store) Store { return stateStore{s} }

type stateStore struct{ s *state.Store }

var (
	_ Store     = stateStore{}
	_ Versioner = stateStore{}
)

// mapErr adds the API's sentinel beside the store's, so both errors.Is
// checks hold.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, state.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, state.ErrInvalid):
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return err
}

func (a stateStore) Version(ctx context.Context) (uint64, error) {
	v, err := a.s.Version(ctx)
	return v, mapErr(err)
}

func (a stateStore) Runs(ctx context.Context, q RunQuery) (RunPage, error) {
	p, err := a.s.Runs(ctx, state.RunQuery{Pipeline: q.Pipeline, Status: state.RunStatus(q.Status),
		Since: q.Since, Until: q.Until, OldestFirst: q.OldestFirst, Limit: q.Limit, Cursor: q.Cursor})
	if err != nil {
		return RunPage{}, mapErr(err)
	}
	out := RunPage{Next: p.Next, Runs: make([]Run, len(p.Runs))}
	for i, r := range p.Runs {
		out.Runs[i] = fromStateRun(r)
	}
	return out, nil
}

func (a stateStore) Run(ctx context.Context, id string) (Run, error) {
	r, err := a.s.Run(ctx, id)
	if err != nil {
		return Run{}, mapErr(err)
	}
	return fromStateRun(r), nil
}

func (a stateStore) Granules(ctx context.Context, q GranuleQuery) (GranulePage, error) {
	p, err := a.s.Granules(ctx, state.GranuleQuery{Status: state.GranuleStatus(q.Status), Collection: q.Collection,
		IDPrefix: q.IDPrefix, Limit: q.Limit, Cursor: q.Cursor})
	if err != nil {
		return GranulePage{}, mapErr(err)
	}
	out := GranulePage{Next: p.Next, Granules: make([]Granule, len(p.Granules))}
	for i, g := range p.Granules {
		out.Granules[i] = fromStateGranule(g)
	}
	return out, nil
}

func (a stateStore) Granule(ctx context.Context, id string) (Granule, error) {
	g, err := a.s.Granule(ctx, id)
	if err != nil {
		return Granule{}, mapErr(err)
	}
	return fromStateGranule(g), nil
}

func (a stateStore) Counts(ctx context.Context) (Counts, error) {
	st, err := a.s.Stats(ctx)
	if err != nil {
		return Counts{}, mapErr(err)
	}
	c := Counts{Runs: map[string]map[string]int{}, Granules: map[string]map[string]int{}, Files: st.Files}
	for p, m := range st.Runs {
		c.Runs[p] = map[string]int{}
		for s, n := range m {
			c.Runs[p][string(s)] = n
		}
	}
	for col, m := range st.Granules {
		c.Granules[col] = map[string]int{}
		for s, n := range m {
			c.Granules[col][string(s)] = n
		}
	}
	return c, nil
}

func fromStateRun(r state.Run) Run {
	out := Run{ID: r.ID, Pipeline: r.Pipeline, GranuleID: r.GranuleID, Collection: r.Collection,
		GranuleVersion: r.GranuleVersion, Status: string(r.Status), Created: r.Created, Started: r.Started,
		Ended: r.Ended, Error: r.Error, Steps: make([]Step, len(r.Steps)), Input: fromDocument(r.Input)}
	for i, s := range r.Steps {
		st := Step{Name: s.Name, Status: string(s.Status), Started: s.Started, Ended: s.Ended, Error: s.Error,
			Order: s.Order, Outputs: s.Outputs, Attempts: make([]Attempt, len(s.Attempts))}
		for j, a := range s.Attempts {
			at := Attempt{Number: a.Number, Status: string(a.Status), Started: a.Started, Ended: a.Ended,
				Error: a.Error, LogPath: a.Log}
			if a.Status == state.AttemptSucceeded || a.Status == state.AttemptFailed {
				code := a.ExitCode
				at.ExitCode = &code
			}
			st.Attempts[j] = at
		}
		out.Steps[i] = st
	}
	return out
}

func fromStateGranule(g state.Granule) Granule {
	out := Granule{ID: g.ID, Collection: g.Collection, Pipeline: g.Pipeline, Version: g.Version,
		Status: string(g.Status), Created: g.Created, Updated: g.Updated, Runs: make([]RunRef, len(g.Runs)),
		FileCount: g.Files, Bytes: g.Bytes, Document: fromDocument(g.Document)}
	for i, r := range g.Runs {
		out.Runs[i] = RunRef{ID: r.ID, Pipeline: r.Pipeline, Version: r.Version, Status: string(r.Status)}
	}
	return out
}

func fromDocument(d *contract.Granule) *Document {
	if d == nil {
		return nil
	}
	out := &Document{ID: d.ID, Collection: d.Collection, CollectionVersion: d.Version, Date: d.Date,
		Files: make([]File, len(d.Files))}
	for i, f := range d.Files {
		out.Files[i] = File{Name: f.Name, Type: f.Type, Bucket: f.Bucket, Key: f.Key, Size: f.Size,
			Checksum: f.Checksum, ChecksumType: f.ChecksumType, Location: "s3://" + f.Bucket + "/" + f.Key,
			Source: f.Source}
	}
	return out
}
