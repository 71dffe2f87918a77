package executor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// BenchmarkNoopStep measures what the Process executor adds to running a
// program, the precursor of the scheduler's overhead: a no-op step (`true`)
// through Run against exec.Command("true").Run(). The work folders are made
// before the clock starts: making them is the caller's part.
func BenchmarkNoopStep(b *testing.B) {
	truePath, err := exec.LookPath("true")
	if err != nil {
		b.Skip("no true program")
	}
	p := NewProcess(ProcessOptions{})
	job := Job{
		Task:  &graph.Task{Name: "noop", LocalCommand: []string{truePath}},
		Input: contract.Input{Pipeline: "p", Step: "noop", Attempt: 1, Granule: contract.Granule{ID: "G1"}},
	}
	ctx := context.Background()
	workDirs := func(b *testing.B) []string {
		root := b.TempDir()
		dirs := make([]string, b.N)
		for i := range dirs {
			dirs[i] = filepath.Join(root, fmt.Sprint(i))
			if err := os.Mkdir(dirs[i], 0o755); err != nil {
				b.Fatal(err)
			}
		}
		return dirs
	}
	run := func(b *testing.B, dir string) {
		job := job
		job.WorkDir = dir
		if _, err := p.Run(ctx, job); err != nil {
			b.Fatal(err)
		}
	}

	b.Run("exec", func(b *testing.B) {
		for range b.N {
			if err := exec.Command(truePath).Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("executor", func(b *testing.B) {
		dirs := workDirs(b)
		b.ResetTimer()
		for i := range b.N {
			run(b, dirs[i])
		}
	})
	// Process start-up time drifts on a shared machine; alternating the two
	// in one loop compares them under the same conditions.
	b.Run("interleaved", func(b *testing.B) {
		dirs := workDirs(b)
		b.ResetTimer()
		var direct, executor time.Duration
		for i := range b.N {
			start := time.Now()
			if err := exec.Command(truePath).Run(); err != nil {
				b.Fatal(err)
			}
			mid := time.Now()
			run(b, dirs[i])
			direct, executor = direct+mid.Sub(start), executor+time.Since(mid)
		}
		n := float64(b.N)
		b.ReportMetric(float64(direct.Nanoseconds())/n, "exec-ns/op")
		b.ReportMetric(float64(executor.Nanoseconds())/n, "executor-ns/op")
		b.ReportMetric(100*(float64(executor)/float64(direct)-1), "overhead-%")
	})
}
