package cli

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
)

const taskUsage = `Usage: cumulus task init [OPTIONS] NAME

Scaffolds the folder of a task that runs an archive's own script as a
pipeline step, through cumulus's step wrapper:

  NAME/Dockerfile       the team's base image, plus the wrapper (cumulus) and
                        the script; ENTRYPOINT ["cumulus", "step", "--"]
  NAME/cumulus          the wrapper: a copy of a static cumulus binary
  NAME/<script>         the script (or a sample, process.py)
  NAME/task.hcl.txt     the task block to paste into the configuration
  NAME/README.md        how the script sees the step, and how to run it

'cumulus simulate' builds the image from the folder (the task's build) and
runs it; on AWS the same image runs on ECS.

Options:
  -script PATH   The script to run (.py runs with python3, .sh with sh,
                 anything else as an executable). Default: a sample
                 process.py.
  -base IMAGE    The base image (default python:3.12-slim). It must hold
                 what the script needs (python3 for a .py script).
  -dir DIR       Where to write the folder (default: NAME).
  -binary PATH   The cumulus binary to put in the image (default: this
                 one). It must run in the image: build a static one with
                 CGO_ENABLED=0 GOOS=linux go build ./cmd/cumulus.

Exit status: 0 written, 1 failed (nothing is left half-written), 2 usage
error.
`

const defaultBase = "python:3.12-slim"

var taskName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,62}$`)

func runTask(e *env, args []string) int {
	if len(args) == 0 || args[0] != "init" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprint(e.stdout, taskUsage)
			return exitOK
		}
		fmt.Fprint(e.stderr, "cumulus task: the only subcommand is init\n\n"+taskUsage)
		return exitUsage
	}
	fs := newFlagSet(e, "task init", taskUsage)
	script := fs.String("script", "", "script")
	base := fs.String("base", defaultBase, "base image")
	dir := fs.String("dir", "", "folder")
	binary := fs.String("binary", "", "cumulus binary")
	pos, code, stop := fs.parse(args[1:])
	if stop {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprint(e.stderr, "cumulus task init: give one task NAME\n\n"+taskUsage)
		return exitUsage
	}
	name := pos[0]
	if !taskName.MatchString(name) {
		fmt.Fprintf(e.stderr, "cumulus task init: %q is not a task name: letters, digits, _ and -, starting with a letter\n", name)
		return exitUsage
	}
	if *dir == "" {
		*dir = name
	}
	if *binary == "" {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintf(e.stderr, "cumulus task init: cannot find this cumulus binary (%v); give one with -binary\n", err)
			return exitFailed
		}
		*binary = exe
	}
	sc, err := newScaffold(name, *dir, *script, *base)
	if err != nil {
		fmt.Fprintf(e.stderr, "cumulus task init: %v\n", err)
		return exitFailed
	}
	if dyn, err := dynamicELF(*binary); err != nil {
		fmt.Fprintf(e.stderr, "cumulus task init: the wrapper binary %s: %v\n", *binary, err)
		return exitFailed
	} else if dyn {
		fmt.Fprintf(e.stderr, "warning: %s is dynamically linked: it runs only in a base image with a matching C library. For any image, build a static one (CGO_ENABLED=0 GOOS=linux go build -o cumulus ./cmd/cumulus) and pass -binary.\n", *binary)
	}
	if err := sc.write(*binary); err != nil {
		fmt.Fprintf(e.stderr, "cumulus task init: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(e.stdout, "wrote %s: Dockerfile, cumulus, %s, task.hcl.txt, README.md\n", filepath.ToSlash(*dir), sc.Script)
	fmt.Fprintf(e.stdout, "paste this into your configuration (build is relative to the configuration's folder):\n\n%s", sc.block())
	return exitOK
}

// scaffold is what task init writes.
type scaffold struct {
	Name, Dir, Base, Image string
	Script                 string // the script's file name in the folder
	scriptSrc              string // "" for the sample
	Command                []string
}

func newScaffold(name, dir, script, base string) (*scaffold, error) {
	if strings.TrimSpace(base) == "" || strings.ContainsAny(base, " \t\n") {
		return nil, fmt.Errorf("-base %q is not an image name", base)
	}
	sc := &scaffold{Name: name, Dir: dir, Base: base, Script: "process.py", scriptSrc: script}
	sc.Image = strings.ToLower(strings.ReplaceAll(name, "_", "-")) + ":dev"
	if script != "" {
		st, err := os.Stat(script)
		if err != nil {
			return nil, fmt.Errorf("-script: %w", err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("-script %s is not a file", script)
		}
		sc.Script = filepath.Base(script)
	}
	in := "/opt/task/" + sc.Script
	switch strings.ToLower(filepath.Ext(sc.Script)) {
	case ".py":
		sc.Command = []string{"python3", in}
	case ".sh":
		sc.Command = []string{"sh", in}
	default:
		sc.Command = []string{in}
	}
	return sc, nil
}

var dockerfileTmpl = template.Must(template.New("Dockerfile").Parse(`# The task {{.Name}}: {{.Script}} run as a pipeline step by cumulus's step
# wrapper, which fetches and checks the granule's files, runs the script,
# logs and monitors it, and uploads what it writes (see README.md).
FROM {{.Base}}
COPY cumulus /usr/local/bin/cumulus
COPY {{.Script}} /opt/task/{{.Script}}
WORKDIR /opt/task
# Exit codes of the script that mean "try again later" (comma-separated).
ENV CUMULUS_TRANSIENT_EXIT_CODES=75
ENTRYPOINT ["cumulus", "step", "--"]
CMD [{{range $i, $a := .Command}}{{if $i}}, {{end}}"{{$a}}"{{end}}]
`))

var readmeTmpl = template.Must(template.New("README").Parse(`# Task {{.Name}}

{{.Script}} runs as a step of a cumulus pipeline, inside the image this
folder builds. The image's entry point is cumulus's step wrapper
(` + "`cumulus step -- {{range $i, $a := .Command}}{{if $i}} {{end}}{{$a}}{{end}}`" + `), which:

1. reads the step's input (the granule document, in ` + "`CUMULUS_GRANULE`" + `);
2. puts the granule's files in ` + "`$CUMULUS_INPUT_DIR`" + ` and checks each
   against its checksum (on AWS it downloads them from S3 first);
3. runs the script with the step contract's environment:
   ` + "`CUMULUS_INPUT_DIR`, `CUMULUS_OUTPUT_DIR`, `CUMULUS_GRANULE`, `CUMULUS_STEP`,\n   `CUMULUS_ATTEMPT`" + `, plus the step's ` + "`env`" + `;
4. logs each line the script prints as JSON, tagged with the granule and
   step, and samples its CPU and memory;
5. adds every file the script leaves in ` + "`$CUMULUS_OUTPUT_DIR`" + ` to the
   granule (on AWS it uploads them to S3 with their checksums).

The script succeeds by exiting 0. Exit codes listed in
` + "`CUMULUS_TRANSIENT_EXIT_CODES`" + ` (in the Dockerfile) are retried, as are
kills for memory and timeouts; any other exit code fails the granule.

## Use it

Paste task.hcl.txt into the configuration, point a pipeline step at it
(` + "`task = task.{{.Name}}`" + `), then:

    cumulus simulate -once .     # builds the image from this folder and runs it

For AWS, build and push the image to your registry (ECR) under the task's
` + "`image`" + ` name. The base image is ` + "`{{.Base}}`" + `; change FROM to
your team's own.
`))

const sampleScript = `#!/usr/bin/env python3
"""A sample pipeline step: copies each input file to the output folder,
with a line count, to show the step contract. Replace it with your own."""
import json
import os
import sys

granule = json.loads(os.environ["CUMULUS_GRANULE"])
src = os.environ["CUMULUS_INPUT_DIR"]
dst = os.environ["CUMULUS_OUTPUT_DIR"]
print(f"processing granule {granule['id']} ({len(granule['files'])} files)")
for f in granule["files"]:
    with open(os.path.join(src, f["name"]), "rb") as fh:
        data = fh.read()
    lines = data.count(b"\n")
    with open(os.path.join(dst, f["name"] + ".lines"), "w") as out:
        out.write(str(lines) + "\n")
    print(f"  {f['name']}: {len(data)} bytes", file=sys.stderr)
`

// block is the task block to paste.
func (sc *scaffold) block() string {
	return fmt.Sprintf(`task %q {
  runs_on = "ecs"
  image   = %q    # push it under this name (your registry) for AWS
  build   = %q     # the folder simulate builds the image from
  cpu     = 512
  memory  = 1024
  timeout = "30m"
  # The wrapper exits 75 for a failure worth retrying (a transient exit
  # of your script, a memory kill, a timeout) and 1 for one that is not.
  transient_exit_codes = [75]
}
`, sc.Name, sc.Image, filepath.ToSlash(sc.Dir))
}

// write writes the folder through a temporary sibling and a rename, so a
// failure leaves nothing behind; an existing folder is refused.
func (sc *scaffold) write(binary string) (err error) {
	if _, err := os.Stat(sc.Dir); err == nil {
		return fmt.Errorf("%s exists already; remove it or choose another with -dir", sc.Dir)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	parent := filepath.Dir(filepath.Clean(sc.Dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, ".task-init-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	var df, readme bytes.Buffer
	if err := dockerfileTmpl.Execute(&df, sc); err != nil {
		return err
	}
	if err := readmeTmpl.Execute(&readme, sc); err != nil {
		return err
	}
	files := map[string][]byte{"Dockerfile": df.Bytes(), "README.md": readme.Bytes(), "task.hcl.txt": []byte(sc.block())}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
			return err
		}
	}
	if sc.scriptSrc == "" {
		err = os.WriteFile(filepath.Join(tmp, sc.Script), []byte(sampleScript), 0o755)
	} else {
		err = copyFile(sc.scriptSrc, filepath.Join(tmp, sc.Script), 0o755)
	}
	if err != nil {
		return fmt.Errorf("copying the script: %w", err)
	}
	if err := copyFile(binary, filepath.Join(tmp, "cumulus"), 0o755); err != nil {
		return fmt.Errorf("copying the wrapper binary: %w", err)
	}
	if err := os.Rename(tmp, sc.Dir); err != nil {
		return fmt.Errorf("moving the folder into place: %w", err)
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// dynamicELF says whether the file is an ELF executable that needs a
// dynamic loader. A file that is not ELF (another OS's binary) is an error:
// the image runs Linux.
func dynamicELF(path string) (bool, error) {
	f, err := elf.Open(path)
	if err != nil {
		return false, fmt.Errorf("not a Linux executable: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return true, nil
		}
	}
	return false, nil
}
