package stage_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"

	"github.com/cumulus-toolchain/cumulus/simulator/stage"
)

// BenchmarkStaging compares Upload with a bare copy: the SDK's transfer
// manager sending the same bytes, from the same kind of stream (a plain
// io.Reader, as a download is), with the same part size and concurrency,
// to the same embedded endpoint. The difference is what staging adds:
// hashing on the way and verifying.
//
// Each iteration makes one bare copy and one staged upload, in alternating
// order, and the two are timed apart: on a shared machine the load drifts
// between runs, and pairing keeps that drift out of the comparison. It
// reports both throughputs and stage/bare, the figure quoted as "staging
// ≥ 90% of a bare copy". want=md5 verifies a checksum computed anyway;
// want=cksum makes Upload compute a third one.
//
// source=memory reads the file from memory: nothing but CPU limits either
// copy, and the endpoint runs in the same process, so staging's hashing
// (MD5 above all) competes with the copy itself; that is the worst case.
// source=100MB/s paces the source like a provider on a fast network, the
// case staging is for.
//
//	go test -run '^$' -bench Staging -benchtime 20x ./simulator/stage/
//
// The endpoint's folder is in $TMPDIR; TMPDIR=/dev/shm takes the disk out
// of the measure.
func BenchmarkStaging(b *testing.B) {
	srv := startS3(b)
	c := client(b, srv.URL())
	ctx := context.Background()
	type source struct {
		name string
		rate float64 // bytes per second; 0: unpaced
	}
	for _, tc := range []struct {
		size int
		src  source
	}{
		{1 << 20, source{"memory", 0}},
		{64 << 20, source{"memory", 0}},
		{64 << 20, source{"100MB/s", 100e6}},
	} {
		size := tc.size
		data := randomBytes(9, size)
		open := func() io.Reader {
			if tc.src.rate == 0 {
				return &stream{bytes.NewReader(data)}
			}
			return &pacedReader{r: bytes.NewReader(data), rate: tc.src.rate}
		}
		for _, alg := range []stage.Algorithm{stage.MD5, stage.Cksum} {
			want := stage.Checksum{Algorithm: alg, Value: checksumOf(b, alg, data)}
			b.Run(fmt.Sprintf("size=%dMiB/source=%s/want=%s", size>>20, tc.src.name, alg), func(b *testing.B) {
				up := transfermanager.New(c, func(o *transfermanager.Options) {
					o.PartSizeBytes = stage.DefaultPartSize
					o.MultipartUploadThreshold = stage.DefaultPartSize // as Stager sets it
					o.Concurrency = stage.DefaultConcurrency
				})
				s, err := stage.New(c, stage.Options{})
				if err != nil {
					b.Fatal(err)
				}
				bare := func() {
					_, err := up.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: aws.String("staging"), Key: aws.String("bare"), Body: open()})
					if err != nil {
						b.Fatal(err)
					}
				}
				staged := func() {
					if _, err := s.Upload(ctx, "staging", "staged", open(), want); err != nil {
						b.Fatal(err)
					}
				}
				var tBare, tStage time.Duration
				timed := func(f func(), into *time.Duration) {
					start := time.Now()
					f()
					*into += time.Since(start)
				}
				i := 0
				b.SetBytes(2 * int64(size))
				for b.Loop() {
					if i%2 == 0 {
						timed(bare, &tBare)
						timed(staged, &tStage)
					} else {
						timed(staged, &tStage)
						timed(bare, &tBare)
					}
					i++
				}
				mb := float64(size) * float64(i) / 1e6
				b.ReportMetric(mb/tBare.Seconds(), "bare-MB/s")
				b.ReportMetric(mb/tStage.Seconds(), "stage-MB/s")
				b.ReportMetric(tBare.Seconds()/tStage.Seconds(), "stage/bare")
			})
		}
	}
}

// pacedReader delivers r no faster than rate bytes per second, as a
// download would.
type pacedReader struct {
	r     io.Reader
	rate  float64
	start time.Time
	n     int64
}

func (p *pacedReader) Read(b []byte) (int, error) {
	if p.start.IsZero() {
		p.start = time.Now()
	}
	b = b[:min(len(b), 256<<10)] // a network read is small
	n, err := p.r.Read(b)
	p.n += int64(n)
	if ahead := time.Duration(float64(p.n)/p.rate*float64(time.Second)) - time.Since(p.start); ahead > 0 {
		time.Sleep(ahead)
	}
	return n, err
}

// checksumOf computes data's checksum in alg through Upload's own error
// report, so the benchmark needs no second implementation of cksum.
func checksumOf(b *testing.B, alg stage.Algorithm, data []byte) string {
	if alg == stage.MD5 {
		return hexMD5(data)
	}
	srv := startS3(b)
	_, err := stage.Upload(context.Background(), client(b, srv.URL()), "staging", "probe", bytes.NewReader(data), stage.Checksum{Algorithm: alg, Value: "0"})
	var ce *stage.ChecksumError
	if !errors.As(err, &ce) {
		b.Fatal(err)
	}
	return ce.Got
}

// BenchmarkHashing is the hashing Upload does on the way (MD5 and
// SHA-256), alone: the ceiling staging's own work puts on throughput.
func BenchmarkHashing(b *testing.B) {
	data := randomBytes(10, 64<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		m, s := md5.New(), sha256.New()
		if _, err := io.Copy(io.MultiWriter(m, s), bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
