package s3local

import (
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The checksum algorithms give the catalogued check values for "123456789"
// (CRC RevEng catalogue; FIPS 180 for the SHAs).
func TestChecksumHeaderAlgorithms(t *testing.T) {
	want := map[string]string{
		"X-Amz-Checksum-Crc32":     "cbf43926",
		"X-Amz-Checksum-Crc32c":    "e3069283",
		"X-Amz-Checksum-Crc64nvme": "ae8b14860a799888",
		"X-Amz-Checksum-Sha1":      "f7c3bc1d808e04732adf679965ccc34ca7ae3441",
		"X-Amz-Checksum-Sha256":    "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225",
	}
	for _, c := range checksumHeaders {
		h := c.new()
		io.WriteString(h, "123456789")
		if got := hex.EncodeToString(h.Sum(nil)); got != want[c.header] {
			t.Errorf("%s: %s, want %s", c.header, got, want[c.header])
		}
	}
}

func TestVerifyChecksums(t *testing.T) {
	var readErr error
	h := verifyChecksums(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, readErr = io.ReadAll(r.Body)
	}))
	send := func(body, header string) {
		req := httptest.NewRequest(http.MethodPut, "/b/k", strings.NewReader(body))
		if header != "" {
			req.Header.Set("X-Amz-Checksum-Crc32", header)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	send("123456789", "y/Q5Jg==") // base64 of cbf43926
	if readErr != nil {
		t.Errorf("matching body: %v", readErr)
	}
	send("123456780", "y/Q5Jg==")
	if !errors.Is(readErr, errChecksumMismatch) {
		t.Errorf("damaged body: %v, want a checksum mismatch", readErr)
	}
	send("anything", "")
	if readErr != nil {
		t.Errorf("body without a checksum: %v", readErr)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPut, "/b/k", strings.NewReader("x"))
	req.Header.Set("X-Amz-Checksum-Crc32", "not base64!")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("malformed checksum header: status %d, want 400", rec.Code)
	}
}
