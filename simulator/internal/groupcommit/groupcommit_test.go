package groupcommit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

var bucket = []byte("b")

// view is a write's view of a transaction in these tests: the transaction
// and what to undo should it be rolled back.
type view struct {
	tx   *bolt.Tx
	undo []func()
}

func (v *view) put(k, val string) error { return v.tx.Bucket(bucket).Put([]byte(k), []byte(val)) }

// open returns a Batcher over a fresh database with a bucket "b".
func open(t *testing.T) (*Batcher[*view], *bolt.DB) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "test.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket(bucket)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b := New(db, Hooks[*view]{
		Begin: func(tx *bolt.Tx) *view { return &view{tx: tx} },
		Rollback: func(v *view) {
			for i := len(v.undo) - 1; i >= 0; i-- {
				v.undo[i]()
			}
		},
	})
	return b, db
}

// hold starts a write that stays inside its transaction until release is
// called, so that the writes made meanwhile queue up behind it. wait
// blocks until n writes are queued.
func hold(t *testing.T, b *Batcher[*view]) (wait func(n int), release func()) {
	t.Helper()
	inside, held := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- b.Update(func(*view) error {
			close(inside)
			<-held
			return nil
		})
	}()
	<-inside
	wait = func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			q := b.Queued()
			if q >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d writes queued, want %d", q, n)
			}
		}
	}
	release = func() {
		close(held)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	return wait, release
}

func get(t *testing.T, db *bolt.DB, k string) string {
	t.Helper()
	var v string
	if err := db.View(func(tx *bolt.Tx) error { v = string(tx.Bucket(bucket).Get([]byte(k))); return nil }); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestLoneWrite checks that a write with none under way commits at once.
func TestLoneWrite(t *testing.T) {
	b, db := open(t)
	if err := b.Update(func(v *view) error { return v.put("k", "v") }); err != nil {
		t.Fatal(err)
	}
	if got := get(t, db, "k"); got != "v" {
		t.Errorf("k = %q after the write returned", got)
	}
	if q := b.Queued(); q != 0 {
		t.Errorf("%d writes queued after the write returned", q)
	}
}

// TestBatch checks that writes arriving during a commit share the next
// transaction, in arrival order, and each returns its own outcome.
func TestBatch(t *testing.T) {
	b, db := open(t)
	wait, release := hold(t, b)
	const n = 20
	var wg sync.WaitGroup
	txIDs := make([]int, n)
	for i := range n {
		wg.Go(func() {
			err := b.Update(func(v *view) error {
				txIDs[i] = v.tx.ID()
				// Each write sees its predecessors': the last one wins.
				return v.put("last", fmt.Sprint(i))
			})
			if err != nil {
				t.Error(err)
			}
		})
		wait(i + 1) // one at a time, so that write i is i-th in the queue
	}
	release()
	wg.Wait()
	for i, id := range txIDs {
		if id != txIDs[0] {
			t.Errorf("write %d committed in transaction %d, write 0 in %d: want one transaction", i, id, txIDs[0])
		}
	}
	if got := get(t, db, "last"); got != fmt.Sprint(n-1) {
		t.Errorf("last = %q, want %d: the writes did not run in arrival order", got, n-1)
	}
}

// TestMaxBatch checks that a transaction takes at most maxBatch writes,
// and that the rest commit next, together.
func TestMaxBatch(t *testing.T) {
	b, _ := open(t)
	wait, release := hold(t, b)
	const n = maxBatch + 5
	var wg sync.WaitGroup
	txIDs := make([]int, n)
	for i := range n {
		wg.Go(func() {
			if err := b.Update(func(v *view) error { txIDs[i] = v.tx.ID(); return nil }); err != nil {
				t.Error(err)
			}
		})
	}
	wait(n)
	release()
	wg.Wait()
	sizes := map[int]int{}
	for _, id := range txIDs {
		sizes[id]++
	}
	var got []int
	for _, k := range sizes {
		got = append(got, k)
	}
	slices.Sort(got)
	if want := []int{n - maxBatch, maxBatch}; !slices.Equal(got, want) {
		t.Errorf("transactions of %v writes, want %v", got, want)
	}
}

// TestFailure checks that a write failing in a batch undoes only itself:
// the batch is rolled back (its writes' rollback hooks run, last first),
// then each write is applied alone and returns its own outcome.
func TestFailure(t *testing.T) {
	b, db := open(t)
	wait, release := hold(t, b)
	errBoom := errors.New("boom")
	var mu sync.Mutex
	var runs, undone []string
	write := func(name string, fail bool) func(v *view) error {
		return func(v *view) error {
			mu.Lock()
			runs = append(runs, name)
			mu.Unlock()
			v.undo = append(v.undo, func() { undone = append(undone, name) })
			if err := v.put(name, "x"); err != nil {
				return err
			}
			if fail {
				return errBoom
			}
			return nil
		}
	}
	var wg sync.WaitGroup
	for i, name := range []string{"a", "fail", "c"} {
		wg.Go(func() {
			var want error
			if name == "fail" {
				want = errBoom
			}
			if err := b.Update(write(name, want != nil)); !errors.Is(err, want) {
				t.Errorf("write %s returned %v, want %v", name, err, want)
			}
		})
		wait(i + 1)
	}
	release()
	wg.Wait()
	if want := []string{"a", "fail", "a", "fail", "c"}; !slices.Equal(runs, want) {
		t.Errorf("writes ran %v, want %v (the batch up to the failure, then each alone)", runs, want)
	}
	if want := []string{"fail", "a", "fail"}; !slices.Equal(undone, want) {
		t.Errorf("rollback hooks ran for %v, want %v", undone, want)
	}
	for k, want := range map[string]string{"a": "x", "c": "x", "fail": ""} {
		if got := get(t, db, k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

// TestPanic checks that a write panicking in a batch panics in its own
// goroutine, is not run again, and that the writes batched with it are
// applied.
func TestPanic(t *testing.T) {
	b, db := open(t)
	wait, release := hold(t, b)
	var wg sync.WaitGroup
	var panics int
	wg.Go(func() {
		defer func() {
			if v := recover(); v != "oops" {
				t.Errorf("recovered %v, want the write's panic", v)
			}
		}()
		_ = b.Update(func(v *view) error {
			panics++
			if err := v.put("p", "x"); err != nil {
				return err
			}
			panic("oops")
		})
		t.Error("Update returned after a panic")
	})
	wait(1)
	wg.Go(func() {
		if err := b.Update(func(v *view) error { return v.put("k", "v") }); err != nil {
			t.Error(err)
		}
	})
	wait(2)
	release()
	wg.Wait()
	if panics != 1 {
		t.Errorf("the panicking write ran %d times, want 1", panics)
	}
	if get(t, db, "k") != "v" || get(t, db, "p") != "" {
		t.Errorf("k = %q, p = %q: want the other write applied, the panicking one not", get(t, db, "k"), get(t, db, "p"))
	}
}

// TestConcurrent checks, under load, that every write is applied exactly
// once and that writes keep being committed as the lead passes on.
func TestConcurrent(t *testing.T) {
	b, db := open(t)
	const writers, each = 16, 50
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				err := b.Update(func(v *view) error {
					bk := v.tx.Bucket(bucket)
					var n uint64
					if old := bk.Get([]byte("n")); old != nil {
						n = binary.BigEndian.Uint64(old)
					}
					return bk.Put([]byte("n"), binary.BigEndian.AppendUint64(nil, n+1))
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	got := get(t, db, "n")
	if n := binary.BigEndian.Uint64([]byte(got)); n != writers*each {
		t.Errorf("counter = %d, want %d", n, writers*each)
	}
	if q := b.Queued(); q != 0 {
		t.Errorf("%d writes left queued", q)
	}
}
