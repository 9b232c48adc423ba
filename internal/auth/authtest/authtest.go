// Package authtest issues tokens for tests of packages that sit behind
// auth.Validator (HTTP handlers, isolation tests): valid tokens for any
// tenant and role, and a set of tokens that must be rejected.
//
// It is meant for tests only; it keeps its signing key in t.TempDir().
package authtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldreports/herald/internal/auth"
	"github.com/heraldreports/herald/internal/herald"
)

// DefaultSubject is the subject of tokens issued without the Subject option.
const DefaultSubject = "test-user"

// Issuer issues test tokens signed by a local key and owns a Validator that
// accepts them (issuer auth.DefaultLocalIssuer, audience auth.DefaultAudience).
type Issuer struct {
	t         testing.TB
	key       *auth.LocalKey
	priv      ed25519.PrivateKey
	validator *auth.Validator
}

// New creates a local key in t.TempDir() and a Validator for it.
func New(t testing.TB) *Issuer {
	t.Helper()
	dir := t.TempDir()
	key, err := auth.LoadOrCreateLocalKey(dir)
	if err != nil {
		t.Fatalf("authtest: create local key: %v", err)
	}
	priv := readPrivateKey(t, auth.LocalKeyPath(dir))
	v, err := auth.NewValidator(auth.Config{Local: key})
	if err != nil {
		t.Fatalf("authtest: new validator: %v", err)
	}
	return &Issuer{t: t, key: key, priv: priv, validator: v}
}

func readPrivateKey(t testing.TB, path string) ed25519.PrivateKey {
	t.Helper()
	data, err := os.ReadFile(path) //nolint:gosec // path is under t.TempDir()
	if err != nil {
		t.Fatalf("authtest: read key: %v", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("authtest: key file is not PEM")
		return nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("authtest: parse key: %v", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		t.Fatalf("authtest: key is %T, want Ed25519", k)
	}
	return priv
}

// Validator returns the Validator that accepts this Issuer's tokens.
func (i *Issuer) Validator() *auth.Validator { return i.validator }

// Key returns the local signing key.
func (i *Issuer) Key() *auth.LocalKey { return i.key }

// Option adjusts the request behind Token.
type Option func(*auth.IssueRequest)

// Subject sets the token subject (default DefaultSubject).
func Subject(s string) Option { return func(r *auth.IssueRequest) { r.Subject = s } }

// Name sets the display name.
func Name(s string) Option { return func(r *auth.IssueRequest) { r.Name = s } }

// Roles replaces the roles (the role argument of Token is then ignored).
func Roles(roles ...herald.Role) Option {
	return func(r *auth.IssueRequest) { r.Roles = roles }
}

// TTL sets the lifetime (default one hour).
func TTL(d time.Duration) Option { return func(r *auth.IssueRequest) { r.TTL = d } }

// Token issues a valid token for tenant with role ("viewer", "editor" or
// "admin") through auth.LocalKey.Issue; it fails the test on error.
func (i *Issuer) Token(tenant, role string, opts ...Option) string {
	i.t.Helper()
	req := auth.IssueRequest{
		TenantID: tenant,
		Subject:  DefaultSubject,
		Roles:    []herald.Role{herald.Role(role)},
		TTL:      time.Hour,
	}
	for _, o := range opts {
		o(&req)
	}
	tok, err := i.key.Issue(req)
	if err != nil {
		i.t.Fatalf("authtest: issue token: %v", err)
	}
	return tok
}

// Claims returns the claims of a valid token for tenant and role, for
// building tokens by hand with Sign.
func (i *Issuer) Claims(tenant, role string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss":   auth.DefaultLocalIssuer,
		"aud":   []string{auth.DefaultAudience},
		"sub":   DefaultSubject,
		"tid":   tenant,
		"roles": []string{role},
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
		"jti":   randomString(i.t),
	}
}

// Sign signs claims with the valid key and its kid (EdDSA).
func (i *Issuer) Sign(claims jwt.MapClaims) string {
	i.t.Helper()
	return sign(i.t, jwt.SigningMethodEdDSA, i.key.KeyID(), claims, i.priv)
}

// SignWith signs claims with the valid key (EdDSA) after applying header
// overrides; a nil value removes the header (e.g. {"kid": nil}).
func (i *Issuer) SignWith(claims jwt.MapClaims, header map[string]any) string {
	i.t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = i.key.KeyID()
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(i.priv)
	if err != nil {
		i.t.Fatalf("authtest: sign: %v", err)
	}
	return s
}

// Expired returns a correctly signed token that expired an hour ago.
func (i *Issuer) Expired(tenant, role string) string {
	c := i.Claims(tenant, role)
	past := time.Now().Add(-2 * time.Hour)
	c["iat"], c["nbf"], c["exp"] = past.Unix(), past.Unix(), past.Add(time.Hour).Unix()
	return i.Sign(c)
}

// NotYetValid returns a correctly signed token whose nbf is an hour ahead.
func (i *Issuer) NotYetValid(tenant, role string) string {
	c := i.Claims(tenant, role)
	c["nbf"] = time.Now().Add(time.Hour).Unix()
	c["exp"] = time.Now().Add(2 * time.Hour).Unix()
	return i.Sign(c)
}

// WrongAudience returns a correctly signed token for another audience.
func (i *Issuer) WrongAudience(tenant, role string) string {
	c := i.Claims(tenant, role)
	c["aud"] = []string{"some-other-service"}
	return i.Sign(c)
}

// WrongIssuer returns a correctly signed token from an unaccepted issuer.
func (i *Issuer) WrongIssuer(tenant, role string) string {
	c := i.Claims(tenant, role)
	c["iss"] = "https://evil.example"
	return i.Sign(c)
}

// NoRole returns a correctly signed token without any Herald role (the
// Validator answers CodeForbidden).
func (i *Issuer) NoRole(tenant string) string {
	c := i.Claims(tenant, "")
	c["roles"] = []string{"Some.Other.Role"}
	return i.Sign(c)
}

// AlgNone returns an unsigned token with "alg": "none" and the valid kid.
func (i *Issuer) AlgNone(tenant, role string) string {
	i.t.Helper()
	header := map[string]any{"alg": "none", "typ": "JWT", "kid": i.key.KeyID()}
	return encodeSegment(i.t, header) + "." + encodeSegment(i.t, i.Claims(tenant, role)) + "."
}

// HS256WithPublicKey returns a token whose HS256 MAC uses the raw public key
// bytes as secret (the classic algorithm-confusion attack).
func (i *Issuer) HS256WithPublicKey(tenant, role string) string {
	i.t.Helper()
	return sign(i.t, jwt.SigningMethodHS256, i.key.KeyID(), i.Claims(tenant, role), []byte(i.key.PublicKey()))
}

// UnknownKID returns a token signed by a throwaway key under a random kid.
func (i *Issuer) UnknownKID(tenant, role string) string {
	i.t.Helper()
	return sign(i.t, jwt.SigningMethodEdDSA, randomString(i.t), i.Claims(tenant, role), newKey(i.t))
}

// BadSignature returns a token signed by a throwaway key but carrying the
// valid kid.
func (i *Issuer) BadSignature(tenant, role string) string {
	i.t.Helper()
	return sign(i.t, jwt.SigningMethodEdDSA, i.key.KeyID(), i.Claims(tenant, role), newKey(i.t))
}

func sign(t testing.TB, m jwt.SigningMethod, kid string, claims jwt.MapClaims, key any) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("authtest: sign: %v", err)
	}
	return s
}

func encodeSegment(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("authtest: encode: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("authtest: generate key: %v", err)
	}
	return priv
}

func randomString(t testing.TB) string {
	t.Helper()
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("authtest: random: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}
