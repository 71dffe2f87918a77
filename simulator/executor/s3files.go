package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// DefaultPartSize is the size above which S3Files uploads a file in parts,
// and the size of each part.
const DefaultPartSize = 64 << 20

// S3Files is the FileStore over an S3 endpoint: the embedded one, MinIO or
// AWS, through the SDK as everywhere else in the simulator.
type S3Files struct {
	Client *s3.Client
	// PartSize is the multipart threshold and part size (DefaultPartSize
	// when 0; S3 wants at least 5 MiB for every part but the last).
	PartSize int64
}

var _ FileStore = S3Files{}

// Download streams the object to dst, hashing it on the way, and writes dst
// only once the size and checksum matched: a failed download leaves nothing
// that looks like the file.
func (s S3Files) Download(ctx context.Context, f contract.File, dst string) error {
	err := s.DownloadChecked(ctx, f, dst)
	var cerr *ChecksumError
	if errors.As(err, &cerr) {
		return fmt.Errorf("s3://%s/%s: %w", f.Bucket, f.Key, err)
	}
	return err
}

// Upload puts src at bucket/key, in parts when it is larger than PartSize,
// and returns it with its size and SHA-256 checksum.
func (s S3Files) Upload(ctx context.Context, src, bucket, key string) (contract.File, error) {
	size, sum, err := fileChecksum(src)
	if err != nil {
		return contract.File{}, err
	}
	f, err := os.Open(src)
	if err != nil {
		return contract.File{}, err
	}
	defer f.Close()
	part := s.PartSize
	if part <= 0 {
		part = DefaultPartSize
	}
	if size <= part {
		_, err = s.Client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        aws.String(bucket),
			Key:           aws.String(key),
			Body:          f,
			ContentLength: aws.Int64(size),
		})
	} else {
		err = s.multipart(ctx, f, size, part, bucket, key)
	}
	if err != nil {
		return contract.File{}, fmt.Errorf("putting s3://%s/%s: %w", bucket, key, err)
	}
	return contract.File{
		Name:         path.Base(key),
		Bucket:       bucket,
		Key:          key,
		Size:         size,
		Checksum:     sum,
		ChecksumType: uploadChecksumType,
	}, nil
}

// multipart uploads f in parts, one at a time (a simulation runs many steps
// at once already), aborting the upload if any part fails so that no
// orphaned parts stay in the bucket.
func (s S3Files) multipart(ctx context.Context, f *os.File, size, part int64, bucket, key string) (err error) {
	up, err := s.Client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_, abortErr := s.Client.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{
				Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
			})
			err = errors.Join(err, abortErr)
		}
	}()
	var parts []types.CompletedPart
	for off, n := int64(0), int32(1); off < size; off, n = off+part, n+1 {
		length := min(part, size-off)
		out, err := s.Client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket:        aws.String(bucket),
			Key:           aws.String(key),
			UploadId:      up.UploadId,
			PartNumber:    aws.Int32(n),
			Body:          io.NewSectionReader(f, off, length),
			ContentLength: aws.Int64(length),
		})
		if err != nil {
			return fmt.Errorf("part %d: %w", n, err)
		}
		// The SDK may add a checksum to each part; completing the upload
		// must then repeat it.
		parts = append(parts, types.CompletedPart{
			PartNumber:        aws.Int32(n),
			ETag:              out.ETag,
			ChecksumCRC32:     out.ChecksumCRC32,
			ChecksumCRC32C:    out.ChecksumCRC32C,
			ChecksumCRC64NVME: out.ChecksumCRC64NVME,
			ChecksumSHA1:      out.ChecksumSHA1,
			ChecksumSHA256:    out.ChecksumSHA256,
		})
	}
	_, err = s.Client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(bucket),
		Key:             aws.String(key),
		UploadId:        up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	return err
}
