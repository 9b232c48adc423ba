package auth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/auth"
	"github.com/heraldreports/herald/internal/herald"
)

const (
	entraTenant   = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	entraIssuer   = "https://login.microsoftonline.com/" + entraTenant + "/v2.0"
	entraAudience = "api://herald"
)

// fakeClock is a settable clock shared by the validator and the JWKS cache.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Now().Truncate(time.Second)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testKey is a signing key published in the JWKS under kid.
type testKey struct {
	kid  string
	priv crypto.Signer
	jwk  map[string]any
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaTestKey(t *testing.T, kid string) testKey {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return testKey{kid: kid, priv: priv, jwk: map[string]any{
		"kty": "RSA", "use": "sig", "kid": kid,
		"n": b64(priv.N.Bytes()), "e": b64(big.NewInt(int64(priv.E)).Bytes()),
	}}
}

func ecTestKey(t *testing.T, kid string, curve elliptic.Curve) testKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(curve, rand.Reader)
	require.NoError(t, err)
	point, err := priv.PublicKey.Bytes()
	require.NoError(t, err)
	size := (len(point) - 1) / 2
	return testKey{kid: kid, priv: priv, jwk: map[string]any{
		"kty": "EC", "kid": kid, "crv": curve.Params().Name,
		"x": b64(point[1 : 1+size]), "y": b64(point[1+size:]),
	}}
}

func okpTestKey(t *testing.T, kid string) testKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return testKey{kid: kid, priv: priv, jwk: map[string]any{
		"kty": "OKP", "use": "sig", "kid": kid, "crv": "Ed25519", "x": b64(pub),
	}}
}

// jwksServer serves a mutable JWKS and counts requests.
type jwksServer struct {
	*httptest.Server
	mu   sync.Mutex
	keys []map[string]any
	hits atomic.Int32
	down atomic.Bool
	gate chan struct{} // when set, requests block until it is closed
}

func newJWKSServer(t *testing.T, keys ...testKey) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.setKeys(keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		gate, doc := s.gate, map[string]any{"keys": s.keys}
		s.mu.Unlock()
		if gate != nil {
			<-gate
		}
		if s.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setKeys(keys ...testKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = nil
	for _, k := range keys {
		s.keys = append(s.keys, k.jwk)
	}
}

func newJWKSValidator(t *testing.T, s *jwksServer, clock *fakeClock) *auth.Validator {
	t.Helper()
	v, err := auth.NewValidator(auth.Config{
		Issuers:    []string{entraIssuer},
		Audience:   entraAudience,
		JWKSURL:    s.URL + "/discovery/v2.0/keys",
		HTTPClient: s.Client(),
		Now:        clock.Now,
	})
	require.NoError(t, err)
	return v
}

func entraClaims(now time.Time, roles ...string) jwt.MapClaims {
	return jwt.MapClaims{
		"iss":                entraIssuer,
		"aud":                entraAudience,
		"tid":                entraTenant,
		"oid":                "00000000-0000-0000-0000-0000000000aa",
		"sub":                "pairwise-subject",
		"roles":              roles,
		"preferred_username": "alice@contoso.example",
		"iat":                now.Unix(),
		"nbf":                now.Unix(),
		"exp":                now.Add(time.Hour).Unix(),
	}
}

func signTest(t *testing.T, m jwt.SigningMethod, k testKey, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	tok.Header["kid"] = k.kid
	s, err := tok.SignedString(k.priv)
	require.NoError(t, err)
	return s
}

func TestJWKSAlgorithms(t *testing.T) {
	clock := newClock()
	rsaKey := rsaTestKey(t, "rsa-1")
	p256 := ecTestKey(t, "ec-256", elliptic.P256())
	p384 := ecTestKey(t, "ec-384", elliptic.P384())
	okp := okpTestKey(t, "okp-1")
	srv := newJWKSServer(t, rsaKey, p256, p384, okp)
	v := newJWKSValidator(t, srv, clock)
	claims := entraClaims(clock.Now(), "Herald.Viewer")

	tests := []struct {
		name string
		m    jwt.SigningMethod
		key  testKey
		ok   bool
		msg  string
	}{
		{"RS256", jwt.SigningMethodRS256, rsaKey, true, ""},
		{"RS384", jwt.SigningMethodRS384, rsaKey, true, ""},
		{"RS512", jwt.SigningMethodRS512, rsaKey, true, ""},
		{"PS256", jwt.SigningMethodPS256, rsaKey, true, ""},
		{"ES256", jwt.SigningMethodES256, p256, true, ""},
		{"ES384", jwt.SigningMethodES384, p384, true, ""},
		{"EdDSA", jwt.SigningMethodEdDSA, okp, true, ""},
		{"PS384 not allowed", jwt.SigningMethodPS384, rsaKey, false, "token algorithm not accepted"},
		{"ES512 not allowed", jwt.SigningMethodES512, ecTestKey(t, "ec-256", elliptic.P521()), false, "token algorithm not accepted"},
		{"ES384 header on a P-256 key", jwt.SigningMethodES384, testKey{kid: p256.kid, priv: p384.priv}, false, "token algorithm does not match its key"},
		{"ES256 header on the RSA key id", jwt.SigningMethodES256, testKey{kid: rsaKey.kid, priv: p256.priv}, false, "token algorithm does not match its key"},
		{"EdDSA header on the RSA key id", jwt.SigningMethodEdDSA, testKey{kid: rsaKey.kid, priv: okp.priv}, false, "token algorithm does not match its key"},
		{"RS256 signed by another key", jwt.SigningMethodRS256, testKey{kid: rsaKey.kid, priv: rsaTestKey(t, "x").priv}, false, "token signature invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := v.Validate(context.Background(), signTest(t, tt.m, tt.key, claims))
			if tt.ok {
				require.NoError(t, err)
				assert.Equal(t, entraTenant, p.TenantID)
				return
			}
			var he *herald.Error
			require.ErrorAs(t, err, &he)
			assert.Equal(t, herald.CodeUnauthenticated, he.Code)
			assert.Equal(t, tt.msg, he.Message)
		})
	}
	assert.Equal(t, int32(1), srv.hits.Load(), "all keys come from one fetch")
}

func TestJWKSHS256WithRSAPublicKey(t *testing.T) {
	clock := newClock()
	k := rsaTestKey(t, "rsa-1")
	srv := newJWKSServer(t, k)
	v := newJWKSValidator(t, srv, clock)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, entraClaims(clock.Now(), "admin"))
	tok.Header["kid"] = k.kid
	s, err := tok.SignedString(k.priv.(*rsa.PrivateKey).N.Bytes())
	require.NoError(t, err)
	_, err = v.Validate(context.Background(), s)
	assert.True(t, herald.Is(err, herald.CodeUnauthenticated), "%v", err)
}

func TestJWKSEntraClaims(t *testing.T) {
	clock := newClock()
	k := rsaTestKey(t, "rsa-1")
	srv := newJWKSServer(t, k)
	v := newJWKSValidator(t, srv, clock)

	tests := []struct {
		name  string
		edit  func(jwt.MapClaims)
		want  herald.Principal
		code  herald.Code
		msg   string
		roles []string
	}{
		{
			name:  "editor app role",
			roles: []string{"Herald.Editor", "Some.Other.Role"},
			want: herald.Principal{TenantID: entraTenant, Subject: "00000000-0000-0000-0000-0000000000aa",
				Name: "alice@contoso.example", Roles: []herald.Role{herald.RoleEditor}},
		},
		{
			name:  "role names case-insensitive with prefix, deduplicated",
			roles: []string{"herald.ADMIN", "Herald.Admin", "viewer"},
			edit:  func(c jwt.MapClaims) { c["name"] = "Alice A." },
			want: herald.Principal{TenantID: entraTenant, Subject: "00000000-0000-0000-0000-0000000000aa",
				Name: "Alice A.", Roles: []herald.Role{herald.RoleAdmin, herald.RoleViewer}},
		},
		{
			name:  "sub when oid is absent",
			roles: []string{"editor"},
			edit:  func(c jwt.MapClaims) { delete(c, "oid") },
			want: herald.Principal{TenantID: entraTenant, Subject: "pairwise-subject",
				Name: "alice@contoso.example", Roles: []herald.Role{herald.RoleEditor}},
		},
		{
			name:  "single string role",
			roles: nil,
			edit:  func(c jwt.MapClaims) { c["roles"] = "Herald.Viewer" },
			want: herald.Principal{TenantID: entraTenant, Subject: "00000000-0000-0000-0000-0000000000aa",
				Name: "alice@contoso.example", Roles: []herald.Role{herald.RoleViewer}},
		},
		{name: "non-exact bare names are not roles", roles: []string{"Admin", "EDITOR", "Herald.Owner", "Herald."}, code: herald.CodeForbidden, msg: "token carries no Herald role"},
		{name: "aud array containing ours", roles: []string{"viewer"}, edit: func(c jwt.MapClaims) { c["aud"] = []string{"other", entraAudience} },
			want: herald.Principal{TenantID: entraTenant, Subject: "00000000-0000-0000-0000-0000000000aa", Name: "alice@contoso.example", Roles: []herald.Role{herald.RoleViewer}}},
		{name: "wrong audience", roles: []string{"viewer"}, edit: func(c jwt.MapClaims) { c["aud"] = "api://other" }, code: herald.CodeUnauthenticated, msg: "token audience not accepted"},
		{name: "other Entra tenant issuer", roles: []string{"viewer"}, edit: func(c jwt.MapClaims) { c["iss"] = "https://login.microsoftonline.com/other/v2.0" }, code: herald.CodeUnauthenticated, msg: "token issuer not accepted"},
		{name: "no tid", roles: []string{"viewer"}, edit: func(c jwt.MapClaims) { delete(c, "tid") }, code: herald.CodeUnauthenticated, msg: "token has no tenant (tid)"},
		{name: "no oid and no sub", roles: []string{"viewer"}, edit: func(c jwt.MapClaims) { delete(c, "oid"); delete(c, "sub") }, code: herald.CodeUnauthenticated, msg: "token has no subject (sub or oid)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := entraClaims(clock.Now(), tt.roles...)
			if tt.edit != nil {
				tt.edit(c)
			}
			p, err := v.Validate(context.Background(), signTest(t, jwt.SigningMethodRS256, k, c))
			if tt.code == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, p)
				return
			}
			var he *herald.Error
			require.ErrorAs(t, err, &he)
			assert.Equal(t, tt.code, he.Code)
			assert.Equal(t, tt.msg, he.Message)
		})
	}
}

func TestJWKSKeyRotation(t *testing.T) {
	clock := newClock()
	oldKey := rsaTestKey(t, "old")
	newKey := ecTestKey(t, "new", elliptic.P256())
	srv := newJWKSServer(t, oldKey)
	v := newJWKSValidator(t, srv, clock)
	ctx := context.Background()

	_, err := v.Validate(ctx, signTest(t, jwt.SigningMethodRS256, oldKey, entraClaims(clock.Now(), "viewer")))
	require.NoError(t, err)
	require.Equal(t, int32(1), srv.hits.Load())

	srv.setKeys(newKey)
	clock.Advance(auth.JWKSMinInterval + time.Second)
	p, err := v.Validate(ctx, signTest(t, jwt.SigningMethodES256, newKey, entraClaims(clock.Now(), "editor")))
	require.NoError(t, err, "an unknown kid triggers a refresh")
	assert.Equal(t, herald.RoleEditor, p.Role())
	assert.Equal(t, int32(2), srv.hits.Load())

	_, err = v.Validate(ctx, signTest(t, jwt.SigningMethodRS256, oldKey, entraClaims(clock.Now(), "viewer")))
	assert.True(t, herald.Is(err, herald.CodeUnauthenticated), "the retired key is gone: %v", err)
}

func TestJWKSUnknownKIDRateLimited(t *testing.T) {
	clock := newClock()
	k := rsaTestKey(t, "rsa-1")
	srv := newJWKSServer(t, k)
	v := newJWKSValidator(t, srv, clock)
	ctx := context.Background()

	forged := func(i int) string {
		return signTest(t, jwt.SigningMethodRS256, testKey{kid: "random-" + strings.Repeat("x", i), priv: k.priv}, entraClaims(clock.Now(), "viewer"))
	}
	for i := range 50 {
		_, err := v.Validate(ctx, forged(i))
		var he *herald.Error
		require.ErrorAs(t, err, &he)
		assert.Equal(t, herald.CodeUnauthenticated, he.Code)
		assert.Equal(t, "token key id unknown", he.Message)
	}
	assert.Equal(t, int32(1), srv.hits.Load(), "the first fetch only; refreshes are rate-limited")

	clock.Advance(auth.JWKSMinInterval)
	for i := range 10 {
		_, err := v.Validate(ctx, forged(i))
		require.Error(t, err)
	}
	assert.Equal(t, int32(2), srv.hits.Load(), "one refresh per interval")

	_, err := v.Validate(ctx, signTest(t, jwt.SigningMethodRS256, k, entraClaims(clock.Now(), "viewer")))
	require.NoError(t, err, "known keys keep working")
	assert.Equal(t, int32(2), srv.hits.Load())
}

func TestJWKSServerDownKeepsLastGoodKeys(t *testing.T) {
	clock := newClock()
	k := ecTestKey(t, "ec-1", elliptic.P384())
	srv := newJWKSServer(t, k)
	v := newJWKSValidator(t, srv, clock)
	ctx := context.Background()

	_, err := v.Validate(ctx, signTest(t, jwt.SigningMethodES384, k, entraClaims(clock.Now(), "viewer")))
	require.NoError(t, err)

	srv.down.Store(true)
	clock.Advance(auth.DefaultJWKSRefresh + time.Minute)
	_, err = v.Validate(ctx, signTest(t, jwt.SigningMethodES384, k, entraClaims(clock.Now(), "viewer")))
	require.NoError(t, err, "a failed periodic refresh keeps the cached keys")
	assert.Equal(t, int32(2), srv.hits.Load())

	_, err = v.Validate(ctx, signTest(t, jwt.SigningMethodES384, k, entraClaims(clock.Now(), "viewer")))
	require.NoError(t, err)
	assert.Equal(t, int32(2), srv.hits.Load(), "failed refreshes are rate-limited too")

	srv.Close()
	clock.Advance(auth.JWKSMinInterval)
	_, err = v.Validate(ctx, signTest(t, jwt.SigningMethodES384, k, entraClaims(clock.Now(), "viewer")))
	require.NoError(t, err, "connection refused keeps the cached keys")
}

func TestJWKSPeriodicRefresh(t *testing.T) {
	clock := newClock()
	k := rsaTestKey(t, "rsa-1")
	srv := newJWKSServer(t, k)
	v, err := auth.NewValidator(auth.Config{
		Issuers: []string{entraIssuer}, Audience: entraAudience,
		JWKSURL: srv.URL, HTTPClient: srv.Client(), Now: clock.Now,
		JWKSRefresh: 10 * time.Minute,
	})
	require.NoError(t, err)
	ctx := context.Background()
	validate := func() {
		t.Helper()
		_, err := v.Validate(ctx, signTest(t, jwt.SigningMethodRS256, k, entraClaims(clock.Now(), "viewer")))
		require.NoError(t, err)
	}
	assert.Equal(t, int32(0), srv.hits.Load(), "fetched lazily")
	validate()
	validate()
	assert.Equal(t, int32(1), srv.hits.Load())
	clock.Advance(9 * time.Minute)
	validate()
	assert.Equal(t, int32(1), srv.hits.Load())
	clock.Advance(2 * time.Minute)
	validate()
	assert.Equal(t, int32(2), srv.hits.Load())
}

func TestJWKSConcurrentValidationsShareOneFetch(t *testing.T) {
	clock := newClock()
	k := rsaTestKey(t, "rsa-1")
	srv := newJWKSServer(t, k)
	gate := make(chan struct{})
	srv.mu.Lock()
	srv.gate = gate
	srv.mu.Unlock()
	v := newJWKSValidator(t, srv, clock)
	tok := signTest(t, jwt.SigningMethodRS256, k, entraClaims(clock.Now(), "viewer"))

	const n = 20
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := v.Validate(context.Background(), tok)
			errs <- err
		}()
	}
	require.Eventually(t, func() bool { return srv.hits.Load() >= 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(50 * time.Millisecond) // let the other validations reach the wait
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err, "waiters get the in-flight result")
	}
	assert.Equal(t, int32(1), srv.hits.Load())
}

func TestJWKSUnavailable(t *testing.T) {
	clock := newClock()
	k := rsaTestKey(t, "rsa-1")
	srv := newJWKSServer(t, k)
	srv.down.Store(true)
	v := newJWKSValidator(t, srv, clock)
	tok := signTest(t, jwt.SigningMethodRS256, k, entraClaims(clock.Now(), "viewer"))

	_, err := v.Validate(context.Background(), tok)
	var he *herald.Error
	require.ErrorAs(t, err, &he)
	assert.Equal(t, herald.CodeUnavailable, he.Code)
	assert.NotContains(t, he.Message, srv.URL, "no internals in the message")
	assert.Equal(t, int32(1), srv.hits.Load())

	srv.down.Store(false)
	_, err = v.Validate(context.Background(), tok)
	assert.True(t, herald.Is(err, herald.CodeUnavailable), "retry is rate-limited: %v", err)
	assert.Equal(t, int32(1), srv.hits.Load())

	clock.Advance(auth.JWKSMinInterval)
	_, err = v.Validate(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, int32(2), srv.hits.Load())
}

func TestJWKSBadDocuments(t *testing.T) {
	weak := map[string]any{"kty": "RSA", "kid": "weak", "n": b64(append([]byte{0xc0}, make([]byte, 127)...)), "e": "AQAB"}
	tests := []struct {
		name string
		body string
	}{
		{"not json", "<html>"},
		{"no keys", `{"keys":[]}`},
		{"only enc keys", `{"keys":[{"kty":"OKP","crv":"Ed25519","use":"enc","kid":"a","x":"` + b64(make([]byte, 32)) + `"}]}`},
		{"only weak RSA", mustJSON(t, map[string]any{"keys": []any{weak}})},
		{"too large", `{"keys":[],"pad":"` + strings.Repeat("a", auth.MaxJWKSBytes) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			clock := newClock()
			v, err := auth.NewValidator(auth.Config{Issuers: []string{entraIssuer}, Audience: entraAudience, JWKSURL: srv.URL, HTTPClient: srv.Client(), Now: clock.Now})
			require.NoError(t, err)
			k := rsaTestKey(t, "rsa-1")
			_, err = v.Validate(context.Background(), signTest(t, jwt.SigningMethodRS256, k, entraClaims(clock.Now(), "viewer")))
			assert.True(t, herald.Is(err, herald.CodeUnavailable), "%v", err)
		})
	}
}

func TestJWKSWithLocalKey(t *testing.T) {
	clock := newClock()
	remote := rsaTestKey(t, "rsa-1")
	srv := newJWKSServer(t, remote)
	srv.down.Store(true)
	local, err := auth.LoadOrCreateLocalKey(t.TempDir())
	require.NoError(t, err)
	v, err := auth.NewValidator(auth.Config{
		Issuers: []string{entraIssuer, auth.DefaultLocalIssuer}, Audience: auth.DefaultAudience,
		Local: local, JWKSURL: srv.URL, HTTPClient: srv.Client(), Now: clock.Now,
	})
	require.NoError(t, err)

	tok, err := local.Issue(auth.IssueRequest{TenantID: "acme", Subject: "s", Roles: []herald.Role{herald.RoleViewer}, TTL: time.Hour, Now: clock.Now()})
	require.NoError(t, err)
	_, err = v.Validate(context.Background(), tok)
	require.NoError(t, err, "local tokens do not depend on the JWKS")
	assert.Equal(t, int32(0), srv.hits.Load())

	noKID := jwt.NewWithClaims(jwt.SigningMethodRS256, entraClaims(clock.Now(), "viewer"))
	noKID.Claims.(jwt.MapClaims)["aud"] = auth.DefaultAudience
	s, err := noKID.SignedString(remote.priv)
	require.NoError(t, err)
	_, err = v.Validate(context.Background(), s)
	var he *herald.Error
	require.ErrorAs(t, err, &he)
	assert.Equal(t, "token key id (kid) missing", he.Message)
}

func TestJWKSWithoutKIDSingleKey(t *testing.T) {
	clock := newClock()
	k := rsaTestKey(t, "")
	delete(k.jwk, "kid")
	srv := newJWKSServer(t, k)
	v := newJWKSValidator(t, srv, clock)
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, entraClaims(clock.Now(), "viewer"))
	s, err := tok.SignedString(k.priv)
	require.NoError(t, err)
	_, err = v.Validate(context.Background(), s)
	require.NoError(t, err)

	srv.setKeys(k, rsaTestKey(t, "second"))
	clock.Advance(auth.DefaultJWKSRefresh)
	_, err = v.Validate(context.Background(), s)
	assert.True(t, herald.Is(err, herald.CodeUnauthenticated), "kid required with several keys: %v", err)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
