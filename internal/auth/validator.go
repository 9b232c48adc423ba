package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldreports/herald/internal/herald"
)

// Validation defaults and limits.
const (
	// DefaultLeeway is the clock skew tolerated on exp, nbf and iat.
	DefaultLeeway = 60 * time.Second
	// MaxTokenBytes is the largest token Validate looks at.
	MaxTokenBytes = 16 << 10
)

// algAllowed reports whether alg is on the allow-list: EdDSA, RS256, RS384,
// RS512, PS256, ES256 and ES384.
func algAllowed(alg string) bool {
	switch alg {
	case "EdDSA", "RS256", "RS384", "RS512", "PS256", "ES256", "ES384":
		return true
	default:
		return false
	}
}

func allowedAlgs() []string {
	return []string{"EdDSA", "RS256", "RS384", "RS512", "PS256", "ES256", "ES384"}
}

// algMatchesKey reports whether a token signed with alg can be verified with
// key: EdDSA needs an Ed25519 key, RS*/PS* an RSA key, ES256 a P-256 key and
// ES384 a P-384 key.
func algMatchesKey(alg string, key any) bool {
	switch k := key.(type) {
	case ed25519.PublicKey:
		return alg == "EdDSA"
	case *rsa.PublicKey:
		return alg == "RS256" || alg == "RS384" || alg == "RS512" || alg == "PS256"
	case *ecdsa.PublicKey:
		return (alg == "ES256" && k.Curve == elliptic.P256()) || (alg == "ES384" && k.Curve == elliptic.P384())
	default:
		return false
	}
}

// Config configures a Validator. At least one of Local and JWKSURL is needed.
type Config struct {
	// Issuers are the accepted "iss" values. When empty and only Local is
	// set, it defaults to DefaultLocalIssuer; with JWKSURL it is required.
	Issuers []string
	// Audience must be among the token's "aud" values; default DefaultAudience.
	Audience string
	// Local is the standalone signing key, if any.
	Local *LocalKey
	// JWKSURL is the identity provider's key set, e.g.
	// https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys. It
	// must be https (plain http is accepted for loopback hosts only).
	JWKSURL string
	// HTTPClient fetches the JWKS; default a client with JWKSFetchTimeout.
	HTTPClient *http.Client
	// Leeway is the tolerated clock skew; zero means DefaultLeeway.
	Leeway time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// JWKSRefresh is how long a fetched key set is used before being fetched
	// again; zero means DefaultJWKSRefresh.
	JWKSRefresh time.Duration
}

// Validator validates bearer tokens. It is safe for concurrent use.
type Validator struct {
	issuers  []string
	audience string
	local    *LocalKey
	jwks     *jwksCache
	now      func() time.Time
	parser   *jwt.Parser
	verified verifiedCache
}

// NewValidator checks cfg and returns a Validator. The JWKS, if configured,
// is fetched lazily on first use.
func NewValidator(cfg Config) (*Validator, error) {
	if cfg.Local == nil && cfg.JWKSURL == "" {
		return nil, errors.New("auth: configure a local key or a JWKS URL")
	}
	if cfg.Leeway < 0 || cfg.JWKSRefresh < 0 {
		return nil, errors.New("auth: leeway and JWKS refresh must not be negative")
	}
	v := &Validator{
		issuers:  slices.Clone(cfg.Issuers),
		audience: orDefault(cfg.Audience, DefaultAudience),
		local:    cfg.Local,
		now:      cfg.Now,
	}
	if v.now == nil {
		v.now = time.Now
	}
	if len(v.issuers) == 0 {
		if cfg.JWKSURL != "" {
			return nil, errors.New("auth: Issuers is required with a JWKS URL")
		}
		v.issuers = []string{DefaultLocalIssuer}
	}
	if slices.Contains(v.issuers, "") {
		return nil, errors.New("auth: empty issuer in Issuers")
	}
	if cfg.JWKSURL != "" {
		if err := checkJWKSURL(cfg.JWKSURL); err != nil {
			return nil, err
		}
		v.jwks = newJWKSCache(cfg, v.now)
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(allowedAlgs()),
		jwt.WithLeeway(durationOr(cfg.Leeway, DefaultLeeway)),
		jwt.WithTimeFunc(v.now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithAudience(v.audience),
	)
	return v, nil
}

func newJWKSCache(cfg Config, now func() time.Time) *jwksCache {
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: JWKSFetchTimeout}
	}
	return &jwksCache{
		url:         cfg.JWKSURL,
		client:      client,
		now:         now,
		refresh:     durationOr(cfg.JWKSRefresh, DefaultJWKSRefresh),
		minInterval: JWKSMinInterval,
		timeout:     JWKSFetchTimeout,
	}
}

func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("auth: JWKS URL: %w", err)
	}
	switch {
	case u.Host == "":
		return errors.New("auth: JWKS URL has no host")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	default:
		return errors.New("auth: JWKS URL must use https")
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func durationOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Validate verifies raw and returns the principal it names. Failures are a
// *herald.Error: CodeUnauthenticated for a missing, malformed, forged,
// expired or otherwise unacceptable token; CodeForbidden for a valid token
// without any Herald role; CodeUnavailable when the identity provider's keys
// have never been fetched successfully. Messages are safe to show callers.
func (v *Validator) Validate(ctx context.Context, raw string) (herald.Principal, error) {
	if raw == "" {
		return herald.Principal{}, unauthenticated("missing bearer token", nil)
	}
	if len(raw) > MaxTokenBytes {
		return herald.Principal{}, unauthenticated("token too large", nil)
	}
	now := v.now()
	if p, ok := v.verified.get(raw, now); ok {
		p.Roles = append([]herald.Role(nil), p.Roles...)
		return p, nil
	}
	claims := &tokenClaims{}
	tok, err := v.parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		return v.keyFor(ctx, t, claims)
	})
	if err != nil {
		alg := ""
		if tok != nil && tok.Method != nil {
			alg = tok.Method.Alg()
		}
		return herald.Principal{}, classify(err, claims, alg)
	}
	// The issuer is checked in keyFor already; checking again after the
	// signature keeps the rule next to the other claim checks.
	if !slices.Contains(v.issuers, claims.Issuer) {
		return herald.Principal{}, unauthenticated("token issuer not accepted", nil)
	}
	p, err := claims.principal()
	if err == nil && claims.ExpiresAt != nil {
		v.verified.put(raw, p, claims.ExpiresAt.Time, now)
	}
	return p, err
}

// keyFor is the jwt.Keyfunc: it rejects unaccepted issuers before any key
// lookup (so they cannot trigger JWKS fetches), selects the key by kid and
// checks that the token's algorithm fits the key.
func (v *Validator) keyFor(ctx context.Context, t *jwt.Token, claims *tokenClaims) (any, error) {
	if !slices.Contains(v.issuers, claims.Issuer) {
		return nil, errIssuer
	}
	var kid string
	if raw, ok := t.Header["kid"]; ok {
		s, isString := raw.(string)
		if !isString {
			return nil, errKIDMalformed
		}
		kid = s
	}
	k, err := v.lookup(ctx, kid)
	if err != nil {
		return nil, err
	}
	alg := t.Method.Alg()
	if (k.alg != "" && k.alg != alg) || !algMatchesKey(alg, k.key) {
		return nil, errAlgKeyMismatch
	}
	return k.key, nil
}

// lookup finds the verification key for kid. An empty kid is only accepted
// when exactly one key is configured.
func (v *Validator) lookup(ctx context.Context, kid string) (verifyKey, error) {
	if v.local != nil && kid == v.local.KeyID() {
		return verifyKey{kid: kid, alg: "EdDSA", key: v.local.pub}, nil
	}
	if kid == "" {
		return v.soleKey(ctx)
	}
	if v.jwks == nil {
		return verifyKey{}, errKIDUnknown
	}
	return v.jwks.key(ctx, kid)
}

func (v *Validator) soleKey(ctx context.Context) (verifyKey, error) {
	switch {
	case v.jwks == nil:
		return verifyKey{kid: v.local.KeyID(), alg: "EdDSA", key: v.local.pub}, nil
	case v.local != nil:
		return verifyKey{}, errKIDMissing
	}
	set, err := v.jwks.keys(ctx, false)
	if err != nil {
		return verifyKey{}, err
	}
	if set.len() != 1 {
		return verifyKey{}, errKIDMissing
	}
	return set.first, nil
}

// BearerToken returns the token of an "Authorization: Bearer <token>" header.
// The scheme is case-insensitive and must be followed by exactly one space
// and a non-empty token without whitespace; a request with several
// Authorization headers has no bearer token.
func BearerToken(r *http.Request) (string, bool) {
	values := r.Header.Values("Authorization")
	if len(values) != 1 {
		return "", false
	}
	h := values[0]
	const scheme = "Bearer "
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	tok := h[len(scheme):]
	if strings.ContainsAny(tok, " \t\r\n") {
		return "", false
	}
	return tok, true
}
