package platform

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/runtime/recorder"
	"github.com/cumulus-toolchain/cumulus/runtime/stepwrap"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// EnvRecorder names the engine's recorder function, to which the trigger
// and the steps send what they did (compile sets it when the deployment
// has the engine).
const EnvRecorder = graph.RecorderEnv

// Invoker is what reporting needs of Lambda.
type Invoker interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Reports sends records to the recorder function, asynchronously (Lambda
// queues them and retries; the recorder's writes are idempotent and
// ordered, so a late or repeated one changes nothing it should not).
// Reporting never fails the work it reports: Step Functions' own status
// events reach the recorder anyway, so a lost report costs detail, not
// state.
type Reports struct {
	Lambda   Invoker
	Function string
	Logger   *slog.Logger
}

// send reports v; a nil or unconfigured Reports does nothing.
func (r *Reports) send(ctx context.Context, v any) {
	if r == nil || r.Lambda == nil || r.Function == "" {
		return
	}
	payload, err := json.Marshal(v)
	if err == nil {
		_, err = r.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(r.Function),
			InvocationType: lambdatypes.InvocationTypeEvent, Payload: payload})
	}
	if err != nil && r.Logger != nil {
		r.Logger.Warn("could not report to the engine's recorder", "function", r.Function, "err", err)
	}
}

// Queued reports a run started for a granule.
func (r *Reports) Queued(ctx context.Context, run, pipeline, source string, g contract.Granule, steps []string) {
	r.send(ctx, recorder.GranuleQueued{Kind: recorder.KindGranuleQueued, Run: run, Pipeline: pipeline, Granule: g,
		Source: source, Steps: steps, Time: time.Now().UTC()})
}

// StepStarted reports an attempt of a step starting; log names its log
// stream when known.
func (r *Reports) StepStarted(ctx context.Context, run, pipeline, granule, step string, attempt int, log string) {
	r.send(ctx, recorder.StepReport{Kind: recorder.KindStep, Phase: recorder.PhaseStart, Run: run, Pipeline: pipeline,
		Granule: granule, Step: step, Attempt: attempt, Time: time.Now().UTC(), Log: log})
}

// StepEnded reports how an attempt ended.
func (r *Reports) StepEnded(ctx context.Context, run, pipeline, granule, step string, attempt int, rep stepwrap.Report) {
	r.send(ctx, recorder.StepReport{Kind: recorder.KindStep, Phase: recorder.PhaseEnd, Run: run, Pipeline: pipeline,
		Granule: granule, Step: step, Attempt: attempt, Time: time.Now().UTC(), Report: &rep})
}
