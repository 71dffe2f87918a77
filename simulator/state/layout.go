package state

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// The bucket layout. Keys join their parts with a NUL byte (names may not
// contain one), so a prefix scan over "a\x00" finds exactly a's entries.
// Records are JSON, so the file can be inspected (bbolt's CLI) and new
// fields added without a migration. Documents (contract.Granule) live apart
// from the records that point at them, so listings never read them and a
// FinishStep rewrites only the small run record plus one document.
//
//	meta                        "schema" → "1"; "last_ms" → the newest run id's time (uint64)
//	                            and the bucket's sequence, the counter in run ids
//	files                       source \0 key → SeenFile
//	granules                    id → Granule (without Document)
//	granule_docs                id → contract.Granule (the current document)
//	granules_by_status          status \0 id → ""
//	granules_by_collection      collection \0 id → ""
//	granules_by_status_coll     status \0 collection \0 id → ""
//	runs                        run id → Run (without Input and Step.Output)
//	run_docs                    run id \0 → the input; run id \0 step → the step's output
//	runs_by_pipeline            pipeline \0 run id → ""
//	runs_by_status              status \0 run id → ""
//	runs_by_pipeline_status     pipeline \0 status \0 run id → ""
//	counts                      "runs" \0 pipeline \0 status → int64 (big-endian)
//	                            "granules" \0 collection \0 status → int64
//	                            "files" \0 source → int64
//
// Run ids sort by time, so every run index is in time order within its
// prefix: a time range is a key range, and a page cursor is a run id.
var (
	bMeta                 = []byte("meta")
	bFiles                = []byte("files")
	bGranules             = []byte("granules")
	bGranuleDocs          = []byte("granule_docs")
	bGranulesByStatus     = []byte("granules_by_status")
	bGranulesByCollection = []byte("granules_by_collection")
	bGranulesByStatusColl = []byte("granules_by_status_coll")
	bRuns                 = []byte("runs")
	bRunDocs              = []byte("run_docs")
	bRunsByPipeline       = []byte("runs_by_pipeline")
	bRunsByStatus         = []byte("runs_by_status")
	bRunsByPipelineStatus = []byte("runs_by_pipeline_status")
	bCounts               = []byte("counts")

	allBuckets = [][]byte{bMeta, bFiles, bGranules, bGranuleDocs, bGranulesByStatus,
		bGranulesByCollection, bGranulesByStatusColl, bRuns, bRunDocs, bRunsByPipeline,
		bRunsByStatus, bRunsByPipelineStatus, bCounts}
)

// schemaVersion is the layout's version; a newer file is refused rather
// than misread.
const schemaVersion = "1"

func initLayout(tx *bolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("creating bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bMeta)
	switch v := string(meta.Get([]byte("schema"))); v {
	case "":
		return meta.Put([]byte("schema"), []byte(schemaVersion))
	case schemaVersion:
		return nil
	default:
		return fmt.Errorf("the store has layout version %s, this cumulus knows %s: it was written by another cumulus version", v, schemaVersion)
	}
}

// txn is one write's (or read's) view of a transaction and the instant it
// stamps records with.
type txn struct {
	tx  *bolt.Tx
	now time.Time
	// undo reverts, should the transaction be rolled back, what the write
	// did outside it.
	undo []func()
}

// onRollback registers f to revert, if the transaction is rolled back, a
// change made outside it.
func (t *txn) onRollback(f func()) { t.undo = append(t.undo, f) }

func (t *txn) b(name []byte) *bolt.Bucket { return t.tx.Bucket(name) }

func key(parts ...string) []byte {
	return []byte(strings.Join(parts, "\x00"))
}

// checkName refuses names that would break the key layout.
func checkName(what, v string) error {
	if v == "" {
		return fmt.Errorf("%s is empty: %w", what, ErrInvalid)
	}
	if strings.IndexByte(v, 0) >= 0 {
		return fmt.Errorf("%s %q contains a NUL byte: %w", what, v, ErrInvalid)
	}
	return nil
}

func (t *txn) getJSON(bucket, k []byte, v any) (bool, error) {
	raw := t.b(bucket).Get(k)
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("decoding %s/%q: %w", bucket, k, err)
	}
	return true, nil
}

func (t *txn) putJSON(bucket, k []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s/%q: %w", bucket, k, err)
	}
	if err := t.b(bucket).Put(k, raw); err != nil {
		return fmt.Errorf("writing %s/%q: %w", bucket, k, err)
	}
	return nil
}

// count adds delta to a counter of the counts bucket.
func (t *txn) count(delta int64, parts ...string) error {
	b := t.b(bCounts)
	k := key(parts...)
	var n int64
	if raw := b.Get(k); len(raw) == 8 {
		n = int64(binary.BigEndian.Uint64(raw))
	}
	n += delta
	if n == 0 {
		return b.Delete(k)
	}
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], uint64(n))
	return b.Put(k, buf[:])
}

// Run ids: 10 characters of milliseconds since 1970 and 8 of a per-store
// counter, in Crockford's base 32 (as ULIDs: the alphabet is in ASCII
// order, so ids sort as their numbers do). The counter replaces a ULID's
// randomness: one store is the only writer, so it suffices, and it keeps
// ids created in one millisecond in creation order.
const (
	crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	idTimeLen = 10
	idSeqLen  = 8
	runIDLen  = idTimeLen + idSeqLen
)

func encode32(v uint64, n int) string {
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = crockford[v&31]
		v >>= 5
	}
	return string(b)
}

// timePrefix is the run-id prefix of an instant: every run created at or
// after t has an id >= timePrefix(t).
func timePrefix(t time.Time) string {
	ms := t.UnixMilli()
	if ms < 0 {
		ms = 0
	}
	return encode32(uint64(ms), idTimeLen)
}

func validRunID(id string) bool {
	if len(id) != runIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if strings.IndexByte(crockford, id[i]) < 0 {
			return false
		}
	}
	return true
}

// newRunID makes the next run id. The time part never goes back, even when
// the clock does, so ids stay in creation order.
func (t *txn) newRunID() (string, error) {
	meta := t.b(bMeta)
	ms := uint64(max(t.now.UnixMilli(), 0))
	if raw := meta.Get([]byte("last_ms")); len(raw) == 8 {
		ms = max(ms, binary.BigEndian.Uint64(raw))
	}
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], ms)
	if err := meta.Put([]byte("last_ms"), buf[:]); err != nil {
		return "", fmt.Errorf("writing the run-id clock: %w", err)
	}
	seq, err := meta.NextSequence()
	if err != nil {
		return "", fmt.Errorf("advancing the run-id counter: %w", err)
	}
	return encode32(ms, idTimeLen) + encode32(seq&(1<<40-1), idSeqLen), nil
}

// getRun reads a run's record (without documents).
func (t *txn) getRun(id string) (*Run, error) {
	var r Run
	ok, err := t.getJSON(bRuns, []byte(id), &r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	return &r, nil
}

// putRun writes a run's record and, when its status changed from old ("" for
// a new run), moves its index entries and counters.
func (t *txn) putRun(r *Run, old RunStatus) error {
	rec := *r
	rec.Input = nil
	rec.Steps = make([]Step, len(r.Steps))
	for i, s := range r.Steps {
		s.Output = nil
		rec.Steps[i] = s
	}
	if err := t.putJSON(bRuns, []byte(r.ID), &rec); err != nil {
		return err
	}
	if old == r.Status {
		return nil
	}
	if err := t.b(bRunsByPipeline).Put(key(r.Pipeline, r.ID), nil); err != nil {
		return err
	}
	if old != "" {
		if err := t.b(bRunsByStatus).Delete(key(string(old), r.ID)); err != nil {
			return err
		}
		if err := t.b(bRunsByPipelineStatus).Delete(key(r.Pipeline, string(old), r.ID)); err != nil {
			return err
		}
		if err := t.count(-1, "runs", r.Pipeline, string(old)); err != nil {
			return err
		}
	}
	if err := t.b(bRunsByStatus).Put(key(string(r.Status), r.ID), nil); err != nil {
		return err
	}
	if err := t.b(bRunsByPipelineStatus).Put(key(r.Pipeline, string(r.Status), r.ID), nil); err != nil {
		return err
	}
	return t.count(1, "runs", r.Pipeline, string(r.Status))
}

// loadRunDocs fills a run's Input and its steps' Output.
func (t *txn) loadRunDocs(r *Run) error {
	var in contract.Granule
	ok, err := t.getJSON(bRunDocs, key(r.ID, ""), &in)
	if err != nil {
		return err
	}
	if ok {
		r.Input = &in
	}
	for i := range r.Steps {
		var out contract.Granule
		ok, err := t.getJSON(bRunDocs, key(r.ID, r.Steps[i].Name), &out)
		if err != nil {
			return err
		}
		if ok {
			r.Steps[i].Output = &out
		}
	}
	return nil
}

// getGranule reads a granule's record (without its document).
func (t *txn) getGranule(id string) (*Granule, bool, error) {
	var g Granule
	ok, err := t.getJSON(bGranules, []byte(id), &g)
	if err != nil || !ok {
		return nil, false, err
	}
	return &g, true, nil
}

// putGranule writes a granule's record, deriving its status from its runs,
// and moves its index entries and counters when the status changed from old
// ("" for a new granule).
func (t *txn) putGranule(g *Granule, old GranuleStatus) error {
	g.Status = deriveStatus(g.Runs)
	g.Updated = t.now
	rec := *g
	rec.Document = nil
	if err := t.putJSON(bGranules, []byte(g.ID), &rec); err != nil {
		return err
	}
	if old == g.Status {
		return nil
	}
	if old == "" {
		if err := t.b(bGranulesByCollection).Put(key(g.Collection, g.ID), nil); err != nil {
			return err
		}
	} else {
		if err := t.b(bGranulesByStatus).Delete(key(string(old), g.ID)); err != nil {
			return err
		}
		if err := t.b(bGranulesByStatusColl).Delete(key(string(old), g.Collection, g.ID)); err != nil {
			return err
		}
		if err := t.count(-1, "granules", g.Collection, string(old)); err != nil {
			return err
		}
	}
	if err := t.b(bGranulesByStatus).Put(key(string(g.Status), g.ID), nil); err != nil {
		return err
	}
	if err := t.b(bGranulesByStatusColl).Put(key(string(g.Status), g.Collection, g.ID), nil); err != nil {
		return err
	}
	return t.count(1, "granules", g.Collection, string(g.Status))
}

// setGranuleDoc makes doc the granule's current document.
func (t *txn) setGranuleDoc(g *Granule, doc *contract.Granule) error {
	g.Files = len(doc.Files)
	g.Bytes = 0
	for _, f := range doc.Files {
		g.Bytes += f.Size
	}
	return t.putJSON(bGranuleDocs, []byte(g.ID), doc)
}

// deriveStatus is a granule's status from its runs (see GranuleStatus).
func deriveStatus(runs []RunRef) GranuleStatus {
	queued := false
	for _, r := range runs {
		switch r.Status {
		case RunRunning:
			return GranuleRunning
		case RunQueued:
			queued = true
		}
	}
	if queued {
		return GranuleQueued
	}
	for i := len(runs) - 1; i >= 0; i-- {
		switch runs[i].Status {
		case RunSucceeded:
			return GranuleCompleted
		case RunFailed:
			return GranuleFailed
		}
	}
	return GranuleFailed
}

// updateGranuleRun records a run's new status in its granule.
func (t *txn) updateGranuleRun(r *Run) error {
	g, ok, err := t.getGranule(r.GranuleID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("granule %s of run %s: %w", r.GranuleID, r.ID, ErrNotFound)
	}
	old := g.Status
	for i := range g.Runs {
		if g.Runs[i].ID == r.ID {
			g.Runs[i].Status = r.Status
		}
	}
	return t.putGranule(g, old)
}

// inRange reports whether k has prefix and is below hi (nil: no bound).
func inRange(k, prefix, hi []byte) bool {
	return k != nil && bytes.HasPrefix(k, prefix) && (hi == nil || bytes.Compare(k, hi) < 0)
}
