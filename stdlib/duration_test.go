package stdlib

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	good := []struct {
		in   string
		want time.Duration
	}{
		{"0s", 0},
		{"0h", 0},
		{"90s", 90 * time.Second},
		{"15m", 15 * time.Minute},
		{"1h30m", 90 * time.Minute},
		{"2h", 2 * time.Hour},
		{"30d", 30 * day},
		{"2w", 14 * day},
		{"1w2d3h4m5s", week + 2*day + 3*time.Hour + 4*time.Minute + 5*time.Second},
		{"007m", 7 * time.Minute},
		{"106751d", 106751 * day},
	}
	for _, tc := range good {
		got, err := ParseDuration(tc.in)
		if err != nil {
			t.Errorf("ParseDuration(%q): unexpected error: %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}

	bad := []struct {
		in   string
		want string // a part of the message that says what is wrong
	}{
		{"15 minutes", `"15 minutes" is not a valid duration: write a whole number followed by a unit, such as "15m", "2h" or "1h30m" (units: s, m, h, d, w)`},
		{"", "empty"},
		{"90", `write "90s" for seconds or "90m" for minutes`},
		{"1h30", `the final "30" has no unit; add one, such as "1h30m"`},
		{"-5m", "cannot be negative"},
		{"1.5h", "fractions are not allowed"},
		{"15M", `write "m" rather than "M"`},
		{"5ms", `"ms" is not a unit`},
		{"2y", `"y" is not a unit`},
		{"15min", `"min" is not a unit`},
		{"30m1h", `"h" comes after "m"; write units from largest to smallest`},
		{"1h1h", "appears twice"},
		{"h", "write a whole number"},
		{" 5m", "write a whole number"},
		{"5m ", "write a whole number"},
		{"1h 30m", "write a whole number"},
		{"99999999999999999999s", "too long"},
		{"15251w", "too long"},
		{"106751d23h47m17s", "too long"},
	}
	for _, tc := range bad {
		_, err := ParseDuration(tc.in)
		if err == nil {
			t.Errorf("ParseDuration(%q): expected an error", tc.in)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.want) {
			t.Errorf("ParseDuration(%q) error = %q, want it to contain %q", tc.in, msg, tc.want)
		}
		// Every error must show the input and say how to write a duration.
		if !strings.HasPrefix(msg, fmt.Sprintf("%q is not a valid duration: ", tc.in)) {
			t.Errorf("ParseDuration(%q) error %q does not start by quoting the input", tc.in, msg)
		}
		if !strings.Contains(msg, "(units: s, m, h, d, w)") && !strings.Contains(msg, "too long") {
			t.Errorf("ParseDuration(%q) error %q does not list the units", tc.in, msg)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	cases := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{90 * time.Second, "1m30s"},
		{90 * time.Minute, "1h30m"},
		{48 * time.Hour, "2d"},
		{7 * day, "1w"},
		{14 * day, "2w"},
		{30 * day, "30d"},
		{day + time.Second, "1d1s"},
		{1500 * time.Millisecond, "1.5s"},
		{500 * time.Millisecond, "500ms"},
		{-500 * time.Millisecond, "-500ms"},
		{time.Hour + time.Millisecond, "1h0.001s"},
		{-90 * time.Minute, "-1h30m"},
		{math.MinInt64, "-106751d23h47m16.854775808s"},
	}
	for _, tc := range cases {
		if got := FormatDuration(tc.in); got != tc.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFormatDurationRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{
		0, time.Second, 59 * time.Second, time.Minute, 61 * time.Minute, 25 * time.Hour,
		6 * day, 7 * day, 8 * day, 30 * day, 365 * day, 52 * week,
		(time.Duration(math.MaxInt64) / time.Second) * time.Second,
	} {
		s := FormatDuration(d)
		got, err := ParseDuration(s)
		if err != nil {
			t.Errorf("ParseDuration(FormatDuration(%v) = %q): %v", d, s, err)
			continue
		}
		if got != d {
			t.Errorf("round trip of %v through %q gave %v", d, s, got)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, seed := range []string{"0s", "90s", "15m", "1h30m", "30d", "2w", "1w2d3h4m5s", "15 minutes", "1.5h", "-5m", "90", "", "30m1h", "99999999999999999999s", "106751d23h47m16s"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if !strings.Contains(err.Error(), "is not a valid duration") {
				t.Fatalf("ParseDuration(%q): error without the standard prefix: %v", s, err)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v, a negative duration", s, d)
		}
		f := FormatDuration(d)
		back, err := ParseDuration(f)
		if err != nil {
			t.Fatalf("ParseDuration(%q) = %v, but its display %q does not parse: %v", s, d, f, err)
		}
		if back != d {
			t.Fatalf("ParseDuration(%q) = %v; FormatDuration gives %q, which parses to %v", s, d, f, back)
		}
	})
}
