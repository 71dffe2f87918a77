package cmrlocal

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmbeddedSchemaIsNASAs: the embedded copy is byte for byte the
// reference copy, when the reference data is there.
func TestEmbeddedSchemaIsNASAs(t *testing.T) {
	ref, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "umm-g", "umm-g-json-schema-v1.6.6.json"))
	if os.IsNotExist(err) {
		t.Skip("../shared/umm-g is not there: the embedded schema is not compared")
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ref, schemaJSON) {
		t.Error("schema/umm-g-json-schema-v1.6.6.json differs from shared/umm-g's")
	}
}

const minimal = `{"GranuleUR":"G1","ProviderDates":[{"Date":"2024-05-01T00:00:00.000Z","Type":"Insert"}],
"CollectionReference":{"ShortName":"c","Version":"1"},
"MetadataSpecification":{"URL":"https://cdn.earthdata.nasa.gov/umm/granule/v1.6.6","Name":"UMM-G","Version":"1.6.6"}}`

func TestIngestLifecycle(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(t.Context(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	do := func(method, path, ctype, token, body string) (int, string) {
		req, _ := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	const ct = "application/vnd.nasa.cmr.umm+json;version=1.6.6"
	path := "/ingest/providers/P/granules/G1"
	if code, body := do("PUT", path, ct, "", minimal); code != 401 || !strings.Contains(body, `"errors"`) {
		t.Errorf("no token: %d %s", code, body)
	}
	if code, _ := do("PUT", path, "application/json", "t", minimal); code != 415 {
		t.Errorf("json: %d", code)
	}
	if code, _ := do("PUT", path, "application/vnd.nasa.cmr.umm+json;version=1.5", "t", minimal); code != 400 {
		t.Errorf("version 1.5: %d", code)
	}
	if code, body := do("PUT", path, ct, "t", minimal); code != 201 || !strings.Contains(body, `"revision-id":1`) {
		t.Errorf("create: %d %s", code, body)
	}
	if code, body := do("PUT", path, ct, "t", minimal); code != 200 || !strings.Contains(body, `"revision-id":2`) {
		t.Errorf("replace: %d %s", code, body)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "P", "G1.json")); err != nil || string(b) != minimal {
		t.Errorf("kept record: %v %q", err, b)
	}
	if code, body := do("PUT", path, ct, "t", `{"GranuleUR":""}`); code != 400 || !strings.Contains(body, "ProviderDates") {
		t.Errorf("invalid: %d %s", code, body)
	}
	if code, body := do("GET", "/search/granules.umm_json?granule_ur=G1", "", "", ""); code != 200 || !strings.Contains(body, `"hits":1`) {
		t.Errorf("search: %d %s", code, body)
	}
	if code, _ := do("DELETE", path, "", "t", ""); code != 200 {
		t.Errorf("delete: %d", code)
	}
	if _, body := do("GET", "/search/granules.umm_json?granule_ur=G1", "", "", ""); !strings.Contains(body, `"hits":0`) {
		t.Errorf("deleted granule found: %s", body)
	}
	if code, _ := do("GET", "/nope", "", "", ""); code != 404 {
		t.Errorf("unknown path: %d", code)
	}
}
