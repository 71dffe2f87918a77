package s3local

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestOpenRefusesAnotherIndexFormat(t *testing.T) {
	dir := t.TempDir()
	s, err := openStore(context.Background(), dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(formatKey).Put([]byte("version"), []byte("99"))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.close()
	_, err = openStore(context.Background(), dir, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), `format "99"`) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("open of a format-99 index: %v", err)
	}
}

func TestIsLoopbackHTTP(t *testing.T) {
	for ep, want := range map[string]bool{
		"http://127.0.0.1:9000":    true,
		"http://127.3.4.5":         true,
		"http://[::1]:9000":        true,
		"http://localhost:9000":    true,
		"https://127.0.0.1:9000":   false, // TLS: the SDK decides
		"http://192.168.1.5:9000":  false,
		"http://minio.local:9000":  false,
		"https://s3.amazonaws.com": false,
	} {
		if got := isLoopbackHTTP(ep); got != want {
			t.Errorf("isLoopbackHTTP(%q) = %v, want %v", ep, got, want)
		}
	}
}
