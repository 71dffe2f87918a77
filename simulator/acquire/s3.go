package acquire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/cumulus-toolchain/cumulus/lang"
)

// s3Lister reads objects under a key prefix of a bucket outside the archive
// (a provider's "host" is the bucket's name). The client comes from the
// caller, configured for the provider's region and credentials.
type s3Lister struct {
	o      options
	client *s3.Client
	bucket string
}

func newS3(p *lang.Provider, client *s3.Client, o options) *s3Lister {
	return &s3Lister{o: o, client: client, bucket: p.Host}
}

func (l *s3Lister) url(key string) string { return "s3://" + l.bucket + "/" + key }

// List pages through ListObjectsV2 under the prefix root. Without
// recursive, only the objects directly under it are listed (the "/"
// delimiter folds deeper keys into common prefixes, which are skipped).
// Keys ending in '/' are folder markers some tools create, not files.
func (l *s3Lister) List(ctx context.Context, root string, recursive bool) ([]RemoteFile, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(l.bucket), Prefix: aws.String(root)}
	if !recursive {
		in.Delimiter = aws.String("/")
	}
	var files []RemoteFile
	pages := s3.NewListObjectsV2Paginator(l.client, in)
	for pages.HasMorePages() {
		// The SDK retries throttling and transient failures of each request.
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", l.url(root), err)
		}
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			if key == "" || strings.HasSuffix(key, "/") {
				continue
			}
			f := RemoteFile{Path: key, Name: path.Base(key), Size: -1, URL: l.url(key)}
			if obj.Size != nil {
				f.Size = *obj.Size
			}
			if obj.LastModified != nil {
				f.ModTime = obj.LastModified.UTC()
			}
			files = append(files, f)
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// Open streams an object with GetObject; a broken body is resumed with a
// Range request pinned to the first response's ETag, so that a resumed read
// never splices two versions of the object.
func (l *s3Lister) Open(ctx context.Context, f RemoteFile) (io.ReadCloser, error) {
	if f.URL == "" {
		f.URL = l.url(f.Path)
	}
	var etag string
	open := func(ctx context.Context, offset int64) (transfer, int64, error) {
		tctx, cancel := context.WithCancel(ctx)
		in := &s3.GetObjectInput{Bucket: aws.String(l.bucket), Key: aws.String(f.Path)}
		if offset > 0 {
			in.Range = aws.String("bytes=" + strconv.FormatInt(offset, 10) + "-")
			if etag != "" {
				in.IfMatch = aws.String(etag)
			}
		}
		out, err := l.client.GetObject(tctx, in)
		if err != nil {
			cancel()
			return nil, 0, classifyS3(fmt.Errorf("GetObject %s: %w", f.URL, err))
		}
		if offset == 0 {
			etag = aws.ToString(out.ETag)
		}
		return newIdleBody(out.Body, cancel, l.o.timeout), offset, nil
	}
	return newResumer(ctx, &l.o, f, open), nil
}

// classifyS3 marks the answers that another try cannot change.
func classifyS3(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NoSuchBucket", "AccessDenied", "InvalidRange", "PreconditionFailed", "InvalidObjectState":
			if ae.ErrorCode() == "PreconditionFailed" {
				err = fmt.Errorf("%w: it changed while being read: %w", ErrIncomplete, err)
			}
			return &permanent{err}
		}
	}
	return err
}

// Close does nothing: the client belongs to the caller.
func (l *s3Lister) Close() error { return nil }
