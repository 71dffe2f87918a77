//go:build unix

package state

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The crash test re-executes the test binary as a writer child (selected by
// these variables) and SIGKILLs it at random moments.
const (
	envChild = "CUMULUS_STATE_CRASH_CHILD" // "write" (forever) or "drain" (finish the work, exit)
	envDir   = "CUMULUS_STATE_CRASH_DIR"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envChild); mode != "" {
		if err := crashChild(mode, os.Getenv(envDir)); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var crashSteps = []string{"sync", "process", "archive"}

// crashChild plays a scheduler: it resumes what a previous child left, then
// (in "write" mode) enqueues and runs granules until killed. After each
// operation has returned (is on disk), it appends what it did to a journal,
// which the parent holds the store to: what the journal says was finished
// must still be finished after any kill.
//
// Granule n fails its "process" step for good when n%7 == 0, skips it when
// n%5 == 0, and any attempt fails (and is retried) one time in four.
func crashChild(mode, dir string) error {
	ctx := context.Background()
	s, err := Open(ctx, dir, Options{LockTimeout: 30 * time.Second})
	if err != nil {
		return err
	}
	journal, err := os.OpenFile(filepath.Join(dir, "journal"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	// One write(2) per line: a kill leaves whole lines (or a partial last
	// one, which the parent ignores).
	note := func(format string, args ...any) { _, _ = journal.WriteString(fmt.Sprintf(format+"\n", args...)) }
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))

	process := func(runID string) error {
		r, err := s.StartRun(ctx, runID, crashSteps)
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(strings.TrimPrefix(r.GranuleID, "G"))
		cur := *r.Current()
		for _, st := range r.Steps {
			if st.Status == StepFailed {
				// Died between failing the step and failing the run.
				_, err := s.FinishRun(ctx, runID, RunFailed, st.Name+" failed")
				return err
			}
		}
		for _, name := range r.Unfinished() {
			if name == "process" && n%7 != 0 && n%5 == 0 {
				ok, err := s.FinishStep(ctx, runID, name, StepResult{Status: StepSkipped, Granule: &cur})
				if err != nil {
					return err
				}
				if ok {
					note("finished %s %s", runID, name)
				}
				continue
			}
			for {
				a, err := s.StartAttempt(ctx, runID, name, 0, fmt.Sprintf("logs/%s/%s.log", runID, name))
				if err != nil {
					return err
				}
				if name == "process" && n%7 == 0 {
					if _, err := s.FinishAttempt(ctx, runID, name, a.Number, AttemptResult{ExitCode: 3, Error: "exit status 3"}); err != nil {
						return err
					}
					if a.Number < 2 {
						continue
					}
					if _, err := s.FinishStep(ctx, runID, name, StepResult{Status: StepFailed, Error: "exit status 3"}); err != nil {
						return err
					}
					if ok, err := s.FinishRun(ctx, runID, RunFailed, "process failed"); err != nil {
						return err
					} else if ok {
						note("failed %s %s", runID, r.GranuleID)
					}
					return nil
				}
				if rng.IntN(4) == 0 {
					if _, err := s.FinishAttempt(ctx, runID, name, a.Number, AttemptResult{ExitCode: 1, Error: "exit status 1"}); err != nil {
						return err
					}
					continue
				}
				if rng.IntN(2) == 0 {
					if _, err := s.FinishAttempt(ctx, runID, name, a.Number, AttemptResult{}); err != nil {
						return err
					}
				}
				break
			}
			out := cur
			out.Files = append(out.Files[:0:0], cur.Files...)
			switch name {
			case "sync":
				out.Files[0].Checksum, out.Files[0].ChecksumType = "d41d8cd98f00b204e9800998ecf8427e", "md5"
			case "archive":
				out.Files[0].Bucket, out.Files[0].Key = "protected", "hs3/"+out.Files[0].Name
			}
			ok, err := s.FinishStep(ctx, runID, name, StepResult{Status: StepSucceeded, Granule: &out})
			if err != nil {
				return err
			}
			if ok {
				note("finished %s %s", runID, name)
				if name == "archive" {
					note("archived %s", r.GranuleID)
				}
			}
			cur = out
		}
		if ok, err := s.FinishRun(ctx, runID, RunSucceeded, ""); err != nil {
			return err
		} else if ok {
			note("done %s %s", runID, r.GranuleID)
		}
		return nil
	}

	note("start %d", os.Getpid())
	resumed, err := s.Resume(ctx)
	if err != nil {
		return err
	}
	note("resumed %d", len(resumed))
	for _, r := range resumed {
		if err := process(r.ID); err != nil {
			return err
		}
	}
	for {
		page, err := s.Runs(ctx, RunQuery{Status: RunQueued, OldestFirst: true})
		if err != nil {
			return err
		}
		if len(page.Runs) == 0 {
			break
		}
		for _, r := range page.Runs {
			if err := process(r.ID); err != nil {
				return err
			}
		}
	}
	if mode == "drain" {
		return s.Close()
	}
	for {
		st, err := s.Stats(ctx)
		if err != nil {
			return err
		}
		total := 0
		for _, n := range st.Granules["hs3"] {
			total += n
		}
		id := fmt.Sprintf("G%06d", total+1)
		e, err := s.EnqueueGranule(ctx, EnqueueRequest{Granule: doc(id), Pipeline: "ingest", Policy: DuplicateSkip,
			Files: []SeenFile{{Source: "hamsr", Key: "ftp://ghrc/" + id + ".nc", Size: 100}}})
		if err != nil {
			return err
		}
		if e.New {
			note("enqueued %s %s", id, e.RunID)
		}
		if err := process(e.RunID); err != nil {
			return err
		}
	}
}

// TestCrashKill9 SIGKILLs a writing child at random moments, reopens the
// store after each kill and checks that it opens, is consistent, and still
// holds everything the child had been told was done; then lets a last child
// finish the work and checks every granule ended once.
func TestCrashKill9(t *testing.T) {
	kills := 10
	if testing.Short() {
		kills = 3
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	dir := t.TempDir()

	child := func(mode string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envChild+"="+mode, envDir+"="+dir)
		return cmd
	}
	for i := range kills {
		cmd := child("write")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// From a few milliseconds (often inside Open or Resume) to long
		// enough for dozens of runs.
		wait := time.Duration(5+rng.IntN(400)) * time.Millisecond
		time.Sleep(wait)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || !exit.Sys().(syscall.WaitStatus).Signaled() {
			t.Fatalf("kill %d: the child ended by itself before SIGKILL (%v): %s", i, err, stderr.Bytes())
		}
		j := checkCrashStore(t, dir)
		t.Logf("kill %d after %s: %d granules enqueued, %d steps finished, %d runs resumed so far",
			i, wait, len(j.enqueued), len(j.finished), j.resumed)
	}

	cmd := child("drain")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("drain child: %v: %s", err, out)
	}
	j := checkCrashStore(t, dir)
	s := must[*Store](t)(Open(ctx, dir, Options{}))
	defer s.Close()
	if len(j.enqueued) == 0 {
		t.Fatal("the children enqueued nothing")
	}
	var granules []Granule
	for q := (GranuleQuery{Limit: MaxPageSize}); ; {
		page := must[GranulePage](t)(s.Granules(ctx, q))
		granules = append(granules, page.Granules...)
		if q.Cursor = page.Next; q.Cursor == "" {
			break
		}
	}
	for _, g := range granules {
		n, _ := strconv.Atoi(strings.TrimPrefix(g.ID, "G"))
		want := GranuleCompleted
		if n%7 == 0 {
			want = GranuleFailed
		}
		if g.Status != want || len(g.Runs) != 1 {
			t.Errorf("after draining, granule %s is %s with %d runs, want %s with 1", g.ID, g.Status, len(g.Runs), want)
			continue
		}
		// The journal can miss a line (a kill between the commit and the
		// note), never hold one twice: the store says whether it was archived.
		r := must[Run](t)(s.Run(ctx, g.Runs[0].ID))
		if archived := r.Step("archive").Status == StepSucceeded; archived != (want == GranuleCompleted) || j.archived[g.ID] > 1 {
			t.Errorf("granule %s (%s): archive step %s, journal says archived %d times", g.ID, g.Status, r.Step("archive").Status, j.archived[g.ID])
		}
	}
	for id := range j.enqueued {
		if _, err := s.Granule(ctx, id); err != nil {
			t.Errorf("enqueued granule lost: %v", err)
		}
	}
	t.Logf("%d granules, %d lives, %d runs resumed", len(granules), kills+1, j.resumed)
}

type crashJournal struct {
	enqueued map[string]string // granule → run
	finished map[string]int    // "run step" → times
	archived map[string]int    // granule → times
	resumed  int
}

// checkCrashStore reopens the store after a kill and holds it to the
// journal.
func checkCrashStore(t *testing.T, dir string) crashJournal {
	t.Helper()
	s, err := Open(ctx, dir, Options{LockTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("the store does not open after a kill: %v", err)
	}
	defer s.Close()
	if err := s.Verify(ctx); err != nil {
		t.Fatalf("after a kill: %v", err)
	}
	j := crashJournal{enqueued: map[string]string{}, finished: map[string]int{}, archived: map[string]int{}}
	raw, err := os.ReadFile(filepath.Join(dir, "journal"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if i := bytes.LastIndexByte(raw, '\n'); i >= 0 {
		raw = raw[:i+1]
	} else {
		raw = nil
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch f[0] {
		case "enqueued":
			j.enqueued[f[1]] = f[2]
		case "finished":
			j.finished[f[1]+" "+f[2]]++
		case "archived":
			j.archived[f[1]]++
		case "resumed":
			n, _ := strconv.Atoi(f[1])
			j.resumed += n
		}
	}
	for id, runID := range j.enqueued {
		g, err := s.Granule(ctx, id)
		if err != nil {
			t.Errorf("journal says %s was enqueued: %v", id, err)
			continue
		}
		if len(g.Runs) == 0 || g.Runs[0].ID != runID {
			t.Errorf("granule %s has runs %+v, journal says %s", id, g.Runs, runID)
		}
	}
	for k, times := range j.finished {
		if times > 1 {
			t.Errorf("step %s was recorded as finished %d times", k, times)
		}
		runID, step, _ := strings.Cut(k, " ")
		r, err := s.Run(ctx, runID)
		if err != nil {
			t.Errorf("journal says %s finished: %v", k, err)
			continue
		}
		if st := r.Step(step); st == nil || !st.Status.Done() || st.Order == 0 {
			t.Errorf("journal says %s finished, the store says %+v", k, st)
		}
	}
	for id, times := range j.archived {
		if times > 1 {
			t.Errorf("granule %s was archived %d times", id, times)
		}
	}
	return j
}
