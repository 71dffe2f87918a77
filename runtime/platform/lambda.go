package platform

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/runtime/distribution"
	"github.com/cumulus-toolchain/cumulus/runtime/dynamostore"
	"github.com/cumulus-toolchain/cumulus/runtime/engine"
	"github.com/cumulus-toolchain/cumulus/runtime/engine/cwlogs"
	"github.com/cumulus-toolchain/cumulus/runtime/lambdafn"
	"github.com/cumulus-toolchain/cumulus/runtime/recorder"
)

// Functions the compiler declares (CUMULUS_FUNCTION).
const (
	FunctionTrigger      = "trigger"
	FunctionDistribution = "distribution"
)

// Clients are the AWS clients a function uses, made once per instance.
type Clients struct {
	S3       *s3.Client
	SFN      *sfn.Client
	DP       *datapipeline.Client
	DynamoDB *dynamodb.Client
	Logs     *cloudwatchlogs.Client
}

// NewClients makes the clients from an SDK configuration.
func NewClients(cfg aws.Config) Clients {
	// An endpoint other than AWS's (a test's, or an S3-compatible store)
	// is reached path-style, as the simulator's clients do.
	return Clients{S3: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = o.BaseEndpoint != nil }), SFN: sfn.NewFromConfig(cfg), DP: datapipeline.NewFromConfig(cfg),
		DynamoDB: dynamodb.NewFromConfig(cfg), Logs: cloudwatchlogs.NewFromConfig(cfg)}
}

// Handler returns the Lambda handler the environment asks for: the
// function named by CUMULUS_FUNCTION, or the standard step named by
// CUMULUS_STEP. The handler is a func aws-lambda-go can start.
func Handler(ctx context.Context, c Clients, getenv func(string) string, log *slog.Logger) (any, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fn, step := getenv(EnvFunction), getenv(EnvStep)
	if fn == graph.FunctionRecorder {
		// The recorder needs no graph: an execution event names its state
		// machine, PREFIX-PIPELINE, and the tables are PREFIX-....
		prefix := getenv(graph.EnvTablePrefix)
		if prefix == "" {
			return nil, fmt.Errorf("%s is not set: the recorder does not know its tables", graph.EnvTablePrefix)
		}
		rec := recorder.New(dynamostore.New(c.DynamoDB, prefix, log), log, recorder.StateMachinePrefix(prefix+"-"))
		return rec.Handle, nil
	}
	graphs, err := NewGraphSource(c.S3, getenv(EnvGraph))
	if err != nil {
		return nil, err
	}
	switch {
	case fn == graph.FunctionAPI:
		h, err := engineHandler(ctx, graphs, c, getenv, log)
		if err != nil {
			return nil, err
		}
		return lambdafn.HTTP(h, log), nil
	case fn == FunctionTrigger:
		t := &Trigger{Graphs: graphs, S3: c.S3, SFN: c.SFN, DP: c.DP, Logger: log}
		return t.Handle, nil
	case fn == FunctionDistribution:
		h, err := distributionHandler(ctx, graphs, c.S3, getenv, log)
		if err != nil {
			return nil, err
		}
		return lambdafn.HTTP(h, log), nil
	case fn == "" && step != "":
		s := &Steps{Graphs: graphs, S3: c.S3, Only: step, Logger: log, Getenv: getenv}
		return s.Handle, nil
	case fn == "":
		return nil, fmt.Errorf("neither %s nor %s is set: this is not one of the functions cumulus deploys", EnvFunction, EnvStep)
	}
	return nil, fmt.Errorf("%s=%q: this cumulus has no such function (it has %s, %s, %s, %s, and the standard steps)", EnvFunction, fn,
		FunctionTrigger, FunctionDistribution, graph.FunctionRecorder, graph.FunctionAPI)
}

// engineHandler serves the engine API and the dashboard from the
// engine's DynamoDB tables and the steps' CloudWatch log groups: the same
// handler `cumulus simulate` serves on localhost.
func engineHandler(ctx context.Context, graphs *GraphSource, c Clients, getenv func(string) string, log *slog.Logger) (*engine.Server, error) {
	g, err := graphs.Graph(ctx)
	if err != nil {
		return nil, err
	}
	prefix := getenv(graph.EnvTablePrefix)
	if prefix == "" {
		return nil, fmt.Errorf("%s is not set: the engine API does not know its tables", graph.EnvTablePrefix)
	}
	return engine.New(engine.Options{
		Store:  dynamostore.New(c.DynamoDB, prefix, log),
		Logs:   cwlogs.New(c.Logs, g, cwlogs.Options{}),
		Graph:  g,
		Title:  g.Prefix,
		Logger: log,
	})
}

// distributionHandler serves the distribution CUMULUS_DISTRIBUTION of the
// graph. Its links are signed with CUMULUS_DIST_KEY, which every instance
// must share; users with passwords come from CUMULUS_DIST_USERS only,
// since a password made up by one instance would be known to nobody.
func distributionHandler(ctx context.Context, graphs *GraphSource, client *s3.Client, getenv func(string) string, log *slog.Logger) (*distribution.Handler, error) {
	g, err := graphs.Graph(ctx)
	if err != nil {
		return nil, err
	}
	name := getenv(EnvDistribution)
	i := slices.IndexFunc(g.Distributions, func(d *graph.Distribution) bool { return d.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("%s=%q: the deployed configuration has no such distribution", EnvDistribution, name)
	}
	d := g.Distributions[i]
	key, err := distribution.ParseKey(getenv(distribution.KeyEnv))
	if err != nil || getenv(distribution.KeyEnv) == "" {
		return nil, fmt.Errorf("%s must hold the key every instance signs links with (32 random bytes, base64): %v", distribution.KeyEnv, err)
	}
	users, generated, err := distribution.LocalUsers(d, getenv(distribution.UsersEnv), nil)
	if err != nil {
		return nil, err
	}
	for _, u := range generated {
		delete(users, u)
		log.Warn("user has no password on AWS: set it in "+distribution.UsersEnv, "distribution", d.Name, "user", u)
	}
	return distribution.New(d, client, distribution.WithSigningKey(key), distribution.WithUsers(users), distribution.WithLogger(log))
}
