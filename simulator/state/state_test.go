package state

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// fakeClock is the tests' Clock: it moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func newClock() *fakeClock { return &fakeClock{t: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var ctx = context.Background()

// openTest opens a store in a fresh folder; the store is verified and closed
// when the test ends.
func openTest(t testing.TB) (*Store, *fakeClock) {
	t.Helper()
	clk := newClock()
	s, err := Open(ctx, t.TempDir(), Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Verify(ctx); err != nil {
			t.Error(err)
		}
		s.Close()
	})
	return s, clk
}

func doc(id string, files ...string) contract.Granule {
	g := contract.Granule{ID: id, Collection: "hs3", Version: "1"}
	if len(files) == 0 {
		files = []string{id + ".nc"}
	}
	for _, f := range files {
		g.Files = append(g.Files, contract.File{Name: f, Type: "data", Bucket: "staging", Key: "staging/" + f, Size: 100})
	}
	return g
}

var pipelineSteps = []string{"sync", "process", "archive"}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func enqueue(t testing.TB, s *Store, id string, policy DuplicatePolicy) Enqueued {
	t.Helper()
	return must[Enqueued](t)(s.EnqueueGranule(ctx, EnqueueRequest{Granule: doc(id), Pipeline: "ingest", Policy: policy}))
}

// complete takes a started run through all its steps to success.
func complete(t testing.TB, s *Store, runID string) {
	t.Helper()
	if err := completeRun(s, runID); err != nil {
		t.Fatal(err)
	}
}

func completeRun(s *Store, runID string) error {
	r, err := s.Run(ctx, runID)
	if err != nil {
		return err
	}
	for _, name := range r.Unfinished() {
		out := doc(r.GranuleID)
		out.Files[0].Bucket = "protected"
		if _, err := s.FinishStep(ctx, runID, name, StepResult{Status: StepSucceeded, Granule: &out}); err != nil {
			return err
		}
	}
	_, err = s.FinishRun(ctx, runID, RunSucceeded, "")
	return err
}

func TestOpenReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(ctx, dir, Options{Clock: newClock()})
	if err != nil {
		t.Fatal(err)
	}
	e := enqueue(t, s, "G1", DuplicateSkip)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Run(ctx, e.RunID); err != nil {
		t.Fatalf("the run did not survive reopening: %v", err)
	}
	if !strings.HasSuffix(s.Path(), "/"+FileName) {
		t.Errorf("Path() = %q", s.Path())
	}
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	start := time.Now()
	_, err = Open(ctx, dir, Options{LockTimeout: 300 * time.Millisecond})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "another simulation seems to be running in "+dir) {
		t.Fatalf("second Open: got %v, want ErrLocked naming the folder", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 3*time.Second {
		t.Errorf("second Open gave up after %s, want about 300ms", d)
	}

	cctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = Open(cctx, dir, Options{LockTimeout: time.Minute})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Open with an expiring context: got %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Open ignored its context for %s", d)
	}
}

func TestOpenRefusesNewerLayout(t *testing.T) {
	dir := t.TempDir()
	s := must[*Store](t)(Open(ctx, dir, Options{}))
	s.Close()
	db := must[*bolt.DB](t)(bolt.Open(s.Path(), 0o600, nil))
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put([]byte("schema"), []byte("99")) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(ctx, dir, Options{}); err == nil || !strings.Contains(err.Error(), "layout version 99") {
		t.Fatalf("Open of a newer layout: got %v", err)
	}
}

func TestFilesSeen(t *testing.T) {
	s, clk := openTest(t)
	mtime := time.Date(2013, 8, 25, 0, 0, 0, 0, time.UTC)
	f := SeenFile{Source: "hamsr", Key: "ftp://ghrc/pub/a.nc", Size: 10, ModTime: mtime}
	if err := s.RecordFileSeen(ctx, f); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	f.Granule, f.Staged = "A", true
	if err := s.RecordFileSeen(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordFileSeen(ctx, SeenFile{Source: "other", Key: "ftp://ghrc/pub/a.nc", Size: 1}); err != nil {
		t.Fatal(err)
	}

	got, ok, err := s.FileSeen(ctx, "hamsr", "ftp://ghrc/pub/a.nc")
	if err != nil || !ok {
		t.Fatalf("FileSeen: %v %v", ok, err)
	}
	if !got.FirstSeen.Equal(t0) || !got.LastSeen.Equal(t0.Add(time.Hour)) || got.Granule != "A" || !got.Staged {
		t.Errorf("FileSeen = %+v", got)
	}
	if _, ok, _ := s.FileSeen(ctx, "hamsr", "ftp://ghrc/pub/b.nc"); ok {
		t.Error("an unseen file was found")
	}

	for _, tc := range []struct {
		name  string
		size  int64
		mtime time.Time
		etag  string
		rec   string // the recorded etag
		want  bool
	}{
		{"same", 10, mtime, "", "", false},
		{"size", 11, mtime, "", "", true},
		{"mtime", 10, mtime.Add(time.Second), "", "", true},
		{"mtime unknown", 10, time.Time{}, "", "", false},
		{"etag same, size differs", 11, mtime, "x", "x", false},
		{"etag differs", 10, mtime, "y", "x", true},
		{"etag on one side only", 10, mtime, "y", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := got
			rec.ETag = tc.rec
			if c := rec.Changed(tc.size, tc.mtime, tc.etag); c != tc.want {
				t.Errorf("Changed = %v, want %v", c, tc.want)
			}
		})
	}

	many := must[map[string]SeenFile](t)(s.FilesSeen(ctx, "hamsr", []string{"ftp://ghrc/pub/a.nc", "ftp://ghrc/pub/b.nc"}))
	if len(many) != 1 || many["ftp://ghrc/pub/a.nc"].Size != 10 {
		t.Errorf("FilesSeen = %+v", many)
	}
	st := must[Stats](t)(s.Stats(ctx))
	if st.Files["hamsr"] != 1 || st.Files["other"] != 1 {
		t.Errorf("Stats.Files = %v", st.Files)
	}
	for _, bad := range []SeenFile{{Key: "k"}, {Source: "s"}, {Source: "s\x00", Key: "k"}} {
		if err := s.RecordFileSeen(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("RecordFileSeen(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
}

// prepare brings granule id to a status: "" (absent), or queued, running,
// completed, failed through its first run.
func prepare(t *testing.T, s *Store, id string, status GranuleStatus) {
	if status == "" {
		return
	}
	e := enqueue(t, s, id, DuplicateError)
	if status == GranuleQueued {
		return
	}
	must[Run](t)(s.StartRun(ctx, e.RunID, pipelineSteps))
	switch status {
	case GranuleCompleted:
		complete(t, s, e.RunID)
	case GranuleFailed:
		must[bool](t)(s.FinishRun(ctx, e.RunID, RunFailed, "boom"))
	}
}

func TestEnqueuePolicies(t *testing.T) {
	for _, tc := range []struct {
		policy  DuplicatePolicy
		before  GranuleStatus
		new     bool
		version int
		status  GranuleStatus
		runs    int
		err     error
	}{
		{DuplicateSkip, "", true, 1, GranuleQueued, 1, nil},
		{DuplicateSkip, GranuleQueued, false, 1, GranuleQueued, 1, nil},
		{DuplicateSkip, GranuleRunning, false, 1, GranuleRunning, 1, nil},
		{DuplicateSkip, GranuleCompleted, false, 1, GranuleCompleted, 1, nil},
		{DuplicateSkip, GranuleFailed, true, 1, GranuleQueued, 2, nil},

		{DuplicateReplace, "", true, 1, GranuleQueued, 1, nil},
		{DuplicateReplace, GranuleQueued, true, 1, GranuleQueued, 2, nil},
		{DuplicateReplace, GranuleRunning, true, 1, GranuleRunning, 2, nil},
		{DuplicateReplace, GranuleCompleted, true, 1, GranuleQueued, 2, nil},
		{DuplicateReplace, GranuleFailed, true, 1, GranuleQueued, 2, nil},

		{DuplicateVersion, "", true, 1, GranuleQueued, 1, nil},
		{DuplicateVersion, GranuleQueued, true, 2, GranuleQueued, 2, nil},
		{DuplicateVersion, GranuleRunning, true, 2, GranuleRunning, 2, nil},
		{DuplicateVersion, GranuleCompleted, true, 2, GranuleQueued, 2, nil},
		{DuplicateVersion, GranuleFailed, true, 2, GranuleQueued, 2, nil},

		{DuplicateError, "", true, 1, GranuleQueued, 1, nil},
		{DuplicateError, GranuleQueued, false, 1, GranuleQueued, 1, ErrDuplicate},
		{DuplicateError, GranuleRunning, false, 1, GranuleRunning, 1, ErrDuplicate},
		{DuplicateError, GranuleCompleted, false, 1, GranuleCompleted, 1, ErrDuplicate},
		{DuplicateError, GranuleFailed, false, 1, GranuleFailed, 1, ErrDuplicate},

		{"", GranuleCompleted, false, 1, GranuleCompleted, 1, ErrDuplicate},
		{"sometimes", "", false, 0, "", 0, ErrInvalid},
	} {
		name := fmt.Sprintf("%s/%s", cmpOr(string(tc.policy), "default"), cmpOr(string(tc.before), "new"))
		t.Run(name, func(t *testing.T) {
			s, _ := openTest(t)
			prepare(t, s, "G1", tc.before)
			file := SeenFile{Source: "src", Key: "ftp://h/G1.nc", Size: 100}
			got, err := s.EnqueueGranule(ctx, EnqueueRequest{Granule: doc("G1"), Pipeline: "ingest", Policy: tc.policy, Files: []SeenFile{file}})
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("EnqueueGranule error = %v, want %v", err, tc.err)
			}
			if got.New != tc.new || got.Version != tc.version || got.Status != tc.status {
				t.Errorf("EnqueueGranule = %+v, want new=%v version=%d status=%s", got, tc.new, tc.version, tc.status)
			}
			if errors.Is(tc.err, ErrInvalid) {
				return
			}
			g := must[Granule](t)(s.Granule(ctx, "G1"))
			if len(g.Runs) != tc.runs || g.Status != tc.status || g.Version != tc.version {
				t.Errorf("granule = %d runs, %s, version %d; want %d runs, %s, version %d", len(g.Runs), g.Status, g.Version, tc.runs, tc.status, tc.version)
			}
			if got.RunID == "" || !slices.ContainsFunc(g.Runs, func(r RunRef) bool { return r.ID == got.RunID }) {
				t.Errorf("RunID %q is not one of the granule's runs %+v", got.RunID, g.Runs)
			}
			if tc.new {
				r := must[Run](t)(s.Run(ctx, got.RunID))
				if r.Status != RunQueued || r.GranuleVersion != tc.version || r.Input == nil || r.Input.ID != "G1" {
					t.Errorf("new run = %+v", r)
				}
			}
			// Whatever the outcome, the files are recorded: a refused
			// granule is not fetched (and reported) on every poll.
			f, ok, err := s.FileSeen(ctx, "src", "ftp://h/G1.nc")
			if err != nil || !ok || f.Granule != "G1" {
				t.Errorf("file seen = %+v %v %v", f, ok, err)
			}
		})
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func TestEnqueueRefusals(t *testing.T) {
	s, _ := openTest(t)
	enqueue(t, s, "G1", DuplicateSkip)
	other := doc("G1")
	other.Collection = "amsr"
	_, err := s.EnqueueGranule(ctx, EnqueueRequest{Granule: other, Pipeline: "ingest", Policy: DuplicateReplace})
	if !errors.Is(err, ErrDuplicate) || !strings.Contains(err.Error(), `already belongs to collection "hs3"`) {
		t.Errorf("another collection: %v", err)
	}
	for _, req := range []EnqueueRequest{
		{Granule: contract.Granule{Collection: "hs3"}, Pipeline: "ingest"},
		{Granule: contract.Granule{ID: "G2"}, Pipeline: "ingest"},
		{Granule: doc("G2")},
		{Granule: doc("G\x002"), Pipeline: "ingest"},
	} {
		if _, err := s.EnqueueGranule(ctx, req); !errors.Is(err, ErrInvalid) {
			t.Errorf("EnqueueGranule(%+v) = %v, want ErrInvalid", req, err)
		}
	}
}

// TestRunLifecycle walks one run through every operation, in order,
// including the repeats and mistakes a scheduler can make.
func TestRunLifecycle(t *testing.T) {
	s, clk := openTest(t)
	e := enqueue(t, s, "G1", DuplicateSkip)
	id := e.RunID
	out := func(bucket string) *contract.Granule {
		g := doc("G1")
		g.Files[0].Bucket = bucket
		return &g
	}
	attempt := func(step string, n int) func() (bool, error) {
		return func() (bool, error) {
			a, err := s.StartAttempt(ctx, id, step, n, "logs/"+step+".log")
			return a.Number > 0, err
		}
	}
	finishAttempt := func(step string, n, code int) func() (bool, error) {
		return func() (bool, error) {
			return s.FinishAttempt(ctx, id, step, n, AttemptResult{ExitCode: code, Error: map[bool]string{true: "exit status " + fmt.Sprint(code)}[code != 0]})
		}
	}
	finishStep := func(step string, st StepStatus, g *contract.Granule) func() (bool, error) {
		return func() (bool, error) { return s.FinishStep(ctx, id, step, StepResult{Status: st, Granule: g}) }
	}
	finishRun := func(st RunStatus) func() (bool, error) {
		return func() (bool, error) { return s.FinishRun(ctx, id, st, "") }
	}
	startRun := func(steps []string) func() (bool, error) {
		return func() (bool, error) { _, err := s.StartRun(ctx, id, steps); return err == nil, err }
	}
	for _, tc := range []struct {
		name string
		op   func() (bool, error)
		want bool
		err  error
	}{
		{"attempt before the run starts", attempt("sync", 0), false, ErrState},
		{"steps listed twice", startRun([]string{"a", "a"}), false, ErrInvalid},
		{"start", startRun(pipelineSteps), true, nil},
		{"start again in the same process", startRun(pipelineSteps), false, ErrState},
		{"attempt out of order", attempt("sync", 2), false, ErrState},
		{"attempt of an unknown step", attempt("nope", 0), false, ErrNotFound},
		{"attempt 1", attempt("sync", 0), true, nil},
		{"attempt 1 again is harmless", attempt("sync", 1), true, nil},
		{"another attempt while one is open", attempt("sync", 0), false, ErrState},
		{"attempt 1 fails", finishAttempt("sync", 1, 2), true, nil},
		{"attempt 1 fails again: nothing recorded", finishAttempt("sync", 1, 3), false, nil},
		{"finish an attempt that does not exist", finishAttempt("sync", 5, 0), false, ErrNotFound},
		{"attempt 2", attempt("sync", 0), true, nil},
		{"success without a document", finishStep("sync", StepSucceeded, nil), false, ErrInvalid},
		{"unknown step status", finishStep("sync", "great", out("x")), false, ErrInvalid},
		{"another granule's document", finishStep("sync", StepSucceeded, func() *contract.Granule { g := doc("G2"); return &g }()), false, ErrInvalid},
		{"sync succeeds", finishStep("sync", StepSucceeded, out("staging")), true, nil},
		{"sync succeeds again: not recorded", finishStep("sync", StepSucceeded, out("elsewhere")), false, nil},
		{"sync fails after succeeding: not recorded", finishStep("sync", StepFailed, nil), false, nil},
		{"attempt of a finished step", attempt("sync", 0), false, ErrState},
		{"run cannot succeed yet", finishRun(RunSucceeded), false, ErrState},
		{"process is skipped", finishStep("process", StepSkipped, nil), true, nil},
		{"archive attempt", attempt("archive", 0), true, nil},
		{"archive succeeds", finishStep("archive", StepSucceeded, out("protected")), true, nil},
		{"not a final status", finishRun(RunRunning), false, ErrInvalid},
		{"run succeeds", finishRun(RunSucceeded), true, nil},
		{"run succeeds again: not recorded", finishRun(RunSucceeded), false, nil},
		{"run fails after succeeding: not recorded", finishRun(RunFailed), false, nil},
		{"start a finished run", startRun(pipelineSteps), false, ErrState},
	} {
		clk.Advance(time.Second)
		got, err := tc.op()
		if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Fatalf("%s: error %v, want %v", tc.name, err, tc.err)
		}
		if got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}

	r := must[Run](t)(s.Run(ctx, id))
	if r.Status != RunSucceeded || !r.Started.Equal(t0.Add(3*time.Second)) || r.Ended.IsZero() {
		t.Errorf("run = %s started %s ended %s", r.Status, r.Started, r.Ended)
	}
	syncStep := r.Step("sync")
	if len(syncStep.Attempts) != 2 || syncStep.Attempts[0].Status != AttemptFailed || syncStep.Attempts[0].ExitCode != 2 ||
		syncStep.Attempts[0].Error != "exit status 2" || syncStep.Attempts[1].Status != AttemptSucceeded ||
		syncStep.Attempts[0].Log != "logs/sync.log" || syncStep.Order != 1 || syncStep.Output.Files[0].Bucket != "staging" {
		t.Errorf("sync = %+v", syncStep)
	}
	if p := r.Step("process"); p.Status != StepSkipped || p.Order != 2 || p.Output != nil {
		t.Errorf("process = %+v", p)
	}
	if a := r.Step("archive"); a.Status != StepSucceeded || a.Order != 3 || len(a.Attempts) != 1 || a.Attempts[0].Status != AttemptSucceeded {
		t.Errorf("archive = %+v", a)
	}
	if cur := r.Current(); cur.Files[0].Bucket != "protected" {
		t.Errorf("Current = %+v", cur)
	}
	g := must[Granule](t)(s.Granule(ctx, "G1"))
	if g.Status != GranuleCompleted || g.Document.Files[0].Bucket != "protected" || g.Files != 1 || g.Bytes != 100 {
		t.Errorf("granule = %+v", g)
	}
}

func TestFinishRunFailedOrCancelled(t *testing.T) {
	s, _ := openTest(t)
	queued := enqueue(t, s, "Q", DuplicateSkip)
	if ok, err := s.FinishRun(ctx, queued.RunID, RunCancelled, "user cancelled"); !ok || err != nil {
		t.Fatalf("cancel a queued run: %v %v", ok, err)
	}
	if g := must[Granule](t)(s.Granule(ctx, "Q")); g.Status != GranuleFailed {
		t.Errorf("a granule whose only run was cancelled is %s", g.Status)
	}

	e := enqueue(t, s, "F", DuplicateSkip)
	must[Run](t)(s.StartRun(ctx, e.RunID, pipelineSteps))
	must[Attempt](t)(s.StartAttempt(ctx, e.RunID, "sync", 0, ""))
	if ok, err := s.FinishRun(ctx, e.RunID, RunFailed, "sync timed out"); !ok || err != nil {
		t.Fatalf("fail a running run: %v %v", ok, err)
	}
	r := must[Run](t)(s.Run(ctx, e.RunID))
	a := r.Step("sync").Attempts[0]
	if r.Error != "sync timed out" || r.Step("sync").Status != StepPending || a.Status != AttemptInterrupted || a.Ended.IsZero() {
		t.Errorf("failed run = %+v", r)
	}
	if ok, err := s.FinishAttempt(ctx, e.RunID, "sync", 1, AttemptResult{}); ok || err != nil {
		t.Errorf("finishing an interrupted attempt: %v %v", ok, err)
	}
	if _, err := s.FinishStep(ctx, e.RunID, "process", StepResult{Status: StepSkipped}); !errors.Is(err, ErrState) {
		t.Errorf("finishing a step of a failed run: %v", err)
	}

	// A cancelled replacement does not undo a completed granule.
	c := enqueue(t, s, "C", DuplicateSkip)
	must[Run](t)(s.StartRun(ctx, c.RunID, pipelineSteps))
	complete(t, s, c.RunID)
	again := enqueue(t, s, "C", DuplicateReplace)
	must[bool](t)(s.FinishRun(ctx, again.RunID, RunCancelled, ""))
	if g := must[Granule](t)(s.Granule(ctx, "C")); g.Status != GranuleCompleted {
		t.Errorf("completed granule with a cancelled replacement is %s", g.Status)
	}
}

func TestGranuleRunsOneAtATime(t *testing.T) {
	s, _ := openTest(t)
	first := enqueue(t, s, "G1", DuplicateReplace)
	must[Run](t)(s.StartRun(ctx, first.RunID, pipelineSteps))
	second := enqueue(t, s, "G1", DuplicateReplace)
	if _, err := s.StartRun(ctx, second.RunID, pipelineSteps); !errors.Is(err, ErrGranuleBusy) {
		t.Fatalf("second run of a running granule started: %v", err)
	}
	// The older run finishing does not overwrite the newer run's document.
	old := doc("G1", "old.nc")
	must[bool](t)(s.FinishStep(ctx, first.RunID, "sync", StepResult{Status: StepSucceeded, Granule: &old}))
	if g := must[Granule](t)(s.Granule(ctx, "G1")); g.Document.Files[0].Name != "G1.nc" {
		t.Errorf("a superseded run changed the granule's document to %+v", g.Document)
	}
	complete(t, s, first.RunID)
	if g := must[Granule](t)(s.Granule(ctx, "G1")); g.Status != GranuleQueued {
		t.Errorf("granule with a queued replacement is %s", g.Status)
	}
	must[Run](t)(s.StartRun(ctx, second.RunID, pipelineSteps))
}

// TestResume kills a run mid-flight (closing the store without finishing
// it, as a dying process does) and continues it in a new Store.
func TestResume(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	s := must[*Store](t)(Open(ctx, dir, Options{Clock: clk}))
	e := enqueue(t, s, "G1", DuplicateSkip)
	failing := enqueue(t, s, "G2", DuplicateSkip)
	queued := enqueue(t, s, "G3", DuplicateSkip)
	must[Run](t)(s.StartRun(ctx, e.RunID, pipelineSteps))
	must[Run](t)(s.StartRun(ctx, failing.RunID, pipelineSteps))
	synced := doc("G1")
	synced.Files[0].Checksum = "abc"
	must[Attempt](t)(s.StartAttempt(ctx, e.RunID, "sync", 0, "sync.log"))
	must[bool](t)(s.FinishStep(ctx, e.RunID, "sync", StepResult{Status: StepSucceeded, Granule: &synced}))
	must[Attempt](t)(s.StartAttempt(ctx, e.RunID, "process", 0, "p1.log"))
	must[bool](t)(s.FinishAttempt(ctx, e.RunID, "process", 1, AttemptResult{ExitCode: 1, Error: "exit status 1"}))
	must[Attempt](t)(s.StartAttempt(ctx, e.RunID, "process", 0, "p2.log"))
	must[bool](t)(s.FinishStep(ctx, failing.RunID, "sync", StepResult{Status: StepFailed, Error: "no such file"}))

	if rs := must[[]Run](t)(s.Resume(ctx)); len(rs) != 0 {
		t.Errorf("Resume touched %d runs this process is running", len(rs))
	}
	s.Close() // the process dies

	clk.Advance(time.Minute)
	s = must[*Store](t)(Open(ctx, dir, Options{Clock: clk}))
	defer s.Close()
	resumed := must[[]Run](t)(s.Resume(ctx))
	if len(resumed) != 2 || resumed[0].ID != e.RunID || resumed[1].ID != failing.RunID {
		t.Fatalf("Resume = %d runs, want %s and %s", len(resumed), e.RunID, failing.RunID)
	}
	r := resumed[0]
	if got := r.Unfinished(); !slices.Equal(got, []string{"process", "archive"}) {
		t.Errorf("Unfinished = %v", got)
	}
	if cur := r.Current(); cur == nil || cur.Files[0].Checksum != "abc" {
		t.Errorf("Current = %+v, want sync's output", cur)
	}
	p := r.Step("process")
	if p.Status != StepPending || len(p.Attempts) != 2 || p.Attempts[0].Status != AttemptFailed ||
		p.Attempts[1].Status != AttemptInterrupted || !p.Attempts[1].Ended.Equal(t0.Add(time.Minute)) {
		t.Errorf("process after resume = %+v", p)
	}
	if f := resumed[1]; f.Step("sync").Status != StepFailed || len(f.Unfinished()) != 2 {
		t.Errorf("failed run after resume = %+v", f)
	}
	// Resuming again changes nothing and returns the same.
	again := must[[]Run](t)(s.Resume(ctx))
	if len(again) != 2 || again[0].Step("process").Attempts[1] != p.Attempts[1] {
		t.Errorf("second Resume = %+v", again)
	}
	if g := must[Granule](t)(s.Granule(ctx, "G1")); g.Status != GranuleRunning {
		t.Errorf("granule of an interrupted run is %s", g.Status)
	}

	if _, err := s.StartRun(ctx, e.RunID, []string{"sync", "archive"}); !errors.Is(err, ErrState) {
		t.Errorf("adopting with other steps: %v", err)
	}
	adopted := must[Run](t)(s.StartRun(ctx, e.RunID, pipelineSteps))
	if adopted.Step("sync").Status != StepSucceeded || adopted.Current().Files[0].Checksum != "abc" {
		t.Errorf("adopted run = %+v", adopted)
	}
	if rs := must[[]Run](t)(s.Resume(ctx)); len(rs) != 1 || rs[0].ID != failing.RunID {
		t.Errorf("Resume after adopting = %+v", rs)
	}
	if a := must[Attempt](t)(s.StartAttempt(ctx, e.RunID, "process", 0, "p3.log")); a.Number != 3 {
		t.Errorf("next attempt after an interrupted one is %d, want 3", a.Number)
	}
	if ok := must[bool](t)(s.FinishStep(ctx, e.RunID, "sync", StepResult{Status: StepSucceeded, Granule: &synced})); ok {
		t.Error("a step finished before the crash was recorded again")
	}
	complete(t, s, e.RunID)
	must[bool](t)(s.FinishRun(ctx, failing.RunID, RunFailed, "sync failed"))
	page := must[RunPage](t)(s.Runs(ctx, RunQuery{Status: RunQueued}))
	if len(page.Runs) != 1 || page.Runs[0].ID != queued.RunID {
		t.Errorf("queued runs = %+v", page.Runs)
	}
	if err := s.Verify(ctx); err != nil {
		t.Error(err)
	}
}

func TestRunIDs(t *testing.T) {
	s, clk := openTest(t)
	var ids []string
	for i, d := range []time.Duration{0, 0, time.Millisecond, -time.Hour, time.Hour, 0} {
		clk.Advance(d)
		ids = append(ids, enqueue(t, s, fmt.Sprint("G", i), DuplicateSkip).RunID)
	}
	for i, id := range ids {
		if !validRunID(id) {
			t.Errorf("run id %q is malformed", id)
		}
		if i > 0 && id <= ids[i-1] {
			t.Errorf("run ids out of order although the clock went back: %v", ids)
		}
	}
	if !strings.HasPrefix(ids[0], timePrefix(t0)) {
		t.Errorf("run id %s does not start with its time %s", ids[0], timePrefix(t0))
	}
}

// TestRunsQuery pages through every filter combination, both orders, with
// a small page size, and checks each against a scan of all runs.
func TestRunsQuery(t *testing.T) {
	s, clk := openTest(t)
	var all []Run
	for i := range 30 {
		clk.Set(t0.Add(time.Duration(i) * time.Minute))
		p := []string{"ingest", "reprocess"}[i%2]
		e := must[Enqueued](t)(s.EnqueueGranule(ctx, EnqueueRequest{Granule: doc(fmt.Sprintf("G%02d", i)), Pipeline: p, Policy: DuplicateSkip}))
		switch i % 3 {
		case 1:
			must[Run](t)(s.StartRun(ctx, e.RunID, pipelineSteps))
		case 2:
			must[Run](t)(s.StartRun(ctx, e.RunID, nil))
			must[bool](t)(s.FinishRun(ctx, e.RunID, RunSucceeded, ""))
		}
		all = append(all, must[Run](t)(s.Run(ctx, e.RunID)))
	}
	for _, tc := range []struct {
		name string
		q    RunQuery
		keep func(r Run) bool
	}{
		{"all", RunQuery{}, func(Run) bool { return true }},
		{"pipeline", RunQuery{Pipeline: "ingest"}, func(r Run) bool { return r.Pipeline == "ingest" }},
		{"status", RunQuery{Status: RunRunning}, func(r Run) bool { return r.Status == RunRunning }},
		{"pipeline and status", RunQuery{Pipeline: "reprocess", Status: RunSucceeded},
			func(r Run) bool { return r.Pipeline == "reprocess" && r.Status == RunSucceeded }},
		{"time range", RunQuery{Since: t0.Add(5 * time.Minute), Until: t0.Add(12 * time.Minute)},
			func(r Run) bool {
				return !r.Created.Before(t0.Add(5*time.Minute)) && r.Created.Before(t0.Add(12*time.Minute))
			}},
		{"pipeline since", RunQuery{Pipeline: "ingest", Since: t0.Add(20 * time.Minute)},
			func(r Run) bool { return r.Pipeline == "ingest" && !r.Created.Before(t0.Add(20*time.Minute)) }},
		{"status until", RunQuery{Status: RunQueued, Until: t0.Add(9 * time.Minute)},
			func(r Run) bool { return r.Status == RunQueued && r.Created.Before(t0.Add(9*time.Minute)) }},
		{"nothing", RunQuery{Pipeline: "nope"}, func(Run) bool { return false }},
	} {
		for _, oldest := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/oldest=%v", tc.name, oldest), func(t *testing.T) {
				var want []string
				for _, r := range all {
					if tc.keep(r) {
						want = append(want, r.ID)
					}
				}
				if !oldest {
					slices.Reverse(want)
				}
				q := tc.q
				q.OldestFirst, q.Limit = oldest, 4
				got, pages := pageRuns(t, s, q, nil)
				if !slices.Equal(got, want) {
					t.Errorf("paged ids = %v\nwant %v", got, want)
				}
				if wantPages := max(1, (len(want)+3)/4); pages != wantPages {
					t.Errorf("%d pages, want %d", pages, wantPages)
				}
			})
		}
	}

	// Stability: runs created while a listing is paged never shift it.
	snapshot := make([]string, len(all))
	for i, r := range all {
		snapshot[len(all)-1-i] = r.ID
	}
	n := 0
	got, _ := pageRuns(t, s, RunQuery{Limit: 7}, func() {
		n++
		clk.Set(t0.Add(time.Hour + time.Duration(n)*time.Minute))
		enqueue(t, s, fmt.Sprint("NEW", n), DuplicateSkip)
	})
	if !slices.Equal(got, snapshot) {
		t.Errorf("newest-first listing shifted by concurrent inserts:\n got %v\nwant %v", got, snapshot)
	}
	got, _ = pageRuns(t, s, RunQuery{Limit: 7, OldestFirst: true, Until: t0.Add(time.Hour)}, func() {
		n++
		enqueue(t, s, fmt.Sprint("NEW", n), DuplicateSkip)
	})
	if slices.Reverse(snapshot); !slices.Equal(got, snapshot) {
		t.Errorf("oldest-first listing shifted by concurrent inserts:\n got %v\nwant %v", got, snapshot)
	}

	if _, err := s.Runs(ctx, RunQuery{Cursor: "not-a-run-id"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad cursor: %v", err)
	}
	if p := must[RunPage](t)(s.Runs(ctx, RunQuery{Limit: 100000})); len(p.Runs) != 30+n || p.Next != "" {
		t.Errorf("a huge limit returned %d runs, next %q", len(p.Runs), p.Next)
	}
}

// pageRuns follows a listing's cursors to the end, calling between (if not
// nil) between pages, and returns the ids and the number of pages.
func pageRuns(t *testing.T, s *Store, q RunQuery, between func()) ([]string, int) {
	t.Helper()
	var ids []string
	for pages := 1; ; pages++ {
		p := must[RunPage](t)(s.Runs(ctx, q))
		for _, r := range p.Runs {
			ids = append(ids, r.ID)
			if r.Input != nil {
				t.Fatal("listings must not load documents")
			}
		}
		if p.Next == "" {
			return ids, pages
		}
		if pages > 100 {
			t.Fatal("runaway pagination")
		}
		q.Cursor = p.Next
		if between != nil {
			between()
		}
	}
}

func TestGranulesQuery(t *testing.T) {
	s, _ := openTest(t)
	type gr struct {
		id, coll string
		status   GranuleStatus
	}
	var all []gr
	for i := range 20 {
		coll := []string{"hs3", "amsr"}[i%2]
		id := fmt.Sprintf("%s_2013%04d", strings.ToUpper(coll), i)
		if i%5 == 0 {
			id = fmt.Sprintf("OTHER_%02d", i)
		}
		d := doc(id)
		d.Collection = coll
		e := must[Enqueued](t)(s.EnqueueGranule(ctx, EnqueueRequest{Granule: d, Pipeline: "ingest", Policy: DuplicateSkip}))
		status := GranuleQueued
		switch i % 4 {
		case 1:
			must[Run](t)(s.StartRun(ctx, e.RunID, pipelineSteps))
			status = GranuleRunning
		case 2:
			must[Run](t)(s.StartRun(ctx, e.RunID, pipelineSteps))
			complete(t, s, e.RunID)
			status = GranuleCompleted
		case 3:
			must[bool](t)(s.FinishRun(ctx, e.RunID, RunFailed, "x"))
			status = GranuleFailed
		}
		all = append(all, gr{id, coll, status})
	}
	slices.SortFunc(all, func(a, b gr) int { return strings.Compare(a.id, b.id) })
	for _, tc := range []struct {
		name string
		q    GranuleQuery
	}{
		{"all", GranuleQuery{}},
		{"status", GranuleQuery{Status: GranuleCompleted}},
		{"collection", GranuleQuery{Collection: "amsr"}},
		{"status and collection", GranuleQuery{Status: GranuleQueued, Collection: "hs3"}},
		{"prefix", GranuleQuery{IDPrefix: "HS3_2013"}},
		{"prefix and status", GranuleQuery{IDPrefix: "AMSR", Status: GranuleFailed}},
		{"prefix and collection", GranuleQuery{IDPrefix: "OTHER", Collection: "amsr"}},
		{"everything", GranuleQuery{IDPrefix: "OTHER", Collection: "hs3", Status: GranuleRunning}},
		{"nothing", GranuleQuery{IDPrefix: "ZZZ"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []string
			for _, g := range all {
				if (tc.q.Status == "" || g.status == tc.q.Status) && (tc.q.Collection == "" || g.coll == tc.q.Collection) &&
					strings.HasPrefix(g.id, tc.q.IDPrefix) {
					want = append(want, g.id)
				}
			}
			q := tc.q
			q.Limit = 3
			var got []string
			for range 20 {
				p := must[GranulePage](t)(s.Granules(ctx, q))
				for _, g := range p.Granules {
					got = append(got, g.ID)
					if g.Document != nil {
						t.Fatal("listings must not load documents")
					}
				}
				if p.Next == "" {
					break
				}
				q.Cursor = p.Next
			}
			if !slices.Equal(got, want) {
				t.Errorf("paged ids = %v\nwant %v", got, want)
			}
		})
	}
	if _, err := s.Granules(ctx, GranuleQuery{Cursor: "!!"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad cursor: %v", err)
	}
	if _, err := s.Granule(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing granule: %v", err)
	}
	if _, err := s.Run(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing run: %v", err)
	}
}

func TestStats(t *testing.T) {
	s, _ := openTest(t)
	prepare(t, s, "A", GranuleCompleted)
	prepare(t, s, "B", GranuleFailed)
	prepare(t, s, "C", GranuleRunning)
	prepare(t, s, "D", GranuleQueued)
	enqueue(t, s, "A", DuplicateVersion)
	st := must[Stats](t)(s.Stats(ctx))
	wantRuns := map[RunStatus]int{RunSucceeded: 1, RunFailed: 1, RunRunning: 1, RunQueued: 2}
	wantGranules := map[GranuleStatus]int{GranuleQueued: 2, GranuleFailed: 1, GranuleRunning: 1}
	if fmt.Sprint(st.Runs["ingest"]) != fmt.Sprint(wantRuns) || len(st.Runs) != 1 {
		t.Errorf("Stats.Runs = %v, want ingest: %v", st.Runs, wantRuns)
	}
	if fmt.Sprint(st.Granules["hs3"]) != fmt.Sprint(wantGranules) || len(st.Granules) != 1 {
		t.Errorf("Stats.Granules = %v, want hs3: %v", st.Granules, wantGranules)
	}
}

func TestContextCancelled(t *testing.T) {
	s, _ := openTest(t)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.EnqueueGranule(cctx, EnqueueRequest{Granule: doc("G"), Pipeline: "p"}); !errors.Is(err, context.Canceled) {
		t.Errorf("write with a cancelled context: %v", err)
	}
	if _, err := s.Stats(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("read with a cancelled context: %v", err)
	}
}

func TestVerifyDetects(t *testing.T) {
	s := must[*Store](t)(Open(ctx, t.TempDir(), Options{Clock: newClock()}))
	defer s.Close()
	e := enqueue(t, s, "G1", DuplicateSkip)
	if err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		t := &txn{tx: tx}
		if err := tx.Bucket(bRunsByStatus).Delete(key(string(RunQueued), e.RunID)); err != nil {
			return err
		}
		return t.count(1, "granules", "hs3", string(GranuleQueued))
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Verify(ctx)
	if !errors.Is(err, ErrInconsistent) || !strings.Contains(err.Error(), "index runs_by_status lacks") ||
		!strings.Contains(err.Error(), `counter "granules\x00hs3\x00queued" is 2, the records make it 1`) {
		t.Errorf("Verify = %v", err)
	}
}

// TestConcurrentRuns runs granules from several goroutines at once, as a
// scheduler with a concurrency cap does, and checks the result.
func TestConcurrentRuns(t *testing.T) {
	s, _ := openTest(t)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				id := fmt.Sprintf("W%d_%02d", w, i)
				e, err := s.EnqueueGranule(ctx, EnqueueRequest{Granule: doc(id), Pipeline: "ingest", Policy: DuplicateSkip})
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := s.StartRun(ctx, e.RunID, pipelineSteps); err != nil {
					t.Error(err)
					return
				}
				if err := completeRun(s, e.RunID); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := must[Stats](t)(s.Stats(ctx))
	if st.Runs["ingest"][RunSucceeded] != 80 || st.Granules["hs3"][GranuleCompleted] != 80 {
		t.Errorf("Stats = %+v", st)
	}
}
