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
)

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
