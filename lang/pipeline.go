package lang

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
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
	c.checkStepCycles(p)

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
	d.checkRoleName(p.NameRange, c.cfg.ResourceName(p.Name))
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
	case uses == nil && task == nil:
		d.errorf(s.DeclRange, "Step without work", "Step %q needs what it runs: uses = stdlib.NAME for a standard step (%s), or task = task.NAME for one of your tasks.", s.Name, strings.Join(stdlib.StepNames(), ", "))
	case uses != nil:
		names := map[string]hcl.Range{}
		for _, n := range stdlib.StepNames() {
			names[n] = hcl.Range{}
		}
		if r, ok := d.ref(uses.Expr, "uses", "stdlib", names); ok {
			s.Uses, _ = stdlib.LookupStep(r.Name)
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
	refs := d.refList(attr["after"], "step", stepNames)

	s.Retries = d.integer(attr["retries"], 0, 0, 100, "It is the number of retries after a failed attempt.")
	s.RetryDelay = d.duration(attr["retry_delay"], time.Minute, time.Second, 24*time.Hour, "")
	s.Backoff = d.number(attr["backoff"], 1, 1, 10, "Each retry waits backoff times longer than the one before; 1 keeps the delay constant.")
	if a := attr["timeout"]; a != nil {
		hi := 14 * 24 * time.Hour
		why := ""
		if (s.Task != nil && s.Task.RunsOn == "lambda") || (s.Uses != nil && s.Uses.RunsOn == "lambda") {
			hi, why = lambdaMaxTimeout, "This step runs on Lambda, which stops a function after 15 minutes at most."
		}
		s.Timeout = d.duration(a, s.Timeout, time.Second, hi, why)
	}
	if a := attr["env"]; a != nil {
		s.Env = c.exprMap(a, scopeGranule, func(k string, e hcl.Expression) cty.Type {
			if !envNamePattern.MatchString(k) {
				d.errorf(e.Range(), "Invalid environment variable name", "%q cannot be an environment variable name: use letters, digits and underscores, starting with a letter.", k)
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
	s.When = d.runtime(attr["when"], scopeGranule, cty.Bool)
	return s, refs
}

// exprMap decodes an object constructor whose values may be run-time
// expressions, one Expr per key; typeOf checks a key and says its type.
func (c *checker) exprMap(a *hcl.Attribute, sc scope, typeOf func(string, hcl.Expression) cty.Type) map[string]*Expr {
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
		ty := typeOf(k, kv.Value)
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
		s.With = c.exprMap(a, scopeGranule, func(k string, e hcl.Expression) cty.Type {
			in, ok := contract.Input(k)
			if !ok {
				d.errorf(e.Range(), "Unknown input", "stdlib.%s has no input named %q.%s Its inputs: %s.", contract.Name, k, didYouMean(k, contract.InputNames()), listNames(contract.InputNames()))
				return cty.NilType
			}
			return in.Type
		})
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
			s.With[in.Name] = &Expr{Value: in.Default}
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
// step in it with where its after is written.
func (c *checker) checkStepCycles(p *Pipeline) {
	var names []string
	for _, s := range p.Steps {
		names = append(names, s.Name)
	}
	edges := func(n string) []string {
		var out []string
		if s := p.Step(n); s != nil {
			for _, a := range s.After {
				out = append(out, a.Name)
			}
		}
		return out
	}
	for _, cyc := range findCycles(names, edges) {
		var lines []string
		for i, n := range cyc {
			next := cyc[(i+1)%len(cyc)]
			lines = append(lines, fmt.Sprintf("  step.%s runs after step.%s (%s)", n, next, rangeString(p.Step(n).Range("after"))))
		}
		first := p.Step(cyc[0])
		c.d.errorf(first.Range("after"), "Cycle in step dependencies",
			"In pipeline %q these steps wait for each other in a loop, so none of them could start:\n%s\nRemove one of these after references.", p.Name, strings.Join(lines, "\n"))
	}
}

