package executor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

func newFake(images ...string) *fakeDocker {
	f := &fakeDocker{images: map[string]bool{}}
	for _, i := range images {
		f.images[i] = true
	}
	return f
}

func TestDockerRun(t *testing.T) {
	fake := newFake("example/step:1")
	fake.behave = func(c *fakeContainer) int64 {
		in, err := os.ReadFile(filepath.Join(c.dir, "in", "a.txt"))
		if err != nil {
			fmt.Fprintln(c.stderr, err)
			return 1
		}
		fmt.Fprint(c.stdout, "hel")
		fmt.Fprint(c.stderr, "warning\n")
		fmt.Fprint(c.stdout, "lo\n")
		os.WriteFile(filepath.Join(c.dir, "out", "b.txt"), in, 0o644)
		return 0
	}
	d := newDocker(fake, DockerOptions{Network: "host", User: "1000:1000"})
	task := &graph.Task{
		Name: "proc", Image: "example/step:1",
		Entrypoint: []string{"/bin/step"}, Command: []string{"--fast"},
		Memory: 512, CPU: 256,
		Environment: []graph.Binding{staticEnv("LEVEL", "task")},
	}
	fx := newFixture(t)
	job := fx.job(t, task)
	res, err := d.Run(context.Background(), job)
	if err != nil {
		t.Fatalf("Run: %v\nlog: %s", err, fx.log)
	}

	cfg, hc := fake.config, fake.hostConfig
	if cfg.Image != "example/step:1" || !slices.Equal(cfg.Entrypoint, []string{"/bin/step"}) || !slices.Equal(cfg.Cmd, []string{"--fast"}) || cfg.User != "1000:1000" {
		t.Errorf("config = %+v", cfg)
	}
	if cfg.Labels["cumulus.step"] != "process" || cfg.Labels["cumulus.granule"] != "G2024001" {
		t.Errorf("labels = %v", cfg.Labels)
	}
	env := fake.containers[0].env
	for k, want := range map[string]string{
		contract.EnvInputDir:  "/cumulus/in",
		contract.EnvOutputDir: "/cumulus/out",
		contract.EnvResult:    "/cumulus/result.json",
		contract.EnvStep:      "process",
		contract.EnvAttempt:   "1",
		"LEVEL":               "task",
	} {
		if env[k] != want {
			t.Errorf("env %s = %q, want %q", k, env[k], want)
		}
	}
	if !strings.Contains(env[contract.EnvGranule], `"id":"G2024001"`) {
		t.Errorf("granule env = %s", env[contract.EnvGranule])
	}
	if _, ok := env["PATH"]; ok {
		t.Error("the host's PATH reached the container")
	}
	work, _ := filepath.Abs(job.WorkDir)
	if !slices.Equal(hc.Binds, []string{work + ":/cumulus"}) {
		t.Errorf("binds = %v", hc.Binds)
	}
	if hc.Memory != 512<<20 || hc.NanoCPUs != 250_000_000 || hc.NetworkMode != "host" {
		t.Errorf("limits: memory %d, nano CPUs %d, network %q", hc.Memory, hc.NanoCPUs, hc.NetworkMode)
	}
	calls := fake.callList()
	want := []string{"ImageInspect example/step:1", "ContainerCreate", "ContainerWait next-exit", "ContainerStart", "ContainerLogs", "ContainerRemove c1"}
	if !slices.Equal(calls, want) {
		t.Errorf("calls = %q, want %q", calls, want)
	}
	if len(fake.removed) != 1 || !fake.removed[0].Force {
		t.Errorf("removal = %+v", fake.removed)
	}
	// Lines whole, each stream's in its order.
	if got := fx.log.String(); got != "warning\nhello\n" {
		t.Errorf("log = %q", got)
	}
	if len(res.Granule.Files) != 2 || res.Granule.Files[1].Key != "G2024001/b.txt" || fx.store.read(t, "staging", "G2024001/b.txt") != "hello\n" {
		t.Errorf("result = %+v", res)
	}

	// The image is known now: the next attempt does not ask again.
	if _, err := d.Run(context.Background(), fx.job(t, task)); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(strings.Join(fake.callList(), "\n"), "ImageInspect"); n != 1 {
		t.Errorf("%d image inspections for two runs", n)
	}
}

func TestDockerResultJSON(t *testing.T) {
	fake := newFake("step")
	fake.behave = func(c *fakeContainer) int64 {
		os.WriteFile(filepath.Join(c.dir, "result.json"), []byte(`{"granule": {"id": "G2024001", "files": []}, "outputs": {"n": 2}}`), 0o644)
		return 0
	}
	fx := newFixture(t)
	res, err := newDocker(fake, DockerOptions{}).Run(context.Background(), fx.job(t, &graph.Task{Name: "t", Image: "step"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Granule.Files) != 0 || res.Outputs["n"] != float64(2) || res.Granule.Collection != "MOD09" {
		t.Errorf("result = %+v", res)
	}
	if fake.hostConfig.Memory != 0 || fake.hostConfig.NanoCPUs != 0 || fake.hostConfig.NetworkMode != "" {
		t.Errorf("limits without a task's: %+v", fake.hostConfig.Resources)
	}
}

func TestDockerMissingImage(t *testing.T) {
	fake := newFake()
	fx := newFixture(t)
	task := &graph.Task{Name: "t", Image: "example/step:1"}
	_, err := newDocker(fake, DockerOptions{}).Run(context.Background(), fx.job(t, task))
	if !errors.Is(err, ErrCannotRun) || !strings.Contains(err.Error(), "docker pull example/step:1") {
		t.Fatalf("err = %v", err)
	}
	if Retryable(err, nil) {
		t.Error("a missing image should not be retried")
	}
	if calls := fake.callList(); !slices.Equal(calls, []string{"ImageInspect example/step:1"}) {
		t.Errorf("calls = %q", calls)
	}
	if fx.store.downloads != 0 {
		t.Error("inputs were downloaded for a step that cannot run")
	}

	// Allowed to, it pulls.
	if _, err := newDocker(fake, DockerOptions{Pull: true}).Run(context.Background(), fx.job(t, task)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fake.pulls, []string{"example/step:1"}) {
		t.Errorf("pulls = %v", fake.pulls)
	}
	if !strings.Contains(fx.log.String(), "1: Pulling from step\n") || strings.Contains(fx.log.String(), "Downloading") {
		t.Errorf("log = %q", fx.log)
	}

	// Neither image nor build.
	_, err = newDocker(fake, DockerOptions{}).Run(context.Background(), fx.job(t, &graph.Task{Name: "t"}))
	if !errors.Is(err, ErrCannotRun) {
		t.Errorf("err = %v", err)
	}
}

func TestDockerBuild(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "steps", "proc")
	os.MkdirAll(filepath.Join(dir, "bin"), 0o755)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY bin /bin\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bin", "step"), []byte("binary"), 0o755)
	task := &graph.Task{Name: "Proc", Image: "local/proc:dev", Build: "steps/proc"}

	t.Run("missing image", func(t *testing.T) {
		fake := newFake()
		d := newDocker(fake, DockerOptions{BaseDir: base})
		fx := newFixture(t)
		for range 2 {
			if _, err := d.Run(context.Background(), fx.job(t, task)); err != nil {
				t.Fatal(err)
			}
		}
		if len(fake.builds) != 1 {
			t.Fatalf("%d builds, want 1", len(fake.builds))
		}
		b := fake.builds[0]
		if !slices.Equal(b.options.Tags, []string{"local/proc:dev"}) || b.options.Dockerfile != "Dockerfile" {
			t.Errorf("build options = %+v", b.options)
		}
		if b.files["Dockerfile"] != "FROM scratch\nCOPY bin /bin\n" || b.files["bin/step"] != "binary" || len(b.files) != 3 {
			t.Errorf("build context = %v", b.files)
		}
		if !strings.Contains(fx.log.String(), "Successfully built") {
			t.Errorf("log = %q", fx.log)
		}
	})
	t.Run("rebuild", func(t *testing.T) {
		fake := newFake("local/proc:dev")
		d := newDocker(fake, DockerOptions{BaseDir: base, Rebuild: true})
		fx := newFixture(t)
		for range 2 {
			if _, err := d.Run(context.Background(), fx.job(t, task)); err != nil {
				t.Fatal(err)
			}
		}
		if len(fake.builds) != 1 {
			t.Errorf("%d builds, want 1 (once per simulation)", len(fake.builds))
		}
		// Present and not asked to rebuild: no build.
		fake = newFake("local/proc:dev")
		if _, err := newDocker(fake, DockerOptions{BaseDir: base}).Run(context.Background(), fx.job(t, task)); err != nil || len(fake.builds) != 0 {
			t.Errorf("err %v, %d builds", err, len(fake.builds))
		}
	})
	t.Run("no image name", func(t *testing.T) {
		fake := newFake()
		fx := newFixture(t)
		nameless := &graph.Task{Name: "Proc Step", Build: "steps/proc"}
		if _, err := newDocker(fake, DockerOptions{BaseDir: base}).Run(context.Background(), fx.job(t, nameless)); err != nil {
			t.Fatal(err)
		}
		if fake.config.Image != "cumulus-local/proc-step:latest" {
			t.Errorf("image = %q", fake.config.Image)
		}
	})
	t.Run("build fails", func(t *testing.T) {
		fake := newFake()
		fake.buildErr = "COPY failed: file not found"
		fx := newFixture(t)
		_, err := newDocker(fake, DockerOptions{BaseDir: base}).Run(context.Background(), fx.job(t, task))
		if err == nil || !strings.Contains(err.Error(), "COPY failed") {
			t.Fatalf("err = %v", err)
		}
		if slices.Contains(fake.callList(), "ContainerCreate") {
			t.Error("a container was created without its image")
		}
	})
	t.Run("no Dockerfile", func(t *testing.T) {
		fake := newFake()
		fx := newFixture(t)
		_, err := newDocker(fake, DockerOptions{BaseDir: base}).Run(context.Background(), fx.job(t, &graph.Task{Name: "t", Image: "x", Build: "steps"}))
		if !errors.Is(err, ErrCannotRun) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestDockerExit(t *testing.T) {
	for _, tc := range []struct {
		name string
		code int64
		oom  bool
		want ExitError
	}{
		{"exit code", 2, false, ExitError{Code: 2}},
		{"out of memory", 137, true, ExitError{Code: 137, OOM: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake("step")
			fake.oom = tc.oom
			fake.behave = func(c *fakeContainer) int64 { return tc.code }
			fx := newFixture(t)
			_, err := newDocker(fake, DockerOptions{}).Run(context.Background(), fx.job(t, &graph.Task{Name: "t", Image: "step", Memory: 128}))
			var exit *ExitError
			if !errors.As(err, &exit) || *exit != tc.want {
				t.Fatalf("err = %#v, want %+v", err, tc.want)
			}
			if Retryable(err, nil) != tc.oom {
				t.Errorf("Retryable = %v", !tc.oom)
			}
			if len(fake.removed) != 1 {
				t.Error("the container was not removed")
			}
		})
	}
}

func TestDockerStop(t *testing.T) {
	blocking := func(c *fakeContainer) int64 {
		fmt.Fprintln(c.stdout, "working")
		<-c.stopped
		return 137
	}
	t.Run("timeout", func(t *testing.T) {
		fake := newFake("step")
		fake.behave = blocking
		fx := newFixture(t)
		job := fx.job(t, &graph.Task{Name: "t", Image: "step"})
		job.Timeout = 100 * time.Millisecond
		_, err := newDocker(fake, DockerOptions{}).Run(context.Background(), job)
		var exit *ExitError
		if !errors.As(err, &exit) || !exit.Timeout {
			t.Fatalf("err = %v, want a timeout", err)
		}
		if !slices.Equal(fake.kills, []string{"KILL"}) || len(fake.stops) != 0 || len(fake.removed) != 1 {
			t.Errorf("kills %v, stops %v, removals %d", fake.kills, fake.stops, len(fake.removed))
		}
		if fx.log.String() != "working\n" {
			t.Errorf("log = %q", fx.log)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		fake := newFake("step")
		fake.behave = blocking
		fx := newFixture(t)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err := newDocker(fake, DockerOptions{Grace: 2500 * time.Millisecond}).Run(ctx, fx.job(t, &graph.Task{Name: "t", Image: "step"}))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if len(fake.stops) != 1 || *fake.stops[0].Timeout != 3 || len(fake.kills) != 0 || len(fake.removed) != 1 {
			t.Errorf("stops %+v, kills %v, removals %d", fake.stops, fake.kills, len(fake.removed))
		}
	})
}

func TestDockerEngineErrors(t *testing.T) {
	fake := newFake("step")
	fake.createErr = errors.New("engine is shutting down")
	fx := newFixture(t)
	_, err := newDocker(fake, DockerOptions{}).Run(context.Background(), fx.job(t, &graph.Task{Name: "t", Image: "step"}))
	var exit *ExitError
	if err == nil || errors.As(err, &exit) || !Retryable(err, nil) {
		t.Fatalf("err = %v, want a retryable infrastructure error", err)
	}

	fake.pingErr = errors.New("connection refused")
	d := newDocker(fake, DockerOptions{})
	if err := d.Available(context.Background()); err == nil || !strings.Contains(err.Error(), "no Docker engine") {
		t.Errorf("Available = %v", err)
	}
	fake.pingErr = nil
	if err := d.Available(context.Background()); err != nil {
		t.Errorf("Available = %v", err)
	}
}

// TestDockerEngine runs a real container, built FROM scratch around a
// static binary of testdata/step, when a Docker engine answers.
func TestDockerEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("short: no container builds")
	}
	d, err := NewDocker(DockerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Available(ctx); err != nil {
		t.Skipf("no Docker engine is available: %v", err)
	}

	base := t.TempDir()
	dir := filepath.Join(base, "step")
	os.MkdirAll(dir, 0o755)
	goBuild := exec.Command("go", "build", "-o", filepath.Join(dir, "step"), "./testdata/step")
	goBuild.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := goBuild.CombinedOutput(); err != nil {
		t.Fatalf("building the step: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY step /step\nENTRYPOINT [\"/step\"]\n"), 0o644)

	tag := fmt.Sprintf("cumulus-executor-test:%d", time.Now().UnixNano())
	t.Cleanup(func() {
		c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if err == nil {
			c.ImageRemove(context.Background(), tag, image.RemoveOptions{Force: true, PruneChildren: true})
			c.Close()
		}
	})
	user := ""
	if runtime.GOOS == "linux" {
		user = fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid())
	}
	d, err = NewDocker(DockerOptions{BaseDir: base, Rebuild: true, User: user})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	task := &graph.Task{Name: "upper", Image: tag, Build: "step", Command: []string{"upper"}, Memory: 64, CPU: 256}
	fx := newFixture(t)
	job := fx.job(t, task)
	job.Timeout = 2 * time.Minute
	res, err := d.Run(context.Background(), job)
	if err != nil {
		t.Fatalf("Run: %v\nlog:\n%s", err, fx.log)
	}
	if len(res.Granule.Files) != 2 || res.Granule.Files[1].Name != "a.txt.upper" || fx.store.read(t, "staging", "G2024001/a.txt.upper") != "HELLO\n" {
		t.Errorf("result = %+v", res)
	}
	if !strings.Contains(fx.log.String(), "step process of granule G2024001, attempt 1") || !strings.Contains(fx.log.String(), "to stderr") {
		t.Errorf("log = %q", fx.log)
	}

	// A failing exit code and a timeout, in the same image.
	task.Command = []string{"exit", "3"}
	_, err = d.Run(context.Background(), fx.job(t, task))
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 3 {
		t.Errorf("err = %v, want exit code 3", err)
	}
	task.Command = []string{"sleep"}
	job = fx.job(t, task)
	job.Timeout = time.Second
	_, err = d.Run(context.Background(), job)
	if !errors.As(err, &exit) || !exit.Timeout {
		t.Errorf("err = %v, want a timeout", err)
	}
}
