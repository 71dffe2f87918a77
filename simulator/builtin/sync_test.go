package builtin

import (
	"reflect"
	"testing"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

func TestSyncVerifiesSidecar(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := fx.stageGranule()
	res := fx.mustRun(SyncGranule, g, nil)
	data := fileNamed(t, res.Granule, granuleID+".nc")
	if data.Checksum != dataMD5 || data.ChecksumType != "md5" {
		t.Errorf("data file: checksum %q %q, want the sidecar's md5", data.Checksum, data.ChecksumType)
	}
	files, ok := res.Outputs["files"].([]contract.File)
	if !ok || !reflect.DeepEqual(files, res.Granule.Files) {
		t.Errorf("files output = %#v, want the granule's files", res.Outputs["files"])
	}
	if g.Files[0].Checksum != "" {
		t.Error("the input granule was changed")
	}
}

func TestSyncSidecarMismatchIsFatal(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := fx.stageGranule()
	const wrong = "00000000000000000000000000000000"
	fx.put(stagingBucket, g.Files[1].Key, wrong+"  "+granuleID+".nc\n")
	g.Files[1].Size = int64(len(wrong + "  " + granuleID + ".nc\n"))
	_, err := fx.run(SyncGranule, g, nil)
	wantFatal(t, err, granuleID+".nc", wrong, dataMD5, "mismatch")

	// checksum = false records the sidecar's value without reading the data.
	res := fx.mustRun(SyncGranule, g, map[string]any{"checksum": false})
	if got := fileNamed(t, res.Granule, granuleID+".nc").Checksum; got != wrong {
		t.Errorf("checksum = %q, want the sidecar's %q", got, wrong)
	}
}

func TestSyncSidecarForms(t *testing.T) {
	for name, content := range map[string]string{
		"bare":  dataMD5 + "\n",
		"cksum": "3015617425 6 " + granuleID + ".nc\n",
		"bsd":   "MD5 (" + granuleID + ".nc) = " + dataMD5 + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			fx := newFixture(t, testConfig)
			g := contract.Granule{ID: granuleID, Collection: "hamsr", Version: "1", Files: []contract.File{
				fx.stage(granuleID+".nc", "data", dataBody),
				// The name does not say the algorithm, the content does.
				fx.stage(granuleID+".nc.md5", "md5", content),
			}}
			// A .md5 extension would contradict a cksum line: the steps
			// go by the file's Type, so another name is all it takes.
			if name == "cksum" {
				g.Files[1] = fx.stage(granuleID+".nc.cksum", "md5", content)
			}
			res := fx.mustRun(SyncGranule, g, nil)
			if f := fileNamed(t, res.Granule, granuleID+".nc"); f.Checksum == "" {
				t.Errorf("no checksum recorded: %+v", f)
			}
		})
	}
}

func TestSyncSidecarNamingAnotherFile(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := contract.Granule{ID: granuleID, Collection: "hamsr", Version: "1", Files: []contract.File{
		fx.stage(granuleID+".nc", "data", dataBody),
		fx.stage(granuleID+".nc.md5", "md5", dataMD5+"  OTHER.nc\n"),
	}}
	_, err := fx.run(SyncGranule, g, nil)
	wantFatal(t, err, "holds no checksum", granuleID+".nc")
}

func TestSyncMissingOrShortFile(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := fx.stageGranule()
	missing := g
	missing.Files = append([]contract.File{}, g.Files...)
	missing.Files[2].Key = "incoming/nowhere.png"
	_, err := fx.run(SyncGranule, missing, nil)
	wantFatal(t, err, "not staged", "s3://"+stagingBucket+"/incoming/nowhere.png")

	short := g
	short.Files = append([]contract.File{}, g.Files...)
	short.Files[0].Size = 1000
	_, err = fx.run(SyncGranule, short, nil)
	wantFatal(t, err, "6 bytes", "listed 1000")
}

func TestSyncRecordsSizes(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := fx.stageGranule()
	for i := range g.Files {
		g.Files[i].Size = 0 // unknown: the provider did not list sizes
	}
	res := fx.mustRun(SyncGranule, g, nil)
	if got := fileNamed(t, res.Granule, granuleID+".png").Size; got != int64(len(browseBody)) {
		t.Errorf("size = %d", got)
	}
}
