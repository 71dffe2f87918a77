package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/cumulus-toolchain/cumulus/runtime/stepwrap"
)

// heartbeats receives the step wrapper's heartbeats, the local stand-in of
// Step Functions' SendTaskHeartbeat: a task running through `cumulus step`
// finds the endpoint in CUMULUS_HEARTBEAT_URL (containers share the host's
// network) and posts a beat, with what it uses, every interval. Each beat
// is an event ("heartbeat"), in the -json stream with the others.
type heartbeats struct {
	srv  *http.Server
	url  string
	emit func(Event)
}

// heartbeatInterval is how often a wrapped step beats in a simulation:
// often enough to see a step alive on a laptop.
const heartbeatInterval = 10 * time.Second

func startHeartbeats(ctx context.Context, emit func(Event)) (*heartbeats, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &heartbeats{url: "http://" + ln.Addr().String() + "/heartbeat", emit: emit}
	h.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = h.srv.Serve(ln) }()
	return h, nil
}

func (h *heartbeats) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/heartbeat" {
		http.Error(w, "POST /heartbeat only", http.StatusMethodNotAllowed)
		return
	}
	var b stepwrap.Beat
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&b); err != nil || b.Granule == "" || b.Step == "" {
		http.Error(w, "a heartbeat is a JSON object with pipeline, step, granule and attempt", http.StatusBadRequest)
		return
	}
	h.emit(Event{Time: time.Now(), Kind: "heartbeat", Pipeline: b.Pipeline, Granule: b.Granule, Step: b.Step, Attempt: b.Attempt})
	w.WriteHeader(http.StatusNoContent)
}

func (h *heartbeats) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = h.srv.Close()
	}
}
