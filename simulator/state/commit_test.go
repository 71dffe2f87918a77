package state

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// holdCommit starts a write that stays inside its transaction until the
// returned release is called, so that the writes made meanwhile queue up
// behind it. wait blocks until n writes are queued.
func holdCommit(t *testing.T, s *Store) (wait func(n int), release func()) {
	t.Helper()
	inside, hold := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.update(ctx, func(*txn) error {
			close(inside)
			<-hold
			return nil
		})
	}()
	<-inside
	wait = func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			queued := s.batcher().Queued()
			if queued >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d writes queued, want %d", queued, n)
			}
		}
	}
	release = func() {
		close(hold)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	return wait, release
}

// TestGroupCommit checks that writes arriving during a commit share the
// next transaction, and that each still returns its own outcome.
func TestGroupCommit(t *testing.T) {
	s, _ := openTest(t)
	wait, release := holdCommit(t, s)
	const n = 20
	var wg sync.WaitGroup
	txIDs := make([]int, n)
	for i := range n {
		wg.Go(func() {
			err := s.update(ctx, func(tx *txn) error {
				txIDs[i] = tx.tx.ID()
				_, _, err := tx.enqueue(EnqueueRequest{Granule: doc(fmt.Sprint("G", i)), Pipeline: "ingest"})
				return err
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wait(n)
	release()
	wg.Wait()
	for i, id := range txIDs {
		if id != txIDs[0] {
			t.Errorf("write %d committed in transaction %d, write 0 in %d: want one transaction", i, id, txIDs[0])
		}
	}
	if st := must[Stats](t)(s.Stats(ctx)); st.Runs["ingest"][RunQueued] != n {
		t.Errorf("Stats = %+v, want %d queued runs", st, n)
	}
}

// TestGroupCommitFailure checks that a write failing in a batch undoes
// only itself: the others are applied, each returning its own outcome, and
// what the failed write did (in the store or outside it, through
// txn.onRollback) is undone. (The mechanism itself, panics included, is
// tested in simulator/internal/groupcommit.)
func TestGroupCommitFailure(t *testing.T) {
	s, _ := openTest(t)
	e := enqueue(t, s, "G0", DuplicateSkip)
	wait, release := holdCommit(t, s)

	errBoom := errors.New("boom")
	var wg sync.WaitGroup
	results := make(chan error, 8)
	// Two StartRun of one run: one adopts it, the other is refused, and the
	// refusal (which rolls the batch back) must not leave the run unmarked.
	for range 2 {
		wg.Go(func() {
			_, err := s.StartRun(ctx, e.RunID, pipelineSteps)
			results <- err
		})
	}
	wait(2)
	wg.Go(func() {
		err := s.update(ctx, func(tx *txn) error {
			if err := tx.b(bMeta).Put([]byte("scratch"), []byte("x")); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Errorf("failing write returned %v", err)
		}
	})
	wait(3)
	wg.Go(func() {
		if _, err := s.EnqueueGranule(ctx, EnqueueRequest{Granule: doc("G1"), Pipeline: "ingest"}); err != nil {
			t.Error(err)
		}
	})
	wait(4)
	release()
	wg.Wait()
	close(results)

	var ok, refused int
	for err := range results {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrState):
			refused++
		default:
			t.Errorf("StartRun: %v", err)
		}
	}
	if ok != 1 || refused != 1 {
		t.Errorf("StartRun twice: %d started, %d refused; want 1 and 1", ok, refused)
	}
	if !s.isLive(e.RunID) {
		t.Error("the started run is not marked as running here")
	}
	if r := must[Run](t)(s.Run(ctx, e.RunID)); r.Status != RunRunning {
		t.Errorf("run is %s", r.Status)
	}
	must[Granule](t)(s.Granule(ctx, "G1"))
	err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bMeta).Get([]byte("scratch")) != nil {
			return errors.New("the failed write's change was committed")
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}
