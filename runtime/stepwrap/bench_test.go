package stepwrap

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// BenchmarkWrapperOverhead measures the wrapper on a 100 MB granule as on
// AWS — fetch from S3 and verify, run a no-op program (it hard-links its
// input into the output folder), upload the output with its checksum,
// write the result — next to a bare SDK copy of the same bytes (GetObject
// to a file, PutObject of it), against the same embedded S3 endpoint in
// the same run.
//
//	go test ./runtime/stepwrap -run '^$' -bench WrapperOverhead -benchtime 10x
func BenchmarkWrapperOverhead(b *testing.B) {
	const size = 100 << 20
	fx := newFixture(b)
	data := make([]byte, size)
	rand.Read(data)
	fx.put(b, "G1/big.dat", data)
	sum := sha256.Sum256(data)
	g := contract.Granule{ID: "G1", Collection: "c", Version: "1", Files: []contract.File{{
		Name: "big.dat", Type: "data", Bucket: "staging", Key: "G1/big.dat", Size: size,
		Checksum: hex.EncodeToString(sum[:]), ChecksumType: "sha256",
	}}}
	env := environ(b, g)
	ctx := context.Background()

	b.Run("sdk-copy", func(b *testing.B) {
		b.SetBytes(size)
		for range b.N {
			dir := b.TempDir()
			out, err := fx.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("staging"), Key: aws.String("G1/big.dat")})
			if err != nil {
				b.Fatal(err)
			}
			f, err := os.Create(filepath.Join(dir, "big.dat"))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(f, out.Body); err != nil {
				b.Fatal(err)
			}
			out.Body.Close()
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				b.Fatal(err)
			}
			if _, err := fx.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("staging"), Key: aws.String("G1/copy.dat"), Body: f, ContentLength: aws.Int64(size)}); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
	b.Run("wrapper", func(b *testing.B) {
		b.SetBytes(size)
		for range b.N {
			cfg := Config{
				Command: []string{"sh", "-c", `ln "$CUMULUS_INPUT_DIR/big.dat" "$CUMULUS_OUTPUT_DIR/big.out"`},
				Environ: env,
				WorkDir: b.TempDir(),
				Files:   fx.files,
			}
			rep, err := Run(ctx, cfg)
			if err != nil {
				b.Fatal(err)
			}
			if rep.Fetched != 1 || rep.Uploaded != 1 {
				b.Fatalf("report %+v", rep)
			}
		}
	})
}
