package distribution

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzCleanPath: whatever the path, cleanPath never panics, and what it
// accepts has no segment that could climb or hide a boundary, and reads
// the same once escaped again.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/public/x.nc", "/public/%2e%2e/x", "/a/%252e/b", "/a%2fb", "/a/./b", "/a//b", "/ü/%C3%BC", "/a/%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		segs, err := cleanPath(p)
		if err != nil {
			return
		}
		var esc []string
		for _, s := range segs {
			if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/\\\x00") {
				t.Fatalf("cleanPath(%q) kept segment %q", p, s)
			}
			esc = append(esc, url.PathEscape(s))
		}
		again, err := cleanPath("/" + strings.Join(esc, "/"))
		if err != nil || strings.Join(again, "/") != strings.Join(segs, "/") {
			t.Fatalf("cleanPath(%q) = %q, but escaped again it is %q (%v)", p, segs, again, err)
		}
	})
}

// FuzzVerifyLink: no query verifies unless it is the one signed, and none
// makes verification panic.
func FuzzVerifyLink(f *testing.F) {
	s := newSigner([]byte(strings.Repeat("k", 32)))
	now := time.Unix(1_377_000_000, 0)
	good := s.linkQuery("protected/a.nc", "alice", now.Add(time.Hour))
	f.Add("protected/a.nc", good)
	f.Add("protected/b.nc", good)
	f.Add("protected/a.nc", "A-userid=alice&A-expires=99999999999&A-signature=AAAA")
	f.Add("p", "A-userid=&A-expires=-1&A-signature=")
	f.Fuzz(func(t *testing.T, path, query string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		user, err := s.verifyLink(path, q, now)
		if err != nil {
			return
		}
		if path != "protected/a.nc" || user != "alice" || q.Get(paramExpires) != url.Values(mustParse(good)).Get(paramExpires) {
			t.Fatalf("verifyLink(%q, %q) accepted for %q", path, query, user)
		}
	})
}

func mustParse(q string) url.Values {
	v, _ := url.ParseQuery(q)
	return v
}
