package main

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rogpeppe/go-internal/testscript"
)

// lambdaapiCmd serves the Lambda Runtime API (the interface a custom
// runtime's bootstrap polls, as the Lambda service offers it at
// AWS_LAMBDA_RUNTIME_API) on 127.0.0.1, handing out the events in the
// given files one invocation each, and sets AWS_LAMBDA_RUNTIME_API for the
// script's cumulus. The bootstrap's answer to invocation N goes to
// lambda-response-N.json, or lambda-error-N.json when it failed. Once the
// events are given out, the next poll is answered 500, which makes the
// bootstrap exit: the script runs it with `! exec cumulus`.
//
//	lambdaapi EVENT.json...
func lambdaapiCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: lambdaapi EVENT.json...")
	}
	var events [][]byte
	for _, a := range args {
		events = append(events, []byte(ts.ReadFile(a)))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ts.Fatalf("lambdaapi: %v", err)
	}
	var mu sync.Mutex
	next := 0
	const base = "/2018-06-01/runtime/"
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+base+"invocation/next", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if next >= len(events) {
			http.Error(w, "no more events in this test", http.StatusInternalServerError)
			return
		}
		next++
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", strconv.Itoa(next))
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-west-2:123456789012:function:test")
		w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
		_, _ = w.Write(events[next-1])
	})
	record := func(kind string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			name := fmt.Sprintf("lambda-%s-%s.json", kind, r.PathValue("id"))
			if err := os.WriteFile(ts.MkAbs(name), body, 0o644); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusAccepted)
		}
	}
	mux.HandleFunc("POST "+base+"invocation/{id}/response", record("response"))
	mux.HandleFunc("POST "+base+"invocation/{id}/error", record("error"))
	mux.HandleFunc("POST "+base+"init/error", record("init-error"))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	ts.Defer(func() { _ = srv.Close() })
	ts.Setenv("AWS_LAMBDA_RUNTIME_API", ln.Addr().String())
}

// awsputCmd puts a file as an S3 object through the SDK's standard
// configuration (the fake AWS's endpoint after awsfake).
//
//	awsput BUCKET KEY FILE
func awsputCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: awsput BUCKET KEY FILE")
	}
	ctx := context.Background()
	// The script's environment, not the test process's.
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(ts.Getenv("AWS_REGION")),
		config.WithBaseEndpoint(ts.Getenv("AWS_ENDPOINT_URL")),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(ts.Getenv("AWS_ACCESS_KEY_ID"), ts.Getenv("AWS_SECRET_ACCESS_KEY"), "")))
	if err != nil {
		ts.Fatalf("awsput: %v", err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(args[0]), Key: aws.String(args[1]),
		Body: bytes.NewReader([]byte(ts.ReadFile(args[2])))})
	if err != nil {
		ts.Fatalf("awsput: %v", err)
	}
}

// unzipCmd extracts a zip's files into a folder, keeping their modes.
//
//	unzip ZIP DIR
func unzipCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: unzip ZIP DIR")
	}
	zr, err := zip.OpenReader(ts.MkAbs(args[0]))
	if err != nil {
		ts.Fatalf("unzip: %v", err)
	}
	defer zr.Close()
	dir := ts.MkAbs(args[1])
	for _, f := range zr.File {
		if f.Name != filepath.Base(f.Name) {
			ts.Fatalf("unzip: %s is not a plain name", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			ts.Fatalf("unzip: %v", err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			ts.Fatalf("unzip: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name), data, f.Mode().Perm()); err != nil {
			ts.Fatalf("unzip: %v", err)
		}
	}
}
