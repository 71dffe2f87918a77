package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/runtime/engine"
	"github.com/cumulus-toolchain/cumulus/runtime/localserve"
	"github.com/cumulus-toolchain/cumulus/simulator"
)

const simulateUsage = `Usage: cumulus simulate [OPTIONS] [DIR]

Runs the configuration in DIR on this machine: polls its sources, stages
each ready granule's files into S3 (an embedded S3 endpoint by default, kept
in the simulation folder), and runs each granule through its pipeline with
the compiled graph's retries, timeouts and conditions. Standard steps run
built in; tasks run in Docker when an engine answers, else through their
local_command. A simulation that was stopped (Ctrl-C, or killed) resumes
where it was: finished granules are not redone.

While it runs, the engine API and read-only dashboard, and the archive's
distribution (anonymous and authenticated buckets, expiring links), are
served on localhost; their URLs are printed first. Local users of
authenticated buckets are named in the distribution's auth block or in
CUMULUS_DIST_USERS=NAME:PASSWORD,...; passwords not given there are made up
and printed. After the run, 'cumulus serve' serves the same over the
simulation folder.

Options:
  -once             Poll each source once and stop when its granules are done
                    (default: keep polling on each source's schedule).
  -dir DIR          The simulation folder: state, embedded S3, logs
                    (default: .cumulus in the configuration's folder).
  -s3-endpoint URL  Use this S3 endpoint (MinIO, say) instead of the embedded
                    one; credentials from the standard AWS variables.
  -no-docker        Run tasks only through their local_command.
  -backfill PIPELINE=FILE
                    Run the granules listed in FILE through PIPELINE instead
                    of polling the sources, as the pipeline's backfill state
                    machine does on AWS: a JSON array of {"granule": {...}}
                    items whose files are staged (name, bucket, key each).
  -provider NAME=DIR
                    Read provider NAME's sources from the local folder DIR
                    (the server's tree, at the same paths) instead of the
                    server (repeatable); e.g. examples/hs3's bundled demo tree.
  -json             One JSON event per line on stdout.
  -listen ADDR      Serve the engine API and dashboard on ADDR while the
                    simulation runs (default 127.0.0.1:8470; a free port
                    when that one is taken).
  -dist-listen ADDR Serve the distribution on ADDR (default 127.0.0.1:8471).
  -no-serve         Serve neither.
  -var NAME=VALUE   Set a variable (repeatable).
  -var-file FILE    Read variables from a file (repeatable).
  -no-color         Never colour the output.

Exit status: 0 every granule succeeded, 1 a granule failed (or the
configuration is invalid), 2 usage error, 130 stopped by Ctrl-C.
`

func runSimulate(e *env, args []string) int {
	fs := newFlagSet(e, "simulate", simulateUsage)
	var cf configFlags
	cf.register(fs)
	once := fs.Bool("once", false, "poll once")
	dir := fs.String("dir", "", "simulation folder")
	endpoint := fs.String("s3-endpoint", "", "S3 endpoint")
	noDocker := fs.Bool("no-docker", false, "local commands only")
	asJSON := fs.Bool("json", false, "JSON events")
	listen := fs.String("listen", localserve.DefaultDashboardAddr, "dashboard address")
	distListen := fs.String("dist-listen", localserve.DefaultDistributionAddr, "distribution address")
	noServe := fs.Bool("no-serve", false, "serve nothing")
	backfillFlag := fs.String("backfill", "", "run a granule list through a pipeline: PIPELINE=FILE")
	providers := providerFlags{}
	fs.Var(providers, "provider", "replace a provider by a local folder: NAME=DIR")
	cfg, diags, code, stop := cf.load(e, fs, "simulate", args)
	if stop {
		return code
	}
	if diags.HasErrors() {
		return reportFailure(e, cfg.Files, diags, "Nothing was run.")
	}
	g, gdiags := graph.Build(cfg)
	diags = append(diags, gdiags...)
	if diags.HasErrors() {
		return reportFailure(e, cfg.Files, diags, "Nothing was run.")
	}
	printDiagnostics(e, cfg.Files, diags)
	for name := range providers {
		if cfg.Provider(name) == nil {
			var names []string
			for _, p := range cfg.Providers {
				names = append(names, p.Name)
			}
			return usageError(e, "simulate", "-provider names %q, but the configuration has no such provider; its providers: %s", name, joinOr(names))
		}
	}

	var backfill *simulator.Backfill
	if *backfillFlag != "" {
		name, file, ok := strings.Cut(*backfillFlag, "=")
		if !ok || name == "" || file == "" {
			return usageError(e, "simulate", "-backfill wants PIPELINE=FILE, not %q", *backfillFlag)
		}
		if g.Pipeline(name) == nil {
			var names []string
			for _, p := range g.Pipelines {
				names = append(names, p.Name)
			}
			return usageError(e, "simulate", "-backfill names pipeline %q, but the configuration has no such pipeline; its pipelines: %s", name, joinOr(names))
		}
		data, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintf(e.stderr, "cumulus simulate: -backfill: %v\n", err)
			return exitFailed
		}
		if backfill, err = simulator.ParseBackfill(name, data); err != nil {
			fmt.Fprintf(e.stderr, "cumulus simulate: -backfill: %s: %v\n", file, err)
			return exitFailed
		}
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	var mu sync.Mutex
	live := e.liveStdout && !*asJSON
	prog := &progress{}
	events := func(ev simulator.Event) {
		mu.Lock()
		defer mu.Unlock()
		if *asJSON {
			b, _ := json.Marshal(ev) // plain fields always encode
			fmt.Fprintf(e.stdout, "%s\n", b)
			return
		}
		prog.add(ev)
		if live {
			fmt.Fprint(e.stdout, "\r\033[K") // the status line gives way to the event
		}
		if line := describe(ev); line != "" {
			fmt.Fprintln(e.stdout, line)
		}
		if live {
			fmt.Fprint(e.stdout, fit(prog.line(), e.width))
		}
	}
	var servers *localserve.Servers
	ready := func(ctx context.Context, r simulator.Resources) (simulator.Served, error) {
		if *noServe {
			return simulator.Served{}, nil
		}
		var err error
		servers, err = localserve.Start(ctx, localserve.Config{
			Graph: g, Store: engine.StateStore(r.Store), Dir: r.Dir, S3: r.S3,
			DashboardAddr: *listen, DistributionAddr: *distListen, Getenv: e.getenv,
			Links: []engine.Link{{Name: "CMR stand-in", URL: r.CMRURL + "/search/granules.umm_json"}},
		})
		if err != nil {
			return simulator.Served{}, fmt.Errorf("serving the dashboard and distribution: %w", err)
		}
		mu.Lock()
		defer mu.Unlock()
		w := e.stdout
		if *asJSON {
			w = e.stderr // stdout is the events' alone
		}
		printServing(w, servers)
		fmt.Fprintf(w, "CMR stand-in (what publish_cmr published): %s/search/granules.umm_json\n", r.CMRURL)
		var served simulator.Served
		if len(servers.Distributions) > 0 {
			served.DistributionURL = servers.Distributions[0].URL
		}
		return served, nil
	}
	sum, err := simulator.Run(ctx, simulator.Options{
		Config: cfg, Graph: g, Dir: *dir, S3Endpoint: *endpoint, Once: *once, NoDocker: *noDocker,
		Env: e.environ, Providers: providers, Events: events, Logger: slog.New(slog.DiscardHandler),
		Ready: ready, Backfill: backfill,
	})
	if servers != nil {
		shutdown, stop := context.WithTimeout(context.Background(), 2*time.Second)
		_ = servers.Close(shutdown)
		stop()
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "cumulus simulate: %v\n", err)
		return exitFailed
	}
	if live {
		fmt.Fprint(e.stdout, "\r\033[K")
	}
	if !*asJSON {
		fmt.Fprintf(e.stdout, "\n%d granules discovered, %d staged: %d succeeded, %d failed, %d stopped.\n",
			sum.Discovered, sum.Staged, sum.Succeeded, sum.Failed, sum.Cancelled)
		if sum.PollFailures > 0 {
			fmt.Fprintf(e.stdout, "%s failed; see above.\n", plural(sum.PollFailures, "poll"))
		}
		for _, f := range sum.Failures {
			fmt.Fprintf(e.stdout, "  %s (%s) failed at step %s: %s\n", f.Granule, f.Pipeline, f.Step, f.Error)
		}
		fmt.Fprintf(e.stdout, "Logs and state are in %s.\n", sum.Dir)
		if servers != nil {
			fmt.Fprintf(e.stdout, "Browse them: cumulus serve%s\n", serveArgs(cfg.Dir, *dir, *endpoint))
		}
	}
	switch {
	case ctx.Err() != nil:
		if !*asJSON {
			fmt.Fprintln(e.stdout, "Stopped; run the same command again to resume.")
		}
		return 130
	case sum.Failed > 0 || sum.PollFailures > 0:
		return exitFailed
	}
	return exitOK
}

// describe is an event as a line for people; "" for the ones not worth one.
func describe(ev simulator.Event) string {
	switch ev.Kind {
	case "discovered":
		return fmt.Sprintf("%-28s discovered in source %s", ev.Granule, ev.Status)
	case "run-started":
		return fmt.Sprintf("%-28s %s: started", ev.Granule, ev.Pipeline)
	case "step-finished":
		if ev.Error != "" {
			return fmt.Sprintf("%-28s   %s %s: %s", ev.Granule, ev.Step, ev.Status, ev.Error)
		}
		return fmt.Sprintf("%-28s   %s %s", ev.Granule, ev.Step, ev.Status)
	case "attempt-failed":
		return fmt.Sprintf("%-28s   %s attempt %d failed, retrying in %s: %s", ev.Granule, ev.Step, ev.Attempt, ev.Delay, ev.Error)
	case "run-finished":
		files := append([]string(nil), ev.Files...)
		sort.Strings(files)
		line := fmt.Sprintf("%-28s %s: %s", ev.Granule, ev.Pipeline, ev.Status)
		if len(files) > 0 {
			line += "\n" + strings.Repeat(" ", 31) + strings.Join(files, "\n"+strings.Repeat(" ", 31))
		}
		return line
	case "notify":
		return fmt.Sprintf("%-28s notification to %s", ev.Granule, ev.Status)
	case "poll-failed":
		return fmt.Sprintf("source %s: polling failed (it is polled again on its schedule): %s", ev.Status, ev.Error)
	case "stage-failed":
		return fmt.Sprintf("%-28s staging failed (retried at the next poll): %s", ev.Granule, ev.Error)
	case "skipped-duplicate":
		return fmt.Sprintf("%-28s already ingested; skipped as its collection's duplicates policy says", ev.Granule)
	case "warning":
		return "warning: " + ev.Error
	case "backfill-queued":
		return fmt.Sprintf("%-28s queued for backfill through %s", ev.Granule, ev.Pipeline)
	}
	return ""
}

// providerFlags collects -provider NAME=DIR.
type providerFlags map[string]string

func (p providerFlags) String() string { return "" }

func (p providerFlags) Set(v string) error {
	name, dir, ok := strings.Cut(v, "=")
	if !ok || name == "" || dir == "" {
		return fmt.Errorf("%q is not NAME=DIR; write -provider ghrc_ftp=examples/hs3/demo", v)
	}
	// Relative to where the command runs, as users type it (sources of a
	// local provider are otherwise relative to the configuration).
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	p[name] = abs
	return nil
}

// progress counts granules per state for the live status line: discovered,
// staged, running, done, failed.
type progress struct {
	discovered, staged, running, succeeded, failed int
	pipelines                                      map[string]*pipelineProgress
}

// pipelineProgress is one pipeline's part of the status line: its runs,
// and which step each running granule is in (or waiting to retry).
type pipelineProgress struct {
	running, succeeded, failed int
	// inStep maps a run to the step it is running, "" while it waits to
	// retry; several steps of one run (fan-out) each count.
	inStep map[string]map[string]bool
	retry  map[string]int
}

func (p *progress) pipeline(name string) *pipelineProgress {
	if p.pipelines == nil {
		p.pipelines = map[string]*pipelineProgress{}
	}
	pp := p.pipelines[name]
	if pp == nil {
		pp = &pipelineProgress{inStep: map[string]map[string]bool{}, retry: map[string]int{}}
		p.pipelines[name] = pp
	}
	return pp
}

func (p *progress) add(ev simulator.Event) {
	switch ev.Kind {
	case "discovered":
		p.discovered++
	case "staged":
		p.staged++
	case "run-started":
		p.running++
		p.pipeline(ev.Pipeline).running++
	case "attempt-started":
		pp := p.pipeline(ev.Pipeline)
		if pp.inStep[ev.Run] == nil {
			pp.inStep[ev.Run] = map[string]bool{}
		}
		pp.inStep[ev.Run][ev.Step] = true
		if pp.retry[ev.Run+"\x00"+ev.Step] > 0 {
			delete(pp.retry, ev.Run+"\x00"+ev.Step)
		}
	case "attempt-failed":
		pp := p.pipeline(ev.Pipeline)
		delete(pp.inStep[ev.Run], ev.Step)
		pp.retry[ev.Run+"\x00"+ev.Step]++
	case "step-finished":
		delete(p.pipeline(ev.Pipeline).inStep[ev.Run], ev.Step)
	case "run-finished":
		p.running--
		pp := p.pipeline(ev.Pipeline)
		pp.running--
		delete(pp.inStep, ev.Run)
		for k := range pp.retry {
			if strings.HasPrefix(k, ev.Run+"\x00") {
				delete(pp.retry, k)
			}
		}
		switch ev.Status {
		case "succeeded":
			p.succeeded++
			pp.succeeded++
		case "failed":
			p.failed++
			pp.failed++
		}
	}
}

// line is the status line shown under the events on a terminal: the
// totals, then per pipeline its runs and the steps they are in, such as
// "ingest: 2 running (preprocess 1, sync 1), 5 done, 0 failed".
func (p *progress) line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- %d discovered, %d staged, %d running, %d done, %d failed", p.discovered, p.staged, max(0, p.running), p.succeeded, p.failed)
	names := make([]string, 0, len(p.pipelines))
	for name := range p.pipelines {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		pp := p.pipelines[name]
		if pp.running <= 0 {
			continue
		}
		steps := map[string]int{}
		for _, in := range pp.inStep {
			for st := range in {
				steps[st]++
			}
		}
		var parts []string
		for st, n := range steps {
			parts = append(parts, fmt.Sprintf("%s %d", st, n))
		}
		if n := len(pp.retry); n > 0 {
			parts = append(parts, fmt.Sprintf("retrying %d", n))
		}
		sort.Strings(parts)
		fmt.Fprintf(&b, " | %s: %d running", name, pp.running)
		if len(parts) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
		}
	}
	return b.String()
}

// fit shortens a status line to the terminal's width, so that redrawing
// it never wraps.
func fit(line string, width uint) string {
	r := []rune(line)
	if width < 2 || uint(len(r)) < width {
		return line
	}
	return string(r[:width-2]) + "…"
}
