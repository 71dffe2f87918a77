package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/cumulus-toolchain/cumulus/runtime/platform"
	"github.com/cumulus-toolchain/cumulus/runtime/stepwrap"
	"github.com/cumulus-toolchain/cumulus/simulator/builtin"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/simulator/s3local"
)

// lambdaRuntime says whether the process is a Lambda function's bootstrap:
// the runtime API is set and nothing was asked on the command line.
func lambdaRuntime(e *env, args []string) bool {
	return len(args) == 0 && envLookup(e.environ)("AWS_LAMBDA_RUNTIME_API") != ""
}

// runLambda serves the platform function the environment names until the
// Lambda service stops the instance.
func runLambda(e *env) int {
	getenv := envLookup(e.environ)
	log := slog.New(slog.NewJSONHandler(e.stderr, nil))
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Error("AWS configuration", "err", err)
		return exitFailed
	}
	h, err := platform.Handler(ctx, platform.NewClients(cfg), getenv, log)
	if err != nil {
		// Lambda reports an init failure for each invocation: the message
		// says which setting is wrong.
		log.Error("cannot start the function", "err", err)
		return exitFailed
	}
	lambda.StartWithOptions(h, lambda.WithContext(ctx))
	return exitOK
}

// runPlatformStep runs a standard step in the platform image on ECS
// (`cumulus step sync_granule`): the state machine gives the run's granule,
// pipeline, step, run and attempt as environment overrides.
func runPlatformStep(e *env, uses string, args []string) int {
	fs := newFlagSet(e, "step", stepUsage)
	endpoint := fs.String("s3-endpoint", envLookup(e.environ)(stepwrap.EnvS3Endpoint), "S3 endpoint")
	if pos, code, stop := fs.parse(args); stop {
		return code
	} else if len(pos) > 0 {
		fmt.Fprintf(e.stderr, "cumulus step %s: unexpected %q\n", uses, pos[0])
		return exitUsage
	}
	getenv := envLookup(e.environ)
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	log := slog.New(slog.NewJSONHandler(e.stdout, nil))
	inv := platform.Invocation{Pipeline: getenv(contract.EnvPipeline), Step: getenv(contract.EnvStep), Run: getenv(platform.EnvRun)}
	if err := json.Unmarshal([]byte(getenv(contract.EnvGranule)), &inv.Granule); err != nil {
		fmt.Fprintf(e.stderr, "cumulus step %s: %s is not a granule document: %v\n", uses, contract.EnvGranule, err)
		return stepwrap.ExitFatal
	}
	if a, err := strconv.Atoi(getenv(platform.EnvAttempt)); err == nil && a > 0 {
		inv.Retry = a - 1
	}
	client, err := s3local.Client(ctx, *endpoint)
	if err != nil {
		fmt.Fprintf(e.stderr, "cumulus step %s: %v\n", uses, err)
		return stepwrap.ExitRetryable
	}
	graphs, err := platform.NewGraphSource(client, getenv(platform.EnvGraph))
	if err != nil {
		fmt.Fprintf(e.stderr, "cumulus step %s: %v\n", uses, err)
		return stepwrap.ExitFatal
	}
	steps := &platform.Steps{Graphs: graphs, S3: client, Only: uses, Logger: log, Getenv: getenv}
	out, err := steps.Run(ctx, inv)
	switch {
	case err != nil && platform.IsFatal(err):
		fmt.Fprintf(e.stderr, "cumulus step %s: %s\n", uses, platform.Message(err))
		return stepwrap.ExitFatal
	case err != nil:
		fmt.Fprintf(e.stderr, "cumulus step %s: %v\n", uses, err)
		return stepwrap.ExitRetryable
	case out.Skipped:
		fmt.Fprintf(e.stderr, "cumulus step %s: skipped: the step's when is false for granule %s\n", uses, inv.Granule.ID)
	}
	return exitOK
}

// stdlibStep says whether name is a standard step's.
func stdlibStep(name string) bool {
	_, ok := builtin.Steps()[name]
	return ok
}
