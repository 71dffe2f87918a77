package platform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/stdlib"
)

// Manifest is what a poller writes once every file of a granule is
// staged: the granule document and the pipeline it is for.
type Manifest struct {
	Granule  contract.Granule `json:"granule"`
	Pipeline string           `json:"pipeline"`
	Source   string           `json:"source"`
	Staged   time.Time        `json:"staged"`
	// Files records what each staged file was at its provider (by URL),
	// so the next poll knows a file it has already staged.
	Files []SeenFile `json:"files"`
}

// SeenFile is a provider's file as it was when staged.
type SeenFile struct {
	URL     string    `json:"url"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time,omitzero"`
}

// ManifestKey is where a source's poller writes a granule's manifest.
func ManifestKey(collection, granule, source string) string {
	return path.Join(collection, granule, source) + ManifestSuffix
}

// ExecutionInput is the per-granule state machine's input
// (compiler/stepfunctions).
type ExecutionInput struct {
	Granule    contract.Granule  `json:"granule"`
	Attributes map[string]string `json:"attributes"`
	StagedKeys []string          `json:"staged_keys"`
}

// NewExecutionInput derives the attributes and staged keys from a granule
// document.
func NewExecutionInput(g contract.Granule) ExecutionInput {
	in := ExecutionInput{Granule: g, Attributes: map[string]string{}, StagedKeys: []string{}}
	sg := stdlib.Granule{ID: g.ID, Collection: g.Collection, Version: g.Version}
	sg.Time, _ = stdlib.GranuleDate(g.ID)
	v := sg.Value()
	for _, a := range []string{"id", "collection", "version", "year", "month", "day", "doy", "date"} {
		in.Attributes[a] = v.GetAttr(a).AsString()
	}
	for _, f := range g.Files {
		in.StagedKeys = append(in.StagedKeys, f.Key)
	}
	return in
}

// Executions is what the trigger needs of Step Functions.
type Executions interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
}

// Trigger starts a run for each granule manifest written to the staging
// bucket.
type Trigger struct {
	Graphs *GraphSource
	S3     Objects
	SFN    Executions
	// DP runs granules when the deployment's orchestrator is
	// "datapipeline".
	DP DataPipelines
	// Reports tells the engine's recorder of each run started (nil: no
	// engine).
	Reports *Reports
	Logger  *slog.Logger
}

// Started is one run the trigger started (or found started).
type Started struct {
	Pipeline  string `json:"pipeline"`
	Granule   string `json:"granule"`
	Execution string `json:"execution"`
	// Already is true when an earlier event had started it.
	Already bool `json:"already,omitempty"`
}

// Handle is the Lambda entry point: every manifest of the event starts a
// run. It fails (so Lambda retries the event) when any could not be
// started; those started are not started twice.
func (t *Trigger) Handle(ctx context.Context, ev events.S3Event) ([]Started, error) {
	var out []Started
	var errs []error
	for _, rec := range ev.Records {
		key, err := url.QueryUnescape(rec.S3.Object.Key)
		if err != nil {
			errs = append(errs, fmt.Errorf("object key %q: %w", rec.S3.Object.Key, err))
			continue
		}
		if !strings.HasSuffix(key, ManifestSuffix) || !strings.HasPrefix(rec.EventName, "ObjectCreated:") {
			continue
		}
		s, err := t.start(ctx, rec.S3.Bucket.Name, key)
		if err != nil {
			errs = append(errs, fmt.Errorf("s3://%s/%s: %w", rec.S3.Bucket.Name, key, err))
			continue
		}
		out = append(out, s)
	}
	if len(errs) > 0 {
		// Lambda reports the type, so the function's error metrics and
		// logs say what failed rather than a Go type name.
		return out, messages.InvokeResponse_Error{Type: ErrorTrigger, Message: errors.Join(errs...).Error()}
	}
	return out, nil
}

// ErrorTrigger is the error type of a trigger invocation that could not
// start every run it was given; Lambda retries the event.
const ErrorTrigger = "cumulus.TriggerFailed"

func (t *Trigger) start(ctx context.Context, bucket, key string) (Started, error) {
	g, err := t.Graphs.Graph(ctx)
	if err != nil {
		return Started{}, err
	}
	obj, err := t.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return Started{}, fmt.Errorf("reading the manifest: %w", err)
	}
	data, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	if err != nil {
		return Started{}, fmt.Errorf("reading the manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return Started{}, fmt.Errorf("not a granule manifest: %w", err)
	}
	if m.Granule.ID == "" || m.Pipeline == "" {
		return Started{}, errors.New("the manifest names no granule or no pipeline")
	}
	p := g.Pipeline(m.Pipeline)
	if p == nil {
		return Started{}, fmt.Errorf("the deployed configuration has no pipeline %q", m.Pipeline)
	}
	name := ExecutionName(m.Granule.ID, data)
	if g.Orchestrator == "datapipeline" {
		s, err := t.startDataPipeline(ctx, g, p, NewExecutionInput(m.Granule), name)
		if err == nil {
			t.logger().Info("run started", "pipeline", p.Name, "granule", m.Granule.ID, "datapipeline", s.Execution, "already", s.Already)
			t.Reports.Queued(ctx, s.Execution, p.Name, m.Source, m.Granule, stepNames(p))
		}
		return s, err
	}
	input, err := json.Marshal(NewExecutionInput(m.Granule))
	if err != nil {
		return Started{}, fmt.Errorf("encoding the execution input: %w", err)
	}
	arn := g.StateMachineARN(p.ResourceName)
	s := Started{Pipeline: p.Name, Granule: m.Granule.ID, Execution: name}
	_, err = t.SFN.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Name: aws.String(name), Input: aws.String(string(input))})
	var exists *sfntypes.ExecutionAlreadyExists
	switch {
	case errors.As(err, &exists):
		// The same manifest again (S3 delivers events at least once):
		// its run was started by the first.
		s.Already = true
	case err != nil:
		return Started{}, fmt.Errorf("starting %s for granule %s: %w", arn, m.Granule.ID, err)
	}
	t.logger().Info("run started", "pipeline", p.Name, "granule", m.Granule.ID, "execution", name, "already", s.Already)
	t.Reports.Queued(ctx, name, p.Name, m.Source, m.Granule, stepNames(p))
	return s, nil
}

func stepNames(p *graph.Pipeline) []string {
	out := make([]string, 0, len(p.Steps))
	for _, st := range p.Steps {
		out = append(out, st.Name)
	}
	return out
}

func (t *Trigger) logger() *slog.Logger {
	if t.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return t.Logger
}

var notExecName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// ExecutionName names a granule's run: its id (Step Functions allows
// letters, digits, - and _ in at most 80 characters) and a digest of the
// manifest, so the same manifest names the same execution and a granule
// staged again with other files names a new one.
func ExecutionName(granule string, manifest []byte) string {
	sum := sha256.Sum256(manifest)
	id := notExecName.ReplaceAllString(granule, "_")
	if len(id) > 63 {
		id = id[:63]
	}
	return id + "-" + hex.EncodeToString(sum[:8])
}
