package awsfake

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
)

type recorder struct{ msgs []string }

func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

// A request the AWS model refuses is refused and reported, even when the
// SDK would have sent it.
func TestInvalidRequestIsReported(t *testing.T) {
	var rec recorder
	s, err := Start(&rec, "123456789012", "us-west-2")
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	defer s.Close()
	req, _ := http.NewRequest("POST", s.URL, bytes.NewBufferString(`{"logGroupName":"a","retentionInDays":3}`))
	req.Header.Set("X-Amz-Target", "Logs_20140328.CreateLogGroup")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-west-2/logs/aws4_request, SignedHeaders=host, Signature=x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || len(rec.msgs) != 1 {
		t.Fatalf("status %d, reports %v", resp.StatusCode, rec.msgs)
	}
	t.Log(rec.msgs[0])
}
