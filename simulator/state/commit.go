package state

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/cumulus-toolchain/cumulus/simulator/internal/groupcommit"
)

// Group commit: operations that arrive while a commit is under way are
// applied together, in the next transaction, by a groupcommit.Batcher (see
// that package for why). Each operation gets its own txn, stamped when it
// runs; what it registered with txn.onRollback is undone, last first,
// whenever the transaction it ran in is rolled back.

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
	return s.batcher().Update(fn)
}

// batcher is the Store's groupcommit.Batcher, made on first use (a Store
// is made by Open and by OpenReadOnly).
func (s *Store) batcher() *groupcommit.Batcher[*txn] {
	s.commitsOnce.Do(func() {
		s.commits = groupcommit.New(s.db, groupcommit.Hooks[*txn]{
			Begin: func(tx *bolt.Tx) *txn {
				return &txn{tx: tx, now: s.clock.Now().UTC()}
			},
			Rollback: func(t *txn) {
				for i := len(t.undo) - 1; i >= 0; i-- {
					t.undo[i]()
				}
			},
		})
	})
	return s.commits
}
