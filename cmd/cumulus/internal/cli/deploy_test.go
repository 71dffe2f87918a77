package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/cumulus-toolchain/cumulus/runtime/deploy/awsfake"
)

// TestDeployConfirmation answers deploy's question on a real terminal (a
// pseudo-terminal): "no" changes nothing, "yes" applies.
func TestDeployConfirmation(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no pseudo-terminals on Windows")
	}
	fake := awsfake.New(t, "123456789012", "us-west-2")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDFAKE", "AWS_SECRET_ACCESS_KEY": "fake-secret", "AWS_REGION": "us-west-2",
		"AWS_CONFIG_FILE": filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "none"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "", "AWS_ENDPOINT_URL": fake.URL,
	} {
		t.Setenv(k, v)
	}
	zip := filepath.Join(t.TempDir(), "bootstrap.zip")
	if err := os.WriteFile(zip, []byte("PK"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, file, _, _ := runtime.Caller(0)
	example := filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "examples", "hs3")

	answer := func(reply string) (string, string, int) {
		ptmx, tty, err := pty.Open()
		if err != nil {
			t.Skipf("no pseudo-terminal: %v", err)
		}
		defer ptmx.Close()
		defer tty.Close()
		go func() { _, _ = io.Copy(io.Discard, ptmx) }() // the terminal's echo
		if _, err := ptmx.Write([]byte(reply + "\n")); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		e := &env{stdout: &stdout, stderr: &stderr, stdin: tty, environ: os.Environ(), width: 78}
		code := run(e, []string{"deploy", "-bootstrap", zip, "-endpoint-url", fake.URL, example})
		return stdout.String(), stderr.String(), code
	}

	out, errOut, code := answer("n")
	if code != 0 || !strings.Contains(errOut, "Apply these changes to account 123456789012? [y/N]") || !strings.Contains(errOut, "Nothing was changed.") {
		t.Fatalf("answering n: exit %d\n%s\n%s", code, out, errOut)
	}
	if r := fake.Roles(); len(r) != 0 {
		t.Fatalf("answering n created roles %v", r)
	}
	out, errOut, code = answer("yes")
	if code != 0 || !strings.Contains(out, "Apply complete") {
		t.Fatalf("answering yes: exit %d\n%s\n%s", code, out, errOut)
	}
	if len(fake.Roles()) == 0 {
		t.Error("answering yes created no roles")
	}
}
