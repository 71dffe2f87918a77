package lang

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// generateConfig writes a configuration of n pipelines of 10 steps each,
// with what they need: per pipeline a collection (two files, samples and a
// url_path), a source, and eight container tasks; spread over files of 100
// pipelines, as a large archive would organise them.
func generateConfig(n int) map[string][]byte {
	files := map[string][]byte{}
	var b strings.Builder
	b.WriteString(`variable "stage" {
  type    = string
  default = "dev"
}
locals {
  prefix = "bench-${var.stage}"
}
deployment {
  prefix = local.prefix
  notify = "arn:aws:sns:us-west-2:123456789012:alerts"
}
bucket "staging" { kind = "private" }
bucket "protected" { kind = "protected" }
bucket "public" { kind = "public" }
provider "ftp" {
  protocol = "ftp"
  host     = "ftp.example.org"
}
distribution "main" {
  bucket "public" {
    cache_ttl = "24h"
  }
  bucket "protected" {
    link_ttl = "1h"
  }
}
`)
	files["main.cumulus.hcl"] = []byte(b.String())
	for f := 0; f*100 < n; f++ {
		b.Reset()
		for i := f * 100; i < min(n, (f+1)*100); i++ {
			fmt.Fprintf(&b, `collection "c%[1]d" {
  version    = "1"
  granule_id = "^(P%[1]d_[0-9]{8}T[0-9]{6})"
  file "data" {
    match  = "^P%[1]d_[0-9]{8}T[0-9]{6}\\.nc$"
    bucket = bucket.protected
    sample = "P%[1]d_20130825T000000.nc"
  }
  file "browse" {
    match    = "\\.png$"
    bucket   = bucket.public
    required = false
    sample   = "P%[1]d_20130825T000000.png"
  }
  url_path   = "p%[1]d/${granule.year}/${granule.id}"
  duplicates = "skip"
}
source "s%[1]d" {
  provider   = provider.ftp
  path       = "/pub/p%[1]d"
  collection = collection.c%[1]d
  every      = "15m"
  pipeline   = pipeline.p%[1]d
}
`, i)
			for t := 1; t <= 8; t++ {
				fmt.Fprintf(&b, `task "t%d_%d" {
  runs_on = "ecs"
  image   = "daac/step%d:1.%d"
  command = ["run", "--level", "%d"]
  cpu     = 512
  memory  = 2048
  timeout = "30m"
}
`, i, t, t, i, t)
			}
			fmt.Fprintf(&b, "pipeline \"p%d\" {\n  concurrency = 8\n  step \"s0\" {\n    uses = stdlib.sync_granule\n  }\n", i)
			for t := 1; t <= 8; t++ {
				fmt.Fprintf(&b, `  step "s%d" {
    task        = task.t%d_%d
    after       = [step.s%d]
    retries     = 3
    retry_delay = "2m"
    env         = { GRANULE = granule.id, LEVEL = "%d" }
    when        = granule.collection != "skip"
  }
`, t, i, t, t-1, t)
			}
			b.WriteString("  step \"s9\" {\n    uses  = stdlib.move_granule\n    after = [step.s8]\n    with  = { duplicates = \"replace\" }\n  }\n  on_failure {\n    notify = true\n  }\n}\n")
		}
		files[fmt.Sprintf("pipelines%02d.cumulus.hcl", f)] = []byte(b.String())
	}
	return files
}

func TestGeneratedConfigIsValid(t *testing.T) {
	cfg, diags := LoadSources("bench", generateConfig(20), Options{})
	if len(diags) > 0 {
		t.Fatalf("generated configuration has diagnostics:\n%s", diags)
	}
	if len(cfg.Pipelines) != 20 || len(cfg.Pipelines[19].Steps) != 10 || len(cfg.Tasks) != 160 {
		t.Fatalf("got %d pipelines, %d tasks", len(cfg.Pipelines), len(cfg.Tasks))
	}
}

func benchSize(b *testing.B) map[string][]byte {
	srcs := generateConfig(1000)
	size := 0
	for _, s := range srcs {
		size += len(s)
	}
	b.SetBytes(int64(size))
	return srcs
}

// BenchmarkParse is the floor: hclsyntax parsing the same bytes, nothing else.
func BenchmarkParse(b *testing.B) {
	srcs := benchSize(b)
	for b.Loop() {
		for name, src := range srcs {
			if _, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos); diags.HasErrors() {
				b.Fatal(diags)
			}
		}
	}
}

// BenchmarkValidate is the whole checker on 1,000 pipelines x 10 steps.
func BenchmarkValidate(b *testing.B) {
	srcs := benchSize(b)
	for b.Loop() {
		if _, diags := LoadSources("bench", srcs, Options{}); len(diags) > 0 {
			b.Fatal(diags)
		}
	}
}
