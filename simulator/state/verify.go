package state

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Stats are the store's counts, kept up to date by every write (so reading
// them costs the number of counters, not of records).
type Stats struct {
	// Runs counts runs by pipeline and status.
	Runs map[string]map[RunStatus]int `json:"runs"`
	// Granules counts granules by collection and status.
	Granules map[string]map[GranuleStatus]int `json:"granules"`
	// Files counts the files seen by source.
	Files map[string]int `json:"files"`
}

// Stats returns the counts.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	st := Stats{Runs: map[string]map[RunStatus]int{}, Granules: map[string]map[GranuleStatus]int{}, Files: map[string]int{}}
	err := s.view(ctx, func(t *txn) error {
		return t.b(bCounts).ForEach(func(k, v []byte) error {
			n := int(int64(binary.BigEndian.Uint64(v)))
			parts := strings.Split(string(k), "\x00")
			switch {
			case len(parts) == 3 && parts[0] == "runs":
				if st.Runs[parts[1]] == nil {
					st.Runs[parts[1]] = map[RunStatus]int{}
				}
				st.Runs[parts[1]][RunStatus(parts[2])] = n
			case len(parts) == 3 && parts[0] == "granules":
				if st.Granules[parts[1]] == nil {
					st.Granules[parts[1]] = map[GranuleStatus]int{}
				}
				st.Granules[parts[1]][GranuleStatus(parts[2])] = n
			case len(parts) == 2 && parts[0] == "files":
				st.Files[parts[1]] = n
			}
			return nil
		})
	})
	if err != nil {
		return Stats{}, fmt.Errorf("read the counts: %w", err)
	}
	return st, nil
}

// ErrInconsistent is what Verify's error wraps when the store breaks one of
// its invariants.
var ErrInconsistent = errors.New("state store is inconsistent")

// Verify checks the whole store in one snapshot: bbolt's own page
// consistency, then the store's invariants (every index entry and counter
// matches the records; attempts are numbered in order with at most the last
// one running, and only in a running step of a running run; a step is
// finished exactly when it has a finish order, and orders are distinct; a
// succeeded step has its output; a succeeded run has every step done; a
// granule's status is the one its runs give it, with at most one run
// running). It reads everything, so it is for tests and `--check` tools, not
// for a scheduler's hot path.
func (s *Store) Verify(ctx context.Context) error {
	var problems []error
	bad := func(format string, args ...any) {
		if len(problems) < 50 {
			problems = append(problems, fmt.Errorf(format, args...))
		}
	}
	err := s.view(ctx, func(t *txn) error {
		for e := range t.tx.Check() {
			bad("bbolt: %v", e)
		}
		counts := map[string]int64{}
		indexed := map[string]map[string]bool{}
		want := func(bucket []byte, parts ...string) {
			if indexed[string(bucket)] == nil {
				indexed[string(bucket)] = map[string]bool{}
			}
			k := key(parts...)
			indexed[string(bucket)][string(k)] = true
			if t.b(bucket).Get(k) == nil {
				bad("index %s lacks %q", bucket, k)
			}
		}
		runStatus := map[string]RunStatus{}

		err := t.b(bRuns).ForEach(func(k, _ []byte) error {
			r, err := t.getRun(string(k))
			if err != nil {
				return err
			}
			runStatus[r.ID] = r.Status
			verifyRun(t, r, bad)
			want(bRunsByPipeline, r.Pipeline, r.ID)
			want(bRunsByStatus, string(r.Status), r.ID)
			want(bRunsByPipelineStatus, r.Pipeline, string(r.Status), r.ID)
			counts[string(key("runs", r.Pipeline, string(r.Status)))]++
			return nil
		})
		if err != nil {
			return err
		}

		err = t.b(bGranules).ForEach(func(k, _ []byte) error {
			g, _, err := t.getGranule(string(k))
			if err != nil {
				return err
			}
			if g.ID != string(k) {
				bad("granule record %q has id %q", k, g.ID)
			}
			if want := deriveStatus(g.Runs); g.Status != want {
				bad("granule %s is %s, its runs make it %s", g.ID, g.Status, want)
			}
			running := 0
			for _, ref := range g.Runs {
				if ref.Status == RunRunning {
					running++
				}
				if st, ok := runStatus[ref.ID]; !ok {
					bad("granule %s lists run %s, which does not exist", g.ID, ref.ID)
				} else if st != ref.Status {
					bad("granule %s lists run %s as %s, the run is %s", g.ID, ref.ID, ref.Status, st)
				}
			}
			if running > 1 {
				bad("granule %s has %d runs running", g.ID, running)
			}
			if len(g.Runs) == 0 {
				bad("granule %s has no run", g.ID)
			}
			if t.b(bGranuleDocs).Get(k) == nil {
				bad("granule %s has no document", g.ID)
			}
			want(bGranulesByStatus, string(g.Status), g.ID)
			want(bGranulesByCollection, g.Collection, g.ID)
			want(bGranulesByStatusColl, string(g.Status), g.Collection, g.ID)
			counts[string(key("granules", g.Collection, string(g.Status)))]++
			return nil
		})
		if err != nil {
			return err
		}

		err = t.b(bFiles).ForEach(func(k, _ []byte) error {
			src, _, _ := strings.Cut(string(k), "\x00")
			counts[string(key("files", src))]++
			return nil
		})
		if err != nil {
			return err
		}

		for _, b := range [][]byte{bRunsByPipeline, bRunsByStatus, bRunsByPipelineStatus,
			bGranulesByStatus, bGranulesByCollection, bGranulesByStatusColl} {
			err := t.b(b).ForEach(func(k, _ []byte) error {
				if !indexed[string(b)][string(k)] {
					bad("index %s has a stale entry %q", b, k)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		err = t.b(bCounts).ForEach(func(k, v []byte) error {
			if got, want := int64(binary.BigEndian.Uint64(v)), counts[string(k)]; got != want {
				bad("counter %q is %d, the records make it %d", k, got, want)
			}
			delete(counts, string(k))
			return nil
		})
		if err != nil {
			return err
		}
		for k, n := range counts {
			bad("counter %q is missing (the records make it %d)", k, n)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("verify %s: %w", s.path, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("verify %s: %w: %w", s.path, ErrInconsistent, errors.Join(problems...))
	}
	return nil
}

func verifyRun(t *txn, r *Run, bad func(string, ...any)) {
	switch r.Status {
	case RunQueued, RunRunning, RunSucceeded, RunFailed, RunCancelled:
	default:
		bad("run %s has status %q", r.ID, r.Status)
	}
	if t.b(bRunDocs).Get(key(r.ID, "")) == nil {
		bad("run %s has no input document", r.ID)
	}
	if r.Status == RunQueued && len(r.Steps) > 0 {
		bad("run %s is queued but has steps", r.ID)
	}
	orders := map[int]string{}
	for _, st := range r.Steps {
		where := fmt.Sprintf("run %s step %s", r.ID, st.Name)
		switch st.Status {
		case StepPending, StepRunning, StepSucceeded, StepFailed, StepSkipped:
		default:
			bad("%s has status %q", where, st.Status)
		}
		if st.Status.Final() != (st.Order > 0) {
			bad("%s is %s with finish order %d", where, st.Status, st.Order)
		}
		if st.Order > 0 {
			if other, dup := orders[st.Order]; dup {
				bad("%s and step %s both finished in order %d", where, other, st.Order)
			}
			orders[st.Order] = st.Name
		}
		if st.Status == StepSucceeded && t.b(bRunDocs).Get(key(r.ID, st.Name)) == nil {
			bad("%s succeeded without an output document", where)
		}
		if r.Status == RunSucceeded && !st.Status.Done() {
			bad("%s is %s in a succeeded run", where, st.Status)
		}
		for i, a := range st.Attempts {
			if a.Number != i+1 {
				bad("%s attempt #%d is numbered %d", where, i+1, a.Number)
			}
			if a.Status == AttemptRunning {
				if i != len(st.Attempts)-1 {
					bad("%s attempt %d is running but is not the last", where, a.Number)
				}
				if st.Status != StepRunning || r.Status != RunRunning {
					bad("%s attempt %d is running in a %s step of a %s run", where, a.Number, st.Status, r.Status)
				}
			}
		}
	}
}
