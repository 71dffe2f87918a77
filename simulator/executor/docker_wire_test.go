package executor

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

// wireEngine is a few endpoints of the Docker Engine API, enough for one
// container's run, so that the executor is shown working through the real
// *client.Client (version negotiation, encodings, the multiplexed log
// stream) where no engine runs.
type wireEngine struct {
	mu      sync.Mutex
	create  container.CreateRequest
	dir     string // the host side of /cumulus
	exited  chan struct{}
	removed bool
}

var versioned = regexp.MustCompile(`^/v[0-9.]+`)

func (e *wireEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Api-Version", "1.51")
	w.Header().Set("Ostype", "linux")
	p := versioned.ReplaceAllString(r.URL.Path, "")
	switch {
	case p == "/_ping":
		w.Write([]byte("OK"))
	case r.Method == http.MethodGet && p == "/images/step/json":
		json.NewEncoder(w).Encode(map[string]any{"Id": "sha256:feed"})
	case r.Method == http.MethodPost && p == "/containers/create":
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := json.NewDecoder(r.Body).Decode(&e.create); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, b := range e.create.HostConfig.Binds {
			e.dir, _ = strings.CutSuffix(b, ":"+containerDir)
		}
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"Id": "c1", "Warnings": []string{}})
	case r.Method == http.MethodPost && p == "/containers/c1/wait":
		// As the engine does: headers at once, the status at exit.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-e.exited
		json.NewEncoder(w).Encode(map[string]any{"StatusCode": 0})
	case r.Method == http.MethodPost && p == "/containers/c1/start":
		os.WriteFile(filepath.Join(e.dir, "out", "b.txt"), []byte("from the container\n"), 0o644)
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet && p == "/containers/c1/logs":
		w.Header().Set("Content-Type", "application/vnd.docker.multiplexed-stream")
		w.WriteHeader(http.StatusOK)
		stdcopy.NewStdWriter(w, stdcopy.Stdout).Write([]byte("out line\n"))
		stdcopy.NewStdWriter(w, stdcopy.Stderr).Write([]byte("err line\n"))
		close(e.exited)
	case r.Method == http.MethodDelete && p == "/containers/c1":
		e.mu.Lock()
		e.removed = r.URL.Query().Get("force") == "1"
		e.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "unexpected "+r.Method+" "+p, http.StatusNotImplemented)
	}
}

func TestDockerClientWire(t *testing.T) {
	engine := &wireEngine{exited: make(chan struct{})}
	srv := httptest.NewServer(engine)
	defer srv.Close()
	t.Setenv("DOCKER_HOST", "tcp://"+strings.TrimPrefix(srv.URL, "http://"))
	t.Setenv("DOCKER_TLS_VERIFY", "")
	t.Setenv("DOCKER_CERT_PATH", "")
	t.Setenv("DOCKER_API_VERSION", "")

	d, err := NewDocker(DockerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Available(context.Background()); err != nil {
		t.Fatal(err)
	}
	fx := newFixture(t)
	task := &graph.Task{Name: "t", Image: "step", Command: []string{"run"}, Memory: 256, CPU: 512}
	res, err := d.Run(context.Background(), fx.job(t, task))
	if err != nil {
		t.Fatalf("Run: %v\nlog: %s", err, fx.log)
	}
	c := engine.create
	if c.Image != "step" || len(c.Cmd) != 1 || c.HostConfig.Memory != 256<<20 || c.HostConfig.NanoCPUs != 500_000_000 {
		t.Errorf("create = %+v / %+v", c.Config, c.HostConfig.Resources)
	}
	if !engine.removed {
		t.Error("the container was not force-removed")
	}
	log := fx.log.String()
	if !strings.Contains(log, "out line\n") || !strings.Contains(log, "err line\n") {
		t.Errorf("log = %q", log)
	}
	if n := len(res.Granule.Files); n != 2 || fx.store.read(t, "staging", "G2024001/b.txt") != "from the container\n" {
		t.Errorf("result = %+v", res)
	}
}
