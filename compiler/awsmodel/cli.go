package awsmodel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrNoCLI is returned when no aws executable is on PATH; tests skip then.
var ErrNoCLI = errors.New("the AWS CLI (aws) is not on PATH; install Debian's awscli package to run this oracle")

// CLIResult is what one AWS CLI run said about a document.
type CLIResult struct {
	// Accepted: the CLI validated the parameters and tried to connect, which
	// it does only after its own parameter validation passed.
	Accepted bool
	// Output is stdout and stderr together: on rejection, botocore's
	// "Parameter validation failed:" list (or, for a pipeline definition
	// the CLI cannot translate, "Error in pipeline definition: …").
	Output string
	// Elapsed is the wall time of the run (the CLI is a Python program that
	// loads its service models on start, so it is not cheap).
	Elapsed time.Duration
}

// cliEndpoint is the discard port on loopback: nothing listens there, so the
// connection is refused at once and no request leaves the machine.
const cliEndpoint = "http://127.0.0.1:9"

// cliCommands maps an operation to the CLI command that takes the document
// as a file. PutPipelineDefinition takes the definition file format (objects,
// parameters, values), which the CLI translates itself.
var cliCommands = map[string][]string{
	"RegisterTaskDefinition": {"ecs", "register-task-definition", "--cli-input-json"},
	"CreateFunction":         {"lambda", "create-function", "--cli-input-json"},
	"PutPipelineDefinition":  {"datapipeline", "put-pipeline-definition", "--pipeline-id", "df-0", "--pipeline-definition"},
	"CreateStateMachine":     {"stepfunctions", "create-state-machine", "--cli-input-json"},
	"CreateRole":             {"iam", "create-role", "--cli-input-json"},
	"PutRolePolicy":          {"iam", "put-role-policy", "--cli-input-json"},
}

// CheckWithCLI asks the AWS CLI whether the document in file is valid input
// for op (one of the operations [SDKRequestBody] names; for
// PutPipelineDefinition, file is a definition file). It returns ErrNoCLI when
// there is no CLI, and an error when the CLI's answer is neither a
// parameter-validation failure nor a connection failure, since then it is
// not known whether validation ran at all.
func CheckWithCLI(ctx context.Context, op, file string) (CLIResult, error) {
	cmd, ok := cliCommands[op]
	if !ok {
		return CLIResult{}, fmt.Errorf("CheckWithCLI: no CLI command for operation %q", op)
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return CLIResult{}, err
	}
	args := append(append([]string(nil), cmd...), "file://"+abs)
	return RunCLI(ctx, args...)
}

// RunCLI runs `aws ARGS… --endpoint-url http://127.0.0.1:9 --region
// us-west-2` with dummy credentials and no shared config, and classifies the
// answer as [CheckWithCLI] does. It is for operations CheckWithCLI does not
// name.
func RunCLI(ctx context.Context, args ...string) (CLIResult, error) {
	bin, err := exec.LookPath("aws")
	if err != nil {
		return CLIResult{}, ErrNoCLI
	}
	full := append(append([]string(nil), args...), "--endpoint-url", cliEndpoint, "--region", "us-west-2")
	c := exec.CommandContext(ctx, bin, full...)
	c.Env = cliEnv()
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	start := time.Now()
	runErr := c.Run()
	res := CLIResult{Output: out.String(), Elapsed: time.Since(start)}
	switch {
	case strings.Contains(res.Output, "Parameter validation failed"),
		// The datapipeline customization's own check, before botocore's.
		strings.Contains(res.Output, "Error in pipeline definition"):
		return res, nil
	case strings.Contains(res.Output, "Could not connect to the endpoint URL"):
		res.Accepted = true
		return res, nil
	}
	return res, fmt.Errorf("aws %s: unexpected answer (%v): %s", strings.Join(args, " "), runErr, strings.TrimSpace(res.Output))
}

// cliEnv is the caller's environment without any AWS_ setting (a developer's
// profile, region or real keys must not leak in), plus dummy credentials.
// One attempt: the default retry policy would retry the refused connection
// with backoff, for seconds.
func cliEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_DEFAULT_REGION=us-west-2",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_MAX_ATTEMPTS=1",
		"AWS_RETRY_MODE=standard",
		"AWS_PAGER=",
	)
}
