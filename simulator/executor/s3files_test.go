package executor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/simulator/s3local"
)

// s3Files starts the embedded S3 endpoint with a staging bucket.
func s3Files(t *testing.T) S3Files {
	t.Helper()
	srv, err := s3local.Start(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := s3local.Client(t.Context(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if err := s3local.EnsureBuckets(t.Context(), c, []string{"staging"}); err != nil {
		t.Fatal(err)
	}
	return S3Files{Client: c}
}

func TestS3Files(t *testing.T) {
	fs := s3Files(t)
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "a.txt")
	os.WriteFile(src, []byte("hello\n"), 0o644)

	f, err := fs.Upload(ctx, src, "staging", "G1/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("hello\n"))
	want := contract.File{Name: "a.txt", Bucket: "staging", Key: "G1/a.txt", Size: 6, Checksum: hex.EncodeToString(sum[:]), ChecksumType: "sha256"}
	if f != want {
		t.Errorf("uploaded %+v, want %+v", f, want)
	}

	dst := filepath.Join(dir, "back.txt")
	if err := fs.Download(ctx, f, dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "hello\n" {
		t.Errorf("downloaded %q", b)
	}

	// A wrong checksum fails and leaves nothing behind.
	bad := f
	bad.Checksum = strings.Repeat("0", 64)
	dst = filepath.Join(dir, "bad.txt")
	if err := fs.Download(ctx, bad, dst); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Errorf("err = %v, want a checksum mismatch", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("the failed download left files: %v", entries)
	}
	// So does a missing object.
	missing := f
	missing.Key = "G1/none"
	if err := fs.Download(ctx, missing, dst); err == nil {
		t.Error("downloaded a missing object")
	}
}

func TestS3FilesMultipart(t *testing.T) {
	fs := s3Files(t)
	fs.PartSize = 5 << 20
	ctx := context.Background()
	data := bytes.Repeat([]byte("0123456789abcdef"), (11<<20)/16+3) // three parts, the last short
	src := filepath.Join(t.TempDir(), "big.bin")
	os.WriteFile(src, data, 0o644)
	f, err := fs.Upload(ctx, src, "staging", "G1/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	if f.Size != int64(len(data)) {
		t.Errorf("size = %d", f.Size)
	}
	head, err := fs.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("staging"), Key: aws.String("G1/big.bin")})
	if err != nil || aws.ToInt64(head.ContentLength) != int64(len(data)) {
		t.Fatalf("head: %v, %+v", err, head)
	}
	dst := filepath.Join(t.TempDir(), "big.bin")
	if err := fs.Download(ctx, f, dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); !bytes.Equal(b, data) {
		t.Error("the multipart object came back different")
	}
}

// TestProcessOverS3 is a step's whole attempt against the embedded S3
// endpoint: inputs downloaded from it, outputs uploaded to it.
func TestProcessOverS3(t *testing.T) {
	skipWithoutUnix(t)
	fs := s3Files(t)
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "a.txt")
	os.WriteFile(src, []byte("hello\n"), 0o644)
	in, err := fs.Upload(ctx, src, "staging", "incoming/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	in.Type = "data"
	task := &graph.Task{Name: "t", LocalCommand: []string{"sh", "-c", `tr a-z A-Z < "$CUMULUS_INPUT_DIR/a.txt" > "$CUMULUS_OUTPUT_DIR/a.upper"`}}
	job := Job{
		Task:    task,
		Input:   contract.Input{Pipeline: "p", Step: "s", Attempt: 1, Granule: contract.Granule{ID: "G1", Files: []contract.File{in}}},
		WorkDir: t.TempDir(),
		Files:   fs,
	}
	res, err := NewProcess(ProcessOptions{}).Run(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Granule.Files) != 2 {
		t.Fatalf("files = %+v", res.Granule.Files)
	}
	back := filepath.Join(t.TempDir(), "a.upper")
	if err := fs.Download(ctx, res.Granule.Files[1], back); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(back); string(b) != "HELLO\n" {
		t.Errorf("output = %q", b)
	}
}
