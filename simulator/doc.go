// Package simulator runs a compiled configuration on one machine: the
// stand-ins of DESIGN §4 for the AWS services a deployment uses. It reads
// the pipeline graph the compiler builds (compiler/graph), never the source
// a second time, so what is simulated is what is deployed.
//
// The pieces live in sub-packages, each owning one stand-in:
//
//	contract/   the step contract: what a step receives and returns
//	state/      the durable store in the simulation folder (granules, runs, files seen)
//	s3local/    the embedded S3 endpoint, persisting under the simulation folder
//	acquire/    the pollers: listing FTP, HTTP, S3 and local sources; grouping files into granules
//	executor/   how a step's task runs: in Docker, as a local process, or built in (stdlib)
package simulator
