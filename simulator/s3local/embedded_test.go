package s3local_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cumulus-toolchain/cumulus/simulator/s3local"
)

// embedded is the embedded server as a suite endpoint.
type embedded struct {
	dir string
	srv *s3local.Server
}

func startEmbedded(t *testing.T) endpoint {
	t.Helper()
	isolateAWSEnv(t)
	e := &embedded{dir: t.TempDir()}
	e.start(t)
	t.Cleanup(func() {
		if err := e.srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return e
}

func (e *embedded) start(t *testing.T) {
	t.Helper()
	srv, err := s3local.Start(t.Context(), e.dir)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
}

func (e *embedded) URL() string { return e.srv.URL() }

func (e *embedded) Restart(t *testing.T) {
	t.Helper()
	if err := e.srv.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	e.start(t)
}

func TestEmbedded(t *testing.T) {
	runSuite(t, startEmbedded)
}

func TestStartRefusesAFolderInUse(t *testing.T) {
	isolateAWSEnv(t)
	dir := t.TempDir()
	srv, err := s3local.Start(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err = s3local.Start(ctx, dir)
	if err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second Start on the same folder: %v, want an in-use error", err)
	}
}

func TestCloseIsIdempotentAndStopsServing(t *testing.T) {
	isolateAWSEnv(t)
	srv, err := s3local.Start(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if resp, err := http.Get(srv.URL()); err == nil {
		resp.Body.Close()
		t.Fatal("server still answers after Close")
	}
}

// A crash can leave received data that was never indexed; the next start
// removes it, and keeps what is indexed.
func TestStartSweepsUnreferencedData(t *testing.T) {
	isolateAWSEnv(t)
	dir := t.TempDir()
	srv, err := s3local.Start(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s3local.Client(t.Context(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	mustBuckets(t, c, "staging")
	put(t, c, "staging", "kept", []byte("kept"))
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	stray := filepath.Join(dir, "blobs", "ff", "ff00000000000000000000000000dead")
	partial := filepath.Join(dir, "tmp", "blob-123")
	for _, f := range []string{stray, partial} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("junk"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv, err = s3local.Start(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, f := range []string{stray, partial} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s survived the start: %v", f, err)
		}
	}
	c, err = s3local.Client(t.Context(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, c, "staging", "kept"); string(got) != "kept" {
		t.Errorf("indexed object read back as %q", got)
	}
}

// Deleting objects removes their data from the folder, overwrites too.
func TestDeletedDataLeavesTheFolder(t *testing.T) {
	isolateAWSEnv(t)
	dir := t.TempDir()
	srv, err := s3local.Start(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := s3local.Client(t.Context(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	mustBuckets(t, c, "staging")
	for range 3 {
		put(t, c, "staging", "k", bytes.Repeat([]byte("x"), 1000))
	}
	if n := countFiles(t, filepath.Join(dir, "blobs")); n != 1 {
		t.Errorf("%d data files for one object overwritten twice, want 1", n)
	}
	if _, err := c.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String("staging"), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, filepath.Join(dir, "blobs")); n != 0 {
		t.Errorf("%d data files left after deleting the only object", n)
	}
}

// The ETag the store keeps reaches the client as the ETag header, and the
// header carrying it from the store does not.
func TestInternalETagHeaderDoesNotLeak(t *testing.T) {
	srv, c := startWithClient(t)
	mustBuckets(t, c, "staging")
	put(t, c, "staging", "k", []byte("123456789"))
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		req, _ := http.NewRequestWithContext(t.Context(), method, srv.URL()+"/staging/k", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("ETag"); got != `"25f9e794323b453885f5181f1b624d0b"` {
			t.Errorf("%s: ETag %s", method, got)
		}
		for k := range resp.Header {
			if strings.HasPrefix(k, "X-Cumulus") {
				t.Errorf("%s: internal header %s answered", method, k)
			}
		}
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestClientRejectsABadEndpoint(t *testing.T) {
	isolateAWSEnv(t)
	for _, ep := range []string{"localhost:9000", "ftp://x", "http://"} {
		if _, err := s3local.Client(t.Context(), ep); err == nil || !strings.Contains(err.Error(), ep) {
			t.Errorf("Client(%q): %v, want an error naming it", ep, err)
		}
	}
}

// With no endpoint given, the standard AWS environment picks it: how a
// user points the simulator at MinIO without flags.
func TestClientFromEnvironment(t *testing.T) {
	isolateAWSEnv(t)
	srv, err := s3local.Start(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_S3", srv.URL())
	t.Setenv("AWS_ACCESS_KEY_ID", "from-env")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "from-env-secret")
	t.Setenv("AWS_REGION", "eu-west-3")
	c, err := s3local.Client(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	o := c.Options()
	if !o.UsePathStyle || o.Region != "eu-west-3" {
		t.Errorf("UsePathStyle %v region %q, want path style in eu-west-3", o.UsePathStyle, o.Region)
	}
	creds, err := o.Credentials.Retrieve(t.Context())
	if err != nil || creds.AccessKeyID != "from-env" {
		t.Errorf("credentials %v, %v; want the environment's", creds.AccessKeyID, err)
	}
	mustBuckets(t, c, "staging")
	put(t, c, "staging", "k", []byte("v"))
	if got := get(t, c, "staging", "k"); string(got) != "v" {
		t.Errorf("got %q", got)
	}

	// An explicit endpoint without credentials anywhere signs with dummy ones.
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_REGION", "")
	c, err = s3local.Client(t.Context(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Options().Region; r != s3local.DefaultRegion {
		t.Errorf("region %q, want %q", r, s3local.DefaultRegion)
	}
	if got := get(t, c, "staging", "k"); string(got) != "v" {
		t.Errorf("got %q", got)
	}
}

// A client for a loopback endpoint leaves bodies out of the signature, as
// the SDK does over TLS, and still sends their CRC32.
func TestLoopbackClientSendsUnsignedPayloadWithChecksum(t *testing.T) {
	isolateAWSEnv(t)
	var sha, crc string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sha, crc = r.Header.Get("X-Amz-Content-Sha256"), r.Header.Get("X-Amz-Checksum-Crc32")
		io.Copy(io.Discard, r.Body)
		w.Header().Set("ETag", `"x"`)
	}))
	defer ts.Close()
	for _, ep := range []string{ts.URL, strings.Replace(ts.URL, "127.0.0.1", "localhost", 1)} {
		c, err := s3local.Client(t.Context(), ep)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), Body: strings.NewReader("123456789")})
		if err != nil {
			t.Fatal(err)
		}
		if sha != "UNSIGNED-PAYLOAD" || crc != "y/Q5Jg==" {
			t.Errorf("%s: x-amz-content-sha256 %q, x-amz-checksum-crc32 %q; want UNSIGNED-PAYLOAD and y/Q5Jg==", ep, sha, crc)
		}
	}
}

// ListMultipartUploads pages by key, then by start within a key, and rolls
// keys up under a delimiter.
func TestListMultipartUploads(t *testing.T) {
	_, c := startWithClient(t)
	mustBuckets(t, c, "staging")
	var want []string
	for _, key := range []string{"a/1", "a/2", "b/1", "b/1", "c"} {
		out, err := c.CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: aws.String("staging"), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, key+"#"+aws.ToString(out.UploadId))
		time.Sleep(2 * time.Millisecond) // distinct start times order the two b/1
	}
	var got []string
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String("staging"), MaxUploads: aws.Int32(2)}
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("listing does not end")
		}
		out, err := c.ListMultipartUploads(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range out.Uploads {
			got = append(got, aws.ToString(u.Key)+"#"+aws.ToString(u.UploadId))
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("paged listing:\n%v\nwant\n%v", got, want)
	}
	out, err := c.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String("staging"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	var prefixes []string
	for _, p := range out.CommonPrefixes {
		prefixes = append(prefixes, aws.ToString(p.Prefix))
	}
	if strings.Join(prefixes, " ") != "a/ b/" || len(out.Uploads) != 1 || aws.ToString(out.Uploads[0].Key) != "c" {
		t.Errorf("delimited listing: prefixes %v, uploads %d", prefixes, len(out.Uploads))
	}
}

// startWithClient starts the embedded server in a temporary folder, with
// no AWS settings from the environment, and returns it with a client; both
// end with the test.
func startWithClient(t *testing.T) (*s3local.Server, *s3.Client) {
	t.Helper()
	isolateAWSEnv(t)
	srv, err := s3local.Start(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := s3local.Client(t.Context(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}
