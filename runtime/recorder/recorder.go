package recorder

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cumulus-toolchain/cumulus/runtime/engine"
	"github.com/cumulus-toolchain/cumulus/runtime/stepwrap"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// Sink stores recorded state. It is defined here, where it is used;
// dynamostore.Store implements it on AWS.
//
// UpdateRun reads the run with id (a zero Run with only ID set when there
// is none), calls fn on a copy and, if fn changed it, writes it back only
// if nobody wrote it meanwhile, else reads and calls fn again. fn must
// therefore depend on its argument alone. A Sink also keeps the counters:
// they move by the difference between the state it read and the state it
// wrote. UpdateGranule is the same for a granule.
type Sink interface {
	UpdateRun(ctx context.Context, id string, fn func(*Run)) (Run, error)
	UpdateGranule(ctx context.Context, id string, fn func(*Granule)) (Granule, error)
}

// ErrInvalid is wrapped by Handle's error when the event cannot be
// recorded as it is (malformed, or missing what identifies it): sending
// it again will not help, so a caller drops it rather than retrying.
var ErrInvalid = errors.New("invalid event")

// Recorder writes the engine's events to a Sink.
type Recorder struct {
	sink       Sink
	log        *slog.Logger
	pipelineOf func(stateMachineArn string) string
}

// Option configures a Recorder.
type Option func(*Recorder)

// StateMachinePrefix tells the recorder that state machines are named
// prefix + pipeline (the deployment's prefix and a dash, say), so that an
// execution event it sees before the trigger's record still names its
// pipeline. Without it the pipeline is the state machine's whole name.
func StateMachinePrefix(prefix string) Option {
	return func(r *Recorder) {
		r.pipelineOf = func(arn string) string { return strings.TrimPrefix(stateMachineName(arn), prefix) }
	}
}

// New returns a Recorder writing to sink; log may be nil.
func New(sink Sink, log *slog.Logger, opts ...Option) *Recorder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Recorder{sink: sink, log: log, pipelineOf: stateMachineName}
	for _, o := range opts {
		o(r)
	}
	return r
}

func stateMachineName(arn string) string {
	return arn[strings.LastIndexByte(arn, ':')+1:]
}

// GranuleQueued is the staging trigger's record that a granule was queued
// for a pipeline: the run exists from here on, before Step Functions says
// anything about it.
type GranuleQueued struct {
	// Kind is KindGranuleQueued.
	Kind string `json:"kind"`
	// Run is the run's id: the Step Functions execution's name.
	Run      string `json:"run"`
	Pipeline string `json:"pipeline"`
	// Granule is the granule document the run starts from.
	Granule contract.Granule `json:"granule"`
	// GranuleVersion counts the granule's versions (1 for the first).
	GranuleVersion int `json:"granule_version,omitempty"`
	// Source is the source that found the granule's files.
	Source string `json:"source,omitempty"`
	// Steps are the pipeline's step names in their order, so the run
	// lists the steps it has not reached yet.
	Steps []string  `json:"steps,omitempty"`
	Time  time.Time `json:"time"`
}

// StepReport is the step wrapper's report of one attempt of a step.
type StepReport struct {
	// Kind is KindStep.
	Kind string `json:"kind"`
	// Phase is "start", "heartbeat" or "end".
	Phase    string `json:"phase"`
	Run      string `json:"run"`
	Pipeline string `json:"pipeline"`
	Granule  string `json:"granule"`
	Step     string `json:"step"`
	Attempt  int    `json:"attempt"`
	// Time is when the phase happened.
	Time time.Time `json:"time"`
	// Log names the attempt's log (a CloudWatch Logs stream), on start.
	Log string `json:"log,omitempty"`
	// Usage is a resource sample (heartbeat; end carries Report.Usage).
	Usage *stepwrap.Sample `json:"usage,omitempty"`
	// Report is how the attempt ended (end only).
	Report *stepwrap.Report `json:"report,omitempty"`
}

// The kinds of the records cumulus sends itself; EventBridge events are
// told apart by their source and detail-type.
const (
	KindGranuleQueued = "granule_queued"
	KindStep          = "step"

	// Step report phases.
	PhaseStart     = "start"
	PhaseHeartbeat = "heartbeat"
	PhaseEnd       = "end"
)

// ExecutionStatusChange is the EventBridge event Step Functions sends when
// an execution changes status (detail-type "Step Functions Execution
// Status Change", source "aws.states"). Times in the detail are
// milliseconds since the epoch; input and output are JSON text.
type ExecutionStatusChange struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       time.Time       `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     ExecutionDetail `json:"detail"`
}

// ExecutionDetail is the event's detail.
type ExecutionDetail struct {
	ExecutionArn    string  `json:"executionArn"`
	StateMachineArn string  `json:"stateMachineArn"`
	Name            string  `json:"name"`
	Status          string  `json:"status"`
	StartDate       *int64  `json:"startDate"`
	StopDate        *int64  `json:"stopDate"`
	Input           *string `json:"input"`
	Output          *string `json:"output"`
	Error           *string `json:"error"`
	Cause           *string `json:"cause"`
}

// EventBridge's names for the event.
const (
	DetailTypeExecutionStatus = "Step Functions Execution Status Change"
	SourceStates              = "aws.states"
)

// executionInput is the part of the per-granule state machine's input the
// recorder reads (see package compiler/stepfunctions).
type executionInput struct {
	Granule *contract.Granule `json:"granule"`
}

// Handle records one event: an execution status change, a granule queued
// record or a step report, told apart by their fields. It is the Lambda
// function's entry point. An error wrapping ErrInvalid means the event can
// never be recorded; any other error is worth a retry, since every write
// is idempotent.
func (r *Recorder) Handle(ctx context.Context, raw json.RawMessage) error {
	var head struct {
		Kind       string `json:"kind"`
		Source     string `json:"source"`
		DetailType string `json:"detail-type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return fmt.Errorf("decoding an event: %w: %w", ErrInvalid, err)
	}
	switch {
	case head.Source == SourceStates && head.DetailType == DetailTypeExecutionStatus:
		var ev ExecutionStatusChange
		if err := strictDecode(raw, &ev); err != nil {
			return fmt.Errorf("decoding an execution status change: %w: %w", ErrInvalid, err)
		}
		return r.execution(ctx, ev)
	case head.Kind == KindGranuleQueued:
		var q GranuleQueued
		if err := strictDecode(raw, &q); err != nil {
			return fmt.Errorf("decoding a granule queued record: %w: %w", ErrInvalid, err)
		}
		return r.queued(ctx, q)
	case head.Kind == KindStep:
		var s StepReport
		if err := strictDecode(raw, &s); err != nil {
			return fmt.Errorf("decoding a step report: %w: %w", ErrInvalid, err)
		}
		return r.step(ctx, s)
	}
	return fmt.Errorf("%w: neither a Step Functions execution status change nor a cumulus record (source %q, detail-type %q, kind %q)",
		ErrInvalid, head.Source, head.DetailType, head.Kind)
}

// strictDecode decodes one JSON value; unknown fields are allowed (AWS
// adds fields to its events), trailing data is not.
func strictDecode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the event")
	}
	return nil
}

// Bounds of what the recorder takes, so that what it stores can always be
// written and read back (JSON times end at year 9999; DynamoDB keys at
// 2 KB).
var (
	minTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC)
)

const maxName = 1024

func checkTime(what string, t time.Time) error {
	if t.Before(minTime) || t.After(maxTime) {
		return fmt.Errorf("%w: %s %s is out of range", ErrInvalid, what, t.Format(time.RFC3339))
	}
	return nil
}

// checkNames refuses names that are not valid UTF-8 or too long to be
// keys; empty names are the callers' to refuse or allow.
func checkNames(names ...string) error {
	for _, n := range names {
		if !utf8.ValidString(n) || len(n) > maxName {
			return fmt.Errorf("%w: name %.40q is not valid UTF-8 of at most %d bytes", ErrInvalid, n, maxName)
		}
	}
	return nil
}

// checkUsage refuses a sample whose wall time would put the start out of
// range.
func checkUsage(t time.Time, u *stepwrap.Sample) error {
	if u == nil {
		return nil
	}
	if u.Wall < 0 {
		return fmt.Errorf("%w: negative wall time", ErrInvalid)
	}
	return checkTime("start", t.Add(-u.Wall))
}

// execution records a status change of a run.
func (r *Recorder) execution(ctx context.Context, ev ExecutionStatusChange) error {
	d := ev.Detail
	if d.Name == "" || d.StartDate == nil {
		return fmt.Errorf("%w: execution status change without a name or start date", ErrInvalid)
	}
	var status string
	switch d.Status {
	case "RUNNING":
		status = engine.RunRunning
	case "SUCCEEDED":
		status = engine.RunSucceeded
	case "FAILED", "TIMED_OUT":
		status = engine.RunFailed
	case "ABORTED":
		status = engine.RunCancelled
	case "PENDING_REDRIVE":
		// The run stays failed until it runs again; a redrive is not
		// recorded (see the package comment).
		r.log.InfoContext(ctx, "execution pending redrive, not recorded", "run", d.Name)
		return nil
	default:
		return fmt.Errorf("%w: execution status %q", ErrInvalid, d.Status)
	}
	start := time.UnixMilli(*d.StartDate).UTC()
	if err := checkTime("start date", start); err != nil {
		return err
	}
	var stop time.Time
	if status != engine.RunRunning {
		if d.StopDate == nil {
			return fmt.Errorf("%w: %s execution without a stop date", ErrInvalid, d.Status)
		}
		stop = time.UnixMilli(*d.StopDate).UTC()
		if err := checkTime("stop date", stop); err != nil {
			return err
		}
	}
	if err := checkNames(d.Name, d.StateMachineArn); err != nil {
		return err
	}
	var in executionInput
	if d.Input != nil && *d.Input != "" {
		if err := json.Unmarshal([]byte(*d.Input), &in); err != nil {
			return fmt.Errorf("%w: the execution's input: %w", ErrInvalid, err)
		}
	}
	var out executionInput
	if status == engine.RunSucceeded && d.Output != nil && *d.Output != "" {
		// Each state keeps its input as its output, so the output's
		// granule is the document as the steps left it; a malformed
		// output only loses that.
		if err := json.Unmarshal([]byte(*d.Output), &out); err != nil {
			r.log.WarnContext(ctx, "execution output is not JSON", "run", d.Name, "err", err)
		}
	}
	errText := ""
	if d.Error != nil {
		errText = *d.Error
		if d.Cause != nil && *d.Cause != "" {
			errText += ": " + *d.Cause
		}
	} else if d.Status == "TIMED_OUT" {
		errText = "execution timed out"
	}
	pipeline := r.pipelineOf(d.StateMachineArn)
	doc := document(in.Granule)
	if doc != nil {
		if err := checkNames(doc.ID, doc.Collection); err != nil {
			return err
		}
	}
	run, err := r.sink.UpdateRun(ctx, d.Name, func(run *Run) {
		run.setFact("pipeline", &run.Pipeline, pipeline, fromExecution)
		if doc != nil {
			run.setFact("granule", &run.GranuleID, doc.ID, fromExecution)
			run.setFact("collection", &run.Collection, doc.Collection, fromExecution)
			if run.Input == nil {
				run.Input = doc
			}
		}
		// Created is when the trigger queued the run; until its record
		// comes, the start stands for it.
		run.Created = earliest(run.Created, start)
		run.Started = earliest(run.Started, start)
		at := start
		if !stop.IsZero() {
			at = stop
		}
		if Supersedes(run.Status, run.statusTime(), status, at) {
			run.Status = status
			if !stop.IsZero() {
				run.Ended, run.Error = stop, errText
			}
		}
		run.normalize()
	})
	if err != nil {
		return fmt.Errorf("recording run %s: %w", d.Name, err)
	}
	outDoc := document(out.Granule)
	return r.granule(ctx, run, "", func(g *Granule) {
		g.setDocument(doc, run.ID, false)
		g.setDocument(outDoc, run.ID, true)
	})
}

// queued records the trigger's record of a queued run.
func (r *Recorder) queued(ctx context.Context, q GranuleQueued) error {
	if q.Run == "" || q.Granule.ID == "" || q.Pipeline == "" || q.Time.IsZero() {
		return fmt.Errorf("%w: granule queued record without a run, granule id, pipeline or time", ErrInvalid)
	}
	if err := checkTime("time", q.Time); err != nil {
		return err
	}
	if err := checkNames(q.Run, q.Granule.ID, q.Granule.Collection, q.Pipeline, q.Source); err != nil {
		return err
	}
	doc := document(&q.Granule)
	run, err := r.sink.UpdateRun(ctx, q.Run, func(run *Run) {
		run.setFact("pipeline", &run.Pipeline, q.Pipeline, fromTrigger)
		run.setFact("granule", &run.GranuleID, doc.ID, fromTrigger)
		run.setFact("collection", &run.Collection, doc.Collection, fromTrigger)
		run.GranuleVersion = max(run.GranuleVersion, q.GranuleVersion, 1)
		// The trigger's document is the run's input, whatever the
		// execution event said.
		run.Input = doc
		if len(run.StepNames) == 0 {
			run.StepNames = q.Steps
		}
		// The queue time is the run's creation; an execution event seen
		// first set it to the start, which is later.
		run.Created = earliest(run.Created, q.Time)
		if Supersedes(run.Status, run.statusTime(), engine.RunQueued, q.Time) {
			run.Status = engine.RunQueued
		}
		run.normalize()
	})
	if err != nil {
		return fmt.Errorf("recording run %s: %w", q.Run, err)
	}
	return r.granule(ctx, run, q.Source, func(g *Granule) {
		g.setDocument(doc, run.ID, false)
	})
}

// granule merges a run's state into its granule's, with what more the
// event brought (its document, the source of its files).
func (r *Recorder) granule(ctx context.Context, run Run, source string, more func(*Granule)) error {
	if run.GranuleID == "" {
		// An execution whose input named no granule (started by hand):
		// the run is recorded, there is no granule to update.
		return nil
	}
	ref := run.Ref()
	_, err := r.sink.UpdateGranule(ctx, run.GranuleID, func(g *Granule) {
		g.addRun(ref)
		more(g)
		if source != "" && run.Input != nil {
			for _, f := range run.Input.Files {
				if g.Seen == nil {
					g.Seen = map[string]string{}
				}
				if _, ok := g.Seen[f.Name]; !ok {
					g.Seen[f.Name] = source
				}
			}
		}
	})
	if err != nil {
		return fmt.Errorf("recording granule %s: %w", run.GranuleID, err)
	}
	return nil
}

// step records a step wrapper's report.
func (r *Recorder) step(ctx context.Context, s StepReport) error {
	if s.Run == "" || s.Step == "" || s.Attempt < 1 || s.Time.IsZero() {
		return fmt.Errorf("%w: step report without a run, step, attempt or time", ErrInvalid)
	}
	if err := checkTime("time", s.Time); err != nil {
		return err
	}
	if err := checkNames(s.Run, s.Step, s.Pipeline, s.Granule); err != nil {
		return err
	}
	if err := checkUsage(s.Time, s.Usage); err != nil {
		return err
	}
	switch s.Phase {
	case PhaseStart, PhaseHeartbeat:
	case PhaseEnd:
		if s.Report == nil {
			return fmt.Errorf("%w: step end report without its report", ErrInvalid)
		}
		if err := checkUsage(s.Time, &s.Report.Usage); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: step report phase %q", ErrInvalid, s.Phase)
	}
	t := s.Time.UTC()
	_, err := r.sink.UpdateRun(ctx, s.Run, func(run *Run) {
		run.setFact("pipeline", &run.Pipeline, s.Pipeline, fromStep)
		run.setFact("granule", &run.GranuleID, s.Granule, fromStep)
		st := run.step(s.Step)
		a := st.attempt(s.Attempt)
		switch s.Phase {
		case PhaseStart:
			a.StartReported = earliest(a.StartReported, t)
			setOnce(&a.Log, s.Log)
			if a.Status == "" {
				a.Status = engine.RunRunning
			}
		case PhaseHeartbeat:
			if a.Status == "" {
				a.Status = engine.RunRunning
			}
			if s.Usage != nil {
				a.StartEstimated = earliest(a.StartEstimated, t.Add(-s.Usage.Wall))
				if a.Ended.IsZero() && (a.Usage == nil || s.Usage.Wall > a.Usage.Wall) {
					u := *s.Usage
					a.Usage = &u
				}
			}
		case PhaseEnd:
			rep := s.Report
			status := engine.RunFailed
			if rep.Outcome == stepwrap.Succeeded {
				status = engine.RunSucceeded
			}
			// Of two different ends of one attempt (there should be
			// one), the later stands, as for runs.
			if a.Ended.IsZero() || Supersedes(a.Status, a.Ended, status, t) {
				a.Status, a.Ended, a.Error = status, t, ""
				a.ExitCode = nil
				if rep.ExitCode >= 0 {
					code := rep.ExitCode
					a.ExitCode = &code
				}
				if status == engine.RunFailed {
					a.Error = rep.Reason
				}
				u := rep.Usage
				a.Usage = &u
				a.Outputs = nil
				if rep.Result != nil && len(rep.Result.Outputs) > 0 {
					a.Outputs = rep.Result.Outputs
				}
			}
			if rep.Usage.Wall > 0 {
				a.StartEstimated = earliest(a.StartEstimated, t.Add(-rep.Usage.Wall))
			}
		}
		run.normalize()
	})
	if err != nil {
		return fmt.Errorf("recording step %s of run %s: %w", s.Step, s.Run, err)
	}
	return nil
}

// document is the API's form of a granule document.
func document(d *contract.Granule) *engine.Document {
	if d == nil || d.ID == "" {
		return nil
	}
	out := &engine.Document{ID: d.ID, Collection: d.Collection, CollectionVersion: d.Version, Date: d.Date,
		Files: make([]engine.File, len(d.Files))}
	for i, f := range d.Files {
		out.Files[i] = engine.File{Name: f.Name, Type: f.Type, Bucket: f.Bucket, Key: f.Key, Size: f.Size,
			Checksum: f.Checksum, ChecksumType: f.ChecksumType, Location: "s3://" + f.Bucket + "/" + f.Key,
			Source: f.Source}
	}
	return out
}
