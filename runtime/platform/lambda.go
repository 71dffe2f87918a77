package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/runtime/distribution"
	"github.com/cumulus-toolchain/cumulus/runtime/dynamostore"
	"github.com/cumulus-toolchain/cumulus/runtime/engine"
	"github.com/cumulus-toolchain/cumulus/runtime/engine/cwlogs"
	"github.com/cumulus-toolchain/cumulus/runtime/lambdafn"
	"github.com/cumulus-toolchain/cumulus/runtime/platform/layout"
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
	Lambda   *lambda.Client
	APIs     *apigatewayv2.Client
}

// NewClients makes the clients from an SDK configuration.
func NewClients(cfg aws.Config) Clients {
	// An endpoint other than AWS's (a test's, or an S3-compatible store)
	// is reached path-style, as the simulator's clients do.
	return Clients{S3: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = o.BaseEndpoint != nil }), SFN: sfn.NewFromConfig(cfg), DP: datapipeline.NewFromConfig(cfg),
		DynamoDB: dynamodb.NewFromConfig(cfg), Logs: cloudwatchlogs.NewFromConfig(cfg), Lambda: lambda.NewFromConfig(cfg),
		APIs: apigatewayv2.NewFromConfig(cfg)}
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
	var reports *Reports
	if f := getenv(EnvRecorder); f != "" {
		reports = &Reports{Lambda: c.Lambda, Function: f, Logger: log}
	}
	switch {
	case fn == graph.FunctionAPI:
		h, err := engineHandler(ctx, graphs, c, getenv, log)
		if err != nil {
			return nil, err
		}
		return lambdafn.HTTP(h, log), nil
	case fn == FunctionTrigger:
		t := &Trigger{Graphs: graphs, S3: c.S3, SFN: c.SFN, DP: c.DP, Reports: reports, Logger: log}
		return t.Handle, nil
	case fn == FunctionDistribution:
		h, err := distributionHandler(ctx, graphs, c.S3, getenv, log)
		if err != nil {
			return nil, err
		}
		return lambdafn.HTTP(h, log), nil
	case fn == "" && step != "":
		s := &Steps{Graphs: graphs, S3: c.S3, Only: step, Logger: log, Getenv: getenv, Reports: reports, APIs: c.APIs}
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
func engineHandler(ctx context.Context, graphs *GraphSource, c Clients, getenv func(string) string, log *slog.Logger) (http.Handler, error) {
	g, err := graphs.Graph(ctx)
	if err != nil {
		return nil, err
	}
	prefix := getenv(graph.EnvTablePrefix)
	if prefix == "" {
		return nil, fmt.Errorf("%s is not set: the engine API does not know its tables", graph.EnvTablePrefix)
	}
	eng, err := engine.New(engine.Options{
		Store:  dynamostore.New(c.DynamoDB, prefix, log),
		Logs:   cwlogs.New(c.Logs, g, cwlogs.Options{}),
		Graph:  g,
		Title:  g.Prefix,
		Logger: log,
	})
	if err != nil {
		return nil, err
	}
	name := getenv(graph.EnvDashboardAuth)
	if name == "" {
		return eng, nil
	}
	// deployment.dashboard_auth: the same logins as the distribution's
	// protected side.
	dist, err := distributionFor(ctx, g, name, c.S3, getenv, log)
	if err != nil {
		return nil, fmt.Errorf("dashboard_auth: %w", err)
	}
	return dist.Protect(eng), nil
}

// distributionHandler serves the distribution CUMULUS_DISTRIBUTION of the
// graph.
func distributionHandler(ctx context.Context, graphs *GraphSource, client *s3.Client, getenv func(string) string, log *slog.Logger) (*distribution.Handler, error) {
	g, err := graphs.Graph(ctx)
	if err != nil {
		return nil, err
	}
	return distributionFor(ctx, g, getenv(EnvDistribution), client, getenv, log)
}

// distributionFor is the handler of distribution name. Its links and
// tokens are signed with the key every instance shares: CUMULUS_DIST_KEY
// when set, else the one deploy keeps in the private bucket
// (layout.SecretsKey). Users with passwords come from CUMULUS_DIST_USERS
// or the same secrets, never made up: a password one instance invented
// would be known to nobody.
func distributionFor(ctx context.Context, g *graph.Graph, name string, client *s3.Client, getenv func(string) string, log *slog.Logger) (*distribution.Handler, error) {
	i := slices.IndexFunc(g.Distributions, func(d *graph.Distribution) bool { return d.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("the deployed configuration has no distribution %q", name)
	}
	d := g.Distributions[i]
	keyText, users := getenv(distribution.KeyEnv), getenv(distribution.UsersEnv)
	if keyText == "" {
		sec, err := readSecrets(ctx, client, g.ArtifactBucket)
		if err != nil {
			return nil, err
		}
		keyText = sec.Key
		if users == "" {
			users = sec.Users
		}
	}
	key, err := distribution.ParseKey(keyText)
	if err != nil {
		return nil, err
	}
	pw, generated, err := distribution.LocalUsers(d, users, nil)
	if err != nil {
		return nil, err
	}
	for _, u := range generated {
		delete(pw, u)
		log.Warn("user has no password on AWS: give it in "+distribution.UsersEnv+" when deploying", "distribution", d.Name, "user", u)
	}
	return distribution.New(d, client, distribution.WithSigningKey(key), distribution.WithUsers(pw), distribution.WithLogger(log))
}

// readSecrets reads the distribution's secrets deploy keeps.
func readSecrets(ctx context.Context, client Objects, bucket string) (layout.Secrets, error) {
	var sec layout.Secrets
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(layout.SecretsKey)})
	if err != nil {
		return sec, fmt.Errorf("reading the distribution's signing key s3://%s/%s (deploy makes it): %w", bucket, layout.SecretsKey, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err == nil {
		err = json.Unmarshal(data, &sec)
	}
	if err != nil || sec.Key == "" {
		return sec, fmt.Errorf("s3://%s/%s holds no signing key: %v", bucket, layout.SecretsKey, err)
	}
	return sec, nil
}
