package distribution

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

// errIdPUnavailable: the identity provider's keys could not be had, so no
// JWT can be judged; that is the server's trouble, not the user's.
var errIdPUnavailable = errors.New("identity provider unavailable")

// jwtVerifier verifies the JWTs of one OIDC issuer. The verifier is made on
// first use when the issuer's discovery document must be fetched, so that
// starting the handler needs no network, and again after a failed attempt.
type jwtVerifier struct {
	cfg    graph.OIDC
	client *http.Client
	clock  Clock

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
}

func newJWTVerifier(cfg graph.OIDC, client *http.Client, clock Clock) *jwtVerifier {
	v := &jwtVerifier{cfg: cfg, client: client, clock: clock}
	if cfg.JWKSURL != "" {
		// The key set keeps this context for its own fetches: it must
		// carry the client and outlive any one request.
		ctx := oidc.ClientContext(context.Background(), client)
		v.verifier = oidc.NewVerifier(cfg.Issuer, oidc.NewRemoteKeySet(ctx, cfg.JWKSURL), v.config())
	}
	return v
}

func (v *jwtVerifier) config() *oidc.Config {
	return &oidc.Config{
		// The audience is checked below: Cognito access tokens carry it
		// as client_id, not aud.
		SkipClientIDCheck:    true,
		SupportedSigningAlgs: []string{oidc.RS256, oidc.ES256, oidc.PS256},
		Now:                  v.clock.Now,
	}
}

func (v *jwtVerifier) get(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.verifier != nil {
		return v.verifier, nil
	}
	// Discovery runs under the request's context (a stuck issuer fails the
	// request, not the handler); the key set it makes keeps only the client.
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, v.client), v.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery of %s: %w", errIdPUnavailable, v.cfg.Issuer, err)
	}
	v.verifier = p.Verifier(v.config())
	return v.verifier, nil
}

// verify checks a JWT and returns the user its UserClaim names.
func (v *jwtVerifier) verify(ctx context.Context, raw string) (string, error) {
	ver, err := v.get(ctx)
	if err != nil {
		return "", err
	}
	tok, err := ver.Verify(oidc.ClientContext(ctx, v.client), raw)
	if err != nil {
		var fetch interface{ Timeout() bool }
		if errors.As(err, &fetch) || ctx.Err() != nil {
			return "", fmt.Errorf("%w: %w", errIdPUnavailable, err)
		}
		return "", fmt.Errorf("%w: %w", errTokenBad, err)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return "", fmt.Errorf("%w: claims: %w", errTokenBad, err)
	}
	if !slices.Contains(tok.Audience, v.cfg.Audience) && claims["client_id"] != v.cfg.Audience {
		return "", fmt.Errorf("%w: issued for another audience", errTokenBad)
	}
	user, _ := claims[v.cfg.UserClaim].(string)
	if user == "" {
		return "", fmt.Errorf("%w: no %s claim", errTokenBad, v.cfg.UserClaim)
	}
	return user, nil
}

// Clock tells the time; tests give one they move, to see links expire.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
