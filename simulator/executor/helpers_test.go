package executor

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// dirStore is a FileStore over a folder: bucket/key is root/bucket/key.
type dirStore struct {
	root string

	mu        sync.Mutex
	downloads int
}

var _ FileStore = (*dirStore)(nil)

func (s *dirStore) Download(ctx context.Context, f contract.File, dst string) error {
	s.mu.Lock()
	s.downloads++
	s.mu.Unlock()
	v, err := newVerifier(f.Checksum, f.ChecksumType)
	if err != nil {
		return err
	}
	src, err := os.Open(filepath.Join(s.root, f.Bucket, filepath.FromSlash(f.Key)))
	if err != nil {
		return err
	}
	defer src.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	var w io.Writer = out
	if v != nil {
		w = io.MultiWriter(out, v)
	}
	if _, err := io.Copy(w, src); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if v != nil {
		return v.check()
	}
	return nil
}

func (s *dirStore) Upload(ctx context.Context, src, bucket, key string) (contract.File, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return contract.File{}, err
	}
	dst := filepath.Join(s.root, bucket, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return contract.File{}, err
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		return contract.File{}, err
	}
	size, sum, err := fileChecksum(dst)
	if err != nil {
		return contract.File{}, err
	}
	return contract.File{Name: filepath.Base(key), Bucket: bucket, Key: key, Size: size, Checksum: sum, ChecksumType: uploadChecksumType}, nil
}

// put stores content at bucket/key and returns it as a granule file with an
// md5 checksum.
func (s *dirStore) put(t *testing.T, name, typ, bucket, key, content string) contract.File {
	t.Helper()
	p := filepath.Join(s.root, bucket, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum([]byte(content))
	return contract.File{Name: name, Type: typ, Bucket: bucket, Key: key, Size: int64(len(content)),
		Checksum: hex.EncodeToString(sum[:]), ChecksumType: "md5", Source: "ftp://example.org/" + name}
}

func (s *dirStore) read(t *testing.T, bucket, key string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.root, bucket, filepath.FromSlash(key)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// syncBuffer is a log the test reads while a step may write it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// writeScript writes an executable sh script into dir.
func writeScript(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// fixture is a granule with one file in a folder store.
type fixture struct {
	store *dirStore
	input contract.Input
	log   *syncBuffer
}

func newFixture(t *testing.T) *fixture {
	store := &dirStore{root: t.TempDir()}
	f := store.put(t, "a.txt", "data", "staging", "src/a.txt", "hello\n")
	return &fixture{
		store: store,
		log:   &syncBuffer{},
		input: contract.Input{
			Pipeline: "ingest",
			Step:     "process",
			Attempt:  1,
			Granule: contract.Granule{
				ID: "G2024001", Collection: "MOD09", Version: "6", Date: "2024-01-01",
				Files: []contract.File{f},
			},
		},
	}
}

func (f *fixture) job(t *testing.T, task *graph.Task) Job {
	t.Helper()
	return Job{Task: task, Input: f.input, WorkDir: t.TempDir(), Files: f.store, Log: f.log}
}

func skipWithoutUnix(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the process tests run sh scripts")
	}
}
