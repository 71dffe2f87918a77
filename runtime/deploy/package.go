package deploy

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// PackageOptions say how to build the platform functions' code.
type PackageOptions struct {
	// Arch is "amd64" (Lambda's x86_64, the default) or "arm64".
	Arch string
	// ModuleDir is the cumulus source to build (a checkout holding go.mod).
	ModuleDir string
	// Main is the main package to build, relative to ModuleDir (default
	// "./cmd/cumulus").
	Main string
	// Go is the go command (default "go").
	Go string
}

// Package builds the cumulus binary for Lambda's provided.al2023 runtime
// (linux, static, trimmed paths, no VCS stamp) and returns it zipped as
// `bootstrap`. The same source and toolchain give the same bytes.
func Package(ctx context.Context, opts PackageOptions) ([]byte, error) {
	arch := opts.Arch
	if arch == "" {
		arch = "amd64"
	}
	if arch != "amd64" && arch != "arm64" {
		return nil, fmt.Errorf("architecture %q: Lambda runs amd64 (x86_64) or arm64", arch)
	}
	goCmd := opts.Go
	if goCmd == "" {
		goCmd = "go"
	}
	main := opts.Main
	if main == "" {
		main = "./cmd/cumulus"
	}
	tmp, err := os.MkdirTemp("", "cumulus-package-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "bootstrap")
	cmd := exec.CommandContext(ctx, goCmd, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", out, main)
	cmd.Dir = opts.ModuleDir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building cumulus for linux/%s: %w\n%s", arch, err, b)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	return ZipBootstrap(bin)
}

// ZipBootstrap zips an executable as `bootstrap`, deterministically.
func ZipBootstrap(bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	// A fixed modification time: the zip (and its sha256, which decides
	// whether Lambda code is updated) depends only on the content.
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(bin); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
