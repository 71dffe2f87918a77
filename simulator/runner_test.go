package simulator

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/simulator/builtin"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/simulator/executor"
	"github.com/cumulus-toolchain/cumulus/simulator/scheduler"
)

// fakeExec is an executor that answers with a fixed result or error and
// counts its calls.
type fakeExec struct {
	res   contract.Result
	err   error
	calls int
}

func (f *fakeExec) Run(ctx context.Context, job executor.Job) (contract.Result, error) {
	f.calls++
	return f.res, f.err
}

func testRunner(t *testing.T, docker, process executor.Executor) (*stepRunner, *[]scheduler.Event) {
	t.Helper()
	g := &graph.Graph{Collections: []*graph.Collection{{Name: "text", Files: []*graph.CollectionFile{
		{Name: "data", Match: `\.txt$`, Bucket: "public"},
		{Name: "browse", Match: `\.(png|jpg)$`, Bucket: "public"},
	}}}}
	var events []scheduler.Event
	dir := t.TempDir()
	return &stepRunner{
		env: builtin.Env{Graph: g}, docker: docker, process: process,
		workDir: dir + "/work", logDir: dir + "/logs",
		events: func(e scheduler.Event) { events = append(events, e) },
	}, &events
}

func runTask(t *testing.T, r *stepRunner, task *graph.Task) (contract.Result, error) {
	t.Helper()
	p := &graph.Pipeline{Name: "ingest"}
	s := &graph.Step{Name: "pre", Task: task}
	in := contract.Input{Pipeline: "ingest", Step: "pre", Attempt: 1, Granule: contract.Granule{ID: "G1", Collection: "text"}}
	return r.RunStep(context.Background(), p, s, in)
}

// A task's outputs get the type of the collection's first matching file
// block, so move_granule archives them; files already typed keep theirs.
func TestRunnerClassifiesOutputs(t *testing.T) {
	proc := &fakeExec{res: contract.Result{Granule: contract.Granule{ID: "G1", Collection: "text", Files: []contract.File{
		{Name: "G1.txt", Type: "data"}, {Name: "G1.png"}, {Name: "G1.log"}, {Name: "G1.txt.jpg", Type: "data"},
	}}}}
	r, _ := testRunner(t, nil, proc)
	res, err := runTask(t, r, &graph.Task{Name: "pre", RunsOn: "ecs", LocalCommand: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Granule.Files {
		got = append(got, f.Name+"="+f.Type)
	}
	if want := "[G1.txt=data G1.png=browse G1.log= G1.txt.jpg=data]"; fmt.Sprint(got) != want {
		t.Errorf("types = %v, want %v", got, want)
	}
}

// An image that is not here falls back to the task's local_command, with
// one warning per task; without a local_command the error is fatal, since
// a retry would meet the same missing image.
func TestRunnerMissingImage(t *testing.T) {
	missing := fmt.Errorf("task pre: image x:1 is not present: %w", executor.ErrCannotRun)
	docker := &fakeExec{err: missing}
	proc := &fakeExec{res: contract.Result{Granule: contract.Granule{ID: "G1", Collection: "text"}}}
	r, events := testRunner(t, docker, proc)
	task := &graph.Task{Name: "pre", RunsOn: "ecs", Image: "x:1", LocalCommand: []string{"true"}}
	for range 2 {
		if _, err := runTask(t, r, task); err != nil {
			t.Fatal(err)
		}
	}
	if docker.calls != 2 || proc.calls != 2 {
		t.Errorf("docker ran %d times, process %d; want 2 and 2", docker.calls, proc.calls)
	}
	if len(*events) != 1 || (*events)[0].Kind != "warning" {
		t.Errorf("events = %+v, want one warning", *events)
	}

	task.LocalCommand = nil
	_, err := runTask(t, r, task)
	var f scheduler.Fatal
	if !errors.As(err, &f) || !f.Fatal() || !errors.Is(err, executor.ErrCannotRun) {
		t.Errorf("err = %v, want a fatal ErrCannotRun", err)
	}

	// An exit code stays retryable: `retries` applies to any failure.
	docker.err = &executor.ExitError{Code: 3}
	_, err = runTask(t, r, task)
	if errors.As(err, &f) {
		t.Errorf("err = %v is fatal; exit codes are retried", err)
	}

	// A task that lists its transient codes: only those (and timeouts,
	// memory kills) are retried.
	task.TransientExitCodes = []int{75}
	for _, tc := range []struct {
		err   *executor.ExitError
		fatal bool
	}{
		{&executor.ExitError{Code: 75}, false},
		{&executor.ExitError{Code: 1}, true},
		{&executor.ExitError{Code: 137, OOM: true}, false},
		{&executor.ExitError{Code: -1, Timeout: true}, false},
	} {
		docker.err = tc.err
		_, err = runTask(t, r, task)
		var f scheduler.Fatal
		if got := errors.As(err, &f) && f.Fatal(); got != tc.fatal {
			t.Errorf("exit %+v: fatal = %v, want %v", *tc.err, got, tc.fatal)
		}
	}
}
