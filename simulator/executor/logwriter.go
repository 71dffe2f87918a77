package executor

import (
	"bytes"
	"io"
	"sync"
)

// maxLine bounds how much of a line without a newline is held back: output
// that never ends a line (a progress bar, binary) still reaches the log.
const maxLine = 64 << 10

// logSink is the step's log, shared by the writers of its streams so that
// whole lines from stdout and stderr interleave but never mix.
type logSink struct {
	mu  sync.Mutex
	w   io.Writer
	err error // the first write error, kept rather than returned
}

func newLogSink(w io.Writer) *logSink {
	if w == nil {
		w = io.Discard
	}
	return &logSink{w: w}
}

func (s *logSink) write(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	_, s.err = s.w.Write(p)
}

// lineWriter is one stream of a step's output, passed on a line at a time.
// It never fails: a step must not block or die because its log cannot be
// written, so a write error is kept in the sink and reported once.
type lineWriter struct {
	sink *logSink
	buf  []byte
}

func (s *logSink) stream() *lineWriter { return &lineWriter{sink: s} }

func (l *lineWriter) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	if i := bytes.LastIndexByte(l.buf, '\n'); i >= 0 {
		l.sink.write(l.buf[:i+1])
		l.buf = append(l.buf[:0], l.buf[i+1:]...)
	}
	if len(l.buf) >= maxLine {
		l.flush()
	}
	return len(p), nil
}

// flush writes a last line that has no newline.
func (l *lineWriter) flush() {
	if len(l.buf) > 0 {
		l.sink.write(l.buf)
		l.buf = l.buf[:0]
	}
}
