// Package platform owns what the cumulus binary does on AWS as the
// platform's own code: the Lambda functions the compiler declares (the
// S3-event trigger that starts one run per staged granule, the standard
// steps, a distribution's handler) and the work behind `cumulus step NAME`
// and `cumulus poll` in the platform image on ECS.
//
// Everything here reads the compiled graph that deploy uploads next to the
// staged granules (CUMULUS_GRAPH, s3://BUCKET/cumulus/graph.json), so the
// functions decide what a step receives exactly as the simulator does
// (package stepinput) rather than from a second description of the
// pipelines.
//
// # Runs on AWS
//
// A source's poller stages a granule's files under STAGING/COLLECTION/
// GRANULE/ (the layout the IAM policies allow) and then writes the
// granule's manifest, STAGING/COLLECTION/GRANULE/SOURCE.cumulus.json
// (Manifest). The bucket notifies the trigger of objects with that suffix
// only, so a run starts once every file of the granule is there. The
// trigger starts an execution of the pipeline's state machine named after
// the granule and the manifest's content: a repeated S3 event starts
// nothing new, a granule staged again with other content is a new run.
//
// Step Functions passes every step the run's input unchanged (the state
// machines keep ResultPath null), so a step's own result is kept in S3,
// at STAGING/cumulus/runs/PIPELINE/RUN/STEP.json, and the next step reads
// the results of the steps it waits for and merges them as the simulator
// does. A step that finds its condition false writes nothing: the steps
// after it read through it to its own input.
package platform

import (
	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/runtime/platform/layout"
)

// Environment variables the compiler gives the platform's functions and
// tasks.
const (
	// EnvFunction selects a Lambda function's role: "trigger",
	// "distribution"; unset for a standard step (EnvStep names it).
	EnvFunction = "CUMULUS_FUNCTION"
	// EnvGraph is where the compiled graph is: s3://BUCKET/KEY.
	EnvGraph = graph.GraphEnv
	// EnvStep is the standard step a platform task or function runs.
	EnvStep = "CUMULUS_STEP"
	// EnvDistribution is the distribution a distribution function serves.
	EnvDistribution = "CUMULUS_DISTRIBUTION"
	// EnvRun is the run's id (the Step Functions execution's name) given
	// to a container step.
	EnvRun = "CUMULUS_RUN"
	// EnvAttempt is the attempt's number, 1 for the first.
	EnvAttempt = "CUMULUS_ATTEMPT"
)

// Where things are in the private bucket (package layout).
const (
	GraphKey       = layout.GraphKey
	ConfigKey      = layout.ConfigKey
	ManifestSuffix = layout.ManifestSuffix
)
