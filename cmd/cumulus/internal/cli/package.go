package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/renameio/v2"

	"github.com/cumulus-toolchain/cumulus/runtime/deploy"
)

const packageUsage = `Usage: cumulus package [OPTIONS]

Builds the platform functions' Lambda code: the cumulus binary itself, for
the provided.al2023 runtime, zipped as 'bootstrap' with fixed timestamps (the
same source and Go toolchain give the same bytes). Run it in a cumulus
checkout; pass the zip to 'cumulus deploy -bootstrap'.

Options:
  -o FILE      Where to write the zip (default: bootstrap.zip).
  -arch ARCH   amd64 (Lambda's x86_64, the default) or arm64.
  -src DIR     The cumulus source to build (default: the module holding the
               current folder).

Exit status: 0 written, 1 failure, 2 usage error.
`

func runPackage(e *env, args []string) int {
	fs := newFlagSet(e, "package", packageUsage)
	out := fs.String("o", "bootstrap.zip", "output zip")
	arch := fs.String("arch", "amd64", "amd64 or arm64")
	src := fs.String("src", "", "cumulus source")
	pos, code, stop := fs.parse(args)
	if stop {
		return code
	}
	if len(pos) > 0 {
		return usageError(e, "package", "unexpected arguments: %v", pos)
	}
	if *src == "" {
		dir, err := moduleRoot()
		if err != nil {
			fmt.Fprintf(e.stderr, "cumulus package: %v; run it in a cumulus checkout, or pass -src\n", err)
			return exitFailed
		}
		*src = dir
	}
	zip, err := deploy.Package(context.Background(), deploy.PackageOptions{Arch: *arch, ModuleDir: *src})
	if err != nil {
		fmt.Fprintf(e.stderr, "cumulus package: %v\n", err)
		return exitFailed
	}
	if err := renameio.WriteFile(*out, zip, 0o644); err != nil {
		fmt.Fprintf(e.stderr, "cumulus package: %v\n", err)
		return exitFailed
	}
	sum := sha256.Sum256(zip)
	fmt.Fprintf(e.stdout, "Wrote %s (%d bytes, sha256 %s) for linux/%s.\n", *out, len(zip), hex.EncodeToString(sum[:]), *arch)
	return exitOK
}

// moduleRoot finds the folder holding cumulus's go.mod, going up from the
// working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/cumulus-toolchain/cumulus\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no cumulus source (go.mod of github.com/cumulus-toolchain/cumulus) above the current folder")
		}
		dir = parent
	}
}
