package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/cumulus-toolchain/cumulus/compiler"
	"github.com/cumulus-toolchain/cumulus/lang"
	"github.com/cumulus-toolchain/cumulus/runtime/deploy"
	"github.com/cumulus-toolchain/cumulus/runtime/distribution"
)

const deployUsage = `Usage: cumulus deploy [OPTIONS] [DIR]

Compiles the configuration in DIR (default: the current folder), reads what
the AWS account holds, and prints the plan: for each resource (S3 buckets
and their notifications to the trigger function, log groups, the ECS
cluster and task definitions, Lambda functions, EventBridge schedules, Data
Pipelines) whether it is created (+), updated (~), unchanged (=), deleted
(-, with -prune) or in conflict (!, exists but not owned). Then, after a
confirmation, it applies the plan in dependency order. A second run changes
nothing; a run that failed midway is finished by the next one. After a run
that succeeded, it prints the URL of each HTTP API: the engine API and
dashboard's, and each distribution's.

Everything deploy creates is tagged cumulus:config (the deployment prefix)
and cumulus:stage; it never changes what does not carry its tag.

Credentials and region come from the standard AWS chain (environment,
shared config and credentials files, SSO, instance roles).

Options:
  -plan               Print the plan and stop.
  -auto-approve       Apply without asking (required when stdin is not a terminal).
  -prune              Also delete owned resources no longer in the configuration.
  -json               Print the plan as JSON.
  -activate NAME      Activate this Data Pipeline after deploying it (repeatable).
  -bootstrap ZIP      The platform functions' code, from 'cumulus package'.
  -profile NAME       AWS shared-config profile.
  -region REGION      AWS region (default: deployment.region, then the AWS chain).
  -stage NAME         Sets var.stage, and the cumulus:stage tag.
  -endpoint-url URL   Send every AWS request there (LocalStack-like endpoints,
                      tests); AWS_ENDPOINT_URL does the same.
  -var NAME=VALUE     Set a variable (repeatable).
  -var-file FILE      Read variables from a file (repeatable).
  -no-color           Never colour the output.

Exit status: 0 done (or planned), 1 failure, 2 usage error.
`

func runDeploy(e *env, args []string) int {
	fs := newFlagSet(e, "deploy", deployUsage)
	var cf configFlags
	cf.register(fs)
	planOnly := fs.Bool("plan", false, "print the plan only")
	autoApprove := fs.Bool("auto-approve", false, "apply without asking")
	prune := fs.Bool("prune", false, "delete owned resources no longer configured")
	asJSON := fs.Bool("json", false, "JSON plan")
	bootstrap := fs.String("bootstrap", "", "platform code zip")
	profile := fs.String("profile", "", "AWS profile")
	region := fs.String("region", "", "AWS region")
	endpoint := fs.String("endpoint-url", "", "AWS endpoint")
	stage := ""
	fs.Func("stage", "deployment stage", func(v string) error {
		stage = v
		cf.vars = append(cf.vars, lang.VarArg{Name: "stage", Value: v})
		return nil
	})
	var activate []string
	fs.Func("activate", "activate a Data Pipeline", func(v string) error { activate = append(activate, v); return nil })
	cfg, diags, code, stop := cf.load(e, fs, "deploy", args)
	if stop {
		return code
	}
	if diags.HasErrors() {
		return reportFailure(e, cfg.Files, diags, "Nothing was deployed.")
	}
	if stage == "" {
		for _, v := range cfg.Variables {
			if v.Name == "stage" && v.Value.Type().FriendlyName() == "string" && v.Value.IsKnown() && !v.Value.IsNull() {
				stage = v.Value.AsString()
			}
		}
	}
	ctx := context.Background()
	fail := func(format string, args ...any) int {
		fmt.Fprintf(e.stderr, "cumulus deploy: "+format+"\n", args...)
		return exitFailed
	}

	var loadOpts []func(*config.LoadOptions) error
	if *profile != "" {
		loadOpts = append(loadOpts, config.WithSharedConfigProfile(*profile))
	}
	if *region != "" {
		loadOpts = append(loadOpts, config.WithRegion(*region))
	} else if cfg.Deployment != nil && cfg.Deployment.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(cfg.Deployment.Region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return fail("loading the AWS configuration: %v", err)
	}
	if *endpoint != "" {
		awsCfg.BaseEndpoint = aws.String(*endpoint)
	}
	d := deploy.New(deploy.NewClients(awsCfg), nil, deploy.Backoff{})
	account, err := d.Identity(ctx)
	if err != nil {
		return fail("%v\nConfigure credentials (AWS_PROFILE or -profile, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, 'aws sso login'). Nothing was changed.", err)
	}
	// The region: -region, else deployment.region, else the AWS chain's.
	regionArg := *region
	if regionArg == "" && (cfg.Deployment == nil || cfg.Deployment.Region == "") {
		regionArg = awsCfg.Region
	}
	if err := deploy.Resolve(cfg, account, regionArg); err != nil {
		return fail("%v", err)
	}
	if awsCfg.Region != cfg.Deployment.Region {
		awsCfg.Region = cfg.Deployment.Region
		d = deploy.New(deploy.NewClients(awsCfg), nil, deploy.Backoff{})
	}
	res, cdiags := compiler.Compile(cfg)
	diags = append(diags, cdiags...)
	if diags.HasErrors() {
		return reportFailure(e, cfg.Files, diags, "Nothing was deployed.")
	}
	printDiagnostics(e, cfg.Files, diags)
	var zip []byte
	if *bootstrap != "" {
		if zip, err = os.ReadFile(*bootstrap); err != nil {
			return fail("reading the bootstrap zip: %v (build it with 'cumulus package -o %s')", err, *bootstrap)
		}
	}
	want, err := deploy.Desire(cfg, res, deploy.DesireOptions{Stage: stage, PlatformZip: zip, DistUsers: envLookup(e.environ)(distribution.UsersEnv)})
	if err != nil {
		return fail("%v", err)
	}
	plan, err := d.Plan(ctx, want, deploy.PlanOptions{Prune: *prune, Activate: activate})
	if err != nil {
		return fail("%v", err)
	}
	if *asJSON {
		err = plan.WriteJSON(e.stdout)
	} else {
		err = plan.WriteText(e.stdout)
	}
	if err != nil {
		return fail("writing the plan: %v", err)
	}
	if *planOnly {
		return exitOK
	}
	if n := plan.Count(deploy.OpConflict); n > 0 {
		return fail("%d resources exist that %s does not own (marked !); nothing was changed.", n, plan.Prefix)
	}
	if !plan.HasChanges() {
		fmt.Fprintln(e.stderr, "No changes: the account matches the configuration.")
		if err := deploy.WriteEndpoints(e.stdout, plan.Endpoints()); err != nil {
			return fail("writing the endpoints: %v", err)
		}
		return exitOK
	}
	if !*autoApprove {
		f, ok := e.stdin.(*os.File)
		if !ok || !isTerminal(f) {
			return fail("stdin is not a terminal: pass -auto-approve to apply without a confirmation, or -plan to only plan. Nothing was changed.")
		}
		fmt.Fprintf(e.stderr, "Apply these changes to account %s? [y/N] ", plan.Account)
		line, _ := bufio.NewReader(e.stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			fmt.Fprintln(e.stderr, "Nothing was changed.")
			return exitOK
		}
	}
	rep := d.Apply(ctx, plan)
	if err := rep.WriteText(e.stdout); err != nil {
		return fail("writing the report: %v", err)
	}
	if rep.Err() != nil {
		return exitFailed
	}
	return exitOK
}
