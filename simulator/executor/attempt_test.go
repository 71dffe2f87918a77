package executor

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

func staticEnv(name, value string) graph.Binding {
	raw, _ := json.Marshal(value)
	return graph.Binding{Name: name, Value: graph.Value{Static: raw}}
}

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&ExitError{Code: 1}, false},
		{&ExitError{Code: 75}, true}, // listed below
		{&ExitError{Code: 137, OOM: true}, true},
		{&ExitError{Code: -1, Timeout: true}, true},
		{&ResultError{Err: errors.New("x")}, false},
		{errors.New("connection reset"), true},
		{errors.Join(errors.New("x"), ErrCannotRun), false},
		{context.Canceled, false},
		{&stoppedError{step: "s", granule: "g", err: context.DeadlineExceeded}, false},
		{fmt.Errorf("get object: %w", context.DeadlineExceeded), true}, // an HTTP timeout
	} {
		if got := Retryable(tc.err, []int{75}); got != tc.want {
			t.Errorf("Retryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestLineWriter(t *testing.T) {
	var got []string
	sink := newLogSink(writerFunc(func(p []byte) (int, error) {
		got = append(got, string(p))
		return len(p), nil
	}))
	out, errw := sink.stream(), sink.stream()
	out.Write([]byte("one\ntw"))
	errw.Write([]byte("err"))
	out.Write([]byte("o\nthree"))
	errw.Write([]byte("or\n"))
	out.flush()
	want := []string{"one\n", "two\n", "error\n", "three"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("writes = %q, want %q", got, want)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestParseResultInherits(t *testing.T) {
	in := contract.Granule{ID: "G1", Collection: "C", Version: "1", Date: "2024-01-01"}
	res, err := parseResult([]byte(`{"granule": {"id": "G1", "version": "2", "files": []}}`), in)
	if err != nil {
		t.Fatal(err)
	}
	want := contract.Granule{ID: "G1", Collection: "C", Version: "2", Date: "2024-01-01", Files: []contract.File{}}
	if !reflect.DeepEqual(res.Granule, want) {
		t.Errorf("granule = %+v, want %+v", res.Granule, want)
	}
}

func TestVerifier(t *testing.T) {
	sum := sha256.Sum256([]byte("data"))
	for _, tc := range []struct {
		checksum, typ string
		ok            bool
	}{
		{hex.EncodeToString(sum[:]), "sha256", true},
		{strings.ToUpper(hex.EncodeToString(sum[:])), "SHA-256", true},
		{base64.StdEncoding.EncodeToString(sum[:]), "sha256", true}, // as S3 writes it
		{hex.EncodeToString(sum[:]), "", true},                      // told by its length
		{strings.Repeat("0", 64), "sha256", false},
	} {
		v, err := newVerifier(tc.checksum, tc.typ)
		if err != nil {
			t.Fatal(err)
		}
		v.Write([]byte("data"))
		if err := v.check(); (err == nil) != tc.ok {
			t.Errorf("%s %q: %v", tc.typ, tc.checksum, err)
		}
	}
	if _, err := newVerifier("abc", "crc32c"); err == nil {
		t.Error("an unknown checksum type was accepted")
	}
	if _, err := newVerifier("abc", "cksum"); err == nil {
		t.Error("a cksum that is not a decimal CRC was accepted")
	}
	if v, err := newVerifier("0930766865", "CKSUM"); err != nil {
		t.Error(err)
	} else if v.Write([]byte("123456789")); v.check() != nil {
		t.Errorf("cksum: %v", v.check())
	}
	if _, err := newVerifier("abc", ""); err == nil {
		t.Error("an untyped checksum of no known length was accepted")
	}
	if v, err := newVerifier("", "md5"); v != nil || err != nil {
		t.Error("no checksum should mean nothing to verify")
	}
}
