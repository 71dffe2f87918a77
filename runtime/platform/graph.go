package platform

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

// Objects is what the platform needs of S3.
type Objects interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// exists says whether an object is there. It lists the key as a prefix
// rather than reading the object: S3 answers a missing object with 403,
// not 404, to a caller that may not list the bucket, and the policies
// allow listing only under the prefixes each piece uses.
func exists(ctx context.Context, client Objects, bucket, key string) (bool, error) {
	out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(key), MaxKeys: aws.Int32(1)})
	if err != nil {
		return false, err
	}
	return len(out.Contents) > 0 && aws.ToString(out.Contents[0].Key) == key, nil
}

// GraphSource reads the compiled graph from S3 and keeps it while its ETag
// stays the same: a warm function checks with one HeadObject, and a
// redeploy that changes the graph is seen at the next invocation.
type GraphSource struct {
	S3          Objects
	Bucket, Key string

	mu   sync.Mutex
	etag string
	g    *graph.Graph
}

// ParseS3URL splits s3://BUCKET/KEY.
func ParseS3URL(u string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	bucket, key, _ = strings.Cut(rest, "/")
	if !ok || bucket == "" || key == "" {
		return "", "", fmt.Errorf("%q is not an S3 location (s3://BUCKET/KEY)", u)
	}
	return bucket, key, nil
}

// NewGraphSource reads the graph at u (s3://BUCKET/KEY).
func NewGraphSource(client Objects, u string) (*GraphSource, error) {
	if u == "" {
		return nil, fmt.Errorf("%s is not set: the function does not know where the compiled graph is (deploy sets it)", EnvGraph)
	}
	b, k, err := ParseS3URL(u)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvGraph, err)
	}
	return &GraphSource{S3: client, Bucket: b, Key: k}, nil
}

// Graph returns the current graph.
func (s *GraphSource) Graph(ctx context.Context) (*graph.Graph, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.g != nil {
		head, err := s.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(s.Key)})
		if err != nil {
			return nil, fmt.Errorf("checking the compiled graph s3://%s/%s: %w", s.Bucket, s.Key, err)
		}
		if aws.ToString(head.ETag) == s.etag {
			return s.g, nil
		}
	}
	out, err := s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(s.Key)})
	if err != nil {
		return nil, fmt.Errorf("reading the compiled graph s3://%s/%s (deploy puts it there): %w", s.Bucket, s.Key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the compiled graph s3://%s/%s: %w", s.Bucket, s.Key, err)
	}
	g, err := graph.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("s3://%s/%s: %w", s.Bucket, s.Key, err)
	}
	s.g, s.etag = g, aws.ToString(out.ETag)
	return g, nil
}
