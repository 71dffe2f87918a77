package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/runtime/stepinput"
	"github.com/cumulus-toolchain/cumulus/runtime/stepwrap"
	"github.com/cumulus-toolchain/cumulus/simulator/builtin"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// ErrorFatal is the error type a step reports to Step Functions when
// trying again cannot help (a checksum that does not match, an input
// the step refuses): the state machines' Retry rules do not retry it.
const ErrorFatal = "cumulus.Fatal"

// Invocation is what a state machine gives a standard step's function
// (compiler/stepfunctions: the Lambda step's payload). Only the members
// the platform needs are read: the rest (env, with, when) is there for
// users' own functions, and the platform evaluates them from the graph.
type Invocation struct {
	Granule  contract.Granule `json:"granule"`
	Pipeline string           `json:"pipeline"`
	Step     string           `json:"step"`
	// Run is the execution's name; Retry how many times the state retried.
	Run   string `json:"run"`
	Retry int    `json:"retry"`
}

// StepOutcome is what a standard step's function returns. The state
// machine discards it (ResultPath null); it is for people reading the
// execution's history.
type StepOutcome struct {
	Skipped bool            `json:"skipped,omitempty"`
	Result  contract.Result `json:"result"`
	// ResultKey is where the result was kept for the steps after.
	ResultKey string `json:"result_key,omitempty"`
}

// Steps runs standard steps on AWS.
type Steps struct {
	Graphs *GraphSource
	S3     builtin.S3
	// Only, when set, is the one standard step this function may run
	// (CUMULUS_STEP): a function given another step's payload refuses it.
	Only   string
	Logger *slog.Logger
	Getenv func(string) string
	Clock  builtin.Clock
	// Reports tells the engine's recorder of each attempt (nil: no
	// engine).
	Reports *Reports
	// APIs finds the distribution's URL for metadata records (nil: the
	// records link s3:// unless CUMULUS_DISTRIBUTION_URL is set).
	APIs APIs
	dist distributionURL
}

// Handle is the Lambda entry point of a standard step.
func (s *Steps) Handle(ctx context.Context, raw json.RawMessage) (StepOutcome, error) {
	var inv Invocation
	if err := json.Unmarshal(raw, &inv); err != nil {
		return StepOutcome{}, fatal(fmt.Errorf("the payload is not a step invocation: %w", err))
	}
	return s.Run(ctx, inv)
}

// Run runs one attempt of a standard step for a run and keeps its result.
func (s *Steps) Run(ctx context.Context, inv Invocation) (StepOutcome, error) {
	g, err := s.Graphs.Graph(ctx)
	if err != nil {
		return StepOutcome{}, err
	}
	p, st, err := Find(g, inv.Pipeline, inv.Step)
	if err != nil {
		return StepOutcome{}, fatal(err)
	}
	if inv.Run == "" {
		return StepOutcome{}, fatal(errors.New("the payload names no run (\"run\": the execution's name)"))
	}
	switch {
	case st.Uses == "":
		return StepOutcome{}, fatal(fmt.Errorf("step %s of pipeline %s runs task %s, not a standard step", st.Name, p.Name, st.TaskName))
	case s.Only != "" && st.Uses != s.Only:
		return StepOutcome{}, fatal(fmt.Errorf("this function runs stdlib.%s, but step %s of pipeline %s uses stdlib.%s", s.Only, st.Name, p.Name, st.Uses))
	}
	fn, ok := builtin.Steps()[st.Uses]
	if !ok {
		return StepOutcome{}, fatal(fmt.Errorf("stdlib.%s is not implemented by this cumulus", st.Uses))
	}
	rs := RunState{S3: s.S3, Bucket: g.ArtifactBucket}
	in, err := rs.Input(ctx, g, p, inv.Run, st, inv.Granule)
	if err != nil {
		return StepOutcome{}, err
	}
	ok, err = stepinput.When(g, st, in)
	if err != nil {
		return StepOutcome{}, fatal(fmt.Errorf("step %s: deciding whether to run: %w", st.Name, err))
	}
	if !ok {
		return StepOutcome{Skipped: true, Result: contract.Result{Granule: in}}, nil
	}
	env, with, err := stepinput.Bindings(g, st, in)
	if err != nil {
		return StepOutcome{}, fatal(fmt.Errorf("step %s: %w", st.Name, err))
	}
	log := s.logger().With("pipeline", p.Name, "step", st.Name, "granule", in.ID, "run", inv.Run, "attempt", inv.Retry+1)
	benv := builtin.Env{S3: s.S3, Graph: g, Clock: s.Clock, Logger: log, StagingBucket: g.ArtifactBucket, Getenv: s.Getenv}
	if u, err := s.dist.get(ctx, s.APIs, s.Getenv); err != nil {
		log.Warn("metadata links files by s3:// URLs", "err", err)
	} else {
		benv.DistributionURL = u
	}
	attempt := inv.Retry + 1
	s.Reports.StepStarted(ctx, inv.Run, p.Name, in.ID, st.Name, attempt, s.logStream())
	res, err := fn(ctx, benv, contract.Input{Pipeline: p.Name, Step: st.Name, Attempt: attempt, Granule: in, Env: env, With: with})
	if err == nil {
		err = rs.PutResult(ctx, p.Name, inv.Run, st.Name, res)
	}
	if err != nil {
		log.Error("step failed", "err", err)
		outcome := stepwrap.Retryable
		if builtin.IsFatal(err) {
			outcome, err = stepwrap.Fatal, fatal(err)
		}
		s.Reports.StepEnded(ctx, inv.Run, p.Name, in.ID, st.Name, attempt, stepwrap.Report{Outcome: outcome, Reason: Message(err), ExitCode: -1})
		return StepOutcome{}, err
	}
	s.Reports.StepEnded(ctx, inv.Run, p.Name, in.ID, st.Name, attempt, stepwrap.Report{Outcome: stepwrap.Succeeded, Result: &res})
	log.Info("step succeeded", "files", len(res.Granule.Files))
	return StepOutcome{Result: res, ResultKey: ResultKey(p.Name, inv.Run, st.Name)}, nil
}

// logStream is where this function's log is, as the engine's log source
// reads it (GROUP:STREAM), "" outside Lambda.
func (s *Steps) logStream() string {
	if s.Getenv == nil || s.Getenv("AWS_LAMBDA_LOG_GROUP_NAME") == "" {
		return ""
	}
	return s.Getenv("AWS_LAMBDA_LOG_GROUP_NAME") + ":" + s.Getenv("AWS_LAMBDA_LOG_STREAM_NAME")
}

func (s *Steps) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// Find returns a pipeline of the graph and one of its steps.
func Find(g *graph.Graph, pipeline, step string) (*graph.Pipeline, *graph.Step, error) {
	p := g.Pipeline(pipeline)
	if p == nil {
		return nil, nil, fmt.Errorf("the deployed configuration has no pipeline %q", pipeline)
	}
	st := stepOf(p, step)
	if st == nil {
		return nil, nil, fmt.Errorf("pipeline %s has no step %q in the deployed configuration", pipeline, step)
	}
	return p, st, nil
}

// fatal marks an error as one Step Functions must not retry: Lambda
// reports it with the type ErrorFatal.
func fatal(err error) error { return fatalType(ErrorFatal, err) }

// fatalType reports err to Lambda with the error type typ.
func fatalType(typ string, err error) error {
	return messages.InvokeResponse_Error{Type: typ, Message: err.Error()}
}

// IsFatal says whether err is a failure no retry can fix.
func IsFatal(err error) bool {
	var ive messages.InvokeResponse_Error
	return errors.As(err, &ive) && ive.Type == ErrorFatal
}

// Message is an error's text for people: a fatal error's message without
// the Lambda wrapping.
func Message(err error) string {
	var ive messages.InvokeResponse_Error
	if errors.As(err, &ive) {
		return ive.Message
	}
	return err.Error()
}
