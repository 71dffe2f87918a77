package distribution

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

// stream serves an object's bytes (or, for HEAD, its headers) through the
// handler, passing Range and the conditional headers to S3 so that S3 does
// the byte arithmetic and the comparisons.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, b *graph.DistributionBucket, key, cacheControl string) {
	ctx := r.Context()
	in := &s3.GetObjectInput{Bucket: &b.BucketName, Key: &key}
	if rg := r.Header.Get("Range"); validRange(rg) {
		in.Range = &rg
	}
	if v := r.Header.Get("If-None-Match"); v != "" {
		in.IfNoneMatch = &v
	}
	if v := r.Header.Get("If-Match"); v != "" {
		in.IfMatch = &v
	}
	if t, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil {
		in.IfModifiedSince = &t
	}
	if t, err := http.ParseTime(r.Header.Get("If-Unmodified-Since")); err == nil {
		in.IfUnmodifiedSince = &t
	}
	var (
		body io.ReadCloser
		hd   objectHeaders
		err  error
	)
	if r.Method == http.MethodHead {
		var out *s3.HeadObjectOutput
		out, err = h.objects.HeadObject(ctx, &s3.HeadObjectInput{
			Bucket: in.Bucket, Key: in.Key, Range: in.Range,
			IfNoneMatch: in.IfNoneMatch, IfMatch: in.IfMatch, IfModifiedSince: in.IfModifiedSince, IfUnmodifiedSince: in.IfUnmodifiedSince,
		})
		if err == nil {
			hd = objectHeaders{out.ContentType, out.ContentLength, out.ContentRange, out.ETag, out.LastModified}
		}
	} else {
		var out *s3.GetObjectOutput
		out, err = h.objects.GetObject(ctx, in)
		if err == nil {
			body = out.Body
			defer body.Close()
			hd = objectHeaders{out.ContentType, out.ContentLength, out.ContentRange, out.ETag, out.LastModified}
		}
	}
	if err != nil {
		h.streamError(w, r, b, key, err)
		return
	}
	out := w.Header()
	out.Set("Accept-Ranges", "bytes")
	out.Set("Cache-Control", cacheControl)
	if hd.contentType != nil {
		out.Set("Content-Type", *hd.contentType)
	} else {
		out.Set("Content-Type", "application/octet-stream")
	}
	if hd.length != nil {
		out.Set("Content-Length", strconv.FormatInt(*hd.length, 10))
	}
	if hd.etag != nil {
		out.Set("ETag", *hd.etag)
	}
	if hd.modified != nil {
		out.Set("Last-Modified", hd.modified.UTC().Format(http.TimeFormat))
	}
	status := http.StatusOK
	if hd.contentRange != nil && in.Range != nil {
		out.Set("Content-Range", *hd.contentRange)
		status = http.StatusPartialContent
	}
	w.WriteHeader(status)
	if body == nil {
		return
	}
	if _, err := io.Copy(w, body); err != nil && ctx.Err() == nil {
		// Headers are gone: all that is left is to cut the response short,
		// which the client sees against Content-Length.
		h.log.LogAttrs(ctx, slog.LevelWarn, "distribution: stream cut", slog.String("bucket", b.BucketName), slog.String("key", key), slog.String("error", err.Error()))
		panic(http.ErrAbortHandler)
	}
}

type objectHeaders struct {
	contentType  *string
	length       *int64
	contentRange *string
	etag         *string
	modified     *time.Time
}

// validRange accepts the byte ranges S3 does; anything else is ignored, as
// RFC 9110 says an unknown range unit is.
func validRange(v string) bool {
	spec, ok := strings.CutPrefix(v, "bytes=")
	if !ok || len(v) > 256 || spec == "" {
		return false
	}
	for _, part := range strings.Split(spec, ",") {
		first, last, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok || (first == "" && last == "") || !digits(first) || !digits(last) {
			return false
		}
	}
	return true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) <= 19
}

// streamError maps what S3 answered to the client's status.
func (h *Handler) streamError(w http.ResponseWriter, r *http.Request, b *graph.DistributionBucket, key string, err error) {
	status := 0
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey", "NotFound":
			status = http.StatusNotFound
		case "InvalidRange":
			status = http.StatusRequestedRangeNotSatisfiable
		case "NotModified":
			status = http.StatusNotModified
		case "PreconditionFailed":
			status = http.StatusPreconditionFailed
		}
	}
	switch status {
	case http.StatusNotFound:
		h.refuse(w, http.StatusNotFound, "not found")
	case http.StatusNotModified:
		w.WriteHeader(http.StatusNotModified)
	case http.StatusPreconditionFailed:
		h.refuse(w, http.StatusPreconditionFailed, "precondition failed")
	case http.StatusRequestedRangeNotSatisfiable:
		// The client needs the size to ask again; S3 does not say it in
		// the error, so ask.
		if head, herr := h.objects.HeadObject(r.Context(), &s3.HeadObjectInput{Bucket: &b.BucketName, Key: &key}); herr == nil && head.ContentLength != nil {
			w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(*head.ContentLength, 10))
		}
		h.refuse(w, http.StatusRequestedRangeNotSatisfiable, "range not satisfiable")
	default:
		if r.Context().Err() != nil {
			return // the client went away
		}
		h.log.LogAttrs(r.Context(), slog.LevelError, "distribution: read object", slog.String("bucket", b.BucketName), slog.String("key", key), slog.String("error", err.Error()))
		h.refuse(w, http.StatusBadGateway, "storage unavailable")
	}
}
