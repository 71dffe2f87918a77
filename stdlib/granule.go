package stdlib

import (
	"fmt"
	"sort"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// GranuleType is the cty object type of `granule`: id, collection, version, year, month, day,
// doy (all strings; year 4 digits, month/day 2 digits zero-padded, doy 3 digits), date
// (string "YYYY-MM-DD"), files (list of FileType).
//
// The date parts are strings, not numbers, because they are used to build
// paths and names where the zero padding matters ("2013/08/05", not "2013/8/5").
func GranuleType() cty.Type {
	return cty.Object(map[string]cty.Type{
		"id":         cty.String,
		"collection": cty.String,
		"version":    cty.String,
		"year":       cty.String,
		"month":      cty.String,
		"day":        cty.String,
		"doy":        cty.String,
		"date":       cty.String,
		"files":      cty.List(FileType()),
	})
}

// FileType is the cty object type of `file` (and each of granule.files): name (string),
// type (string: the label of the collection's file block it matched, e.g. "data"),
// size (number, bytes), checksum (string), checksum_type (string).
func FileType() cty.Type {
	return cty.Object(map[string]cty.Type{
		"name":          cty.String,
		"type":          cty.String,
		"size":          cty.Number,
		"checksum":      cty.String,
		"checksum_type": cty.String,
	})
}

// GranuleAttributes returns the sorted attribute names of GranuleType, for
// "did you mean" suggestions and documentation.
func GranuleAttributes() []string { return attributeNames(GranuleType()) }

// FileAttributes returns the sorted attribute names of FileType.
func FileAttributes() []string { return attributeNames(FileType()) }

func attributeNames(ty cty.Type) []string {
	names := make([]string, 0, len(ty.AttributeTypes()))
	for name := range ty.AttributeTypes() {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Granule is one granule as the run time knows it: what `granule` holds when a
// run-time expression is evaluated.
type Granule struct {
	ID, Collection, Version string
	Time                    time.Time // zero when the id carries no date
	Files                   []File
}

// File is one file of a granule: what `file` holds, and each of granule.files.
type File struct {
	Name, Type, Checksum, ChecksumType string
	Size                               int64
}

// Value returns the granule as a known object of GranuleType. The date parts
// are "" when Time is zero. They are taken from Time as given, without
// converting to UTC, so a caller that built Time in another zone keeps its day;
// GranuleDate always returns UTC.
func (g Granule) Value() cty.Value {
	var year, month, dayOfMonth, doy, date string
	if !g.Time.IsZero() {
		t := g.Time
		year = fmt.Sprintf("%04d", t.Year())
		month = fmt.Sprintf("%02d", int(t.Month()))
		dayOfMonth = fmt.Sprintf("%02d", t.Day())
		doy = fmt.Sprintf("%03d", t.YearDay())
		date = year + "-" + month + "-" + dayOfMonth
	}
	files := cty.ListValEmpty(FileType())
	if len(g.Files) > 0 {
		vals := make([]cty.Value, len(g.Files))
		for i, f := range g.Files {
			vals[i] = f.Value()
		}
		files = cty.ListVal(vals)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"id":         cty.StringVal(g.ID),
		"collection": cty.StringVal(g.Collection),
		"version":    cty.StringVal(g.Version),
		"year":       cty.StringVal(year),
		"month":      cty.StringVal(month),
		"day":        cty.StringVal(dayOfMonth),
		"doy":        cty.StringVal(doy),
		"date":       cty.StringVal(date),
		"files":      files,
	})
}

// Value returns the file as a known object of FileType.
func (f File) Value() cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"name":          cty.StringVal(f.Name),
		"type":          cty.StringVal(f.Type),
		"size":          cty.NumberIntVal(f.Size),
		"checksum":      cty.StringVal(f.Checksum),
		"checksum_type": cty.StringVal(f.ChecksumType),
	})
}

// Years outside this range are taken to be counters or version numbers, not
// dates: "00010203" in an id is far more likely a sequence number than
// 3 February of year 1. The range covers instrument records back to the 1800s.
const (
	minGranuleYear = 1800
	maxGranuleYear = 2199
)

// GranuleDate finds the granule's date in its id: the first run of 8 digits that is a valid
// YYYYMMDD date, optionally followed by T and 6 digits HHMMSS (also valid), or a 7-digit
// YYYYDDD (year + day-of-year) when no 8-digit date is present. Returns false if none.
//
// A "run" is a maximal sequence of digits: the 8 digits must not be part of a
// longer number. Otherwise a production timestamp such as "2013238012345" in a
// MODIS id would yield a nonsense date from some window inside it. A time that
// is not valid (T250000) is ignored and the date is kept at midnight. The
// result is in UTC, as archive file names are.
func GranuleDate(id string) (time.Time, bool) {
	var byDOY time.Time
	haveDOY := false
	for i := 0; i < len(id); {
		if !isDigit(id[i]) {
			i++
			continue
		}
		j := i
		for j < len(id) && isDigit(id[j]) {
			j++
		}
		switch j - i {
		case 8:
			if t, ok := parseYMD(id[i:j]); ok {
				if hms, ok := timeAfter(id, j); ok {
					t = t.Add(hms)
				}
				return t, true
			}
		case 7:
			if !haveDOY {
				byDOY, haveDOY = parseYDOY(id[i:j])
			}
		}
		i = j
	}
	return byDOY, haveDOY
}

// atoiDigits converts a string known to hold only ASCII digits.
func atoiDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func parseYMD(s string) (time.Time, bool) {
	y, m, d := atoiDigits(s[0:4]), atoiDigits(s[4:6]), atoiDigits(s[6:8])
	if y < minGranuleYear || y > maxGranuleYear || m < 1 || m > 12 || d < 1 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	// time.Date normalises 31 April to 1 May; a changed month means the day was out of range.
	if t.Month() != time.Month(m) {
		return time.Time{}, false
	}
	return t, true
}

func parseYDOY(s string) (time.Time, bool) {
	y, doy := atoiDigits(s[0:4]), atoiDigits(s[4:7])
	if y < minGranuleYear || y > maxGranuleYear || doy < 1 {
		return time.Time{}, false
	}
	t := time.Date(y, time.January, doy, 0, 0, 0, 0, time.UTC)
	if t.Year() != y { // day 366 of a common year rolls into the next year
		return time.Time{}, false
	}
	return t, true
}

// timeAfter reads "THHMMSS" at id[at:], where the six digits are a whole run
// and a valid time of day.
func timeAfter(id string, at int) (time.Duration, bool) {
	if at+7 > len(id) || id[at] != 'T' {
		return 0, false
	}
	hms := id[at+1 : at+7]
	for i := 0; i < len(hms); i++ {
		if !isDigit(hms[i]) {
			return 0, false
		}
	}
	if at+7 < len(id) && isDigit(id[at+7]) {
		return 0, false
	}
	h, m, s := atoiDigits(hms[0:2]), atoiDigits(hms[2:4]), atoiDigits(hms[4:6])
	if h > 23 || m > 59 || s > 59 {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second, true
}
