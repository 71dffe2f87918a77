package lang

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/cumulus-toolchain/cumulus/stdlib"
)

// Source is a place the acquisition poller watches: a path on a provider,
// holding files of one collection, whose granules go through a pipeline.
type Source struct {
	Decl
	Name       string
	Provider   *Provider
	Path       string
	Collection *Collection
	Every      time.Duration
	Pipeline   *Pipeline
	Recursive  bool
}

var sourceSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "provider", Required: true}, {Name: "path"}, {Name: "collection", Required: true},
	{Name: "every"}, {Name: "pipeline", Required: true}, {Name: "recursive"},
}}

func (c *checker) decodeSource(b *hcl.Block) *Source {
	d := c.d
	content, diags := b.Body.Content(sourceSchema)
	d.add(diags)
	attr := content.Attributes
	s := &Source{Decl: newDecl(b, content), Name: b.Labels[0], Recursive: true}
	c.cfg.register("source", s.Name, s)
	if a := attr["provider"]; a != nil {
		if r, ok := d.ref(a.Expr, "provider", "provider", nil); ok {
			s.Provider = c.cfg.Provider(r.Name)
		}
	}
	if a := attr["collection"]; a != nil {
		if r, ok := d.ref(a.Expr, "collection", "collection", nil); ok {
			s.Collection = c.cfg.Collection(r.Name)
		}
	}
	if a := attr["pipeline"]; a != nil {
		if r, ok := d.ref(a.Expr, "pipeline", "pipeline", nil); ok {
			s.Pipeline = c.cfg.Pipeline(r.Name)
		}
	}
	// EventBridge schedules run at most once a minute, at a rate of whole
	// minutes.
	s.Every = d.duration(attr["every"], 15*time.Minute, time.Minute, 0, "The poller runs on an EventBridge schedule, which fires at most once a minute.")
	if s.Every%time.Minute != 0 {
		a := attr["every"]
		lo, hi := s.Every.Truncate(time.Minute), s.Every.Truncate(time.Minute)+time.Minute
		d.errorf(a.Expr.Range(), "Invalid every", "The poller runs on an EventBridge schedule, whose rate is a whole number of minutes; %q is not. Write %q or %q.", d.str(a, ""), stdlib.FormatDuration(lo), stdlib.FormatDuration(hi))
		s.Every = lo
	}
	s.Recursive = d.boolean(attr["recursive"], true)
	s.Path = d.str(attr["path"], "")
	if s.Provider != nil {
		c.checkSourcePath(s, attr["path"])
	}
	d.checkRoleName(s.NameRange, c.cfg, s.Name, RolePoller, RoleExecution, RoleScheduler)
	d.checkName(s.NameRange, "poller's ECS task definition family", c.cfg.ResourceName(s.Name)+"-poller", maxFamily, "ECS")
	return s
}

func (c *checker) checkSourcePath(s *Source, a *hcl.Attribute) {
	d := c.d
	if a != nil && strings.Contains(s.Path, "://") {
		_, rest, _ := strings.Cut(s.Path, "://")
		_, p, _ := strings.Cut(rest, "/")
		if s.Provider.Protocol != "s3" {
			p = "/" + p
		}
		d.errorf(a.Expr.Range(), "Invalid path", "path is a path on provider.%s, not a URL: the provider gives the protocol and host. Write path = %q.", s.Provider.Name, p)
		return
	}
	switch s.Provider.Protocol {
	case "ftp", "http", "https":
		if s.Path == "" {
			s.Path = "/"
		}
		if !strings.HasPrefix(s.Path, "/") {
			d.errorf(s.Range("path"), "Invalid path", "On an %s server the path starts at the root: write path = %q.", strings.ToUpper(s.Provider.Protocol), "/"+s.Path)
		}
	case "s3":
		if strings.HasPrefix(s.Path, "/") {
			d.errorf(s.Range("path"), "Invalid path", "An S3 path is a key prefix without a leading slash: write path = %q.", strings.TrimLeft(s.Path, "/"))
		}
	case "local":
		if a == nil {
			d.errorf(s.DeclRange, "Missing required argument", "A source on a local provider (provider.%s) needs path: the folder to watch, absolute or relative to the configuration's folder, such as path = \"data/incoming\".", s.Provider.Name)
			return
		}
		if !filepath.IsAbs(s.Path) && contains(strings.Split(filepath.ToSlash(s.Path), "/"), "..") {
			d.warnf(a.Expr.Range(), "Path outside the configuration", "%q leaves the configuration's folder; an absolute path says more plainly where the data is.", s.Path)
		}
	}
}
