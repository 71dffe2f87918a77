package stdlib

import (
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
)

func TestGranuleDate(t *testing.T) {
	utc := func(y int, m time.Month, d, hh, mm, ss int) time.Time {
		return time.Date(y, m, d, hh, mm, ss, 0, time.UTC)
	}
	cases := []struct {
		name string
		id   string
		want time.Time
		ok   bool
	}{
		{"YYYYMMDD", "HS3_HAMSR_20130825", utc(2013, 8, 25, 0, 0, 0), true},
		{"with time", "HS3_HAMSR_20130825T123456", utc(2013, 8, 25, 12, 34, 56), true},
		{"with time and extension", "HS3_HAMSR_20130825T000000.nc", utc(2013, 8, 25, 0, 0, 0), true},
		{"invalid time ignored", "X_20130825T256000", utc(2013, 8, 25, 0, 0, 0), true},
		{"time with too many digits ignored", "X_20130825T1234567", utc(2013, 8, 25, 0, 0, 0), true},
		{"lower-case t is not a time", "X_20130825t123456", utc(2013, 8, 25, 0, 0, 0), true},
		{"YYYYDDD", "MOD021KM.A2013237.1200.006", utc(2013, 8, 25, 0, 0, 0), true},
		{"YYYYDDD leap day 366", "X_2012366", utc(2012, 12, 31, 0, 0, 0), true},
		{"YYYYDDD 366 in common year", "X_2013366", time.Time{}, false},
		{"YYYYDDD day 000", "X_2013000", time.Time{}, false},
		{"8 digits win over an earlier 7", "A2013237_20140101", utc(2014, 1, 1, 0, 0, 0), true},
		{"first valid 8-digit run", "X_20131345_20130102", utc(2013, 1, 2, 0, 0, 0), true},
		{"8 digits inside a longer number do not count", "MOD021KM.A2013237.1200.006.2013238012345", utc(2013, 8, 25, 0, 0, 0), true},
		{"14-digit run is not a date", "X_20130825123456", time.Time{}, false},
		{"none", "granule-abc", time.Time{}, false},
		{"empty", "", time.Time{}, false},
		{"invalid month", "X_20131325", time.Time{}, false},
		{"invalid day", "X_20130431", time.Time{}, false},
		{"29 February in a leap year", "X_20120229", utc(2012, 2, 29, 0, 0, 0), true},
		{"29 February in a common year", "X_20130229", time.Time{}, false},
		{"counter, not a year", "X_00010203", time.Time{}, false},
		{"digits at the very start", "20130825_X", utc(2013, 8, 25, 0, 0, 0), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := GranuleDate(tc.id)
			if ok != tc.ok || !got.Equal(tc.want) {
				t.Errorf("GranuleDate(%q) = %v, %v; want %v, %v", tc.id, got, ok, tc.want, tc.ok)
			}
			if ok && got.Location() != time.UTC {
				t.Errorf("GranuleDate(%q) is in %v, want UTC", tc.id, got.Location())
			}
		})
	}
}

func TestGranuleValue(t *testing.T) {
	g := Granule{
		ID:         "HS3_HAMSR_20130805T000000",
		Collection: "hs3_hamsr",
		Version:    "1",
		Time:       time.Date(2013, 8, 5, 0, 0, 0, 0, time.UTC),
		Files: []File{
			{Name: "a.nc", Type: "data", Size: 1234, Checksum: "abc", ChecksumType: "md5"},
		},
	}
	v := g.Value()
	if !v.Type().Equals(GranuleType()) {
		t.Fatalf("Value type = %#v, want GranuleType", v.Type())
	}
	if !v.IsWhollyKnown() {
		t.Fatal("Value is not wholly known")
	}
	want := map[string]string{
		"id": g.ID, "collection": "hs3_hamsr", "version": "1",
		"year": "2013", "month": "08", "day": "05", "doy": "217", "date": "2013-08-05",
	}
	for attr, w := range want {
		if got := v.GetAttr(attr).AsString(); got != w {
			t.Errorf("granule.%s = %q, want %q", attr, got, w)
		}
	}
	f := v.GetAttr("files").Index(cty.NumberIntVal(0))
	if got := f.GetAttr("size"); !got.RawEquals(cty.NumberIntVal(1234)) {
		t.Errorf("files[0].size = %#v", got)
	}
	if got := f.GetAttr("type").AsString(); got != "data" {
		t.Errorf("files[0].type = %q", got)
	}

	// No date, no files: date parts are empty strings, files an empty list of the right type.
	empty := Granule{ID: "nodate"}.Value()
	if !empty.Type().Equals(GranuleType()) {
		t.Fatalf("empty Value type = %#v", empty.Type())
	}
	for _, attr := range []string{"year", "month", "day", "doy", "date"} {
		if got := empty.GetAttr(attr).AsString(); got != "" {
			t.Errorf("granule.%s = %q for a granule without a date", attr, got)
		}
	}
	if n := empty.GetAttr("files").LengthInt(); n != 0 {
		t.Errorf("files has %d elements", n)
	}
}

func TestAttributeNames(t *testing.T) {
	g := GranuleAttributes()
	want := []string{"collection", "date", "day", "doy", "files", "id", "month", "version", "year"}
	if len(g) != len(want) {
		t.Fatalf("GranuleAttributes() = %v, want %v", g, want)
	}
	for i := range want {
		if g[i] != want[i] {
			t.Fatalf("GranuleAttributes() = %v, want %v", g, want)
		}
	}
	f := FileAttributes()
	wantF := []string{"checksum", "checksum_type", "name", "size", "type"}
	if len(f) != len(wantF) {
		t.Fatalf("FileAttributes() = %v, want %v", f, wantF)
	}
	for i := range wantF {
		if f[i] != wantF[i] {
			t.Fatalf("FileAttributes() = %v, want %v", f, wantF)
		}
	}
}
