package engine

import (
	"context"
	"net/http"
	"sort"
	"time"
)

// StatsAnswer is /api/stats's answer: the counters, and throughput per
// pipeline over a time window.
type StatsAnswer struct {
	Counts     Counts     `json:"counts"`
	Throughput Throughput `json:"throughput"`
}

// Throughput counts the runs that ended in each interval of a window.
type Throughput struct {
	Since     time.Time `json:"since"`
	Until     time.Time `json:"until"`
	IntervalS int64     `json:"interval_s"`
	// Series has one entry per pipeline with runs in the window, by name.
	Series []Series `json:"series"`
	// Partial is true when the window held more runs than one answer
	// reads (maxThroughputRuns): the oldest were not counted.
	Partial bool `json:"partial,omitempty"`
}

// Series is one pipeline's throughput.
type Series struct {
	Pipeline string  `json:"pipeline"`
	Points   []Point `json:"points"`
	// Succeeded and Failed total the window.
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
}

// Point is one interval, from T.
type Point struct {
	T         time.Time `json:"t"`
	Succeeded int       `json:"succeeded"`
	Failed    int       `json:"failed"`
	// MeanDurationMS is the mean run time of the runs that ended in it.
	MeanDurationMS int64 `json:"mean_duration_ms"`
}

const (
	maxPoints         = 1000
	defaultPoints     = 60
	defaultWindow     = time.Hour
	maxThroughputRuns = 200_000
)

func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	p, err := newParams(r, "since", "until", "interval", "pipeline")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	now := s.opts.Now().UTC()
	since, err := p.time("since", now)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	until, err := p.time("until", now)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	var interval time.Duration
	if v := p.str("interval"); v != "" {
		if interval, err = time.ParseDuration(v); err != nil || interval < time.Second {
			s.failErr(w, r, badf("interval %q is not a duration of a second or more (30s, 5m, 1h)", v))
			return
		}
	}
	counts, err := s.opts.Store.Counts(r.Context())
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if since.IsZero() && until.IsZero() {
		// A folder served after its simulation ended has had no activity
		// for a while: show the last hour it was active rather than an
		// empty one.
		until = now
		if last, err := s.lastActivity(r.Context(), p.str("pipeline")); err != nil {
			s.failErr(w, r, err)
			return
		} else if !last.IsZero() && last.Before(now.Add(-defaultWindow)) {
			until = last.Add(time.Second)
		}
	}
	if until.IsZero() {
		until = now
	}
	if since.IsZero() {
		since = until.Add(-defaultWindow)
	}
	if !since.Before(until) {
		s.failErr(w, r, badf("since (%s) is not before until (%s)", since.Format(time.RFC3339), until.Format(time.RFC3339)))
		return
	}
	if interval == 0 {
		interval = niceInterval(until.Sub(since), defaultPoints)
	}
	if until.Sub(since)/interval >= maxPoints {
		s.failErr(w, r, badf("the window holds more than %d intervals of %s: widen the interval", maxPoints, interval))
		return
	}
	since = since.Truncate(interval)
	tp, err := s.throughput(r.Context(), p.str("pipeline"), since, until, interval)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.reply(w, r, StatsAnswer{Counts: counts, Throughput: tp})
}

// lastActivity is when the newest run was created or, if it ended, ended.
func (s *Server) lastActivity(ctx context.Context, pipeline string) (time.Time, error) {
	page, err := s.opts.Store.Runs(ctx, RunQuery{Pipeline: pipeline, Limit: 1})
	if err != nil || len(page.Runs) == 0 {
		return time.Time{}, err
	}
	r := page.Runs[0]
	if r.Status == RunRunning || r.Status == RunQueued {
		return s.opts.Now(), nil
	}
	return maxTime(r.Created, r.Ended), nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// throughput counts, per interval, the runs that ended in it. Runs are
// listed by creation, so it reads those created from ThroughputLookback
// before the window to its end; a run that ran longer than that before
// ending in the window is not counted. The result is cached per store
// version when the store has one.
func (s *Server) throughput(ctx context.Context, pipeline string, since, until time.Time, interval time.Duration) (Throughput, error) {
	cacheKey := pipeline + "\x00" + since.Format(time.RFC3339Nano) + "\x00" + until.Format(time.RFC3339Nano) + "\x00" + interval.String()
	var version uint64
	versioned := false
	if v, ok := s.opts.Store.(Versioner); ok {
		var err error
		if version, err = v.Version(ctx); err != nil {
			return Throughput{}, err
		}
		versioned = true
		s.mu.Lock()
		c, ok := s.cache[cacheKey]
		s.mu.Unlock()
		if ok && c.version == version {
			return c.value.(Throughput), nil
		}
	}

	n := int((until.Sub(since) + interval - 1) / interval)
	tp := Throughput{Since: since, Until: until, IntervalS: int64(interval / time.Second), Series: []Series{}}
	type acc struct {
		pts   []Point
		total []int64
		s     *Series
	}
	byPipeline := map[string]*acc{}
	q := RunQuery{Pipeline: pipeline, Since: since.Add(-s.opts.ThroughputLookback), Until: until, Limit: MaxLimit}
	read := 0
	for {
		page, err := s.opts.Store.Runs(ctx, q)
		if err != nil {
			return Throughput{}, err
		}
		for _, r := range page.Runs {
			read++
			if (r.Status != RunSucceeded && r.Status != RunFailed) || r.Ended.Before(since) || !r.Ended.Before(until) {
				continue
			}
			a := byPipeline[r.Pipeline]
			if a == nil {
				a = &acc{pts: make([]Point, n), total: make([]int64, n), s: &Series{Pipeline: r.Pipeline}}
				for i := range a.pts {
					a.pts[i].T = since.Add(time.Duration(i) * interval)
				}
				byPipeline[r.Pipeline] = a
			}
			i := int(r.Ended.Sub(since) / interval)
			if r.Status == RunSucceeded {
				a.pts[i].Succeeded++
				a.s.Succeeded++
			} else {
				a.pts[i].Failed++
				a.s.Failed++
			}
			if !r.Started.IsZero() {
				a.total[i] += r.Ended.Sub(r.Started).Milliseconds()
			}
		}
		if page.Next == "" {
			break
		}
		if read >= maxThroughputRuns {
			tp.Partial = true
			break
		}
		q.Cursor = page.Next
	}
	for _, a := range byPipeline {
		for i := range a.pts {
			if k := a.pts[i].Succeeded + a.pts[i].Failed; k > 0 {
				a.pts[i].MeanDurationMS = a.total[i] / int64(k)
			}
		}
		a.s.Points = a.pts
		tp.Series = append(tp.Series, *a.s)
	}
	sort.Slice(tp.Series, func(i, j int) bool { return tp.Series[i].Pipeline < tp.Series[j].Pipeline })
	if versioned {
		s.mu.Lock()
		if len(s.cache) > 64 { // dashboards ask for few windows; forget the rest
			clear(s.cache)
		}
		s.cache[cacheKey] = cached{version: version, value: tp}
		s.mu.Unlock()
	}
	return tp, nil
}
