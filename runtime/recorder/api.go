package recorder

import (
	"maps"

	"github.com/cumulus-toolchain/cumulus/runtime/engine"
)

// API returns the run as the engine API shows it (durations and log paths
// are the API server's to fill in).
func (r *Run) API() engine.Run {
	out := engine.Run{ID: r.ID, Pipeline: r.Pipeline, GranuleID: r.GranuleID, Collection: r.Collection,
		GranuleVersion: r.GranuleVersion, Status: r.Status, Created: r.Created, Started: r.Started, Ended: r.Ended,
		Error: r.Error, Steps: make([]engine.Step, len(r.Steps)), Input: r.Input}
	for i, s := range r.Steps {
		st := engine.Step{Name: s.Name, Status: s.Status, Started: s.Started, Ended: s.Ended, Error: s.Error,
			Order: s.Order, Outputs: s.Outputs, Attempts: make([]engine.Attempt, len(s.Attempts))}
		for j, a := range s.Attempts {
			st.Attempts[j] = engine.Attempt{Number: a.Number, Status: a.Status, Started: a.Started, Ended: a.Ended,
				ExitCode: a.ExitCode, Error: a.Error, LogPath: a.Log}
		}
		out.Steps[i] = st
	}
	return out
}

// API returns the granule as the engine API shows it.
func (g *Granule) API() engine.Granule {
	out := engine.Granule{ID: g.ID, Collection: g.Collection, Pipeline: g.Pipeline, Version: g.Version,
		Status: g.Status, Created: g.Created, Updated: g.Updated, Runs: make([]engine.RunRef, len(g.Runs)),
		FileCount: g.FileCount, Bytes: g.Bytes, Document: g.Document}
	for i, r := range g.Runs {
		out.Runs[i] = engine.RunRef{ID: r.ID, Pipeline: r.Pipeline, Version: r.Version, Status: r.Status}
	}
	return out
}

// RunFromAPI is the recorded state of an API run: what an import (a
// migration from another store, a test's fixture) writes. It keeps the
// run's steps in the order given.
func RunFromAPI(r engine.Run) Run {
	out := Run{ID: r.ID, Pipeline: r.Pipeline, GranuleID: r.GranuleID, Collection: r.Collection,
		GranuleVersion: r.GranuleVersion, Status: r.Status, Created: r.Created, Started: r.Started, Ended: r.Ended,
		Error: r.Error, Input: r.Input}
	for _, s := range r.Steps {
		out.StepNames = append(out.StepNames, s.Name)
		st := Step{Name: s.Name, Status: s.Status, Started: s.Started, Ended: s.Ended, Error: s.Error, Order: s.Order,
			Outputs: maps.Clone(s.Outputs)}
		for _, a := range s.Attempts {
			st.Attempts = append(st.Attempts, Attempt{Number: a.Number, Status: a.Status, Started: a.Started,
				StartReported: a.Started, Ended: a.Ended, ExitCode: a.ExitCode, Error: a.Error, Log: a.LogPath})
		}
		if n := len(st.Attempts); n > 0 {
			st.Attempts[n-1].Outputs = st.Outputs
		}
		out.Steps = append(out.Steps, st)
	}
	return out
}

// GranuleFromAPI is the recorded state of an API granule (see RunFromAPI);
// runs gives each run's creation and status time, which the API's
// references do not carry.
func GranuleFromAPI(g engine.Granule, runs map[string]engine.Run) Granule {
	out := Granule{ID: g.ID, Collection: g.Collection, Pipeline: g.Pipeline, Version: g.Version, Status: g.Status,
		Created: g.Created, Updated: g.Updated, FileCount: g.FileCount, Bytes: g.Bytes, Document: g.Document}
	for _, r := range g.Runs {
		ref := RunRef{ID: r.ID, Pipeline: r.Pipeline, Version: r.Version, Status: r.Status}
		if full, ok := runs[r.ID]; ok {
			rr := RunFromAPI(full)
			ref.Created, ref.At = rr.Created, rr.statusTime()
		}
		out.Runs = append(out.Runs, ref)
	}
	return out
}
