package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/cumulus-toolchain/cumulus/runtime/platform"
	"github.com/cumulus-toolchain/cumulus/runtime/stepwrap"
	"github.com/cumulus-toolchain/cumulus/simulator/executor"
	"github.com/cumulus-toolchain/cumulus/simulator/s3local"
)

const stepUsage = `Usage: cumulus step [OPTIONS] -- COMMAND [ARGS...]
       cumulus step STANDARD_STEP [-s3-endpoint URL]

Runs COMMAND as a pipeline step, the way a task's container does when its
ENTRYPOINT is ["cumulus", "step", "--"] (see 'cumulus task init'). It reads
the step's input as the step contract defines it (CUMULUS_GRANULE and the
folders), makes every input file present and checks its checksum (fetching
it from S3 when it is not there and the wrapper runs on AWS or has an S3
endpoint), runs COMMAND with the contract's environment, logs its output as
JSON lines tagged with pipeline, step, granule and attempt, samples its CPU
and memory (the container's cgroup, else /proc), sends heartbeats, uploads
the files it leaves in CUMULUS_OUTPUT_DIR with their checksums, and writes
the step's result to CUMULUS_RESULT.

On AWS (CUMULUS_RUN and CUMULUS_GRAPH set, as the state machines and the
task definitions do), the step's granule is the results of the steps
before it in the run, read from the private bucket, its env and with are
evaluated for that granule, a step whose when is false is skipped, and
the result is kept there for the steps after it.

'cumulus step STANDARD_STEP' runs one of cumulus's standard steps
(sync_granule, move_granule, ...) the same way: the platform image's
command for a standard step that runs on ECS.

Options (each also read from the environment variable named):
  -transient CODES  COMMAND's exit codes worth retrying, e.g. 75,111
                    (CUMULUS_TRANSIENT_EXIT_CODES).
  -timeout D        Stop COMMAND after D, e.g. 30m (CUMULUS_TIMEOUT).
  -heartbeat D      Time between heartbeats (CUMULUS_HEARTBEAT_INTERVAL;
                    default 60s). Heartbeats go to Step Functions when
                    CUMULUS_TASK_TOKEN is set, else to CUMULUS_HEARTBEAT_URL.
  -sample D         Time between resource samples in the log (default 10s).
  -work DIR         Where in/, out/ and result.json go when the environment
                    names no folders (default: a new temporary folder).
  -s3-endpoint URL  An S3 endpoint other than AWS's (CUMULUS_S3_ENDPOINT).
  -fetch MODE       auto, always or never: fetch inputs from and upload
                    outputs to S3 (CUMULUS_FETCH=1 or 0). auto does it on
                    AWS (ECS) or with an S3 endpoint.

Exit status: 0 the step succeeded; 75 it failed and is worth retrying (an
exit code listed as transient, killed for memory, timed out, a storage
error); 1 it failed for good (another exit code, an input that fails its
checksum, a malformed result); 2 usage error.
`

func runStep(e *env, args []string) int {
	i := slices.Index(args, "--")
	if i < 0 && len(args) > 0 && stdlibStep(args[0]) {
		return runPlatformStep(e, args[0], args[1:])
	}
	if i < 0 {
		if slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "-help" || a == "--help" }) {
			fmt.Fprint(e.stdout, stepUsage)
			return exitOK
		}
		fmt.Fprint(e.stderr, "cumulus step: give the program to run after --, as in: cumulus step -- python3 process.py\n\n"+stepUsage)
		return exitUsage
	}
	flags, command := args[:i], args[i+1:]
	getenv := envLookup(e.environ)
	fs := newFlagSet(e, "step", stepUsage)
	transient := fs.String("transient", getenv(stepwrap.EnvTransient), "transient exit codes")
	timeout := fs.String("timeout", getenv(stepwrap.EnvTimeout), "timeout")
	heartbeat := fs.String("heartbeat", getenv(stepwrap.EnvHeartbeatInterval), "heartbeat interval")
	sample := fs.Duration("sample", 10*time.Second, "sample interval")
	work := fs.String("work", "", "work folder")
	endpoint := fs.String("s3-endpoint", getenv(stepwrap.EnvS3Endpoint), "S3 endpoint")
	fetch := fs.String("fetch", "auto", "fetch mode")
	if pos, code, stop := fs.parse(flags); stop {
		return code
	} else if len(pos) > 0 {
		fmt.Fprintf(e.stderr, "cumulus step: unexpected %q before --\n", pos[0])
		return exitUsage
	}
	if len(command) == 0 {
		fmt.Fprint(e.stderr, "cumulus step: no program after --\n")
		return exitUsage
	}
	codes, err := stepwrap.ParseTransient(*transient)
	if err != nil {
		fmt.Fprintf(e.stderr, "cumulus step: -transient: %v\n", err)
		return exitUsage
	}
	cfg := stepwrap.Config{Command: command, Environ: e.environ, WorkDir: *work, Transient: codes, SampleEvery: *sample}
	for _, d := range []struct {
		name, val string
		dst       *time.Duration
	}{{"timeout", *timeout, &cfg.Timeout}, {"heartbeat", *heartbeat, &cfg.HeartbeatEvery}} {
		if d.val == "" {
			continue
		}
		if *d.dst, err = time.ParseDuration(d.val); err != nil || *d.dst < 0 {
			fmt.Fprintf(e.stderr, "cumulus step: -%s %q is not a duration like 30m\n", d.name, d.val)
			return exitUsage
		}
	}
	if cfg.HeartbeatEvery == 0 {
		cfg.HeartbeatEvery = time.Minute
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(e.stdout, nil))

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	onAWS := getenv("ECS_CONTAINER_METADATA_URI_V4") != "" || getenv("AWS_EXECUTION_ENV") != ""
	switch m := strings.ToLower(*fetch); {
	case m == "always" || m == "auto" && getenv(stepwrap.EnvFetch) == "1",
		m == "auto" && getenv(stepwrap.EnvFetch) != "0" && (onAWS || *endpoint != ""):
		client, err := s3local.Client(ctx, *endpoint)
		if err != nil {
			fmt.Fprintf(e.stderr, "cumulus step: %v\n", err)
			return stepwrap.ExitRetryable
		}
		cfg.Files = executor.S3Files{Client: client}
	case m == "never" || m == "auto":
	default:
		fmt.Fprintf(e.stderr, "cumulus step: -fetch %q is not auto, always or never\n", *fetch)
		return exitUsage
	}

	switch {
	case getenv(stepwrap.EnvTaskToken) != "":
		awsCfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			fmt.Fprintf(e.stderr, "cumulus step: AWS configuration for Step Functions: %v\n", err)
			return stepwrap.ExitRetryable
		}
		cfg.Heartbeat = stepwrap.SFNHeartbeat{Client: sfn.NewFromConfig(awsCfg), Token: getenv(stepwrap.EnvTaskToken)}
	case getenv(stepwrap.EnvHeartbeatURL) != "":
		cfg.Heartbeat = stepwrap.HTTPHeartbeat{URL: getenv(stepwrap.EnvHeartbeatURL)}
	}

	// On AWS the state machine gives every step the run's first granule;
	// the step's own input is the results of the steps before it.
	var onRun *platform.ContainerStep
	if getenv(platform.EnvRun) != "" && getenv(platform.EnvGraph) != "" {
		client, err := s3local.Client(ctx, *endpoint)
		if err == nil {
			onRun, err = platform.PrepareContainerStep(ctx, client, getenv)
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "cumulus step: %v\n", err)
			return stepwrap.ExitRetryable
		}
		if onRun.Skip {
			fmt.Fprintf(e.stderr, "cumulus step: skipped: the step's when is false for granule %s\n", onRun.Granule.ID)
			return exitOK
		}
		cfg.Environ = onRun.Environ(cfg.Environ)
	}
	var reports *platform.Reports
	if onRun != nil && getenv(platform.EnvRecorder) != "" {
		if awsCfg, err := config.LoadDefaultConfig(ctx); err == nil {
			reports = &platform.Reports{Lambda: lambda.NewFromConfig(awsCfg), Function: getenv(platform.EnvRecorder), Logger: cfg.Logger}
		}
		reports.StepStarted(ctx, onRun.Run, onRun.Pipeline, onRun.Granule.ID, onRun.Step, onRun.Attempt, platform.ECSTaskARN(ctx, getenv))
	}

	rep, err := stepwrap.Run(ctx, cfg)
	if err != nil {
		// The log has the details; stderr gets one line a person reads.
		fmt.Fprintf(e.stderr, "cumulus step: %v\n", err)
	}
	if onRun != nil && rep.ExitStatus() == exitOK && rep.Result != nil {
		if err := onRun.Finish(ctx, *rep.Result); err != nil {
			rep.Outcome, rep.Reason = stepwrap.Retryable, err.Error()
			reports.StepEnded(ctx, onRun.Run, onRun.Pipeline, onRun.Granule.ID, onRun.Step, onRun.Attempt, *rep)
			fmt.Fprintf(e.stderr, "cumulus step: %v\n", err)
			return stepwrap.ExitRetryable
		}
	}
	if onRun != nil && rep != nil {
		reports.StepEnded(ctx, onRun.Run, onRun.Pipeline, onRun.Granule.ID, onRun.Step, onRun.Attempt, *rep)
	}
	return rep.ExitStatus()
}

// envLookup reads a "K=V" environment, the last value winning.
func envLookup(environ []string) func(string) string {
	m := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return func(k string) string { return m[k] }
}
