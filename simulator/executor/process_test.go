//go:build unix

package executor

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// processTask is a task running the script name from base.
func processTask(name string) *graph.Task {
	return &graph.Task{Name: "t", RunsOn: "ecs", LocalCommand: []string{"./" + name}}
}

func TestProcessResultJSON(t *testing.T) {
	skipWithoutUnix(t)
	base := t.TempDir()
	writeScript(t, base, "step.sh", `
set -e
content=$(cat "$CUMULUS_INPUT_DIR/a.txt")
echo "read $content"
cat > "$CUMULUS_RESULT" <<JSON
{"granule": {"id": "G2024001", "files": [
  {"name": "a.txt", "type": "data", "bucket": "protected", "key": "MOD09/a.txt", "size": 6}
]}, "outputs": {"moved": 1}, "future_field": true}
JSON
`)
	fx := newFixture(t)
	p := NewProcess(ProcessOptions{BaseDir: base})
	res, err := p.Run(context.Background(), fx.job(t, processTask("step.sh")))
	if err != nil {
		t.Fatalf("Run: %v\nlog:\n%s", err, fx.log)
	}
	want := contract.Result{
		Granule: contract.Granule{
			ID: "G2024001", Collection: "MOD09", Version: "6", Date: "2024-01-01",
			Files: []contract.File{{Name: "a.txt", Type: "data", Bucket: "protected", Key: "MOD09/a.txt", Size: 6}},
		},
		Outputs: map[string]any{"moved": float64(1)},
	}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("result:\n got %+v\nwant %+v", res, want)
	}
	if got := fx.log.String(); got != "read hello\n" {
		t.Errorf("log = %q", got)
	}
}

func TestProcessOutputs(t *testing.T) {
	skipWithoutUnix(t)
	base := t.TempDir()
	writeScript(t, base, "step.sh", `
set -e
tr a-z A-Z < "$CUMULUS_INPUT_DIR/a.txt" > "$CUMULUS_OUTPUT_DIR/a.txt"
mkdir "$CUMULUS_OUTPUT_DIR/browse"
echo thumb > "$CUMULUS_OUTPUT_DIR/browse/a.png"
echo meta > "$CUMULUS_OUTPUT_DIR/a.cmr.json"
ln -s /etc/passwd "$CUMULUS_OUTPUT_DIR/link"
echo to stderr >&2
`)
	fx := newFixture(t)
	p := NewProcess(ProcessOptions{BaseDir: base})
	res, err := p.Run(context.Background(), fx.job(t, processTask("step.sh")))
	if err != nil {
		t.Fatalf("Run: %v\nlog:\n%s", err, fx.log)
	}
	g := res.Granule
	if g.ID != "G2024001" || g.Collection != "MOD09" || len(g.Files) != 3 {
		t.Fatalf("granule = %+v", g)
	}
	// a.txt was rewritten: same place in the list, same type, new location.
	a := g.Files[0]
	if a.Name != "a.txt" || a.Type != "data" || a.Bucket != "staging" || a.Key != "G2024001/a.txt" ||
		a.Size != 6 || a.ChecksumType != "sha256" || a.Source != "" {
		t.Errorf("rewritten file = %+v", a)
	}
	if got := fx.store.read(t, "staging", "G2024001/a.txt"); got != "HELLO\n" {
		t.Errorf("uploaded a.txt = %q", got)
	}
	// New files are added in name order, with no type; the link is skipped.
	if g.Files[1].Name != "a.cmr.json" || g.Files[2].Name != "browse/a.png" || g.Files[2].Key != "G2024001/browse/a.png" || g.Files[2].Type != "" {
		t.Errorf("added files = %+v", g.Files[1:])
	}
	if res.Outputs != nil {
		t.Errorf("outputs = %v", res.Outputs)
	}
	// The input granule is the caller's and is left as it was.
	if fx.input.Granule.Files[0].Key != "src/a.txt" {
		t.Errorf("input granule changed: %+v", fx.input.Granule.Files[0])
	}
	if !strings.Contains(fx.log.String(), "to stderr\n") {
		t.Errorf("log = %q", fx.log)
	}
}

func TestProcessNoOutputs(t *testing.T) {
	skipWithoutUnix(t)
	fx := newFixture(t)
	p := NewProcess(ProcessOptions{})
	res, err := p.Run(context.Background(), fx.job(t, &graph.Task{Name: "t", LocalCommand: []string{"true"}}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Granule, fx.input.Granule) {
		t.Errorf("granule = %+v, want the input's", res.Granule)
	}
}

func TestProcessExitCode(t *testing.T) {
	skipWithoutUnix(t)
	fx := newFixture(t)
	p := NewProcess(ProcessOptions{})
	task := &graph.Task{Name: "t", LocalCommand: []string{"sh", "-c", "echo failing >&2; exit 3"}}
	_, err := p.Run(context.Background(), fx.job(t, task))
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 3 || exit.Timeout || exit.OOM {
		t.Fatalf("err = %#v, want ExitError{Code: 3}", err)
	}
	if Retryable(err, nil) || !Retryable(err, []int{3}) {
		t.Errorf("Retryable wrong for %v", err)
	}
	if fx.log.String() != "failing\n" {
		t.Errorf("log = %q", fx.log)
	}

	// A death by signal is 128+signal, as in Docker.
	task = &graph.Task{Name: "t", LocalCommand: []string{"sh", "-c", "kill -KILL $$"}}
	_, err = p.Run(context.Background(), fx.job(t, task))
	if !errors.As(err, &exit) || exit.Code != 137 {
		t.Fatalf("err = %v, want exit code 137", err)
	}
}

// groupGone waits a little for a process group to have no live members.
// Zombies do not count: the killed children of a dead shell are orphans that
// this machine's init may take a while to reap.
func groupGone(t *testing.T, pgid int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		live := liveMembers(pgid)
		if live == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still has %d live processes", pgid, live)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// liveMembers counts the processes of group pgid that are not zombies,
// from /proc where there is one, else by asking kill.
func liveMembers(pgid int) int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		if errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH) {
			return 0
		}
		return 1
	}
	n := 0
	for _, e := range entries {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces, so
		// split after its closing parenthesis.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) >= 3 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" {
			n++
		}
	}
	return n
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if err := json.Unmarshal([]byte(strings.TrimSpace(string(b))), &pid); err != nil {
		t.Fatal(err)
	}
	return pid
}

// waitFile waits for a step to signal it is ready by writing path.
func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(b), "\n") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared", path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestProcessTimeout(t *testing.T) {
	skipWithoutUnix(t)
	base, marks := t.TempDir(), t.TempDir()
	// A step that starts a child of its own and sleeps: both must go.
	writeScript(t, base, "step.sh", `
sleep 60 &
echo $$ > "$MARKS/pid"
sleep 60
`)
	fx := newFixture(t)
	fx.input.Env = map[string]string{"MARKS": marks}
	p := NewProcess(ProcessOptions{BaseDir: base})
	job := fx.job(t, processTask("step.sh"))
	job.Timeout = 300 * time.Millisecond
	start := time.Now()
	_, err := p.Run(context.Background(), job)
	took := time.Since(start)
	var exit *ExitError
	if !errors.As(err, &exit) || !exit.Timeout {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if !Retryable(err, nil) {
		t.Error("a timeout should be retryable")
	}
	if took > 3*time.Second {
		t.Errorf("Run took %v after a 300ms timeout", took)
	}
	groupGone(t, readPID(t, filepath.Join(marks, "pid")))
}

func TestProcessCancel(t *testing.T) {
	skipWithoutUnix(t)
	for _, tc := range []struct {
		name, script string
		cleaned      bool
	}{
		{"terminates", `
trap 'echo cleaned > "$MARKS/cleaned"; exit 0' TERM
echo $$ > "$MARKS/pid"
sleep 60 & wait
`, true},
		{"ignores SIGTERM", `
trap '' TERM
echo $$ > "$MARKS/pid"
sleep 60
`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, marks := t.TempDir(), t.TempDir()
			writeScript(t, base, "step.sh", tc.script)
			fx := newFixture(t)
			fx.input.Env = map[string]string{"MARKS": marks}
			p := NewProcess(ProcessOptions{BaseDir: base, Grace: 300 * time.Millisecond})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				waitFile(t, filepath.Join(marks, "pid"))
				cancel()
			}()
			start := time.Now()
			_, err := p.Run(ctx, fx.job(t, processTask("step.sh")))
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled wrapped", err)
			}
			if Retryable(err, nil) {
				t.Error("a cancelled step should not be retried")
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("Run took %v", took)
			}
			_, statErr := os.Stat(filepath.Join(marks, "cleaned"))
			if cleaned := statErr == nil; cleaned != tc.cleaned {
				t.Errorf("cleaned up = %v, want %v", cleaned, tc.cleaned)
			}
			groupGone(t, readPID(t, filepath.Join(marks, "pid")))
		})
	}
}

func TestProcessEnv(t *testing.T) {
	skipWithoutUnix(t)
	base, marks := t.TempDir(), t.TempDir()
	writeScript(t, base, "step.sh", `env > "$MARKS/env"; pwd > "$MARKS/pwd"`)
	t.Setenv("CUMULUS_TEST_LEAK", "secret")
	t.Setenv("LANG", "C.UTF-8")
	fx := newFixture(t)
	fx.input.Attempt = 2
	fx.input.Env = map[string]string{"MARKS": marks, "LEVEL": "step", "CUMULUS_RESULT": "/elsewhere"}
	fx.input.With = map[string]any{"target": "protected"}
	task := processTask("step.sh")
	task.Environment = []graph.Binding{staticEnv("LEVEL", "task"), staticEnv("TASK_ONLY", "yes")}
	job := fx.job(t, task)
	if _, err := NewProcess(ProcessOptions{BaseDir: base}).Run(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(marks, "env"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	work, _ := filepath.Abs(job.WorkDir)
	var granule contract.Granule
	if err := json.Unmarshal([]byte(env[contract.EnvGranule]), &granule); err != nil || !reflect.DeepEqual(granule, fx.input.Granule) {
		t.Errorf("%s = %s (%v)", contract.EnvGranule, env[contract.EnvGranule], err)
	}
	for k, want := range map[string]string{
		contract.EnvPipeline:  "ingest",
		contract.EnvStep:      "process",
		contract.EnvAttempt:   "2",
		contract.EnvWith:      `{"target":"protected"}`,
		contract.EnvInputDir:  filepath.Join(work, "in"),
		contract.EnvOutputDir: filepath.Join(work, "out"),
		contract.EnvResult:    filepath.Join(work, "result.json"), // the contract's wins
		"LEVEL":               "step",                             // the step's env wins over the task's
		"TASK_ONLY":           "yes",
		"LANG":                "C.UTF-8",
		"PATH":                os.Getenv("PATH"),
	} {
		if env[k] != want {
			t.Errorf("%s = %q, want %q", k, env[k], want)
		}
	}
	if _, ok := env["CUMULUS_TEST_LEAK"]; ok {
		t.Error("the simulator's environment leaked into the step's")
	}
	if pwd, _ := os.ReadFile(filepath.Join(marks, "pwd")); strings.TrimSpace(string(pwd)) != work {
		t.Errorf("cwd = %q, want %q", pwd, work)
	}
	if in, _ := os.ReadFile(filepath.Join(work, "in", "a.txt")); string(in) != "hello\n" {
		t.Errorf("in/a.txt = %q", in)
	}

	// Without inputs, CUMULUS_WITH is not set at all.
	fx.input.With = nil
	if _, err := NewProcess(ProcessOptions{BaseDir: base}).Run(context.Background(), fx.job(t, task)); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(marks, "env")); strings.Contains(string(b), contract.EnvWith+"=") {
		t.Errorf("%s set without inputs", contract.EnvWith)
	}
}

func TestProcessMalformedResult(t *testing.T) {
	skipWithoutUnix(t)
	for _, tc := range []struct{ name, result, want string }{
		{"not JSON", `done!`, "not a JSON result object"},
		{"empty", ``, "not a JSON result object"},
		{"no granule", `{"outputs": {}}`, `no "granule"`},
		{"another granule", `{"granule": {"id": "G2", "files": []}}`, `"G2", not the input granule's "G2024001"`},
		{"no files", `{"granule": {"id": "G2024001"}}`, `no "files"`},
		{"file without key", `{"granule": {"id": "G2024001", "files": [{"name": "a", "bucket": "b"}]}}`, `"a" has no bucket or key`},
		{"two values", `{"granule": {"id": "G2024001", "files": []}} {}`, "more than one JSON value"},
		{"wrong type", `{"granule": {"id": 7, "files": []}}`, "not a JSON result object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			if err := os.WriteFile(filepath.Join(base, "result"), []byte(tc.result), 0o644); err != nil {
				t.Fatal(err)
			}
			fx := newFixture(t)
			task := &graph.Task{Name: "t", LocalCommand: []string{"cp", filepath.Join(base, "result"), "result.json"}}
			_, err := NewProcess(ProcessOptions{}).Run(context.Background(), fx.job(t, task))
			var re *ResultError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a ResultError saying %q", err, tc.want)
			}
			if Retryable(err, nil) {
				t.Error("a malformed result should not be retried")
			}
		})
	}
}

func TestProcessCannotRun(t *testing.T) {
	fx := newFixture(t)
	p := NewProcess(ProcessOptions{BaseDir: t.TempDir()})
	for name, task := range map[string]*graph.Task{
		"no local_command": {Name: "t", Image: "x"},
		"missing program":  {Name: "t", LocalCommand: []string{"./nothing-here"}},
		"not on PATH":      {Name: "t", LocalCommand: []string{"cumulus-no-such-program"}},
		"dynamic env":      {Name: "t", LocalCommand: []string{"true"}, Environment: []graph.Binding{{Name: "X", Value: graph.Value{Expr: "granule.id"}}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := p.Run(context.Background(), fx.job(t, task))
			if !errors.Is(err, ErrCannotRun) || Retryable(err, nil) {
				t.Fatalf("err = %v, want ErrCannotRun", err)
			}
		})
	}
	if fx.store.downloads != 0 {
		t.Errorf("%d downloads for steps that could not run", fx.store.downloads)
	}
}

func TestProcessBadInput(t *testing.T) {
	skipWithoutUnix(t)
	base, marks := t.TempDir(), t.TempDir()
	writeScript(t, base, "step.sh", `touch "$MARKS/ran"`)
	p := NewProcess(ProcessOptions{BaseDir: base})
	for _, tc := range []struct {
		name  string
		alter func(*contract.Input)
		want  string
	}{
		{"checksum mismatch", func(in *contract.Input) { in.Granule.Files[0].Checksum = strings.Repeat("0", 32) }, "md5 checksum mismatch"},
		{"missing object", func(in *contract.Input) { in.Granule.Files[0].Key = "nothing" }, "downloading a.txt"},
		{"escaping name", func(in *contract.Input) { in.Granule.Files[0].Name = "../a.txt" }, "not a plain relative name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			fx.input.Env = map[string]string{"MARKS": marks}
			fx.input.Granule.Files = append([]contract.File(nil), fx.input.Granule.Files...)
			tc.alter(&fx.input)
			_, err := p.Run(context.Background(), fx.job(t, processTask("step.sh")))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			var exit *ExitError
			if errors.As(err, &exit) {
				t.Errorf("a download failure is not the step's: %v", err)
			}
			if _, err := os.Stat(filepath.Join(marks, "ran")); err == nil {
				t.Error("the step ran without its inputs")
			}
		})
	}
}

func TestProcessOutputsNeedABucket(t *testing.T) {
	skipWithoutUnix(t)
	fx := newFixture(t)
	fx.input.Granule.Files = nil
	task := &graph.Task{Name: "t", LocalCommand: []string{"sh", "-c", `echo x > "$CUMULUS_OUTPUT_DIR/x"`}}
	_, err := NewProcess(ProcessOptions{}).Run(context.Background(), fx.job(t, task))
	if err == nil || !strings.Contains(err.Error(), "no staging bucket") {
		t.Fatalf("err = %v", err)
	}
}

func TestProcessStragglers(t *testing.T) {
	skipWithoutUnix(t)
	base, marks := t.TempDir(), t.TempDir()
	// The step exits at once, leaving a child that holds its output open.
	writeScript(t, base, "step.sh", `
sleep 60 &
echo $$ > "$MARKS/pid"
echo done
`)
	fx := newFixture(t)
	fx.input.Env = map[string]string{"MARKS": marks}
	start := time.Now()
	if _, err := NewProcess(ProcessOptions{BaseDir: base}).Run(context.Background(), fx.job(t, processTask("step.sh"))); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= pipeDrain {
		t.Errorf("Run took %v: it waited for the straggler's output", took)
	}
	if fx.log.String() != "done\n" {
		t.Errorf("log = %q", fx.log)
	}
	groupGone(t, readPID(t, filepath.Join(marks, "pid")))
}

// The caller's deadline stops a step as a cancellation does: it is not the
// attempt's timeout, and not retried.
func TestProcessCallerDeadline(t *testing.T) {
	fx := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	task := &graph.Task{Name: "t", LocalCommand: []string{"sleep", "60"}}
	_, err := NewProcess(ProcessOptions{Grace: 100 * time.Millisecond}).Run(ctx, fx.job(t, task))
	var exit *ExitError
	if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &exit) || Retryable(err, nil) {
		t.Fatalf("err = %v, want the caller's deadline, not retryable", err)
	}
}
