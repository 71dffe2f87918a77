package simulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/lang"
	"github.com/cumulus-toolchain/cumulus/simulator/acquire"
	"github.com/cumulus-toolchain/cumulus/simulator/builtin"
	"github.com/cumulus-toolchain/cumulus/simulator/cmrlocal"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/simulator/executor"
	"github.com/cumulus-toolchain/cumulus/simulator/s3local"
	"github.com/cumulus-toolchain/cumulus/simulator/scheduler"
	"github.com/cumulus-toolchain/cumulus/simulator/stage"
	"github.com/cumulus-toolchain/cumulus/simulator/state"
	"github.com/cumulus-toolchain/cumulus/stdlib"
)

// Options configure a simulation.
type Options struct {
	Config *lang.Config
	Graph  *graph.Graph
	// Dir is the simulation folder (state, embedded S3, logs); default
	// .cumulus in the configuration's folder.
	Dir string
	// S3Endpoint is an S3 endpoint to use instead of the embedded one
	// (MinIO, say); "" starts the embedded one.
	S3Endpoint string
	// Once polls each source once and returns when every granule found is
	// done; otherwise sources are polled on their schedules until ctx ends.
	Once bool
	// NoDocker runs tasks only through their local_command.
	NoDocker bool
	// Env is the process environment (credentials for providers).
	Env []string
	// Providers replaces providers by local folders for this simulation
	// (provider name -> folder): their sources are read from the folder,
	// at the same paths, as if it were the server's root. It lets a
	// configuration written for a real server run against a copy of its
	// tree, with nothing to install.
	Providers map[string]string
	// Backfill, when set, runs its granules through its pipeline instead
	// of polling the sources, and returns when they are done.
	Backfill *Backfill
	// Ready, when set, is called once the store and the S3 endpoint are
	// open and the buckets made, before any granule runs: where the CLI
	// starts the engine API, the dashboard and the distribution over them.
	// They must stop using what it gets by the time Run returns. What it
	// says it serves goes into the metadata records (their links); an
	// error stops the simulation.
	Ready func(ctx context.Context, r Resources) (Served, error)
	// Events receives progress (safe for concurrent use).
	Events func(Event)
	Logger *slog.Logger
}

// Event is a progress event: the scheduler's, plus acquisition's
// ("discovered", "staged", "skipped-duplicate", "poll-failed").
type Event = scheduler.Event

// Resources are what a running simulation lends Options.Ready.
type Resources struct {
	// Dir is the simulation folder; step logs are under Dir/logs.
	Dir   string
	Store *state.Store
	// S3 is the client of the simulation's S3 endpoint (embedded or not).
	S3 *s3.Client
	// CMRURL is the CMR stand-in's base URL (its search API is under
	// /search/granules.umm_json).
	CMRURL string
}

// Served is what Options.Ready serves.
type Served struct {
	// DistributionURL is the base URL of the configuration's first
	// distribution ("" when none is served): the metadata records link
	// distributed files through it, as they will through CloudFront.
	DistributionURL string
}

// Summary is what a simulation did.
type Summary struct {
	Discovered, Staged, Succeeded, Failed, Cancelled int
	// PollFailures counts polls of a source that failed (a server down, a
	// missing folder).
	PollFailures int
	// Failures name each failed run: granule, pipeline, step, error.
	Failures []scheduler.Event
	// Dir is the simulation folder, for the logs.
	Dir string
}

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Run runs the simulation until every granule found is done (Once) or ctx
// ends. A cancelled run is left for the next Run to resume.
func Run(ctx context.Context, opts Options) (Summary, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir := opts.Dir
	if dir == "" {
		dir = filepath.Join(opts.Config.Dir, state.DefaultDir)
	}
	sum := Summary{Dir: dir}
	g := opts.Graph
	staging := g.ArtifactBucket
	if staging == "" {
		return sum, errors.New("the configuration has no private bucket to stage granules in; declare one, such as bucket \"staging\" { kind = \"private\" }")
	}

	store, err := state.Open(ctx, dir, state.Options{})
	if err != nil {
		return sum, err
	}
	defer store.Close()

	endpoint := opts.S3Endpoint
	if endpoint == "" {
		srv, err := s3local.Start(ctx, filepath.Join(dir, "s3"), s3local.WithLogger(log))
		if err != nil {
			return sum, fmt.Errorf("starting the embedded S3 endpoint: %w", err)
		}
		defer srv.Close()
		endpoint = srv.URL()
	}
	client, err := s3local.Client(ctx, endpoint)
	if err != nil {
		return sum, err
	}
	var buckets []string
	for _, b := range opts.Config.Buckets {
		buckets = append(buckets, b.BucketName)
	}
	if err := s3local.EnsureBuckets(ctx, client, buckets); err != nil {
		return sum, fmt.Errorf("creating the buckets: %w", err)
	}
	// The CMR stand-in: metadata is published to it, never to a real CMR.
	cmr, err := cmrlocal.Start(ctx, cmrlocal.Options{Dir: filepath.Join(dir, "cmr"), Logger: log})
	if err != nil {
		return sum, fmt.Errorf("starting the CMR stand-in: %w", err)
	}
	defer cmr.Close()
	var served Served
	if opts.Ready != nil {
		if served, err = opts.Ready(ctx, Resources{Dir: dir, Store: store, S3: client, CMRURL: cmr.URL()}); err != nil {
			return sum, err
		}
	}

	getenv := func(k string) string {
		for i := len(opts.Env) - 1; i >= 0; i-- {
			if name, v, ok := strings.Cut(opts.Env[i], "="); ok && name == k {
				return v
			}
		}
		return ""
	}
	runner := &stepRunner{
		builtins: builtin.Steps(),
		env: builtin.Env{
			S3: client, Graph: g, Logger: log, StagingBucket: staging,
			RecordDir:       filepath.Join(dir, "records"),
			Getenv:          getenv,
			CMREndpoint:     cmr.URL(),
			DistributionURL: served.DistributionURL,
			Publisher:       builtin.CMRPublisher{Endpoint: cmr.URL(), Provider: "LOCAL", Token: "simulation"},
		},
		process: executor.NewProcess(executor.ProcessOptions{BaseDir: opts.Config.Dir, Logger: log}),
		files:   executor.S3Files{Client: client},
		workDir: filepath.Join(dir, "work"),
		logDir:  filepath.Join(dir, "logs"),
		logger:  log,
	}
	defer runner.startSweeper()() // after s.wg.Wait: no step runs any more
	if !opts.NoDocker {
		if d, err := executor.NewDocker(executor.DockerOptions{BaseDir: opts.Config.Dir, Network: "host", Logger: log}); err == nil {
			if d.Available(ctx) == nil {
				runner.docker = d
				defer d.Close()
			} else {
				d.Close()
			}
		}
	}
	s := &sim{opts: opts, log: log, store: store, client: client, staging: staging, sum: &sum}
	runner.events = s.event
	beats, err := startHeartbeats(ctx, s.event)
	if err != nil {
		return sum, fmt.Errorf("starting the heartbeat endpoint: %w", err)
	}
	defer beats.close()
	runner.heartbeatURL = beats.url
	s.sched = &scheduler.Scheduler{Graph: g, Runner: runner, Journal: &journal{store: store, logPath: func(run scheduler.Run, step string, attempt int) string {
		return runner.LogPath(run.Granule.ID, run.Pipeline.Name, step, attempt)
	}}, Clock: wallClock{}, Log: log, Events: s.event}
	s.stager, err = stage.New(client, stage.Options{Logger: log})
	if err != nil {
		return sum, err
	}

	// What an earlier run left: interrupted runs first, then queued ones.
	if err := s.resume(ctx); err != nil {
		return sum, err
	}
	if opts.Backfill != nil {
		// A backfill runs its list and nothing else, as the backfill
		// state machine does: no source is polled.
		if err := s.backfill(ctx, opts.Backfill); err != nil {
			s.wg.Wait()
			return sum, err
		}
	} else if opts.Once {
		for _, src := range opts.Config.Sources {
			s.pollReporting(ctx, src)
		}
	} else {
		// Each source on its own schedule, as each poller has its own
		// EventBridge rule on AWS: first at once, then every `every`.
		var pollers sync.WaitGroup
		for _, src := range opts.Config.Sources {
			pollers.Add(1)
			go func() {
				defer pollers.Done()
				for {
					s.pollReporting(ctx, src)
					select {
					case <-time.After(src.Every):
					case <-ctx.Done():
						return
					}
				}
			}()
		}
		pollers.Wait()
	}
	s.wg.Wait()
	return sum, nil
}

func pipelineOf(src *lang.Source) string {
	if src.Pipeline != nil {
		return src.Pipeline.Name
	}
	return ""
}

type sim struct {
	opts    Options
	log     *slog.Logger
	store   *state.Store
	client  *s3.Client
	staging string
	stager  *stage.Stager
	sched   *scheduler.Scheduler
	wg      sync.WaitGroup

	mu  sync.Mutex
	sum *Summary
}

func (s *sim) emit(e Event) {
	e.Time = time.Now()
	s.event(e)
}

// event counts outcomes and forwards every event.
func (s *sim) event(e Event) {
	s.mu.Lock()
	switch e.Kind {
	case "discovered", "backfill-queued":
		s.sum.Discovered++
	case "staged":
		s.sum.Staged++
	case "poll-failed":
		s.sum.PollFailures++
	case "run-finished":
		switch scheduler.RunStatus(e.Status) {
		case scheduler.RunSucceeded:
			s.sum.Succeeded++
		case scheduler.RunFailed:
			s.sum.Failed++
			s.sum.Failures = append(s.sum.Failures, e)
		case scheduler.RunCancelled:
			s.sum.Cancelled++
		}
	}
	s.mu.Unlock()
	if s.opts.Events != nil {
		s.opts.Events(e)
	}
}

// resume starts the runs an earlier process left: interrupted, then queued.
func (s *sim) resume(ctx context.Context) error {
	interrupted, err := s.store.Resume(ctx)
	if err != nil {
		return fmt.Errorf("resuming interrupted runs: %w", err)
	}
	for _, r := range interrupted {
		s.start(ctx, r.ID, r.Pipeline)
	}
	queued, err := s.store.Runs(ctx, state.RunQuery{Status: state.RunQueued, OldestFirst: true, Limit: state.MaxPageSize})
	if err != nil {
		return fmt.Errorf("listing queued runs: %w", err)
	}
	for _, r := range queued.Runs {
		s.start(ctx, r.ID, r.Pipeline)
	}
	return nil
}

// start runs (or adopts and resumes) a run in the background.
func (s *sim) start(ctx context.Context, runID, pipeline string) {
	p := s.opts.Graph.Pipeline(pipeline)
	if p == nil {
		s.emit(Event{Kind: "run-finished", Run: runID, Pipeline: pipeline, Status: string(scheduler.RunFailed), Error: "the pipeline is no longer in the configuration"})
		return
	}
	var names []string
	for _, st := range p.Steps {
		names = append(names, st.Name)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		// The store says "running" only once the run may run: a run waiting
		// for a slot of its pipeline's concurrency stays queued.
		release, err := s.sched.Slot(ctx, p)
		if err != nil {
			return // stopping: the run stays queued for the next simulation
		}
		defer release()
		started, err := s.store.StartRun(ctx, runID, names)
		if err != nil {
			if ctx.Err() == nil {
				s.emit(Event{Kind: "run-finished", Run: runID, Pipeline: pipeline, Status: string(scheduler.RunFailed), Error: err.Error()})
			}
			return
		}
		var run scheduler.Run
		if err := resumable(started, &run); err != nil {
			s.emit(Event{Kind: "run-finished", Run: runID, Pipeline: pipeline, Status: string(scheduler.RunFailed), Error: err.Error()})
			return
		}
		run.Pipeline = p
		s.sched.RunHolding(ctx, run)
	}()
}

// localised returns src read from a local folder when its provider is
// replaced (Options.Providers): a copy, the configuration is not changed.
func (s *sim) localised(src *lang.Source) *lang.Source {
	root, ok := s.opts.Providers[src.Provider.Name]
	if !ok {
		return src
	}
	p := *src.Provider
	p.Protocol, p.Host, p.Port, p.Username, p.Password = "local", "", 0, "", ""
	local := *src
	local.Provider = &p
	local.Path = filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(src.Path, "/")))
	return &local
}

// pollReporting polls a source and reports a failure as an event: one
// source failing (a server down) does not stop the others.
func (s *sim) pollReporting(ctx context.Context, src *lang.Source) {
	if err := s.poll(ctx, src); err != nil && ctx.Err() == nil {
		s.emit(Event{Kind: "poll-failed", Pipeline: pipelineOf(src), Error: err.Error(), Status: src.Name})
	}
}

// poll lists a source, stages the files of each ready granule and enqueues
// it: the local stand-in of the poller on ECS and the S3 event.
func (s *sim) poll(ctx context.Context, src *lang.Source) error {
	if src.Provider == nil || src.Collection == nil || src.Pipeline == nil {
		return nil // the checker reported it
	}
	src = s.localised(src)
	lister, err := acquire.New(src.Provider, s.opts.Config.Dir, s.client, acquire.WithLogger(s.log), acquire.WithEnv(s.opts.Env))
	if err != nil {
		return fmt.Errorf("source %s: %w", src.Name, err)
	}
	defer lister.Close()
	seen := func(f acquire.RemoteFile) bool {
		rec, ok, err := s.store.FileSeen(ctx, src.Name, f.URL)
		return err == nil && ok && rec.Staged && !rec.Changed(f.Size, f.ModTime, "")
	}
	candidates, err := acquire.Poll(ctx, lister, src, seen)
	if err != nil {
		return fmt.Errorf("source %s: %w", src.Name, err)
	}
	for _, c := range candidates {
		if !c.Ready || c.GranuleID == "" {
			continue
		}
		s.emit(Event{Kind: "discovered", Pipeline: src.Pipeline.Name, Granule: c.GranuleID, Status: src.Name})
		if err := s.ingest(ctx, lister, src, c); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.emit(Event{Kind: "stage-failed", Pipeline: src.Pipeline.Name, Granule: c.GranuleID, Error: err.Error()})
		}
	}
	return nil
}

func (s *sim) ingest(ctx context.Context, lister acquire.Lister, src *lang.Source, c acquire.Candidate) error {
	col := src.Collection
	doc := contract.Granule{ID: c.GranuleID, Collection: col.Name, Version: col.Version}
	if t, ok := stdlib.GranuleDate(c.GranuleID); ok {
		doc.Date = t.Format("2006-01-02")
	}
	var seen []state.SeenFile
	for _, f := range append(append([]acquire.File(nil), c.Seen...), c.Files...) {
		key := path.Join(col.Name, c.GranuleID, f.Name)
		r, err := lister.Open(ctx, f.RemoteFile)
		if err != nil {
			return fmt.Errorf("fetching %s: %w", f.URL, err)
		}
		res, err := s.stager.Upload(ctx, s.staging, key, r, stage.Checksum{})
		r.Close()
		if err != nil {
			return fmt.Errorf("staging %s: %w", f.URL, err)
		}
		doc.Files = append(doc.Files, contract.File{Name: f.Name, Type: f.Type, Bucket: s.staging, Key: key, Size: res.Size, Checksum: res.MD5, ChecksumType: "md5", Source: f.URL})
		seen = append(seen, state.SeenFile{Source: src.Name, Key: f.URL, Size: f.Size, ModTime: f.ModTime, Granule: c.GranuleID, Staged: true})
	}
	s.emit(Event{Kind: "staged", Pipeline: src.Pipeline.Name, Granule: c.GranuleID})
	enq, err := s.store.EnqueueGranule(ctx, state.EnqueueRequest{Granule: doc, Pipeline: src.Pipeline.Name, Policy: state.DuplicatePolicy(col.Duplicates), Files: seen})
	if err != nil {
		return err
	}
	if !enq.New {
		s.emit(Event{Kind: "skipped-duplicate", Pipeline: src.Pipeline.Name, Granule: c.GranuleID})
		return nil
	}
	s.start(ctx, enq.RunID, src.Pipeline.Name)
	return nil
}
