package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseJWKSKeepsOnlyUsableSignatureKeys(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	point, err := ec.PublicKey.Bytes()
	require.NoError(t, err)
	x, y := enc(point[1:33]), enc(point[33:])
	okp := func(extra map[string]any) map[string]any {
		m := map[string]any{"kty": "OKP", "crv": "Ed25519", "x": enc(pub)}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	keys := []map[string]any{
		okp(map[string]any{"kid": "ok-no-use"}),
		okp(map[string]any{"kid": "ok-sig", "use": "sig", "alg": "EdDSA"}),
		okp(map[string]any{"kid": "ok-verify", "key_ops": []string{"verify"}}),
		okp(map[string]any{"kid": "ok-padded", "x": base64.URLEncoding.EncodeToString(pub)}),
		okp(map[string]any{"kid": "ok-sig", "x": enc(make([]byte, 32))}), // duplicate kid: first wins
		okp(map[string]any{"kid": "enc", "use": "enc"}),
		okp(map[string]any{"kid": "ops-encrypt", "key_ops": []string{"encrypt"}}),
		okp(map[string]any{"kid": "alg-hs256", "alg": "HS256"}),
		okp(map[string]any{"kid": "alg-mismatch", "alg": "RS256"}),
		okp(map[string]any{"kid": "x25519", "crv": "X25519"}),
		okp(map[string]any{"kid": "short", "x": enc(pub[:16])}),
		{"kid": "oct", "kty": "oct", "k": enc([]byte("secret"))},
		{"kid": "ec-ok", "kty": "EC", "crv": "P-256", "x": x, "y": y},
		{"kid": "ec-off-curve", "kty": "EC", "crv": "P-256", "x": x, "y": x},
		{"kid": "ec-p521", "kty": "EC", "crv": "P-521", "x": x, "y": y},
		{"kid": "rsa-weak", "kty": "RSA", "n": enc(append([]byte{0xc0}, make([]byte, 127)...)), "e": "AQAB"},
		{"kid": "rsa-bad-e", "kty": "RSA", "n": enc(append([]byte{0xc0}, make([]byte, 255)...)), "e": "Ag"},
	}
	doc, err := json.Marshal(map[string]any{"keys": keys})
	require.NoError(t, err)

	set, err := parseJWKS(doc)
	require.NoError(t, err)
	var kids []string
	for kid := range set.byKID {
		kids = append(kids, kid)
	}
	assert.ElementsMatch(t, []string{"ok-no-use", "ok-sig", "ok-verify", "ok-padded", "ec-ok"}, kids)
	assert.Equal(t, pub, set.byKID["ok-sig"].key)
	assert.Equal(t, "EdDSA", set.byKID["ok-sig"].alg)
	assert.Equal(t, "ok-no-use", set.first.kid)
}

func TestParseJWKSErrors(t *testing.T) {
	for _, doc := range []string{``, `[]`, `{"keys":{}}`, `{"keys":[]}`, `{"keys":[{"kty":"oct"}]}`, `{"keys":[1]}`} {
		_, err := parseJWKS([]byte(doc))
		assert.Error(t, err, doc)
	}
}

func TestMapRole(t *testing.T) {
	tests := map[string]string{
		"viewer": "viewer", "editor": "editor", "admin": "admin",
		"Herald.Viewer": "viewer", "Herald.Editor": "editor", "Herald.Admin": "admin",
		"HERALD.ADMIN": "admin", "herald.editor": "editor",
		"Admin": "", "VIEWER": "", "Herald.": "", "Herald.Owner": "", "Other.Admin": "", "": "", "herald.herald.admin": "",
	}
	for in, want := range tests {
		got, ok := mapRole(in)
		assert.Equal(t, want != "", ok, in)
		assert.Equal(t, want, string(got), in)
	}
}
