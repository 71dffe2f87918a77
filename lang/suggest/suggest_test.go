package suggest

import "testing"

func TestName(t *testing.T) {
	options := []string{"year", "month", "day", "doy", "id", "sync_granule", "protected"}
	for given, want := range map[string]string{
		"yeer":          "year",
		"YEAR":          "year",
		"sync_granules": "sync_granule",
		"protectd":      "protected",
		"foo":           "",
		"xyzzy":         "",
		"":              "",
		"mnth":          "month",
	} {
		if got := Name(given, options); got != want {
			t.Errorf("Name(%q) = %q, want %q", given, got, want)
		}
	}
	if got := Name("htp", []string{"ftp", "http", "https"}); got != "http" {
		t.Errorf("Name(htp) = %q, want http (the longer shared beginning wins a tie)", got)
	}
	if got := DidYouMean("yeer", options); got != ` Did you mean "year"?` {
		t.Errorf("DidYouMean = %q", got)
	}
}
