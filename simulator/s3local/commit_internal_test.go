package s3local

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	bolt "go.etcd.io/bbolt"
)

// heldStore is a store with a bucket "b" and a commit held open: writes made
// meanwhile queue until release.
func heldStore(t *testing.T) (s *store, queued func(n int), release func()) {
	t.Helper()
	s, err := openStore(context.Background(), t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.close() })
	if err := s.CreateBucket("b"); err != nil {
		t.Fatal(err)
	}
	inside, hold := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- s.update(func(*bolt.Tx) error {
			close(inside)
			<-hold
			return nil
		})
	}()
	<-inside
	queued = func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			q := s.commits.Queued()
			if q >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d writes queued, want %d", q, n)
			}
		}
	}
	release = func() {
		close(hold)
		if err := <-held; err != nil {
			t.Error(err)
		}
	}
	return s, queued, release
}

func put(s *store, key, data string) error {
	_, err := s.PutObject("b", key, nil, strings.NewReader(data), int64(len(data)), nil)
	return err
}

// TestGroupCommit checks that writes queued during a commit share the next
// transaction.
func TestGroupCommit(t *testing.T) {
	s, queued, release := heldStore(t)
	var wg sync.WaitGroup
	var first, last int
	wg.Go(func() {
		_ = s.update(func(tx *bolt.Tx) error { first = tx.ID(); return nil })
	})
	queued(1)
	wg.Go(func() {
		if err := put(s, "k", "data"); err != nil {
			t.Error(err)
		}
	})
	queued(2)
	wg.Go(func() {
		_ = s.update(func(tx *bolt.Tx) error { last = tx.ID(); return nil })
	})
	queued(3)
	release()
	wg.Wait()
	if first != last {
		t.Errorf("queued writes committed in transactions %d and %d, want one", first, last)
	}
	if _, err := s.lookup("b", "k"); err != nil {
		t.Error(err)
	}
}

// TestGroupCommitFailure checks that a write failing in a batch (after
// changing the index) fails alone: the writes around it are applied, each
// once, leaving no data unreferenced or removed too early. (The mechanism
// itself is tested in simulator/internal/groupcommit.)
func TestGroupCommitFailure(t *testing.T) {
	s, queued, release := heldStore(t)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := put(s, "k0", "old"); err != nil {
			t.Error(err)
		}
	})
	queued(1)
	wg.Go(func() {
		err := s.update(func(tx *bolt.Tx) error {
			if err := tx.Bucket(bucketsKey).Put([]byte("scratch"), []byte("{}")); err != nil {
				return err
			}
			return gofakes3.BucketNotFound("nope")
		})
		if !gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchBucket) {
			t.Errorf("failing write returned %v", err)
		}
	})
	queued(2)
	wg.Go(func() {
		if err := put(s, "k1", "new k1"); err != nil {
			t.Error(err)
		}
	})
	queued(3)
	release()
	wg.Wait()

	old, err := s.lookup("b", "k0")
	if err != nil {
		t.Fatal(err)
	}
	if err := put(s, "k0", "new k0"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.blobPath(old.Segments[0].Blob)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the replaced object's data is still there (%v)", err)
	}
	for _, key := range []string{"k0", "k1"} {
		obj, err := s.GetObject("b", key, nil)
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		data, _ := io.ReadAll(obj.Contents)
		obj.Contents.Close()
		if string(data) != "new "+key {
			t.Errorf("%s holds %q", key, data)
		}
	}
	if ok, _ := s.BucketExists("scratch"); ok {
		t.Error("the failed write's change was committed")
	}
	blobs := 0
	err = filepath.WalkDir(filepath.Join(s.dir, blobsDir), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			blobs++
		}
		return err
	})
	if err != nil || blobs != 2 {
		t.Errorf("%d blobs stored for 2 objects (%v)", blobs, err)
	}
}
