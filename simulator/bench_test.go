package simulator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/lang"
)

const benchConfig = `
deployment {
  prefix = "bench"
}
bucket "staging" { kind = "private" }
bucket "archive" { kind = "protected" }
provider "disk" {
  protocol = "local"
}
collection "c" {
  version    = "1"
  granule_id = "^(G_[0-9]+)"
  bucket     = bucket.archive
  url_path   = "c/${granule.id}"
  file "data" {
    match = "\\.nc$"
  }
}
source "disk" {
  provider   = provider.disk
  path       = "data"
  collection = collection.c
  pipeline   = pipeline.p
}
pipeline "p" {
  concurrency = 16
  step "sync" {
    uses = stdlib.sync_granule
  }
  step "checksum" {
    uses  = stdlib.checksum
    after = [step.sync]
  }
  step "metadata" {
    uses  = stdlib.cmr_metadata
    after = [step.checksum]
  }
  step "archive" {
    uses  = stdlib.move_granule
    after = [step.metadata]
  }
}
`

// BenchmarkGranules runs n granules (one small file each) from a local
// source through a 4-step built-in pipeline with the embedded S3 endpoint
// and the durable store: the whole simulation, per granule. Cost per
// granule should stay flat as n grows, and memory bounded.
//
// CUMULUS_BENCH_GRANULES (comma-separated sizes, e.g. "500,5000") replaces
// the default sizes, to iterate faster than the 10,000 case allows.
func BenchmarkGranules(b *testing.B) {
	sizes := []int{1000, 10000}
	if env := os.Getenv("CUMULUS_BENCH_GRANULES"); env != "" {
		sizes = nil
		for _, f := range strings.Split(env, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				b.Fatalf("CUMULUS_BENCH_GRANULES=%q: %q is not a positive number", env, f)
			}
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			if testing.Short() && n > 1000 {
				b.Skip("-short")
			}
			for b.Loop() {
				b.StopTimer()
				dir := b.TempDir()
				if err := os.WriteFile(filepath.Join(dir, "main.cumulus.hcl"), []byte(benchConfig), 0o644); err != nil {
					b.Fatal(err)
				}
				data := filepath.Join(dir, "data")
				if err := os.MkdirAll(data, 0o755); err != nil {
					b.Fatal(err)
				}
				for i := range n {
					if err := os.WriteFile(filepath.Join(data, fmt.Sprintf("G_%06d.nc", i)), []byte(fmt.Sprintf("granule %d\n", i)), 0o644); err != nil {
						b.Fatal(err)
					}
				}
				cfg, diags := lang.Load(dir, lang.Options{})
				if diags.HasErrors() {
					b.Fatal(diags)
				}
				g, diags := graph.Build(cfg)
				if diags.HasErrors() {
					b.Fatal(diags)
				}
				b.StartTimer()
				sum, err := Run(context.Background(), Options{Config: cfg, Graph: g, Once: true, NoDocker: true})
				b.StopTimer()
				if err != nil || sum.Succeeded != n {
					b.Fatalf("%d of %d granules succeeded: %v (%+v)", sum.Succeeded, n, err, sum.Failures)
				}
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*n), "ms/granule")
		})
	}
}
