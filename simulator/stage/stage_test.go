package stage_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cumulus-toolchain/cumulus/simulator/s3local"
	"github.com/cumulus-toolchain/cumulus/simulator/stage"
)

// isolateAWSEnv keeps the developer's own AWS configuration out of a test.
func isolateAWSEnv(tb testing.TB) {
	tb.Helper()
	none := filepath.Join(tb.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_PROFILE": "",
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_S3": "",
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		tb.Setenv(k, v)
	}
}

// startS3 starts an embedded endpoint with a staging bucket and returns
// it with a client for url (its own, or a proxy's in front of it).
func startS3(tb testing.TB) *s3local.Server {
	tb.Helper()
	isolateAWSEnv(tb)
	srv, err := s3local.Start(context.Background(), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Close() })
	c := client(tb, srv.URL())
	if err := s3local.EnsureBuckets(context.Background(), c, []string{"staging"}); err != nil {
		tb.Fatal(err)
	}
	return srv
}

func client(tb testing.TB, endpoint string) *s3.Client {
	tb.Helper()
	c, err := s3local.Client(context.Background(), endpoint)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// stream hides everything but Read, as a download from a provider would.
type stream struct{ r io.Reader }

func (s *stream) Read(p []byte) (int, error) { return s.r.Read(p) }

func hexMD5(b []byte) string    { s := md5.Sum(b); return hex.EncodeToString(s[:]) }
func hexSHA256(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func readBack(t *testing.T, c *s3.Client, key string) []byte {
	t.Helper()
	out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("staging"), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func assertAbsent(t *testing.T, c *s3.Client, key string) {
	t.Helper()
	_, err := c.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String("staging"), Key: aws.String(key)})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("%s: HEAD says %v, want it absent", key, err)
	}
	ups, err := c.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String("staging")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Errorf("multipart uploads left behind: %d", len(ups.Uploads))
	}
}

func TestUploadSmallFileInOnePut(t *testing.T) {
	srv := startS3(t)
	c := client(t, srv.URL())
	data := randomBytes(1, 300_000)
	res, err := stage.Upload(t.Context(), c, "staging", "G1/small.nc", &stream{bytes.NewReader(data)}, stage.Checksum{})
	if err != nil {
		t.Fatal(err)
	}
	want := stage.Result{
		Bucket: "staging", Key: "G1/small.nc", Size: int64(len(data)),
		MD5: hexMD5(data), ETag: `"` + hexMD5(data) + `"`,
	}
	if res != want {
		t.Errorf("result %+v\nwant   %+v", res, want)
	}
	if !bytes.Equal(readBack(t, c, "G1/small.nc"), data) {
		t.Error("staged object differs")
	}
}

func TestUploadLargeFileInParts(t *testing.T) {
	srv := startS3(t)
	c := client(t, srv.URL())
	data := randomBytes(2, 21<<20+17)
	s, err := stage.New(c, stage.Options{PartSize: 5 << 20, Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := stage.Checksum{Algorithm: "SHA-256", Value: strings.ToUpper(hexSHA256(data))}
	res, err := s.Upload(t.Context(), "staging", "G1/big.h5", &stream{bytes.NewReader(data)}, want)
	if err != nil {
		t.Fatal(err)
	}
	if res.Parts != 5 || res.Size != int64(len(data)) || res.MD5 != hexMD5(data) {
		t.Errorf("parts %d size %d md5 %s", res.Parts, res.Size, res.MD5)
	}
	if res.Checksum != (stage.Checksum{Algorithm: stage.SHA256, Value: hexSHA256(data)}) {
		t.Errorf("checksum %v", res.Checksum)
	}
	if !bytes.Equal(readBack(t, c, "G1/big.h5"), data) {
		t.Error("staged object differs")
	}
}

func TestUploadVerifiesEveryAlgorithm(t *testing.T) {
	srv := startS3(t)
	c := client(t, srv.URL())
	data := []byte("123456789")
	s512 := sha512.Sum512(data)
	for _, want := range []stage.Checksum{
		{Algorithm: stage.MD5, Value: hexMD5(data)},
		{Algorithm: stage.SHA1, Value: "f7c3bc1d808e04732adf679965ccc34ca7ae3441"},
		{Algorithm: stage.SHA256, Value: hexSHA256(data)},
		{Algorithm: stage.SHA512, Value: hex.EncodeToString(s512[:])},
		{Algorithm: stage.Cksum, Value: "930766865"},
	} {
		res, err := stage.Upload(t.Context(), c, "staging", "k-"+string(want.Algorithm), bytes.NewReader(data), want)
		if err != nil {
			t.Errorf("%s: %v", want.Algorithm, err)
			continue
		}
		if res.Checksum != want {
			t.Errorf("%s: result checksum %v", want.Algorithm, res.Checksum)
		}
	}
}

func TestUploadChecksumMismatchDeletesTheObject(t *testing.T) {
	srv := startS3(t)
	c := client(t, srv.URL())
	for name, size := range map[string]int{"single": 1000, "multipart": 11 << 20} {
		t.Run(name, func(t *testing.T) {
			data := randomBytes(3, size)
			wrong := hexSHA256([]byte("something else"))
			s, err := stage.New(c, stage.Options{PartSize: 5 << 20})
			if err != nil {
				t.Fatal(err)
			}
			key := "G2/" + name + ".nc"
			_, err = s.Upload(t.Context(), "staging", key, &stream{bytes.NewReader(data)}, stage.Checksum{Algorithm: stage.SHA256, Value: wrong})
			if !errors.Is(err, stage.ErrChecksumMismatch) {
				t.Fatalf("err = %v, want a checksum mismatch", err)
			}
			var ce *stage.ChecksumError
			if !errors.As(err, &ce) || ce.CleanupErr != nil {
				t.Fatalf("err = %#v", err)
			}
			msg := err.Error()
			for _, part := range []string{"s3://staging/" + key, "sha256", wrong, hexSHA256(data), "deleted"} {
				if !strings.Contains(msg, part) {
					t.Errorf("error %q does not say %q", msg, part)
				}
			}
			assertAbsent(t, c, key)
		})
	}
}

// readFunc is a source that fails the test if it is ever read.
type readFunc func([]byte) (int, error)

func (f readFunc) Read(p []byte) (int, error) { return f(p) }

func TestUploadRefusesAMalformedChecksumBeforeReading(t *testing.T) {
	srv := startS3(t)
	c := client(t, srv.URL())
	src := readFunc(func([]byte) (int, error) { t.Fatal("the source was read"); return 0, nil })
	for _, want := range []stage.Checksum{{Algorithm: "crc99", Value: "1"}, {Algorithm: "md5", Value: "xyz"}, {Value: "abc"}} {
		_, err := stage.Upload(t.Context(), c, "staging", "k", src, want)
		if err == nil || !strings.Contains(err.Error(), "s3://staging/k") {
			t.Errorf("want %v: %v, want an error naming the file", want, err)
		}
	}
}

// failingSource gives n good bytes, then fails as a dropped connection.
type failingSource struct {
	r   io.Reader
	err error
}

func (f *failingSource) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func TestUploadSourceFailureLeavesNothing(t *testing.T) {
	srv := startS3(t)
	c := client(t, srv.URL())
	s, err := stage.New(c, stage.Options{PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	drop := errors.New("connection reset by provider")
	for name, size := range map[string]int{"single": 1000, "multipart": 12 << 20} {
		src := &failingSource{r: bytes.NewReader(randomBytes(4, size)), err: drop}
		key := "G3/" + name
		_, err := s.Upload(t.Context(), "staging", key, src, stage.Checksum{})
		if !errors.Is(err, drop) || !strings.Contains(err.Error(), "reading the source") || !strings.Contains(err.Error(), "s3://staging/"+key) {
			t.Errorf("%s: err = %v", name, err)
		}
		assertAbsent(t, c, key)
	}
}

func TestUploadCancelledLeavesNothing(t *testing.T) {
	srv := startS3(t)
	c := client(t, srv.URL())
	s, err := stage.New(c, stage.Options{PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	data := randomBytes(5, 30<<20)
	var read atomic.Int64
	src := readFunc(func(p []byte) (int, error) {
		if read.Load() > 12<<20 {
			cancel() // the simulation is stopped mid-file
		}
		n, err := bytes.NewReader(data[read.Load():]).Read(p)
		read.Add(int64(n))
		return n, err
	})
	_, err = s.Upload(ctx, "staging", "G4/cancelled", src, stage.Checksum{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	assertAbsent(t, c, "G4/cancelled")
}

// flakyProxy stands in front of an endpoint and answers 500 InternalError
// to the requests fail picks, as S3 does when it is having a bad time.
type flakyProxy struct {
	*httptest.Server
	requests, failed atomic.Int64
}

func newFlakyProxy(t testing.TB, target string, fail func(n int64, r *http.Request) bool) *flakyProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &flakyProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := p.requests.Add(1)
		if fail(n, r) {
			p.failed.Add(1)
			io.Copy(io.Discard, r.Body) // S3 fails after receiving, too
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// syncBuffer is a log destination safe for the uploader's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The fault test "S3 answering 500s for a while": the first requests all
// fail, and staging still completes, a single PUT and a multipart upload.
func TestUploadRidesOutA500Storm(t *testing.T) {
	srv := startS3(t)
	const storm = 8 // more failures than any one request's attempts but the last
	proxy := newFlakyProxy(t, srv.URL(), func(n int64, _ *http.Request) bool { return n <= storm })
	c := client(t, proxy.URL)
	var logs syncBuffer
	s, err := stage.New(c, stage.Options{
		PartSize:    5 << 20,
		MaxAttempts: storm + 1,
		MaxBackoff:  20 * time.Millisecond,
		Logger:      slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, size := range map[string]int{"single": 4096, "multipart": 16<<20 + 3} {
		data := randomBytes(6, size)
		res, err := s.Upload(t.Context(), "staging", "G5/"+name, &stream{bytes.NewReader(data)}, stage.Checksum{Algorithm: stage.MD5, Value: hexMD5(data)})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Size != int64(len(data)) {
			t.Errorf("%s: size %d", name, res.Size)
		}
		if !bytes.Equal(readBack(t, client(t, srv.URL()), "G5/"+name), data) {
			t.Errorf("%s: staged object differs", name)
		}
	}
	if got := proxy.failed.Load(); got != storm {
		t.Errorf("the proxy failed %d requests, want %d", got, storm)
	}
	if n := strings.Count(logs.String(), "S3 request failed; retrying"); n != storm {
		t.Errorf("%d retries logged, want %d:\n%s", n, storm, logs.String())
	}
	if !strings.Contains(logs.String(), "InternalError") {
		t.Errorf("the retry log does not say why:\n%s", logs.String())
	}
}

// When S3 keeps failing beyond the attempts allowed, Upload gives up with
// S3's error and aborts the multipart upload it began.
func TestUploadGivesUpWhenS3KeepsFailing(t *testing.T) {
	srv := startS3(t)
	// Every part fails; creating, aborting and listing uploads work.
	proxy := newFlakyProxy(t, srv.URL(), func(_ int64, r *http.Request) bool { return r.URL.Query().Has("partNumber") })
	s, err := stage.New(client(t, proxy.URL), stage.Options{PartSize: 5 << 20, MaxAttempts: 3, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Upload(t.Context(), "staging", "G6/never", &stream{bytes.NewReader(randomBytes(7, 11<<20))}, stage.Checksum{})
	if err == nil || !strings.Contains(err.Error(), "InternalError") || !strings.Contains(err.Error(), "s3://staging/G6/never") {
		t.Fatalf("err = %v, want S3's InternalError naming the file", err)
	}
	if strings.Contains(err.Error(), "reading the source") {
		t.Errorf("an S3 failure blamed on the source: %v", err)
	}
	assertAbsent(t, client(t, srv.URL()), "G6/never")
}

// When the abort of a failed multipart upload fails too, Upload still
// returns the failure's cause, a cancellation here, and logs the upload
// it leaves behind.
func TestUploadFailedAbortIsLoggedNotReturned(t *testing.T) {
	srv := startS3(t)
	// Every abort fails.
	proxy := newFlakyProxy(t, srv.URL(), func(_ int64, r *http.Request) bool {
		return r.Method == http.MethodDelete && r.URL.Query().Has("uploadId")
	})
	var logs syncBuffer
	s, err := stage.New(client(t, proxy.URL), stage.Options{
		PartSize: 5 << 20, MaxAttempts: 2, MaxBackoff: time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	data := randomBytes(8, 11<<20)
	var read atomic.Int64
	src := readFunc(func(p []byte) (int, error) {
		if read.Load() > 6<<20 {
			cancel()
		}
		n, err := bytes.NewReader(data[read.Load():]).Read(p)
		read.Add(int64(n))
		return n, err
	})
	_, err = s.Upload(ctx, "staging", "G7/stuck", src, stage.Checksum{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if !strings.Contains(logs.String(), "could not abort a failed multipart upload") || !strings.Contains(logs.String(), "G7/stuck") ||
		!strings.Contains(logs.String(), "InternalError") {
		t.Errorf("the failed abort was not logged:\n%s", logs.String())
	}
	ups, err := client(t, srv.URL()).ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String("staging")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 1 {
		t.Errorf("%d multipart uploads in the bucket, want the 1 whose abort failed", len(ups.Uploads))
	}
}

func TestNewRejectsATinyPartSize(t *testing.T) {
	isolateAWSEnv(t)
	c := client(t, "http://127.0.0.1:1")
	if _, err := stage.New(c, stage.Options{PartSize: 1 << 20}); err == nil {
		t.Error("a 1 MiB part size was accepted")
	}
	if _, err := stage.New(nil, stage.Options{}); err == nil {
		t.Error("a nil client was accepted")
	}
}

func ExampleUpload() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "simulation-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	srv, err := s3local.Start(ctx, dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	c, err := s3local.Client(ctx, srv.URL())
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := s3local.EnsureBuckets(ctx, c, []string{"staging"}); err != nil {
		fmt.Println(err)
		return
	}
	res, err := stage.Upload(ctx, c, "staging", "G1/a.nc", strings.NewReader("123456789"),
		stage.Checksum{Algorithm: stage.Cksum, Value: "930766865"})
	fmt.Println(res.Size, res.MD5, err)
	// Output: 9 25f9e794323b453885f5181f1b624d0b <nil>
}
