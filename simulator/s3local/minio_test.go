package s3local_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"
)

// minioServer is a MinIO process on 127.0.0.1 as a suite endpoint. The
// suite runs against it only where a minio binary is on PATH (CI may
// build one); elsewhere the test says it skipped.
type minioServer struct {
	bin, dir, addr string
	cmd            *exec.Cmd
	out            bytes.Buffer
}

const (
	minioUser     = "cumulus-test"
	minioPassword = "cumulus-test-secret"
)

func startMinIO(t *testing.T) endpoint {
	t.Helper()
	bin, err := exec.LookPath("minio")
	if err != nil {
		t.Skip("MinIO is not installed (no minio on PATH): the suite ran against the embedded server only")
	}
	isolateAWSEnv(t)
	// The client takes MinIO's credentials the standard way.
	t.Setenv("AWS_ACCESS_KEY_ID", minioUser)
	t.Setenv("AWS_SECRET_ACCESS_KEY", minioPassword)
	m := &minioServer{bin: bin, dir: t.TempDir(), addr: freeAddr(t)}
	m.start(t)
	t.Cleanup(func() { m.stop(t) })
	return m
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (m *minioServer) start(t *testing.T) {
	t.Helper()
	m.out.Reset()
	m.cmd = exec.Command(m.bin, "server", m.dir, "--address", m.addr, "--console-address", freeAddr(t), "--quiet")
	m.cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+minioUser,
		"MINIO_ROOT_PASSWORD="+minioPassword,
		"MINIO_BROWSER=off",
	)
	m.cmd.Stdout, m.cmd.Stderr = &m.out, &m.out
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("start minio: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.URL()+"/minio/health/ready", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			m.stop(t)
			t.Fatalf("minio not ready on %s: %v\n%s", m.addr, err, m.out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (m *minioServer) stop(t *testing.T) {
	t.Helper()
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	_ = m.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- m.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = m.cmd.Process.Kill()
		<-done
	}
	m.cmd = nil
}

func (m *minioServer) URL() string { return fmt.Sprintf("http://%s", m.addr) }

func (m *minioServer) Restart(t *testing.T) {
	t.Helper()
	m.stop(t)
	m.start(t)
}

func TestMinIO(t *testing.T) {
	if _, err := exec.LookPath("minio"); err != nil {
		t.Skip("MinIO is not installed (no minio on PATH): the suite ran against the embedded server only")
	}
	runSuite(t, startMinIO)
}
