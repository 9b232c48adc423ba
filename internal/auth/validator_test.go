package auth_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/auth"
	"github.com/heraldreports/herald/internal/auth/authtest"
	"github.com/heraldreports/herald/internal/herald"
)

func TestValidateLocalToken(t *testing.T) {
	iss := authtest.New(t)
	tok := iss.Token("acme", "editor", authtest.Subject("alice"), authtest.Name("Alice"))

	p, err := iss.Validator().Validate(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, herald.Principal{
		TenantID: "acme",
		Subject:  "alice",
		Name:     "Alice",
		Roles:    []herald.Role{herald.RoleEditor},
	}, p)
	assert.True(t, p.Can(herald.RoleViewer))
	assert.False(t, p.Can(herald.RoleAdmin))
}

func TestValidateLocalTokenHeader(t *testing.T) {
	iss := authtest.New(t)
	tok := iss.Token("acme", "admin", authtest.Roles(herald.RoleAdmin, herald.RoleViewer))
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	require.NoError(t, err)
	assert.Equal(t, "EdDSA", parsed.Header["alg"])
	assert.Equal(t, "JWT", parsed.Header["typ"])
	assert.Equal(t, iss.Key().KeyID(), parsed.Header["kid"])
	c := parsed.Claims.(jwt.MapClaims)
	assert.Equal(t, auth.DefaultLocalIssuer, c["iss"])
	assert.Equal(t, []any{auth.DefaultAudience}, c["aud"])
	assert.Equal(t, "acme", c["tid"])
	assert.Equal(t, []any{"admin", "viewer"}, c["roles"])
	for _, k := range []string{"iat", "nbf", "exp", "jti", "sub"} {
		assert.Contains(t, c, k)
	}
	assert.NotContains(t, c, "name", "empty name is omitted")
}

func TestValidateRejects(t *testing.T) {
	iss := authtest.New(t)
	without := func(claim string) string {
		c := iss.Claims("acme", "viewer")
		delete(c, claim)
		return iss.Sign(c)
	}
	with := func(claim string, v any) string {
		c := iss.Claims("acme", "viewer")
		c[claim] = v
		return iss.Sign(c)
	}
	pemPub := func() []byte {
		der, err := x509.MarshalPKIXPublicKey(iss.Key().PublicKey())
		require.NoError(t, err)
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	signWith := func(m jwt.SigningMethod, header map[string]any, key any) string {
		tok := jwt.NewWithClaims(m, iss.Claims("acme", "viewer"))
		for k, v := range header {
			tok.Header[k] = v
		}
		s, err := tok.SignedString(key)
		require.NoError(t, err)
		return s
	}
	valid := iss.Token("acme", "viewer")
	parts := strings.Split(valid, ".")

	tests := []struct {
		name  string
		token string
		code  herald.Code
		msg   string
	}{
		{"empty", "", herald.CodeUnauthenticated, "missing bearer token"},
		{"too large", strings.Repeat("a", auth.MaxTokenBytes+1), herald.CodeUnauthenticated, "token too large"},
		{"garbage", "not-a-token", herald.CodeUnauthenticated, "malformed token"},
		{"two segments", parts[0] + "." + parts[1], herald.CodeUnauthenticated, "malformed token"},
		{"bad base64 claims", parts[0] + ".%%%." + parts[2], herald.CodeUnauthenticated, "malformed token"},
		{"claims not json", parts[0] + ".bm90IGpzb24." + parts[2], herald.CodeUnauthenticated, "malformed token"},
		{"tampered claims", parts[0] + "." + strings.TrimRight(parts[1], "A") + "B." + parts[2], herald.CodeUnauthenticated, ""},
		{"bad signature same kid", iss.BadSignature("acme", "viewer"), herald.CodeUnauthenticated, "token signature invalid"},
		{"alg none", iss.AlgNone("acme", "viewer"), herald.CodeUnauthenticated, "token algorithm not accepted"},
		{"HS256 with raw public key", iss.HS256WithPublicKey("acme", "viewer"), herald.CodeUnauthenticated, "token algorithm not accepted"},
		{"HS256 with PEM public key", signWith(jwt.SigningMethodHS256, map[string]any{"kid": iss.Key().KeyID()}, pemPub()), herald.CodeUnauthenticated, "token algorithm not accepted"},
		{"unknown alg", encodeHeader(t, map[string]any{"alg": "XY999", "kid": iss.Key().KeyID()}) + "." + parts[1] + "." + parts[2], herald.CodeUnauthenticated, "token algorithm not accepted"},
		{"kid not a string", encodeHeader(t, map[string]any{"alg": "EdDSA", "kid": 7}) + "." + parts[1] + "." + parts[2], herald.CodeUnauthenticated, "malformed token"},
		{"expired", iss.Expired("acme", "viewer"), herald.CodeUnauthenticated, "token expired"},
		{"not yet valid", iss.NotYetValid("acme", "viewer"), herald.CodeUnauthenticated, "token not yet valid"},
		{"issued in the future", with("iat", time.Now().Add(time.Hour).Unix()), herald.CodeUnauthenticated, "token issued in the future"},
		{"wrong audience", iss.WrongAudience("acme", "viewer"), herald.CodeUnauthenticated, "token audience not accepted"},
		{"missing audience", without("aud"), herald.CodeUnauthenticated, "token audience not accepted"},
		{"wrong issuer", iss.WrongIssuer("acme", "viewer"), herald.CodeUnauthenticated, "token issuer not accepted"},
		{"missing issuer", without("iss"), herald.CodeUnauthenticated, "token issuer not accepted"},
		{"unknown kid", iss.UnknownKID("acme", "viewer"), herald.CodeUnauthenticated, "token key id unknown"},
		{"missing exp", without("exp"), herald.CodeUnauthenticated, "token has no expiry (exp)"},
		{"exp not a number", with("exp", "tomorrow"), herald.CodeUnauthenticated, "malformed token"},
		{"missing tid", without("tid"), herald.CodeUnauthenticated, "token has no tenant (tid)"},
		{"invalid tid", with("tid", "../other"), herald.CodeUnauthenticated, "token tenant (tid) is not a valid tenant id"},
		{"tid not a string", with("tid", 42), herald.CodeUnauthenticated, "malformed token"},
		{"missing sub", without("sub"), herald.CodeUnauthenticated, "token has no subject (sub or oid)"},
		{"roles not strings", with("roles", []int{1}), herald.CodeUnauthenticated, "malformed token"},
		{"no Herald role", iss.NoRole("acme"), herald.CodeForbidden, "token carries no Herald role"},
		{"missing roles", without("roles"), herald.CodeForbidden, "token carries no Herald role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := iss.Validator().Validate(context.Background(), tt.token)
			require.Error(t, err)
			assert.Equal(t, herald.Principal{}, p)
			var he *herald.Error
			require.ErrorAs(t, err, &he)
			assert.Equal(t, tt.code, he.Code, "error: %v", err)
			if tt.msg != "" {
				assert.Equal(t, tt.msg, he.Message)
			}
			if len(tt.token) > 20 {
				assert.NotContains(t, err.Error(), tt.token, "the token must never be echoed")
				sig := tt.token[strings.LastIndex(tt.token, ".")+1:]
				if len(sig) > 10 {
					assert.NotContains(t, err.Error(), sig)
				}
			}
			assert.NotContains(t, he.Message, iss.Key().KeyID(), "no key material in messages")
		})
	}
}

func TestValidateLeeway(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	key, err := auth.LoadOrCreateLocalKey(t.TempDir())
	require.NoError(t, err)
	tok, err := key.Issue(auth.IssueRequest{
		TenantID: "acme", Subject: "bob", Roles: []herald.Role{herald.RoleViewer},
		TTL: time.Hour, Now: base,
	})
	require.NoError(t, err)

	tests := []struct {
		name   string
		now    time.Time
		leeway time.Duration
		ok     bool
		msg    string
	}{
		{"inside lifetime", base.Add(30 * time.Minute), 0, true, ""},
		{"expired within default leeway", base.Add(time.Hour + 50*time.Second), 0, true, ""},
		{"expired beyond default leeway", base.Add(time.Hour + 70*time.Second), 0, false, "token expired"},
		{"before nbf within default leeway", base.Add(-50 * time.Second), 0, true, ""},
		{"before nbf beyond default leeway", base.Add(-70 * time.Second), 0, false, "token not yet valid"},
		{"custom leeway accepts", base.Add(time.Hour + 4*time.Minute), 5 * time.Minute, true, ""},
		{"custom leeway rejects", base.Add(time.Hour + 6*time.Minute), 5 * time.Minute, false, "token expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := auth.NewValidator(auth.Config{Local: key, Leeway: tt.leeway, Now: func() time.Time { return tt.now }})
			require.NoError(t, err)
			_, err = v.Validate(context.Background(), tok)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, herald.Is(err, herald.CodeUnauthenticated))
			var he *herald.Error
			require.ErrorAs(t, err, &he)
			assert.Equal(t, tt.msg, he.Message)
		})
	}
}

func TestValidateConfiguredIssuerAndAudience(t *testing.T) {
	key, err := auth.LoadOrCreateLocalKey(t.TempDir())
	require.NoError(t, err)
	v, err := auth.NewValidator(auth.Config{Local: key, Issuers: []string{"https://herald.example"}, Audience: "herald-prod"})
	require.NoError(t, err)
	req := auth.IssueRequest{TenantID: "acme", Subject: "s", Roles: []herald.Role{herald.RoleAdmin}, TTL: time.Hour}

	_, err = v.Validate(context.Background(), mustIssue(t, key, req))
	assert.True(t, herald.Is(err, herald.CodeUnauthenticated), "default issuer is not accepted: %v", err)

	req.Issuer, req.Audience = "https://herald.example", "herald-prod"
	p, err := v.Validate(context.Background(), mustIssue(t, key, req))
	require.NoError(t, err)
	assert.Equal(t, herald.RoleAdmin, p.Role())
}

func TestValidateTokenWithoutKIDSingleLocalKey(t *testing.T) {
	iss := authtest.New(t)
	tok := iss.SignWith(iss.Claims("acme", "viewer"), map[string]any{"kid": nil})
	p, err := iss.Validator().Validate(context.Background(), tok)
	require.NoError(t, err, "a single configured key needs no kid")
	assert.Equal(t, "acme", p.TenantID)
}

func TestValidateContextIgnoredForLocal(t *testing.T) {
	iss := authtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := iss.Validator().Validate(ctx, iss.Token("acme", "viewer"))
	require.NoError(t, err, "local validation needs no I/O")
}

func TestNewValidatorConfig(t *testing.T) {
	key, err := auth.LoadOrCreateLocalKey(t.TempDir())
	require.NoError(t, err)
	tests := []struct {
		name string
		cfg  auth.Config
		ok   bool
	}{
		{"no key source", auth.Config{}, false},
		{"local only", auth.Config{Local: key}, true},
		{"jwks without issuers", auth.Config{JWKSURL: "https://login.example/keys"}, false},
		{"jwks https", auth.Config{JWKSURL: "https://login.example/keys", Issuers: []string{"https://login.example"}}, true},
		{"jwks plain http", auth.Config{JWKSURL: "http://login.example/keys", Issuers: []string{"x"}}, false},
		{"jwks http loopback", auth.Config{JWKSURL: "http://127.0.0.1:8080/keys", Issuers: []string{"x"}}, true},
		{"jwks no host", auth.Config{JWKSURL: "https:///keys", Issuers: []string{"x"}}, false},
		{"empty issuer", auth.Config{Local: key, Issuers: []string{""}}, false},
		{"negative leeway", auth.Config{Local: key, Leeway: -time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := auth.NewValidator(tt.cfg)
			if tt.ok {
				require.NoError(t, err)
				assert.NotNil(t, v)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

func TestIssueValidation(t *testing.T) {
	key, err := auth.LoadOrCreateLocalKey(t.TempDir())
	require.NoError(t, err)
	ok := auth.IssueRequest{TenantID: "acme", Subject: "s", Roles: []herald.Role{herald.RoleViewer}, TTL: time.Hour}
	tests := []struct {
		name  string
		edit  func(*auth.IssueRequest)
		field string
	}{
		{"invalid tenant", func(r *auth.IssueRequest) { r.TenantID = "-bad" }, "tenant_id"},
		{"empty tenant", func(r *auth.IssueRequest) { r.TenantID = "" }, "tenant_id"},
		{"empty subject", func(r *auth.IssueRequest) { r.Subject = "" }, "subject"},
		{"no roles", func(r *auth.IssueRequest) { r.Roles = nil }, "roles"},
		{"unknown role", func(r *auth.IssueRequest) { r.Roles = []herald.Role{"owner"} }, "roles[0]"},
		{"ttl too short", func(r *auth.IssueRequest) { r.TTL = 59 * time.Second }, "ttl"},
		{"ttl too long", func(r *auth.IssueRequest) { r.TTL = auth.MaxTokenTTL + time.Second }, "ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := ok
			tt.edit(&req)
			_, err := key.Issue(req)
			require.Error(t, err)
			var he *herald.Error
			require.ErrorAs(t, err, &he)
			assert.Equal(t, herald.CodeInvalid, he.Code)
			require.NotEmpty(t, he.Fields)
			assert.Equal(t, tt.field, he.Fields[0].Field)
		})
	}
	_, err = key.Issue(ok)
	require.NoError(t, err)
	req := ok
	req.TTL = auth.MinTokenTTL
	_, err = key.Issue(req)
	require.NoError(t, err)
	req.TTL = auth.MaxTokenTTL
	_, err = key.Issue(req)
	require.NoError(t, err)
}

func TestIssueUniqueJTI(t *testing.T) {
	iss := authtest.New(t)
	seen := map[any]bool{}
	for range 20 {
		parsed, _, err := jwt.NewParser().ParseUnverified(iss.Token("acme", "viewer"), jwt.MapClaims{})
		require.NoError(t, err)
		jti := parsed.Claims.(jwt.MapClaims)["jti"]
		assert.False(t, seen[jti])
		seen[jti] = true
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    string
		ok      bool
	}{
		{"no header", nil, "", false},
		{"empty header", []string{""}, "", false},
		{"bearer", []string{"Bearer abc.def.ghi"}, "abc.def.ghi", true},
		{"lower-case scheme", []string{"bearer abc"}, "abc", true},
		{"upper-case scheme", []string{"BEARER abc"}, "abc", true},
		{"scheme only", []string{"Bearer"}, "", false},
		{"scheme and space only", []string{"Bearer "}, "", false},
		{"two spaces", []string{"Bearer  abc"}, "", false},
		{"tab separator", []string{"Bearer\tabc"}, "", false},
		{"wrong scheme", []string{"Basic dXNlcjpwYXNz"}, "", false},
		{"scheme prefix", []string{"Bearerabc"}, "", false},
		{"token with space", []string{"Bearer abc def"}, "", false},
		{"two headers", []string{"Bearer abc", "Bearer def"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", http.NoBody)
			for _, h := range tt.headers {
				r.Header.Add("Authorization", h)
			}
			got, ok := auth.BearerToken(r)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestBearerTokenThenValidate(t *testing.T) {
	iss := authtest.New(t)
	for _, h := range []string{"", "Basic x", "Bearer "} {
		r := httptest.NewRequest(http.MethodGet, "/", http.NoBody)
		if h != "" {
			r.Header.Set("Authorization", h)
		}
		tok, _ := auth.BearerToken(r)
		_, err := iss.Validator().Validate(context.Background(), tok)
		assert.True(t, herald.Is(err, herald.CodeUnauthenticated), "header %q", h)
	}
}

func mustIssue(t *testing.T, key *auth.LocalKey, req auth.IssueRequest) string {
	t.Helper()
	tok, err := key.Issue(req)
	require.NoError(t, err)
	return tok
}

func encodeHeader(t *testing.T, h map[string]any) string {
	t.Helper()
	b, err := json.Marshal(h)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestVerifiedTokensAreCachedUntilExpiry(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	key, err := auth.LoadOrCreateLocalKey(t.TempDir())
	require.NoError(t, err)
	v, err := auth.NewValidator(auth.Config{Local: key, Now: clock, Leeway: time.Second})
	require.NoError(t, err)
	tok, err := key.Issue(auth.IssueRequest{TenantID: "acme", Subject: "ana", Roles: []herald.Role{herald.RoleEditor}, TTL: 90 * time.Second, Now: now})
	require.NoError(t, err)

	p, err := v.Validate(context.Background(), tok)
	require.NoError(t, err)
	p.Roles[0] = herald.RoleAdmin // callers cannot poison the cache
	again, err := v.Validate(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, []herald.Role{herald.RoleEditor}, again.Roles)

	now = now.Add(89 * time.Second)
	_, err = v.Validate(context.Background(), tok)
	require.NoError(t, err, "valid until its expiry")
	now = now.Add(3 * time.Second) // past exp and leeway
	_, err = v.Validate(context.Background(), tok)
	require.Error(t, err, "a cached token still expires")
	assert.Equal(t, herald.CodeUnauthenticated, herald.CodeOf(err))

	bad := tok[:len(tok)-2] + "AA"
	_, err = v.Validate(context.Background(), bad)
	require.Error(t, err, "only exact tokens hit the cache")
}
