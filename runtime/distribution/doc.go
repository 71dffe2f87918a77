// Package distribution owns the distribution handler (DESIGN §4, issue 5):
// one net/http handler that serves the archive by a compiled distribution
// policy (graph.Distribution), in process under `cumulus simulate` and,
// unchanged, as the Lambda function behind API Gateway that the compiler
// writes for each distribution block.
//
// # Paths
//
// GET or HEAD /PREFIX/KEY serves object KEY of the bucket whose prefix is
// PREFIX (the bucket map: prefixes never nest, the checker sees to that).
// The path is checked before anything else, and refused with 400 when it is
// ambiguous: "." or ".." segments, empty segments, encoded slashes or
// backslashes (%2f, %5c), double encoding (%252e), control characters.
// Encoded dots that decode to "." or ".." are refused by the same rule as the
// plain ones, since the check is on the decoded segments. A path that no
// prefix serves, or that names a bucket outside the policy, is 404; the body
// of every refusal is a fixed sentence, never an echo of the request, a
// bucket name or a credential.
//
// # Anonymous buckets
//
// The handler answers 307 with a presigned S3 GET (s3.PresignClient), or
// streams the object when the policy says stream = true. Cache-Control
// carries cache_ttl ("public, max-age=..."), which is what CloudFront caches
// by. A redirect cached for cache_ttl must not outlive the URL it points at,
// so the presigned URL lives cache_ttl plus a margin (capped at S3's 7 days,
// and max-age shrinks to fit).
//
// # Authenticated buckets: the handler's own signed links
//
// A request with valid credentials gets 307 to a link of the handler itself:
// the same path with A-userid, A-expires and A-signature, an HMAC-SHA256
// over the decoded path, the expiry and the user, valid for link_ttl (as the
// Thin Egress App tags its links with A-userid). A request with such a link
// needs no credentials: the handler checks the signature and the expiry
// against its Clock, and only then redirects to a presigned S3 URL that lives
// a minute, or streams. The link is ours rather than a presigned S3 URL
// because the embedded S3 server of the simulator checks no signature at all:
// only a link the handler verifies itself expires everywhere, and the
// expiry can be tested with an injected clock. Tampered links and expired
// ones are 403, each with its own sentence.
//
// Credentials are a bearer token (Authorization: Bearer, or the
// cumulus-dist-token cookie a browser logs in with) of one of two kinds:
//
//   - local tokens, for `cumulus simulate`: POST /token with the user's name
//     and password (HTTP Basic, or the form fields username and password)
//     returns one. Users are named in the auth block or in CUMULUS_DIST_USERS
//     (NAME:PASSWORD,...); passwords are never in the configuration, and
//     LocalUsers generates the missing ones for the simulator to print.
//     Tokens are HMACs too, so the handler keeps no state.
//   - JWTs of the OIDC issuer in the auth block (Cognito, Earthdata Login),
//     verified with github.com/coreos/go-oidc against the issuer's keys:
//     signature, issuer, expiry, and the audience (aud, or client_id for
//     Cognito access tokens).
//
// Without credentials the answer is 401 with WWW-Authenticate, or, for a
// browser (Accept: text/html) when there are local users, 303 to the /login
// form, which sets the cookie. Every Location the handler writes for its
// own paths is relative, so it works behind an API Gateway stage prefix.
//
// Links and tokens are signed with keys derived from one secret
// (WithSigningKey; CUMULUS_DIST_KEY on Lambda); without one, New generates
// a key, so links last as long as the simulation that made them.
//
// # Everything else
//
// Range requests are passed to S3 when streaming (206, and 416 with
// Content-Range: bytes */SIZE), as are conditional requests (304, 412).
// Other methods get 405 with Allow; header blocks over WithMaxHeaderBytes
// get 431, request targets over 4 KiB 414. Each request is one access-log
// line through log/slog: who, what, how, status and bytes sent (egress).
package distribution
