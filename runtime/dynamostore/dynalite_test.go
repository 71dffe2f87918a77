package dynamostore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cumulus-toolchain/cumulus/compiler/awsmodel"
	"github.com/cumulus-toolchain/cumulus/runtime/engine/enginetest"
)

// One dynalite serves the whole test binary (it starts in about a
// second); each test takes tables under a prefix of its own.
var (
	dynOnce sync.Once
	dynURL  string
	dynErr  error
	dynCmd  *exec.Cmd
	dynSeq  atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if dynCmd != nil {
		_ = dynCmd.Process.Kill()
		_ = dynCmd.Wait()
	}
	enginetest.Cleanup()
	os.Exit(code)
}

// dynalite returns the endpoint of a dynalite (in memory, on 127.0.0.1,
// on a free port) started for the test binary, skipping the test when
// dynalite is not installed (.ci/run installs it from npm).
func dynalite(tb testing.TB) string {
	tb.Helper()
	path, err := exec.LookPath("dynalite")
	if err != nil {
		tb.Skip("skipping: dynalite is not installed (npm install -g dynalite@4)")
	}
	dynOnce.Do(func() {
		var l net.Listener
		if l, dynErr = net.Listen("tcp", "127.0.0.1:0"); dynErr != nil {
			return
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		var out bytes.Buffer
		dynCmd = exec.Command(path, "--host", "127.0.0.1", "--port", fmt.Sprint(port), "--createTableMs", "0",
			"--deleteTableMs", "0", "--updateTableMs", "0")
		dynCmd.Stdout, dynCmd.Stderr = &out, &out
		dieWithTest(dynCmd)
		if dynErr = dynCmd.Start(); dynErr != nil {
			dynCmd = nil
			return
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				dynURL = "http://" + addr
				return
			}
		}
		dynErr = fmt.Errorf("dynalite did not listen on %s within 20s: %s", addr, out.String())
	})
	if dynErr != nil {
		tb.Fatalf("starting dynalite: %v", dynErr)
	}
	return dynURL
}

// request is one request the SDK sent: its operation and JSON body.
type request struct {
	op   string
	body []byte
}

// recordingClient is an HTTP client that keeps every request it forwards, so a
// test can check each against the DynamoDB API model.
type recordingClient struct {
	next http.Client
	mu   sync.Mutex
	reqs []request
	off  atomic.Bool
}

func (r *recordingClient) Do(req *http.Request) (*http.Response, error) {
	if !r.off.Load() && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		op := req.Header.Get("X-Amz-Target")
		r.mu.Lock()
		r.reqs = append(r.reqs, request{op: op[strings.LastIndexByte(op, '.')+1:], body: body})
		r.mu.Unlock()
	}
	return r.next.Do(req)
}

func (r *recordingClient) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.reqs...)
}

// client returns a DynamoDB client of dynalite, through a recorder.
func client(tb testing.TB) (*dynamodb.Client, *recordingClient) {
	rec := &recordingClient{next: http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	c := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(dynalite(tb)),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:   rec,
	})
	return c, rec
}

// checkRequests validates, when the test ends, every request the test's
// client sent against the DynamoDB model in ../shared/aws-models (when it
// is there): the SDK validated them on the way out, the model checks what
// the SDK does not (patterns, lengths, enums).
func checkRequests(t *testing.T, rec *recordingClient) {
	t.Cleanup(func() {
		if _, err := awsmodel.ModelsDir(); err != nil {
			t.Logf("requests not checked against the model: %v", err)
			return
		}
		m := awsmodel.TestModel(t, "dynamodb")
		seen := map[string]bool{}
		ops := map[string]int{}
		for _, r := range rec.requests() {
			ops[r.op]++
			key := r.op + "\x00" + string(r.body)
			if seen[key] {
				continue
			}
			seen[key] = true
			if vs := m.ValidateInput(r.op, r.body); len(vs) > 0 {
				t.Errorf("%s request %s does not match the model: %v", r.op, r.body, vs)
			}
		}
		t.Logf("checked %d distinct requests against the model: %v", len(seen), ops)
	})
}

// newTables creates the store's tables under a fresh prefix, from the
// same CreateTable documents compile emits, and returns the store.
func newTables(tb testing.TB, db *dynamodb.Client) (*Store, string) {
	tb.Helper()
	prefix := fmt.Sprintf("t%d-%d", time.Now().UnixNano()%1e6, dynSeq.Add(1))
	ctx := context.Background()
	for _, in := range Tables(prefix, map[string]string{"project": "cumulus", "env": "test"}) {
		if _, err := db.CreateTable(ctx, in); err != nil {
			tb.Fatalf("creating %s: %v", aws.ToString(in.TableName), err)
		}
	}
	for _, name := range TableNames(prefix) {
		w := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
			o.MinDelay, o.MaxDelay = 10*time.Millisecond, 100*time.Millisecond
		})
		if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
			tb.Fatalf("waiting for %s: %v", name, err)
		}
	}
	tb.Cleanup(func() {
		for _, name := range TableNames(prefix) {
			_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		}
	})
	return New(db, prefix, nil), prefix
}
