package distribution

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/lang"
)

// Environment variables the caller reads and passes in (the package reads
// no environment itself).
const (
	// UsersEnv holds local users and their passwords: NAME:PASSWORD pairs
	// separated by commas (a password holds no comma).
	UsersEnv = lang.UsersEnv
	// KeyEnv holds the signing secret, base64 (standard or URL alphabet) of
	// at least 32 bytes; see ParseKey.
	KeyEnv = "CUMULUS_DIST_KEY"
)

// DefaultUser is the user LocalUsers makes when a policy serves
// authenticated buckets and names no user anywhere, so that a simulation of
// any configuration can be logged in to.
const DefaultUser = "local"

var userName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// LocalUsers returns the local users of d and their passwords: the users of
// its auth block and those of env (the value of UsersEnv), passwords from
// env. A configured user env gives no password to gets a generated one
// (from random, crypto/rand.Reader when nil), and generated lists them, in
// name order, so the simulator can print them once. Nothing is generated
// for a policy without authenticated buckets.
func LocalUsers(d *graph.Distribution, env string, random io.Reader) (users map[string]string, generated []string, err error) {
	if random == nil {
		random = rand.Reader
	}
	users = map[string]string{}
	for _, pair := range strings.Split(env, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		name, pw, ok := strings.Cut(pair, ":")
		if !ok || !userName.MatchString(name) || pw == "" {
			return nil, nil, fmt.Errorf("%s: %q is not NAME:PASSWORD (names are letters, digits, . _ @ -; passwords hold no comma)", UsersEnv, redact(pair))
		}
		users[name] = pw
	}
	authenticated := false
	for _, b := range d.Buckets {
		authenticated = authenticated || !b.Anonymous()
	}
	if !authenticated {
		return users, nil, nil
	}
	var want []string
	if d.Auth != nil {
		want = d.Auth.Users
	}
	if len(want) == 0 && len(users) == 0 && (d.Auth == nil || d.Auth.OIDC == nil) {
		want = []string{DefaultUser}
	}
	for _, u := range want {
		if _, ok := users[u]; ok {
			continue
		}
		b := make([]byte, 18)
		if _, err := io.ReadFull(random, b); err != nil {
			return nil, nil, fmt.Errorf("generating a password for %s: %w", u, err)
		}
		users[u] = base64.RawURLEncoding.EncodeToString(b)
		generated = append(generated, u)
	}
	sort.Strings(generated)
	return users, generated, nil
}

// redact keeps the name of a NAME:PASSWORD pair for a message.
func redact(pair string) string {
	if name, _, ok := strings.Cut(pair, ":"); ok {
		return name + ":…"
	}
	if len(pair) > 16 {
		return pair[:16] + "…"
	}
	return pair
}

// ParseKey decodes a signing secret given as base64 (KeyEnv).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) < minKeyBytes {
				return nil, fmt.Errorf("%s: the key is %d bytes; use at least %d random bytes (openssl rand -base64 32)", KeyEnv, len(b), minKeyBytes)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("%s: not base64; generate a key with openssl rand -base64 32", KeyEnv)
}

const minKeyBytes = 32

// passwords checks local users' passwords in constant time: each password
// is kept as its SHA-256, so comparisons take the same time whatever the
// lengths, and an unknown user costs the same as a wrong password.
type passwords map[string][sha256.Size]byte

func newPasswords(users map[string]string) passwords {
	p := passwords{}
	for u, pw := range users {
		p[u] = sha256.Sum256([]byte(pw))
	}
	return p
}

func (p passwords) check(user, pw string) bool {
	want, ok := p[user]
	got := sha256.Sum256([]byte(pw))
	return subtle.ConstantTimeCompare(want[:], got[:]) == 1 && ok
}
