package builtin

import (
	"testing"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

func TestChecksumEachAlgorithm(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := fx.stageGranule()
	for _, v := range vectors {
		if v.in != dataBody {
			continue
		}
		t.Run(v.alg, func(t *testing.T) {
			res := fx.mustRun(Checksum, g, map[string]any{"algorithm": v.alg})
			f := fileNamed(t, res.Granule, granuleID+".nc")
			if f.Checksum != v.want || f.ChecksumType != v.alg {
				t.Errorf("got %s %s, want %s %s", f.ChecksumType, f.Checksum, v.alg, v.want)
			}
			if sc := fileNamed(t, res.Granule, granuleID+".nc.md5"); sc.Checksum != "" {
				t.Errorf("the sidecar was checksummed: %+v", sc)
			}
			if b := fileNamed(t, res.Granule, granuleID+".png"); b.ChecksumType != v.alg || b.Checksum == "" {
				t.Errorf("browse: %+v", b)
			}
		})
	}
}

func TestChecksumDefaultIsMD5VerifiedAgainstSidecar(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := fx.stageGranule()
	res := fx.mustRun(Checksum, g, nil)
	if f := fileNamed(t, res.Granule, granuleID+".nc"); f.Checksum != dataMD5 || f.ChecksumType != "md5" {
		t.Errorf("%+v", f)
	}

	// A sidecar that disagrees fails the step with verify (the default)...
	const wrong = "ffffffffffffffffffffffffffffffff"
	fx.put(stagingBucket, g.Files[1].Key, wrong+"  "+granuleID+".nc\n")
	g.Files[1].Size = 0
	_, err := fx.run(Checksum, g, nil)
	wantFatal(t, err, granuleID+".nc", wrong, dataMD5, `sidecar "`+granuleID+`.nc.md5"`)

	// ...and is only overruled without it.
	res = fx.mustRun(Checksum, g, map[string]any{"verify": false})
	if f := fileNamed(t, res.Granule, granuleID+".nc"); f.Checksum != dataMD5 {
		t.Errorf("verify = false should record the computed sum: %+v", f)
	}

	// A sidecar of another algorithm is not compared with.
	res = fx.mustRun(Checksum, g, map[string]any{"algorithm": "sha1"})
	if f := fileNamed(t, res.Granule, granuleID+".nc"); f.ChecksumType != "sha1" {
		t.Errorf("%+v", f)
	}
}

func TestChecksumVerifiesRecordedChecksum(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := contract.Granule{ID: granuleID, Collection: "hamsr", Version: "1", Files: []contract.File{
		fx.stage(granuleID+".nc", "data", dataBody),
	}}
	g.Files[0].Checksum, g.Files[0].ChecksumType = "3015617425", "cksum"
	fx.mustRun(Checksum, g, map[string]any{"algorithm": "cksum"})

	g.Files[0].Checksum = "12345"
	_, err := fx.run(Checksum, g, map[string]any{"algorithm": "cksum", "verify": true})
	wantFatal(t, err, "the granule's record says cksum 12345", "computed 3015617425")

	// A recorded checksum of another algorithm is replaced, not compared.
	res := fx.mustRun(Checksum, g, map[string]any{"algorithm": "sha256"})
	if f := res.Granule.Files[0]; f.ChecksumType != "sha256" {
		t.Errorf("%+v", f)
	}
}

func TestChecksumSizeChanged(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := fx.stageGranule()
	g.Files[0].Size = 5
	_, err := fx.run(Checksum, g, nil)
	wantFatal(t, err, "6 bytes", "records 5")
}
