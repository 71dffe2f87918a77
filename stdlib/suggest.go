package stdlib

import "strings"

// suggest returns the name in names closest to given, or "" if none is close
// enough to be a plausible typo. It is used for "did you mean" hints; the
// threshold follows HCL's own (an edit distance below 3), and a difference in
// case alone always counts.
func suggest(given string, names []string) string {
	best, bestDist := "", 3
	for _, name := range names {
		if strings.EqualFold(name, given) {
			return name
		}
		if d := editDistance(given, name); d < bestDist {
			best, bestDist = name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// didYouMean formats a suggestion as a sentence to append to a detail, or "".
func didYouMean(given string, names []string) string {
	if s := suggest(given, names); s != "" {
		return " Did you mean \"" + s + "\"?"
	}
	return ""
}
