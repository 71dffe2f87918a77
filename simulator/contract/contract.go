// Package contract owns the step contract: the one definition of what a
// pipeline step receives and what it returns, shared by the simulator's
// executors, the platform's step wrapper and the standard steps. Archive
// teams write their containers against it, so it changes only additively.
//
// A step receives, as environment variables:
//
//	CUMULUS_GRANULE      the granule document (JSON, as Granule)
//	CUMULUS_PIPELINE     the pipeline's name
//	CUMULUS_STEP         the step's name
//	CUMULUS_ATTEMPT      1 for the first attempt, 2 for the first retry...
//	CUMULUS_WITH         a standard step's inputs (JSON object), when it has any
//	CUMULUS_INPUT_DIR    a folder holding the granule's files, downloaded and checksum-verified
//	CUMULUS_OUTPUT_DIR   an empty folder: files written here are added to the granule
//	CUMULUS_RESULT       where the step may write its result (JSON, as Result)
//
// plus the step's own env. A step succeeds by exiting 0. Its result is the
// JSON it wrote to CUMULUS_RESULT, or, when it wrote none, the granule as it
// came in plus the files it left in CUMULUS_OUTPUT_DIR.
package contract

// Environment variable names of the contract.
const (
	EnvGranule   = "CUMULUS_GRANULE"
	EnvPipeline  = "CUMULUS_PIPELINE"
	EnvStep      = "CUMULUS_STEP"
	EnvAttempt   = "CUMULUS_ATTEMPT"
	EnvWith      = "CUMULUS_WITH"
	EnvInputDir  = "CUMULUS_INPUT_DIR"
	EnvOutputDir = "CUMULUS_OUTPUT_DIR"
	EnvResult    = "CUMULUS_RESULT"
)

// Granule is the granule document: what a granule is at one point of its run.
type Granule struct {
	ID         string `json:"id"`
	Collection string `json:"collection"`
	Version    string `json:"version"`
	// Date is the granule's date (YYYY-MM-DD) found in its id, or "".
	Date  string `json:"date,omitempty"`
	Files []File `json:"files"`
}

// File is one file of a granule and where it is now.
type File struct {
	Name string `json:"name"`
	// Type is the collection's file block the file matched ("data").
	Type   string `json:"type"`
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	// Checksum and ChecksumType ("md5", "sha256", ...) when known.
	Checksum     string `json:"checksum,omitempty"`
	ChecksumType string `json:"checksum_type,omitempty"`
	// Source is where the file was acquired from (a URL), kept for
	// provenance and for re-fetching.
	Source string `json:"source,omitempty"`
}

// Input is everything a step receives, in one value (executors turn it into
// the environment above; built-in steps take it directly).
type Input struct {
	Pipeline string            `json:"pipeline"`
	Step     string            `json:"step"`
	Attempt  int               `json:"attempt"`
	Granule  Granule           `json:"granule"`
	Env      map[string]string `json:"env,omitempty"`
	With     map[string]any    `json:"with,omitempty"`
}

// Result is what a step returns: the granule as it leaves the step, and the
// standard step's outputs (by the names its contract declares).
type Result struct {
	Granule Granule        `json:"granule"`
	Outputs map[string]any `json:"outputs,omitempty"`
}
