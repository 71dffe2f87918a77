package compiler

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ManifestName is the manifest's file name in the output folder.
const ManifestName = "manifest.json"

// Write puts the artifacts and the manifest in dir, replacing what a
// previous compile left there. Everything is written to a temporary folder
// beside dir first and renamed into place, so a failure never leaves a
// half-written dir. A dir that exists but was not written by cumulus compile
// (it has files but no manifest) is refused rather than replaced.
func Write(dir string, r *Result) error {
	dir = filepath.Clean(dir)
	if err := checkReplaceable(dir); err != nil {
		return err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("creating a temporary folder beside %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp) // after a successful rename there is nothing left
	files := append(append([]Artifact(nil), r.Artifacts...), Artifact{Path: ManifestName, Data: r.Manifest()})
	for _, a := range files {
		p := filepath.Join(tmp, filepath.FromSlash(a.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("writing %s: %w", a.Path, err)
		}
		if err := os.WriteFile(p, a.Data, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", a.Path, err)
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("replacing %s: %w", dir, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			_ = os.Rename(old, dir) // put the previous output back
		}
		return fmt.Errorf("replacing %s: %w", dir, err)
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("removing the previous output (now %s): %w", old, err)
		}
	}
	return nil
}

func checkReplaceable(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestName)); err != nil {
		return fmt.Errorf("output folder %s is not empty and holds no %s, so it was not written by cumulus compile; choose another folder or empty it", dir, ManifestName)
	}
	return nil
}
