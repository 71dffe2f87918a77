package dynamostore

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cumulus-toolchain/cumulus/runtime/engine"
	"github.com/cumulus-toolchain/cumulus/runtime/recorder"
	"github.com/cumulus-toolchain/cumulus/runtime/recorder/recordertest"
)

// BenchmarkRecord measures events recorded per second into dynalite by
// 16 concurrent writers: the scenario's granules, interleaved, each
// event a read and a conditional write (and its counters), conflicts
// included.
func BenchmarkRecord(b *testing.B) {
	db, rec := client(b)
	rec.off.Store(true)
	s, _ := newTables(b, db)
	r := recorder.New(s, nil)
	// Scenario granules have 11 to 17 events: about one granule per 14.
	gs := recordertest.Scenario(b.N/14 + 1)
	total := 0
	for _, g := range gs {
		total += len(g.Events)
	}
	b.ResetTimer()
	start := time.Now()
	if err := recordertest.Interleave(context.Background(), r.Handle, gs, recordertest.InOrder, 16, rand.New(rand.NewPCG(1, 1))); err != nil {
		b.Fatal(err)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(total)/el.Seconds(), "events/s")
	b.ReportMetric(0, "ns/op") // the events/s figure is the one that means something
}

// BenchmarkGranuleList100k measures the API's granule list (the whole
// handler: parsing, store queries, JSON, ETag) over 100,000 granules in
// dynalite, and reports its 99th percentile. The granules are loaded with
// BatchWriteItem (a load through the recorder would take far longer), so
// only -bench runs it.
func BenchmarkGranuleList100k(b *testing.B) {
	const n = 100_000
	db, rec := client(b)
	rec.off.Store(true)
	s, _ := newTables(b, db)
	loadGranules(b, s, n)
	h, err := engine.New(engine.Options{Store: s})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	for _, c := range []struct{ name, path string }{
		{"page50", "/api/granules?limit=50"},
		{"page50-status", "/api/granules?limit=50&status=failed"},
		{"page50-prefix", "/api/granules?limit=50&prefix=G_0420"},
		{"page50-collection-status", "/api/granules?limit=50&collection=c2&status=completed"},
	} {
		b.Run(c.name, func(b *testing.B) {
			// Walk pages, starting over at the end, so cursors are
			// exercised as much as first pages.
			var lat []time.Duration
			path := c.path
			for b.Loop() {
				t0 := time.Now()
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
				lat = append(lat, time.Since(t0))
				if w.Code != 200 {
					b.Fatalf("%s = %d %s", path, w.Code, w.Body)
				}
				var l engine.GranuleList
				if err := jsonUnmarshal(w.Body.Bytes(), &l); err != nil {
					b.Fatal(err)
				}
				path = c.path
				if l.Next != "" && len(lat)%10 != 0 {
					path = c.path + "&cursor=" + l.Next
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		})
	}
}

// loadGranules writes n granules straight into the table, 25 to a
// BatchWriteItem, 16 batches at a time.
func loadGranules(b *testing.B, s *Store, n int) {
	b.Helper()
	start := time.Now()
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	statuses := []string{engine.GranuleCompleted, engine.GranuleCompleted, engine.GranuleCompleted, engine.GranuleFailed, engine.GranuleRunning}
	batches := make(chan []types.WriteRequest)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range 16 {
		wg.Go(func() {
			for reqs := range batches {
				req := map[string][]types.WriteRequest{s.granules: reqs}
				for len(req) > 0 {
					out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
					if err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
						break
					}
					req = out.UnprocessedItems
				}
			}
		})
	}
	var batch []types.WriteRequest
	for i := range n {
		id := fmt.Sprintf("G_%07d", i)
		t := base.Add(time.Duration(i) * time.Second)
		g := recorder.Granule{ID: id, Collection: fmt.Sprintf("c%d", i%3), Pipeline: "ingest", Version: 1,
			Status: statuses[i%len(statuses)], Created: t, Updated: t.Add(time.Minute),
			Runs:      []recorder.RunRef{{ID: "run-" + id, Pipeline: "ingest", Version: 1, Status: engine.RunSucceeded, Created: t}},
			FileCount: 2, Bytes: 2048}
		item, err := granuleItem(g, 1)
		if err != nil {
			b.Fatal(err)
		}
		batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		if len(batch) == 25 || i == n-1 {
			batches <- batch
			batch = nil
		}
	}
	close(batches)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	b.Logf("loaded %d granules in %s", n, time.Since(start).Round(time.Millisecond))
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
