package acquire

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// transfer is one attempt at reading a file: a stream that starts at some
// offset of the file.
type transfer interface {
	io.Reader
	// end ends the attempt. After the stream returned io.EOF (aborted
	// false) it reports whether the server confirmed the transfer complete
	// (FTP's 226 reply); a stream that merely stopped is an error there.
	// With aborted true the attempt is being abandoned.
	end(aborted bool) error
}

// openFunc starts a transfer of the file from offset. It returns where the
// stream really starts: offset when the server resumed, 0 when it can only
// send the whole file (the reader then skips what it already delivered).
type openFunc func(ctx context.Context, offset int64) (t transfer, at int64, err error)

// resumer is the reader Open returns for network providers: it reads
// through transfers, and when one breaks, opens another from where the
// last stopped. It returns io.EOF only once the file was delivered whole:
// the server confirmed the end and, when the listing gave a size, exactly
// that many bytes arrived.
type resumer struct {
	ctx  context.Context
	o    *options
	name string // for messages: the file's URL
	size int64  // -1 when unknown
	open openFunc

	cur   transfer
	off   int64 // bytes delivered so far
	fails int   // consecutive failed attempts without progress
	err   error // sticky: once failed, a reader stays failed
	done  bool
}

func newResumer(ctx context.Context, o *options, f RemoteFile, open openFunc) *resumer {
	size := f.Size
	if size < 0 {
		size = -1
	}
	return &resumer{ctx: ctx, o: o, name: f.URL, size: size, open: open}
}

func (r *resumer) Read(p []byte) (int, error) {
	for {
		switch {
		case r.err != nil:
			return 0, r.err
		case r.done:
			return 0, io.EOF
		case len(p) == 0:
			return 0, nil
		}
		if err := r.ctx.Err(); err != nil {
			r.abort()
			r.err = fmt.Errorf("reading %s: %w", r.name, err)
			return 0, r.err
		}
		if r.cur == nil {
			if err := r.start(); err != nil {
				if r.failed(err) {
					return 0, r.err
				}
				continue
			}
		}
		// Never read past the listed size: more bytes mean the file changed.
		buf := p
		if r.size >= 0 && int64(len(buf)) > r.size-r.off+1 {
			buf = buf[:r.size-r.off+1]
		}
		n, err := r.cur.Read(buf)
		r.off += int64(n)
		if n > 0 {
			r.fails = 0
		}
		if r.size >= 0 && r.off > r.size {
			r.abort()
			r.err = fmt.Errorf("reading %s: %w: more than the %d bytes listed (it changed since it was listed)", r.name, ErrIncomplete, r.size)
			return 0, r.err
		}
		switch {
		case err == nil:
			if n > 0 {
				return n, nil
			}
			continue
		case errors.Is(err, io.EOF):
			t := r.cur
			r.cur = nil
			if endErr := t.end(false); endErr != nil {
				r.failed(fmt.Errorf("transfer ended after %d bytes: %w", r.off, endErr))
			} else if r.size >= 0 && r.off != r.size {
				r.failed(fmt.Errorf("transfer ended after %d of %d bytes", r.off, r.size))
			} else {
				r.done = true
			}
		default:
			r.abort()
			r.failed(fmt.Errorf("transfer broke after %d bytes: %w", r.off, err))
		}
		if n > 0 {
			return n, nil
		}
	}
}

// start opens a transfer from r.off, skipping what the stream repeats.
func (r *resumer) start() error {
	t, at, err := r.open(r.ctx, r.off)
	if err != nil {
		return err
	}
	if at < r.off {
		if skipped, err := io.CopyN(io.Discard, t, r.off-at); err != nil {
			_ = t.end(true)
			return fmt.Errorf("skipping the %d bytes already read (restarted from the beginning): got %d: %w", r.off-at, skipped, err)
		}
	}
	r.cur = t
	return nil
}

// failed records a failed attempt and waits before the next. It reports
// whether the reader has given up (r.err is then set).
func (r *resumer) failed(err error) bool {
	r.fails++
	if isPermanent(err) || r.fails >= r.o.attempts {
		if !errors.Is(err, ErrIncomplete) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w: %w", ErrIncomplete, err)
		}
		r.err = fmt.Errorf("reading %s (%d attempts): %w", r.name, r.fails, err)
		return true
	}
	r.o.log.Warn("transfer interrupted; resuming", "file", r.name, "offset", r.off, "attempt", r.fails, "error", err)
	if werr := r.o.backoff(r.ctx, r.fails); werr != nil {
		r.err = fmt.Errorf("reading %s: %w", r.name, werr)
		return true
	}
	return false
}

func (r *resumer) abort() {
	if r.cur != nil {
		_ = r.cur.end(true)
		r.cur = nil
	}
}

// Close abandons the transfer in progress, if any.
func (r *resumer) Close() error {
	r.abort()
	if r.err == nil && !r.done {
		r.err = errors.New("reader closed")
	}
	return nil
}
