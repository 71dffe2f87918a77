// Package groupcommit batches the writes of a bbolt store into shared
// transactions (group commit). It exists because a bbolt commit costs two
// fdatasyncs and a copy of every page on the path from each touched record
// to the root, and bbolt runs one writer at a time: a store committing every
// write alone spends nearly all its time in fsync, serially. With a
// scheduler's dozen runs (or a dozen steps writing objects) in flight, each
// write waited for a dozen others' commits, and as the trees deepened (the
// paths lengthen with log n) every commit cost more. Writes that arrive
// while a commit is under way are instead applied together, in arrival
// order, in the next transaction: one commit, one copy of the shared upper
// pages, for all of them. No write returns before the transaction holding
// it is on disk, so durability is what it was; each one runs against the
// state its predecessors left, as if alone.
//
// There is no committer goroutine and no timer: the first writer to find no
// commit under way leads, committing the queue (its own write first) and
// then handing the lead to the first writer queued meanwhile, so a lone
// writer commits at once and a busy store batches by itself.
//
// simulator/state and simulator/s3local both batch their writes this way;
// this package holds the mechanism once.
package groupcommit

import (
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// maxBatch bounds the writes of one transaction, so one commit's dirty
// pages (held in memory until it ends) stay bounded.
const maxBatch = 128

// Hooks adapt a Batcher to its store: T is what one write sees of the
// transaction it runs in.
type Hooks[T any] struct {
	// Begin makes a write's view of tx. It is called for each write, just
	// before it runs (again for each run, should the write run twice).
	Begin func(tx *bolt.Tx) T
	// Rollback, if not nil, is called once the transaction is rolled back,
	// with the view of each write that ran in it (the failing one
	// included), last first, to revert what they did outside it.
	Rollback func(T)
}

// Batcher group-commits the writes of one bbolt database. Its methods are
// safe for concurrent use.
type Batcher[T any] struct {
	db    *bolt.DB
	hooks Hooks[T]

	mu      sync.Mutex
	queue   []*write[T]
	leading bool
}

// New returns a Batcher committing to db.
func New[T any](db *bolt.DB, hooks Hooks[T]) *Batcher[T] {
	return &Batcher[T]{db: db, hooks: hooks}
}

// write is one write waiting for, or being applied in, a commit.
type write[T any] struct {
	fn func(T) error
	// wake is closed when the write is done (err is set), or, for the
	// first write of the queue, when its writer is to lead the next commit.
	wake     chan struct{}
	done     bool
	err      error
	panicked any
}

// Update runs fn in a read-write transaction, possibly shared with other
// writes (fn sees their effects as if they had run before it, alone), and
// returns once the transaction is committed and fsync'd, or rolled back.
// fn may run more than once (when a write it was batched with fails, the
// batch is rolled back and each write is applied on its own): it must
// start from scratch each time, and leave to Hooks.Rollback the undoing of
// what it does outside the transaction. A panic in fn rolls its
// transaction back and is raised again by Update, in fn's caller.
func (b *Batcher[T]) Update(fn func(T) error) error {
	w := &write[T]{fn: fn, wake: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, w)
	lead := !b.leading
	b.leading = true
	b.mu.Unlock()
	if !lead {
		<-w.wake
	}
	if !w.done {
		// Leading: the queue starts with w (a writer leads when the queue
		// was empty, or when the lead is handed to the queue's first).
		b.mu.Lock()
		n := min(len(b.queue), maxBatch)
		batch := b.queue[:n:n]
		b.queue = b.queue[n:]
		b.mu.Unlock()
		b.commit(batch)
		b.mu.Lock()
		if len(b.queue) > 0 {
			close(b.queue[0].wake) // not done: its writer leads next
		} else {
			b.leading = false
		}
		b.mu.Unlock()
	}
	if w.panicked != nil {
		panic(w.panicked)
	}
	return w.err
}

// Queued is the number of writes waiting for a commit (not those being
// applied), for tests.
func (b *Batcher[T]) Queued() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue)
}

// commit applies the writes of batch in one transaction and finishes each
// (waking its writer, but for batch[0]'s, the caller). When one fails, the
// transaction is rolled back, with what its writes did outside it, and each
// write is then applied alone, so a failure undoes only its own write and
// each write returns its own outcome.
func (b *Batcher[T]) commit(batch []*write[T]) {
	var views []T
	failed := -1
	err := b.db.Update(func(tx *bolt.Tx) error {
		for i, w := range batch {
			v := b.hooks.Begin(tx)
			views = append(views, v)
			if err := apply(w, v); err != nil {
				failed = i
				return err
			}
		}
		return nil
	})
	if err != nil && b.hooks.Rollback != nil {
		for i := len(views) - 1; i >= 0; i-- {
			b.hooks.Rollback(views[i])
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
			b.commit([]*write[T]{w})
		}
		w.done = true
		if w != batch[0] {
			close(w.wake)
		}
	}
}

// apply runs w's function, turning a panic into an error that rolls the
// transaction back (the panic is raised again in w's own goroutine).
func apply[T any](w *write[T], v T) (err error) {
	defer func() {
		if r := recover(); r != nil {
			w.panicked = r
			err = fmt.Errorf("panic in a write: %v", r)
		}
	}()
	return w.fn(v)
}
