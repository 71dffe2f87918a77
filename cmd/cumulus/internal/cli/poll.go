package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/cumulus-toolchain/cumulus/runtime/platform"
	"github.com/cumulus-toolchain/cumulus/runtime/stepwrap"
	"github.com/cumulus-toolchain/cumulus/simulator/s3local"
)

const pollUsage = `Usage: cumulus poll -source NAME [-s3-endpoint URL]

Polls one source of the deployed configuration once: the command of a
source's poller task on ECS, which the source's EventBridge schedule starts
every 'every'. It reads the configuration deploy put in the private bucket
(the bucket of CUMULUS_GRAPH), lists the provider, stages each granule
whose required files are all there under STAGING/COLLECTION/GRANULE/, and
then writes the granule's manifest (GRANULE/SOURCE.cumulus.json), whose
S3 event starts the granule's run. A granule staged before with the same
files is left alone; one whose files changed follows the collection's
duplicates policy. Logs are JSON lines on stdout.

Options:
  -source NAME      The source to poll (required).
  -s3-endpoint URL  An S3 endpoint other than AWS's (CUMULUS_S3_ENDPOINT).

Exit status: 0 the pass completed (granules that failed to stage are
logged and tried again next time); 1 the provider could not be listed or
the configuration not read; 2 usage error.
`

func runPoll(e *env, args []string) int {
	getenv := envLookup(e.environ)
	fs := newFlagSet(e, "poll", pollUsage)
	source := fs.String("source", "", "source")
	endpoint := fs.String("s3-endpoint", getenv(stepwrap.EnvS3Endpoint), "S3 endpoint")
	if pos, code, stop := fs.parse(args); stop {
		return code
	} else if len(pos) > 0 || *source == "" {
		fmt.Fprint(e.stderr, "cumulus poll: name the source to poll with -source NAME\n\n"+pollUsage)
		return exitUsage
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	bucket, _, err := platform.ParseS3URL(getenv(platform.EnvGraph))
	if err != nil {
		fmt.Fprintf(e.stderr, "cumulus poll: %s: %v (the poller's task definition sets it)\n", platform.EnvGraph, err)
		return exitFailed
	}
	client, err := s3local.Client(ctx, *endpoint)
	if err != nil {
		fmt.Fprintf(e.stderr, "cumulus poll: %v\n", err)
		return exitFailed
	}
	cfg, err := platform.LoadConfig(ctx, client, bucket, e.environ)
	if err != nil {
		fmt.Fprintf(e.stderr, "cumulus poll: %v\n", err)
		return exitFailed
	}
	p := &platform.Poller{Config: cfg, S3: client, StagingBucket: bucket, Env: e.environ, Logger: slog.New(slog.NewJSONHandler(e.stdout, nil))}
	sum, err := p.Poll(ctx, *source)
	if err != nil {
		fmt.Fprintf(e.stderr, "cumulus poll: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(e.stderr, "cumulus poll: source %s: %d granules found, %d staged, %d unchanged, %d duplicates, %d waiting for files, %d failed\n",
		*source, sum.Found, sum.Staged, sum.Unchanged, sum.Duplicates, sum.Waiting, sum.Failed)
	return exitOK
}
