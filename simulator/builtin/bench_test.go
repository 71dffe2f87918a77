package builtin

import (
	"bytes"
	"testing"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// BenchmarkChecksumStep measures the checksum step end to end on a 16 MiB
// file: streamed from the S3 endpoint through the SDK and hashed.
func BenchmarkChecksumStep(b *testing.B) {
	fx := newFixture(b, testConfig)
	body := string(bytes.Repeat([]byte("granule data...\n"), 1<<20))
	g := contract.Granule{ID: granuleID, Collection: "hamsr", Version: "1",
		Files: []contract.File{fx.stage(granuleID+".nc", "data", body)}}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := fx.run(Checksum, g, map[string]any{"algorithm": "sha256", "verify": false}); err != nil {
			b.Fatal(err)
		}
	}
}
