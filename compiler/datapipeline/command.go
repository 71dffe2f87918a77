package datapipeline

import (
	"fmt"
	"strings"

	"github.com/cumulus-toolchain/cumulus/compiler/ecs"
	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

// The activity's command is a POSIX sh script for the worker's AWS CLI
// (version 1 on Data Pipeline's default AMI, so nothing here needs version
// 2). Three rules keep it safe:
//
//   - Per-granule values reach it as arguments (the activity's
//     scriptArgument: $1 the granule document, $2 the staged keys, then the
//     granule attributes the step uses), never as #{...} text inside the
//     script, so no granule id or file name can break its quoting.
//   - Everything the compiler writes into it is single-quoted, with ' written
//     '"'"' and "#{" written #''{ so that Data Pipeline, which evaluates
//     #{...} in every field before the shell runs, sees no expression.
//   - JSON is built from text escaped once: the compiler escapes what it
//     knows, and the script's j function escapes run-time values (one line
//     each: the trigger passes compact JSON and attributes of file names).

// PollInterval is how long the script sleeps between two looks at a
// running ECS task. (aws ecs wait tasks-stopped gives up after 10 minutes.)
const PollInterval = 15

// command returns the step's script and its arguments.
func command(g *graph.Graph, p *graph.Pipeline, s *graph.Step) (string, []string) {
	sc := &script{}
	// The run is the granule's own pipeline (see package doc): its id
	// names where the steps keep their results (runtime/platform).
	sc.vars = []string{"granule", "staged_keys", "run"}
	sc.args = []string{"#{" + ParamGranule + "}", "#{" + ParamStagedKeys + "}", "#{@pipelineId}"}
	for _, gp := range GranuleParams {
		if usesRef(s, "granule."+gp.Attr) {
			sc.vars = append(sc.vars, "granule_"+gp.Attr)
			sc.args = append(sc.args, "#{"+gp.ID+"}")
		}
	}

	t := s.Task
	what := "runs ECS task " + t.ResourceName + " and waits for it to stop"
	if t.RunsOn == "lambda" {
		what = "invokes Lambda function " + t.ResourceName + " and waits for its answer"
	}
	sc.line("# cumulus: step %s of pipeline %s %s.", s.Name, p.Name, what)
	sc.line("# The granule's values come in as arguments, so none can break this script's quoting.")
	sc.line("set -eu")
	sc.line("export AWS_DEFAULT_REGION=%s", shq(g.Region))
	for i, v := range sc.vars {
		if i < 9 {
			sc.line("%s=$%d", v, i+1)
		} else {
			sc.line("%s=${%d}", v, i+1)
		}
	}
	sc.line(`j() { printf '%%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }`)

	in := inputsOf(p, s)
	if t.RunsOn == "lambda" {
		sc.lambda(t, in)
	} else {
		sc.ecs(g, t, in)
	}
	return strings.Join(sc.lines, "\n") + "\n", sc.args
}

type script struct {
	lines []string
	vars  []string
	args  []string
}

func (sc *script) line(format string, args ...any) {
	sc.lines = append(sc.lines, fmt.Sprintf(format, args...))
}

// inputs is what a step's work receives, each value as a word that is JSON
// string content (or, for with, a JSON value).
type inputs struct {
	env     []named // the step's env, then the platform's CUMULUS_* (ECS)
	envExpr []named // NAME and HCL source, for the wrapper to evaluate
	with    []named // JSON values
	withSet bool    // a standard step: with is sent even when empty
	withExp []named // input name and HCL source
	// (Names and sources are JSON string content too.)
	when word // nil: no when
	pipe string
	step string
}

type named struct {
	name string
	val  word
}

func inputsOf(p *graph.Pipeline, s *graph.Step) *inputs {
	in := &inputs{pipe: p.Name, step: s.Name, withSet: s.Uses != ""}
	for _, b := range s.Env {
		if w, ok := content(b.Value); ok {
			in.env = append(in.env, named{b.Name, w})
		} else {
			in.envExpr = append(in.envExpr, named{b.Name, lit(jsonContent(source(b.Value)))})
		}
	}
	for _, b := range s.With {
		switch {
		case b.Value.Expr == "" && len(b.Value.Parts) == 0:
			raw := string(b.Value.Static)
			if raw == "" {
				raw = "null"
			}
			in.with = append(in.with, named{b.Name, lit(raw)})
		default:
			if w, ok := content(b.Value); ok {
				in.with = append(in.with, named{b.Name, append(append(lit(`"`), w...), lit(`"`)...)})
			} else {
				in.withExp = append(in.withExp, named{b.Name, lit(jsonContent(source(b.Value)))})
			}
		}
	}
	if s.When != nil {
		if w, ok := content(*s.When); ok {
			in.when = w
		} else {
			in.when = lit(jsonContent(source(*s.When)))
		}
	}
	return in
}

// ecs writes the part of the script that runs an ECS task.
func (sc *script) ecs(g *graph.Graph, t *graph.Task, in *inputs) {
	sc.line("env=''")
	sc.line(`e() { env="$env${env:+,}{\"name\":\"$1\",\"value\":\"$2\"}"; }`)
	for _, n := range in.env {
		sc.line("e %s %s", shq(jsonContent(n.name)), n.val)
	}
	for _, n := range in.envExpr {
		sc.line("e %s %s", shq(jsonContent("CUMULUS_ENV_EXPR_"+n.name)), n.val)
	}
	sc.line(`e CUMULUS_GRANULE "$(j "$granule")"`)
	sc.line(`e CUMULUS_STAGED_KEYS "$(j "$staged_keys")"`)
	sc.line("e CUMULUS_PIPELINE %s", shq(jsonContent(in.pipe)))
	sc.line("e CUMULUS_STEP %s", shq(jsonContent(in.step)))
	sc.line(`e CUMULUS_RUN "$(j "$run")"`)
	if in.when != nil {
		sc.line("# The step wrapper evaluates CUMULUS_WHEN for the granule and skips the step, succeeding, when it is false.")
		sc.line("e CUMULUS_WHEN %s", in.when)
	}
	if sc.withObject(in) {
		sc.line(`e CUMULUS_WITH "$(j "{$with}")"`)
	}
	if len(in.withExp) > 0 {
		sc.line("e CUMULUS_WITH_EXPR %s", lit(jsonContent(exprObject(in.withExp))))
	}
	overrides := concat(lit(`{"containerOverrides":[{"name":"`+ecs.ContainerName+`","environment":[`), raw("env"), lit(`]}]}`))
	sc.line("overrides=%s", overrides)

	cluster := shq(g.Cluster)
	// The same network as the pollers' EventBridge targets (package ecs):
	// the deployment's subnets, no public address.
	vpc := map[string]any{"subnets": nonNil(g.Subnets), "assignPublicIp": "DISABLED"}
	if len(g.SecurityGroups) > 0 {
		vpc["securityGroups"] = g.SecurityGroups
	}
	netJSON, _ := marshal(map[string]any{"awsvpcConfiguration": vpc}) // strings only
	sc.line("task=''")
	sc.line("# If Data Pipeline ends the attempt (timeout, cancel), stop the task rather than leave it running.")
	sc.line(`stop() { if [ -n "$task" ]; then aws ecs stop-task --cluster %s --task "$task" --reason 'cumulus: Data Pipeline ended the attempt' >/dev/null || true; fi; exit 1; }`, cluster)
	sc.line("trap stop HUP INT TERM")
	sc.line(`started=$(aws ecs run-task --cluster %s --launch-type FARGATE --task-definition %s --network-configuration %s --overrides "$overrides" --query '[tasks[0].taskArn,failures[0].reason]' --output text)`,
		cluster, shq(t.ResourceName), shq(string(netJSON)))
	sc.line(`task=$(printf '%%s\n' "$started" | cut -f1)`)
	sc.line(`if [ "$task" = None ]; then`)
	sc.line(`  echo "cumulus: ECS did not start task %s: $(printf '%%s\n' "$started" | cut -f2-)" >&2`, t.ResourceName)
	sc.line("  exit 1")
	sc.line("fi")
	sc.line(`echo "cumulus: started $task"`)
	sc.line("status=''")
	sc.line("# A failed look is not a failed step: the task runs on, so look again.")
	sc.line(`while [ "$status" != STOPPED ]; do`)
	sc.line("  sleep %d", PollInterval)
	sc.line(`  status=$(aws ecs describe-tasks --cluster %s --tasks "$task" --query 'tasks[0].lastStatus' --output text) || status=unknown`, cluster)
	sc.line("done")
	sc.line(`stopped=$(aws ecs describe-tasks --cluster %s --tasks "$task" --query 'tasks[0].[containers[0].exitCode,stoppedReason]' --output text)`, cluster)
	sc.line(`code=$(printf '%%s\n' "$stopped" | cut -f1)`)
	sc.line(`if [ "$code" != 0 ]; then`)
	sc.line(`  echo "cumulus: $task failed with exit code $code: $(printf '%%s\n' "$stopped" | cut -f2-)" >&2`)
	sc.line("  exit 1")
	sc.line("fi")
	sc.line(`echo "cumulus: $task succeeded"`)
}

// lambda writes the part of the script that invokes a Lambda function.
func (sc *script) lambda(t *graph.Task, in *inputs) {
	payload := concat(lit(`{"granule":`), raw("granule"), lit(`,"staged_keys":`), raw("staged_keys"),
		lit(`,"pipeline":"`+jsonContent(in.pipe)+`","step":"`+jsonContent(in.step)+`","run":"`), raw("run"), lit(`"`))
	if len(in.env) > 0 {
		sc.line("env=''")
		sc.line(`e() { env="$env${env:+,}\"$1\":\"$2\""; }`)
		for _, n := range in.env {
			sc.line("e %s %s", shq(jsonContent(n.name)), n.val)
		}
		payload = concat(payload, lit(`,"env":{`), raw("env"), lit("}"))
	}
	if len(in.envExpr) > 0 {
		payload = concat(payload, lit(`,"env_expr":`+exprObject(in.envExpr)))
	}
	if sc.withObject(in) {
		payload = concat(payload, lit(`,"with":{`), raw("with"), lit("}"))
	}
	if len(in.withExp) > 0 {
		payload = concat(payload, lit(`,"with_expr":`+exprObject(in.withExp)))
	}
	if in.when != nil {
		sc.line("# The step wrapper evaluates when for the granule and skips the step, succeeding, when it is false.")
		payload = concat(payload, lit(`,"when":"`), in.when, lit(`"`))
	}
	payload = concat(payload, lit("}"))

	// The CLI's read timeout must outlast the function: on a timeout it
	// retries, which would invoke the function a second time.
	readTimeout := t.Timeout.Seconds() + 60
	sc.line("payload=$(mktemp)")
	sc.line("out=$(mktemp)")
	sc.line(`printf '%%s' %s >"$payload"`, payload)
	sc.line("# fileb:// sends the payload as it is with either major version of the CLI.")
	sc.line(`error=$(aws lambda invoke --function-name %s --cli-read-timeout %d --payload "fileb://$payload" --query FunctionError --output text "$out")`,
		shq(t.ResourceName), readTimeout)
	sc.line(`cat "$out"`)
	sc.line("echo")
	sc.line(`rm -f "$payload" "$out"`)
	sc.line(`if [ "$error" != None ]; then`)
	sc.line(`  echo "cumulus: Lambda function %s failed: $error" >&2`, t.ResourceName)
	sc.line("  exit 1")
	sc.line("fi")
}

// withObject writes the lines that build $with, the JSON members of the
// step's inputs, and says whether the step has any to send.
func (sc *script) withObject(in *inputs) bool {
	if len(in.with) == 0 && !in.withSet {
		return false
	}
	sc.line("with=''")
	if len(in.with) > 0 {
		sc.line(`w() { with="$with${with:+,}\"$1\":$2"; }`)
	}
	for _, n := range in.with {
		sc.line("w %s %s", shq(jsonContent(n.name)), n.val)
	}
	return true
}

// exprObject is a JSON object of name to HCL source, from words of literal
// text that is already JSON string content.
func exprObject(ns []named) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range ns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + jsonContent(n.name) + `":"` + n.val.literal() + `"`)
	}
	b.WriteByte('}')
	return b.String()
}

// usesRef says whether any run-time value of s refers to ref.
func usesRef(s *graph.Step, ref string) bool {
	has := func(v graph.Value) bool {
		if v.Expr != "" {
			return false // the wrapper evaluates it from the granule document
		}
		for _, p := range v.Parts {
			if p.Ref == ref {
				return true
			}
		}
		return false
	}
	for _, b := range s.Env {
		if has(b.Value) && expressible(b.Value) {
			return true
		}
	}
	for _, b := range s.With {
		if has(b.Value) && expressible(b.Value) {
			return true
		}
	}
	return s.When != nil && has(*s.When) && expressible(*s.When)
}

// expressible says whether every reference of a template has a parameter.
func expressible(v graph.Value) bool {
	if v.Expr != "" {
		return false
	}
	for _, p := range v.Parts {
		if p.Ref == "" {
			continue
		}
		if _, ok := granuleParam(p.Ref); !ok {
			return false
		}
	}
	return true
}

// content is a value as JSON string content: a static value's text, or a
// template with each reference replaced by its escaped variable. ok is false
// for what Data Pipeline cannot express (an expression, or a reference
// without a parameter, such as file.name).
func content(v graph.Value) (word, bool) {
	if !expressible(v) {
		return nil, false
	}
	if len(v.Parts) == 0 {
		if len(v.Static) == 0 {
			return lit(""), true
		}
		return lit(jsonContent(v.StaticString())), true
	}
	var w word
	for _, p := range v.Parts {
		if p.Ref == "" {
			w = append(w, piece{lit: jsonContent(p.Lit)})
			continue
		}
		gp, _ := granuleParam(p.Ref)
		w = append(w, piece{v: "granule_" + gp.Attr, esc: true})
	}
	return w, true
}

// source is the HCL source of a value the step wrapper evaluates: an
// expression as written, or a template rebuilt from its parts.
func source(v graph.Value) string {
	if v.Expr != "" {
		return v.Expr
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, p := range v.Parts {
		if p.Ref != "" {
			b.WriteString("${" + p.Ref + "}")
			continue
		}
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "${", "$${", "%{", "%%{")
		b.WriteString(r.Replace(p.Lit))
	}
	b.WriteByte('"')
	return b.String()
}

// jsonContent is s escaped for the inside of a JSON string.
func jsonContent(s string) string {
	b, _ := marshal(s) // a string always encodes
	return string(b[1 : len(b)-1])
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// piece is literal text, or a shell variable: raw ("$x") or JSON-escaped
// at run time ("$(j "$x")").
type piece struct {
	lit string
	v   string
	esc bool
}

// word is one shell word made of pieces.
type word []piece

func lit(s string) word { return word{{lit: s}} }
func raw(v string) word { return word{{v: v}} }
func concat(ws ...word) word {
	var out word
	for _, w := range ws {
		out = append(out, w...)
	}
	return out
}

// literal is the text of a word without variables.
func (w word) literal() string {
	var b strings.Builder
	for _, p := range w {
		b.WriteString(p.lit)
	}
	return b.String()
}

// String writes the word for sh: runs of literal text single-quoted,
// variables double-quoted.
func (w word) String() string {
	var b, run strings.Builder
	pending := false
	flush := func() {
		if pending {
			b.WriteString(shq(run.String()))
			run.Reset()
			pending = false
		}
	}
	for _, p := range w {
		if p.v == "" {
			run.WriteString(p.lit)
			pending = true
			continue
		}
		flush()
		if p.esc {
			b.WriteString(`"$(j "$` + p.v + `")"`)
		} else {
			b.WriteString(`"$` + p.v + `"`)
		}
	}
	flush()
	if b.Len() == 0 {
		return "''"
	}
	return b.String()
}

// shq single-quotes s for sh, and splits every "#{" so that Data Pipeline
// does not take it for an expression.
func shq(s string) string {
	s = strings.ReplaceAll(s, "'", `'"'"'`)
	s = strings.ReplaceAll(s, "#{", `#''{`)
	return "'" + s + "'"
}
