package builtin

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// ummgSchema compiles NASA's UMM-G schema from shared/umm-g beside the
// repository, skipping the test when it is not there (it is reference
// data for tests, not something the product needs).
func ummgSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
	file := filepath.Join(dir, "..", "shared", "umm-g", "umm-g-json-schema-v"+UMMGVersion+".json")
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		t.Skipf("UMM-G schema %s is not there: the record is not validated", file)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat() // date-time values must be real RFC 3339 times
	if err := c.AddResource("umm-g.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("umm-g.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validateUMMG(t *testing.T, s *jsonschema.Schema, record []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(record))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("record is not valid UMM-G %s: %v\n%s", UMMGVersion, err, record)
	}
}

// decoded is the record read back, for field checks.
type decoded map[string]any

func decode(t *testing.T, record string) decoded {
	t.Helper()
	var d decoded
	if err := json.Unmarshal([]byte(record), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// get follows a path of object keys and array indexes.
func (d decoded) get(path ...any) any {
	var v any = map[string]any(d)
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[p]
		case int:
			a, _ := v.([]any)
			if p >= len(a) {
				return nil
			}
			v = a[p]
		}
	}
	return v
}

// prepared runs the steps that come before metadata in the example
// pipeline: sync, checksum.
func (fx *fixture) prepared() contract.Granule {
	fx.t.Helper()
	g := fx.stageGranule()
	g = fx.mustRun(SyncGranule, g, nil).Granule
	return fx.mustRun(Checksum, g, map[string]any{"algorithm": "sha256"}).Granule
}

func TestCMRMetadataRecord(t *testing.T) {
	schema := ummgSchema(t)
	fx := newFixture(t, testConfig)
	g := fx.prepared()
	res := fx.mustRun(CMRMetadata, g, nil)

	record := res.Outputs["metadata"].(string)
	validateUMMG(t, schema, []byte(record))
	if res.Outputs["concept_id"] != "" {
		t.Errorf("concept_id = %v without publishing", res.Outputs["concept_id"])
	}

	// Written beside the granule in staging, and added to its files.
	key := "incoming/" + granuleID + "/" + granuleID + ".cmr.json"
	if body, ok := fx.get(stagingBucket, key); !ok || body != record {
		t.Errorf("s3://%s/%s: %v, %q", stagingBucket, key, ok, body)
	}
	meta := fileNamed(t, res.Granule, granuleID+".cmr.json")
	if meta.Type != MetadataType || meta.Bucket != stagingBucket || meta.Key != key || meta.Size != int64(len(record)) || meta.ChecksumType != "md5" {
		t.Errorf("metadata file %+v", meta)
	}

	d := decode(t, record)
	checks := []struct {
		path []any
		want any
	}{
		{[]any{"GranuleUR"}, granuleID},
		{[]any{"CollectionReference", "ShortName"}, "hamsr"},
		{[]any{"CollectionReference", "Version"}, "1"},
		{[]any{"ProviderDates", 0, "Type"}, "Insert"},
		{[]any{"ProviderDates", 0, "Date"}, "2024-05-01T12:30:00.000Z"},
		{[]any{"ProviderDates", 1, "Type"}, "Update"},
		{[]any{"DataGranule", "DayNightFlag"}, "Unspecified"},
		{[]any{"DataGranule", "ProductionDateTime"}, "2024-05-01T12:30:00.000Z"},
		{[]any{"DataGranule", "ArchiveAndDistributionInformation", 0, "Name"}, granuleID + ".nc"},
		{[]any{"DataGranule", "ArchiveAndDistributionInformation", 0, "SizeInBytes"}, float64(len(dataBody))},
		{[]any{"DataGranule", "ArchiveAndDistributionInformation", 0, "MimeType"}, "application/x-netcdf"},
		{[]any{"DataGranule", "ArchiveAndDistributionInformation", 0, "Checksum", "Algorithm"}, "SHA-256"},
		{[]any{"DataGranule", "ArchiveAndDistributionInformation", 0, "Checksum", "Value"}, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"},
		// The sidecar is not part of the granule's data.
		{[]any{"DataGranule", "ArchiveAndDistributionInformation", 1, "Name"}, granuleID + ".png"},
		{[]any{"DataGranule", "ArchiveAndDistributionInformation", 2}, nil},
		// The id carries a time of day: an instant.
		{[]any{"TemporalExtent", "SingleDateTime"}, "2013-08-25T00:00:00.000Z"},
		{[]any{"RelatedUrls", 0, "URL"}, "https://data.example.org/" + protectedBucket + "/" + dataKey},
		{[]any{"RelatedUrls", 0, "Type"}, "GET DATA"},
		{[]any{"RelatedUrls", 1, "URL"}, "https://data.example.org/" + publicBucket + "/" + browseKey},
		{[]any{"RelatedUrls", 1, "Type"}, "GET RELATED VISUALIZATION"},
		{[]any{"RelatedUrls", 2}, nil},
		{[]any{"MetadataSpecification", "URL"}, "https://cdn.earthdata.nasa.gov/umm/granule/v1.6.6"},
		{[]any{"MetadataSpecification", "Name"}, "UMM-G"},
		{[]any{"MetadataSpecification", "Version"}, "1.6.6"},
	}
	for _, c := range checks {
		if got := d.get(c.path...); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v = %#v, want %#v", c.path, got, c.want)
		}
	}

	// After the move, the links are where the files are: the same ones.
	moved := fx.mustRun(MoveGranule, res.Granule, nil).Granule
	again := fx.mustRun(CMRMetadata, moved, nil)
	if again.Outputs["metadata"] != record {
		t.Errorf("record after the move differs:\n%s\n%s", again.Outputs["metadata"], record)
	}
	if n := len(again.Granule.Files); n != len(res.Granule.Files) {
		t.Errorf("a re-run should replace the record's file, not add one: %d files", n)
	}
}

// TestUMMGSchemaCatchesMistakes makes sure the validation above is not
// vacuous: the schema refuses records missing what it requires.
func TestUMMGSchemaCatchesMistakes(t *testing.T) {
	schema := ummgSchema(t)
	fx := newFixture(t, testConfig)
	record := fx.mustRun(CMRMetadata, fx.prepared(), nil).Outputs["metadata"].(string)
	for _, mutate := range []func(decoded){
		func(d decoded) { delete(d, "MetadataSpecification") },
		func(d decoded) { d["MetadataSpecification"].(map[string]any)["Version"] = "1.6.5" },
		func(d decoded) { d["DataGranule"].(map[string]any)["ProductionDateTime"] = "yesterday" },
		func(d decoded) { d.get("RelatedUrls", 0).(map[string]any)["Type"] = "DATA" },
	} {
		d := decode(t, record)
		mutate(d)
		b, _ := json.Marshal(d)
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if schema.Validate(inst) == nil {
			t.Errorf("schema accepted a broken record: %s", b)
		}
	}
}

func TestCMRMetadataVariants(t *testing.T) {
	schema := ummgSchema(t)
	tests := []struct {
		name   string
		id     string
		setup  func(*fixture, *contract.Granule)
		checks map[string]any // "/"-separated path → value
	}{
		{
			name: "daily granule covers its day",
			id:   "HS3_HAMSR_20130916",
			checks: map[string]any{
				"TemporalExtent/RangeDateTime/BeginningDateTime": "2013-09-16T00:00:00.000Z",
				"TemporalExtent/RangeDateTime/EndingDateTime":    "2013-09-16T23:59:59.999Z",
			},
		},
		{
			name:   "granule without a date has no temporal extent",
			id:     "HS3_HAMSR_FLIGHT7",
			checks: map[string]any{"TemporalExtent": nil},
		},
		{
			name: "time of day",
			id:   "HS3_HAMSR_20130825T153012",
			checks: map[string]any{
				"TemporalExtent/SingleDateTime": "2013-08-25T15:30:12.000Z",
			},
		},
		{
			name: "cksum is POSIX",
			id:   granuleID,
			setup: func(fx *fixture, g *contract.Granule) {
				*g = fx.mustRun(Checksum, *g, map[string]any{"algorithm": "cksum"}).Granule
			},
			checks: map[string]any{
				"DataGranule/ArchiveAndDistributionInformation/0/Checksum/Algorithm": "POSIX",
				"DataGranule/ArchiveAndDistributionInformation/0/Checksum/Value":     "3015617425",
			},
		},
		{
			name: "without a distribution URL, S3 links",
			id:   granuleID,
			setup: func(fx *fixture, g *contract.Granule) {
				fx.env.DistributionURL = ""
			},
			checks: map[string]any{
				"RelatedUrls/0/URL":  "s3://" + protectedBucket + "/" + dataKey,
				"RelatedUrls/0/Type": "GET DATA VIA DIRECT ACCESS",
				"RelatedUrls/1/Type": "GET RELATED VISUALIZATION",
			},
		},
		{
			name: "a versioned file is linked where it is",
			id:   granuleID,
			setup: func(fx *fixture, g *contract.Granule) {
				fx.put(protectedBucket, dataKey, "an earlier delivery")
				*g = fx.mustRun(MoveGranule, *g, map[string]any{"duplicates": "version"}).Granule
			},
			checks: map[string]any{
				"RelatedUrls/0/URL": "https://data.example.org/" + protectedBucket + "/" + dataKey + ".v2",
			},
		},
		{
			name: "no files",
			id:   granuleID,
			setup: func(fx *fixture, g *contract.Granule) {
				g.Files = nil
			},
			checks: map[string]any{
				"DataGranule/ArchiveAndDistributionInformation": nil,
				"RelatedUrls":              nil,
				"DataGranule/DayNightFlag": "Unspecified",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t, testConfig)
			g := contract.Granule{ID: tt.id, Collection: "hamsr", Version: "1", Files: []contract.File{
				fx.stage(tt.id+".nc", "data", dataBody),
				fx.stage(tt.id+".png", "browse", browseBody),
			}}
			if tt.setup != nil {
				tt.setup(fx, &g)
			}
			res := fx.mustRun(CMRMetadata, g, nil)
			record := res.Outputs["metadata"].(string)
			validateUMMG(t, schema, []byte(record))
			d := decode(t, record)
			for path, want := range tt.checks {
				var p []any
				for _, s := range strings.Split(path, "/") {
					if len(s) == 1 && s[0] >= '0' && s[0] <= '9' {
						p = append(p, int(s[0]-'0'))
					} else {
						p = append(p, s)
					}
				}
				if got := d.get(p...); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", path, got, want)
				}
			}
		})
	}
}

type fakePublisher struct {
	got []PublishRequest
}

func (p *fakePublisher) Publish(_ context.Context, r PublishRequest) (string, error) {
	p.got = append(p.got, r)
	return "G1000-" + r.Provider, nil
}

func TestCMRMetadataPublish(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := fx.prepared()
	publish := map[string]any{"publish": true, "provider": "GHRC_DAAC", "cmr_environment": "SIT"}

	_, err := fx.run(CMRMetadata, g, publish)
	wantFatal(t, err, "publish = true", "no CMR endpoint")
	if _, ok := fx.get(stagingBucket, "incoming/"+granuleID+"/"+granuleID+".cmr.json"); ok {
		t.Error("a refused publish should write nothing")
	}

	pub := &fakePublisher{}
	fx.env.Publisher = pub
	res := fx.mustRun(CMRMetadata, g, publish)
	if res.Outputs["concept_id"] != "G1000-GHRC_DAAC" {
		t.Errorf("concept_id = %v", res.Outputs["concept_id"])
	}
	if len(pub.got) != 1 {
		t.Fatalf("published %d times", len(pub.got))
	}
	r := pub.got[0]
	if r.Environment != "SIT" || r.GranuleUR != granuleID || r.Collection != "hamsr" || r.Version != "1" ||
		r.ContentType != "application/vnd.nasa.cmr.umm+json;version=1.6.6" || string(r.Record) != res.Outputs["metadata"] {
		t.Errorf("request %+v", r)
	}
}

func TestCMRMetadataRefusesWhatCMRWould(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := contract.Granule{ID: strings.Repeat("G", 251), Collection: "hamsr", Version: "1"}
	_, err := fx.run(CMRMetadata, g, nil)
	wantFatal(t, err, "GranuleUR")
	g = contract.Granule{ID: granuleID, Collection: "hamsr", Version: ""}
	_, err = fx.run(CMRMetadata, g, nil)
	wantFatal(t, err, "version")
}
