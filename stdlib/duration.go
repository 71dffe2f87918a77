package stdlib

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

const (
	day  = 24 * time.Hour
	week = 7 * day
)

// durationHint is the part of every duration error that says how to write one,
// so that each specific complaint still ends with a correct example.
const durationHint = `write a whole number followed by a unit, such as "15m", "2h" or "1h30m" (units: s, m, h, d, w)`

// durationUnit maps a unit symbol to its length and its rank (largest first).
// A switch rather than a package-level table keeps the package free of
// mutable globals.
func durationUnit(sym string) (length time.Duration, rank int, ok bool) {
	switch sym {
	case "w":
		return week, 0, true
	case "d":
		return day, 1, true
	case "h":
		return time.Hour, 2, true
	case "m":
		return time.Minute, 3, true
	case "s":
		return time.Second, 4, true
	}
	return 0, 0, false
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }

// ParseDuration parses durations as users write them: one or more <integer><unit> groups,
// units s, m, h, d (24h), w (7d), e.g. "90s", "15m", "1h30m", "30d". No fractions, no
// negative values, no bare numbers; "0s" is allowed. Errors are like:
//
//	"15 minutes" is not a valid duration: write a whole number followed by a unit, such as "15m", "2h" or "1h30m" (units: s, m, h, d, w)
//
// Groups must go from the largest unit to the smallest, each unit at most once
// ("1h30m", not "30m1h" or "1h1h"), so that a duration reads one way only.
func ParseDuration(s string) (time.Duration, error) {
	// bad says what is wrong and then how to write it; fix defaults to the
	// general advice when there is nothing more specific to say.
	bad := func(why, fix string) error {
		if fix == "" {
			fix = durationHint
		}
		if why == "" {
			return fmt.Errorf("%q is not a valid duration: %s", s, fix)
		}
		return fmt.Errorf("%q is not a valid duration: %s; %s", s, why, fix)
	}
	const units = "(units: s, m, h, d, w)"
	if s == "" {
		return 0, bad("it is empty", "")
	}
	if strings.HasPrefix(s, "-") {
		return 0, bad("durations cannot be negative", "")
	}

	var total time.Duration
	lastRank, lastSym := -1, ""
	for i := 0; i < len(s); {
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		digits := s[start:i]
		if digits == "" {
			return 0, bad("", "")
		}
		if i == len(s) {
			if start == 0 {
				return 0, bad("a number needs a unit", fmt.Sprintf("write %q for seconds or %q for minutes %s", digits+"s", digits+"m", units))
			}
			return 0, bad(fmt.Sprintf("the final %q has no unit", digits), fmt.Sprintf("add one, such as %q %s", s+"m", units))
		}
		if s[i] == '.' || s[i] == ',' {
			return 0, bad("fractions are not allowed", "use a smaller unit instead, such as \"1h30m\" rather than \"1.5h\" "+units)
		}
		ustart := i
		for i < len(s) && isLetter(s[i]) {
			i++
		}
		sym := s[ustart:i]
		if sym == "" {
			return 0, bad("", "")
		}
		length, rank, ok := durationUnit(sym)
		if !ok {
			if _, _, lowerOK := durationUnit(strings.ToLower(sym)); lowerOK {
				return 0, bad("units are lower-case", fmt.Sprintf("write %q rather than %q %s", strings.ToLower(sym), sym, units))
			}
			return 0, bad(fmt.Sprintf("%q is not a unit", sym), "")
		}
		if rank == lastRank {
			return 0, bad(fmt.Sprintf("the unit %q appears twice", sym), "add the amounts together, such as \"1h30m\" rather than \"1h20m10m\" "+units)
		}
		if rank < lastRank {
			return 0, bad(fmt.Sprintf("%q comes after %q", sym, lastSym), "write units from largest to smallest, such as \"1h30m\" rather than \"30m1h\" "+units)
		}
		lastRank, lastSym = rank, sym

		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || n > int64(math.MaxInt64/length) || total > time.Duration(math.MaxInt64)-time.Duration(n)*length {
			return 0, fmt.Errorf("%q is not a valid duration: it is too long; the longest supported duration is %d days", s, int64(math.MaxInt64/int64(day)))
		}
		total += time.Duration(n) * length
	}
	return total, nil
}

// FormatDuration is the inverse for display: largest-unit compact form, e.g.
// 90*time.Minute -> "1h30m", 48h -> "2d", 0 -> "0s".
//
// Weeks are used only when the duration is a whole number of weeks (14 days ->
// "2w"), because "30d" reads better than "4w2d" for the retention periods and
// cache lifetimes people actually write. A part below one second, which
// ParseDuration never produces, is shown as a decimal fraction of the seconds
// ("1.5s", or Go's "500ms" alone) rather than dropped, so that the display
// never hides a difference.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	// Work on the magnitude as uint64 so that math.MinInt64 has a positive twin.
	mag := uint64(d)
	if d < 0 {
		b.WriteByte('-')
		mag = uint64(-(d + 1)) + 1
	}
	if mag%uint64(week) == 0 {
		fmt.Fprintf(&b, "%dw", mag/uint64(week))
		return b.String()
	}
	signLen := b.Len()
	frac := mag % uint64(time.Second)
	mag -= frac
	for _, u := range [...]struct {
		sym    string
		length time.Duration
	}{{"d", day}, {"h", time.Hour}, {"m", time.Minute}} {
		if n := mag / uint64(u.length); n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.sym)
			mag -= n * uint64(u.length)
		}
	}
	secs := mag / uint64(time.Second)
	switch {
	case frac == 0 && secs > 0:
		fmt.Fprintf(&b, "%ds", secs)
	case frac > 0 && secs == 0 && b.Len() == signLen:
		b.WriteString(time.Duration(frac).String()) // "500ms", as Go writes it
	case frac > 0:
		fmt.Fprintf(&b, "%d.%ss", secs, strings.TrimRight(fmt.Sprintf("%09d", frac), "0"))
	}
	return b.String()
}
