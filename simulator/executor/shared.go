package executor

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// This file exports the parts of an attempt that the step wrapper
// (runtime/stepwrap) does inside a task's container on AWS, so that the
// rules are written once: how a step's result is read and checked, how the
// files it leaves are named and uploaded, and how a file is checked
// against its checksum.

// ParseResult reads and checks a result a step wrote to CUMULUS_RESULT,
// for the input granule in, as the executors do.
func ParseResult(data []byte, in contract.Granule) (contract.Result, error) {
	return parseResult(data, in)
}

// CollectOutputs is the result of a step that wrote none: in's granule plus
// every regular file left in outDir, uploaded through files to the staging
// bucket (the bucket of the granule's first file) under "<granule id>/<name>",
// with their size and SHA-256 checksum. The rules are the executors'.
func CollectOutputs(ctx context.Context, files FileStore, in contract.Input, outDir string, logger *slog.Logger) (contract.Result, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	job := Job{Input: in, Files: files}
	return collectOutputs(ctx, job, workspace{out: outDir}, logger)
}

// ChecksumError is a file whose content does not match its checksum: the
// copy read is not the file the granule describes.
type ChecksumError struct {
	Name string
	Err  error
}

func (e *ChecksumError) Error() string { return fmt.Sprintf("%s: %v", e.Name, e.Err) }

func (e *ChecksumError) Unwrap() error { return e.Err }

// VerifyFile checks the local file at path against f's size (when it is
// known, non-zero) and checksum (when it is set). A mismatch is a
// *ChecksumError; a checksum that cannot be read (an unknown type) is a
// plain error.
func VerifyFile(path string, f contract.File) error {
	v, err := newVerifier(f.Checksum, f.ChecksumType)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	r, err := os.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	var n int64
	if v != nil {
		n, err = io.Copy(v, r)
	} else {
		var st os.FileInfo
		st, err = r.Stat()
		if st != nil {
			n = st.Size()
		}
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if f.Size > 0 && n != f.Size {
		return &ChecksumError{Name: f.Name, Err: fmt.Errorf("size mismatch: got %d bytes, want %d", n, f.Size)}
	}
	if v != nil {
		if err := v.check(); err != nil {
			return &ChecksumError{Name: f.Name, Err: err}
		}
	}
	return nil
}

// DownloadChecked is Download, but a content that does not match f's
// checksum is a *ChecksumError, told apart from a storage error (which may
// pass on a retry) in one pass over the bytes. Nothing is left at dst on
// any failure.
func (s S3Files) DownloadChecked(ctx context.Context, f contract.File, dst string) (err error) {
	v, err := newVerifier(f.Checksum, f.ChecksumType)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	obj, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String(f.Key)},
		func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
	if err != nil {
		return fmt.Errorf("getting s3://%s/%s: %w", f.Bucket, f.Key, err)
	}
	defer obj.Body.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".download-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	var w io.Writer = tmp
	if v != nil {
		w = io.MultiWriter(tmp, v)
	}
	n, err := io.Copy(w, obj.Body)
	if err != nil {
		return fmt.Errorf("reading s3://%s/%s: %w", f.Bucket, f.Key, err)
	}
	if f.Size > 0 && n != f.Size {
		return &ChecksumError{Name: f.Name, Err: fmt.Errorf("size mismatch: got %d bytes, want %d", n, f.Size)}
	}
	if v != nil {
		if err := v.check(); err != nil {
			return &ChecksumError{Name: f.Name, Err: err}
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
