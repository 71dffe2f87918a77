package lang

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/cumulus-toolchain/cumulus/lang/langtest"
)

func TestGeneratedConfigIsValid(t *testing.T) {
	cfg, diags := LoadSources("bench", langtest.GenerateConfig(20), Options{})
	if len(diags) > 0 {
		t.Fatalf("generated configuration has diagnostics:\n%s", diags)
	}
	if len(cfg.Pipelines) != 20 || len(cfg.Pipelines[19].Steps) != 10 || len(cfg.Tasks) != 160 {
		t.Fatalf("got %d pipelines, %d tasks", len(cfg.Pipelines), len(cfg.Tasks))
	}
}

func benchSize(b *testing.B) map[string][]byte {
	srcs := langtest.GenerateConfig(1000)
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
