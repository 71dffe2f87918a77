package simulator

import (
	"strings"
	"testing"
)

func TestParseBackfill(t *testing.T) {
	good := `[{"granule": {"id": "G1", "collection": "c", "files": [{"name": "a.nc", "bucket": "s", "key": "c/G1/a.nc"}]},
	  "attributes": {"id": "G1"}, "staged_keys": ["c/G1/a.nc"]}]`
	b, err := ParseBackfill("p", []byte(good))
	if err != nil || b.Pipeline != "p" || len(b.Items) != 1 || b.Items[0].Granule.Files[0].Key != "c/G1/a.nc" {
		t.Fatalf("ParseBackfill = %+v, %v", b, err)
	}
	for _, tc := range []struct{ in, want string }{
		{`{}`, "not a JSON array"},
		{`[{}]`, `item 1 has no "granule"`},
		{`[{"granule": {"collection": "c"}}]`, `item 1: the granule has no "id"`},
		{`[{"granule": {"id": "G1"}}]`, `item 1 (granule G1) has no "collection"`},
		{`[{"granule": {"id": "G1", "collection": "c"}}]`, "lists no files"},
		{`[{"granule": {"id": "G1", "collection": "c", "files": [{"name": "a"}]}}]`, "every file needs a name, a bucket and a key"},
		{`[{"granule": {"id": "G1", "collection": "c", "files": [{"name": "a", "bucket": "b", "key": "k"}]}},
		   {"granule": {"id": "G1", "collection": "c", "files": [{"name": "a", "bucket": "b", "key": "k"}]}}]`, "items 1 and 2 are both granule G1"},
		{`[{"granule": {"id": "G1", "collection": "c", "files": [{"name": "a", "bucket": "b", "key": "k"}]}, "extra": 1}]`, "unknown field"},
	} {
		if _, err := ParseBackfill("p", []byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseBackfill(%s) = %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
}

// FuzzParseBackfill: no list, however broken, panics; a list it accepts
// has only granules with an id, a collection and located files.
func FuzzParseBackfill(f *testing.F) {
	f.Add([]byte(`[{"granule": {"id": "G1", "collection": "c", "files": [{"name": "a", "bucket": "b", "key": "k"}]}}]`))
	f.Add([]byte(`[{"granule": null}]`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBackfill("p", data)
		if err != nil {
			return
		}
		for _, it := range b.Items {
			if it.Granule.ID == "" || it.Granule.Collection == "" || len(it.Granule.Files) == 0 {
				t.Fatalf("accepted %+v", it)
			}
		}
	})
}
