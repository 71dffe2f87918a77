package acquire

import (
	"context"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/jlaffaye/ftp"

	"github.com/cumulus-toolchain/cumulus/simulator/s3local"
	"github.com/cumulus-toolchain/cumulus/simulator/stage"
)

// BenchmarkFTPStaging measures what the simulator does with a file from an
// FTP source, against a bare copy loop of the same libraries: jlaffaye/ftp
// RETR piped into the SDK's transfer manager (same part size and
// concurrency as the stager), from the same vsftpd on 127.0.0.1 to the same
// embedded S3 endpoint. The staged copy goes through the FTP lister (its
// connection pool, resume-on-drop bookkeeping) and stage.Stager (MD5 on the
// way, the checksum the granule records; retries; cleanup). Each iteration
// makes one of each, alternating which goes first, timed apart; it reports
// both throughputs and stage/bare (the goal: at least 0.9).
//
// Everything shares the machine's cores, the FTP server and the S3
// endpoint included, so this is the worst case: a provider across a
// network leaves the CPU idle while it waits for bytes (BenchmarkStaging's
// source=100MB/s in simulator/stage).
//
//	go test ./simulator/acquire -run '^$' -bench FTPStaging -benchtime 10x
func BenchmarkFTPStaging(b *testing.B) {
	root := b.TempDir()
	const size = 64 << 20
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "pub"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "pub", "G.nc"), data, 0o644); err != nil {
		b.Fatal(err)
	}
	srv := startVsftpd(b, root, nil)
	ctx := context.Background()
	s3srv, err := s3local.Start(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s3srv.Close()
	client, err := s3local.Client(ctx, s3srv.URL())
	if err != nil {
		b.Fatal(err)
	}
	if err := s3local.EnsureBuckets(ctx, client, []string{"staging"}); err != nil {
		b.Fatal(err)
	}
	remote := srv.Prefix + "/pub/G.nc"

	up := transfermanager.New(client, func(o *transfermanager.Options) {
		o.PartSizeBytes = stage.DefaultPartSize
		o.MultipartUploadThreshold = stage.DefaultPartSize
		o.Concurrency = stage.DefaultConcurrency
	})
	conn, err := ftp.Dial(net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.Port)), ftp.DialWithTimeout(10*time.Second))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Quit()
	if err := conn.Login("anonymous", "anonymous"); err != nil {
		b.Fatal(err)
	}
	bare := func() {
		r, err := conn.Retr(remote)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := up.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: aws.String("staging"), Key: aws.String("bare"), Body: r}); err != nil {
			b.Fatal(err)
		}
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
	}

	lister, err := New(ftpProvider(srv.Port), "", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer lister.Close()
	stager, err := stage.New(client, stage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	file := RemoteFile{Path: remote, Name: "G.nc", Size: size}
	staged := func() {
		r, err := lister.Open(ctx, file)
		if err != nil {
			b.Fatal(err)
		}
		res, err := stager.Upload(ctx, "staging", "staged", r, stage.Checksum{})
		if cerr := r.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			b.Fatal(err)
		}
		if res.Size != size {
			b.Fatalf("staged %d bytes of %d", res.Size, size)
		}
	}

	var tBare, tStage time.Duration
	timed := func(f func(), into *time.Duration) {
		start := time.Now()
		f()
		*into += time.Since(start)
	}
	i := 0
	b.SetBytes(2 * size)
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
}
