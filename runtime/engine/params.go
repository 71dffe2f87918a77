package engine

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Page sizes of the listings (the simulator store's own bounds).
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// badRequest is a query problem: the API answers 400 with its text.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return &badRequest{fmt.Sprintf(format, args...)} }

// params reads a request's query, refusing parameters the endpoint does not
// know: a typo ("stauts=failed") would otherwise silently list everything.
type params struct {
	v url.Values
}

func newParams(r *http.Request, known ...string) (params, error) {
	// r.URL.Query drops what it cannot parse; a mangled query is refused
	// rather than read as fewer filters.
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return params{}, badf("the query string is malformed: %v", err)
	}
	for k, vs := range q {
		if !slices.Contains(known, k) {
			if len(known) == 0 {
				return params{}, badf("unknown query parameter %q: this endpoint takes none", k)
			}
			return params{}, badf("unknown query parameter %q; this endpoint takes %s", k, strings.Join(known, ", "))
		}
		if len(vs) > 1 {
			return params{}, badf("query parameter %q is given %d times", k, len(vs))
		}
	}
	return params{v: q}, nil
}

func (p params) str(name string) string { return p.v.Get(name) }

// oneOf reads an enumerated parameter ("" when absent).
func (p params) oneOf(name string, allowed ...string) (string, error) {
	v := p.v.Get(name)
	if v == "" || slices.Contains(allowed, v) {
		return v, nil
	}
	return "", badf("%s %q is none of %s", name, v, strings.Join(allowed, ", "))
}

func (p params) limit() (int, error) {
	v := p.v.Get("limit")
	if v == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, badf("limit %q is not a whole number from 1 to %d", v, MaxLimit)
	}
	return n, nil
}

func (p params) positive(name string) (int, error) {
	v := p.v.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, badf("%s %q is not a whole number from 1", name, v)
	}
	return n, nil
}

func (p params) time(name string, now time.Time) (time.Time, error) {
	v := p.v.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := parseTime(v, now)
	if err != nil {
		return time.Time{}, badf("%s: %v", name, err)
	}
	return t, nil
}

// parseTime reads a time filter: RFC 3339 ("2013-08-25T00:00:00Z"), a day
// ("2013-08-25", midnight UTC), Unix seconds ("1377388800"), "now", or a
// time relative to now ("-90m", "-24h": what a dashboard asks for). Years
// run from 1970, where run ids start, to 9999, where RFC 3339 ends.
func parseTime(v string, now time.Time) (time.Time, error) {
	t, err := parseAnyTime(v, now)
	if err != nil {
		return time.Time{}, err
	}
	if y := t.Year(); y < 1970 || y > 9999 {
		return time.Time{}, fmt.Errorf("%q is out of range: years run from 1970 to 9999", v)
	}
	return t, nil
}

func parseAnyTime(v string, now time.Time) (time.Time, error) {
	switch {
	case v == "now":
		return now.UTC(), nil
	case strings.HasPrefix(v, "-"):
		d, err := time.ParseDuration(v[1:])
		if err != nil || d < 0 {
			return time.Time{}, fmt.Errorf("%q is not a time before now such as -90m or -24h", v)
		}
		return now.Add(-d).UTC(), nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > 253402300799 { // up to 9999-12-31
			return time.Time{}, fmt.Errorf("%q is out of range for Unix seconds", v)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2013-08-25T00:00:00Z), a day (2013-08-25), Unix seconds, now, or -DURATION (-90m)", v)
	}
	return t.UTC(), nil
}

// Cursor tokens wrap a store's cursor with the listing and the filters it
// was issued for, so a client cannot carry a cursor to another query (where
// the store would resume at a meaningless place) and stores can change
// their cursors without clients noticing.
type cursorToken struct {
	V      int    `json:"v"`
	Kind   string `json:"k"`
	Filter string `json:"f"`
	Cursor string `json:"c"`
}

const maxCursorLen = 2048

func filterHash(parts ...string) string {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

func encodeCursor(kind, filter, cursor string) string {
	if cursor == "" {
		return ""
	}
	raw, _ := json.Marshal(cursorToken{V: 1, Kind: kind, Filter: filter, Cursor: cursor})
	return base64.RawURLEncoding.EncodeToString(raw)
}

func decodeCursor(token, kind, filter string) (string, error) {
	if token == "" {
		return "", nil
	}
	if len(token) > maxCursorLen {
		return "", badf("cursor is not one this API returned")
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", badf("cursor is not one this API returned")
	}
	var c cursorToken
	if err := json.Unmarshal(raw, &c); err != nil || c.V != 1 || c.Cursor == "" {
		return "", badf("cursor is not one this API returned")
	}
	if c.Kind != kind {
		return "", badf("cursor belongs to the %s listing, not %s", c.Kind, kind)
	}
	if c.Filter != filter {
		return "", badf("cursor was issued for other filters: repeat the filters of the page it came from")
	}
	return c.Cursor, nil
}

// niceIntervals are the buckets a throughput chart uses.
var niceIntervals = []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second,
	15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute,
	15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

// niceInterval is the smallest nice interval that cuts span into at most n
// buckets.
func niceInterval(span time.Duration, n int) time.Duration {
	for _, d := range niceIntervals {
		if span/d <= time.Duration(n) {
			return d
		}
	}
	return (span/time.Duration(n)/(24*time.Hour) + 1) * 24 * time.Hour
}
