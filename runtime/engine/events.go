package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// heartbeat keeps idle event streams open through proxies.
const heartbeat = 15 * time.Second

// events streams server-sent events: "hello" at once, then "change" each
// time the store's content changes, with the new version. Clients refetch
// what they show on a change. Where streams cannot be held open (API
// Gateway), the dashboard falls back to polling with If-None-Match.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	if _, err := newParams(r); err != nil {
		s.failErr(w, r, err)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		s.fail(w, r, http.StatusNotImplemented, "this server cannot stream events; poll the API instead")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	ctx := r.Context()
	last, err := s.fingerprint(ctx)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
	send := func(event, version string) error {
		data, _ := json.Marshal(map[string]string{"version": version})
		if _, err := fmt.Fprintf(w, "retry: 2000\nevent: %s\ndata: %s\n\n", event, data); err != nil {
			return err
		}
		flusher.Flush()
		return nil
	}
	if send("hello", last) != nil {
		return
	}
	poll := time.NewTicker(s.opts.PollInterval)
	defer poll.Stop()
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
			flusher.Flush()
		case <-poll.C:
			v, err := s.fingerprint(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("engine events: reading the store", "err", err)
				}
				continue
			}
			if v != last {
				last = v
				if send("change", v) != nil {
					return
				}
			}
		}
	}
}

// fingerprint is the store's version or, for a store without one, a hash
// of its counters (which move with every run and granule change).
func (s *Server) fingerprint(ctx context.Context) (string, error) {
	if v, ok := s.opts.Store.(Versioner); ok {
		n, err := v.Version(ctx)
		if err != nil {
			return "", err
		}
		return strconv.FormatUint(n, 10), nil
	}
	c, err := s.opts.Store.Counts(ctx)
	if err != nil {
		return "", err
	}
	raw, _ := json.Marshal(c) // maps marshal in key order: stable
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:8]), nil
}
