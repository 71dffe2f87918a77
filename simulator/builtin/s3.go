package builtin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3 is the part of the S3 API the steps use. *s3.Client satisfies it, for
// AWS, MinIO and the simulator's embedded endpoint alike; keeping it narrow
// says exactly what the platform's roles must allow.
type S3 interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	CopyObject(ctx context.Context, in *s3.CopyObjectInput, opts ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

var _ S3 = (*s3.Client)(nil)

// object is what HeadObject tells of an object.
type object struct {
	Size int64
	ETag string
}

// head returns the object's size and ETag, and false when there is no such
// object.
func head(ctx context.Context, c S3, bucket, key string) (object, bool, error) {
	out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		if isNotFound(err) {
			return object{}, false, nil
		}
		return object{}, false, fmt.Errorf("looking at %s: %w", s3url(bucket, key), err)
	}
	return object{Size: aws.ToInt64(out.ContentLength), ETag: aws.ToString(out.ETag)}, true, nil
}

// sameObject says whether two objects are the same bytes, as far as S3 can
// tell without reading them: same size and ETag. CopyObject keeps a
// single-part object's ETag, so a copy is recognised; when ETags are not
// comparable (multipart, SSE-KMS) the answer is a safe "no".
func sameObject(a, b object) bool {
	return a.Size == b.Size && a.ETag != "" && a.ETag == b.ETag
}

// isNotFound recognises S3's "no such object" however it is reported:
// HeadObject has no body, so only the status tells there.
func isNotFound(err error) bool {
	var nf *types.NotFound
	var nsk *types.NoSuchKey
	if errors.As(err, &nf) || errors.As(err, &nsk) {
		return true
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NotFound", "NoSuchKey":
			return true
		}
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}

// copyObject copies within or across buckets. A single CopyObject handles
// objects up to 5 GB, which covers the granules this serves; larger ones
// would need a multipart copy.
func copyObject(ctx context.Context, c S3, srcBucket, srcKey, dstBucket, dstKey string) error {
	_, err := c.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket:     aws.String(dstBucket),
		Key:        aws.String(dstKey),
		CopySource: aws.String(copySource(srcBucket, srcKey)),
	})
	if err != nil {
		return fmt.Errorf("copying %s to %s: %w", s3url(srcBucket, srcKey), s3url(dstBucket, dstKey), err)
	}
	return nil
}

func deleteObject(ctx context.Context, c S3, bucket, key string) error {
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("deleting %s: %w", s3url(bucket, key), err)
	}
	return nil
}

// copySource is the x-amz-copy-source value: "bucket/key", URL-encoded.
// Everything but unreserved characters and '/' is escaped; url.PathEscape
// would leave '+' alone, which S3 may read as a space.
func copySource(bucket, key string) string {
	var b strings.Builder
	for _, c := range []byte(bucket + "/" + key) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// listKeys lists every key under prefix, page by page.
func listKeys(ctx context.Context, c S3, bucket, prefix string) ([]types.Object, error) {
	var out []types.Object
	var token *string
	for {
		page, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
			Bucket:            aws.String(bucket),
			Prefix:            aws.String(prefix),
			ContinuationToken: token,
		})
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", s3url(bucket, prefix), err)
		}
		out = append(out, page.Contents...)
		if !aws.ToBool(page.IsTruncated) || page.NextContinuationToken == nil {
			return out, nil
		}
		token = page.NextContinuationToken
	}
}
