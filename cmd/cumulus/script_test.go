package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/cumulus-toolchain/cumulus/cmd/cumulus/internal/cli"
	"github.com/cumulus-toolchain/cumulus/compiler/awsmodel"
	"github.com/cumulus-toolchain/cumulus/simulator/acquire/ftpfault"
	"github.com/cumulus-toolchain/cumulus/simulator/executor"
	"github.com/cumulus-toolchain/cumulus/simulator/s3local"
)

// update rewrites the golden sections of the scripts (cmp stdout/stderr
// against a file in the archive) from the actual output. Only on request.
var update = flag.Bool("update", false, "update testscript golden files")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"cumulus": func() { os.Exit(cli.Main(os.Args[1:])) },
	})
}

// TestScript runs the scripts in testdata/script against the real CLI, in
// process (cue's pattern). Each script documents one behaviour: a diagnostic
// with its exact position, an output format, a command.
func TestScript(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join(root, "testdata", "script"),
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":     exitsCmd,
			"ftpserve":  ftpserveCmd,
			"sleep":     sleepCmd,
			"minio":     minioCmd,
			"s3flaky":   s3flakyCmd,
			"gobuild":   gobuildCmd,
			"s3put":     s3putCmd,
			"s3get":     s3getCmd,
			"httpserve": httpserveCmd,
			"ftpcut":    ftpcutCmd,
			"ftpcuts":   ftpcutsCmd,
			"freeport":  freeportCmd,
			"httpget":   httpgetCmd,
			"httptoken": httptokenCmd,
			"jsonget":   jsongetCmd,
			"awsfake":   awsfakeCmd,
			"lambdaapi": lambdaapiCmd,
			"awsput":    awsputCmd,
			"unzip":     unzipCmd,
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "docker":
				return dockerAnswers(), nil
			case "models":
				// The AWS API models the fake AWS checks requests against
				// (../shared/aws-models, absent in a clone elsewhere).
				_, err := awsmodel.ModelsDir()
				return err == nil, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", filepath.Join(root, "examples"))
			env.Setenv("NO_COLOR", "1")
			// The scripts' cumulus finds the same Docker engine as the test.
			for _, k := range []string{"DOCKER_HOST", "DOCKER_API_VERSION", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY"} {
				if v, ok := os.LookupEnv(k); ok {
					env.Setenv(k, v)
				}
			}
			return nil
		},
	})
}

// exitsCmd is "exits CODE PROGRAM ARGS...": run the program like exec and
// require exactly that exit status, since exec alone tells only zero from
// non-zero and cumulus gives 1, 2 and 3 different meanings.
func exitsCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: %q is not an exit status", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// ftpserveCmd is "ftpserve ROOT": start a real FTP server (vsftpd) on
// 127.0.0.1, anonymous and read-only, serving the machine's files (paths are
// absolute: without root privileges of its own it cannot chroot), and set
// FTP_PORT. It stops when the script ends. Scripts guard it with
// [exec:vsftpd].
func ftpserveCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: ftpserve ROOT")
	}
	root := ts.MkAbs(args[0])
	ports := freePorts(ts, 11)
	empty := ts.MkAbs(".vsftpd-empty")
	ts.Check(os.MkdirAll(empty, 0o555))
	conf := strings.Join([]string{
		"listen=YES", "listen_ipv6=NO", "listen_address=127.0.0.1",
		"listen_port=" + strconv.Itoa(ports[0]), "background=NO", "write_enable=NO",
		"pasv_enable=YES", "pasv_min_port=" + strconv.Itoa(ports[1]), "pasv_max_port=" + strconv.Itoa(ports[1]),
		// Sandboxes (containers, CI) forbid the namespaces and seccomp
		// filters vsftpd sets up by default.
		"seccomp_sandbox=NO", "isolate=NO", "isolate_network=NO",
		"secure_chroot_dir=" + empty, "syslog_enable=NO",
		"run_as_launching_user=YES", "anonymous_enable=YES", "local_enable=NO",
		"no_anon_password=YES", "anon_root=" + root, "max_per_ip=50",
	}, "\n") + "\n"
	confFile := ts.MkAbs(".vsftpd.conf")
	ts.Check(os.WriteFile(confFile, []byte(conf), 0o600))
	cmd := exec.Command("vsftpd", confFile)
	ts.Check(cmd.Start())
	ts.Defer(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if i == 50 {
			ts.Fatalf("vsftpd did not listen on %s: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ts.Setenv("FTP_PORT", strconv.Itoa(ports[0]))
}

// freePorts finds n distinct free TCP ports on 127.0.0.1.
func freePorts(ts *testscript.TestScript, n int) []int {
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// sleepCmd is "sleep DURATION": let a background command get somewhere.
func sleepCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sleep DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	time.Sleep(d)
}

// minioCmd is "minio": start a real MinIO server on 127.0.0.1 with a
// temporary folder, and set MINIO_URL and the AWS credential variables the
// S3 client reads. It stops when the script ends. Scripts guard it with
// [exec:minio].
func minioCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: minio")
	}
	ports := freePorts(ts, 2)
	dir := ts.MkAbs(".minio")
	ts.Check(os.MkdirAll(dir, 0o700))
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	cmd := exec.Command("minio", "server", dir, "--address", addr, "--console-address", "127.0.0.1:"+strconv.Itoa(ports[1]), "--quiet")
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER=cumulus-test", "MINIO_ROOT_PASSWORD=cumulus-test-secret", "MINIO_BROWSER=off")
	ts.Check(cmd.Start())
	ts.Defer(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := "http://" + addr
	for i := 0; ; i++ {
		resp, err := http.Get(url + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if i == 100 {
			ts.Fatalf("MinIO did not become ready on %s: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ts.Setenv("MINIO_URL", url)
	ts.Setenv("AWS_ACCESS_KEY_ID", "cumulus-test")
	ts.Setenv("AWS_SECRET_ACCESS_KEY", "cumulus-test-secret")
	ts.Setenv("AWS_REGION", "us-east-1")
}

// s3flakyCmd is "s3flaky N": start an S3 endpoint (the simulator's embedded
// one, in its own folder) behind a proxy that answers 500 InternalError to
// the first N requests, and set S3_URL to the proxy: S3 failing for a while,
// as it sometimes does.
func s3flakyCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: s3flaky N")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	srv, err := s3local.Start(context.Background(), ts.MkAbs(".s3flaky"))
	ts.Check(err)
	ts.Defer(func() { _ = srv.Close() })
	target, err := url.Parse(srv.URL())
	ts.Check(err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var failed atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failed.Add(1) <= int32(n) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected by the test</Message></Error>`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	ts.Defer(front.Close)
	ts.Setenv("S3_URL", front.URL)
}

// dockerAnswers says whether a Docker engine answers, once per test binary:
// the condition [docker] of the scripts that run containers.
var dockerAnswers = sync.OnceValue(func() bool {
	d, err := executor.NewDocker(executor.DockerOptions{})
	if err != nil {
		return false
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return d.Available(ctx) == nil
})

// gobuildCmd is "gobuild OUT DIR": build the Go main package in DIR (with
// its own go.mod) into OUT as a static Linux binary, for images built FROM
// scratch. It runs with the test's environment (module and build caches),
// not the script's.
func gobuildCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: gobuild OUT DIR")
	}
	cmd := exec.Command("go", "build", "-o", ts.MkAbs(args[0]), ".")
	cmd.Dir = ts.MkAbs(args[1])
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		ts.Fatalf("go build: %v\n%s", err, out)
	}
}

// scriptS3 is an SDK client for "s3put" and "s3get": target is an endpoint
// URL (MinIO's, with the script's AWS credentials) or a simulation folder,
// whose embedded S3 store is opened for the command's duration (while no
// simulation runs on it).
func scriptS3(ts *testscript.TestScript, target string) (*s3.Client, func()) {
	ctx := context.Background()
	endpoint, stop := target, func() {}
	if !strings.HasPrefix(target, "http://") && !strings.HasPrefix(target, "https://") {
		srv, err := s3local.Start(ctx, filepath.Join(ts.MkAbs(target), "s3"))
		ts.Check(err)
		endpoint, stop = srv.URL(), func() { _ = srv.Close() }
	}
	key, secret := ts.Getenv("AWS_ACCESS_KEY_ID"), ts.Getenv("AWS_SECRET_ACCESS_KEY")
	if key == "" {
		key, secret = "cumulus", "cumulus"
	}
	c := s3.New(s3.Options{
		Region:       s3local.DefaultRegion,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, ""),
	})
	return c, stop
}

// splitObject splits "BUCKET/KEY".
func splitObject(ts *testscript.TestScript, obj string) (string, string) {
	bucket, key, ok := strings.Cut(obj, "/")
	if !ok || bucket == "" || key == "" {
		ts.Fatalf("%q is not BUCKET/KEY", obj)
	}
	return bucket, key
}

// s3putCmd is "s3put ENDPOINT|SIMDIR BUCKET/KEY FILE": upload a file,
// creating the bucket if needed (a provider's bucket, for S3 sources).
func s3putCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: s3put ENDPOINT|SIMDIR BUCKET/KEY FILE")
	}
	c, stop := scriptS3(ts, args[0])
	defer stop()
	bucket, key := splitObject(ts, args[1])
	ctx := context.Background()
	ts.Check(s3local.EnsureBuckets(ctx, c, []string{bucket}))
	f, err := os.Open(ts.MkAbs(args[2]))
	ts.Check(err)
	defer f.Close()
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: f})
	ts.Check(err)
}

// s3getCmd is "s3get ENDPOINT|SIMDIR BUCKET/KEY FILE": download an object
// into FILE, so that the script can cmp or grep what was archived; with !,
// require that there is no such object.
func s3getCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: s3get ENDPOINT|SIMDIR BUCKET/KEY FILE")
	}
	c, stop := scriptS3(ts, args[0])
	defer stop()
	bucket, key := splitObject(ts, args[1])
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if neg {
		var missing *s3types.NoSuchKey
		if err == nil {
			out.Body.Close()
			ts.Fatalf("s3://%s/%s exists", bucket, key)
		} else if !errors.As(err, &missing) {
			ts.Fatalf("s3://%s/%s: %v", bucket, key, err)
		}
		return
	}
	ts.Check(err)
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), b, 0o644))
}

// httpserveCmd is "httpserve ROOT": serve ROOT over HTTP on 127.0.0.1
// with Go's file server (directory listings as index pages, Range and
// Last-Modified), and set HTTP_PORT.
func httpserveCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: httpserve ROOT")
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(ts.MkAbs(args[0]))))
	ts.Defer(srv.Close)
	u, err := url.Parse(srv.URL)
	ts.Check(err)
	ts.Setenv("HTTP_PORT", u.Port())
}

// ftpProxies are the scripts' fault proxies, for ftpcuts to ask.
var ftpProxies sync.Map // *testscript.TestScript -> *ftpfault.Proxy

// ftpcutCmd is "ftpcut BYTES": put a proxy in front of the FTP server at
// FTP_PORT that cuts the first file transfer after BYTES bytes, as a
// dropped connection does, and point FTP_PORT at it.
func ftpcutCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: ftpcut BYTES")
	}
	n, err := strconv.ParseInt(args[0], 10, 64)
	ts.Check(err)
	p, err := ftpfault.Start("127.0.0.1:" + ts.Getenv("FTP_PORT"))
	ts.Check(err)
	p.CutAfter, p.CutTimes = n, 1
	ts.Defer(func() { _ = p.Close(); ftpProxies.Delete(ts) })
	ftpProxies.Store(ts, p)
	ts.Setenv("FTP_PORT", strconv.Itoa(p.Port()))
}

// ftpcutsCmd is "ftpcuts N": require that the proxy of ftpcut cut exactly
// N transfers, so that a script knows its fault happened.
func ftpcutsCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: ftpcuts N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	v, ok := ftpProxies.Load(ts)
	if !ok {
		ts.Fatalf("ftpcuts: no ftpcut proxy in this script")
	}
	retrs, cuts := v.(*ftpfault.Proxy).Stats()
	if cuts != want {
		ts.Fatalf("the proxy cut %d of %d transfers, want %d cut", cuts, retrs, want)
	}
}

// freeportCmd is "freeport VAR": set VAR to a free TCP port of 127.0.0.1.
func freeportCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	ts.Setenv(args[0], strconv.Itoa(freePorts(ts, 1)[0]))
}

// httpgetCmd is "httpget [-H 'Name: value']... STATUS URL [FILE]": GET URL,
// following redirects, and require the final status STATUS; the body goes
// to FILE. A refused connection is retried for ten seconds, so that a
// server started in the background has time to listen.
func httpgetCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("httpget: use the STATUS argument instead of !")
	}
	var headers []string
	for len(args) >= 2 && args[0] == "-H" {
		headers, args = append(headers, args[1]), args[2:]
	}
	if len(args) != 2 && len(args) != 3 {
		ts.Fatalf("usage: httpget [-H 'Name: value']... STATUS URL [FILE]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	req, err := http.NewRequest(http.MethodGet, args[1], nil)
	ts.Check(err)
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			ts.Fatalf("httpget: header %q is not 'Name: value'", h)
		}
		req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp := retryRefused(ts, func() (*http.Response, error) { return http.DefaultClient.Do(req) })
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	ts.Check(err)
	if resp.StatusCode != want {
		ts.Fatalf("GET %s: status %d, want %d\n%s", args[1], resp.StatusCode, want, body)
	}
	if len(args) == 3 {
		ts.Check(os.WriteFile(ts.MkAbs(args[2]), body, 0o644))
	}
}

// httptokenCmd is "httptoken URL USER:PASSWORD VAR": POST to a token
// endpoint with HTTP Basic credentials and set VAR to the access token.
func httptokenCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: httptoken URL USER:PASSWORD VAR")
	}
	user, pass, _ := strings.Cut(args[1], ":")
	resp := retryRefused(ts, func() (*http.Response, error) {
		req, err := http.NewRequest(http.MethodPost, args[0], nil)
		if err != nil {
			return nil, err
		}
		req.SetBasicAuth(user, pass)
		return http.DefaultClient.Do(req)
	})
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	body, err := io.ReadAll(resp.Body)
	ts.Check(err)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
		ts.Fatalf("POST %s: status %d: %s", args[0], resp.StatusCode, body)
	}
	ts.Setenv(args[2], tok.AccessToken)
}

func retryRefused(ts *testscript.TestScript, do func() (*http.Response, error)) *http.Response {
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := do()
		if err == nil {
			return resp
		}
		if !errors.Is(err, syscall.ECONNREFUSED) || time.Now().After(deadline) {
			ts.Fatalf("%v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// jsongetCmd is "jsonget FILE PATH VAR": set VAR to the string or number
// at PATH (dot-separated object keys) of the JSON document in FILE, such as
// a run's id out of an API answer.
func jsongetCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: jsonget FILE PATH VAR")
	}
	var doc any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &doc))
	for _, k := range strings.Split(args[1], ".") {
		m, ok := doc.(map[string]any)
		if !ok {
			ts.Fatalf("jsonget: %s: %q is not in an object", args[1], k)
		}
		if doc, ok = m[k]; !ok {
			ts.Fatalf("jsonget: %s: no %q", args[1], k)
		}
	}
	switch v := doc.(type) {
	case string:
		ts.Setenv(args[2], v)
	case float64:
		ts.Setenv(args[2], strconv.FormatFloat(v, 'f', -1, 64))
	default:
		ts.Fatalf("jsonget: %s is a %T, not a string or number", args[1], doc)
	}
}
