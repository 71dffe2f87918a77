package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/runtime/engine"
	"github.com/cumulus-toolchain/cumulus/runtime/localserve"
	"github.com/cumulus-toolchain/cumulus/simulator/s3local"
	"github.com/cumulus-toolchain/cumulus/simulator/state"
)

const serveUsage = `Usage: cumulus serve [OPTIONS] [DIR]

Serves, over the simulation folder of the configuration in DIR, what
'cumulus simulate' serves while it runs: the workflow engine's read-only
API and dashboard, and the archive's distribution. Nothing runs; it reads
what a simulation left. It serves until Ctrl-C.

Options:
  -dir DIR          The simulation folder (default: .cumulus in the
                    configuration's folder).
  -s3-endpoint URL  The S3 endpoint the simulation used, if not the embedded
                    one; credentials from the standard AWS variables.
  -listen ADDR      Engine API and dashboard address (default 127.0.0.1:8470).
  -dist-listen ADDR Distribution address (default 127.0.0.1:8471).
  -var NAME=VALUE   Set a variable (repeatable).
  -var-file FILE    Read variables from a file (repeatable).
  -no-color         Never colour the output.

Local users of authenticated buckets: as for 'cumulus simulate'.

Exit status: 0 stopped by Ctrl-C, 1 nothing to serve (or the configuration
is invalid), 2 usage error.
`

func runServe(e *env, args []string) int {
	fs := newFlagSet(e, "serve", serveUsage)
	var cf configFlags
	cf.register(fs)
	dir := fs.String("dir", "", "simulation folder")
	endpoint := fs.String("s3-endpoint", "", "S3 endpoint")
	listen := fs.String("listen", localserve.DefaultDashboardAddr, "dashboard address")
	distListen := fs.String("dist-listen", localserve.DefaultDistributionAddr, "distribution address")
	cfg, diags, code, stop := cf.load(e, fs, "serve", args)
	if stop {
		return code
	}
	if diags.HasErrors() {
		return reportFailure(e, cfg.Files, diags, "Nothing was served.")
	}
	g, gdiags := graph.Build(cfg)
	diags = append(diags, gdiags...)
	if diags.HasErrors() {
		return reportFailure(e, cfg.Files, diags, "Nothing was served.")
	}
	printDiagnostics(e, cfg.Files, diags)

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	simDir := *dir
	if simDir == "" {
		simDir = filepath.Join(cfg.Dir, state.DefaultDir)
	}
	st, err := state.OpenReadOnly(ctx, simDir, state.Options{})
	switch {
	case errors.Is(err, state.ErrNotFound):
		fmt.Fprintf(e.stderr, "cumulus serve: %s holds no simulation yet; run 'cumulus simulate%s' first.\n", simDir, dirArgs(cfg.Dir, *dir))
		return exitFailed
	case errors.Is(err, state.ErrLocked):
		fmt.Fprintf(e.stderr, "cumulus serve: a simulation is running in %s; it serves the dashboard itself, at the URL it printed.\n", simDir)
		return exitFailed
	case err != nil:
		fmt.Fprintf(e.stderr, "cumulus serve: %v\n", err)
		return exitFailed
	}
	defer st.Close()

	s3url := *endpoint
	if s3url == "" {
		srv, err := s3local.Start(ctx, filepath.Join(simDir, "s3"))
		if err != nil {
			fmt.Fprintf(e.stderr, "cumulus serve: starting the embedded S3 endpoint: %v\n", err)
			return exitFailed
		}
		defer srv.Close()
		s3url = srv.URL()
	}
	client, err := s3local.Client(ctx, s3url)
	if err != nil {
		fmt.Fprintf(e.stderr, "cumulus serve: %v\n", err)
		return exitFailed
	}
	servers, err := localserve.Start(ctx, localserve.Config{
		Graph: g, Store: engine.StateStore(st), Dir: simDir, S3: client,
		DashboardAddr: *listen, DistributionAddr: *distListen, Getenv: e.getenv,
	})
	if err != nil {
		fmt.Fprintf(e.stderr, "cumulus serve: %v\n", err)
		return exitFailed
	}
	printServing(e.stdout, servers)
	fmt.Fprintln(e.stdout, "Press Ctrl-C to stop.")
	select {
	case <-ctx.Done():
	case err = <-servers.Err():
	}
	shutdown, stopShutdown := context.WithTimeout(context.Background(), 5*time.Second)
	defer stopShutdown()
	_ = servers.Close(shutdown)
	if err != nil {
		fmt.Fprintf(e.stderr, "cumulus serve: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// printServing says where the local servers are, and the passwords made up
// for this run.
func printServing(w io.Writer, s *localserve.Servers) {
	fmt.Fprintf(w, "Dashboard and engine API: %s\n", s.DashboardURL)
	for _, d := range s.Distributions {
		fmt.Fprintf(w, "Distribution %q: %s\n", d.Name, d.URL)
	}
	for _, c := range s.Generated {
		fmt.Fprintf(w, "  user %q, password %q (this run only; set CUMULUS_DIST_USERS=%s:PASSWORD to choose one)\n", c.User, c.Password, c.User)
	}
}

// serveArgs are the arguments of the 'cumulus serve' that serves what this
// simulation left.
func serveArgs(cfgDir, simDir, endpoint string) string {
	args := dirArgs(cfgDir, simDir)
	if endpoint != "" {
		args = " -s3-endpoint " + endpoint + args
	}
	return args
}

func dirArgs(cfgDir, simDir string) string {
	var b strings.Builder
	if simDir != "" {
		b.WriteString(" -dir " + simDir)
	}
	if cfgDir != "" && cfgDir != "." {
		b.WriteString(" " + cfgDir)
	}
	return b.String()
}

// getenv reads the command's environment.
func (e *env) getenv(key string) string {
	for i := len(e.environ) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(e.environ[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}
