package state

import (
	"time"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// GranuleStatus is where a granule stands, derived from its runs: running
// while one of its runs runs, queued while one waits, otherwise what its
// latest finished run (not counting cancelled ones) ended with.
type GranuleStatus string

// Granule statuses.
const (
	GranuleQueued    GranuleStatus = "queued"
	GranuleRunning   GranuleStatus = "running"
	GranuleCompleted GranuleStatus = "completed"
	GranuleFailed    GranuleStatus = "failed"
)

// RunStatus is where a run stands.
type RunStatus string

// Run statuses. Succeeded, failed and cancelled are final.
const (
	RunQueued    RunStatus = "queued"
	RunRunning   RunStatus = "running"
	RunSucceeded RunStatus = "succeeded"
	RunFailed    RunStatus = "failed"
	RunCancelled RunStatus = "cancelled"
)

// Final reports whether the run is over.
func (s RunStatus) Final() bool {
	return s == RunSucceeded || s == RunFailed || s == RunCancelled
}

// StepStatus is where a step of a run stands.
type StepStatus string

// Step statuses. Succeeded, failed and skipped are final; a step stays
// running between its attempts (while waiting for a retry).
const (
	StepPending   StepStatus = "pending"
	StepRunning   StepStatus = "running"
	StepSucceeded StepStatus = "succeeded"
	StepFailed    StepStatus = "failed"
	StepSkipped   StepStatus = "skipped"
)

// Final reports whether the step is over.
func (s StepStatus) Final() bool {
	return s == StepSucceeded || s == StepFailed || s == StepSkipped
}

// Done reports whether the step counts as done for the steps after it: a
// skipped step counts as done (DESIGN: "a skipped step counts as done").
func (s StepStatus) Done() bool { return s == StepSucceeded || s == StepSkipped }

// AttemptStatus is where one attempt of a step stands.
type AttemptStatus string

// Attempt statuses. Interrupted means the process running it went away (the
// simulator was killed) or its run ended first: it has no exit code.
const (
	AttemptRunning     AttemptStatus = "running"
	AttemptSucceeded   AttemptStatus = "succeeded"
	AttemptFailed      AttemptStatus = "failed"
	AttemptInterrupted AttemptStatus = "interrupted"
)

// DuplicatePolicy is a collection's `duplicates` setting: what enqueuing a
// granule that already exists does.
type DuplicatePolicy string

// Duplicate policies (lang.DuplicatePolicies).
const (
	// DuplicateSkip: a granule completed, queued or running is not enqueued
	// again; a failed one is (same version), so a fixed file gets its retry.
	DuplicateSkip DuplicatePolicy = "skip"
	// DuplicateReplace: always enqueued, same version; its document replaces
	// the current one.
	DuplicateReplace DuplicatePolicy = "replace"
	// DuplicateVersion: always enqueued, as the next version (2, 3...).
	DuplicateVersion DuplicatePolicy = "version"
	// DuplicateError: refused with ErrDuplicate, for the caller to report.
	// The empty policy means this one, the collections' default.
	DuplicateError DuplicatePolicy = "error"
)

// SeenFile is a file a source listed, as the poller last saw it.
type SeenFile struct {
	Source string `json:"source"`
	// Key is the file's URL or path in the source: what the poller lists.
	Key     string    `json:"key"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time,omitzero"`
	ETag    string    `json:"etag,omitempty"`
	// Granule is the granule the file went to ("" before it was grouped).
	Granule string `json:"granule,omitempty"`
	// Staged is true once the file is in the staging bucket.
	Staged    bool      `json:"staged"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Changed reports whether a listing of the file (size, modification time,
// etag) differs from what was recorded. An etag, when both sides have one,
// decides alone; otherwise the size does, and the time when both know it.
func (f SeenFile) Changed(size int64, modTime time.Time, etag string) bool {
	if f.ETag != "" && etag != "" {
		return f.ETag != etag
	}
	if f.Size != size {
		return true
	}
	return !f.ModTime.IsZero() && !modTime.IsZero() && !f.ModTime.Equal(modTime)
}

// Granule is a granule the simulator has enqueued at least once.
type Granule struct {
	ID         string `json:"id"`
	Collection string `json:"collection"`
	// Pipeline is the pipeline of the granule's latest run.
	Pipeline string `json:"pipeline"`
	// Version counts ingests under the "version" duplicate policy: 1, then
	// 2... It is not the collection's version (Document.Version).
	Version int           `json:"version"`
	Status  GranuleStatus `json:"status"`
	Created time.Time     `json:"created"`
	Updated time.Time     `json:"updated"`
	// Runs are the granule's runs, oldest first.
	Runs []RunRef `json:"runs"`
	// Files and Bytes summarize Document, for listings.
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
	// Document is the granule as its latest run last left it (files,
	// checksums, buckets and keys: where it is archived). Granule fills it;
	// listings leave it nil.
	Document *contract.Granule `json:"document,omitempty"`
}

// RunRef is one run of a granule, as the granule lists it.
type RunRef struct {
	ID       string    `json:"id"`
	Pipeline string    `json:"pipeline"`
	Version  int       `json:"version"`
	Status   RunStatus `json:"status"`
}

// Run is one attempt to take a granule through a pipeline.
type Run struct {
	// ID is time-ordered: sorting ids sorts runs by creation.
	ID             string    `json:"id"`
	Pipeline       string    `json:"pipeline"`
	GranuleID      string    `json:"granule_id"`
	Collection     string    `json:"collection"`
	GranuleVersion int       `json:"granule_version"`
	Status         RunStatus `json:"status"`
	Created        time.Time `json:"created"`
	Started        time.Time `json:"started,omitzero"`
	Ended          time.Time `json:"ended,omitzero"`
	Error          string    `json:"error,omitempty"`
	// Steps are in the order StartRun was given (the graph's order).
	Steps []Step `json:"steps"`
	// Input is the granule document the run was enqueued with. Run and
	// Resume fill it (and each Step.Output); listings leave it nil.
	Input *contract.Granule `json:"input,omitempty"`
}

// Step is one step of a run.
type Step struct {
	Name     string     `json:"name"`
	Status   StepStatus `json:"status"`
	Started  time.Time  `json:"started,omitzero"`
	Ended    time.Time  `json:"ended,omitzero"`
	Attempts []Attempt  `json:"attempts,omitempty"`
	Error    string     `json:"error,omitempty"`
	// Order is 1 for the first step of the run to finish, 2 for the
	// next...; 0 while the step is not finished.
	Order int `json:"order,omitempty"`
	// Outputs are a standard step's outputs, by name.
	Outputs map[string]any `json:"outputs,omitempty"`
	// Output is the granule document the step returned (succeeded or
	// skipped steps). Filled by Run and Resume only.
	Output *contract.Granule `json:"output,omitempty"`
}

// Attempt is one execution of a step's task.
type Attempt struct {
	Number  int           `json:"number"`
	Status  AttemptStatus `json:"status"`
	Started time.Time     `json:"started"`
	Ended   time.Time     `json:"ended,omitzero"`
	// ExitCode is meaningful once the attempt succeeded or failed; callers
	// use -1 when the task never exited (timeout, engine error).
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error,omitempty"`
	// Log is the attempt's log file.
	Log string `json:"log,omitempty"`
}

// Step returns the step named name, or nil.
func (r *Run) Step(name string) *Step {
	for i := range r.Steps {
		if r.Steps[i].Name == name {
			return &r.Steps[i]
		}
	}
	return nil
}

// Unfinished lists, in order, the steps that are neither done nor failed:
// where a resumed run continues. A step that was mid-attempt when the
// process died is among them.
func (r *Run) Unfinished() []string {
	var out []string
	for _, s := range r.Steps {
		if !s.Status.Final() {
			out = append(out, s.Name)
		}
	}
	return out
}

// Current is the granule document a resumed run continues from: the output
// of the step that finished last, or the run's input when none did. Only
// meaningful on a Run returned by Run, StartRun or Resume (which carry the
// documents).
func (r *Run) Current() *contract.Granule {
	var cur *contract.Granule
	best := 0
	for _, s := range r.Steps {
		if s.Output != nil && s.Order > best {
			cur, best = s.Output, s.Order
		}
	}
	if cur == nil {
		return r.Input
	}
	return cur
}
