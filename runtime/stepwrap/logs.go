package stepwrap

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
)

// maxLine bounds a line held back for its newline: output that never ends
// a line (a progress bar) still reaches the log, in pieces.
const maxLine = 64 << 10

// lineLogger turns one stream of the program's output into log records, a
// line each, tagged with the stream's name (the logger carries the step's
// pipeline, step, granule and attempt).
type lineLogger struct {
	mu     sync.Mutex
	log    *slog.Logger
	stream string
	buf    []byte
}

func newLineLogger(log *slog.Logger, stream string) *lineLogger {
	return &lineLogger{log: log, stream: stream}
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.emit(l.buf[:i])
		l.buf = l.buf[i+1:]
	}
	for len(l.buf) >= maxLine {
		l.emit(l.buf[:maxLine])
		l.buf = l.buf[maxLine:]
	}
	l.buf = append([]byte(nil), l.buf...) // do not pin what was emitted
	return len(p), nil
}

// flush emits a last line that has no newline.
func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.emit(l.buf)
		l.buf = nil
	}
}

func (l *lineLogger) emit(line []byte) {
	l.log.Info(strings.TrimRight(string(line), "\r"), "stream", l.stream)
}
