package distribution

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cumulus-toolchain/cumulus/simulator/s3local"
)

// BenchmarkRedirect is the redirect path in process, without the network:
// what the handler itself costs over presigning alone.
func BenchmarkRedirect(b *testing.B) {
	client, err := s3local.Client(context.Background(), "http://127.0.0.1:1")
	if err != nil {
		b.Fatal(err)
	}
	dist, err := New(testPolicy(), client, WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
	if err != nil {
		b.Fatal(err)
	}
	presign := s3.NewPresignClient(client)
	for _, c := range []struct {
		name string
		h    http.HandlerFunc
	}{
		{"bare", func(w http.ResponseWriter, r *http.Request) {
			key := r.URL.Path[len("/public/"):]
			req, _ := presign.PresignGetObject(r.Context(), &s3.GetObjectInput{Bucket: ptr(publicBucket), Key: &key}, s3.WithPresignExpires(24*time.Hour))
			w.Header().Set("Location", req.URL)
			w.WriteHeader(http.StatusTemporaryRedirect)
		}},
		{"distribution", dist.ServeHTTP},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, browsePath, nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				c.h(w, req)
				if w.Code != http.StatusTemporaryRedirect {
					b.Fatal(w.Code)
				}
			}
		})
	}
}
