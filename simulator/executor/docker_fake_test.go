package executor

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// fakeDocker is a recording dockerAPI: it keeps what the executor asked
// for and plays the container with behave, a function standing for the
// container's program that sees the host side of its /cumulus mount.
type fakeDocker struct {
	mu sync.Mutex

	// Set by the test.
	images    map[string]bool
	behave    func(c *fakeContainer) int64
	oom       bool
	buildErr  string
	pingErr   error
	createErr error

	// Recorded.
	calls      []string
	config     *container.Config
	hostConfig *container.HostConfig
	builds     []fakeBuild
	pulls      []string
	kills      []string
	stops      []container.StopOptions
	removed    []container.RemoveOptions
	containers []*fakeContainer
}

var _ dockerAPI = (*fakeDocker)(nil)

type fakeBuild struct {
	options build.ImageBuildOptions
	files   map[string]string
}

// fakeContainer is one container's run.
type fakeContainer struct {
	dir            string // the host folder mounted at /cumulus
	env            map[string]string
	stdout, stderr io.Writer
	stopped        chan struct{} // closed by a kill or stop
	stopOnce       sync.Once
	status         chan container.WaitResponse
	logR           *io.PipeReader
	logW           *io.PipeWriter
}

func (f *fakeDocker) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeDocker) Ping(ctx context.Context) (types.Ping, error) {
	f.record("Ping")
	return types.Ping{APIVersion: "1.51"}, f.pingErr
}

func (f *fakeDocker) ImageInspect(ctx context.Context, ref string, _ ...client.ImageInspectOption) (image.InspectResponse, error) {
	f.record("ImageInspect " + ref)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.images[ref] {
		return image.InspectResponse{}, fmt.Errorf("No such image: %s: %w", ref, cerrdefs.ErrNotFound)
	}
	return image.InspectResponse{ID: "sha256:feed"}, nil
}

func (f *fakeDocker) ImageBuild(ctx context.Context, buildContext io.Reader, options build.ImageBuildOptions) (build.ImageBuildResponse, error) {
	f.record("ImageBuild")
	files := map[string]string{}
	tr := tar.NewReader(buildContext)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return build.ImageBuildResponse{}, err
		}
		b, _ := io.ReadAll(tr)
		files[hdr.Name] = string(b)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.builds = append(f.builds, fakeBuild{options: options, files: files})
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.Encode(map[string]string{"stream": "Step 1/2 : FROM scratch\n"})
	if f.buildErr != "" {
		enc.Encode(map[string]any{"errorDetail": map[string]string{"message": f.buildErr}, "error": f.buildErr})
	} else {
		enc.Encode(map[string]string{"stream": "Successfully built feed\n"})
		for _, tag := range options.Tags {
			f.images[tag] = true
		}
	}
	return build.ImageBuildResponse{Body: io.NopCloser(&body)}, nil
}

func (f *fakeDocker) ImagePull(ctx context.Context, ref string, options image.PullOptions) (io.ReadCloser, error) {
	f.record("ImagePull " + ref)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pulls = append(f.pulls, ref)
	f.images[ref] = true
	return io.NopCloser(strings.NewReader(`{"status":"Pulling from step","id":"1"}` + "\n" + `{"status":"Downloading","progress":"[==>  ]","id":"abc"}` + "\n")), nil
}

func (f *fakeDocker) ContainerCreate(ctx context.Context, config *container.Config, hostConfig *container.HostConfig, _ *network.NetworkingConfig, _ *ocispec.Platform, name string) (container.CreateResponse, error) {
	f.record("ContainerCreate")
	if f.createErr != nil {
		return container.CreateResponse{}, f.createErr
	}
	c := &fakeContainer{env: map[string]string{}, stopped: make(chan struct{}), status: make(chan container.WaitResponse, 1)}
	for _, b := range hostConfig.Binds {
		if host, ok := strings.CutSuffix(b, ":"+containerDir); ok {
			c.dir = host
		}
	}
	for _, kv := range config.Env {
		k, v, _ := strings.Cut(kv, "=")
		c.env[k] = v
	}
	c.logR, c.logW = io.Pipe()
	c.stdout = stdcopy.NewStdWriter(c.logW, stdcopy.Stdout)
	c.stderr = stdcopy.NewStdWriter(c.logW, stdcopy.Stderr)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.config, f.hostConfig = config, hostConfig
	f.containers = append(f.containers, c)
	return container.CreateResponse{ID: fmt.Sprint("c", len(f.containers))}, nil
}

func (f *fakeDocker) container(id string) *fakeContainer {
	f.mu.Lock()
	defer f.mu.Unlock()
	var n int
	fmt.Sscanf(id, "c%d", &n)
	return f.containers[n-1]
}

func (f *fakeDocker) ContainerWait(ctx context.Context, id string, condition container.WaitCondition) (<-chan container.WaitResponse, <-chan error) {
	f.record("ContainerWait " + string(condition))
	return f.container(id).status, make(chan error)
}

func (f *fakeDocker) ContainerStart(ctx context.Context, id string, options container.StartOptions) error {
	f.record("ContainerStart")
	c := f.container(id)
	go func() {
		code := int64(0)
		if f.behave != nil {
			code = f.behave(c)
		}
		c.logW.Close()
		c.status <- container.WaitResponse{StatusCode: code}
	}()
	return nil
}

func (f *fakeDocker) ContainerLogs(ctx context.Context, id string, options container.LogsOptions) (io.ReadCloser, error) {
	f.record("ContainerLogs")
	if !options.Follow || !options.ShowStdout || !options.ShowStderr {
		return nil, errors.New("the fake only follows both streams")
	}
	return f.container(id).logR, nil
}

func (f *fakeDocker) ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error) {
	f.record("ContainerInspect")
	return container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{
		ID:    id,
		State: &container.State{Status: container.StateExited, OOMKilled: f.oom},
	}}, nil
}

func (f *fakeDocker) ContainerKill(ctx context.Context, id, signal string) error {
	f.record("ContainerKill " + signal)
	f.mu.Lock()
	f.kills = append(f.kills, signal)
	f.mu.Unlock()
	c := f.container(id)
	c.stopOnce.Do(func() { close(c.stopped) })
	return nil
}

func (f *fakeDocker) ContainerStop(ctx context.Context, id string, options container.StopOptions) error {
	f.record("ContainerStop")
	f.mu.Lock()
	f.stops = append(f.stops, options)
	f.mu.Unlock()
	c := f.container(id)
	c.stopOnce.Do(func() { close(c.stopped) })
	return nil
}

func (f *fakeDocker) ContainerRemove(ctx context.Context, id string, options container.RemoveOptions) error {
	f.record("ContainerRemove " + id)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, options)
	return nil
}

func (f *fakeDocker) Close() error { return nil }

func (f *fakeDocker) callList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}
