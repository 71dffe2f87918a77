package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cumulus-toolchain/cumulus/runtime/engine"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/simulator/state"
)

// BenchmarkGranulesPage measures the dashboard's hot request, a page of
// the granule table, over a store of 2,000 granules: the whole handler
// (query parsing, store read, JSON, ETag), without the network. A page
// costs its size, not the store's, so the figure holds for larger stores.
func BenchmarkGranulesPage(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	st, err := state.Open(ctx, dir, state.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for i := range 2000 {
		id := fmt.Sprintf("G_%06d", i)
		doc := contract.Granule{ID: id, Collection: "c", Version: "1", Files: []contract.File{{Name: id + ".nc", Type: "data", Bucket: "b", Key: "c/" + id + ".nc", Size: 1000}}}
		if _, err := st.EnqueueGranule(ctx, state.EnqueueRequest{Granule: doc, Pipeline: "p"}); err != nil {
			b.Fatal(err)
		}
	}
	h, err := engine.New(engine.Options{Store: engine.StateStore(st)})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	for _, c := range []struct{ name, path string }{
		{"page50", "/api/granules?limit=50"},
		{"page50-filtered", "/api/granules?limit=50&status=queued&prefix=G_001"},
		{"page1000", "/api/granules?limit=1000"},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, c.path, nil)
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("%s = %d %s", c.path, w.Code, w.Body)
				}
			}
		})
	}
	b.Run("page50-not-modified", func(b *testing.B) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/granules?limit=50", nil))
		req := httptest.NewRequest(http.MethodGet, "/api/granules?limit=50", nil)
		req.Header.Set("If-None-Match", w.Header().Get("ETag"))
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusNotModified {
				b.Fatalf("= %d", w.Code)
			}
		}
	})
}
