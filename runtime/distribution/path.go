package distribution

import (
	"errors"
	"net/url"
	"strings"
)

// Limits on what a request may name. S3 keys are at most 1024 bytes; the
// target limit leaves room for a prefix and a link's query.
const (
	maxKeyBytes    = 1024
	maxTargetBytes = 4096
)

var (
	errBadPath  = errors.New("ambiguous or malformed path")
	errLongPath = errors.New("path too long")
)

// cleanPath decodes an escaped request path into its segments, refusing
// whatever could make two spellings name one object or climb out of a
// prefix. It never "fixes" a path (as path.Clean would turn /a/../b into
// /b): a path that needs fixing was written to probe, and is refused.
func cleanPath(escaped string) ([]string, error) {
	if len(escaped) > maxTargetBytes {
		return nil, errLongPath
	}
	if !strings.HasPrefix(escaped, "/") {
		return nil, errBadPath
	}
	raw := strings.Split(escaped[1:], "/")
	segs := make([]string, 0, len(raw))
	n := 0
	for _, r := range raw {
		// An encoded slash or backslash would make a segment boundary
		// that the decoded path does not show.
		if hasEncoded(r, "2f") || hasEncoded(r, "5c") {
			return nil, errBadPath
		}
		s, err := url.PathUnescape(r)
		if err != nil {
			return nil, errBadPath
		}
		if s == "" || s == "." || s == ".." || !plainSegment(s) {
			return nil, errBadPath
		}
		n += len(s) + 1
		segs = append(segs, s)
	}
	if n > maxKeyBytes+256 {
		return nil, errLongPath
	}
	return segs, nil
}

// hasEncoded says whether r holds %XY for the lowercase hex pair code, in
// any case.
func hasEncoded(r, code string) bool {
	for i := strings.IndexByte(r, '%'); i >= 0 && i+2 < len(r); {
		if strings.EqualFold(r[i+1:i+3], code) {
			return true
		}
		j := strings.IndexByte(r[i+1:], '%')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// plainSegment refuses, in a decoded segment, what no archive key holds but
// attacks do: control characters, backslashes, and a percent sign that
// starts another escape (double encoding, %252e decoding to %2e).
func plainSegment(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x20 || c == 0x7f || c == '\\':
			return false
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// escapeSegment escapes one decoded segment for a URL path.
func escapeSegment(s string) string { return url.PathEscape(s) }
