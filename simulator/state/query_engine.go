package state

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Read-only access for the engine API (runtime/engine): `cumulus serve`
// reads a simulation folder after a run and must neither write to the store
// nor keep other readers out.

// OpenReadOnly opens the store of the simulation folder dir ("" means
// DefaultDir) for reading only. It takes a shared lock, so several readers
// can share the folder, but it waits (up to opts.LockTimeout, or until ctx
// is done) while a simulation holds the store, then fails with an error
// wrapping ErrLocked. A folder without a store is an error wrapping
// ErrNotFound rather than a new, empty store: there is nothing to serve.
// The write methods of the Store it returns fail.
func OpenReadOnly(ctx context.Context, dir string, opts Options) (*Store, error) {
	if dir == "" {
		dir = DefaultDir
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	wait := opts.LockTimeout
	if wait <= 0 {
		wait = DefaultLockTimeout
	}
	path := filepath.Join(dir, FileName)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open the simulation state %s: %s holds no simulation (run cumulus simulate first): %w", path, dir, ErrNotFound)
		}
		return nil, fmt.Errorf("open the simulation state %s: %w", path, err)
	}
	db, err := openShared(ctx, path, wait)
	if err != nil {
		if errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("open the simulation state %s: a simulation is running in %s (the store stayed locked for %s); serve it from that simulation, or wait until it ends: %w", path, dir, wait, err)
		}
		return nil, fmt.Errorf("open the simulation state %s: %w", path, err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if meta == nil {
			return errors.New("the file is not a cumulus state store")
		}
		if v := string(meta.Get([]byte("schema"))); v != schemaVersion {
			return fmt.Errorf("the store has layout version %q, this cumulus knows %s: it was written by another cumulus version", v, schemaVersion)
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open the simulation state %s: %w", path, err)
	}
	return &Store{db: db, clock: opts.Clock, path: path, live: map[string]bool{}}, nil
}

// openShared is openLocked with a shared lock.
func openShared(ctx context.Context, path string, wait time.Duration) (*bolt.DB, error) {
	const slice = 100 * time.Millisecond
	deadline := time.Now().Add(wait)
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("waiting for the store's lock: %w", err)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, ErrLocked
		}
		db, err := bolt.Open(path, 0o400, &bolt.Options{Timeout: min(left, slice), ReadOnly: true})
		if err == nil {
			return db, nil
		}
		if !errors.Is(err, bolterrors.ErrTimeout) {
			return nil, err
		}
	}
}

// Version identifies the store's content: it changes with every write that
// committed, and only then. Readers poll it to learn, at the cost of one
// read transaction, whether anything they showed is out of date (the
// dashboard's live updates, the API's caches).
func (s *Store) Version(ctx context.Context) (uint64, error) {
	var v uint64
	err := s.view(ctx, func(t *txn) error {
		v = uint64(t.tx.ID())
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read the store's version: %w", err)
	}
	return v, nil
}
