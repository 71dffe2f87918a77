package distribution

import (
	"log/slog"
	"net/http"
	"time"
)

// Protect puts next behind the distribution's authentication, as its
// authenticated buckets are: the same users and tokens (/token), the same
// login page and cookie for browsers (/login), the same OIDC issuer. The
// engine's dashboard and API use it on AWS when the configuration asks
// (deployment.dashboard_auth), so one account opens both. Every request
// is logged with who made it.
func (h *Handler) Protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		lw := &logWriter{ResponseWriter: w}
		var rq request
		h.protect(lw, r, &rq, next)
		if lw.status == 0 {
			lw.status = http.StatusOK
		}
		h.log.LogAttrs(r.Context(), slog.LevelInfo, "protected request",
			slog.String("method", r.Method), slog.String("path", truncate(r.URL.EscapedPath(), 256)),
			slog.Int("status", lw.status), slog.String("user", rq.user), slog.String("via", rq.via),
			slog.Duration("elapsed", time.Since(start)))
	})
}

func (h *Handler) protect(w http.ResponseWriter, r *http.Request, rq *request, next http.Handler) {
	if h.front(w, r, rq) {
		return
	}
	user, via, err := h.authenticate(r)
	if err != nil || user == "" {
		segs, perr := cleanPath(r.URL.EscapedPath())
		if perr != nil || len(segs) == 0 {
			segs = []string{""}
		}
		h.challenge(w, r, segs, err != nil)
		return
	}
	rq.user, rq.via = user, via
	next.ServeHTTP(w, r)
}
