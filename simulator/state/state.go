// Package state owns the simulator's durable store: the stand-in for the
// engine's DynamoDB/RDS tables (DESIGN §4). It lives in one bbolt file in the
// simulation folder (.cumulus/state.db by default) and holds
//
//   - the files each source has seen, so a poller fetches a file once and
//     notices when it changes;
//   - the granules, with their status, duplicate-policy version and current
//     granule document;
//   - the runs (one per attempt to take a granule through a pipeline), with
//     each step's status, attempts and output document.
//
// Every operation is applied in a bbolt read-write transaction fsync'd
// before it returns (operations issued at the same time share one: a group
// commit, see commit.go), so a simulator killed at any moment (SIGKILL
// included) finds on restart every operation that returned: finished steps stay
// finished, a step's success is recorded once, and Resume hands back the runs
// that were in flight so the scheduler continues each from its first
// unfinished step. Operations check the state they are applied to, so
// repeating one (after a crash, or by mistake) changes nothing twice.
//
// The records are indexed for the engine API's queries (runs by pipeline,
// status and time; granules by status, collection and id prefix; counts per
// pipeline and status), so each query reads only what it returns. The
// bucket layout is described in layout.go.
package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/cumulus-toolchain/cumulus/simulator/internal/groupcommit"
)

// DefaultDir is the simulation folder when the user names none.
const DefaultDir = ".cumulus"

// FileName is the store's file inside the simulation folder.
const FileName = "state.db"

// DefaultLockTimeout is how long Open waits for another process to release
// the store before concluding that another simulation is using the folder.
const DefaultLockTimeout = 2 * time.Second

// Clock tells the store the time it stamps records with. It is passed in,
// never read from a global, so tests decide what time it is.
type Clock interface {
	Now() time.Time
}

// SystemClock is the Clock of the machine.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Options tune Open. The zero value is ready to use.
type Options struct {
	// Clock stamps every record; nil means SystemClock.
	Clock Clock
	// LockTimeout is how long Open waits for another process holding the
	// store; 0 means DefaultLockTimeout.
	LockTimeout time.Duration
}

// Errors callers tell apart with errors.Is. Every error the store returns
// wraps one of these or an I/O error, with what was being done.
var (
	// ErrLocked: another process (most likely another simulation) holds the
	// store.
	ErrLocked = errors.New("state store is locked by another process")
	// ErrNotFound: no run, granule or attempt has that id.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate: the granule exists and the duplicate policy is "error",
	// or its id is already taken by another collection.
	ErrDuplicate = errors.New("duplicate granule")
	// ErrGranuleBusy: another run of the same granule is running; runs of
	// one granule go one at a time, so no granule is archived by two runs at
	// once.
	ErrGranuleBusy = errors.New("another run of the granule is running")
	// ErrState: the operation does not apply to the run or step in its
	// current state (starting an attempt of a finished step, finishing a run
	// whose steps are not done...). It signals a scheduler bug, not a crash.
	ErrState = errors.New("not allowed in the current state")
	// ErrInvalid: an argument is malformed (empty name, unknown status...).
	ErrInvalid = errors.New("invalid argument")
)

// Store is the open state of one simulation folder. Its methods are safe for
// concurrent use; writes are serialized by bbolt.
type Store struct {
	db    *bolt.DB
	clock Clock
	path  string

	// live holds the runs this Store started or adopted: Resume must leave
	// them alone, since they are running in this process, not interrupted.
	mu   sync.Mutex
	live map[string]bool

	// The writes' group commit (see update in commit.go).
	commitsOnce sync.Once
	commits     *groupcommit.Batcher[*txn]
}

// Open opens (creating it if needed) the store in the simulation folder dir
// ("" means DefaultDir). bbolt takes an exclusive lock on the file; when
// another process holds it, Open waits up to opts.LockTimeout (or until ctx
// is done) and then fails with an error wrapping ErrLocked.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
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
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open the simulation state: creating folder %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	db, err := openLocked(ctx, path, wait)
	if err != nil {
		if errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("open the simulation state %s: another simulation seems to be running in %s (the store stayed locked for %s); stop it, or simulate in another folder: %w", path, dir, wait, err)
		}
		return nil, fmt.Errorf("open the simulation state %s: %w", path, err)
	}
	s := &Store{db: db, clock: opts.Clock, path: path, live: map[string]bool{}}
	if err := db.Update(initLayout); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open the simulation state %s: %w", path, err)
	}
	return s, nil
}

// openLocked opens the bbolt file, polling for its lock in short slices so
// that ctx is honoured: bbolt's own wait cannot be interrupted.
func openLocked(ctx context.Context, path string, wait time.Duration) (*bolt.DB, error) {
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
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: min(left, slice)})
		if err == nil {
			return db, nil
		}
		if !errors.Is(err, bolterrors.ErrTimeout) {
			return nil, err
		}
	}
}

// Close releases the store. Runs still running stay so on disk: the next
// Open's Resume hands them back.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close the simulation state %s: %w", s.path, err)
	}
	return nil
}

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// view runs fn in one read-only transaction: a consistent snapshot.
func (s *Store) view(ctx context.Context, fn func(t *txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(tx *bolt.Tx) error {
		return fn(&txn{tx: tx, now: s.clock.Now().UTC()})
	})
}

func (s *Store) isLive(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live[id]
}

func (s *Store) setLive(id string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.live[id] = true
	} else {
		delete(s.live, id)
	}
}
