package s3local

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Group commit. Every index change is a bbolt transaction, fsync'd before
// the request is answered, and bbolt runs one writer at a time: with a
// dozen steps writing objects at once, each write would wait for a dozen
// commits (two fdatasyncs each). Writes arriving while a commit is under way
// are instead applied together, in arrival order, in the next transaction;
// none is answered before that transaction is on disk, so durability is
// what it was, and each write sees the state its predecessors left, as if
// alone.
//
// The first writer to find no commit under way leads: it commits the queue
// (its own write first), then hands the lead to the first writer queued
// meanwhile. A lone writer commits at once; no goroutine, no timer.
//
// (simulator/state batches its writes the same way.)

// maxBatch bounds the writes of one transaction.
const maxBatch = 128

// write is one index change waiting for, or being applied in, a commit.
type write struct {
	fn func(tx *bolt.Tx) error
	// wake is closed when the write is done (err is set), or, for the
	// first write of the queue, when its writer is to lead the next commit.
	wake     chan struct{}
	done     bool
	err      error
	panicked any
}

// update runs fn in a read-write transaction, possibly shared with other
// writes, and returns once it is committed and fsync'd, or rolled back. fn
// may run more than once (when a write it was batched with fails, the batch
// is rolled back and each write applied on its own), so it must start from
// scratch each time: reset what it collects for the caller.
func (s *store) update(fn func(tx *bolt.Tx) error) error {
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
		// Leading: the queue starts with w.
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

// commit applies batch in one transaction and finishes each write (waking
// its writer, but for batch[0]'s, the caller). When one fails, the
// transaction is rolled back and each write is applied alone, so a failure
// undoes only its own write and each write returns its own outcome.
func (s *store) commit(batch []*write) {
	failed := -1
	err := s.db.Update(func(tx *bolt.Tx) error {
		for i, w := range batch {
			if err := apply(w, tx); err != nil {
				failed = i
				return err
			}
		}
		return nil
	})
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
func apply(w *write, tx *bolt.Tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			w.panicked = v
			err = fmt.Errorf("s3local: panic in an index write: %v", v)
		}
	}()
	return w.fn(tx)
}
