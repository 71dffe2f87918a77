package lang

import (
	"fmt"
	"sort"

	"github.com/cumulus-toolchain/cumulus/lang/suggest"
)

// didYouMean formats a suggestion as the sentence appended to a Detail, or ""
// when nothing is close.
func didYouMean(given string, options []string) string { return suggest.DidYouMean(given, options) }

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
