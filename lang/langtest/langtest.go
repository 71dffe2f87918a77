// Package langtest holds what tests and benchmarks of several packages share
// about configurations: a generator of large, valid ones.
package langtest

import (
	"fmt"
	"strings"
)

// GenerateConfig writes a configuration of n pipelines of 10 steps each,
// with what they need: per pipeline a collection (two files, samples and a
// url_path), a source, and eight container tasks; spread over files of 100
// pipelines, as a large archive would organise them.
func GenerateConfig(n int) map[string][]byte {
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
