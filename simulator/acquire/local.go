package acquire

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// localLister reads a folder on this machine: a provider for tests, for
// data already downloaded, and for a mounted share.
type localLister struct {
	o    options
	base string // the configuration's folder
}

func newLocal(baseDir string, o options) *localLister {
	return &localLister{o: o, base: baseDir}
}

func (l *localLister) resolve(root string) string {
	if root == "" {
		root = "."
	}
	if !filepath.IsAbs(root) {
		root = filepath.Join(l.base, root)
	}
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	return root
}

func fileURL(p string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()
}

// List walks the folder root (relative to the configuration's folder).
// Hidden files and folders are skipped: they are where rsync, curl and
// editors write partial files before renaming them into place. Symbolic
// links to files are listed; links to folders are not followed, so a link
// loop cannot make the walk endless.
func (l *localLister) List(ctx context.Context, root string, recursive bool) ([]RemoteFile, error) {
	dir := l.resolve(root)
	var files []RemoteFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == dir {
			if !d.IsDir() {
				return fmt.Errorf("%s is not a folder", p)
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := os.Stat(p) // follows a symbolic link to its file
		if err != nil {
			l.o.log.Warn("skipping a file that cannot be read", "path", p, "error", err)
			return nil
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		files = append(files, RemoteFile{Path: p, Name: d.Name(), Size: info.Size(), ModTime: info.ModTime().UTC(), URL: fileURL(p)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// Open opens the file. A local read does not break off the way a network
// transfer does, but the file may have changed since it was listed: the
// reader checks the listed size all the same.
func (l *localLister) Open(ctx context.Context, f RemoteFile) (io.ReadCloser, error) {
	p := f.Path
	if !filepath.IsAbs(p) {
		p = filepath.Join(l.base, p)
	}
	if f.URL == "" {
		f.URL = fileURL(p)
	}
	open := func(ctx context.Context, offset int64) (transfer, int64, error) {
		file, err := os.Open(p)
		if err != nil {
			return nil, 0, &permanent{fmt.Errorf("opening %s: %w", p, err)}
		}
		if offset > 0 {
			if _, err := file.Seek(offset, io.SeekStart); err != nil {
				_ = file.Close()
				return nil, 0, &permanent{fmt.Errorf("opening %s: %w", p, err)}
			}
		}
		return localTransfer{file}, offset, nil
	}
	return newResumer(ctx, &l.o, f, open), nil
}

type localTransfer struct{ *os.File }

func (t localTransfer) end(bool) error { return t.Close() }

// Close does nothing: a local lister holds nothing open.
func (l *localLister) Close() error { return nil }
