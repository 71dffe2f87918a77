package lang

import (
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Deployment says where and how a configuration runs on AWS. It is optional:
// without a deployment block, names derive from the folder's name and the
// rest keeps its defaults (Declared is false).
type Deployment struct {
	Decl
	Declared       bool
	Prefix         string
	Region         string // "" when not set: deploy asks for it
	Orchestrator   string // "stepfunctions" or "datapipeline"
	Subnets        []string
	SecurityGroups []string
	LogRetention   int    // days
	Notify         string // SNS topic ARN, "" when not set
	Tags           map[string]string
	Cluster        string // ECS cluster name
}

var deploymentSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "prefix"}, {Name: "region"}, {Name: "orchestrator"}, {Name: "subnets"}, {Name: "security_groups"},
	{Name: "log_retention"}, {Name: "notify"}, {Name: "tags"}, {Name: "cluster"},
}}

var clusterPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

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
				d.errorf(a.Expr.Range(), "Invalid prefix", "The prefix %q must start with a lowercase letter and contain only lowercase letters, digits and hyphens (it begins S3 bucket names), e.g. \"hs3-dev\".", p)
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
	dep.Orchestrator = d.enum(attr["orchestrator"], dep.Orchestrator, orchestrators)
	dep.Subnets = d.idList(attr["subnets"], subnetPattern, "subnet-0123456789abcdef0", "subnet ID")
	dep.SecurityGroups = d.idList(attr["security_groups"], securityGroupPattern, "sg-0123456789abcdef0", "security group ID")
	if a := attr["log_retention"]; a != nil {
		if dur := d.duration(a, 0, 0, 0, ""); dur > 0 {
			days := int(dur.Hours() / 24)
			if dur.Hours() != float64(days*24) || !containsInt(logRetentionDays, days) {
				d.errorf(a.Expr.Range(), "Invalid log_retention", "CloudWatch Logs keeps logs for one of these numbers of days only: %s. Write one of them, such as \"30d\".", joinInts(logRetentionDays))
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
	if a := attr["tags"]; a != nil {
		tags := d.stringMap(a)
		if len(tags) > 45 {
			d.errorf(a.Expr.Range(), "Too many tags", "AWS allows 50 tags per resource and cumulus adds its own; give at most 45.")
		}
		for _, k := range sortedKeys(tags) {
			v := tags[k]
			switch {
			case len(k) == 0 || len(k) > 128:
				d.errorf(a.Expr.Range(), "Invalid tag", "Tag keys are 1 to 128 characters long; %q is not.", k)
			case len(v) > 256:
				d.errorf(a.Expr.Range(), "Invalid tag", "The value of tag %q is %d characters long; AWS allows 256.", k, len(v))
			case strings.HasPrefix(strings.ToLower(k), "aws:"), strings.HasPrefix(k, "cumulus:"):
				d.errorf(a.Expr.Range(), "Reserved tag", "Tag keys that begin with aws: or cumulus: are reserved; rename %q.", k)
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

func (d *decoder) idList(a *hcl.Attribute, pattern *regexp.Regexp, example, what string) []string {
	ids := d.strings(a)
	var out []string
	for _, id := range ids {
		if !pattern.MatchString(id) {
			d.errorf(a.Expr.Range(), "Invalid "+a.Name, "%q is not a %s; write one such as %q.", id, what, example)
			continue
		}
		out = append(out, id)
	}
	return out
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
	var b strings.Builder
	for _, r := range strings.ToLower(base) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	p := strings.Trim(b.String(), "-")
	for len(p) > 0 && p[0] >= '0' && p[0] <= '9' {
		p = p[1:]
	}
	if len(p) > maxPrefix {
		p = strings.TrimRight(p[:maxPrefix], "-")
	}
	if len(p) < 2 {
		p = "cumulus"
	}
	return p
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

// RoleName is the IAM role of a block's resource: prefix-name-kind, where
// kind is a short role suffix such as "task", "exec", "sfn" or "fn".
func (c *Config) RoleName(block, kind string) string {
	return c.Deployment.Prefix + "-" + block + "-" + kind
}

// maxRoleSuffix is the longest kind RoleName is called with, so that checking
// one length covers every role.
const maxRoleSuffix = len("-poller")

func (d *decoder) checkName(rng hcl.Range, what, name string, limit int, service string) {
	if len(name) > limit {
		d.errorf(rng, "Name too long for AWS",
			"The %s would be named %q (%d characters), made of the deployment prefix and this block's name, but %s allows at most %d. Shorten the block's name or deployment.prefix.",
			what, name, len(name), service, limit)
	}
}

// checkRoleName checks the longest of the role names RoleName makes for a block.
func (d *decoder) checkRoleName(rng hcl.Range, resource string) {
	if len(resource)+maxRoleSuffix > maxRoleName {
		d.errorf(rng, "Name too long for AWS",
			"The IAM roles of this block would be named like %q (%d characters), made of the deployment prefix and this block's name, but IAM allows at most %d. Shorten the block's name or deployment.prefix.",
			resource+"-poller", len(resource)+maxRoleSuffix, maxRoleName)
	}
}
