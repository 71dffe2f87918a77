package engine

import (
	"context"
	"errors"
	"io"
	"time"
)

// Errors a Store or LogSource wraps so that the API answers with the right
// status: ErrNotFound is 404, ErrInvalid 400. Anything else is a 500.
var (
	ErrNotFound = errors.New("not found")
	ErrInvalid  = errors.New("invalid argument")
)

// Store is what the API reads of the engine's state. It is defined here,
// where it is used, so each back end (the simulator's bbolt store through
// StateStore, a DynamoDB table on AWS) implements only this.
//
// Listings are pages in a stable order: granules by id, runs by creation
// (newest first unless OldestFirst). A page's Next is an opaque store
// cursor, "" on the last page; the API wraps it in its own token.
type Store interface {
	Runs(ctx context.Context, q RunQuery) (RunPage, error)
	// Run returns a run with its steps and attempts; ErrNotFound when no
	// run has the id.
	Run(ctx context.Context, id string) (Run, error)
	Granules(ctx context.Context, q GranuleQuery) (GranulePage, error)
	// Granule returns a granule with its files; ErrNotFound when no
	// granule has the id.
	Granule(ctx context.Context, id string) (Granule, error)
	// Counts are the store's counters by pipeline, collection and source.
	Counts(ctx context.Context) (Counts, error)
}

// Versioner is implemented by a Store that can tell cheaply whether
// anything changed: Version returns a value that changes with every write.
// The API then caches what is costly to compute and the live event stream
// polls it alone; without it, both fall back to reading the counts.
type Versioner interface {
	Version(ctx context.Context) (uint64, error)
}

// LogSource reads step logs. Local files now (FileLogs); CloudWatch Logs,
// where a LogRef maps to a log stream, on AWS.
type LogSource interface {
	// Open returns one attempt's log; an error wrapping ErrNotFound when
	// there is none (an attempt that never wrote one).
	Open(ctx context.Context, ref LogRef) (io.ReadCloser, error)
}

// LogRef names one attempt's log.
type LogRef struct {
	Run, Pipeline, Granule, Step string
	Attempt                      int
	// Path is where the store recorded the log, "" when it recorded none.
	Path string
}

// RunQuery selects runs; empty fields select everything.
type RunQuery struct {
	Pipeline string
	Status   string
	// Since (inclusive) and Until (exclusive) bound the creation time.
	Since, Until time.Time
	OldestFirst  bool
	Limit        int
	Cursor       string
}

// RunPage is one page of runs (steps included, documents not).
type RunPage struct {
	Runs []Run
	Next string
}

// GranuleQuery selects granules; empty fields select everything.
type GranuleQuery struct {
	Status     string
	Collection string
	IDPrefix   string
	Limit      int
	Cursor     string
}

// GranulePage is one page of granules, in id order, without files.
type GranulePage struct {
	Granules []Granule
	Next     string
}

// Run statuses (the API's, and the simulator's).
const (
	RunQueued    = "queued"
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
	RunCancelled = "cancelled"
)

// Granule statuses.
const (
	GranuleQueued    = "queued"
	GranuleRunning   = "running"
	GranuleCompleted = "completed"
	GranuleFailed    = "failed"
)

// Run is one attempt to take a granule through a pipeline, as the API
// shows it. The API's JSON is its own, not a store's records, so that the
// stores can change their layout without breaking clients.
type Run struct {
	ID             string    `json:"id"`
	Pipeline       string    `json:"pipeline"`
	GranuleID      string    `json:"granule_id"`
	Collection     string    `json:"collection"`
	GranuleVersion int       `json:"granule_version"`
	Status         string    `json:"status"`
	Created        time.Time `json:"created"`
	Started        time.Time `json:"started,omitzero"`
	Ended          time.Time `json:"ended,omitzero"`
	// DurationMS runs from Started to Ended (to now while running).
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error,omitempty"`
	Steps      []Step `json:"steps"`
	// Input is the granule document the run started from (Run only).
	Input *Document `json:"input,omitempty"`
}

// Step is one step of a run.
type Step struct {
	Name       string    `json:"name"`
	Status     string    `json:"status"`
	Started    time.Time `json:"started,omitzero"`
	Ended      time.Time `json:"ended,omitzero"`
	DurationMS int64     `json:"duration_ms"`
	Attempts   []Attempt `json:"attempts"`
	Error      string    `json:"error,omitempty"`
	// Order is 1 for the first step to finish, 2 for the next...
	Order   int            `json:"order,omitempty"`
	Outputs map[string]any `json:"outputs,omitempty"`
}

// Attempt is one execution of a step.
type Attempt struct {
	Number     int       `json:"number"`
	Status     string    `json:"status"`
	Started    time.Time `json:"started"`
	Ended      time.Time `json:"ended,omitzero"`
	DurationMS int64     `json:"duration_ms"`
	// ExitCode is nil while the attempt runs and when it was interrupted.
	ExitCode *int   `json:"exit_code"`
	Error    string `json:"error,omitempty"`
	// Log is the API path of the attempt's log; LogPath where the store
	// recorded it (not sent: it names the server's folders).
	Log     string `json:"log"`
	LogPath string `json:"-"`
}

// Granule is a granule as the API shows it.
type Granule struct {
	ID         string    `json:"id"`
	Collection string    `json:"collection"`
	Pipeline   string    `json:"pipeline"`
	Version    int       `json:"version"`
	Status     string    `json:"status"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
	Runs       []RunRef  `json:"runs"`
	FileCount  int       `json:"file_count"`
	Bytes      int64     `json:"bytes"`
	// Document is the granule's current document (Granule only).
	Document *Document `json:"document,omitempty"`
}

// RunRef is one run of a granule.
type RunRef struct {
	ID       string `json:"id"`
	Pipeline string `json:"pipeline"`
	Version  int    `json:"version"`
	Status   string `json:"status"`
}

// Document is the granule document: its files and where they are.
type Document struct {
	ID                string `json:"id"`
	Collection        string `json:"collection"`
	CollectionVersion string `json:"collection_version"`
	Date              string `json:"date,omitempty"`
	Files             []File `json:"files"`
}

// File is one file of a granule.
type File struct {
	Name         string `json:"name"`
	Type         string `json:"type"`
	Bucket       string `json:"bucket"`
	Key          string `json:"key"`
	Size         int64  `json:"size"`
	Checksum     string `json:"checksum,omitempty"`
	ChecksumType string `json:"checksum_type,omitempty"`
	// Location is the archive location, s3://bucket/key.
	Location string `json:"location"`
	// Source is where the file was acquired from.
	Source string `json:"source,omitempty"`
}

// Counts are the store's counters.
type Counts struct {
	// Runs by pipeline and status; Granules by collection and status;
	// Files seen by source.
	Runs     map[string]map[string]int `json:"runs"`
	Granules map[string]map[string]int `json:"granules"`
	Files    map[string]int            `json:"files"`
}
