// Package engine owns the workflow engine's read-only API and the dashboard
// served beside it (DESIGN §4: "workflow engine API + dashboard"). One
// http.Handler, made by New, answers /api/* with JSON and / with the
// dashboard's static page (embedded, no build step, no external assets), the
// same handler in `cumulus simulate`, in `cumulus serve` and, later, behind
// API Gateway.
//
// The API is passive, as the seed asks: it observes and reports, it never
// drives a pipeline. It accepts only GET and HEAD, reads the engine's state
// through the Store interface (the simulator's bbolt store now, through
// StateStore; DynamoDB on AWS later) and step logs through LogSource (the
// simulation folder's files now, CloudWatch Logs later), and takes the
// pipelines' shape from the compiled graph (compiler/graph), the one
// structure every target reads.
//
// Listings are paged with opaque cursor tokens that bind the filters they
// were issued for, in a stable order (granules by id, runs by creation);
// every answer carries a strong ETag, so a client polling an unchanged view
// gets 304 Not Modified.
package engine
