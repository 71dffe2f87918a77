package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// LogSearcher is a LogSource that can search a log where it is kept, so
// that the API need not read a whole log to find a few lines in it:
// CloudWatch Logs' FilterLogEvents (runtime/engine/cwlogs). /api/logs uses
// it for a query when the LogSource has it, and reads the log itself
// otherwise.
type LogSearcher interface {
	LogSource
	// SearchLog returns the lines of one attempt's log that hold q.Text;
	// an error wrapping ErrNotFound when the attempt left no log.
	SearchLog(ctx context.Context, ref LogRef, q LogQuery) (LogMatches, error)
}

// LogQuery is a search of one attempt's log.
type LogQuery struct {
	// Text is looked for without regard to case, as the API's own search
	// does (a searcher that cannot do that exactly says how it differs).
	Text string
	// Start and End bound the time of the lines searched: the attempt's
	// span, with some slack for clocks; zero is unbounded.
	Start, End time.Time
	// Limit is the most lines to return.
	Limit int
}

// LogMatches are the lines found. A searcher that cannot number the lines
// of the log leaves LogLine.N at 0.
type LogMatches struct {
	Lines []LogLine
	// Truncated: there were more matches than Limit.
	Truncated bool
}

// FileLogs reads step logs from a simulation folder's logs folder
// (<simdir>/logs), where the simulator writes each attempt's log as
// <pipeline>/<granule>/<step>.<attempt>.log.
func FileLogs(dir string) LogSource { return fileLogs{dir: dir} }

type fileLogs struct{ dir string }

var _ LogSource = fileLogs{}

func (l fileLogs) Open(ctx context.Context, ref LogRef) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path := ref.Path
	if path == "" {
		// Names come from the store, but a granule id is whatever the
		// collection's pattern extracted from a file name: keep the path
		// inside the logs folder whatever it holds.
		rel := filepath.Join(ref.Pipeline, ref.Granule, ref.Step+"."+strconv.Itoa(ref.Attempt)+".log")
		if !filepath.IsLocal(rel) || filepath.Base(rel) != ref.Step+"."+strconv.Itoa(ref.Attempt)+".log" {
			return nil, fmt.Errorf("log of step %q of granule %q: names leave the logs folder: %w", ref.Step, ref.Granule, ErrNotFound)
		}
		path = filepath.Join(l.dir, rel)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("log of attempt %d of step %q: %w", ref.Attempt, ref.Step, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("log of attempt %d of step %q: %w", ref.Attempt, ref.Step, err)
	}
	return f, nil
}
