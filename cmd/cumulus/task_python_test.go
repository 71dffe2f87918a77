package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pythonBase is the base image TestTaskInitPython builds when it is not
// there: a minimal Debian with python3, made by debootstrap from Debian's
// packages and imported with docker import (no registry is reachable on
// CI). It stays, so that later runs reuse it.
const pythonBase = "cumulus-test/python3:bookworm"

// TestTaskInitPython runs a real Python script through the step wrapper:
// cumulus task init with the sample process.py on a Debian python3 base
// image, then cumulus simulate building and running it.
func TestTaskInitPython(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds a Debian base image and a container")
	}
	if !dockerAnswers() {
		t.Skip("no Docker engine answers: start dockerd (or set DOCKER_HOST) to run this test")
	}
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("no docker command")
	}
	base := os.Getenv("CUMULUS_PYTHON_BASE") // an image with python3, to skip debootstrap
	if base == "" {
		base = pythonBase
		if exec.Command("docker", "image", "inspect", base).Run() != nil {
			makePythonBase(t, base)
		}
	}
	cumulus, err := exec.LookPath("cumulus")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	static := filepath.Join(dir, "cumulus-static")
	build := exec.Command("go", "build", "-o", static, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building a static cumulus: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "config")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(cumulus, args...)
		cmd.Dir = cfg
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("cumulus %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if err := os.MkdirAll(filepath.Join(cfg, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(cfg, "data", "G1.txt"), []byte("one\ntwo\nthree\n"), 0o644)
	run("task", "init", "-base", base, "-binary", static, "preprocess")
	block, err := os.ReadFile(filepath.Join(cfg, "preprocess", "task.hcl.txt"))
	if err != nil {
		t.Fatal(err)
	}
	conf := string(block) + pythonConfig
	// A tag of its own, so that a rerun builds this scaffold, not an older one.
	conf = strings.Replace(conf, `"preprocess:dev"`, `"cumulus-test/preprocess-py:`+filepath.Base(dir)+`"`, 1)
	os.WriteFile(filepath.Join(cfg, "main.cumulus.hcl"), []byte(conf), 0o644)
	t.Cleanup(func() {
		_ = exec.Command("docker", "image", "rm", "-f", "cumulus-test/preprocess-py:"+filepath.Base(dir)).Run()
	})

	out := run("simulate", "-once", "-no-serve", ".")
	for _, want := range []string{"preprocess succeeded", "1 succeeded, 0 failed", "sim-public/G1/G1.txt.lines"} {
		if !strings.Contains(out, want) {
			t.Errorf("simulate's output lacks %q:\n%s", want, out)
		}
	}
	log, err := os.ReadFile(filepath.Join(cfg, ".cumulus", "logs", "ingest", "G1", "preprocess.1.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"msg":"processing granule G1 (1 files)"`, `"msg":"  G1.txt: 14 bytes","pipeline":"ingest","step":"preprocess","granule":"G1","attempt":1,"stream":"stderr"`, `"outcome":"succeeded"`} {
		if !bytes.Contains(log, []byte(want)) {
			t.Errorf("the step's log lacks %s:\n%s", want, log)
		}
	}
}

const pythonConfig = `
deployment {
  prefix = "sim"
}
bucket "staging" { kind = "private" }
bucket "public" { kind = "public" }
provider "disk" {
  protocol = "local"
}
collection "text" {
  version    = "1"
  granule_id = "^(G[0-9]+)"
  file "text" {
    match  = "\\.txt$"
    bucket = bucket.public
  }
  file "lines" {
    match    = "\\.lines$"
    bucket   = bucket.public
    required = false
  }
  url_path = "${granule.id}"
}
source "disk" {
  provider   = provider.disk
  path       = "data"
  collection = collection.text
  pipeline   = pipeline.ingest
}
pipeline "ingest" {
  step "sync" {
    uses = stdlib.sync_granule
  }
  step "preprocess" {
    task  = task.preprocess
    after = [step.sync]
  }
  step "archive" {
    uses  = stdlib.move_granule
    after = [step.preprocess]
  }
}
`

// makePythonBase builds the base image from Debian's packages, or skips the
// test saying what is missing.
func makePythonBase(t *testing.T, tag string) {
	t.Helper()
	if _, err := exec.LookPath("debootstrap"); err != nil {
		t.Skipf("image %s is not there and debootstrap is not installed to make it (apt-get install debootstrap), or set CUMULUS_PYTHON_BASE to an image with python3", tag)
	}
	if os.Geteuid() != 0 {
		t.Skipf("image %s is not there, and debootstrap needs root to make it", tag)
	}
	mirror := os.Getenv("CUMULUS_DEBIAN_MIRROR")
	if mirror == "" {
		mirror = "http://deb.debian.org/debian"
	}
	root := filepath.Join(t.TempDir(), "root")
	out, err := exec.Command("debootstrap", "--variant=minbase", "--include=python3", "bookworm", root, mirror).CombinedOutput()
	if err != nil {
		t.Skipf("debootstrap from %s failed (no network?): %v\n%s", mirror, err, lastLines(out, 10))
	}
	// apt's lists and caches are not needed in the image.
	for _, d := range []string{"var/cache/apt/archives", "var/lib/apt/lists"} {
		os.RemoveAll(filepath.Join(root, d))
	}
	imp := exec.Command("sh", "-c", `tar -C "$1" -c . | docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$2"`, "sh", root, tag)
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("docker import: %v\n%s", err, out)
	}
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
