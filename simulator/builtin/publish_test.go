package builtin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cumulus-toolchain/cumulus/simulator/cmrlocal"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// cmrStandIn serves the local CMR stand-in behind fail, which may answer
// instead of it.
func cmrStandIn(t *testing.T, fail func(w http.ResponseWriter, r *http.Request) bool) (*cmrlocal.Server, string) {
	t.Helper()
	s, err := cmrlocal.New(cmrlocal.Options{Tokens: []string{"good-token"}, Providers: []string{"GHRC_DAAC"}})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail != nil && fail(w, r) {
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return s, srv.URL
}

// published is the granule after cmr_metadata, ready for publish_cmr.
func (fx *fixture) published(t *testing.T) contract.Granule {
	t.Helper()
	fx.env.RecordDir = filepath.Join(t.TempDir(), "records")
	fx.env.CMR = &CMRIngest{Attempts: 4, Delay: time.Millisecond}
	fx.env.Getenv = func(k string) string {
		if k == "CMR_TOKEN" {
			return "good-token"
		}
		return ""
	}
	return fx.mustRun(CMRMetadata, fx.prepared(), nil).Granule
}

func TestPublishCMR(t *testing.T) {
	schema := ummgSchema(t)
	fx := newFixture(t, testConfig)
	g := fx.published(t)
	cmr, url := cmrStandIn(t, nil)
	with := map[string]any{"provider": "GHRC_DAAC", "endpoint": url}

	// The record kept in the simulation folder is the one in staging, and
	// valid UMM-G.
	plain, err := os.ReadFile(filepath.Join(fx.env.RecordDir, granuleID+".cmr.json"))
	if err != nil {
		t.Fatal(err)
	}
	validateUMMG(t, schema, plain)
	if msgs := cmr.Validate(plain); len(msgs) > 0 {
		t.Fatalf("the stand-in refuses a record the schema takes: %v", msgs)
	}

	res := fx.mustRun(PublishCMR, g, with)
	if res.Outputs["concept_id"] != "G1200000000-GHRC_DAAC" || res.Outputs["revision_id"] != 1 {
		t.Errorf("outputs %v", res.Outputs)
	}
	if len(res.Granule.Files) != len(g.Files) {
		t.Error("publishing changed the granule")
	}
	// Again: the same granule, a new revision.
	res = fx.mustRun(PublishCMR, g, with)
	if res.Outputs["concept_id"] != "G1200000000-GHRC_DAAC" || res.Outputs["revision_id"] != 2 {
		t.Errorf("replaced: outputs %v", res.Outputs)
	}

	// Found by CMR's search, as CMR answers it.
	resp, err := http.Get(url + "/search/granules.umm_json?short_name=hamsr&version=1&granule_ur=" + granuleID)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var found struct {
		Hits  int `json:"hits"`
		Items []struct {
			Meta map[string]any `json:"meta"`
			UMM  map[string]any `json:"umm"`
		} `json:"items"`
	}
	json.NewDecoder(resp.Body).Decode(&found)
	if found.Hits != 1 || resp.Header.Get("CMR-Hits") != "1" || found.Items[0].Meta["revision-id"] != float64(2) || found.Items[0].UMM["GranuleUR"] != granuleID {
		t.Errorf("search: %+v", found)
	}
	if r2, _ := http.Get(url + "/search/granules.umm_json?short_name=other"); r2 != nil {
		var none struct{ Hits int }
		json.NewDecoder(r2.Body).Decode(&none)
		r2.Body.Close()
		if none.Hits != 0 {
			t.Errorf("short_name=other found %d", none.Hits)
		}
	}
}

func TestPublishCMRRetries5xx(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := fx.published(t)
	var calls atomic.Int32
	_, url := cmrStandIn(t, func(w http.ResponseWriter, r *http.Request) bool {
		switch calls.Add(1) {
		case 1:
			http.Error(w, `{"errors":["Internal error"]}`, http.StatusServiceUnavailable)
			return true
		case 2:
			http.Error(w, `{"errors":["Too many requests"]}`, http.StatusTooManyRequests)
			return true
		}
		return false
	})
	res := fx.mustRun(PublishCMR, g, map[string]any{"provider": "GHRC_DAAC", "endpoint": url})
	if calls.Load() != 3 || res.Outputs["revision_id"] != 1 {
		t.Errorf("%d calls, outputs %v", calls.Load(), res.Outputs)
	}

	// Failing throughout: retryable (not fatal) after the client's tries.
	_, url = cmrStandIn(t, func(w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return true
	})
	_, err := fx.run(PublishCMR, g, map[string]any{"provider": "GHRC_DAAC", "endpoint": url})
	if err == nil || IsFatal(err) || !strings.Contains(err.Error(), "after 4 tries") {
		t.Errorf("err %v", err)
	}
}

func TestPublishCMRUnauthorized(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := fx.published(t)
	var calls atomic.Int32
	_, url := cmrStandIn(t, func(http.ResponseWriter, *http.Request) bool { calls.Add(1); return false })
	g2 := g
	_, err := fx.run(PublishCMR, g2, map[string]any{"provider": "GHRC_DAAC", "endpoint": url, "token_env": "OTHER_TOKEN"})
	wantFatal(t, err, "no CMR token", "OTHER_TOKEN")

	fx.env.Getenv = func(string) string { return "expired" }
	_, err = fx.run(PublishCMR, g, map[string]any{"provider": "GHRC_DAAC", "endpoint": url})
	wantFatal(t, err, "401 Unauthorized", "Token does not exist", "check the token in CMR_TOKEN")
	if calls.Load() != 1 {
		t.Errorf("a 401 was tried %d times", calls.Load())
	}
}

// TestCMRRefusesMutatedRecords: records the stand-in takes when right,
// refused with CMR-like messages when a required part is missing or wrong.
func TestCMRRefusesMutatedRecords(t *testing.T) {
	fx := newFixture(t, testConfig)
	fx.published(t)
	plain, err := os.ReadFile(filepath.Join(fx.env.RecordDir, granuleID+".cmr.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, url := cmrStandIn(t, nil)
	for _, tc := range []struct {
		name   string
		mutate func(m map[string]any)
		want   string
	}{
		{"no GranuleUR", func(m map[string]any) { delete(m, "GranuleUR") }, "GranuleUR"},
		{"bad DayNightFlag", func(m map[string]any) { m["DataGranule"].(map[string]any)["DayNightFlag"] = "Dusk" }, "#/DataGranule/DayNightFlag"},
		{"bad date", func(m map[string]any) { m["ProviderDates"].([]any)[0].(map[string]any)["Date"] = "yesterday" }, "#/ProviderDates/0/Date"},
		{"unknown field", func(m map[string]any) { m["Colour"] = "blue" }, "Colour"},
		{"wrong spec", func(m map[string]any) { m["MetadataSpecification"].(map[string]any)["Version"] = "1.5" }, "#/MetadataSpecification/Version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			json.Unmarshal(plain, &m)
			tc.mutate(m)
			body, _ := json.Marshal(m)
			_, err := (&CMRIngest{Attempts: 1}).Put(t.Context(), url, "GHRC_DAAC", granuleID, "good-token", body)
			cerr, ok := err.(*CMRError)
			if !ok || cerr.Status != http.StatusBadRequest || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want a 400 naming %s", err, tc.want)
			}
		})
	}
}

// TestCMRMetadataPublishesToTheStandIn: cmr_metadata's publish = true
// through CMRPublisher.
func TestCMRMetadataPublishesToTheStandIn(t *testing.T) {
	fx := newFixture(t, testConfig)
	_, url := cmrStandIn(t, nil)
	fx.env.Publisher = CMRPublisher{Ingest: &CMRIngest{Attempts: 1}, Endpoint: url, Provider: "GHRC_DAAC", Token: "good-token"}
	res := fx.mustRun(CMRMetadata, fx.prepared(), map[string]any{"publish": true})
	if res.Outputs["concept_id"] != "G1200000000-GHRC_DAAC" {
		t.Errorf("outputs %v", res.Outputs)
	}
	fx.env.Publisher = CMRPublisher{Ingest: &CMRIngest{Attempts: 1}, Endpoint: url, Provider: "GHRC_DAAC", Token: "bad"}
	_, err := fx.run(CMRMetadata, fx.prepared(), map[string]any{"publish": true})
	wantFatal(t, err, "Token does not exist")
}
