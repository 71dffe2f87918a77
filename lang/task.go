package lang

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/distribution/reference"
	"github.com/hashicorp/hcl/v2"
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
	// Lambda code: a zip file (relative to the configuration) with a runtime
	// and handler, when Image is empty.
	Code, Runtime, Handler string
}

var runsOn = []string{"ecs", "lambda"}

var taskSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "runs_on", Required: true}, {Name: "image"}, {Name: "command"}, {Name: "entrypoint"}, {Name: "environment"},
	{Name: "cpu"}, {Name: "memory"}, {Name: "timeout"}, {Name: "build"}, {Name: "code"}, {Name: "runtime"}, {Name: "handler"},
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
	t.Entrypoint = d.strings(attr["entrypoint"])
	if a := attr["environment"]; a != nil {
		t.Environment = d.stringMap(a)
		c.checkEnvNames(a.Expr.Range(), t.Environment)
	}
	if a := attr["build"]; a != nil {
		t.Build = d.str(a, "")
		if t.Build != "" {
			if fi, err := os.Stat(filepath.Join(c.cfg.Dir, t.Build)); err != nil || !fi.IsDir() {
				d.errorf(a.Expr.Range(), "Build context not found", "build names the folder to build the image from, relative to the configuration, but %q is not a folder there. Create it (cumulus task init scaffolds one) or correct the path.", t.Build)
			}
		}
	}
	switch t.RunsOn {
	case "ecs":
		c.checkECSTask(t, attr)
	case "lambda":
		c.checkLambdaTask(t, attr)
	}
	d.checkRoleName(t.NameRange, c.cfg.ResourceName(t.Name))
	return t
}

func (c *checker) checkEnvNames(rng hcl.Range, env map[string]string) {
	for _, k := range sortedKeys(env) {
		if !envNamePattern.MatchString(k) {
			c.d.errorf(rng, "Invalid environment variable name", "%q cannot be an environment variable name: use letters, digits and underscores, starting with a letter.", k)
		}
	}
}

func (c *checker) checkECSTask(t *Task, attr hcl.Attributes) {
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
	if a := attr["cpu"]; a != nil {
		cpu := d.integer(a, 0, 1, 16384, "")
		if cpu != 0 {
			if _, ok := fargateMemory[cpu]; !ok {
				d.errorf(a.Expr.Range(), "Invalid cpu", "Fargate tasks have %s CPU units; %d is not one of them.", joinInts(fargateCPUs()), cpu)
			} else {
				t.CPU = cpu
			}
		}
	}
	t.Memory = fargateMemory[t.CPU][0]
	if a := attr["memory"]; a != nil {
		mem := d.integer(a, 0, 1, 1<<20, "")
		if mem != 0 {
			t.Memory = mem
			if !containsInt(fargateMemory[t.CPU], mem) {
				d.errorf(a.Expr.Range(), "Invalid cpu and memory combination", "Fargate does not run a task with %d CPU units and %d MiB. %s (MiB).", t.CPU, mem, fargateFix(t.CPU))
			}
		}
	}
	t.Timeout = d.duration(attr["timeout"], time.Hour, time.Second, 14*24*time.Hour, "An attempt longer than 14 days is not supported.")
	d.checkName(t.NameRange, "ECS task definition family", c.cfg.ResourceName(t.Name), maxFamily, "ECS")
}

func (c *checker) checkLambdaTask(t *Task, attr hcl.Attributes) {
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
		t.Memory = d.integer(a, t.Memory, lambdaMinMemory, lambdaMaxMemory, "Lambda functions have 128 to 10240 MB of memory.")
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
			d.errorf(a.Expr.Range(), fmt.Sprintf("Unsupported runtime %q", t.Runtime), "Lambda creates functions with these runtimes only: %s.%s", quoteList(lambdaRuntimes), didYouMean(t.Runtime, lambdaRuntimes))
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
}
