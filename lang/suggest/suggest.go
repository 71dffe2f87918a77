// Package suggest owns "did you mean" hints: which known name a mistyped one
// was probably meant to be. The language checker, the standard library and
// the CLI all use it, so a typo gets the same hint wherever it is made.
package suggest

import (
	"fmt"
	"strings"

	"github.com/agext/levenshtein"
)

// Name returns the option closest to given when it is close enough to be a
// plausible typo, or "". A difference in case alone always counts. Otherwise
// the edit distance must be below 3 (hcl's own threshold) and, so that short
// names do not suggest unrelated ones ("foo" is two edits from "doy", "x" one
// from "a"), at most half the length of what was given.
func Name(given string, options []string) string {
	best, bestDist := "", 3
	for _, o := range options {
		if strings.EqualFold(given, o) {
			return o
		}
		d := levenshtein.Distance(given, o, nil)
		if d > len(given)/2 {
			continue
		}
		// On a tie, the option that keeps more of the beginning wins:
		// "htp" is one edit from both "ftp" and "http", and meant "http".
		if d < bestDist || (d == bestDist && best != "" && commonPrefix(given, o) > commonPrefix(given, best)) {
			best, bestDist = o, d
		}
	}
	return best
}

// DidYouMean formats the suggestion as a sentence to append to a diagnostic's
// detail (with a leading space), or "" when nothing is close.
func DidYouMean(given string, options []string) string {
	if s := Name(given, options); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
