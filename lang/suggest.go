package lang

import (
	"fmt"
	"sort"

	"github.com/agext/levenshtein"
)

// suggest returns the option closest to given when it is close enough to be a
// plausible typo (the same threshold hcl uses for its own suggestions), or "".
func suggest(given string, options []string) string {
	best, bestDist := "", 3
	for _, o := range options {
		// Short names are within two edits of too much; demand closeness
		// in proportion to length so "foo" does not suggest "doy".
		if d := levenshtein.Distance(given, o, nil); d < bestDist && d <= max(1, len(given)/2) {
			best, bestDist = o, d
		}
	}
	return best
}

// didYouMean formats a suggestion as the sentence appended to a Detail, or ""
// when nothing is close.
func didYouMean(given string, options []string) string {
	if s := suggest(given, options); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

// listNames renders known names for a Detail, so users see what they can
// write when nothing is close to what they wrote.
func listNames(names []string) string {
	if len(names) == 0 {
		return "none are declared"
	}
	s := append([]string(nil), names...)
	sort.Strings(s)
	const max = 8
	out := ""
	for i, n := range s {
		if i == max {
			return out + fmt.Sprintf(", and %d more", len(s)-max)
		}
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}
