package builtin

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cumulus-toolchain/cumulus/stdlib/checksum"
)

// Algorithms are the checksum algorithms the steps compute, as the checksum
// step's `algorithm` input names them: stdlib/checksum's.
func Algorithms() []string {
	var names []string
	for _, a := range checksum.Algorithms() {
		names = append(names, string(a))
	}
	return names
}

// hashObject streams the object through the algorithm's hash: granules can
// be gigabytes, so nothing is held in memory. It also returns the bytes
// read, and fails when they fall short of the object's length (a cut
// connection must not pass for a checksum of the whole file).
func hashObject(ctx context.Context, c S3, bucket, key string, alg checksum.Algorithm) (sum string, size int64, err error) {
	h := checksum.New(alg)
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return "", 0, fmt.Errorf("reading %s: %w", s3url(bucket, key), err)
	}
	defer out.Body.Close()
	n, err := io.Copy(h, out.Body)
	if err != nil {
		return "", n, fmt.Errorf("reading %s: %w", s3url(bucket, key), err)
	}
	if want := out.ContentLength; want != nil && *want != n {
		return "", n, fmt.Errorf("reading %s: got %d bytes of %d", s3url(bucket, key), n, *want)
	}
	return checksum.Format(alg, h.Sum(nil)), n, nil
}

// maxSidecarBytes bounds what is read of a sidecar: a checksum file is a
// few lines, and a misrouted data file must not be read into memory.
const maxSidecarBytes = 1 << 20

func readSmallObject(ctx context.Context, c S3, bucket, key string) ([]byte, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s3url(bucket, key), err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, maxSidecarBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s3url(bucket, key), err)
	}
	if len(b) > maxSidecarBytes {
		return nil, fmt.Errorf("%s is over %d bytes, too large for a checksum file", s3url(bucket, key), maxSidecarBytes)
	}
	return b, nil
}
