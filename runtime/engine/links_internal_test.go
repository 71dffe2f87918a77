package engine

import "testing"

// The dashboard links to the deployment's other services (the CMR
// stand-in in a simulation); only http(s) URLs, escaped.
func TestDashboardLinks(t *testing.T) {
	got := linksHTML([]Link{
		{Name: "CMR search", URL: "http://127.0.0.1:9/search/granules.umm_json?a=1&b=2"},
		{Name: "bad", URL: "javascript:alert(1)"},
		{Name: "", URL: "http://x"},
	})
	want := "\n    <a href=\"http://127.0.0.1:9/search/granules.umm_json?a=1&amp;b=2\" target=\"_blank\" rel=\"noopener\" class=\"external\">CMR search ↗</a>"
	if got != want {
		t.Errorf("linksHTML = %q, want %q", got, want)
	}
}
