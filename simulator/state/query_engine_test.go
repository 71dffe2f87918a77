package state

import (
	"errors"
	"testing"
)

func TestOpenReadOnly(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenReadOnly(ctx, dir, Options{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("OpenReadOnly of an empty folder = %v, want ErrNotFound", err)
	}
	w, err := Open(ctx, dir, Options{Clock: newClock()})
	if err != nil {
		t.Fatal(err)
	}
	v0, err := w.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.EnqueueGranule(ctx, EnqueueRequest{Granule: doc("G1"), Pipeline: "ingest"}); err != nil {
		t.Fatal(err)
	}
	v1, err := w.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v1 == v0 {
		t.Errorf("Version stayed %d across a write", v0)
	}
	if v, _ := w.Version(ctx); v != v1 {
		t.Errorf("Version moved from %d to %d without a write", v1, v)
	}
	if _, err := OpenReadOnly(ctx, dir, Options{LockTimeout: 200e6}); !errors.Is(err, ErrLocked) {
		t.Errorf("OpenReadOnly while a writer holds the store = %v, want ErrLocked", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	r1, err := OpenReadOnly(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r1.Close()
	r2, err := OpenReadOnly(ctx, dir, Options{})
	if err != nil {
		t.Fatalf("a second reader: %v", err)
	}
	defer r2.Close()
	if g, err := r2.Granule(ctx, "G1"); err != nil || g.Status != GranuleQueued {
		t.Errorf("Granule(G1) = %+v, %v", g, err)
	}
	if _, err := r1.EnqueueGranule(ctx, EnqueueRequest{Granule: doc("G2"), Pipeline: "ingest"}); err == nil {
		t.Error("a read-only store accepted a write")
	}
}
