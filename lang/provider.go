package lang

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Provider is a place data comes from: an FTP or HTTP(S) server, an S3
// bucket outside the archive, or a local folder.
type Provider struct {
	Decl
	Name     string
	Protocol string // ftp, http, https, s3, local
	// Host is the server's host name (ftp, http, https) or the bucket's name (s3).
	Host           string
	Port           int // 0 for s3 and local
	Username       string
	Password       string
	Passive        bool // FTP passive mode (the default: it crosses firewalls)
	MaxConnections int
	Region         string // for s3
}

var protocols = []string{"ftp", "http", "https", "s3", "local"}

var defaultPorts = map[string]int{"ftp": 21, "http": 80, "https": 443}

var providerSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "protocol"}, {Name: "host"}, {Name: "port"}, {Name: "username"}, {Name: "password"},
	{Name: "passive"}, {Name: "max_connections"}, {Name: "region"},
}}

func (c *checker) decodeProvider(b *hcl.Block) *Provider {
	d := c.d
	content, diags := b.Body.Content(providerSchema)
	d.add(diags)
	attr := content.Attributes
	p := &Provider{Decl: newDecl(b, content), Name: b.Labels[0], Passive: true, MaxConnections: 4}
	c.cfg.register("provider", p.Name, p)

	if a := attr["protocol"]; a == nil || d.isNull(a) {
		d.errorf(p.DeclRange, "Missing required argument", "A provider needs a protocol: add protocol = \"ftp\", or one of %s.", quoteList(protocols[1:]))
	}
	if a := attr["protocol"]; a != nil {
		if v, ok := d.eval(a, scopeStatic, cty.String); ok {
			switch s := v.AsString(); {
			case s == "sftp" || s == "ftps" || s == "scp":
				d.errorf(a.Expr.Range(), fmt.Sprintf("Unsupported protocol %q", s), "cumulus does not support %s yet. Supported protocols: %s.", s, quoteList(protocols))
			default:
				p.Protocol = d.enum(a, "", protocols)
			}
		}
	}
	needsHost := p.Protocol != "local" && p.Protocol != ""
	if a := attr["host"]; a != nil {
		if p.Protocol == "local" {
			d.errorf(a.Expr.Range(), "Unexpected host", "A local provider reads a folder on this machine and has no host; remove host and give the folder as the source's path.")
		} else {
			p.Host = d.str(a, "")
			c.checkHost(a, p)
		}
	} else if needsHost {
		what := "the server's host name, such as host = \"ftp.example.org\""
		if p.Protocol == "s3" {
			what = "the bucket's name, such as host = \"noaa-goes16\""
		}
		d.errorf(p.DeclRange, "Missing required argument", "%s provider needs a host: %s.", anProtocol(p.Protocol), what)
	}
	p.Port = defaultPorts[p.Protocol]
	if a := attr["port"]; a != nil {
		if p.Port == 0 && p.Protocol != "" {
			why := "it reads the bucket through the S3 API"
			if p.Protocol == "local" {
				why = "it reads a folder on this machine"
			}
			d.errorf(a.Expr.Range(), "Unexpected port", "%s provider has no port: %s. Remove port.", anProtocol(p.Protocol), why)
		} else {
			p.Port = d.integer(a, p.Port, 1, 65535, "A TCP port is a whole number from 1 to 65535, such as 21 for FTP.")
		}
	}
	credentials := p.Protocol == "ftp" || p.Protocol == "http" || p.Protocol == "https"
	for _, name := range []string{"username", "password"} {
		a := attr[name]
		if a == nil {
			continue
		}
		if !credentials && p.Protocol != "" {
			why := "S3 credentials come from the AWS credential chain (environment, profile or role)"
			if p.Protocol == "local" {
				why = "a folder on this machine needs none"
			}
			d.errorf(a.Expr.Range(), "Unexpected "+name, "%s provider takes no %s: %s. Remove %s.", anProtocol(p.Protocol), name, why, name)
			continue
		}
		s := d.str(a, "")
		if name == "username" {
			p.Username = s
			continue
		}
		p.Password = s
		if len(a.Expr.Variables()) == 0 && s != "" {
			d.warnf(a.Expr.Range(), "Password written in the configuration", "A password in a configuration file ends up in version control. Declare a variable with sensitive = true and set it from the environment (CUMULUS_VAR_name), then write password = var.name.")
		}
	}
	if p.Password != "" && p.Username == "" && attr["username"] == nil {
		d.errorf(attr["password"].Expr.Range(), "Password without username", "A password is sent for a user; add username = \"...\" (for anonymous FTP, leave out both).")
	}
	if a := attr["passive"]; a != nil {
		if p.Protocol != "ftp" && p.Protocol != "" {
			d.errorf(a.Expr.Range(), "Unexpected passive", "passive is an FTP setting; remove it from %s provider.", strings.ToLower(anProtocol(p.Protocol)))
		} else {
			p.Passive = d.boolean(a, true)
		}
	}
	if a := attr["max_connections"]; a != nil {
		p.MaxConnections = d.integer(a, p.MaxConnections, 1, 64, "It caps the connections the poller opens to the provider at once.")
	}
	if a := attr["region"]; a != nil {
		if p.Protocol != "s3" && p.Protocol != "" {
			d.errorf(a.Expr.Range(), "Unexpected region", "region is an S3 setting; remove it from %s provider.", strings.ToLower(anProtocol(p.Protocol)))
		} else if r := d.str(a, ""); r != "" && !regionPattern.MatchString(r) {
			d.errorf(a.Expr.Range(), "Invalid region", "%q is not an AWS region name; write one such as \"us-east-1\".", r)
		} else {
			p.Region = r
		}
	}
	return p
}

func (c *checker) checkHost(a *hcl.Attribute, p *Provider) {
	d := c.d
	h := p.Host
	if scheme, rest, ok := strings.Cut(h, "://"); ok {
		host, _, _ := strings.Cut(rest, "/")
		d.errorf(a.Expr.Range(), "Invalid host", "host is a host name, not a URL: write host = %q (the protocol is %q already, and the path belongs to the source).", host, scheme)
		return
	}
	if p.Protocol == "s3" {
		if problem := bucketNameProblem(h); problem != "" {
			d.errorf(a.Expr.Range(), "Invalid host", "For an s3 provider, host is the bucket's name, but %q is not a valid bucket name: %s.", h, problem)
		}
		return
	}
	if name, port, ok := strings.Cut(h, ":"); ok && !strings.Contains(port, ":") {
		d.errorf(a.Expr.Range(), "Invalid host", "Give the port separately: host = %q and port = %s.", name, port)
		return
	}
	if !hostPattern.MatchString(h) || len(h) > 253 {
		d.errorf(a.Expr.Range(), "Invalid host", "%q is not a valid host name; write one such as \"ftp.example.org\" or an IP address.", h)
	}
}

// anProtocol is "An ftp", "A local": the article follows how the protocol's
// name is spoken (ef-tee-pee, ess-three).
func anProtocol(protocol string) string {
	if protocol == "local" {
		return "A local"
	}
	return "An " + protocol
}
