// Package stage owns the staging copy: streaming one file into the staging
// bucket through the AWS SDK's S3 transfer manager (multipart above a
// part size), computing its checksums on the way, verifying the provider's
// checksum when there is one, and riding out an S3 endpoint that fails for
// a while. It is the same code against the embedded endpoint, MinIO or AWS;
// the completed upload is what raises the S3 event that starts a pipeline
// (DESIGN §4).
//
// Integrity is checked twice, for two different faults. Between this
// process and S3 the SDK sends a CRC32 of every request body and the
// endpoint refuses a body that does not match it (s3local does, as S3
// does). Between the provider and this process only the provider's
// checksum can tell, so Upload computes MD5 and SHA-256 always, the
// provider's algorithm besides, and deletes what it staged when the
// provider's checksum does not match.
package stage

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cumulus-toolchain/cumulus/stdlib/checksum"
)

// Options tune a Stager. The zero value is ready to use.
type Options struct {
	// PartSize is the size of a multipart upload's parts: a file larger
	// than this goes up as a multipart upload. Each upload in flight holds
	// up to Concurrency+2 parts in memory. Default 8 MiB; S3's minimum is
	// 5 MiB.
	PartSize int64
	// Concurrency is how many parts of one file are sent at once. Default 4.
	Concurrency int
	// MaxAttempts bounds the attempts of each S3 request (the first one
	// included) when S3 answers 5xx, throttles, or the connection fails.
	// Default 12.
	MaxAttempts int
	// MaxBackoff caps the wait between two attempts. The bound on the wait
	// starts at 200 ms and doubles up to MaxBackoff; each wait is drawn at
	// random below its bound, so that clients failing together do not
	// retry together. Default 5s: with the default attempts a request
	// outlasts about 20 s of failures on average, 40 s at most.
	MaxBackoff time.Duration
	// Logger receives a line for each retried request. Default: discard.
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultPartSize    = 8 << 20
	DefaultConcurrency = 4
	DefaultMaxAttempts = 12
	DefaultMaxBackoff  = 5 * time.Second
)

// minPartSize is S3's minimum size of a part (but the last).
const minPartSize = 5 << 20

// Result describes a staged file.
type Result struct {
	Bucket, Key string
	Size        int64
	// MD5 is the file's digest, lowercase hex: the checksum the granule
	// records. SHA256 is its SHA-256 digest when want asked for SHA-256
	// ("" otherwise: hashing costs as much as copying on a small machine,
	// so nothing is hashed that no one reads).
	MD5, SHA256 string
	// Checksum is the file's checksum in the algorithm the caller asked
	// for (want's), in canonical form; zero when it asked for none.
	Checksum Checksum
	// ETag and VersionID are what S3 answered for the object.
	ETag, VersionID string
	// Parts is the number of parts of the multipart upload, 0 when the
	// file went up in a single PUT.
	Parts int
}

// ErrChecksumMismatch is matched (errors.Is) by every *ChecksumError.
var ErrChecksumMismatch = errors.New("checksum mismatch")

// ChecksumError says that a staged file does not have the checksum it was
// expected to have: which file, in which algorithm, and both values.
type ChecksumError struct {
	Bucket, Key string
	Algorithm   Algorithm
	Want, Got   string
	// CleanupErr is why the staged object could not be deleted, if so.
	CleanupErr error
}

func (e *ChecksumError) Error() string {
	fate := "the staged object was deleted"
	if e.CleanupErr != nil {
		fate = "deleting the staged object failed: " + e.CleanupErr.Error()
	}
	return fmt.Sprintf("stage: s3://%s/%s: %s checksum mismatch: expected %s, the data received has %s; %s",
		e.Bucket, e.Key, e.Algorithm, e.Want, e.Got, fate)
}

func (e *ChecksumError) Is(target error) bool { return target == ErrChecksumMismatch }

// Stager stages files into S3 with one client and one set of Options. It
// is safe for concurrent use.
type Stager struct {
	client *s3.Client
	opts   Options
	tm     *transfermanager.Client
	// s3opts applies our retry policy to every request Stager makes,
	// leaving the client's own configuration alone for its other users.
	s3opts func(*s3.Options)
}

// New returns a Stager uploading through client.
func New(client *s3.Client, opts Options) (*Stager, error) {
	if client == nil {
		return nil, errors.New("stage: no S3 client")
	}
	if opts.PartSize == 0 {
		opts.PartSize = DefaultPartSize
	}
	if opts.PartSize < minPartSize {
		return nil, fmt.Errorf("stage: part size %d is below S3's minimum of %d bytes", opts.PartSize, minPartSize)
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	retryer := loggingRetryer{
		RetryerV2: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = opts.MaxAttempts
			o.MaxBackoff = opts.MaxBackoff
			o.BaseDelay = retryBaseDelay
			// The standard retryer's token bucket stops retrying after a
			// burst of failures, exactly when an endpoint failing for a
			// while needs retries most; MaxAttempts bounds them instead.
			o.RateLimiter = ratelimit.None
		}),
		log: opts.Logger,
	}
	s := &Stager{
		client: client,
		opts:   opts,
		s3opts: func(o *s3.Options) { o.Retryer = retryer },
	}
	// The transfer manager has no per-request client options: it sends
	// every request through s3API, which adds ours.
	s.tm = transfermanager.New(s3API{s}, func(o *transfermanager.Options) {
		o.PartSizeBytes = opts.PartSize
		// Multipart from one full part on, as Upload's doc says (the
		// transfer manager's default threshold is two parts).
		o.MultipartUploadThreshold = opts.PartSize
		o.Concurrency = opts.Concurrency
		// FailTimeout stays 0: the transfer manager then aborts a failed
		// multipart upload with the caller's context, which s3API's
		// AbortMultipartUpload detaches from its cancellation. A
		// FailTimeout would abort with a fresh context.Background one,
		// dropping the caller's values.
	})
	return s, nil
}

// Upload stages r under bucket/key with default Options: see
// (*Stager).Upload.
func Upload(ctx context.Context, client *s3.Client, bucket, key string, r io.Reader, want Checksum) (Result, error) {
	s, err := New(client, Options{})
	if err != nil {
		return Result{}, err
	}
	return s.Upload(ctx, bucket, key, r, want)
}

// retryBaseDelay is the first retry's bound. The SDK's 50 ms suits a
// throttled request; an endpoint answering 500s needs longer to recover.
const retryBaseDelay = 200 * time.Millisecond

// cleanupTimeout bounds the requests that remove what a failed upload
// left, which run even when ctx is done.
const cleanupTimeout = 30 * time.Second

// Upload streams r into bucket/key: in one PUT when it is shorter than a
// part, as a multipart upload otherwise, reading r once and holding at most
// Concurrency+2 parts (and 4 MiB waiting to be hashed). It returns the size
// and checksums of what it read.
//
// When want is not zero, the data must have that checksum: on a mismatch
// the object is deleted and the error is a *ChecksumError. A want that is
// malformed is refused before anything is read. When the upload fails, a
// multipart upload it began is aborted, so nothing is left half-written.
func (s *Stager) Upload(ctx context.Context, bucket, key string, r io.Reader, want Checksum) (Result, error) {
	where := fmt.Sprintf("s3://%s/%s", bucket, key)
	if !want.IsZero() {
		var err error
		if want, err = checksum.Normalize(want); err != nil {
			return Result{}, fmt.Errorf("stage: %s: %w", where, err)
		}
	}
	src := newHashingReader(r, want.Algorithm)
	defer src.finish()

	out, err := s.tm.UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket: aws.String(bucket),
		Key:    aws.String(key),
		Body:   src,
	})
	if err != nil {
		// A multipart upload begun has been aborted by then: the transfer
		// manager aborts it through s3API.AbortMultipartUpload.
		if src.err != nil {
			return Result{}, fmt.Errorf("stage: %s: reading the source: %w", where, src.err)
		}
		return Result{}, fmt.Errorf("stage: %s: upload: %w", where, err)
	}

	src.finish()
	res := Result{
		Bucket:    bucket,
		Key:       key,
		Size:      src.n,
		MD5:       checksum.Format(MD5, src.md5.Sum(nil)),
		ETag:      aws.ToString(out.ETag),
		VersionID: aws.ToString(out.VersionID),
		Parts:     len(out.CompletedParts),
	}
	if want.Algorithm == SHA256 {
		res.SHA256 = src.sum(SHA256)
	}
	if !want.IsZero() {
		res.Checksum = Checksum{Algorithm: want.Algorithm, Value: src.sum(want.Algorithm)}
		if res.Checksum.Value != want.Value {
			cerr := &ChecksumError{Bucket: bucket, Key: key, Algorithm: want.Algorithm, Want: want.Value, Got: res.Checksum.Value}
			cerr.CleanupErr = s.remove(ctx, bucket, key)
			return Result{}, cerr
		}
	}
	return res, nil
}

func (s *Stager) remove(ctx context.Context, bucket, key string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}, s.s3opts)
	return err
}

// hashingReader computes the checksums of what is read through it, off
// the reading goroutine: Read copies the data into a small set of buffers
// and returns, and one goroutine per algorithm hashes them. The transfer
// manager reads parts on a single goroutine, so hashing there would make
// each part wait for MD5 and SHA-256 in turn (MD5 alone runs at about the
// speed of the whole copy); this way the hashes keep pace in parallel, and
// the reader only waits when they fall hashBacklog buffers behind.
//
// It is deliberately not an io.Seeker: the transfer manager would then seek
// it to learn its size, which a stream cannot tell.
type hashingReader struct {
	r   io.Reader
	n   int64
	err error // the source's read error, to tell it from an S3 one

	md5, extra hash.Hash // extra: want's algorithm when it is not MD5

	workers   []chan *hashChunk
	free      chan []byte // buffers the workers are done with
	allocated int
	cur       []byte // the buffer being filled
	wg        sync.WaitGroup
	finished  bool
}

type hashChunk struct {
	b    []byte
	left atomic.Int32 // workers yet to hash b
}

const (
	hashBufferSize = 256 << 10
	hashBacklog    = 16
)

func newHashingReader(r io.Reader, alg Algorithm) *hashingReader {
	h := &hashingReader{r: r, md5: checksum.New(MD5), free: make(chan []byte, hashBacklog)}
	hs := []hash.Hash{h.md5}
	if alg != "" && alg != MD5 {
		h.extra = checksum.New(alg)
		hs = append(hs, h.extra)
	}
	for _, hh := range hs {
		in := make(chan *hashChunk, hashBacklog)
		h.workers = append(h.workers, in)
		h.wg.Go(func() {
			for c := range in {
				hh.Write(c.b)
				if c.left.Add(-1) == 0 {
					h.free <- c.b[:0] // never blocks: free holds every buffer there is
				}
			}
		})
	}
	return h
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	for data := p[:n]; len(data) > 0; {
		if h.cur == nil {
			h.cur = h.buffer()
		}
		m := copy(h.cur[len(h.cur):cap(h.cur)], data)
		h.cur = h.cur[:len(h.cur)+m]
		data = data[m:]
		if len(h.cur) == cap(h.cur) {
			h.dispatch()
		}
	}
	h.n += int64(n)
	if err != nil && err != io.EOF {
		h.err = err
	}
	return n, err
}

// buffer returns an empty buffer, waiting for one when hashBacklog are in
// the workers' hands.
func (h *hashingReader) buffer() []byte {
	if h.allocated < hashBacklog {
		select {
		case b := <-h.free:
			return b
		default:
			h.allocated++
			return make([]byte, 0, hashBufferSize)
		}
	}
	return <-h.free
}

func (h *hashingReader) dispatch() {
	c := &hashChunk{b: h.cur}
	c.left.Store(int32(len(h.workers)))
	for _, in := range h.workers {
		in <- c
	}
	h.cur = nil
}

// finish hashes what is left and stops the workers; the sums are final
// after it. Upload calls it on every path, so no goroutine outlives it.
func (h *hashingReader) finish() {
	if h.finished {
		return
	}
	h.finished = true
	if len(h.cur) > 0 {
		h.dispatch()
	}
	for _, in := range h.workers {
		close(in)
	}
	h.wg.Wait()
}

// sum is a's checksum of everything read, once finish has returned.
func (h *hashingReader) sum(a Algorithm) string {
	switch {
	case a == MD5:
		return checksum.Format(MD5, h.md5.Sum(nil))
	default:
		return checksum.Format(a, h.extra.Sum(nil))
	}
}

// loggingRetryer is the SDK's retryer, logging each retry with its cause:
// "S3 answering 500s for a while" should be visible, not silent.
type loggingRetryer struct {
	aws.RetryerV2
	log *slog.Logger
}

func (r loggingRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	d, derr := r.RetryerV2.RetryDelay(attempt, err)
	if derr == nil {
		r.log.Warn("stage: S3 request failed; retrying", "attempt", attempt, "max_attempts", r.MaxAttempts(), "wait", d, "err", err)
	}
	return d, derr
}

// s3API is the client the transfer manager sends its requests through:
// Stager's client, with Stager's retry policy added to every request, as
// the transfer manager offers no client options of its own to add it with.
// It implements every method the transfer manager may call, so none goes
// out without the policy.
type s3API struct{ s *Stager }

var _ transfermanager.S3APIClient = s3API{}

// with returns fns and the Stager's options, in a new slice: the transfer
// manager shares fns between its goroutines.
func (a s3API) with(fns []func(*s3.Options)) []func(*s3.Options) {
	return append(fns[:len(fns):len(fns)], a.s.s3opts)
}

func (a s3API) PutObject(ctx context.Context, in *s3.PutObjectInput, fns ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return a.s.client.PutObject(ctx, in, a.with(fns)...)
}

func (a s3API) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, fns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	return a.s.client.CreateMultipartUpload(ctx, in, a.with(fns)...)
}

func (a s3API) UploadPart(ctx context.Context, in *s3.UploadPartInput, fns ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	return a.s.client.UploadPart(ctx, in, a.with(fns)...)
}

func (a s3API) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, fns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	return a.s.client.CompleteMultipartUpload(ctx, in, a.with(fns)...)
}

// AbortMultipartUpload is how the transfer manager aborts a multipart
// upload that failed. It runs even when ctx is done, since the caller's
// context is often the very thing that was cancelled, bounded by
// cleanupTimeout instead. A failure is logged and not returned: the
// transfer manager would fold it into the error Upload returns, flattened
// to text, losing the cause (a cancellation above all) that callers test
// with errors.Is.
func (a s3API) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, fns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	out, err := a.s.client.AbortMultipartUpload(ctx, in, a.with(fns)...)
	if err != nil {
		a.s.opts.Logger.Warn("stage: could not abort a failed multipart upload; its parts stay in the bucket until aborted",
			"bucket", aws.ToString(in.Bucket), "key", aws.ToString(in.Key), "upload_id", aws.ToString(in.UploadId), "err", err)
		return &s3.AbortMultipartUploadOutput{}, nil
	}
	return out, nil
}

// The transfer manager's uploads make none of these requests; they are
// here so that its interface is met, with the policy all the same.

func (a s3API) GetObject(ctx context.Context, in *s3.GetObjectInput, fns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return a.s.client.GetObject(ctx, in, a.with(fns)...)
}

func (a s3API) HeadObject(ctx context.Context, in *s3.HeadObjectInput, fns ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	return a.s.client.HeadObject(ctx, in, a.with(fns)...)
}

func (a s3API) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, fns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return a.s.client.ListObjectsV2(ctx, in, a.with(fns)...)
}
