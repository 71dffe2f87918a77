package builtin

import (
	"reflect"
	"testing"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

func TestDeleteStagedKeepsUnarchived(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := fx.stageGranule()
	meta := fx.stage(granuleID+".cmr.json", MetadataType, "{}")
	g.Files = append(g.Files, meta)
	moved := fx.mustRun(MoveGranule, g, nil).Granule

	// Something left behind with an archived copy: a staged duplicate of
	// the archived browse image, as an earlier, interrupted run leaves.
	leftover := fx.stage(granuleID+".png", "browse", browseBody)
	moved.Files = append(moved.Files, leftover)

	res := fx.mustRun(DeleteStaged, moved, nil)
	if got, want := res.Outputs["deleted"], []string{leftover.Key}; !reflect.DeepEqual(got, want) {
		t.Errorf("deleted %v, want %v", got, want)
	}
	// The sidecar and the metadata record have no archived copy: kept.
	if got, want := fx.keys(stagingBucket), []string{meta.Key, g.Files[1].Key}; !reflect.DeepEqual(got, want) {
		t.Errorf("staging holds %q, want %q", got, want)
	}
	if len(res.Granule.Files) != 4 {
		t.Errorf("granule files %+v", res.Granule.Files)
	}

	// A staged file whose archive holds other bytes (a skip) is kept too.
	fx2 := newFixture(t, testConfig)
	g2 := fx2.stageGranule()
	fx2.put(protectedBucket, dataKey, "other bytes")
	skipped := fx2.mustRun(MoveGranule, g2, map[string]any{"duplicates": "skip"}).Granule
	res = fx2.mustRun(DeleteStaged, skipped, nil)
	if got := res.Outputs["deleted"].([]string); len(got) != 0 {
		t.Errorf("deleted %q", got)
	}
	if _, ok := fx2.get(stagingBucket, g2.Files[0].Key); !ok {
		t.Error("the skipped data file was deleted from staging")
	}
}

func TestDeleteStagedEverything(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := fx.stageGranule()
	moved := fx.mustRun(MoveGranule, g, nil).Granule
	res := fx.mustRun(DeleteStaged, moved, map[string]any{"keep_unarchived": false})
	if got, want := res.Outputs["deleted"], []string{g.Files[1].Key}; !reflect.DeepEqual(got, want) {
		t.Errorf("deleted %v, want %v", got, want)
	}
	if keys := fx.keys(stagingBucket); len(keys) != 0 {
		t.Errorf("staging still holds %q", keys)
	}
	for _, f := range res.Granule.Files {
		if f.Bucket == stagingBucket {
			t.Errorf("the granule still lists %+v", f)
		}
	}
	// Archived files are untouched.
	if _, ok := fx.get(protectedBucket, dataKey); !ok {
		t.Error("the archived data file is gone")
	}
	// Deleting again is a no-op.
	again := fx.mustRun(DeleteStaged, res.Granule, map[string]any{"keep_unarchived": false})
	if got := again.Outputs["deleted"].([]string); len(got) != 0 {
		t.Errorf("second run deleted %q", got)
	}
}

func TestDeleteStagedNeedsStagingBucket(t *testing.T) {
	fx := newFixture(t, testConfig)
	fx.env.StagingBucket = ""
	_, err := fx.run(DeleteStaged, contract.Granule{ID: granuleID, Collection: "hamsr", Version: "1"}, nil)
	wantFatal(t, err, "StagingBucket")
}
