package distribution

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

// testIssuer is an OpenID Connect issuer on loopback: a discovery document
// and a key set with a key made for the test.
type testIssuer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
}

func newTestIssuer(t *testing.T) *testIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss := &testIssuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss.srv.URL, "jwks_uri": iss.srv.URL + "/keys",
			"authorization_endpoint": iss.srv.URL + "/auth", "token_endpoint": iss.srv.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]any{
			"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
			"n": b64.EncodeToString(key.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	iss.srv = httptest.NewServer(mux)
	t.Cleanup(iss.srv.Close)
	return iss
}

// sign makes an RS256 JWT of claims with key (the issuer's by default).
func (iss *testIssuer) sign(t *testing.T, claims map[string]any, key *rsa.PrivateKey) string {
	t.Helper()
	if key == nil {
		key = iss.key
	}
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "k1", "typ": "JWT"})
	payload, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestOIDC(t *testing.T) {
	iss := newTestIssuer(t)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, discovery := range []bool{true, false} {
		policy := testPolicy()
		policy.Auth = &graph.DistributionAuth{OIDC: &graph.OIDC{Issuer: iss.srv.URL, Audience: "app-client", UserClaim: "username"}}
		if !discovery {
			policy.Auth.OIDC.JWKSURL = iss.srv.URL + "/keys"
		}
		f := newFixture(t, policy)
		now := f.clock.Now()
		claims := func(change func(map[string]any)) map[string]any {
			c := map[string]any{"iss": iss.srv.URL, "aud": "app-client", "sub": "0b5c-42", "username": "carol",
				"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()}
			if change != nil {
				change(c)
			}
			return c
		}
		good := []map[string]any{
			claims(nil),
			// A Cognito access token: client_id instead of aud.
			claims(func(c map[string]any) { delete(c, "aud"); c["client_id"] = "app-client"; c["token_use"] = "access" }),
			claims(func(c map[string]any) { c["aud"] = []string{"other", "app-client"} }),
		}
		for i, c := range good {
			resp, _ := f.do(f.noFollow, http.MethodGet, protectedPath, bearer(iss.sign(t, c, nil)))
			if resp.StatusCode != http.StatusTemporaryRedirect {
				t.Fatalf("discovery=%v good token %d: %s", discovery, i, resp.Status)
			}
			u, _ := url.Parse(resolve(t, resp))
			if u.Query().Get(paramUser) != "carol" {
				t.Errorf("link made for %q, want the username claim", u.Query().Get(paramUser))
			}
		}
		bad := map[string]string{
			"expired":        iss.sign(t, claims(func(c map[string]any) { c["exp"] = now.Add(-time.Second).Unix() }), nil),
			"other audience": iss.sign(t, claims(func(c map[string]any) { c["aud"] = "someone-else" }), nil),
			"other issuer":   iss.sign(t, claims(func(c map[string]any) { c["iss"] = "https://evil.example" }), nil),
			"other key":      iss.sign(t, claims(nil), other),
			"no user claim":  iss.sign(t, claims(func(c map[string]any) { delete(c, "username") }), nil),
			"alg none":       base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + base64.RawURLEncoding.EncodeToString(mustJSON(claims(nil))) + ".",
		}
		for name, tok := range bad {
			resp, body := f.do(f.noFollow, http.MethodGet, protectedPath, bearer(tok))
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("discovery=%v %s: %s", discovery, name, resp.Status)
			}
			assertNoLeak(t, name, body, tok, "carol")
		}
		// Local tokens still work beside the issuer's.
		resp, _ := f.do(f.noFollow, http.MethodGet, protectedPath, bearer(f.token()))
		if resp.StatusCode != http.StatusTemporaryRedirect {
			t.Errorf("local token beside OIDC: %s", resp.Status)
		}
	}
}

func TestOIDCIssuerDown(t *testing.T) {
	iss := newTestIssuer(t)
	policy := testPolicy()
	policy.Auth = &graph.DistributionAuth{OIDC: &graph.OIDC{Issuer: iss.srv.URL, Audience: "app-client", UserClaim: "sub"}}
	f := newFixture(t, policy)
	tok := iss.sign(t, map[string]any{"iss": iss.srv.URL, "aud": "app-client", "sub": "x", "exp": f.clock.Now().Add(time.Hour).Unix()}, nil)
	iss.srv.Close()
	resp, body := f.do(f.noFollow, http.MethodGet, protectedPath, bearer(tok))
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("issuer down: %s", resp.Status)
	}
	assertNoLeak(t, "issuer down", body, "127.0.0.1")
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
