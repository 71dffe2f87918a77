package acquire

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/cumulus-toolchain/cumulus/lang"
)

// TestS3 lists and reads a prefix of a bucket served by an in-memory S3
// (gofakes3) through the AWS SDK, as against a real bucket.
func TestS3(t *testing.T) {
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("key", "secret", ""),
	})
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("hs3-source")}); err != nil {
		t.Fatal(err)
	}
	tree := hs3Tree(t, t.TempDir())
	for p, b := range tree {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("hs3-source"), Key: aws.String(p), Body: bytes.NewReader(b)}); err != nil {
			t.Fatal(err)
		}
	}
	// A folder marker, as the console creates.
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("hs3-source"), Key: aws.String("pub/hs3/hamsr/2014/"), Body: bytes.NewReader(nil)}); err != nil {
		t.Fatal(err)
	}
	l, err := New(&lang.Provider{Name: "noaa", Protocol: "s3", Host: "hs3-source"}, "", client)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	files, err := l.List(ctx, "pub/hs3/hamsr/", true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.Path)
		if f.Size != int64(len(tree[f.Path])) || f.URL != "s3://hs3-source/"+f.Path {
			t.Errorf("%s: size %d URL %q", f.Path, f.Size, f.URL)
		}
		b, err := readAll(t, l, f)
		if err != nil || !bytes.Equal(b, tree[f.Path]) {
			t.Errorf("%s: read %d bytes, %v", f.Path, len(b), err)
		}
	}
	want := []string{
		"pub/hs3/hamsr/2013/09/HS3_HAMSR_20130912T120000.nc",
		"pub/hs3/hamsr/HS3_HAMSR_20130825T000000.nc",
		"pub/hs3/hamsr/HS3_HAMSR_20130825T000000.nc.md5",
		"pub/hs3/hamsr/HS3_HAMSR_20130825T000000.png",
		"pub/hs3/hamsr/README.txt",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("listing:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	flat, err := l.List(ctx, "pub/hs3/hamsr/", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(flat) != 4 {
		t.Errorf("non-recursive listing: %d objects, want 4", len(flat))
	}
	if _, err := readAll(t, l, RemoteFile{Path: "pub/nope", Name: "nope", Size: -1}); err == nil {
		t.Error("reading a missing object succeeded")
	}
}
