// Package enginetest is the engine API's contract suite: one set of
// fixtures (a real simulation's state, exported) and one set of expected
// answers, run through the real engine.Server handler against every Store
// implementation — the simulator's bbolt store in package engine's tests,
// the DynamoDB store in package dynamostore's. A store passes when it
// answers exactly as the reference does.
package enginetest
