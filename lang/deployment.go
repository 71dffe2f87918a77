package lang

import (
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/cumulus-toolchain/cumulus/stdlib"
)

// Deployment says where and how a configuration runs on AWS. It is optional:
// without a deployment block, names derive from the folder's name and the
// rest keeps its defaults (Declared is false).
type Deployment struct {
	Decl
	Declared bool
	Prefix   string
	Region   string // "" when not set: deploy asks for it
	// AccountID is the AWS account (12 digits) the artifacts name in ARNs;
	// "" when not set (compile then writes a placeholder deploy replaces).
	AccountID      string
	Orchestrator   string // "stepfunctions" or "datapipeline"
	Subnets        []string
	SecurityGroups []string
	LogRetention   int    // days
	Notify         string // SNS topic ARN, "" when not set
	Tags           map[string]string
	Cluster        string // ECS cluster name
	// DashboardAuth names the distribution whose authentication the
	// engine's dashboard and API sit behind on AWS; "" leaves them open to
	// whoever has the URL (they are read-only).
	DashboardAuth string
}

var deploymentSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "prefix"}, {Name: "region"}, {Name: "account_id"}, {Name: "orchestrator"}, {Name: "subnets"}, {Name: "security_groups"},
	{Name: "log_retention"}, {Name: "notify"}, {Name: "tags"}, {Name: "cluster"}, {Name: "dashboard_auth"},
}}

var (
	clusterPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	tagPattern     = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// Orchestrators are the values of deployment.orchestrator.
var orchestrators = []string{"stepfunctions", "datapipeline"}

func (c *checker) decodeDeployment(b *hcl.Block) *Deployment {
	d := c.d
	dep := &Deployment{Prefix: defaultPrefix(c.cfg.Dir), Orchestrator: "stepfunctions", LogRetention: 30, Tags: map[string]string{}}
	if b == nil {
		dep.Cluster = dep.Prefix
		return dep
	}
	content, diags := b.Body.Content(deploymentSchema)
	d.add(diags)
	dep.Decl, dep.Declared = newDecl(b, content), true
	attr := content.Attributes

	if a := attr["prefix"]; a != nil {
		if v, ok := d.eval(a, scopeStatic, cty.String); ok {
			p := v.AsString()
			switch {
			case len(p) > maxPrefix:
				d.errorf(a.Expr.Range(), "Invalid prefix", "The prefix %q is %d characters long; at most %d are allowed, because it begins the name of every AWS resource and some (IAM roles, Lambda functions) allow only 64. Shorten it.", p, len(p), maxPrefix)
			case !prefixPattern.MatchString(p):
				fix := `e.g. "hs3-dev"`
				if s := sanitizePrefix(p); s != "" {
					fix = fmt.Sprintf("such as %q", s)
				}
				d.errorf(a.Expr.Range(), "Invalid prefix", "The prefix %q cannot begin AWS resource names: it must be 2 to %d characters long, start with a lowercase letter, end with a letter or digit, and contain only lowercase letters, digits and hyphens (S3 bucket names begin with it). Write one %s.", p, maxPrefix, fix)
			default:
				dep.Prefix = p
			}
		}
	}
	if a := attr["region"]; a != nil {
		r := d.str(a, "")
		if r != "" && !regionPattern.MatchString(r) {
			d.errorf(a.Expr.Range(), "Invalid region", "%q is not an AWS region name; write one such as \"us-west-2\".", r)
		} else {
			dep.Region = r
		}
	}
	if a := attr["account_id"]; a != nil {
		id := d.str(a, "")
		if !accountPattern.MatchString(id) {
			d.errorf(a.Expr.Range(), "Invalid account_id", "An AWS account ID is 12 digits, such as \"123456789012\" (aws sts get-caller-identity prints yours); %q is not.", id)
		} else {
			dep.AccountID = id
		}
	}
	dep.Orchestrator = d.enum(attr["orchestrator"], dep.Orchestrator, orchestrators)
	dep.Subnets = d.idList(attr["subnets"], subnetPattern, "subnet-0123456789abcdef0", "subnet ID", "describe-subnets")
	dep.SecurityGroups = d.idList(attr["security_groups"], securityGroupPattern, "sg-0123456789abcdef0", "security group ID", "describe-security-groups")
	if a := attr["log_retention"]; a != nil {
		if dur := d.duration(a, 0, 24*time.Hour, 0, "CloudWatch Logs keeps logs for whole days, such as \"30d\"."); dur > 0 {
			days := int(dur.Hours() / 24)
			if dur.Hours() != float64(days*24) || !containsInt(logRetentionDays, days) {
				d.errorf(a.Expr.Range(), "Invalid log_retention", "CloudWatch Logs keeps logs for one of these numbers of days only: %s; %s is not one of them. Write the nearest, \"%dd\", or another from the list.", joinInts(logRetentionDays), stdlib.FormatDuration(dur), nearestRetention(dur))
			} else {
				dep.LogRetention = days
			}
		}
	}
	if a := attr["notify"]; a != nil {
		n := d.str(a, "")
		if n != "" && !snsTopicPattern.MatchString(n) {
			d.errorf(a.Expr.Range(), "Invalid notify", "notify must be the ARN of an SNS topic, such as \"arn:aws:sns:us-west-2:123456789012:hs3-alerts\"; %q is not.", n)
		} else {
			dep.Notify = n
		}
	}
	if a := attr["dashboard_auth"]; a != nil {
		if r, ok := d.ref(a.Expr, "dashboard_auth", "distribution", nil); ok {
			dep.DashboardAuth = r.Name
		}
	}
	if a := attr["tags"]; a != nil {
		tags := d.stringMap(a)
		if len(tags) > 45 {
			d.errorf(a.Expr.Range(), "Too many tags", "AWS allows 50 tags per resource and cumulus adds its own; give at most 45.")
		}
		for _, k := range sortedKeys(tags) {
			v := tags[k]
			rng := itemRange(a, k, d.static)
			switch {
			case len(k) == 0 || len(k) > 128:
				d.errorf(rng, "Invalid tag", "Tag keys are 1 to 128 characters long; %q is not. Shorten it.", k)
			case !tagPattern.MatchString(k):
				d.errorf(rng, "Invalid tag", "The tag key %q has characters AWS refuses; tag keys and values use letters, digits, spaces and + - = . _ : / @ only.", k)
			case len(v) > 256:
				d.errorf(rng, "Invalid tag", "The value of tag %q is %d characters long; AWS allows 256. Shorten it.", k, len(v))
			case !tagPattern.MatchString(v):
				d.errorf(rng, "Invalid tag", "The value of tag %q has characters AWS refuses; tag keys and values use letters, digits, spaces and + - = . _ : / @ only.", k)
			case strings.HasPrefix(strings.ToLower(k), "aws:"), strings.HasPrefix(k, "cumulus:"):
				d.errorf(rng, "Reserved tag", "Tag keys that begin with aws: or cumulus: are reserved (AWS and cumulus set them); rename %q.", k)
			default:
				dep.Tags[k] = v
			}
		}
	}
	dep.Cluster = dep.Prefix
	if a := attr["cluster"]; a != nil {
		cl := d.str(a, dep.Cluster)
		if !clusterPattern.MatchString(cl) {
			d.errorf(a.Expr.Range(), "Invalid cluster", "An ECS cluster name has 1 to 255 letters, digits, hyphens and underscores; %q does not.", cl)
		} else {
			dep.Cluster = cl
		}
	}
	return dep
}

// idList evaluates a list of IDs of one kind of EC2 resource; describe is the
// aws ec2 command that lists them.
func (d *decoder) idList(a *hcl.Attribute, pattern *regexp.Regexp, example, what, describe string) []string {
	if a == nil {
		return nil
	}
	ids := d.strings(a)
	// Point at the element itself when the list is written out.
	elems, diags := hcl.ExprList(a.Expr)
	if diags.HasErrors() || len(elems) != len(ids) {
		elems = nil
	}
	var out []string
	for i, id := range ids {
		if !pattern.MatchString(id) {
			rng := a.Expr.Range()
			if elems != nil {
				rng = elems[i].Range()
			}
			kind, _, _ := strings.Cut(example, "-")
			d.errorf(rng, "Invalid "+a.Name, "%q is not a %s, which is %q followed by 8 or 17 hexadecimal digits, such as %q. Copy it from the VPC console or from aws ec2 %s.", id, what, kind+"-", example, describe)
			continue
		}
		out = append(out, id)
	}
	return out
}

// itemRange is the range of the item of an object constructor whose key is
// key, or the whole expression's when the object is not written out.
func itemRange(a *hcl.Attribute, key string, ctx *hcl.EvalContext) hcl.Range {
	pairs, diags := hcl.ExprMap(a.Expr)
	if diags.HasErrors() {
		return a.Expr.Range()
	}
	for _, p := range pairs {
		if k, diags := p.Key.Value(ctx); !diags.HasErrors() && k.Type() == cty.String && k.IsKnown() && !k.IsNull() && k.AsString() == key {
			return p.Key.Range()
		}
	}
	return a.Expr.Range()
}

// nearestRetention is the retention period CloudWatch accepts closest to dur.
func nearestRetention(dur time.Duration) int {
	days := dur.Hours() / 24
	best := logRetentionDays[0]
	for _, r := range logRetentionDays {
		if math.Abs(float64(r)-days) < math.Abs(float64(best)-days) {
			best = r
		}
	}
	return best
}

// sanitizePrefix turns s into a valid prefix (lowercase, hyphens for other
// characters, starting with a letter), or "" when little of it remains.
func sanitizePrefix(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	p := strings.Trim(b.String(), "-")
	for len(p) > 0 && (p[0] < 'a' || p[0] > 'z') {
		p = strings.TrimLeft(p[1:], "-")
	}
	for strings.Contains(p, "--") {
		p = strings.ReplaceAll(p, "--", "-")
	}
	if len(p) > maxPrefix {
		p = strings.TrimRight(p[:maxPrefix], "-")
	}
	if len(p) < 2 || !prefixPattern.MatchString(p) {
		return ""
	}
	return p
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// defaultPrefix derives the prefix from the folder's name, as DESIGN says
// names do when no deployment block gives one.
func defaultPrefix(dir string) string {
	base := filepath.Base(dir)
	if abs, err := filepath.Abs(dir); err == nil {
		base = filepath.Base(abs)
	}
	if p := sanitizePrefix(base); p != "" {
		return p
	}
	return "cumulus"
}

// Names of the AWS resources made from blocks. They live here, beside the
// checks of their lengths, so that the compiler and deploy use exactly the
// names that were checked.

// BucketName is the S3 name of a bucket that sets none: prefix-name.
func (c *Config) bucketName(label string) string {
	return strings.ToLower(c.Deployment.Prefix + "-" + strings.ReplaceAll(label, "_", "-"))
}

// ResourceName is the name of the AWS resource made from a block: the
// deployment prefix, a dash, the block name (Lambda functions, ECS task
// families, state machines).
func (c *Config) ResourceName(block string) string { return c.Deployment.Prefix + "-" + block }

// BackfillSuffix ends the name of a pipeline's backfill state machine.
const BackfillSuffix = "-backfill"

// BackfillName is the name of a pipeline's backfill state machine:
// prefix-pipeline-backfill.
func (c *Config) BackfillName(pipeline string) string {
	return c.ResourceName(pipeline + BackfillSuffix)
}

// RoleName is the name of an IAM role of a block's resources:
// prefix-name-kind, kind one of the Role constants.
func (c *Config) RoleName(block, kind string) string {
	return c.Deployment.Prefix + "-" + block + "-" + kind
}

// The kinds of IAM roles cumulus makes, as RoleName suffixes.
const (
	RoleTask                 = "task"   // what an ECS task's containers may do
	RoleExecution            = "exec"   // what ECS may do to start a task (pull, logs)
	RoleFunction             = "fn"     // a Lambda function's role
	RoleStateMachine         = "sfn"    // a Step Functions state machine's role
	RoleBackfill             = "bfill"  // a pipeline's backfill state machine's role (distributed Map)
	RoleDataPipeline         = "dp"     // a Data Pipeline's role
	RoleDataPipelineResource = "dpres"  // the EC2 instances a Data Pipeline runs its activities on
	RolePoller               = "poller" // a source's acquisition poller (an ECS task role)
	RoleScheduler            = "sched"  // what EventBridge assumes to start a poller
)

func (d *decoder) checkName(rng hcl.Range, what, name string, limit int, service string) {
	if len(name) > limit {
		d.errorf(rng, "Name too long for AWS",
			"The %s would be named %q (%d characters), made of the deployment prefix and this block's name, but %s allows at most %d. Shorten the block's name or deployment.prefix by %d characters.",
			what, name, len(name), service, limit, len(name)-limit)
	}
}

// checkRoleName checks the longest of the IAM role names RoleName makes for
// a block with the given role kinds.
func (d *decoder) checkRoleName(rng hcl.Range, cfg *Config, block string, kinds ...string) {
	longest := ""
	for _, k := range kinds {
		if n := cfg.RoleName(block, k); len(n) > len(longest) {
			longest = n
		}
	}
	if len(longest) > maxRoleName {
		d.errorf(rng, "Name too long for AWS",
			"An IAM role of this block would be named %q (%d characters), made of the deployment prefix and this block's name, but IAM allows at most %d. Shorten the block's name or deployment.prefix by %d characters.",
			longest, len(longest), maxRoleName, len(longest)-maxRoleName)
	}
}

// checkDashboardAuth: the distribution dashboard_auth names must let
// someone in, with an auth block of users or an OIDC issuer; otherwise
// the dashboard would be closed to everyone.
func (c *checker) checkDashboardAuth() {
	dep := c.cfg.Deployment
	if dep == nil || dep.DashboardAuth == "" {
		return
	}
	for _, x := range c.cfg.Distributions {
		if x.Name != dep.DashboardAuth {
			continue
		}
		if x.Auth == nil || (len(x.Auth.Users) == 0 && x.Auth.OIDC == nil) {
			c.d.errorf(dep.Range("dashboard_auth"), "Dashboard behind a distribution nobody can log in to",
				"dashboard_auth puts the dashboard behind distribution %q, which has no auth block with users or an oidc issuer, so no one could open it. Give distribution %q an auth block, or remove dashboard_auth to leave the read-only dashboard open.", x.Name, x.Name)
		}
	}
}
