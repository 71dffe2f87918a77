package stepwrap

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/simulator/executor"
	"github.com/cumulus-toolchain/cumulus/simulator/s3local"
)

// fixture is an embedded S3 endpoint with a staging bucket holding one
// granule of two files.
type fixture struct {
	files   executor.S3Files
	client  *s3.Client
	granule contract.Granule
}

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

func newFixture(t testing.TB) *fixture {
	t.Helper()
	srv, err := s3local.Start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := s3local.Client(context.Background(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if err := s3local.EnsureBuckets(context.Background(), c, []string{"staging"}); err != nil {
		t.Fatal(err)
	}
	fx := &fixture{files: executor.S3Files{Client: c}, client: c}
	fx.granule = contract.Granule{ID: "G1", Collection: "c", Version: "1", Files: []contract.File{}}
	for name, body := range map[string]string{"a.txt": "alpha\n", "b.dat": "bravo\n"} {
		fx.put(t, "G1/"+name, []byte(body))
		fx.granule.Files = append(fx.granule.Files, contract.File{Name: name, Type: "data", Bucket: "staging", Key: "G1/" + name,
			Size: int64(len(body)), Checksum: md5hex([]byte(body)), ChecksumType: "md5"})
	}
	return fx
}

func (fx *fixture) put(t testing.TB, key string, body []byte) {
	t.Helper()
	if _, err := fx.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("staging"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

func (fx *fixture) get(t testing.TB, key string) string {
	t.Helper()
	out, err := fx.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("staging"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(out.Body)
	return b.String()
}

// environ is the contract's environment for g, without the folders (as on
// AWS).
func environ(t testing.TB, g contract.Granule, extra ...string) []string {
	t.Helper()
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"PATH=" + os.Getenv("PATH"), contract.EnvGranule + "=" + string(b),
		contract.EnvPipeline + "=ingest", contract.EnvStep + "=preprocess", contract.EnvAttempt + "=2"}, extra...)
}

// logBuffer collects JSON log records.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func (l *logBuffer) find(t *testing.T, msg string) map[string]any {
	t.Helper()
	for _, r := range l.records(t) {
		if r["msg"] == msg {
			return r
		}
	}
	t.Fatalf("no log record %q in:\n%s", msg, l.buf.String())
	return nil
}

func config(t *testing.T, env []string, cmd ...string) (Config, *logBuffer) {
	logs := &logBuffer{}
	return Config{
		Command: cmd,
		Environ: env,
		WorkDir: t.TempDir(),
		Logger:  slog.New(slog.NewJSONHandler(logs, nil)),
		Grace:   200 * time.Millisecond,
	}, logs
}

// TestFetchRunUpload is the wrapper as on AWS: the inputs come from S3 and
// are verified, the program's outputs go back with checksums, and the
// result names them.
func TestFetchRunUpload(t *testing.T) {
	fx := newFixture(t)
	cfg, logs := config(t, environ(t, fx.granule),
		"sh", "-c", `echo "processing $(cat "$CUMULUS_INPUT_DIR/a.txt")"; echo warn >&2; tr a-z A-Z < "$CUMULUS_INPUT_DIR/b.dat" > "$CUMULUS_OUTPUT_DIR/b.upper"`)
	cfg.Files = fx.files
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != Succeeded || rep.ExitStatus() != 0 || rep.Fetched != 2 || rep.Uploaded != 1 {
		t.Fatalf("report %+v", rep)
	}
	if got := fx.get(t, "G1/b.upper"); got != "BRAVO\n" {
		t.Errorf("uploaded %q", got)
	}
	res := rep.Result
	if res == nil || len(res.Granule.Files) != 3 {
		t.Fatalf("result %+v", res)
	}
	up := res.Granule.Files[2]
	if up.Name != "b.upper" || up.Bucket != "staging" || up.Key != "G1/b.upper" || up.Size != 6 || up.ChecksumType != "sha256" || len(up.Checksum) != 64 {
		t.Errorf("uploaded file %+v", up)
	}
	// The result file is the contract's, readable by the executor.
	data, err := os.ReadFile(filepath.Join(cfg.WorkDir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if back, err := executor.ParseResult(data, fx.granule); err != nil || len(back.Granule.Files) != 3 {
		t.Errorf("result file %s: %v", data, err)
	}
	line := logs.find(t, "processing alpha")
	if line["stream"] != "stdout" || line["granule"] != "G1" || line["step"] != "preprocess" || line["pipeline"] != "ingest" || line["attempt"] != float64(2) {
		t.Errorf("log line %v", line)
	}
	if logs.find(t, "warn")["stream"] != "stderr" {
		t.Error("stderr line not tagged")
	}
	fin := logs.find(t, "resources (final)")
	if fin["wall_s"] == nil || fin["source"] == nil {
		t.Errorf("final sample %v", fin)
	}
	if logs.find(t, "step finished")["outcome"] != "succeeded" {
		t.Error("no outcome logged")
	}
}

// TestLocalInputs is the wrapper in the simulator: the executor put the
// inputs in place and collects the outputs itself.
func TestLocalInputs(t *testing.T) {
	g := contract.Granule{ID: "G1", Collection: "c", Version: "1", Files: []contract.File{
		{Name: "a.txt", Bucket: "staging", Key: "G1/a.txt", Size: 6, Checksum: md5hex([]byte("alpha\n")), ChecksumType: "md5"},
	}}
	work := t.TempDir()
	in, out := filepath.Join(work, "in"), filepath.Join(work, "out")
	os.MkdirAll(in, 0o755)
	os.MkdirAll(out, 0o755)
	os.WriteFile(filepath.Join(in, "a.txt"), []byte("alpha\n"), 0o644)
	env := environ(t, g, contract.EnvInputDir+"="+in, contract.EnvOutputDir+"="+out, contract.EnvResult+"="+filepath.Join(work, "result.json"))
	cfg, _ := config(t, env, "sh", "-c", `cp "$CUMULUS_INPUT_DIR/a.txt" "$CUMULUS_OUTPUT_DIR/a.copy"`)
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Result != nil || rep.Fetched != 0 {
		t.Errorf("the wrapper collected what the executor collects: %+v", rep)
	}
	if _, err := os.Stat(filepath.Join(out, "a.copy")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(work, "result.json")); err == nil {
		t.Error("a result was written")
	}

	// A missing input, with no store to fetch it from, is said plainly.
	os.Remove(filepath.Join(in, "a.txt"))
	rep, err = Run(context.Background(), cfg)
	if err == nil || rep.Outcome != Retryable || !strings.Contains(err.Error(), "no S3 store") {
		t.Errorf("missing input: %+v, %v", rep, err)
	}
}

// TestCorruptedInput: an input whose bytes do not match its checksum is
// refused, fatally, and the program does not run.
func TestCorruptedInput(t *testing.T) {
	fx := newFixture(t)
	fx.put(t, "G1/b.dat", []byte("bravO\n")) // same size, other bytes
	marker := filepath.Join(t.TempDir(), "ran")
	cfg, _ := config(t, environ(t, fx.granule), "touch", marker)
	cfg.Files = fx.files
	rep, err := Run(context.Background(), cfg)
	var sum *executor.ChecksumError
	if !errors.As(err, &sum) || rep.Outcome != Fatal || rep.ExitStatus() != ExitFatal || !strings.Contains(rep.Reason, "b.dat failed its checksum") {
		t.Fatalf("report %+v, err %v", rep, err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the program ran on a corrupted input")
	}
	if _, err := os.Stat(filepath.Join(cfg.WorkDir, "in", "b.dat")); err == nil {
		t.Error("the corrupted file was left in the input folder")
	}
}

func TestExitCodes(t *testing.T) {
	g := contract.Granule{ID: "G1", Collection: "c", Version: "1", Files: []contract.File{}}
	for _, tc := range []struct {
		name    string
		script  string
		outcome Outcome
		status  int
		oom     bool
	}{
		{"transient", "exit 3", Retryable, ExitRetryable, false},
		{"fatal", "exit 4", Fatal, ExitFatal, false},
		{"fatal 75 not listed", "exit 75", Fatal, ExitFatal, false},
		// No cgroup here: a program killed by SIGKILL that the wrapper did
		// not send, or a shell reporting such a child (137), is taken as
		// the kernel's OOM killer.
		{"killed", "kill -9 $$", Retryable, ExitRetryable, true},
		{"exit 137", "exit 137", Retryable, ExitRetryable, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := config(t, environ(t, g), "sh", "-c", tc.script)
			cfg.Transient = []int{3}
			rep, err := Run(context.Background(), cfg)
			if err == nil || rep.Outcome != tc.outcome || rep.ExitStatus() != tc.status || rep.OOM != tc.oom {
				t.Errorf("report %+v, err %v", rep, err)
			}
		})
	}
}

// TestOOMFromCgroup: the container's cgroup counted an OOM kill while the
// program ran (here the program bumps a stand-in cgroup's counter itself).
func TestOOMFromCgroup(t *testing.T) {
	cg := t.TempDir()
	os.WriteFile(filepath.Join(cg, "cpu.stat"), []byte("usage_usec 1000000\nuser_usec 1\n"), 0o644)
	os.WriteFile(filepath.Join(cg, "memory.current"), []byte("1048576\n"), 0o644)
	os.WriteFile(filepath.Join(cg, "memory.peak"), []byte("8388608\n"), 0o644)
	os.WriteFile(filepath.Join(cg, "memory.events"), []byte("low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n"), 0o644)
	g := contract.Granule{ID: "G1", Collection: "c", Version: "1", Files: []contract.File{}}
	cfg, _ := config(t, environ(t, g), "sh", "-c",
		`printf 'usage_usec 3500000\n' > "$CG/cpu.stat"; printf 'oom 2\noom_kill 1\n' > "$CG/memory.events"; exit 1`)
	cfg.Environ = append(cfg.Environ, "CG="+cg)
	cfg.Resources = ResourceSource{Kind: SourceCgroup2, Dir: cg}
	rep, err := Run(context.Background(), cfg)
	if err == nil || !rep.OOM || rep.Outcome != Retryable || !strings.Contains(rep.Reason, "memory") {
		t.Fatalf("report %+v, err %v", rep, err)
	}
	if rep.Usage.Source != SourceCgroup2 || rep.Usage.MemoryPeak != 8388608 || rep.Usage.CPU < 2500*time.Millisecond {
		t.Errorf("usage %+v", rep.Usage)
	}
}

func TestCgroupV1(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "memory"), 0o755)
	os.MkdirAll(filepath.Join(root, "cpuacct"), 0o755)
	os.WriteFile(filepath.Join(root, "memory", "memory.usage_in_bytes"), []byte("4096\n"), 0o644)
	os.WriteFile(filepath.Join(root, "memory", "memory.max_usage_in_bytes"), []byte("65536\n"), 0o644)
	os.WriteFile(filepath.Join(root, "memory", "memory.oom_control"), []byte("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"), 0o644)
	os.WriteFile(filepath.Join(root, "cpuacct", "cpuacct.usage"), []byte("1000000000\n"), 0o644)
	m := newMonitor(ResourceSource{Kind: SourceCgroup1, Dir: root})
	os.WriteFile(filepath.Join(root, "cpuacct", "cpuacct.usage"), []byte("3000000000\n"), 0o644)
	s := m.sample(time.Second)
	if s.CPU != 2*time.Second || s.Memory != 4096 || s.MemoryPeak != 65536 || m.oomKills() != 2 {
		t.Errorf("sample %+v, oom kills %d", s, m.oomKills())
	}
}

// TestProcSampling: without a cgroup of its own, the program's process
// group is summed from /proc.
func TestProcSampling(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	g := contract.Granule{ID: "G1", Collection: "c", Version: "1", Files: []contract.File{}}
	// A busy loop in a child of the shell, so that the group has two members.
	cfg, logs := config(t, environ(t, g), "sh", "-c", `i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done & wait`)
	cfg.Resources = ResourceSource{Kind: SourceProc}
	cfg.SampleEvery = 20 * time.Millisecond
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Usage.CPU <= 0 || rep.Usage.MemoryPeak <= 0 || rep.Usage.Source != SourceProc {
		t.Errorf("usage %+v", rep.Usage)
	}
	if logs.find(t, "resources")["memory_bytes"] == nil {
		t.Error("no periodic sample")
	}
}

func TestTimeout(t *testing.T) {
	g := contract.Granule{ID: "G1", Collection: "c", Version: "1", Files: []contract.File{}}
	cfg, _ := config(t, environ(t, g), "sh", "-c", `trap '' TERM; sleep 30 & wait; sleep 30`)
	cfg.Timeout = 200 * time.Millisecond
	start := time.Now()
	rep, err := Run(context.Background(), cfg)
	if err == nil || !rep.TimedOut || rep.Outcome != Retryable || rep.ExitStatus() != ExitRetryable {
		t.Fatalf("report %+v, err %v", rep, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v: the program was not killed after the grace period", d)
	}
}

// TestCancelled: the wrapper asked to stop (SIGTERM from ECS) stops the
// program gracefully, and the step may be retried.
func TestCancelled(t *testing.T) {
	g := contract.Granule{ID: "G1", Collection: "c", Version: "1", Files: []contract.File{}}
	cfg, _ := config(t, environ(t, g), "sleep", "30")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	rep, err := Run(ctx, cfg)
	if err == nil || rep.Outcome != Retryable || rep.Reason != "stopped" {
		t.Fatalf("report %+v, err %v", rep, err)
	}
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		cmd  []string
		want string
	}{
		{"no granule", []string{"PATH=/bin"}, []string{"true"}, "CUMULUS_GRANULE is not set"},
		{"bad granule", []string{contract.EnvGranule + "={"}, []string{"true"}, "not a granule document"},
		{"no command", []string{contract.EnvGranule + `={"id":"G"}`}, nil, "nothing to run"},
		{"missing program", []string{"PATH=/nonexistent", contract.EnvGranule + `={"id":"G","files":[]}`}, []string{"no-such-program"}, "no-such-program"},
		{"escaping name", []string{contract.EnvGranule + `={"id":"G","files":[{"name":"../x","bucket":"b","key":"k"}]}`}, []string{"true"}, "not a plain relative name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := config(t, tc.env, tc.cmd...)
			rep, err := Run(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
			if tc.name != "escaping name" && rep.Outcome != Fatal {
				t.Errorf("outcome %s", rep.Outcome)
			}
		})
	}
}

// TestProgramResult: a result the program wrote is checked and kept; a
// malformed one is fatal.
func TestProgramResult(t *testing.T) {
	g := contract.Granule{ID: "G1", Collection: "c", Version: "1", Files: []contract.File{}}
	cfg, _ := config(t, environ(t, g), "sh", "-c", `echo '{"granule":{"id":"G1","files":[]},"outputs":{"n":1}}' > "$CUMULUS_RESULT"`)
	rep, err := Run(context.Background(), cfg)
	if err != nil || rep.Result == nil || rep.Result.Outputs["n"] != float64(1) || rep.Result.Granule.Collection != "c" {
		t.Fatalf("report %+v, err %v", rep, err)
	}
	cfg, _ = config(t, environ(t, g), "sh", "-c", `echo '{"granule":{"id":"OTHER","files":[]}}' > "$CUMULUS_RESULT"`)
	rep, err = Run(context.Background(), cfg)
	if err == nil || rep.Outcome != Fatal || rep.Reason != "malformed result" {
		t.Fatalf("report %+v, err %v", rep, err)
	}
}

// TestProgramEnvironment: the program gets the contract's variables and
// not the wrapper's own settings.
func TestProgramEnvironment(t *testing.T) {
	g := contract.Granule{ID: "G1", Collection: "c", Version: "1", Files: []contract.File{}}
	out := filepath.Join(t.TempDir(), "env")
	cfg, _ := config(t, environ(t, g, EnvTaskToken+"=secret", "LEVEL=2"), "sh", "-c", `env > "`+out+`"`)
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	env := string(b)
	for _, want := range []string{"CUMULUS_INPUT_DIR=" + filepath.Join(cfg.WorkDir, "in"), "CUMULUS_OUTPUT_DIR=", "CUMULUS_RESULT=", "CUMULUS_STEP=preprocess", "CUMULUS_ATTEMPT=2", "LEVEL=2", `"id":"G1"`} {
		if !strings.Contains(env, want) {
			t.Errorf("environment lacks %s:\n%s", want, env)
		}
	}
	if strings.Contains(env, "secret") {
		t.Error("the task token reached the program")
	}
}

func TestHTTPHeartbeat(t *testing.T) {
	var beats atomic.Int32
	var last Beat
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		json.NewDecoder(r.Body).Decode(&last)
		beats.Add(1)
	}))
	defer srv.Close()
	g := contract.Granule{ID: "G1", Collection: "c", Version: "1", Files: []contract.File{}}
	cfg, _ := config(t, environ(t, g), "sleep", "0.3")
	cfg.Heartbeat = HTTPHeartbeat{URL: srv.URL}
	cfg.HeartbeatEvery = 50 * time.Millisecond
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if beats.Load() < 2 || last.Granule != "G1" || last.Step != "preprocess" || last.Attempt != 2 {
		t.Errorf("%d beats, last %+v", beats.Load(), last)
	}
}

// fakeSFN records Step Functions calls.
type fakeSFN struct {
	mu         sync.Mutex
	heartbeats int
	success    *sfn.SendTaskSuccessInput
	failure    *sfn.SendTaskFailureInput
}

func (f *fakeSFN) SendTaskHeartbeat(_ context.Context, in *sfn.SendTaskHeartbeatInput, _ ...func(*sfn.Options)) (*sfn.SendTaskHeartbeatOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if aws.ToString(in.TaskToken) != "tok" {
		return nil, errors.New("wrong token")
	}
	f.heartbeats++
	return &sfn.SendTaskHeartbeatOutput{}, nil
}

func (f *fakeSFN) SendTaskSuccess(_ context.Context, in *sfn.SendTaskSuccessInput, _ ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.success = in
	return &sfn.SendTaskSuccessOutput{}, nil
}

func (f *fakeSFN) SendTaskFailure(_ context.Context, in *sfn.SendTaskFailureInput, _ ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failure = in
	return &sfn.SendTaskFailureOutput{}, nil
}

func TestStepFunctions(t *testing.T) {
	fx := newFixture(t)
	fake := &fakeSFN{}
	cfg, _ := config(t, environ(t, fx.granule), "sh", "-c", `sleep 0.2; echo x > "$CUMULUS_OUTPUT_DIR/x.txt"`)
	cfg.Files = fx.files
	cfg.Heartbeat = SFNHeartbeat{Client: fake, Token: "tok"}
	cfg.HeartbeatEvery = 40 * time.Millisecond
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if fake.heartbeats < 2 || fake.success == nil || !strings.Contains(aws.ToString(fake.success.Output), `"x.txt"`) {
		t.Fatalf("heartbeats %d, success %+v", fake.heartbeats, fake.success)
	}

	fake = &fakeSFN{}
	cfg, _ = config(t, environ(t, fx.granule), "sh", "-c", "exit 3")
	cfg.Heartbeat = SFNHeartbeat{Client: fake, Token: "tok"}
	cfg.Files = fx.files
	cfg.Transient = []int{3}
	if _, err := Run(context.Background(), cfg); err == nil {
		t.Fatal("exit 3 succeeded")
	}
	if fake.failure == nil || aws.ToString(fake.failure.Error) != SFNErrorRetryable || !strings.Contains(aws.ToString(fake.failure.Cause), "transient") {
		t.Fatalf("failure %+v", fake.failure)
	}
}

func TestLongLines(t *testing.T) {
	var buf bytes.Buffer
	l := newLineLogger(slog.New(slog.NewJSONHandler(&buf, nil)), "stdout")
	l.Write(bytes.Repeat([]byte("x"), maxLine+10))
	l.Write([]byte("\r\nlast"))
	l.flush()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[2], `"msg":"last"`) {
		t.Errorf("%d records: %s", len(lines), buf.String())
	}
}

func TestParseTransient(t *testing.T) {
	if c, err := ParseTransient("75, 111"); err != nil || len(c) != 2 || c[1] != 111 {
		t.Errorf("%v %v", c, err)
	}
	if _, err := ParseTransient("x"); err == nil {
		t.Error("x accepted")
	}
}
