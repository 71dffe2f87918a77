package builtin

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

func TestMoveRoutesFiles(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := fx.stageGranule()
	g.Files = append(g.Files, fx.stage(granuleID+".cmr.json", MetadataType, "{}"))
	res := fx.mustRun(MoveGranule, g, nil)

	want := map[string][2]string{
		granuleID + ".nc":       {protectedBucket, dataKey},
		granuleID + ".png":      {publicBucket, browseKey},
		granuleID + ".nc.md5":   {stagingBucket, g.Files[1].Key}, // its block routes it to staging
		granuleID + ".cmr.json": {stagingBucket, g.Files[3].Key}, // no block: stays
	}
	for name, loc := range want {
		f := fileNamed(t, res.Granule, name)
		if f.Bucket != loc[0] || f.Key != loc[1] {
			t.Errorf("%s at s3://%s/%s, want s3://%s/%s", name, f.Bucket, f.Key, loc[0], loc[1])
		}
		if body, ok := fx.get(loc[0], loc[1]); !ok || int64(len(body)) != f.Size {
			t.Errorf("%s: object at its location: %v, %d bytes (record %d)", name, ok, len(body), f.Size)
		}
	}
	if got, want := fx.keys(stagingBucket), []string{g.Files[3].Key, g.Files[1].Key}; !reflect.DeepEqual(got, want) {
		t.Errorf("staging holds %q, want only %q", got, want)
	}
	if files := res.Outputs["files"].([]contract.File); !reflect.DeepEqual(files, res.Granule.Files) {
		t.Errorf("files output %+v", files)
	}
	if g.Files[0].Bucket != stagingBucket {
		t.Error("the input granule was changed")
	}

	// A re-run with the step's own output has nothing left to do.
	again := fx.mustRun(MoveGranule, res.Granule, nil)
	if !reflect.DeepEqual(again.Granule, res.Granule) {
		t.Errorf("re-run changed the granule:\n%+v\n%+v", again.Granule, res.Granule)
	}
}

func TestMoveDuplicates(t *testing.T) {
	const archived = "archived earlier\n"
	tests := []struct {
		policy    string
		wantErr   string
		wantAt    [2]string // where the granule's data file is afterwards
		wantData  string    // what dataKey holds afterwards
		wantStage bool      // whether the staged object is still there
	}{
		{"skip", "", [2]string{stagingBucket, "incoming/" + granuleID + "/" + granuleID + ".nc"}, archived, true},
		{"replace", "", [2]string{protectedBucket, dataKey}, dataBody, false},
		{"version", "", [2]string{protectedBucket, dataKey + ".v2"}, archived, false},
		{"error", "s3://" + protectedBucket + "/" + dataKey + " already exists", [2]string{}, archived, true},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			fx := newFixture(t, testConfig)
			g := fx.stageGranule()
			fx.put(protectedBucket, dataKey, archived)
			res, err := fx.run(MoveGranule, g, map[string]any{"duplicates": tt.policy})
			if tt.wantErr != "" {
				wantFatal(t, err, tt.wantErr, `duplicates = "error"`)
			} else {
				if err != nil {
					t.Fatal(err)
				}
				f := fileNamed(t, res.Granule, granuleID+".nc")
				if f.Bucket != tt.wantAt[0] || f.Key != tt.wantAt[1] {
					t.Errorf("data file at s3://%s/%s, want s3://%s/%s", f.Bucket, f.Key, tt.wantAt[0], tt.wantAt[1])
				}
				if body, _ := fx.get(f.Bucket, f.Key); body != dataBody {
					t.Errorf("the granule's data file holds %q", body)
				}
			}
			if body, _ := fx.get(protectedBucket, dataKey); body != tt.wantData {
				t.Errorf("%s holds %q, want %q", dataKey, body, tt.wantData)
			}
			if _, staged := fx.get(stagingBucket, g.Files[0].Key); staged != tt.wantStage {
				t.Errorf("staged object there: %v, want %v", staged, tt.wantStage)
			}
		})
	}
}

// TestMoveDuplicatesFromCollection checks that the collection's setting
// applies when the step sets none, and that the step's input wins.
func TestMoveDuplicatesFromCollection(t *testing.T) {
	fx := newFixture(t, strings.Replace(testConfig, `duplicates = "error"`, `duplicates = "replace"`, 1))
	g := fx.stageGranule()
	fx.put(protectedBucket, dataKey, "old")
	fx.mustRun(MoveGranule, g, nil)
	if body, _ := fx.get(protectedBucket, dataKey); body != dataBody {
		t.Errorf("collection's replace not applied: %q", body)
	}

	fx = newFixture(t, strings.Replace(testConfig, `duplicates = "error"`, ``, 1))
	g = fx.stageGranule()
	fx.put(protectedBucket, dataKey, "old")
	_, err := fx.run(MoveGranule, g, nil)
	wantFatal(t, err, "already exists") // unset means "error"
	fx.mustRun(MoveGranule, g, map[string]any{"duplicates": "skip"})
}

func TestMoveIdenticalDuplicateIsAlreadyArchived(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := fx.stageGranule()
	fx.put(protectedBucket, dataKey, dataBody) // the same bytes, delivered again
	res := fx.mustRun(MoveGranule, g, map[string]any{"duplicates": "error"})
	if f := fileNamed(t, res.Granule, granuleID+".nc"); f.Bucket != protectedBucket || f.Key != dataKey {
		t.Errorf("%+v", f)
	}
	if _, staged := fx.get(stagingBucket, g.Files[0].Key); staged {
		t.Error("the staged duplicate should be deleted")
	}
}

func TestMoveVersions(t *testing.T) {
	fx := newFixture(t, testConfig)
	version := map[string]any{"duplicates": "version"}
	deliver := func(body string) contract.File {
		g := contract.Granule{ID: granuleID, Collection: "hamsr", Version: "1",
			Files: []contract.File{fx.stage(granuleID+".nc", "data", body)}}
		return fx.mustRun(MoveGranule, g, version).Granule.Files[0]
	}
	// Something that merely shares the prefix is not a version.
	fx.put(protectedBucket, dataKey+".v7.bak", "x")
	fx.put(protectedBucket, dataKey+".vx", "x")

	if f := deliver("one"); f.Key != dataKey {
		t.Errorf("first delivery at %s", f.Key)
	}
	if f := deliver("two"); f.Key != dataKey+".v2" {
		t.Errorf("second delivery at %s", f.Key)
	}
	if f := deliver("three"); f.Key != dataKey+".v3" {
		t.Errorf("third delivery at %s", f.Key)
	}
	if f := deliver("two"); f.Key != dataKey+".v2" {
		t.Errorf("a delivery already archived as v2 went to %s", f.Key)
	}
	want := []string{dataKey, dataKey + ".v2", dataKey + ".v3", dataKey + ".v7.bak", dataKey + ".vx"}
	if got := fx.keys(protectedBucket); !reflect.DeepEqual(got, want) {
		t.Errorf("archive holds %q, want %q", got, want)
	}
	for key, body := range map[string]string{dataKey: "one", dataKey + ".v2": "two", dataKey + ".v3": "three"} {
		if got, _ := fx.get(protectedBucket, key); got != body {
			t.Errorf("%s holds %q, want %q", key, got, body)
		}
	}
}

// TestMoveAfterCrash simulates an attempt that copied a file and died
// before deleting the staged object, or after deleting it but before
// returning: the retry, with the same input, must finish without error.
func TestMoveAfterCrash(t *testing.T) {
	for _, policy := range []string{"error", "skip", "replace", "version"} {
		t.Run(policy, func(t *testing.T) {
			with := map[string]any{"duplicates": policy}
			fx := newFixture(t, testConfig)
			g := fx.stageGranule()
			dst := dataKey
			if policy == "version" {
				fx.put(protectedBucket, dataKey, "an earlier delivery")
				dst = dataKey + ".v2"
			}
			// The crashed attempt copied the data file...
			if err := copyObject(fx.ctx, fx.s3, stagingBucket, g.Files[0].Key, protectedBucket, dst); err != nil {
				t.Fatal(err)
			}
			// ...and the retry goes through.
			res := fx.mustRun(MoveGranule, g, with)
			if f := fileNamed(t, res.Granule, granuleID+".nc"); f.Bucket != protectedBucket || f.Key != dst {
				t.Errorf("after copy: data file at s3://%s/%s, want %s", f.Bucket, f.Key, dst)
			}
			if _, staged := fx.get(stagingBucket, g.Files[0].Key); staged {
				t.Error("the staged object should be deleted")
			}

			// A second crash, after the delete: the staged object is gone,
			// and the same input still succeeds.
			res = fx.mustRun(MoveGranule, g, with)
			if f := fileNamed(t, res.Granule, granuleID+".nc"); f.Bucket != protectedBucket || f.Key != dst {
				t.Errorf("after delete: data file at s3://%s/%s, want %s", f.Bucket, f.Key, dst)
			}
			if keys := fx.keys(protectedBucket); policy != "version" && len(keys) != 1 {
				t.Errorf("archive holds %q", keys)
			}
		})
	}
}

func TestMoveStagedObjectGoneWithoutCopy(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := fx.stageGranule()
	if err := deleteObject(fx.ctx, fx.s3, stagingBucket, g.Files[0].Key); err != nil {
		t.Fatal(err)
	}
	_, err := fx.run(MoveGranule, g, nil)
	wantFatal(t, err, "is gone", dataKey)

	// An archived object of another size is not taken for the copy.
	fx.put(protectedBucket, dataKey, "a longer, different file\n")
	_, err = fx.run(MoveGranule, g, nil)
	wantFatal(t, err, "is gone")
}

func TestMoveURLPaths(t *testing.T) {
	const cfg = `
bucket "staging" {
  kind = "private"
  name = "test-staging"
}
bucket "protected" {
  kind = "protected"
  name = "test-protected"
}
bucket "public" {
  kind = "public"
  name = "test-public"
}
collection "avaps" {
  version    = "2"
  granule_id = "^(AVAPS_[0-9]{8}_[0-9]{6})"
  bucket     = bucket.protected
  file "data" {
    match = "\\.eol$"
  }
  file "qc" {
    match    = "_qc\\.txt$"
    url_path = "qc/${granule.year}/${granule.month}/${file.type}"
  }
  file "root" {
    match  = "\\.png$"
    bucket = bucket.public
    url_path = "//${upper(file.name)}//\\sub//"
  }
  url_path = "avaps/${granule.date}/${file.name}"
}
collection "plain" {
  version    = "1"
  granule_id = "^(P[0-9]+)"
  file "data" {
    match  = "\\.dat$"
    bucket = bucket.protected
  }
}
`
	fx := newFixture(t, cfg)
	const id = "AVAPS_20140917_153012"
	g := contract.Granule{ID: id, Collection: "avaps", Version: "2", Files: []contract.File{
		fx.stage(id+".eol", "data", "d"),
		fx.stage(id+"_qc.txt", "qc", "q"),
		fx.stage(id+".png", "root", "p"),
	}}
	res := fx.mustRun(MoveGranule, g, nil)
	want := map[string]string{
		// url_path is a folder: the file's name follows it, even when the
		// template already ends with file.name.
		id + ".eol":    "avaps/2014-09-17/" + id + ".eol/" + id + ".eol",
		id + "_qc.txt": "qc/2014/09/qc/" + id + "_qc.txt",
		id + ".png":    strings.ToUpper(id+".png") + "/sub/" + id + ".png",
	}
	for name, key := range want {
		if f := fileNamed(t, res.Granule, name); f.Key != key {
			t.Errorf("%s at %s, want %s", name, f.Key, key)
		}
	}

	// No url_path anywhere: the bucket's root, under the file's name.
	p := contract.Granule{ID: "P1", Collection: "plain", Version: "1", Files: []contract.File{fx.stage("P1.dat", "data", "x")}}
	if f := fx.mustRun(MoveGranule, p, nil).Granule.Files[0]; f.Key != "P1.dat" {
		t.Errorf("P1.dat at %s", f.Key)
	}
}

func TestMoveRefusesBadURLPaths(t *testing.T) {
	tests := []struct{ urlPath, id, want string }{
		{`"${granule.year}"`, "P1", "leaves no folder"},
		{`"a/${granule.id}/../b"`, "P1", `".." segment`},
		{`"a/${trimprefix(granule.id, "P")}"`, "P.", `"." segment`},
		{`"a/${granule.id}\n"`, "P1", "control character"},
		{`"${join("/", [for i in range(60) : "0123456789abcdefghij"])}/${granule.id}"`, "P1", "over S3's 1024"},
	}
	for _, tt := range tests {
		t.Run(tt.urlPath, func(t *testing.T) {
			fx := newFixture(t, `
bucket "b" {
  kind = "protected"
  name = "test-protected"
}
collection "plain" {
  version    = "1"
  granule_id = "^(P[0-9.]+)"
  file "data" {
    match  = "\\.dat$"
    bucket = bucket.b
  }
  url_path = `+tt.urlPath+`
}
`)
			g := contract.Granule{ID: tt.id, Collection: "plain", Version: "1", Files: []contract.File{fx.stage("x.dat", "data", "x")}}
			_, err := fx.run(MoveGranule, g, nil)
			wantFatal(t, err, "x.dat", tt.want)
		})
	}
}
