package lang

import (
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Task is a unit of work a step runs: a container on ECS (Fargate) or a
// Lambda function.
type Task struct {
	Decl
	Name   string
	RunsOn string // "ecs" or "lambda"
	// Image is the container image (ecs; or a Lambda container image URI).
	Image       string
	Command     []string
	Entrypoint  []string
	Environment map[string]string
	CPU         int // Fargate CPU units (ecs only)
	Memory      int // MiB
	Timeout     time.Duration
	// Build is the folder (relative to the configuration) the simulator
	// builds Image from; "" when the image is pulled.
	Build string
	// LocalCommand is what cumulus simulate runs on this machine instead of
	// the container or function, where there is no Docker engine or the
	// user wants a quick loop (argv; relative paths from the configuration).
	LocalCommand []string
	// TransientExitCodes are the exit codes that mean "try again" (a
	// provider busy, a lock held); when a task lists them, another code
	// fails its step at once, whatever the step's retries. Timeouts and
	// memory kills are retried either way.
	TransientExitCodes []int
	// Lambda code: a zip file (relative to the configuration) with a runtime
	// and handler, when Image is empty.
	Code, Runtime, Handler string
}

var runsOn = []string{"ecs", "lambda"}

var taskSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "runs_on", Required: true}, {Name: "image"}, {Name: "command"}, {Name: "entrypoint"}, {Name: "environment"},
	{Name: "cpu"}, {Name: "memory"}, {Name: "timeout"}, {Name: "build"}, {Name: "code"}, {Name: "runtime"}, {Name: "handler"},
	{Name: "local_command"}, {Name: "transient_exit_codes"},
}}

func (c *checker) decodeTask(b *hcl.Block) *Task {
	d := c.d
	content, diags := b.Body.Content(taskSchema)
	d.add(diags)
	attr := content.Attributes
	t := &Task{Decl: newDecl(b, content), Name: b.Labels[0]}
	c.cfg.register("task", t.Name, t)
	t.RunsOn = d.enum(attr["runs_on"], "", runsOn)
	if a := attr["image"]; a != nil {
		t.Image = d.str(a, "")
		if t.Image != "" {
			if _, err := reference.ParseNormalizedNamed(t.Image); err != nil {
				d.errorf(a.Expr.Range(), "Invalid image name", "%q is not a valid container image reference (%s). Write NAME[:TAG] or NAME@DIGEST in lowercase, e.g. \"daac/hamsr-preprocess:1.2\" or \"123456789012.dkr.ecr.us-west-2.amazonaws.com/hamsr:1.2\".", t.Image, err)
			}
		}
	}
	t.Command = d.strings(attr["command"])
	if a := attr["local_command"]; a != nil {
		t.LocalCommand = d.strings(a)
		if len(t.LocalCommand) == 0 && d.known(a) {
			d.errorf(a.Expr.Range(), "Empty local_command", "local_command is the program and its arguments that cumulus simulate runs on this machine, such as [\"python3\", \"preprocess.py\"]; an empty list runs nothing. Remove it or give the command.")
		}
	}
	if a := attr["transient_exit_codes"]; a != nil {
		t.TransientExitCodes = d.exitCodes(a)
	}
	t.Entrypoint = d.strings(attr["entrypoint"])
	if a := attr["environment"]; a != nil {
		t.Environment = d.stringMap(a)
		c.checkEnvNames(a, t)
	}
	if a := attr["build"]; a != nil {
		t.Build = d.str(a, "")
		if t.Build != "" {
			dir := filepath.Join(c.cfg.Dir, t.Build)
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				d.errorf(a.Expr.Range(), "Build context not found", "build names the folder to build the image from, relative to the configuration's folder, but there is no folder %q there. Create it with a Dockerfile in it, or correct the path; to pull the image instead of building it, remove build.", filepath.ToSlash(t.Build))
			} else if fi, err := os.Stat(filepath.Join(dir, "Dockerfile")); err != nil || fi.IsDir() {
				d.errorf(a.Expr.Range(), "Build context without a Dockerfile", "The image is built from the folder %q, but it holds no file named Dockerfile, which says how to build it. Add one, or correct the path.", filepath.ToSlash(t.Build))
			}
		}
	}
	named := false // a name-length error was reported: one is enough
	switch t.RunsOn {
	case "ecs":
		named = c.checkECSTask(t, attr)
	case "lambda":
		named = c.checkLambdaTask(t, attr)
	}
	if !named {
		switch t.RunsOn {
		case "lambda":
			d.checkRoleName(t.NameRange, c.cfg, t.Name, RoleFunction)
		default:
			d.checkRoleName(t.NameRange, c.cfg, t.Name, RoleTask, RoleExecution)
		}
	}
	return t
}

// checkEnvNames checks the names of a task's environment, each at its key
// when the map is written in place.
func (c *checker) checkEnvNames(a *hcl.Attribute, t *Task) {
	ranges := map[string]hcl.Range{}
	if pairs, diags := hcl.ExprMap(a.Expr); !diags.HasErrors() {
		for _, kv := range pairs {
			if k, kd := kv.Key.Value(c.d.static); !kd.HasErrors() && k.Type() == cty.String && k.IsKnown() && !k.IsNull() {
				ranges[k.AsString()] = kv.Key.Range()
			}
		}
	}
	for _, k := range sortedKeys(t.Environment) {
		rng, ok := ranges[k]
		if !ok {
			rng = a.Expr.Range()
		}
		if !envNamePattern.MatchString(k) {
			c.d.errorf(rng, "Invalid environment variable name", "%q cannot be an environment variable name: use letters, digits and underscores, starting with a letter, such as %q.", k, envNameFix(k))
			continue
		}
		if t.RunsOn == "lambda" {
			checkLambdaReserved(c.d, rng, k)
		}
	}
}

// envNameFix turns a rejected environment variable name into one that is
// accepted, for the message.
func envNameFix(k string) string {
	var b strings.Builder
	for _, r := range k {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		case b.Len() > 0:
			b.WriteByte('_')
		}
	}
	fixed := strings.TrimLeft(b.String(), "0123456789_")
	if fixed == "" {
		fixed = "NAME"
	}
	return fixed
}

// lambdaReservedEnv are the environment variables Lambda sets itself and
// refuses in a function's configuration (those that begin with an
// underscore fail the name pattern already).
var lambdaReservedEnv = []string{
	"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME",
	"AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_RUNTIME_API", "AWS_REGION", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"LAMBDA_RUNTIME_DIR", "LAMBDA_TASK_ROOT", "TZ",
}

// checkLambdaReserved reports an environment variable name Lambda refuses:
// one of its own, or a single letter (Lambda's names have at least two
// characters).
func checkLambdaReserved(d *decoder, rng hcl.Range, k string) {
	switch {
	case contains(lambdaReservedEnv, k):
		d.errorf(rng, "Reserved environment variable", "Lambda sets %s itself and refuses a function that sets it. Choose another name, such as CUMULUS_%s.", k, k)
	case len(k) < 2:
		d.errorf(rng, "Invalid environment variable name", "Lambda requires environment variable names of at least two characters; %q is one. Choose a longer name.", k)
	}
}

// checkECSTask checks what Fargate requires of a task; it says whether it
// reported a name too long.
func (c *checker) checkECSTask(t *Task, attr hcl.Attributes) bool {
	d := c.d
	if attr["image"] == nil {
		d.errorf(t.DeclRange, "Missing required argument", "A task that runs on ecs needs image = \"NAME:TAG\": the container image it runs (with build, the tag the built image gets).")
	}
	for _, name := range []string{"code", "runtime", "handler"} {
		if a := attr[name]; a != nil {
			d.errorf(a.Expr.Range(), "Unexpected "+name, "%s is a Lambda setting; a task that runs on ecs takes image and command. Remove it or set runs_on = \"lambda\".", name)
		}
	}
	t.CPU = 256
	cpuOK := true
	if a := attr["cpu"]; a != nil {
		cpuOK = false
		cpu := d.integer(a, 0, 1, 16384, fargateCPUWhy)
		if cpu != 0 {
			if _, ok := fargateMemory[cpu]; !ok {
				d.errorf(a.Expr.Range(), "Invalid cpu", "Fargate runs tasks with %s CPU units only (1024 units are one vCPU); %d is not one of them. The nearest is cpu = %d.", joinInts(fargateCPUs()), cpu, nearestInt(fargateCPUs(), cpu))
			} else {
				t.CPU, cpuOK = cpu, true
			}
		}
	}
	t.Memory = fargateMemory[t.CPU][0]
	if a := attr["memory"]; a != nil {
		mem := d.integer(a, 0, 1, 1<<20, "It is the task's memory in MiB, such as 2048.")
		if mem != 0 {
			t.Memory = mem
			// With a wrong cpu, the combination cannot be judged.
			if cpuOK && !containsInt(fargateMemory[t.CPU], mem) {
				cpuText := fmt.Sprintf("%d CPU units", t.CPU)
				if attr["cpu"] == nil {
					cpuText += " (the default, as cpu is not set)"
				}
				d.errorf(a.Expr.Range(), "Invalid cpu and memory combination", "Fargate does not run a task with %s and %d MiB. %s (MiB)%s.", cpuText, mem, fargateFix(t.CPU), fargateCPUFor(mem))
			}
		}
	}
	t.Timeout = d.duration(attr["timeout"], time.Hour, time.Second, 14*24*time.Hour, "An attempt longer than 14 days is not supported.")
	d.checkName(t.NameRange, "ECS task definition family", c.cfg.ResourceName(t.Name), maxFamily, "ECS")
	return len(c.cfg.ResourceName(t.Name)) > maxFamily
}

const fargateCPUWhy = "It is the task's Fargate CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384 (1024 are one vCPU)."

// fargateCPUFor says which cpu values allow mem, as the end of a sentence.
func fargateCPUFor(mem int) string {
	var fits []int
	for _, cpu := range fargateCPUs() {
		if containsInt(fargateMemory[cpu], mem) {
			fits = append(fits, cpu)
		}
	}
	switch len(fits) {
	case 0:
		return "; no cpu value allows exactly that much memory"
	case 1:
		return fmt.Sprintf("; for %d MiB, set cpu = %d", mem, fits[0])
	}
	return fmt.Sprintf("; for %d MiB, set cpu = %s", mem, joinIntsOr(fits))
}

func joinIntsOr(xs []int) string {
	s := joinInts(xs[:len(xs)-1])
	return s + " or " + fmt.Sprint(xs[len(xs)-1])
}

// nearestInt returns the element of xs (sorted) closest to x, the smaller
// one on a tie.
func nearestInt(xs []int, x int) int {
	best := xs[0]
	for _, v := range xs[1:] {
		if abs(v-x) < abs(best-x) {
			best = v
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// checkLambdaTask checks what Lambda requires of a function; it says
// whether it reported a name too long.
func (c *checker) checkLambdaTask(t *Task, attr hcl.Attributes) bool {
	d := c.d
	if a := attr["cpu"]; a != nil {
		d.errorf(a.Expr.Range(), "Unexpected cpu", "Lambda has no cpu setting: it gives CPU in proportion to memory. Remove cpu, or set runs_on = \"ecs\".")
	}
	for _, name := range []string{"command", "entrypoint", "build"} {
		if a := attr[name]; a != nil && t.Image == "" {
			d.errorf(a.Expr.Range(), "Unexpected "+name, "%s applies to container images; a Lambda task with code runs its handler. Remove it, or give image for a container-image function.", name)
		}
	}
	t.Memory = 1024
	if a := attr["memory"]; a != nil {
		t.Memory = d.integer(a, t.Memory, lambdaMinMemory, lambdaMaxMemory, "Lambda gives a function 128 to 10240 MB of memory; for more, run the work with runs_on = \"ecs\".")
	}
	t.Timeout = d.duration(attr["timeout"], 5*time.Minute, time.Second, lambdaMaxTimeout, "Lambda stops a function after 15 minutes at most; run longer work with runs_on = \"ecs\".")
	if t.Image != "" {
		for _, name := range []string{"code", "runtime", "handler"} {
			if a := attr[name]; a != nil {
				d.errorf(a.Expr.Range(), "Unexpected "+name, "A Lambda task with an image takes its code, runtime and handler from the image; remove %s, or remove image to deploy a zip.", name)
			}
		}
	} else {
		t.Code = d.str(attr["code"], "")
		t.Runtime = d.str(attr["runtime"], "")
		t.Handler = d.str(attr["handler"], "")
		switch {
		case attr["code"] == nil:
			d.errorf(t.DeclRange, "Missing required argument", "A Lambda task needs its code: code = \"path/to/function.zip\" with runtime and handler, or image = \"...\" for a container image.")
		case attr["runtime"] == nil:
			d.errorf(t.DeclRange, "Missing required argument", "A Lambda task with code needs runtime, one of %s.", quoteList(lambdaRuntimes))
		}
		if a := attr["runtime"]; a != nil && t.Runtime != "" && !contains(lambdaRuntimes, t.Runtime) {
			d.errorf(a.Expr.Range(), fmt.Sprintf("Unsupported runtime %q", t.Runtime), "%s", runtimeFix(t.Runtime))
		}
		if a := attr["handler"]; a != nil && t.Handler != "" && (len(t.Handler) > 128 || strings.ContainsAny(t.Handler, " \t\n\r")) {
			d.errorf(a.Expr.Range(), "Invalid handler", "Lambda takes a handler of at most 128 characters without spaces, such as \"main.handler\" (FILE.FUNCTION); %q is not one.", t.Handler)
		}
		if t.Handler == "" && attr["handler"] == nil && t.Runtime != "" && t.Runtime[:min(8, len(t.Runtime))] != "provided" {
			d.errorf(t.DeclRange, "Missing required argument", "A Lambda task with runtime %q needs handler, such as handler = \"main.handler\".", t.Runtime)
		}
	}
	size := 0
	for k, v := range t.Environment {
		size += len(k) + len(v)
	}
	if size > lambdaMaxEnv {
		d.errorf(t.Range("environment"), "Environment too large for Lambda", "Lambda allows 4 KB of environment variables in all; these take %d bytes. Move large values to S3 or SSM Parameter Store.", size)
	}
	d.checkName(t.NameRange, "Lambda function", c.cfg.ResourceName(t.Name), maxFunctionName, "Lambda")
	return len(c.cfg.ResourceName(t.Name)) > maxFunctionName
}

// runtimeFix explains an unsupported Lambda runtime. A runtime of a known
// language (an older version, usually deprecated) gets the versions of that
// language Lambda still takes; anything else the whole list, with a
// suggestion for a typo.
func runtimeFix(rt string) string {
	lang := strings.TrimRight(strings.SplitN(rt, ".", 2)[0], "0123456789")
	var same []string
	for _, r := range lambdaRuntimes {
		if lang != "" && strings.TrimRight(strings.SplitN(r, ".", 2)[0], "0123456789") == lang {
			same = append(same, r)
		}
	}
	if len(same) > 0 {
		return fmt.Sprintf("Lambda no longer creates functions with %s (or never did). For %s it takes %s: use the newest your code supports, such as runtime = %q.", rt, lang, quoteList(same), same[len(same)-1])
	}
	return fmt.Sprintf("Lambda creates functions with these runtimes only: %s.%s", quoteList(lambdaRuntimes), didYouMean(rt, lambdaRuntimes))
}

// exitCodes evaluates a list of process exit codes: whole numbers from 1
// to 255, each once (0 is success, never a failure to retry).
func (d *decoder) exitCodes(a *hcl.Attribute) []int {
	v, ok := d.eval(a, scopeStatic, cty.List(cty.Number))
	if !ok {
		return nil
	}
	var out []int
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			d.errorf(a.Expr.Range(), "Null list element", "%s must not contain null elements.", a.Name)
			return nil
		}
		bf := e.AsBigFloat()
		n, exact := bf.Int64()
		if !bf.IsInt() || exact != big.Exact || n < 1 || n > 255 {
			d.errorf(a.Expr.Range(), "Invalid exit code", "%s lists the exit codes that mean \"try again\": whole numbers from 1 to 255 (0 is success); %s is not one. Write, for example, transient_exit_codes = [75].", a.Name, bf.Text('g', -1))
			return nil
		}
		if containsInt(out, int(n)) {
			d.errorf(a.Expr.Range(), "Duplicate exit code", "%s lists %d twice; list each code once.", a.Name, n)
			return nil
		}
		out = append(out, int(n))
	}
	if len(out) == 0 && d.known(a) {
		d.errorf(a.Expr.Range(), "Empty transient_exit_codes", "An empty list would make every exit code fatal, even with retries. List the codes that mean \"try again\", such as [75], or remove the attribute to retry any failure.")
		return nil
	}
	return out
}
