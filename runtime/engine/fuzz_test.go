package engine

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// FuzzQueryParams feeds raw query strings to the runs listing's parsing
// (filters, time filters, limits, cursor tokens): whatever arrives, it
// answers a value or a 400, never panics; times it accepts survive a round
// trip through RFC 3339; cursors it issues decode to what they wrap, and
// only under the filters they were issued for. Seeds are in
// testdata/fuzz/FuzzQueryParams.
func FuzzQueryParams(f *testing.F) {
	f.Add("status=failed&since=-1h&limit=10")
	f.Add("cursor=eyJ2IjoxLCJrIjoicnVucyIsImYiOiJ4IiwiYyI6IjAxIn0&order=oldest")
	f.Add("since=2013-08-25T00:00:00.5%2B02:00&until=now")
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/api/runs", RawQuery: raw}}
		p, err := newParams(r, "pipeline", "status", "since", "until", "order", "limit", "cursor")
		var bad *badRequest
		if err != nil {
			if !errors.As(err, &bad) {
				t.Fatalf("newParams(%q) = %v, not a bad request", raw, err)
			}
			return
		}
		q, err := runQuery(p, now)
		if err != nil && !errors.As(err, &bad) {
			t.Fatalf("runQuery(%q) = %v, not a bad request", raw, err)
		}
		if err == nil && (q.Limit < 1 || q.Limit > MaxLimit) {
			t.Fatalf("runQuery(%q): limit %d", raw, q.Limit)
		}
		for _, v := range p.v {
			tm, err := parseTime(v[0], now)
			if err != nil {
				continue
			}
			back, err := parseTime(tm.Format(time.RFC3339Nano), now)
			if err != nil || !back.Equal(tm) {
				t.Fatalf("parseTime(%q) = %s, which reads back as %s, %v", v[0], tm, back, err)
			}
			if v[0] == "" {
				continue
			}
			filter := runFilter(p)
			token := encodeCursor("runs", filter, v[0])
			if c, err := decodeCursor(token, "runs", filter); err != nil || c != v[0] {
				t.Fatalf("cursor %q came back as %q, %v", v[0], c, err)
			}
			if _, err := decodeCursor(token, "runs", filter+"x"); err == nil {
				t.Fatalf("cursor %q was accepted under other filters", v[0])
			}
			if _, err := decodeCursor(token, "granules", filter); err == nil {
				t.Fatalf("cursor %q was accepted by another listing", v[0])
			}
		}
	})
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"now":                       now,
		"-90m":                      now.Add(-90 * time.Minute),
		"2013-08-25":                time.Date(2013, 8, 25, 0, 0, 0, 0, time.UTC),
		"2013-08-25T02:00:00+02:00": time.Date(2013, 8, 25, 0, 0, 0, 0, time.UTC),
		"1377388800":                time.Date(2013, 8, 25, 0, 0, 0, 0, time.UTC),
	} {
		if got, err := parseTime(in, now); err != nil || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "yesterday", "-", "--1h", "-1y", "2013-13-01", "99999999999999", "-99999999h", "0000-01-01", "1969-12-31"} {
		if got, err := parseTime(in, now); err == nil {
			t.Errorf("parseTime(%q) = %s, want an error", in, got)
		}
	}
}
