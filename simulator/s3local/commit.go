package s3local

import (
	bolt "go.etcd.io/bbolt"

	"github.com/cumulus-toolchain/cumulus/simulator/internal/groupcommit"
)

// Group commit. Every index change is a bbolt transaction, fsync'd before
// the request is answered; changes arriving while a commit is under way are
// applied together in the next transaction by a groupcommit.Batcher (see
// that package for why), as simulator/state's writes are.

// newBatcher returns the group commit of the index db: each write sees the
// shared transaction itself.
func newBatcher(db *bolt.DB) *groupcommit.Batcher[*bolt.Tx] {
	return groupcommit.New(db, groupcommit.Hooks[*bolt.Tx]{
		Begin: func(tx *bolt.Tx) *bolt.Tx { return tx },
	})
}

// update runs fn in a read-write transaction, possibly shared with other
// writes, and returns once it is committed and fsync'd, or rolled back. fn
// may run more than once (when a write it was batched with fails, the batch
// is rolled back and each write applied on its own), so it must start from
// scratch each time: reset what it collects for the caller.
func (s *store) update(fn func(tx *bolt.Tx) error) error {
	return s.commits.Update(fn)
}
