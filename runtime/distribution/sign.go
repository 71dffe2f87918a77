package distribution

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Query parameters of a signed link; compiler/distribution puts the same
// names in the CloudFront cache key.
const (
	paramUser      = "A-userid"
	paramExpires   = "A-expires"
	paramSignature = "A-signature"
)

// tokenCookie is the cookie a browser's token is kept in.
const tokenCookie = "cumulus-dist-token"

// tokenPrefix tells a local token from a JWT at a glance (a JWT starts with
// a base64 JSON header, "eyJ").
const tokenPrefix = "cdt1."

var (
	errLinkInvalid = errors.New("invalid link signature")
	errLinkExpired = errors.New("link expired")
	errTokenBad    = errors.New("invalid token")
)

// signer makes and checks links and local tokens. Each use has its own key
// derived from the one secret, so a token can never pass for a link or the
// other way round, whatever their text.
type signer struct {
	linkKey, tokenKey []byte
}

func newSigner(secret []byte) *signer {
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	return &signer{linkKey: derive("cumulus distribution link v1"), tokenKey: derive("cumulus distribution token v1")}
}

func mac(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0}) // no part holds NUL: the split is unambiguous
	}
	return m.Sum(nil)
}

var b64 = base64.RawURLEncoding

// linkQuery returns the query of a link to path for user, valid until
// expires.
func (s *signer) linkQuery(path, user string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	sig := b64.EncodeToString(mac(s.linkKey, path, exp, user))
	v := url.Values{paramUser: {user}, paramExpires: {exp}, paramSignature: {sig}}
	return v.Encode()
}

// verifyLink checks a link's parameters for path at now and returns the
// user it was made for. The signature is checked before the expiry, so an
// "expired" answer is never given to a forged link.
func (s *signer) verifyLink(path string, q url.Values, now time.Time) (string, error) {
	user, exp, sig := q[paramUser], q[paramExpires], q[paramSignature]
	if len(user) != 1 || len(exp) != 1 || len(sig) != 1 || len(sig[0]) > 64 || len(exp[0]) > 20 {
		return "", errLinkInvalid
	}
	got, err := b64.DecodeString(sig[0])
	if err != nil || !hmac.Equal(got, mac(s.linkKey, path, exp[0], user[0])) {
		return "", errLinkInvalid
	}
	t, err := strconv.ParseInt(exp[0], 10, 64)
	if err != nil {
		return "", errLinkInvalid
	}
	if !now.Before(time.Unix(t, 0)) {
		return "", errLinkExpired
	}
	return user[0], nil
}

// token returns a local bearer token for user, valid until expires.
func (s *signer) token(user string, expires time.Time) string {
	payload := b64.EncodeToString([]byte(user + "\n" + strconv.FormatInt(expires.Unix(), 10)))
	return tokenPrefix + payload + "." + b64.EncodeToString(mac(s.tokenKey, payload))
}

// verifyToken checks a local token at now and returns its user.
func (s *signer) verifyToken(tok string, now time.Time) (string, error) {
	rest, ok := strings.CutPrefix(tok, tokenPrefix)
	if !ok || len(rest) > 512 {
		return "", errTokenBad
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return "", errTokenBad
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(s.tokenKey, payload)) {
		return "", errTokenBad
	}
	raw, err := b64.DecodeString(payload)
	if err != nil {
		return "", errTokenBad
	}
	user, exp, ok := strings.Cut(string(raw), "\n")
	if !ok {
		return "", errTokenBad
	}
	t, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !now.Before(time.Unix(t, 0)) {
		return "", errTokenBad
	}
	return user, nil
}
