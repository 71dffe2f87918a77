package s3local_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/cumulus-toolchain/cumulus/simulator/s3local"
)

// endpoint is an S3 API under test: the embedded server or a MinIO. The
// same suite runs against each, so the simulator can rely on nothing the
// embedded server does that MinIO does not.
type endpoint interface {
	// URL is the endpoint's current address (a restart may change it).
	URL() string
	// Restart stops the endpoint and starts it again on the same data.
	Restart(t *testing.T)
}

// isolateAWSEnv keeps the developer's own AWS configuration (profiles,
// endpoints, credentials) out of a test.
func isolateAWSEnv(t *testing.T) {
	t.Helper()
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE":             none,
		"AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_PROFILE":                 "",
		"AWS_ACCESS_KEY_ID":           "",
		"AWS_SECRET_ACCESS_KEY":       "",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "",
		"AWS_DEFAULT_REGION":          "",
		"AWS_ENDPOINT_URL":            "",
		"AWS_ENDPOINT_URL_S3":         "",
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
}

func newClient(t *testing.T, ep endpoint) *s3.Client {
	t.Helper()
	c, err := s3local.Client(t.Context(), ep.URL())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runSuite runs every conformance test against the endpoint start makes.
func runSuite(t *testing.T, start func(t *testing.T) endpoint) {
	tests := []struct {
		name string
		fn   func(t *testing.T, ep endpoint)
	}{
		{"EnsureBuckets", testEnsureBuckets},
		{"PutGetHead", testPutGetHead},
		{"List", testList},
		{"CopyDelete", testCopyDelete},
		{"Multipart20MB", testMultipart},
		{"MultipartAcrossRestart", testMultipartAcrossRestart},
		{"Persistence", testPersistence},
		{"ConcurrentUploads", testConcurrentUploads},
		{"BadChecksumRejected", testBadChecksum},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, start(t))
		})
	}
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func mustBuckets(t *testing.T, c *s3.Client, names ...string) {
	t.Helper()
	if err := s3local.EnsureBuckets(t.Context(), c, names); err != nil {
		t.Fatal(err)
	}
}

func put(t *testing.T, c *s3.Client, bucket, key string, data []byte) {
	t.Helper()
	_, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

func get(t *testing.T, c *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	return b
}

func errCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func testEnsureBuckets(t *testing.T, ep endpoint) {
	c := newClient(t, ep)
	names := []string{"staging", "protected", "public"}
	for range 2 { // idempotent
		mustBuckets(t, c, names...)
	}
	out, err := c.ListBuckets(t.Context(), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range out.Buckets {
		got = append(got, aws.ToString(b.Name))
	}
	for _, n := range names {
		if !slices.Contains(got, n) {
			t.Errorf("bucket %q missing from %v", n, got)
		}
	}
}

func testPutGetHead(t *testing.T, ep endpoint) {
	ctx := t.Context()
	c := newClient(t, ep)
	mustBuckets(t, c, "staging")
	data := randomBytes(1, 100_000)
	sum := md5.Sum(data)
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String("staging"),
		Key:         aws.String("granule 1/a+b.nc"),
		Body:        bytes.NewReader(data),
		ContentType: aws.String("application/x-netcdf"),
		Metadata:    map[string]string{"granule": "G1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, c, "staging", "granule 1/a+b.nc"); !bytes.Equal(got, data) {
		t.Fatalf("GET returned %d bytes, not what was put", len(got))
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("staging"), Key: aws.String("granule 1/a+b.nc")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(head.ContentLength) != int64(len(data)) {
		t.Errorf("HEAD size %d, want %d", aws.ToInt64(head.ContentLength), len(data))
	}
	if want := `"` + hex.EncodeToString(sum[:]) + `"`; aws.ToString(head.ETag) != want {
		t.Errorf("ETag %s, want %s", aws.ToString(head.ETag), want)
	}
	if aws.ToString(head.ContentType) != "application/x-netcdf" {
		t.Errorf("Content-Type %q", aws.ToString(head.ContentType))
	}
	if head.Metadata["granule"] != "G1" {
		t.Errorf("metadata %v", head.Metadata)
	}
	if head.LastModified == nil || time.Since(*head.LastModified) > time.Hour {
		t.Errorf("Last-Modified %v", head.LastModified)
	}

	// A ranged GET, as a resumed download makes.
	rng, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("staging"), Key: aws.String("granule 1/a+b.nc"), Range: aws.String("bytes=1000-1999")})
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(rng.Body)
	rng.Body.Close()
	if !bytes.Equal(part, data[1000:2000]) {
		t.Errorf("ranged GET returned %d bytes, not bytes 1000-1999", len(part))
	}

	// Overwriting replaces data and metadata.
	put(t, c, "staging", "granule 1/a+b.nc", []byte("short"))
	if got := get(t, c, "staging", "granule 1/a+b.nc"); string(got) != "short" {
		t.Errorf("after overwrite GET = %q", got)
	}
	// An empty object.
	put(t, c, "staging", "empty", nil)
	if got := get(t, c, "staging", "empty"); len(got) != 0 {
		t.Errorf("empty object read back as %d bytes", len(got))
	}

	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("staging"), Key: aws.String("missing")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Errorf("GET of a missing key: %v, want NoSuchKey", err)
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("staging"), Key: aws.String("missing")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HEAD of a missing key: %v, want NotFound", err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
	if errCode(err) != "NoSuchBucket" {
		t.Errorf("PUT into a missing bucket: %v, want NoSuchBucket", err)
	}
}

func testList(t *testing.T, ep endpoint) {
	ctx := t.Context()
	c := newClient(t, ep)
	mustBuckets(t, c, "staging")
	var want []string
	for g := range 3 {
		for f := range 9 {
			key := fmt.Sprintf("coll/G%d/file%d.nc", g, f)
			want = append(want, key)
			put(t, c, "staging", key, []byte(key))
		}
	}
	put(t, c, "staging", "other/x", []byte("x"))
	put(t, c, "staging", "top", []byte("x"))

	// Prefix, paged three keys at a time.
	var got []string
	pages := 0
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("staging"), Prefix: aws.String("coll/"), MaxKeys: aws.Int32(4)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range out.Contents {
			got = append(got, aws.ToString(o.Key))
			if aws.ToInt64(o.Size) != int64(len(aws.ToString(o.Key))) {
				t.Errorf("%s: size %d", aws.ToString(o.Key), aws.ToInt64(o.Size))
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("listed %v\nwant %v", got, want)
	}
	if pages != 7 {
		t.Errorf("%d pages of 4 for 27 keys, want 7", pages)
	}

	// Delimiter: the granule folders, paged one at a time.
	var prefixes []string
	p = s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("staging"), Prefix: aws.String("coll/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, cp := range out.CommonPrefixes {
			prefixes = append(prefixes, aws.ToString(cp.Prefix))
		}
		if len(out.Contents) != 0 {
			t.Errorf("delimited listing returned objects %v", out.Contents)
		}
	}
	if want := []string{"coll/G0/", "coll/G1/", "coll/G2/"}; !slices.Equal(prefixes, want) {
		t.Errorf("common prefixes %v, want %v", prefixes, want)
	}

	// ListObjects (v1) with a marker.
	out, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("staging"), Marker: aws.String("coll/G2/file8.nc")})
	if err != nil {
		t.Fatal(err)
	}
	var rest []string
	for _, o := range out.Contents {
		rest = append(rest, aws.ToString(o.Key))
	}
	if want := []string{"other/x", "top"}; !slices.Equal(rest, want) {
		t.Errorf("after marker: %v, want %v", rest, want)
	}
}

func testCopyDelete(t *testing.T, ep endpoint) {
	ctx := t.Context()
	c := newClient(t, ep)
	mustBuckets(t, c, "staging", "protected")
	data := randomBytes(2, 70_000)
	put(t, c, "staging", "G1/a.nc", data)
	_, err := c.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket:     aws.String("protected"),
		Key:        aws.String("coll/G1/a.nc"),
		CopySource: aws.String("staging/G1/a.nc"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, c, "protected", "coll/G1/a.nc"); !bytes.Equal(got, data) {
		t.Fatal("copy differs from source")
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("staging"), Key: aws.String("G1/a.nc")}); err != nil {
		t.Fatal(err)
	}
	// The copy outlives its source.
	if got := get(t, c, "protected", "coll/G1/a.nc"); !bytes.Equal(got, data) {
		t.Fatal("copy damaged by deleting the source")
	}
	// Deleting what is not there succeeds, as in S3.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("staging"), Key: aws.String("G1/a.nc")}); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	for i := range 5 {
		put(t, c, "staging", fmt.Sprintf("batch/%d", i), []byte{byte(i)})
	}
	var ids []types.ObjectIdentifier
	for i := range 5 {
		ids = append(ids, types.ObjectIdentifier{Key: aws.String(fmt.Sprintf("batch/%d", i))})
	}
	del, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("staging"), Delete: &types.Delete{Objects: ids}})
	if err != nil {
		t.Fatal(err)
	}
	if len(del.Errors) != 0 {
		t.Fatalf("DeleteObjects errors: %v", del.Errors)
	}
	left, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("staging")})
	if err != nil {
		t.Fatal(err)
	}
	if len(left.Contents) != 0 {
		t.Errorf("objects left after deleting all: %d", len(left.Contents))
	}
}

func testMultipart(t *testing.T, ep endpoint) {
	ctx := t.Context()
	c := newClient(t, ep)
	mustBuckets(t, c, "staging")
	data := randomBytes(3, 20<<20+12345) // ~20 MB: four full parts and a short one
	tm := transfermanager.New(c, func(o *transfermanager.Options) {
		o.PartSizeBytes = 5 << 20
		o.MultipartUploadThreshold = 5 << 20
	})
	// A plain io.Reader, as a download stream would be.
	out, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: aws.String("staging"), Key: aws.String("big.h5"), Body: io.MultiReader(bytes.NewReader(data))})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.CompletedParts) != 5 {
		t.Errorf("%d parts, want 5", len(out.CompletedParts))
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("staging"), Key: aws.String("big.h5")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(head.ContentLength) != int64(len(data)) {
		t.Errorf("size %d, want %d", aws.ToInt64(head.ContentLength), len(data))
	}
	// S3's ETag for a multipart object: the MD5 of the parts' MD5s, "-N";
	// the same from the completion, HEAD and LIST.
	sums := md5.New()
	for off := 0; off < len(data); off += 5 << 20 {
		s := md5.Sum(data[off:min(off+5<<20, len(data))])
		sums.Write(s[:])
	}
	wantETag := fmt.Sprintf(`"%x-5"`, sums.Sum(nil))
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("staging"), Prefix: aws.String("big.h5")})
	if err != nil || len(list.Contents) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	for what, etag := range map[string]*string{"completion": out.ETag, "HEAD": head.ETag, "LIST": list.Contents[0].ETag} {
		if aws.ToString(etag) != wantETag {
			t.Errorf("%s ETag %s, want %s", what, aws.ToString(etag), wantETag)
		}
	}
	got := get(t, c, "staging", "big.h5")
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatal("multipart object differs from what was uploaded")
	}
	// A range spanning a part boundary.
	rng, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("staging"), Key: aws.String("big.h5"), Range: aws.String(fmt.Sprintf("bytes=%d-%d", 5<<20-10, 5<<20+9))})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rng.Body)
	rng.Body.Close()
	if !bytes.Equal(b, data[5<<20-10:5<<20+10]) {
		t.Error("range across a part boundary differs")
	}
	// The transfer manager's download in parallel ranges.
	buf := tmtypes.NewWriteAtBuffer(nil)
	_, err = tm.DownloadObject(ctx, &transfermanager.DownloadObjectInput{Bucket: aws.String("staging"), Key: aws.String("big.h5"), WriterAt: buf},
		func(o *transfermanager.Options) { o.GetObjectType = tmtypes.GetObjectRanges })
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), data) {
		t.Error("parallel download differs")
	}
}

// testMultipartAcrossRestart drives a multipart upload by hand, with the
// endpoint restarted half-way: a simulation killed mid-upload resumes it.
func testMultipartAcrossRestart(t *testing.T, ep endpoint) {
	ctx := t.Context()
	c := newClient(t, ep)
	mustBuckets(t, c, "staging")
	parts := [][]byte{randomBytes(4, 5<<20), randomBytes(5, 5<<20), randomBytes(6, 1000)}
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("staging"), Key: aws.String("resumed.nc")})
	if err != nil {
		t.Fatal(err)
	}
	etags := make([]string, len(parts))
	uploadPart := func(c *s3.Client, i int) {
		t.Helper()
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String("staging"), Key: aws.String("resumed.nc"), UploadId: cr.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(parts[i]),
		})
		if err != nil {
			t.Fatalf("part %d: %v", i+1, err)
		}
		etags[i] = aws.ToString(out.ETag)
	}
	uploadPart(c, 2) // out of order, as concurrent workers finish
	uploadPart(c, 0)

	ep.Restart(t)
	c = newClient(t, ep)

	// With the key as prefix: MinIO lists uploads of one key at a time.
	lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("staging"), Prefix: aws.String("resumed.nc")})
	if err != nil {
		t.Fatal(err)
	}
	if len(lu.Uploads) != 1 || aws.ToString(lu.Uploads[0].UploadId) != aws.ToString(cr.UploadId) {
		t.Fatalf("uploads after restart: %+v", lu.Uploads)
	}
	lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("staging"), Key: aws.String("resumed.nc"), UploadId: cr.UploadId})
	if err != nil {
		t.Fatal(err)
	}
	var nums []int32
	for _, p := range lp.Parts {
		nums = append(nums, aws.ToInt32(p.PartNumber))
	}
	if !slices.Equal(nums, []int32{1, 3}) {
		t.Fatalf("parts after restart: %v, want [1 3]", nums)
	}
	uploadPart(c, 1)
	var done []types.CompletedPart
	for i := range parts {
		done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: aws.String(etags[i])})
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("staging"), Key: aws.String("resumed.nc"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, c, "staging", "resumed.nc"); !bytes.Equal(got, slices.Concat(parts...)) {
		t.Fatal("completed object differs from its parts")
	}

	// An aborted upload is gone.
	cr2, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("staging"), Key: aws.String("aborted")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("staging"), Key: aws.String("aborted"), UploadId: cr2.UploadId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String("staging"), Key: aws.String("aborted"), UploadId: cr2.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("x")),
	})
	if errCode(err) != "NoSuchUpload" {
		t.Errorf("part for an aborted upload: %v, want NoSuchUpload", err)
	}
}

func testPersistence(t *testing.T, ep endpoint) {
	ctx := t.Context()
	c := newClient(t, ep)
	mustBuckets(t, c, "staging", "public")
	want := map[string][]byte{}
	for i := range 10 {
		key := fmt.Sprintf("G%d/data.nc", i)
		want[key] = randomBytes(uint64(100+i), 1000*i)
		put(t, c, "staging", key, want[key])
	}
	put(t, c, "public", "gone", []byte("deleted before the restart"))
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("public"), Key: aws.String("gone")}); err != nil {
		t.Fatal(err)
	}

	for range 2 {
		ep.Restart(t)
	}
	c = newClient(t, ep)

	for key, data := range want {
		if got := get(t, c, "staging", key); !bytes.Equal(got, data) {
			t.Errorf("%s: %d bytes after restart, want %d", key, len(got), len(data))
		}
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("public")})
	if err != nil {
		t.Fatalf("bucket after restart: %v", err)
	}
	if len(out.Contents) != 0 {
		t.Errorf("deleted object back after restart")
	}
}

func testConcurrentUploads(t *testing.T, ep endpoint) {
	ctx := t.Context()
	c := newClient(t, ep)
	mustBuckets(t, c, "staging")
	const n = 12
	tm := transfermanager.New(c, func(o *transfermanager.Options) {
		o.PartSizeBytes = 5 << 20
		o.MultipartUploadThreshold = 5 << 20
		o.Concurrency = 3
	})
	data := make([][]byte, n)
	for i := range n {
		size := 200_000 * (i + 1)
		if i%4 == 0 {
			size = 6<<20 + i // some multipart
		}
		data[i] = randomBytes(uint64(1000+i), size)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			key := fmt.Sprintf("concurrent/%d", i)
			_, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: aws.String("staging"), Key: aws.String(key), Body: bytes.NewReader(data[i])})
			if err != nil {
				errs <- fmt.Errorf("upload %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range n {
		if got := get(t, c, "staging", fmt.Sprintf("concurrent/%d", i)); !bytes.Equal(got, data[i]) {
			t.Errorf("object %d differs (%d bytes, want %d)", i, len(got), len(data[i]))
		}
	}
}

func testBadChecksum(t *testing.T, ep endpoint) {
	ctx := t.Context()
	c := newClient(t, ep)
	mustBuckets(t, c, "staging")
	// The SDK sends a checksum the body does not have, as it would if the
	// data were damaged on the way.
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("staging"), Key: aws.String("damaged"),
		Body: strings.NewReader("the data"), ChecksumSHA256: aws.String("n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="),
	})
	if err == nil {
		t.Fatal("a body with a wrong checksum was accepted")
	}
	// S3 says BadDigest; MinIO may say XAmzContentChecksumMismatch.
	if code := errCode(err); !strings.Contains(code, "Digest") && !strings.Contains(code, "Checksum") {
		t.Errorf("wrong checksum: %v, want BadDigest", err)
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("staging"), Key: aws.String("damaged")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("the rejected object exists: %v", err)
	}
	// A right one passes.
	sum := sha256.Sum256([]byte("the data"))
	_, err = c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("staging"), Key: aws.String("intact"),
		Body: strings.NewReader("the data"), ChecksumSHA256: aws.String(b64(sum[:])),
	})
	if err != nil {
		t.Errorf("right checksum rejected: %v", err)
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
