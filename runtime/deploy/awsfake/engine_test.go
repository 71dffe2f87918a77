package awsfake

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// The engine's services are checked against their models too (enums
// aside, which the fake only warns of, as everywhere): DynamoDB's
// awsJson1_0 body as it is, API Gateway's restJson1 body with its
// lower-camel names turned back into the members' and the path's labels
// added.
func TestEngineRequestsAreValidated(t *testing.T) {
	var rec recorder
	s, err := Start(&rec, "123456789012", "us-west-2")
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	defer s.Close()
	send := func(svc, method, path, target, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, s.URL+path, bytes.NewBufferString(body))
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
		}
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-west-2/"+svc+"/aws4_request, SignedHeaders=host, Signature=x")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		svc, method, path, target, body string
		valid                           bool
		want                            string
	}{
		{"dynamodb", "POST", "/", "DynamoDB_20120810.CreateTable", `{"TableName":"t","BillingMode":"PAY_PER_REQUEST","KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}]}`, true, ""},
		{"dynamodb", "POST", "/", "DynamoDB_20120810.CreateTable", `{"TableName":"u","Billing":"PAY_PER_REQUEST","KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}]}`, false, "TableName"},
		{"apigateway", "POST", "/v2/apis", "", `{"name":"a","protocolType":"HTTP","tags":{"cumulus:config":"p"}}`, true, ""},
		{"apigateway", "POST", "/v2/apis", "", `{"name":"a","protocolTyp":"HTTP"}`, false, "ProtocolTyp"},
		{"apigateway", "POST", "/v2/apis/a1b2c01/routes", "", `{"target":"integrations/x"}`, false, "RouteKey"},
		{"logs", "POST", "/", "Logs_20140328.FilterLogEvents", `{"logGroupName":"g","limit":0}`, false, "limit"},
	} {
		rec.msgs = nil
		status := send(tc.svc, tc.method, tc.path, tc.target, tc.body)
		if tc.valid {
			if len(rec.msgs) != 0 || status >= 300 {
				t.Errorf("%s %s: status %d, reports %v", tc.method, tc.path, status, rec.msgs)
			}
			continue
		}
		if status != 400 || len(rec.msgs) != 1 || !strings.Contains(rec.msgs[0], tc.want) {
			t.Errorf("%s %s %s: status %d, reports %v", tc.method, tc.path, tc.body, status, rec.msgs)
		}
	}
}
