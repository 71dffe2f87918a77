package acquire

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The FTP tests run against a real vsftpd (Debian's vsftpd package), started
// per test on 127.0.0.1 with a generated configuration. Without vsftpd they
// skip, saying so.

// vsftpd is a running server.
type vsftpd struct {
	Addr string // 127.0.0.1:port
	Port int
	// Prefix is the FTP path of the served folder: "" when the server
	// chroots into it (run as root), the folder's absolute path when it runs
	// as the launching user, who cannot chroot.
	Prefix string
	log    string
}

// localUser is a system account for the user/password tests.
type localUser struct{ Name, Password string }

func vsftpdPath(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("vsftpd"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/vsftpd", "/usr/local/sbin/vsftpd"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("vsftpd is not installed (Debian: apt-get install -y vsftpd); skipping the tests against a real FTP server")
	return ""
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// pasvRange finds n consecutive free ports for passive data connections.
func pasvRange(t testing.TB, n int) (lo, hi int) {
	t.Helper()
	for try := 0; try < 50; try++ {
		var b [2]byte
		_, _ = rand.Read(b[:])
		lo = 20000 + (int(b[0])<<8|int(b[1]))%30000
		ok := true
		for p := lo; p < lo+n && ok; p++ {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				ok = false
				continue
			}
			ln.Close()
		}
		if ok {
			return lo, lo + n - 1
		}
	}
	t.Fatal("no free range of ports for passive mode")
	return 0, 0
}

// makeReadable opens the tree to the unprivileged user vsftpd serves
// anonymous sessions as (t.TempDir folders are 0700).
func makeReadable(t testing.TB, root string) {
	t.Helper()
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if info.IsDir() {
			mode = 0o755
		}
		return os.Chmod(p, mode)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// startVsftpd serves root read-only: anonymously, or to local user u when
// u is not nil (anonymous login then refused, so a login proves the
// password was checked).
func startVsftpd(t testing.TB, root string, u *localUser) *vsftpd {
	t.Helper()
	bin := vsftpdPath(t)
	makeReadable(t, root)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o555); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	lo, hi := pasvRange(t, 20)
	logFile := filepath.Join(dir, "vsftpd.log")
	conf := []string{
		"listen=YES",
		"listen_ipv6=NO",
		"listen_address=127.0.0.1",
		"listen_port=" + strconv.Itoa(port),
		"background=NO",
		"write_enable=NO",
		"pasv_enable=YES",
		"pasv_min_port=" + strconv.Itoa(lo),
		"pasv_max_port=" + strconv.Itoa(hi),
		// Sandboxes (containers, CI) often forbid the namespaces and
		// seccomp filters vsftpd sets up by default.
		"seccomp_sandbox=NO",
		"isolate=NO",
		"isolate_network=NO",
		"secure_chroot_dir=" + empty,
		"syslog_enable=NO",
		"xferlog_enable=YES",
		"vsftpd_log_file=" + logFile,
		"log_ftp_protocol=YES",
		"idle_session_timeout=60",
		"max_per_ip=50",
		"delay_failed_login=0",
	}
	srv := &vsftpd{Port: port, Addr: "127.0.0.1:" + strconv.Itoa(port), log: logFile}
	_, ftpUserErr := user.Lookup("ftp")
	switch {
	case u != nil:
		// The user changes into its root before any chroot, so it must be
		// able to pass through the test's temporary folders (0700).
		for d := filepath.Dir(root); d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()) && d != os.TempDir(); d = filepath.Dir(d) {
			if err := os.Chmod(d, 0o711); err != nil {
				t.Fatal(err)
			}
		}
		conf = append(conf,
			"anonymous_enable=NO",
			"local_enable=YES",
			"chroot_local_user=YES",
			"local_root="+root,
			"pam_service_name=vsftpd",
		)
	case os.Geteuid() == 0 && ftpUserErr == nil:
		// As root, vsftpd chroots anonymous sessions into anon_root and
		// serves them as the "ftp" user: paths are what a real server shows.
		conf = append(conf,
			"anonymous_enable=YES",
			"local_enable=NO",
			"no_anon_password=YES",
			"anon_root="+root,
			"ftp_username=ftp",
		)
	default:
		// Unprivileged, vsftpd runs as the launching user and cannot chroot:
		// the session starts in anon_root, and absolute paths are the
		// machine's own.
		conf = append(conf,
			"run_as_launching_user=YES",
			"anonymous_enable=YES",
			"local_enable=NO",
			"no_anon_password=YES",
			"anon_root="+root,
		)
		srv.Prefix = root
	}
	confFile := filepath.Join(dir, "vsftpd.conf")
	if err := os.WriteFile(confFile, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, confFile)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting vsftpd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			if b, err := os.ReadFile(logFile); err == nil {
				t.Logf("vsftpd log:\n%s", tail(string(b), 4000))
			}
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("vsftpd exited at start (%v): %s", err, out.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", srv.Addr, time.Second); err == nil {
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "220") {
				return srv
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("vsftpd did not answer on %s: %s", srv.Addr, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// addLocalUser creates a throw-away system account whose home is home, and
// removes it when the test ends. It needs root and the shadow tools; the
// test skips without them.
func addLocalUser(t *testing.T, home string) *localUser {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("user/password FTP test: vsftpd checks local users' passwords through PAM, which needs a system account; creating one needs root, and this test runs unprivileged")
	}
	for _, tool := range []string{"useradd", "userdel", "chpasswd"} {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err := os.Stat("/usr/sbin/" + tool); err != nil {
				t.Skipf("user/password FTP test: %s is not available to create a local account for vsftpd", tool)
			}
		}
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	u := &localUser{Name: "cmlsftp" + hex.EncodeToString(b[:]), Password: "pw-" + hex.EncodeToString(b[:]) + "-Secret"}
	run := func(stdin string, name string, args ...string) error {
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "PATH=/usr/sbin:/usr/bin:/sbin:/bin")
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", name, err, out)
		}
		return nil
	}
	if err := run("", "useradd", "--no-create-home", "--home-dir", home, "--shell", "/bin/sh", u.Name); err != nil {
		t.Skipf("user/password FTP test: cannot create a local account in this sandbox: %v", err)
	}
	t.Cleanup(func() {
		if err := run("", "userdel", u.Name); err != nil {
			t.Errorf("removing test account %s: %v", u.Name, err)
		}
	})
	if err := run(u.Name+":"+u.Password+"\n", "chpasswd"); err != nil {
		t.Skipf("user/password FTP test: cannot set a password in this sandbox: %v", err)
	}
	return u
}
