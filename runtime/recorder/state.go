package recorder

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"

	"github.com/cumulus-toolchain/cumulus/runtime/engine"
	"github.com/cumulus-toolchain/cumulus/runtime/stepwrap"
)

// Run is a run's recorded state: what a Sink stores. It is the API's Run
// and a little more (the declared step order, resource samples), kept
// apart from engine.Run so that the API's JSON and the stored records can
// change independently.
//
// Every field is a function of the set of events applied, not of their
// order: times are the earliest or latest seen, statuses move only
// forward (see Supersedes), facts are set once. That is what makes the
// recorder's writes commutative and idempotent.
type Run struct {
	ID             string    `json:"id"`
	Pipeline       string    `json:"pipeline,omitempty"`
	GranuleID      string    `json:"granule_id,omitempty"`
	Collection     string    `json:"collection,omitempty"`
	GranuleVersion int       `json:"granule_version,omitempty"`
	Status         string    `json:"status,omitempty"`
	Created        time.Time `json:"created,omitzero"`
	Started        time.Time `json:"started,omitzero"`
	Ended          time.Time `json:"ended,omitzero"`
	Error          string    `json:"error,omitempty"`
	StepNames      []string  `json:"step_names,omitempty"`
	// FactRanks says which source set each fact (pipeline, granule,
	// collection): see setFact.
	FactRanks map[string]int   `json:"fact_ranks,omitempty"`
	Steps     []Step           `json:"steps,omitempty"`
	Input     *engine.Document `json:"input,omitempty"`
}

// Step is one step of a recorded run. Its status, times and error are
// derived from its attempts (derive), so they too are order-free.
type Step struct {
	Name     string         `json:"name"`
	Status   string         `json:"status"`
	Started  time.Time      `json:"started,omitzero"`
	Ended    time.Time      `json:"ended,omitzero"`
	Error    string         `json:"error,omitempty"`
	Order    int            `json:"order,omitempty"`
	Outputs  map[string]any `json:"outputs,omitempty"`
	Attempts []Attempt      `json:"attempts,omitempty"`
}

// Attempt is one execution of a step.
type Attempt struct {
	Number   int              `json:"number"`
	Status   string           `json:"status"`
	Started  time.Time        `json:"started,omitzero"`
	Ended    time.Time        `json:"ended,omitzero"`
	ExitCode *int             `json:"exit_code,omitempty"`
	Error    string           `json:"error,omitempty"`
	Log      string           `json:"log,omitempty"`
	Usage    *stepwrap.Sample `json:"usage,omitempty"`
	// Outputs are the step's outputs from this attempt (the step shows
	// its last attempt's).
	Outputs map[string]any `json:"outputs,omitempty"`
	// Started is the start report's time when it came (StartReported),
	// else the earliest start the heartbeats and the end imply (now less
	// the wrapper's wall time): kept apart so that a late start report
	// corrects an estimate, in any order.
	StartReported  time.Time `json:"start_reported,omitzero"`
	StartEstimated time.Time `json:"start_estimated,omitzero"`
}

// Granule is a granule's recorded state. Its status is its latest run's
// (by creation), its document the latest run's.
type Granule struct {
	ID         string           `json:"id"`
	Collection string           `json:"collection,omitempty"`
	Pipeline   string           `json:"pipeline,omitempty"`
	Version    int              `json:"version,omitempty"`
	Status     string           `json:"status,omitempty"`
	Created    time.Time        `json:"created,omitzero"`
	Updated    time.Time        `json:"updated,omitzero"`
	Runs       []RunRef         `json:"runs,omitempty"`
	FileCount  int              `json:"file_count,omitempty"`
	Bytes      int64            `json:"bytes,omitempty"`
	Document   *engine.Document `json:"document,omitempty"`
	// DocRun says which run's document Document is, and DocOutput whether
	// it is the run's output (the document as the steps left it) rather
	// than its input, so that an older run's arriving late does not
	// replace a newer one's.
	DocRun    string `json:"doc_run,omitempty"`
	DocOutput bool   `json:"doc_output,omitempty"`
	// Seen maps each file name the granule's sources delivered to the
	// source's name: the files counter counts these, once each.
	Seen map[string]string `json:"seen,omitempty"`
}

// RunRef is one run of a granule, with the time of its status.
type RunRef struct {
	ID         string `json:"id"`
	Pipeline   string `json:"pipeline,omitempty"`
	Collection string `json:"collection,omitempty"`
	// FactRank is the sum of the run's facts' ranks when the reference
	// was taken: the reference's facts follow the best-informed one.
	FactRank int       `json:"fact_rank,omitempty"`
	Version  int       `json:"version,omitempty"`
	Status   string    `json:"status"`
	Created  time.Time `json:"created,omitzero"`
	At       time.Time `json:"at,omitzero"`
}

// Attempt and step statuses besides the run statuses.
const (
	StepPending = "pending"
)

// rank orders statuses: a state moves only to a higher rank, or to a
// later time within one. Anything ended outranks anything running, which
// outranks queued: events from Step Functions, the trigger and the step
// wrapper come by different paths and can arrive in any order, but a run
// never goes back (a redriven execution, which does, is recorded as it
// ended first; see the package comment).
func rank(status string) int {
	switch status {
	case "":
		return -1
	case engine.RunQueued, StepPending:
		return 0
	case engine.RunRunning:
		return 1
	}
	return 2
}

// Supersedes reports whether status b at time tb replaces status a at
// time ta: a higher rank, or the same rank and a later time, or, at the
// same rank and time, the greater status name, so that two different
// events at the same instant resolve the same way in any order. A
// duplicate (same status, same time) supersedes nothing.
func Supersedes(a string, ta time.Time, b string, tb time.Time) bool {
	if ra, rb := rank(a), rank(b); ra != rb {
		return rb > ra
	}
	if c := tb.Compare(ta); c != 0 {
		return c > 0
	}
	return b > a
}

// statusTime is when a run took its current status.
func (r *Run) statusTime() time.Time {
	switch rank(r.Status) {
	case 0:
		return r.Created
	case 1:
		return r.Started
	}
	return r.Ended
}

// Ref is the run as its granule lists it.
func (r *Run) Ref() RunRef {
	rank := 0
	for _, n := range r.FactRanks {
		rank += n
	}
	return RunRef{ID: r.ID, Pipeline: r.Pipeline, Collection: r.Collection, FactRank: rank,
		Version: r.GranuleVersion, Status: r.Status, Created: r.Created, At: r.statusTime()}
}

// earliest returns the earlier non-zero time.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Sources of facts, by authority: the trigger's record names the run's
// pipeline and granule as the deployment knows them; a step report as the
// step wrapper was told them; an execution event only as far as the state
// machine's name and input tell.
const (
	fromExecution = 1
	fromStep      = 2
	fromTrigger   = 3
)

// setFact sets a run's fact from a source of rank rank: a higher-ranked
// source replaces a lower one's value, and between two of the same rank
// the smaller value stands, so the outcome is the same in any order.
func (r *Run) setFact(name string, dst *string, v string, rank int) {
	if v == "" {
		return
	}
	if r.FactRanks == nil {
		r.FactRanks = map[string]int{}
	}
	have := r.FactRanks[name]
	if rank > have || (rank == have && (*dst == "" || v < *dst)) {
		*dst = v
		r.FactRanks[name] = rank
	}
}

// setOnce sets a fact the first time it is known, and, when two sources
// disagree, keeps the smaller, so the result does not depend on order.
func setOnce[T cmp.Ordered](dst *T, v T) {
	var zero T
	if v != zero && (*dst == zero || v < *dst) {
		*dst = v
	}
}

// step returns the run's step named name, adding it (pending) if new.
func (r *Run) step(name string) *Step {
	for i := range r.Steps {
		if r.Steps[i].Name == name {
			return &r.Steps[i]
		}
	}
	r.Steps = append(r.Steps, Step{Name: name, Status: StepPending})
	return &r.Steps[len(r.Steps)-1]
}

func (s *Step) attempt(n int) *Attempt {
	for i := range s.Attempts {
		if s.Attempts[i].Number == n {
			return &s.Attempts[i]
		}
	}
	s.Attempts = append(s.Attempts, Attempt{Number: n})
	slices.SortFunc(s.Attempts, func(a, b Attempt) int { return cmp.Compare(a.Number, b.Number) })
	for i := range s.Attempts {
		if s.Attempts[i].Number == n {
			return &s.Attempts[i]
		}
	}
	panic("unreachable")
}

// normalize derives what is derived: each step's status, times and error
// from its attempts, the steps' order (declared steps first, in their
// declared order, then others by start), and Order (1 for the first step
// to end). It runs after every change, so a stored run is always in this
// form.
func (r *Run) normalize() {
	for _, name := range r.StepNames {
		r.step(name)
	}
	for i := range r.Steps {
		r.Steps[i].derive()
	}
	declared := map[string]int{}
	for i, n := range r.StepNames {
		declared[n] = i
	}
	slices.SortStableFunc(r.Steps, func(a, b Step) int {
		ia, oka := declared[a.Name]
		ib, okb := declared[b.Name]
		switch {
		case oka && okb:
			return cmp.Compare(ia, ib)
		case oka:
			return -1
		case okb:
			return 1
		}
		if c := a.Started.Compare(b.Started); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	var ended []*Step
	for i := range r.Steps {
		r.Steps[i].Order = 0
		if !r.Steps[i].Ended.IsZero() {
			ended = append(ended, &r.Steps[i])
		}
	}
	slices.SortFunc(ended, func(a, b *Step) int {
		if c := a.Ended.Compare(b.Ended); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	for i, s := range ended {
		s.Order = i + 1
	}
}

func (s *Step) derive() {
	s.Status, s.Started, s.Ended, s.Error, s.Outputs = StepPending, time.Time{}, time.Time{}, "", nil
	for i := range s.Attempts {
		a := &s.Attempts[i]
		if !a.StartReported.IsZero() {
			a.Started = a.StartReported
		} else if !a.StartEstimated.IsZero() {
			a.Started = a.StartEstimated
		}
		s.Started = earliest(s.Started, a.Started)
	}
	if n := len(s.Attempts); n > 0 {
		last := s.Attempts[n-1]
		s.Status, s.Outputs = last.Status, last.Outputs
		if last.Status != engine.RunRunning {
			s.Ended = last.Ended
		}
		if last.Status == engine.RunFailed {
			s.Error = last.Error
		}
	}
}

// granuleStatus is the granule's status for its latest run's status.
func granuleStatus(runStatus string) string {
	switch runStatus {
	case engine.RunQueued:
		return engine.GranuleQueued
	case engine.RunRunning:
		return engine.GranuleRunning
	case engine.RunSucceeded:
		return engine.GranuleCompleted
	}
	return engine.GranuleFailed
}

// addRun merges a run's state into its granule: the run's reference moves
// forward like the run, and the granule's status, pipeline and version
// follow its latest run.
func (g *Granule) addRun(ref RunRef) {
	i := slices.IndexFunc(g.Runs, func(x RunRef) bool { return x.ID == ref.ID })
	if i < 0 {
		g.Runs = append(g.Runs, ref)
	} else {
		old := g.Runs[i]
		if Supersedes(old.Status, old.At, ref.Status, ref.At) {
			old.Status, old.At = ref.Status, ref.At
		}
		old.Created = earliest(old.Created, ref.Created)
		if ref.FactRank > old.FactRank || (ref.FactRank == old.FactRank &&
			(ref.Pipeline+"\x00"+ref.Collection < old.Pipeline+"\x00"+old.Collection)) {
			old.Pipeline, old.Collection, old.FactRank = ref.Pipeline, ref.Collection, ref.FactRank
		}
		old.Version = max(old.Version, ref.Version)
		g.Runs[i] = old
	}
	g.normalize()
}

func (g *Granule) normalize() {
	slices.SortFunc(g.Runs, func(a, b RunRef) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	g.Created, g.Updated = time.Time{}, time.Time{}
	for _, r := range g.Runs {
		g.Created = earliest(g.Created, r.Created)
		g.Updated = latest(g.Updated, latest(r.Created, r.At))
	}
	if n := len(g.Runs); n > 0 {
		last := g.Runs[n-1]
		g.Status, g.Pipeline, g.Version = granuleStatus(last.Status), last.Pipeline, last.Version
		if last.Collection != "" {
			g.Collection = last.Collection
		}
	}
	g.FileCount, g.Bytes = 0, 0
	if g.Document != nil {
		g.FileCount = len(g.Document.Files)
		for _, f := range g.Document.Files {
			g.Bytes += f.Size
		}
	}
}

// setDocument replaces the granule's document with doc, run's input or
// output, when it is newer: a later run's (in the granule's order of runs,
// which addRun has updated first), or the same run's output over its input.
// Two different documents of the same standing resolve to the smaller
// encoding, so any order gives the same document.
func (g *Granule) setDocument(doc *engine.Document, run string, output bool) {
	if doc == nil {
		return
	}
	pos := func(id string) int {
		return slices.IndexFunc(g.Runs, func(r RunRef) bool { return r.ID == id })
	}
	replace := g.Document == nil
	switch {
	case replace:
	case run != g.DocRun:
		replace = pos(run) > pos(g.DocRun)
	case output != g.DocOutput:
		replace = output
	default:
		a, _ := json.Marshal(doc)
		b, _ := json.Marshal(g.Document)
		replace = string(a) < string(b)
	}
	if replace {
		g.Document, g.DocRun, g.DocOutput = doc, run, output
		g.normalize()
	}
}

// TimeKeyLayout formats times so that their strings sort as the times
// (fixed width, UTC): the stores' sort keys use it.
const TimeKeyLayout = "2006-01-02T15:04:05.000000000Z"
