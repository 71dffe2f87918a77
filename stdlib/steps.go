package stdlib

import (
	"sort"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// Step is the contract of a standard step: what `uses = stdlib.<Name>` runs,
// what its `with` may set, and what later steps can read from it. The
// implementations live with the simulator and the runtime; this is the part
// the checker and the compiler need.
type Step struct {
	Name    string        // "sync_granule"
	Summary string        // one line
	RunsOn  string        // "lambda" or "ecs": how the platform runs it on AWS
	Memory  int           // MB default
	Timeout time.Duration // default attempt timeout
	Inputs  []Input       // sorted by name
	Outputs []Output      // sorted by name
}

// Input is one input of a standard step, set in a step's `with`.
type Input struct {
	Name     string
	Type     cty.Type
	Default  cty.Value // cty.NilVal when Required; a typed null (e.g. cty.NullVal(cty.String)) means "from the collection / platform"
	Required bool
	Enum     []string // allowed values for string inputs, nil if any
	Doc      string
}

// Output is one output of a standard step.
type Output struct {
	Name string
	Type cty.Type
	Doc  string
}

// Defaults shared by the steps. Lambda's hard limit is 900 s, so a Lambda
// step's timeout must stay at or below it; steps that move whole granules
// of possibly large files run on ECS, which has no such limit.
const (
	lambdaMemory  = 1024
	lambdaTimeout = 15 * time.Minute
)

// duplicatesEnum is a function, not a variable, so no caller can change the
// list another caller sees.
func duplicatesEnum() []string { return []string{"skip", "replace", "version", "error"} }

func duplicatesInput(what string) Input {
	return Input{
		Name:    "duplicates",
		Type:    cty.String,
		Default: cty.NullVal(cty.String),
		Enum:    duplicatesEnum(),
		Doc: "What to do when " + what + " already exists: skip it, replace it, keep both " +
			"by adding a version suffix, or fail the step (error). Unset means the collection's duplicates setting.",
	}
}

func filesOutput(doc string) Output {
	return Output{Name: "files", Type: cty.List(FileType()), Doc: doc}
}

// catalogue builds every standard step afresh, already in name order with
// inputs and outputs in name order (the tests hold it to that).
func catalogue() []*Step {
	return []*Step{
		{
			Name:    "checksum",
			Summary: "Compute each of the granule's files' checksum and verify it against the provider's, if known.",
			RunsOn:  "lambda",
			Memory:  lambdaMemory,
			Timeout: lambdaTimeout,
			Inputs: []Input{
				{
					Name:    "algorithm",
					Type:    cty.String,
					Default: cty.StringVal("md5"),
					Enum:    []string{"md5", "sha1", "sha256", "sha512", "cksum"},
					Doc:     "The checksum algorithm: md5, sha1, sha256, sha512, or cksum (the POSIX CRC that some providers publish).",
				},
				{
					Name:    "verify",
					Type:    cty.Bool,
					Default: cty.True,
					Doc:     "Whether to fail the step when a file has a known checksum (from a sidecar or the provider) that does not match; false only records the computed one.",
				},
			},
			Outputs: []Output{
				filesOutput("The granule's files, each with checksum and checksum_type set to the computed value."),
			},
		},
		{
			Name:    "cmr_metadata",
			Summary: "Generate the granule's UMM-G metadata record and optionally publish it to NASA's Common Metadata Repository (CMR).",
			RunsOn:  "lambda",
			Memory:  lambdaMemory,
			Timeout: lambdaTimeout,
			Inputs: []Input{
				{
					Name:    "cmr_environment",
					Type:    cty.String,
					Default: cty.StringVal("UAT"),
					Enum:    []string{"UAT", "SIT", "OPS"},
					Doc:     "The CMR environment to publish to: UAT for testing, SIT for integration, OPS for production.",
				},
				{
					Name:    "provider",
					Type:    cty.String,
					Default: cty.NullVal(cty.String),
					Doc:     "The CMR provider id to publish under, e.g. \"GHRC_DAAC\". Unset means the platform's configured provider.",
				},
				{
					Name:    "publish",
					Type:    cty.Bool,
					Default: cty.False,
					Doc:     "Whether to publish the record to CMR; false only generates it (the metadata output), which is useful until the collection exists in CMR.",
				},
			},
			Outputs: []Output{
				{Name: "concept_id", Type: cty.String, Doc: "The CMR concept id of the published granule (e.g. \"G1234-GHRC\"); empty when publish is false."},
				{Name: "metadata", Type: cty.String, Doc: "The UMM-G granule record, as JSON."},
			},
		},
		{
			Name:    "delete_staged",
			Summary: "Delete the granule's files from the staging bucket once they are archived.",
			RunsOn:  "lambda",
			Memory:  lambdaMemory,
			Timeout: lambdaTimeout,
			Inputs: []Input{
				{
					Name:    "keep_unarchived",
					Type:    cty.Bool,
					Default: cty.True,
					Doc:     "Whether to keep staged files that have no archived copy (a file whose bucket is staging, or a failed move), so that nothing is lost; false deletes every staged file of the granule.",
				},
			},
			Outputs: []Output{
				{Name: "deleted", Type: cty.List(cty.String), Doc: "The staging keys that were deleted."},
			},
		},
		{
			Name:    "move_granule",
			Summary: "Move the granule's files from staging to their archive buckets at their url_path.",
			RunsOn:  "lambda",
			Memory:  lambdaMemory,
			Timeout: lambdaTimeout,
			Inputs: []Input{
				duplicatesInput("a file with the same key in the archive bucket"),
			},
			Outputs: []Output{
				filesOutput("The granule's files at their archive locations."),
			},
		},
		publishCMRStep(),
		{
			Name:    "sync_granule",
			Summary: "Copy the granule's files from the provider into staging, verifying checksums from sidecar files.",
			// ECS rather than Lambda: a granule can be many gigabytes, and
			// copying it can outlast Lambda's 15-minute limit.
			RunsOn:  "ecs",
			Memory:  2048,
			Timeout: time.Hour,
			Inputs: []Input{
				{
					Name:    "checksum",
					Type:    cty.Bool,
					Default: cty.True,
					Doc:     "Whether to verify each file against its checksum sidecar (a file block with checksum_for) after copying; a mismatch fails the step.",
				},
				duplicatesInput("a file of the granule is already in staging"),
			},
			Outputs: []Output{
				filesOutput("The granule's files as staged, with size and any checksum read from a sidecar."),
			},
		},
	}
}

// Steps returns every standard step, sorted by name. The slice and the steps
// are fresh: callers may change them without affecting anyone else.
func Steps() []*Step {
	steps := catalogue()
	// catalogue is written in order; sorting again keeps the promise even if
	// someone adds a step in the wrong place.
	sort.Slice(steps, func(i, j int) bool { return steps[i].Name < steps[j].Name })
	return steps
}

// LookupStep returns the standard step with the given name (e.g. "sync_granule").
func LookupStep(name string) (*Step, bool) {
	for _, s := range catalogue() {
		if s.Name == name {
			return s, true
		}
	}
	return nil, false
}

// StepNames returns the names of the standard steps, sorted, for "did you mean"
// suggestions and documentation.
func StepNames() []string {
	steps := Steps()
	names := make([]string, len(steps))
	for i, s := range steps {
		names[i] = s.Name
	}
	return names
}

// Input returns the input with the given name.
func (s *Step) Input(name string) (*Input, bool) {
	for i := range s.Inputs {
		if s.Inputs[i].Name == name {
			return &s.Inputs[i], true
		}
	}
	return nil, false
}

// InputNames returns the step's input names, sorted.
func (s *Step) InputNames() []string {
	names := make([]string, len(s.Inputs))
	for i, in := range s.Inputs {
		names[i] = in.Name
	}
	sort.Strings(names)
	return names
}
