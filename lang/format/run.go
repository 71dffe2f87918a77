package format

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/renameio/v2"
	"github.com/hashicorp/hcl/v2"
	"github.com/rogpeppe/go-internal/diff"
)

// Suffixes of the files a directory argument contributes. A file named
// explicitly is formatted whatever its name.
const (
	configSuffix = ".cumulus.hcl"
	varsSuffix   = ".cumulus.vars"
)

// Options controls Run.
type Options struct {
	Check     bool      // report only; write nothing; a file needing changes is listed
	Diff      bool      // write a unified diff of each change to Out
	Recursive bool      // descend into sub-directories of directory arguments, except ones whose name starts with "."
	List      bool      // print the name of each file that changed/would change to Out (default true in CLI)
	Out       io.Writer // where names and diffs go; nil discards them
}

// Result is what Run did.
type Result struct {
	Changed []string          // files that were (or, with Check, would be) changed, in order
	Files   map[string][]byte // every parsed file's source, keyed by the name used, for diagnostic snippets
}

// Run formats the given paths: a FILE (any name is accepted when named explicitly), a DIR
// (its *.cumulus.hcl and *.cumulus.vars files; sub-directories only with Recursive).
// No paths means ".". Arguments are handled in the order given and the files of a
// directory in lexical order. Diagnostics for all broken files are collected, and a
// broken file is never written. Writes are atomic and keep the file's mode.
//
// err reports I/O failures, each naming its path; a missing path is one. Run carries on
// past them so that one unreadable file does not hide the state of the rest, and joins
// them with errors.Join.
func Run(paths []string, opts Options) (Result, hcl.Diagnostics, error) {
	r := &runner{opts: opts, res: Result{Files: map[string][]byte{}}}
	if r.opts.Out == nil {
		r.opts.Out = io.Discard
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	for _, p := range paths {
		r.arg(p)
	}
	return r.res, r.diags, errors.Join(r.errs...)
}

type runner struct {
	opts  Options
	res   Result
	diags hcl.Diagnostics
	errs  []error
}

func (r *runner) fail(op, path string, err error) {
	// Errors from package os already name the path; wrapping those again would
	// print it twice.
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		r.errs = append(r.errs, err)
		return
	}
	r.errs = append(r.errs, &fs.PathError{Op: op, Path: path, Err: err})
}

func (r *runner) arg(path string) {
	fi, err := os.Stat(path)
	if err != nil {
		r.fail("stat", path, err)
		return
	}
	switch {
	case fi.Mode().IsRegular():
		r.file(path)
	case fi.IsDir():
		r.dir(path)
	default:
		r.fail("format", path, errors.New("not a regular file or directory"))
	}
}

func (r *runner) dir(root string) {
	if !r.opts.Recursive {
		entries, err := os.ReadDir(root)
		if err != nil {
			r.fail("readdir", root, err)
		}
		// ReadDir returns what it could read alongside an error; format that much.
		for _, e := range entries {
			if wanted(e) {
				r.file(filepath.Join(root, e.Name()))
			}
		}
		return
	}
	// WalkDir does not follow a symlinked root; a trailing separator makes it,
	// and the names below it come out the same because they are joined cleanly.
	if fi, err := os.Lstat(root); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		root += string(filepath.Separator)
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			// Carry on: an unreadable directory should not hide the rest of the tree.
			r.fail("walk", path, err)
			return nil
		}
		if d.IsDir() {
			// The root was named by the user, so it is walked even if hidden
			// (".", "..", ".config").
			if path != root && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if wanted(d) {
			r.file(path)
		}
		return nil
	})
	if err != nil {
		r.fail("walk", root, err)
	}
}

// wanted reports whether a directory entry is a cumulus file. Symlinks are left
// out: following them could format a file outside the tree, or the same file twice.
func wanted(e fs.DirEntry) bool {
	name := e.Name()
	return e.Type().IsRegular() && (strings.HasSuffix(name, configSuffix) || strings.HasSuffix(name, varsSuffix))
}

func (r *runner) file(name string) {
	src, err := os.ReadFile(name)
	if err != nil {
		r.fail("read", name, err)
		return
	}
	r.res.Files[name] = src
	out, diags := Source(src, name)
	r.diags = append(r.diags, diags...)
	if diags.HasErrors() || bytes.Equal(src, out) {
		return
	}
	r.res.Changed = append(r.res.Changed, name)
	if r.opts.List {
		fmt.Fprintln(r.opts.Out, name)
	}
	if r.opts.Diff {
		// Named like gofmt -d's output, so `patch -p0` applies it from the same
		// directory the command was run in.
		slash := filepath.ToSlash(name)
		r.opts.Out.Write(diff.Diff(slash+".orig", src, slash, out))
	}
	if r.opts.Check {
		return
	}
	if err := writeFile(name, out); err != nil {
		r.fail("write", name, err)
	}
}

// writeFile replaces name's contents atomically (a temporary file in the same
// folder, synced, then renamed over it), keeping its permissions: the
// temporary file gets them before the rename, so no moment exposes a file
// with the wrong ones. A symlink is written through rather than replaced by a
// regular file.
func writeFile(name string, data []byte) error {
	target, err := filepath.EvalSymlinks(name)
	if err != nil {
		return err
	}
	fi, err := os.Stat(target)
	if err != nil {
		return err
	}
	return renameio.WriteFile(target, data, fi.Mode().Perm(), renameio.WithStaticPermissions(fi.Mode().Perm()))
}
