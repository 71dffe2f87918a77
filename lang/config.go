package lang

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/cumulus-toolchain/cumulus/stdlib"
)

// Extension is the suffix of configuration files; VarsExtension of variable
// files. Files ending in .auto.cumulus.vars in the folder are read
// automatically, as Terraform reads *.auto.tfvars.
const (
	Extension     = ".cumulus.hcl"
	VarsExtension = ".cumulus.vars"
	autoVarsExt   = ".auto" + VarsExtension
)

// Config is the checked model of one configuration: every file of one folder.
// Blocks appear in declaration order (files in name order, then position).
type Config struct {
	// Dir is the folder the configuration was read from.
	Dir string
	// Files holds every parsed file, configuration and variable files alike,
	// keyed by the name diagnostics use, for rendering source snippets.
	Files map[string]*hcl.File

	Variables     []*Variable
	Locals        []*Local
	Deployment    *Deployment
	Buckets       []*Bucket
	Providers     []*Provider
	Collections   []*Collection
	Sources       []*Source
	Tasks         []*Task
	Pipelines     []*Pipeline
	Distributions []*Distribution

	// EvalContext holds var, local and the function table: the base on
	// which run-time expressions (Expr) are evaluated for each granule.
	EvalContext *hcl.EvalContext

	index map[string]any // "kind.name" -> block, for lookups during and after the load
}

// VarArg is one -var or -var-file argument, kept in command-line order
// because later arguments win.
type VarArg struct {
	// Name and Value come from -var NAME=VALUE.
	Name, Value string
	// File is the path of a -var-file argument (Name and Value empty).
	File string
}

// Options are the inputs of a load besides the files themselves.
type Options struct {
	Vars []VarArg
	// Env is the process environment ("KEY=VALUE"), read for
	// CUMULUS_VAR_name; passed in so that no global state is read.
	Env []string
	// NoFileFunctions leaves out file-reading functions (for untrusted input,
	// such as fuzzing).
	NoFileFunctions bool
}

// Load reads every *.cumulus.hcl file in dir as one configuration and checks
// it. The Config is returned even when there are errors, so callers can
// render diagnostics with source snippets from Config.Files.
func Load(dir string, opts Options) (*Config, hcl.Diagnostics) {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return &Config{Dir: dir, Files: map[string]*hcl.File{}}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Not a folder",
			Detail:   fmt.Sprintf("%s is a file, but a configuration is every *%s file of a folder. Give the folder: %s.", dir, Extension, filepath.Dir(dir)),
		}}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return &Config{Dir: dir, Files: map[string]*hcl.File{}}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration folder",
			Detail:   fmt.Sprintf("%s. Give the folder that holds the *%s files.", err, Extension),
		}}
	}
	srcs := map[string][]byte{}
	var diags hcl.Diagnostics
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), Extension) || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		name := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(name)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read configuration file", Detail: err.Error()})
			continue
		}
		srcs[name] = b
	}
	if len(srcs) == 0 && !diags.HasErrors() {
		return &Config{Dir: dir, Files: map[string]*hcl.File{}}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail:   fmt.Sprintf("The folder %s holds no *%s files. Give the folder of a configuration, such as examples/hs3.", dir, Extension),
		}}
	}
	cfg, more := LoadSources(dir, srcs, opts)
	return cfg, append(diags, more...)
}

// LoadSources checks a configuration given as file contents keyed by file
// name; dir is the folder relative paths (build contexts, var files, file())
// resolve against.
func LoadSources(dir string, srcs map[string][]byte, opts Options) (*Config, hcl.Diagnostics) {
	p := hclparse.NewParser()
	cfg := &Config{Dir: dir, Files: p.Files()}
	var diags hcl.Diagnostics
	var bodies []hcl.Body
	for _, pf := range parseAll(srcs) {
		diags = append(diags, pf.diags...)
		if pf.file != nil {
			p.AddFile(pf.name, pf.file)
			bodies = append(bodies, pf.file.Body)
		}
	}
	c := &checker{cfg: cfg, parser: p, opts: opts, d: newDecoder()}
	c.d.diags = diags
	c.check(bodies)
	cfg.Files = p.Files()
	return cfg, c.d.diags
}

type parsedFile struct {
	name  string
	file  *hcl.File
	diags hcl.Diagnostics
}

// parseAll parses files concurrently, one worker per CPU: parsing is most of
// the time a load takes, files are independent, and a large archive's
// configuration is many files. Results come back in name order.
func parseAll(srcs map[string][]byte) []parsedFile {
	names := sortedKeys(srcs)
	out := make([]parsedFile, len(names))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(names)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f, diags := hclsyntax.ParseConfig(srcs[names[i]], names[i], hcl.InitialPos)
				out[i] = parsedFile{name: names[i], file: f, diags: diags}
			}
		}()
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

var rootSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "locals"},
	{Type: "deployment"},
	{Type: "bucket", LabelNames: []string{"name"}},
	{Type: "provider", LabelNames: []string{"name"}},
	{Type: "collection", LabelNames: []string{"name"}},
	{Type: "source", LabelNames: []string{"name"}},
	{Type: "task", LabelNames: []string{"name"}},
	{Type: "pipeline", LabelNames: []string{"name"}},
	{Type: "distribution", LabelNames: []string{"name"}},
}}

// checker runs the phases of a load: declare every name, then variables,
// then locals in dependency order, then each block, then the checks that
// span blocks. Each phase gathers all its diagnostics before the next runs.
type checker struct {
	cfg    *Config
	parser *hclparse.Parser
	opts   Options
	d      *decoder
}

// identifier is what a block name must be so that kind.NAME references it.
var identifier = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

func (c *checker) check(bodies []hcl.Body) {
	d := c.d
	byType := map[string][]*hcl.Block{}
	for _, body := range bodies {
		content, diags := body.Content(rootSchema)
		d.add(explainTopLevel(diags))
		for _, b := range content.Blocks {
			byType[b.Type] = append(byType[b.Type], b)
		}
	}

	// Declare every name first, so references resolve whatever the order.
	for _, kind := range []string{"variable", "bucket", "provider", "collection", "source", "task", "pipeline", "distribution"} {
		key := kind
		seen := map[string]hcl.Range{}
		var kept []*hcl.Block
		for _, b := range byType[kind] {
			name := b.Labels[0]
			if !identifier.MatchString(name) {
				refKind := kind
				if kind == "variable" {
					refKind = "var"
				}
				d.errorf(b.LabelRanges[0], fmt.Sprintf("Invalid %s name", kind),
					"%q cannot be used as a name: names start with a letter and contain only letters, digits, underscores and dashes, so that they can be referred to as %s.NAME.", name, refKind)
				continue
			}
			if prev, dup := seen[name]; dup {
				d.errorf(b.LabelRanges[0], fmt.Sprintf("Duplicate %s %q", kind, name),
					"A %s named %q was already declared at %s. Rename one of them or remove the duplicate.", kind, name, rangeString(prev))
				continue
			}
			seen[name] = b.DefRange
			kept = append(kept, b)
		}
		byType[kind] = kept
		d.declared[key] = seen
	}
	deployments := byType["deployment"]
	for _, extra := range deployments[min(1, len(deployments)):] {
		d.errorf(extra.DefRange, "Duplicate deployment block", "A deployment block was already declared at %s. A configuration has at most one; merge them.", rangeString(deployments[0].DefRange))
	}

	funcs := stdlib.Functions(c.cfg.Dir, !c.opts.NoFileFunctions)
	c.cfg.Variables = c.decodeVariables(byType["variable"])
	varVals := map[string]cty.Value{}
	for _, v := range c.cfg.Variables {
		d.vars[v.Name] = true
		varVals[v.Name] = v.Value
	}
	d.static = &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(varVals)}, Functions: funcs}
	c.cfg.Locals = c.decodeLocals(byType["locals"])
	localVals := map[string]cty.Value{}
	for _, l := range c.cfg.Locals {
		localVals[l.Name] = l.Value
	}
	d.static.Variables["local"] = cty.ObjectVal(localVals)
	d.granule = d.static.NewChild()
	d.granule.Variables = map[string]cty.Value{"granule": cty.UnknownVal(stdlib.GranuleType())}
	d.file = d.granule.NewChild()
	d.file.Variables = map[string]cty.Value{"file": cty.UnknownVal(stdlib.FileType())}
	c.cfg.EvalContext = d.static

	var dep *hcl.Block
	if len(deployments) > 0 {
		dep = deployments[0]
	}
	c.cfg.Deployment = c.decodeDeployment(dep)
	for _, b := range byType["bucket"] {
		c.cfg.Buckets = append(c.cfg.Buckets, c.decodeBucket(b))
	}
	for _, b := range byType["provider"] {
		c.cfg.Providers = append(c.cfg.Providers, c.decodeProvider(b))
	}
	for _, b := range byType["collection"] {
		c.cfg.Collections = append(c.cfg.Collections, c.decodeCollection(b))
	}
	for _, b := range byType["task"] {
		c.cfg.Tasks = append(c.cfg.Tasks, c.decodeTask(b))
	}
	for _, b := range byType["pipeline"] {
		c.cfg.Pipelines = append(c.cfg.Pipelines, c.decodePipeline(b))
	}
	for _, b := range byType["source"] {
		c.cfg.Sources = append(c.cfg.Sources, c.decodeSource(b))
	}
	for _, b := range byType["distribution"] {
		c.cfg.Distributions = append(c.cfg.Distributions, c.decodeDistribution(b))
	}
	c.checkDashboardAuth()
	c.checkUsage()
	sortDiagnostics(d.diags)
}

// explainTopLevel rewrites hcl's generic messages about the top level of a
// file into ones that say what the top level may hold.
func explainTopLevel(diags hcl.Diagnostics) hcl.Diagnostics {
	var types []string
	for _, b := range rootSchema.Blocks {
		types = append(types, b.Type)
	}
	for _, d := range diags {
		switch d.Summary {
		case "Unsupported argument":
			d.Summary = "Attribute at the top level"
			d.Detail = "The top level of a configuration holds blocks only. To name a value, declare a variable (variable \"NAME\" { default = ... }) or put it in a locals block (locals { NAME = ... })."
		case "Unsupported block type":
			if !strings.Contains(d.Detail, "Did you mean") {
				d.Detail += " The block types are: " + strings.Join(types, ", ") + "."
			}
		}
	}
	return diags
}

// sortDiagnostics orders diagnostics by file and position, so that output
// reads top to bottom whatever order the phases found them in. Diagnostics
// without a range (command-line variables) come first.
func sortDiagnostics(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
}

// rangeString writes a position as compact output does, FILE:LINE:COL, so
// that a position inside a message reads (and jumps, in editors) the same.
func rangeString(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

func (c *Config) register(kind, name string, block any) {
	if c.index == nil {
		c.index = map[string]any{}
	}
	c.index[kind+"."+name] = block
}

func lookup[T any](c *Config, kind, name string) *T {
	b, _ := c.index[kind+"."+name].(*T)
	return b
}

// Bucket returns the bucket named name, or nil.
func (c *Config) Bucket(name string) *Bucket { return lookup[Bucket](c, "bucket", name) }

// Provider returns the provider named name, or nil.
func (c *Config) Provider(name string) *Provider { return lookup[Provider](c, "provider", name) }

// Collection returns the collection named name, or nil.
func (c *Config) Collection(name string) *Collection {
	return lookup[Collection](c, "collection", name)
}

// Task returns the task named name, or nil.
func (c *Config) Task(name string) *Task { return lookup[Task](c, "task", name) }

// Pipeline returns the pipeline named name, or nil.
func (c *Config) Pipeline(name string) *Pipeline { return lookup[Pipeline](c, "pipeline", name) }

// Source returns the source named name, or nil.
func (c *Config) Source(name string) *Source { return lookup[Source](c, "source", name) }
