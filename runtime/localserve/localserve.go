// Package localserve runs the platform's HTTP handlers on this machine: the
// engine API with its dashboard, and one distribution per distribution block,
// each on a loopback listener, over a simulation's store and S3 endpoint. It
// is what `cumulus simulate` starts beside the pipelines and what `cumulus
// serve` starts alone, so both serve the same thing the same way; on AWS the
// same handlers run as Lambda functions instead.
package localserve

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/runtime/distribution"
	"github.com/cumulus-toolchain/cumulus/runtime/engine"
)

// Default addresses: fixed, so that a bookmark survives a restart. When one
// is taken (another simulation serves there), a free port is used instead
// and the URL says which.
const (
	DefaultDashboardAddr    = "127.0.0.1:8470"
	DefaultDistributionAddr = "127.0.0.1:8471"
)

// Config says what to serve and where.
type Config struct {
	Graph *graph.Graph
	// Store is the engine's state (engine.StateStore over the simulator's).
	Store engine.Store
	// Dir is the simulation folder; step logs are read from Dir/logs.
	Dir string
	// S3 is the client of the endpoint the archive's buckets are in.
	S3 *s3.Client
	// DashboardAddr and DistributionAddr are host:port to listen on ("":
	// the defaults). Only loopback addresses are accepted: nothing here
	// is meant for a network.
	DashboardAddr, DistributionAddr string
	// Getenv reads CUMULUS_DIST_USERS and CUMULUS_DIST_KEY (nil: none).
	Getenv func(string) string
	// Random makes generated passwords and keys (nil: crypto/rand).
	Random io.Reader
	// Links are shown in the dashboard's navigation bar.
	Links []engine.Link
	// Logger gets the distributions' access log and the servers' errors.
	Logger *slog.Logger
}

// Servers are the running listeners.
type Servers struct {
	// DashboardURL is the engine API's and dashboard's base URL.
	DashboardURL string
	// Distributions are the distributions served, in configuration order.
	Distributions []Distribution
	// Generated are local users whose passwords were made up for this
	// run, to be shown to the user once.
	Generated []Credential

	engine  *engine.Server
	servers []*http.Server
	errs    chan error
}

// Distribution is one distribution block, served.
type Distribution struct {
	Name, URL string
}

// Credential is a local user's name and password.
type Credential struct {
	Distribution, User, Password string
}

// Start listens and serves until Close. Nothing is left listening when it
// fails.
func Start(ctx context.Context, cfg Config) (*Servers, error) {
	if cfg.Graph == nil || cfg.Store == nil {
		return nil, errors.New("localserve: a graph and a store are required")
	}
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	random := cfg.Random
	if random == nil {
		random = rand.Reader
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Servers{errs: make(chan error, 1+len(cfg.Graph.Distributions))}
	ok := false
	defer func() {
		if !ok {
			_ = s.Close(context.Background())
		}
	}()

	title := cfg.Graph.Prefix
	eng, err := engine.New(engine.Options{
		Store: cfg.Store, Logs: engine.FileLogs(filepath.Join(cfg.Dir, "logs")), Graph: cfg.Graph,
		Title: title, Logger: log, Links: cfg.Links,
	})
	if err != nil {
		return nil, fmt.Errorf("the engine API: %w", err)
	}
	s.engine = eng
	url, err := s.listen(ctx, orDefault(cfg.DashboardAddr, DefaultDashboardAddr), eng)
	if err != nil {
		return nil, fmt.Errorf("the dashboard: %w", err)
	}
	s.DashboardURL = url

	if len(cfg.Graph.Distributions) > 0 {
		key, err := signingKey(getenv(distribution.KeyEnv), random)
		if err != nil {
			return nil, err
		}
		addr := orDefault(cfg.DistributionAddr, DefaultDistributionAddr)
		for i, d := range cfg.Graph.Distributions {
			users, generated, err := distribution.LocalUsers(d, getenv(distribution.UsersEnv), random)
			if err != nil {
				return nil, fmt.Errorf("distribution %q: %s: %w", d.Name, distribution.UsersEnv, err)
			}
			for _, u := range generated {
				s.Generated = append(s.Generated, Credential{Distribution: d.Name, User: u, Password: users[u]})
			}
			h, err := distribution.New(d, cfg.S3, distribution.WithSigningKey(key), distribution.WithUsers(users), distribution.WithLogger(log))
			if err != nil {
				return nil, fmt.Errorf("distribution %q: %w", d.Name, err)
			}
			if i > 0 {
				// Each distribution owns its whole path space, so each
				// gets its own port; the first takes the one asked for.
				addr = portZero(addr)
			}
			url, err := s.listen(ctx, addr, h)
			if err != nil {
				return nil, fmt.Errorf("distribution %q: %w", d.Name, err)
			}
			s.Distributions = append(s.Distributions, Distribution{Name: d.Name, URL: url})
		}
	}
	ok = true
	return s, nil
}

// Err delivers the first error a server stopped with while serving.
func (s *Servers) Err() <-chan error { return s.errs }

// Close stops the servers, letting requests in flight finish until ctx ends.
func (s *Servers) Close(ctx context.Context) error {
	if s.engine != nil {
		s.engine.Close() // ends the event streams, which would hold Shutdown
	}
	var errs []error
	for _, srv := range s.servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	s.servers = nil
	return errors.Join(errs...)
}

// listen serves h on addr, or on a free port of the same host when addr's
// port is taken, and returns the base URL.
func (s *Servers) listen(ctx context.Context, addr string, h http.Handler) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("address %q is not a loopback address: the local servers are for this machine only", addr)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil && !strings.HasSuffix(addr, ":0") {
		ln, err = lc.Listen(ctx, "tcp", portZero(addr))
	}
	if err != nil {
		return "", err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    distribution.DefaultMaxHeaderBytes,
	}
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			select {
			case s.errs <- err:
			default:
			}
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// portZero is addr's host with port 0: any free port.
func portZero(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return net.JoinHostPort(host, "0")
}

// signingKey is CUMULUS_DIST_KEY's key, or a new one: links a distribution
// hands out then last as long as this process, which is what a laptop needs.
func signingKey(env string, random io.Reader) ([]byte, error) {
	if env != "" {
		key, err := distribution.ParseKey(env)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", distribution.KeyEnv, err)
		}
		return key, nil
	}
	key := make([]byte, 32)
	if _, err := io.ReadFull(random, key); err != nil {
		return nil, fmt.Errorf("making a signing key: %w", err)
	}
	return key, nil
}
