package state

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Group commit. A commit costs two fdatasyncs and a copy of every page on
// the path from each touched record to the root, and bbolt runs one writer
// at a time, so a store committing every operation alone spends nearly all
// its time in fsync, serially: with a scheduler's dozen runs in flight each
// operation waited for a dozen others' commits, and as the trees deepened
// (the paths lengthen with log n) every commit, hence every granule, cost
// more. Operations that arrive while a commit is under way are instead
// applied together, in arrival order, in the next transaction: one commit,
// one copy of the shared upper pages, for all of them. No operation returns
// before the transaction holding it is on disk, so durability is what it
// was; each one runs against the state its predecessors left, as if alone.
//
// There is no committer goroutine and no timer: the first writer to find no
// commit under way leads, committing the queue (its own write first) and
// then handing the lead to the first writer queued meanwhile, so a lone
// writer commits at once and a busy store batches by itself.

// maxBatch bounds the writes of one transaction, so one commit's dirty
// pages (held in memory until it ends) stay bounded.
const maxBatch = 128

// write is one operation waiting for, or being applied in, a commit.
type write struct {
	fn func(t *txn) error
	// wake is closed when the write is done (err is set), or, for the
	// first write of the queue, when its writer is to lead the next commit.
	wake     chan struct{}
	done     bool
	err      error
	panicked any
}

// update runs fn in a read-write transaction, possibly shared with other
// writes (fn sees their effects as if they had run before it, alone),
// stamped with one instant. It returns once the transaction is committed
// and fsync'd, or rolled back. fn may run more than once (when a write it
// was batched with fails, the batch is undone and each write is applied on
// its own): it must start from scratch each time, and register with
// txn.onRollback what it does outside the transaction.
func (s *Store) update(ctx context.Context, fn func(t *txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &write{fn: fn, wake: make(chan struct{})}
	s.wmu.Lock()
	s.queue = append(s.queue, w)
	lead := !s.leading
	s.leading = true
	s.wmu.Unlock()
	if !lead {
		<-w.wake
	}
	if !w.done {
		// Leading: the queue starts with w (a writer leads when the queue
		// was empty, or when the lead is handed to the queue's first).
		s.wmu.Lock()
		n := min(len(s.queue), maxBatch)
		batch := s.queue[:n:n]
		s.queue = s.queue[n:]
		s.wmu.Unlock()
		s.commit(batch)
		s.wmu.Lock()
		if len(s.queue) > 0 {
			close(s.queue[0].wake) // not done: its writer leads next
		} else {
			s.leading = false
		}
		s.wmu.Unlock()
	}
	if w.panicked != nil {
		panic(w.panicked)
	}
	return w.err
}

// commit applies the writes of batch in one transaction and finishes each
// (waking its writer, but for batch[0]'s, the caller). When one fails, the
// transaction is rolled back, with what its writes did outside it, and each
// write is then applied alone, so a failure undoes only its own write and
// each write returns its own outcome.
func (s *Store) commit(batch []*write) {
	var undo []func()
	failed := -1
	err := s.db.Update(func(tx *bolt.Tx) error {
		for i, w := range batch {
			t := &txn{tx: tx, now: s.clock.Now().UTC()}
			err := apply(w, t)
			undo = append(undo, t.undo...)
			if err != nil {
				failed = i
				return err
			}
		}
		return nil
	})
	if err != nil {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	if err == nil || len(batch) == 1 {
		for _, w := range batch {
			w.err, w.done = err, true
			if w != batch[0] {
				close(w.wake)
			}
		}
		return
	}
	for i, w := range batch {
		if i != failed || w.panicked == nil { // a write that panicked is not run again
			s.commit([]*write{w})
		}
		w.done = true
		if w != batch[0] {
			close(w.wake)
		}
	}
}

// apply runs w's function, turning a panic into an error that rolls the
// transaction back (the panic is raised again in w's own goroutine).
func apply(w *write, t *txn) (err error) {
	defer func() {
		if v := recover(); v != nil {
			w.panicked = v
			err = fmt.Errorf("panic in a write: %v", v)
		}
	}()
	return w.fn(t)
}
