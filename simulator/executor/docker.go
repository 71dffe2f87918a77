package executor

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// containerDir is where the attempt's work folder is mounted in the
// container: in/, out/ and result.json under it.
const containerDir = "/cumulus"

// engineGrace bounds engine calls made after the attempt's context ended
// (stopping, inspecting and removing the container), beyond the step's own
// grace period.
const engineGrace = 30 * time.Second

// dockerAPI is what the Docker executor uses of the Engine API, and only
// that: *client.Client satisfies it, and tests put a recording fake in its
// place to show what a real engine cannot be asked here.
type dockerAPI interface {
	Ping(ctx context.Context) (types.Ping, error)
	ImageInspect(ctx context.Context, ref string, opts ...client.ImageInspectOption) (image.InspectResponse, error)
	ImageBuild(ctx context.Context, buildContext io.Reader, options build.ImageBuildOptions) (build.ImageBuildResponse, error)
	ImagePull(ctx context.Context, ref string, options image.PullOptions) (io.ReadCloser, error)
	ContainerCreate(ctx context.Context, config *container.Config, hostConfig *container.HostConfig, networkingConfig *network.NetworkingConfig, platform *ocispec.Platform, name string) (container.CreateResponse, error)
	ContainerStart(ctx context.Context, id string, options container.StartOptions) error
	ContainerWait(ctx context.Context, id string, condition container.WaitCondition) (<-chan container.WaitResponse, <-chan error)
	ContainerLogs(ctx context.Context, id string, options container.LogsOptions) (io.ReadCloser, error)
	ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error)
	ContainerKill(ctx context.Context, id, signal string) error
	ContainerStop(ctx context.Context, id string, options container.StopOptions) error
	ContainerRemove(ctx context.Context, id string, options container.RemoveOptions) error
	Close() error
}

var _ dockerAPI = (*client.Client)(nil)

// DockerOptions configure a Docker executor.
type DockerOptions struct {
	// BaseDir is the configuration's folder: a task's build folder is
	// relative to it.
	BaseDir string
	// Pull lets the executor pull an image that is missing and has no build
	// folder. Off by default: a simulation should not reach out to a
	// registry unless asked.
	Pull bool
	// Rebuild builds every image that has a build folder once, at its
	// first use, even when it is already present (after a code change).
	Rebuild bool
	// Network is the containers' network mode: "" for the engine's default
	// bridge, "host" to share the host's (to reach local endpoints).
	Network string
	// User runs containers as this user ("uid:gid") instead of the image's.
	// On Linux a container running as root leaves root-owned files in the
	// work folder; the simulator's own uid:gid avoids that.
	User string
	// Grace is the time between SIGTERM and SIGKILL when a step is
	// cancelled (DefaultGrace when 0).
	Grace time.Duration
	// Logger receives the executor's own messages (nil: discarded).
	Logger *slog.Logger
}

// Docker runs a task's image as a container through the Docker Engine API,
// with the work folder mounted at /cumulus, the task's memory and CPU as
// limits, and the step's output streamed to its log. It is safe for
// concurrent use.
type Docker struct {
	api    dockerAPI
	opts   DockerOptions
	logger *slog.Logger

	mu     sync.Mutex
	images map[string]*imageState
}

// imageState serialises the check (and build or pull) of one image among
// the attempts that need it at once, and remembers it is ready.
type imageState struct {
	mu    sync.Mutex
	ready bool
}

var _ Executor = (*Docker)(nil)

// NewDocker returns a Docker executor talking to the engine the environment
// names (DOCKER_HOST...; the local socket by default). It does not contact
// the engine: Available does.
func NewDocker(opts DockerOptions) (*Docker, error) {
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	return newDocker(c, opts), nil
}

func newDocker(api dockerAPI, opts DockerOptions) *Docker {
	if opts.Grace <= 0 {
		opts.Grace = DefaultGrace
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Docker{api: api, opts: opts, logger: logger, images: map[string]*imageState{}}
}

// Available says whether a Docker engine answers, so that the simulator can
// fall back to local processes (and say so) when none does.
func (d *Docker) Available(ctx context.Context) error {
	if _, err := d.api.Ping(ctx); err != nil {
		return fmt.Errorf("no Docker engine answers: %w", err)
	}
	return nil
}

// Close releases the engine client.
func (d *Docker) Close() error { return d.api.Close() }

// Run runs one attempt of the job's step in a container.
func (d *Docker) Run(ctx context.Context, job Job) (contract.Result, error) {
	if job.Task == nil {
		return contract.Result{}, errors.New("executor: the job has no task")
	}
	// The image comes first, outside the attempt's timeout: a missing image
	// fails before anything is downloaded, and building is the simulator's
	// set-up, not the step's time.
	ref, err := d.ensureImage(ctx, job)
	if err != nil {
		return contract.Result{}, err
	}
	return attempt(ctx, job, d.logger, containerPaths, nil, func(actx context.Context, ws workspace, env []string) error {
		return d.run(actx, job, ws, ref, env)
	})
}

func containerPaths(workspace) stepPaths {
	return stepPaths{
		in:     path.Join(containerDir, inDir),
		out:    path.Join(containerDir, outDir),
		result: path.Join(containerDir, resultFile),
	}
}

// imageRef is the image a task runs: its image, or for a task that only
// gives a build folder a local name made from the task's.
func imageRef(t *graph.Task) string {
	if t.Image != "" {
		return t.Image
	}
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return '-'
	}, t.Name)
	return "cumulus-local/" + name + ":latest"
}

// ensureImage makes the task's image present: there already, built from
// the task's build folder (when missing, or once if Rebuild), or pulled
// when Pull allows; otherwise an error saying how to get it.
func (d *Docker) ensureImage(ctx context.Context, job Job) (string, error) {
	t := job.Task
	if t.Image == "" && t.Build == "" {
		return "", fmt.Errorf("task %s has neither an image nor a build folder: %w", t.Name, ErrCannotRun)
	}
	ref := imageRef(t)
	d.mu.Lock()
	st := d.images[ref]
	if st == nil {
		st = &imageState{}
		d.images[ref] = st
	}
	d.mu.Unlock()

	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ready {
		return ref, nil
	}
	_, err := d.api.ImageInspect(ctx, ref)
	present := err == nil
	if err != nil && !cerrdefs.IsNotFound(err) {
		return "", fmt.Errorf("looking for image %s: %w", ref, err)
	}
	switch {
	case t.Build != "" && (!present || d.opts.Rebuild):
		if err := d.build(ctx, t, ref, job.Log); err != nil {
			return "", err
		}
	case present:
	case d.opts.Pull:
		if err := d.pull(ctx, ref, job.Log); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("task %s: image %s is not present: run `docker pull %s`, give the task a build folder, or allow pulling: %w",
			t.Name, ref, ref, ErrCannotRun)
	}
	st.ready = true
	return ref, nil
}

// build builds ref from the task's build folder (its Dockerfile at the top),
// sent to the engine as a tar stream. The folder is sent whole:
// .dockerignore is not read, so a build folder should hold only what the
// image needs.
func (d *Docker) build(ctx context.Context, t *graph.Task, ref string, log io.Writer) error {
	dir := t.Build
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(d.opts.BaseDir, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "Dockerfile")); err != nil {
		return fmt.Errorf("task %s: build folder %s has no Dockerfile: %w: %w", t.Name, dir, ErrCannotRun, err)
	}
	d.logger.Info("building image", "image", ref, "task", t.Name, "from", dir)
	start := time.Now()
	pr, pw := io.Pipe()
	defer pr.Close() // stops the tar writer if the engine stops reading
	go func() { pw.CloseWithError(tarDir(dir, pw)) }()
	resp, err := d.api.ImageBuild(ctx, pr, build.ImageBuildOptions{
		Tags:        []string{ref},
		Dockerfile:  "Dockerfile",
		Remove:      true,
		ForceRemove: true,
		Labels:      map[string]string{"cumulus.task": t.Name},
	})
	if err != nil {
		return fmt.Errorf("building image %s from %s: %w", ref, dir, err)
	}
	defer resp.Body.Close()
	if err := readProgress(resp.Body, log); err != nil {
		return fmt.Errorf("building image %s from %s: %w", ref, dir, err)
	}
	d.logger.Info("built image", "image", ref, "took", time.Since(start))
	return nil
}

func (d *Docker) pull(ctx context.Context, ref string, log io.Writer) error {
	d.logger.Info("pulling image", "image", ref)
	rc, err := d.api.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return fmt.Errorf("pulling image %s: %w", ref, err)
	}
	defer rc.Close()
	if err := readProgress(rc, log); err != nil {
		return fmt.Errorf("pulling image %s: %w", ref, err)
	}
	return nil
}

// readProgress reads the engine's JSON message stream of a build or pull,
// passing its text to log, and returns the error the stream reports (the
// engine reports a failed build there, not in the HTTP status).
func readProgress(r io.Reader, log io.Writer) error {
	sink := newLogSink(log)
	w := sink.stream()
	defer w.flush()
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Stream      string `json:"stream"`
			Status      string `json:"status"`
			Progress    string `json:"progress"`
			ID          string `json:"id"`
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		err := dec.Decode(&m)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the engine's progress: %w", err)
		}
		switch {
		case m.ErrorDetail != nil && m.ErrorDetail.Message != "":
			return errors.New(strings.TrimSpace(m.ErrorDetail.Message))
		case m.Error != "":
			return errors.New(strings.TrimSpace(m.Error))
		case m.Stream != "":
			_, _ = io.WriteString(w, m.Stream)
		case m.Status != "" && m.Progress == "": // progress bars would flood the log
			if m.ID != "" {
				_, _ = io.WriteString(w, m.ID+": ")
			}
			_, _ = io.WriteString(w, m.Status+"\n")
		}
	}
}

// tarDir writes the folder dir as a tar stream, names relative to it.
func tarDir(dir string, w io.Writer) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		hdr.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return fmt.Errorf("sending build folder %s: %w", dir, err)
	}
	return tw.Close()
}

// run creates, starts and waits for the step's container, then removes it.
func (d *Docker) run(actx context.Context, job Job, ws workspace, ref string, env []string) error {
	t := job.Task
	// Calls that must happen whatever actx says (stopping, inspecting,
	// removing) use bg: a cancelled attempt still cleans up after itself.
	bg := context.WithoutCancel(actx)
	cfg := &container.Config{
		Image:      ref,
		Entrypoint: t.Entrypoint,
		Cmd:        t.Command,
		Env:        env,
		User:       d.opts.User,
		Labels: map[string]string{
			"cumulus.pipeline": job.Input.Pipeline,
			"cumulus.step":     job.Input.Step,
			"cumulus.granule":  job.Input.Granule.ID,
			"cumulus.attempt":  strconv.Itoa(max(job.Input.Attempt, 1)),
		},
	}
	hc := &container.HostConfig{
		Binds:       []string{ws.dir + ":" + containerDir},
		NetworkMode: container.NetworkMode(d.opts.Network),
		Resources: container.Resources{
			Memory:   int64(t.Memory) << 20,               // MiB, as ECS counts it
			NanoCPUs: int64(t.CPU) * 1_000_000_000 / 1024, // 1024 ECS units to a CPU
		},
	}
	created, err := d.api.ContainerCreate(actx, cfg, hc, nil, nil, "")
	if err != nil {
		return fmt.Errorf("creating the container for image %s: %w", ref, err)
	}
	id := created.ID
	for _, w := range created.Warnings {
		d.logger.Warn("docker: "+w, "step", job.Input.Step)
	}
	defer d.remove(bg, id)

	// Waiting starts before the container does, so that an exit right after
	// start cannot be missed.
	waitCtx, cancelWait := context.WithCancel(bg)
	defer cancelWait()
	statusC, errC := d.api.ContainerWait(waitCtx, id, container.WaitConditionNextExit)
	if err := d.api.ContainerStart(actx, id, container.StartOptions{}); err != nil {
		return fmt.Errorf("starting the container: %w", err)
	}
	d.logger.Debug("container started", "step", job.Input.Step, "granule", job.Input.Granule.ID, "container", id)

	sink := newLogSink(job.Log)
	stdout, stderr := sink.stream(), sink.stream()
	logsDone := make(chan struct{})
	logs, err := d.api.ContainerLogs(waitCtx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
	if err != nil {
		d.logger.Warn("cannot follow the container's output", "step", job.Input.Step, "err", err)
		close(logsDone)
	} else {
		defer logs.Close()
		go func() {
			_, _ = stdcopy.StdCopy(stdout, stderr, logs)
			close(logsDone)
		}()
	}

	var code int64
	select {
	case st := <-statusC:
		code, err = st.StatusCode, waitError(st)
	case err = <-errC:
		err = fmt.Errorf("waiting for the container: %w", err)
	case <-actx.Done():
		code, err = d.stop(bg, actx, id, statusC, errC)
	}
	// The log stream ends with the container; bound the wait in case the
	// engine keeps it open.
	select {
	case <-logsDone:
	case <-time.After(pipeDrain):
		cancelWait()
		<-logsDone
	}
	stdout.flush()
	stderr.flush()
	if sink.err != nil {
		d.logger.Warn("the step's log could not be written", "step", job.Input.Step, "err", sink.err)
	}
	if err != nil {
		return err
	}
	if code == 0 {
		return nil
	}
	exit := &ExitError{Code: int(code)}
	ictx, cancel := context.WithTimeout(bg, engineGrace)
	defer cancel()
	if info, err := d.api.ContainerInspect(ictx, id); err != nil {
		d.logger.Warn("cannot inspect the container", "container", id, "err", err)
	} else if info.ContainerJSONBase != nil && info.State != nil {
		exit.OOM = info.State.OOMKilled
	}
	return exit
}

func waitError(st container.WaitResponse) error {
	if st.Error != nil && st.Error.Message != "" {
		return fmt.Errorf("waiting for the container: %s", st.Error.Message)
	}
	return nil
}

// stop ends a container whose attempt context ended: killed at once for a
// timeout (the attempt is abandoned), stopped with the grace period for a
// cancellation (the step may clean up), as the Process executor does.
func (d *Docker) stop(bg, actx context.Context, id string, statusC <-chan container.WaitResponse, errC <-chan error) (int64, error) {
	ctx, cancel := context.WithTimeout(bg, d.opts.Grace+engineGrace)
	defer cancel()
	var err error
	if timedOut(actx) {
		err = d.api.ContainerKill(ctx, id, "KILL")
	} else {
		secs := int(math.Ceil(d.opts.Grace.Seconds()))
		err = d.api.ContainerStop(ctx, id, container.StopOptions{Timeout: &secs})
	}
	if err != nil {
		// It may have exited on its own meanwhile; the wait below tells.
		d.logger.Warn("stopping the container", "container", id, "err", err)
	}
	select {
	case st := <-statusC:
		return st.StatusCode, waitError(st)
	case err := <-errC:
		return -1, fmt.Errorf("waiting for the container to stop: %w", err)
	case <-ctx.Done():
		return -1, fmt.Errorf("the container %s did not stop: %w", id, ctx.Err())
	}
}

// remove removes the container, and its anonymous volumes, whatever the
// outcome: a simulation runs thousands of attempts.
func (d *Docker) remove(bg context.Context, id string) {
	ctx, cancel := context.WithTimeout(bg, engineGrace)
	defer cancel()
	if err := d.api.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
		d.logger.Warn("removing the container", "container", id, "err", err)
	}
}
