package lang

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/cumulus-toolchain/cumulus/stdlib"
)

// Pipeline is what happens to each granule: a graph of steps.
type Pipeline struct {
	Decl
	Name string
	// Concurrency caps the granules this pipeline processes at once.
	Concurrency int
	Steps       []*Step
	OnFailure   OnFailure
}

// OnFailure is what a pipeline does when a granule's run fails.
type OnFailure struct {
	Decl
	// Notify publishes the failure to the SNS topic (Topic, or the
	// deployment's notify).
	Notify bool
	Topic  string
}

// Step is one node of a pipeline's graph: a standard step (Uses) or a task.
type Step struct {
	Decl
	Name     string
	Pipeline string
	Uses     *stdlib.Step // exactly one of Uses and Task is set
	Task     *Task
	After    []*Step
	// Retries is how many times a failed attempt is retried, RetryDelay the
	// wait before the first retry, multiplied by Backoff for each next one.
	Retries    int
	RetryDelay time.Duration
	Backoff    float64
	// Timeout bounds one attempt: the step's timeout, else its task's, else
	// the standard step's.
	Timeout time.Duration
	// Env reaches the task's container (or function) as environment
	// variables; With holds a standard step's inputs, defaults included.
	Env  map[string]*Expr
	With map[string]*Expr
	// When, if set, decides per granule whether the step runs; a skipped
	// step counts as done.
	When *Expr
}

// Step returns the step named name, or nil.
func (p *Pipeline) Step(name string) *Step {
	for _, s := range p.Steps {
		if s.Name == name {
			return s
		}
	}
	return nil
}

var pipelineSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "concurrency"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "step", LabelNames: []string{"name"}},
		{Type: "on_failure"},
	},
}

var stepSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "uses"}, {Name: "task"}, {Name: "after"}, {Name: "retries"}, {Name: "retry_delay"}, {Name: "backoff"},
	{Name: "timeout"}, {Name: "env"}, {Name: "with"}, {Name: "when"},
}}

var onFailureSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "notify"}, {Name: "topic"}}}

func (c *checker) decodePipeline(b *hcl.Block) *Pipeline {
	d := c.d
	content, diags := b.Body.Content(pipelineSchema)
	d.add(diags)
	p := &Pipeline{Decl: newDecl(b, content), Name: b.Labels[0], Concurrency: 4}
	c.cfg.register("pipeline", p.Name, p)
	p.Concurrency = d.integer(content.Attributes["concurrency"], p.Concurrency, 1, 10000, "It caps how many granules the pipeline processes at once.")

	stepNames := map[string]hcl.Range{}
	var stepBlocks []*hcl.Block
	var failureBlocks []*hcl.Block
	for _, sb := range content.Blocks {
		if sb.Type == "on_failure" {
			failureBlocks = append(failureBlocks, sb)
			continue
		}
		name := sb.Labels[0]
		if !identifier.MatchString(name) {
			d.errorf(sb.LabelRanges[0], "Invalid step name", "%q cannot be used as a name: names start with a letter and contain only letters, digits, underscores and dashes, so that they can be referred to as step.NAME.", name)
			continue
		}
		if prev, dup := stepNames[name]; dup {
			d.errorf(sb.LabelRanges[0], fmt.Sprintf("Duplicate step %q", name), "Pipeline %q already has a step named %q, declared at %s. Rename one of them.", p.Name, name, rangeString(prev))
			continue
		}
		stepNames[name] = sb.DefRange
		stepBlocks = append(stepBlocks, sb)
	}
	if len(stepBlocks) == 0 && len(stepNames) == 0 {
		d.errorf(p.NameRange, "Pipeline without steps", "Pipeline %q has no steps, so it would do nothing. Add a step, such as:\n  step \"sync\" {\n    uses = stdlib.sync_granule\n  }", p.Name)
	}

	after := map[*Step][]blockRef{}
	for _, sb := range stepBlocks {
		s, refs := c.decodeStep(p, sb, stepNames)
		p.Steps = append(p.Steps, s)
		after[s] = refs
	}
	for _, s := range p.Steps {
		for _, r := range after[s] {
			s.After = append(s.After, p.Step(r.Name))
		}
	}
	c.checkStepCycles(p, after)

	for i, fb := range failureBlocks {
		if i > 0 {
			d.errorf(fb.DefRange, "Duplicate on_failure block", "Pipeline %q already has an on_failure block at %s; merge them.", p.Name, rangeString(failureBlocks[0].DefRange))
			continue
		}
		fc, diags := fb.Body.Content(onFailureSchema)
		d.add(diags)
		p.OnFailure.Decl = newDecl(fb, fc)
		p.OnFailure.Notify = d.boolean(fc.Attributes["notify"], false)
		if a := fc.Attributes["topic"]; a != nil {
			t := d.str(a, "")
			if !snsTopicPattern.MatchString(t) {
				d.errorf(a.Expr.Range(), "Invalid topic", "topic must be the ARN of an SNS topic, such as \"arn:aws:sns:us-west-2:123456789012:hs3-alerts\"; %q is not.", t)
			} else {
				p.OnFailure.Topic = t
			}
		}
		if p.OnFailure.Notify && p.OnFailure.Topic == "" && c.cfg.Deployment.Notify == "" && fc.Attributes["topic"] == nil && !c.cfg.Deployment.Has("notify") {
			d.errorf(fc.Attributes["notify"].Expr.Range(), "Nowhere to notify", "on_failure asks for a notification, but no SNS topic is set. Set notify = \"arn:aws:sns:...\" in the deployment block, or topic = \"arn:aws:sns:...\" here.")
		}
	}
	d.checkName(p.NameRange, "Step Functions state machine", c.cfg.ResourceName(p.Name), maxStateMachineName, "Step Functions")
	c.checkBackfillCollision(p)
	d.checkRoleName(p.NameRange, c.cfg, p.Name, RoleStateMachine, RoleBackfill, RoleDataPipeline, RoleDataPipelineResource)
	return p
}

func (c *checker) decodeStep(p *Pipeline, b *hcl.Block, stepNames map[string]hcl.Range) (*Step, []blockRef) {
	d := c.d
	content, diags := b.Body.Content(stepSchema)
	d.add(diags)
	attr := content.Attributes
	s := &Step{Decl: newDecl(b, content), Name: b.Labels[0], Pipeline: p.Name, Backoff: 1}

	uses, task := attr["uses"], attr["task"]
	switch {
	case uses != nil && task != nil:
		d.errorf(task.NameRange, "Conflicting uses and task", "A step runs either a standard step (uses = stdlib.NAME) or a task of yours (task = task.NAME), not both. Remove one.")
		// The task still counts as used: "unused task" would only add noise
		// to the error that already names it.
		if r, ok := d.ref(task.Expr, "task", "task", nil); ok {
			s.Task = c.cfg.Task(r.Name)
		}
	case uses == nil && task == nil:
		d.errorf(s.DeclRange, "Step without work", "Step %q needs what it runs: uses = stdlib.NAME for a standard step (%s), or task = task.NAME for one of your tasks.", s.Name, strings.Join(stdlib.StepNames(), ", "))
	case uses != nil:
		if r, ok := d.ref(uses.Expr, "uses", "stdlib", d.stepNames); ok {
			s.Uses = d.steps[r.Name]
			s.Timeout = s.Uses.Timeout
		}
	case task != nil:
		if r, ok := d.ref(task.Expr, "task", "task", nil); ok {
			s.Task = c.cfg.Task(r.Name)
			if s.Task != nil {
				s.Timeout = s.Task.Timeout
			}
		}
	}
	refs := c.afterRefs(p, attr["after"], stepNames)

	s.Retries = d.integer(attr["retries"], 0, 0, 100, "It is the number of retries after a failed attempt.")
	s.RetryDelay = d.duration(attr["retry_delay"], time.Minute, time.Second, 24*time.Hour, "It is how long to wait before retrying a failed attempt.")
	s.Backoff = d.number(attr["backoff"], 1, 1, 10, "Each retry waits backoff times longer than the one before; 1 keeps the delay constant.")
	if a := attr["timeout"]; a != nil {
		hi := 14 * 24 * time.Hour
		why := ""
		switch {
		case s.Task != nil && s.Task.RunsOn == "lambda":
			hi, why = lambdaMaxTimeout, fmt.Sprintf("This step runs task.%s on Lambda, which stops a function after 15 minutes at most; lower the timeout, or run longer work in a task with runs_on = \"ecs\".", s.Task.Name)
		case s.Uses != nil && s.Uses.RunsOn == "lambda":
			hi, why = lambdaMaxTimeout, fmt.Sprintf("stdlib.%s runs on Lambda, which stops a function after 15 minutes at most; lower the timeout.", s.Uses.Name)
		}
		s.Timeout = d.duration(a, s.Timeout, time.Second, hi, why)
	}
	if a := attr["env"]; a != nil {
		s.Env = c.exprMap(a, scopeGranule, func(k string, krng hcl.Range) cty.Type {
			if !envNamePattern.MatchString(k) {
				d.errorf(krng, "Invalid environment variable name", "%q cannot be an environment variable name: use letters, digits and underscores, starting with a letter, such as %q.", k, envNameFix(k))
				return cty.NilType
			}
			if s.Task != nil && s.Task.RunsOn == "lambda" {
				checkLambdaReserved(d, krng, k)
			}
			return cty.String
		})
	}
	if a := attr["with"]; a != nil && s.Uses == nil {
		if s.Task != nil {
			d.errorf(a.NameRange, "Unexpected with", "with gives the inputs of a standard step; a task's step passes values with env = { NAME = value }.")
		}
	} else if s.Uses != nil {
		c.decodeWith(s, a)
	}
	if a := attr["when"]; a != nil {
		s.When = d.runtime(a, scopeGranule, cty.Bool)
		if s.When != nil && !c.isBool(a.Expr, scopeGranule) {
			d.errorf(a.Expr.Range(), "Condition is not a bool", "when decides per granule whether the step runs, so it must be true or false, but this is a %s. Write a comparison, such as when = granule.collection == \"hs3_hamsr\".", c.typeName(a.Expr, scopeGranule))
			s.When = nil
		}
	}
	return s, refs
}

// isBool says whether expr, already checked, is a bool before any
// conversion. HCL converts a string to a bool when it reads "true" or
// "false", so a string known only at run time passes the type check; for a
// condition, that is almost always a mistake (a missing comparison).
func (c *checker) isBool(expr hcl.Expression, sc scope) bool {
	v, diags := expr.Value(c.d.ctxFor(sc))
	if diags.HasErrors() {
		return true // reported already
	}
	ty := v.Type()
	return ty == cty.Bool || ty == cty.DynamicPseudoType || (v.IsKnown() && !v.IsNull() && ty == cty.String && (v.AsString() == "true" || v.AsString() == "false"))
}

func (c *checker) typeName(expr hcl.Expression, sc scope) string {
	v, _ := expr.Value(c.d.ctxFor(sc))
	return v.Type().FriendlyName()
}

// afterRefs resolves a step's after list against the steps of its own
// pipeline. A name that belongs to another pipeline's step gets its own
// message: a step can wait only for steps of the same granule's run.
func (c *checker) afterRefs(p *Pipeline, a *hcl.Attribute, stepNames map[string]hcl.Range) []blockRef {
	d := c.d
	if a == nil {
		return nil
	}
	exprs, diags := hcl.ExprList(a.Expr)
	if diags.HasErrors() {
		d.errorf(a.Expr.Range(), "Invalid reference list", "after must be a list of references to steps of this pipeline, such as [step.NAME].")
		return nil
	}
	var out []blockRef
	seen := map[string]bool{}
	for _, e := range exprs {
		if t, td := hcl.AbsTraversalForExpr(e); !td.HasErrors() && len(t) == 2 && t.RootName() == "step" {
			if attr, ok := t[1].(hcl.TraverseAttr); ok {
				if _, local := stepNames[attr.Name]; !local {
					if others := c.pipelinesWithStep(attr.Name, p.Name); len(others) > 0 {
						d.errorf(t.SourceRange(), "Step of another pipeline", "step.%s is a step of pipeline %q, but after can name only steps of this pipeline (%q): each granule's run follows one pipeline. Name a step of %q (%s), or move the step.", attr.Name, others[0], p.Name, p.Name, listNames(sortedKeys(stepNames)))
						continue
					}
				}
			}
		}
		r, ok := d.refIn(e, "after", "step", stepNames, true)
		if !ok {
			continue
		}
		if seen[r.Name] {
			d.warnf(r.Range, "Duplicate reference", "step.%s is listed twice in after; remove one.", r.Name)
			continue
		}
		seen[r.Name] = true
		out = append(out, r)
	}
	return out
}

// pipelinesWithStep returns the names of the pipelines, other than except,
// that declare a step named name, sorted. It reads the parsed files rather
// than the checked model, because pipelines declared later are not decoded
// yet; it runs only on the way to an error.
func (c *checker) pipelinesWithStep(name, except string) []string {
	var out []string
	for _, fname := range sortedKeys(c.parser.Files()) {
		body, ok := c.parser.Files()[fname].Body.(*hclsyntax.Body)
		if !ok || body == nil {
			continue
		}
		for _, b := range body.Blocks {
			if b.Type != "pipeline" || len(b.Labels) != 1 || b.Labels[0] == except {
				continue
			}
			for _, sb := range b.Body.Blocks {
				if sb.Type == "step" && len(sb.Labels) == 1 && sb.Labels[0] == name {
					out = append(out, b.Labels[0])
					break
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// exprMap decodes an object constructor whose values may be run-time
// expressions, one Expr per key; typeOf checks a key (given with its range)
// and says its type, or cty.NilType to skip the key after reporting it.
func (c *checker) exprMap(a *hcl.Attribute, sc scope, typeOf func(string, hcl.Range) cty.Type) map[string]*Expr {
	d := c.d
	pairs, diags := hcl.ExprMap(a.Expr)
	if diags.HasErrors() {
		d.errorf(a.Expr.Range(), "Incorrect attribute value type", "%s must be an object written in place, such as { NAME = \"value\" }.", a.Name)
		return nil
	}
	out := map[string]*Expr{}
	keys := map[string]hcl.Range{}
	for _, kv := range pairs {
		kval, kd := kv.Key.Value(nil)
		if kd.HasErrors() || kval.Type() != cty.String || !kval.IsKnown() || kval.IsNull() {
			d.errorf(kv.Key.Range(), "Invalid key", "Keys of %s must be names written in place, such as NAME = value.", a.Name)
			continue
		}
		k := kval.AsString()
		if prev, dup := keys[k]; dup {
			d.errorf(kv.Key.Range(), "Duplicate key", "%q is already set at %s; remove one.", k, rangeString(prev))
			continue
		}
		keys[k] = kv.Key.Range()
		ty := typeOf(k, kv.Key.Range())
		if ty == cty.NilType {
			continue
		}
		if e := d.runtimeExpr(k, kv.Value, sc, ty); e != nil {
			out[k] = e
		}
	}
	return out
}

// decodeWith checks a standard step's inputs against its contract: no
// unknown inputs, each of its type and among its allowed values, every
// required one present. Defaults fill in the rest, so With is complete.
func (c *checker) decodeWith(s *Step, a *hcl.Attribute) {
	d := c.d
	contract := s.Uses
	s.With = map[string]*Expr{}
	if a != nil {
		s.With = c.exprMap(a, scopeGranule, func(k string, krng hcl.Range) cty.Type {
			in, ok := contract.Input(k)
			if !ok {
				d.errorf(krng, "Unknown input", "stdlib.%s has no input named %q.%s Its inputs: %s.", contract.Name, k, didYouMean(k, contract.InputNames()), listNames(contract.InputNames()))
				return cty.NilType
			}
			return in.Type
		})
		if s.With == nil { // the object itself was malformed (reported)
			s.With = map[string]*Expr{}
		}
	}
	for _, in := range contract.Inputs {
		e, ok := s.With[in.Name]
		if !ok {
			if in.Required {
				rng := s.DeclRange
				if a != nil {
					rng = a.Expr.Range()
				}
				d.errorf(rng, "Missing required input", "stdlib.%s needs the input %q (%s). Add it: with = { %s = ... }.", contract.Name, in.Name, in.Doc, in.Name)
				continue
			}
			s.With[in.Name] = &Expr{Expr: hcl.StaticExpr(in.Default, s.DeclRange), Value: in.Default}
			continue
		}
		if in.Type == cty.Bool && !c.isBool(e.Expr, scopeGranule) {
			d.errorf(e.Range(), "Incorrect attribute value type", "The input %q of stdlib.%s is true or false, but this is a %s that is known only at run time. Write true or false, or a comparison such as granule.collection == \"hs3_hamsr\".", in.Name, contract.Name, c.typeName(e.Expr, scopeGranule))
			continue
		}
		if len(in.Enum) > 0 && e.Static() && !e.Value.IsNull() {
			if v := e.Value.AsString(); !contains(in.Enum, v) {
				d.errorf(e.Range(), fmt.Sprintf("Unsupported %s %q", in.Name, v), "The input %q of stdlib.%s must be one of %s.%s", in.Name, contract.Name, quoteList(in.Enum), didYouMean(v, in.Enum))
			}
		}
	}
}

// checkStepCycles reports each loop of after references once, naming every
// step in it with where the reference that closes each link is written. The
// loop starts at its smallest step name, so the message is the same whatever
// the order of declaration.
func (c *checker) checkStepCycles(p *Pipeline, after map[*Step][]blockRef) {
	var names []string
	for _, s := range p.Steps {
		names = append(names, s.Name)
	}
	// A step that waits for itself is reported on its own; leaving the
	// self-edges out of the search keeps them from hiding a longer loop
	// through the same step.
	edges := func(n string) []string {
		var out []string
		if s := p.Step(n); s != nil {
			for _, a := range s.After {
				if a.Name != n {
					out = append(out, a.Name)
				}
			}
		}
		return out
	}
	refRange := func(from, to string) hcl.Range {
		s := p.Step(from)
		for _, r := range after[s] {
			if r.Name == to {
				return r.Range
			}
		}
		return s.Range("after")
	}
	for _, s := range p.Steps {
		for _, a := range s.After {
			if a == s {
				c.d.errorf(refRange(s.Name, s.Name), "Step runs after itself",
					"In pipeline %q, step %q lists itself in after, so it would wait for itself forever. Remove step.%s from its after list.", p.Name, s.Name, s.Name)
			}
		}
	}
	for _, cyc := range findCycles(names, edges) {
		var lines []string
		for i, n := range cyc {
			next := cyc[(i+1)%len(cyc)]
			lines = append(lines, fmt.Sprintf("  step.%s runs after step.%s (%s)", n, next, rangeString(refRange(n, next))))
		}
		c.d.errorf(refRange(cyc[0], cyc[1]), "Cycle in step dependencies",
			"In pipeline %q these steps wait for each other in a loop, so none of them could start:\n%s\nRemove one of these after references.", p.Name, strings.Join(lines, "\n"))
	}
}

// checkBackfillCollision reports a pipeline named X-backfill when pipeline X
// is declared and has a backfill state machine (there is a private bucket
// to keep its granule lists in): both state machines would be named
// prefix-X-backfill.
func (c *checker) checkBackfillCollision(p *Pipeline) {
	base, ok := strings.CutSuffix(p.Name, BackfillSuffix)
	if !ok || base == "" {
		return
	}
	other, declared := c.d.declared["pipeline"][base]
	if !declared || !c.hasPrivateBucket() {
		return
	}
	name := c.cfg.ResourceName(p.Name)
	c.d.errorf(p.NameRange, "Pipeline name taken by a backfill",
		"The state machine of pipeline %q would be named %q, which is also the name of the backfill state machine of pipeline %q (declared at %s). Rename one of them, such as this one to %q.",
		p.Name, name, base, rangeString(other), base+"_backfill")
}

// hasPrivateBucket says whether the configuration declares a private
// bucket, which pipelines' backfills keep their granule lists in.
func (c *checker) hasPrivateBucket() bool {
	for _, b := range c.cfg.Buckets {
		if b != nil && b.Kind == "private" {
			return true
		}
	}
	return false
}
