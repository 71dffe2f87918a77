package state

import (
	"fmt"
	"testing"
)

// BenchmarkFinishStep measures durable step completions: each is one bbolt
// transaction (run record, step output, granule record and document),
// fsync'd before it returns. The writes/s metric of "durable" is the figure
// to quote; "nosync" turns bbolt's fsync off (never done outside this
// benchmark) to show how much of the cost is the disk's.
func BenchmarkFinishStep(b *testing.B) {
	b.Run("durable", func(b *testing.B) { benchFinishStep(b, false) })
	b.Run("nosync", func(b *testing.B) { benchFinishStep(b, true) })
}

func benchFinishStep(b *testing.B, noSync bool) {
	s, _ := openTest(b)
	s.db.NoSync = noSync
	const stepsPerRun = 10
	steps := make([]string, stepsPerRun)
	for i := range steps {
		steps[i] = fmt.Sprint("step", i)
	}
	out := doc("G", "G.nc", "G.nc.md5", "G.png")
	for i := range out.Files {
		out.Files[i].Checksum, out.Files[i].ChecksumType = "d41d8cd98f00b204e9800998ecf8427e", "md5"
	}
	runs := make([]string, (b.N+stepsPerRun-1)/stepsPerRun)
	granules := make([]string, len(runs))
	for i := range runs {
		granules[i] = fmt.Sprint("G", i)
		e := enqueue(b, s, granules[i], DuplicateSkip)
		must[Run](b)(s.StartRun(ctx, e.RunID, steps))
		runs[i] = e.RunID
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out.ID = granules[i/stepsPerRun]
		ok, err := s.FinishStep(ctx, runs[i/stepsPerRun], steps[i%stepsPerRun], StepResult{Status: StepSucceeded, Granule: &out})
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
}
