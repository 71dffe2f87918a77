package builtin

import (
	"testing"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// vectors are dataBody's checksums, from the coreutils commands (md5sum,
// sha1sum, sha256sum, sha512sum, cksum); stdlib/checksum tests the
// algorithms themselves.
var vectors = []struct {
	in   string
	alg  string
	want string
}{
	{"hello\n", "md5", "b1946ac92492d2347c6235b4d2611184"},
	{"hello\n", "sha1", "f572d396fae9206628714fb2ce00f72e94f2258f"},
	{"hello\n", "sha256", "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"},
	{"hello\n", "sha512", "e7c22b994c59d9cf2b48e549b1e24666636045930d3da7c1acb299d1c3b7f931f94aae41edda2c2b207a36e10f8bcb8d45223e54878f5b316e7ce3b6bc019629"},
	{"hello\n", "cksum", "3015617425"},
}

func TestChecksumEachAlgorithm(t *testing.T) {
	fx := newFixture(t, testConfig)
	g := fx.stageGranule()
	if len(vectors) != len(Algorithms()) {
		t.Fatalf("%d vectors for %d algorithms", len(vectors), len(Algorithms()))
	}
	for _, v := range vectors {
		if v.in != dataBody {
			t.Fatalf("vector %s is not of dataBody", v.alg)
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
