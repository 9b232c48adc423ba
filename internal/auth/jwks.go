package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// JWKS fetch limits.
const (
	// DefaultJWKSRefresh is how long a fetched key set is used before it is
	// fetched again (Config.JWKSRefresh).
	DefaultJWKSRefresh = time.Hour
	// JWKSMinInterval is the minimum time between two fetch attempts, so
	// tokens with random key ids cannot make Herald hammer the identity
	// provider.
	JWKSMinInterval = 30 * time.Second
	// JWKSFetchTimeout bounds one fetch.
	JWKSFetchTimeout = 10 * time.Second
	// MaxJWKSBytes bounds the size of a key set document.
	MaxJWKSBytes = 1 << 20

	minRSABits = 2048
	maxRSABits = 8192
)

// verifyKey is one verification key with its optional declared algorithm.
type verifyKey struct {
	kid string
	alg string // from the JWK "alg"; "" when absent
	key crypto.PublicKey
}

// keySet is an immutable set of keys indexed by kid.
type keySet struct {
	byKID map[string]verifyKey
	first verifyKey
}

func (s *keySet) len() int { return len(s.byKID) }

// jwksCache fetches a JWKS lazily, refreshes it periodically and on demand
// (rate-limited), shares one in-flight fetch between callers and keeps the
// last good set when a fetch fails.
type jwksCache struct {
	url         string
	client      *http.Client
	now         func() time.Time
	refresh     time.Duration
	minInterval time.Duration
	timeout     time.Duration

	mu          sync.Mutex
	set         *keySet
	fetchedAt   time.Time
	lastAttempt time.Time
	lastErr     error
	inflight    chan struct{}
}

// key returns the key with the given kid, refreshing the set once
// (rate-limited) when the kid is unknown.
func (c *jwksCache) key(ctx context.Context, kid string) (verifyKey, error) {
	set, err := c.keys(ctx, false)
	if err != nil {
		return verifyKey{}, err
	}
	if k, ok := set.byKID[kid]; ok {
		return k, nil
	}
	set, err = c.keys(ctx, true)
	if err != nil {
		return verifyKey{}, err
	}
	if k, ok := set.byKID[kid]; ok {
		return k, nil
	}
	return verifyKey{}, errKIDUnknown
}

// keys returns the current key set. It fetches first when there is none yet,
// when the set is older than the refresh period, or when force is set, unless
// the last attempt was less than minInterval ago. Callers that need a fetch
// while one is running wait for it instead of starting another.
func (c *jwksCache) keys(ctx context.Context, force bool) (*keySet, error) {
	c.mu.Lock()
	wait, lead := c.plan(force)
	c.mu.Unlock()
	switch {
	case lead:
		c.run(ctx, wait)
	case wait != nil:
		select {
		case <-wait:
		case <-ctx.Done():
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.set == nil {
		if err := ctx.Err(); err != nil {
			return nil, &jwksUnavailableError{cause: err}
		}
		return nil, &jwksUnavailableError{cause: c.lastErr}
	}
	return c.set, nil
}

// plan decides, with c.mu held, whether the caller must wait for a fetch
// (wait != nil) and whether it has to run that fetch itself (lead).
func (c *jwksCache) plan(force bool) (wait chan struct{}, lead bool) {
	now := c.now()
	needed := force || c.set == nil || now.Sub(c.fetchedAt) >= c.refresh
	switch {
	case !needed:
		return nil, false
	case c.inflight != nil:
		return c.inflight, false
	case !c.lastAttempt.IsZero() && now.Sub(c.lastAttempt) < c.minInterval:
		return nil, false
	}
	c.inflight = make(chan struct{})
	c.lastAttempt = now
	return c.inflight, true
}

// run performs the fetch and publishes its outcome to the waiters.
func (c *jwksCache) run(ctx context.Context, done chan struct{}) {
	set, err := c.fetch(ctx)
	c.mu.Lock()
	if err == nil {
		c.set, c.fetchedAt, c.lastErr = set, c.now(), nil
	} else {
		c.lastErr = err
	}
	c.inflight = nil
	c.mu.Unlock()
	close(done)
}

// fetch downloads and parses the key set. The fetch is shared by all waiting
// callers, so it is not cancelled with the caller's context, only bounded by
// the fetch timeout.
func (c *jwksCache) fetch(ctx context.Context) (*keySet, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS: unexpected status %s", resp.Status)
	}
	if resp.ContentLength > MaxJWKSBytes {
		return nil, fmt.Errorf("fetch JWKS: document of %d bytes exceeds %d", resp.ContentLength, MaxJWKSBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: read body: %w", err)
	}
	if len(body) > MaxJWKSBytes {
		return nil, fmt.Errorf("fetch JWKS: document exceeds %d bytes", MaxJWKSBytes)
	}
	return parseJWKS(body)
}

// jwk is one JSON Web Key (RFC 7517), restricted to the members we read.
type jwk struct {
	Kty    string   `json:"kty"`
	Use    string   `json:"use"`
	KeyOps []string `json:"key_ops"`
	Alg    string   `json:"alg"`
	Kid    string   `json:"kid"`
	Crv    string   `json:"crv"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	X      string   `json:"x"`
	Y      string   `json:"y"`
}

// parseJWKS parses a key set, keeping the usable signature keys: use "sig" or
// no use, a supported key type and, when present, an allowed "alg". Keys that
// cannot be parsed are skipped; a set without any usable key is an error. On
// a duplicate kid the first key wins.
func parseJWKS(data []byte) (*keySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse JWKS: %w", err)
	}
	set := &keySet{byKID: make(map[string]verifyKey, len(doc.Keys))}
	var skipped []error
	for i, raw := range doc.Keys {
		k, err := parseJWK(raw)
		if err != nil {
			skipped = append(skipped, fmt.Errorf("key %d: %w", i, err))
			continue
		}
		if _, dup := set.byKID[k.kid]; dup {
			continue
		}
		if len(set.byKID) == 0 {
			set.first = k
		}
		set.byKID[k.kid] = k
	}
	if set.len() == 0 {
		return nil, fmt.Errorf("parse JWKS: no usable signature key: %w", errors.Join(skipped...))
	}
	return set, nil
}

func parseJWK(raw json.RawMessage) (verifyKey, error) {
	var k jwk
	if err := json.Unmarshal(raw, &k); err != nil {
		return verifyKey{}, fmt.Errorf("decode: %w", err)
	}
	if k.Use != "" && k.Use != "sig" {
		return verifyKey{}, fmt.Errorf("use %q is not sig", k.Use)
	}
	if len(k.KeyOps) > 0 && !slices.Contains(k.KeyOps, "verify") {
		return verifyKey{}, errors.New("key_ops lacks verify")
	}
	if k.Alg != "" && !algAllowed(k.Alg) {
		return verifyKey{}, fmt.Errorf("alg %q not allowed", k.Alg)
	}
	var (
		pub crypto.PublicKey
		err error
	)
	switch k.Kty {
	case "RSA":
		pub, err = rsaKey(k)
	case "EC":
		pub, err = ecKey(k)
	case "OKP":
		pub, err = okpKey(k)
	default:
		err = fmt.Errorf("unsupported kty %q", k.Kty)
	}
	if err != nil {
		return verifyKey{}, err
	}
	if k.Alg != "" && !algMatchesKey(k.Alg, pub) {
		return verifyKey{}, fmt.Errorf("alg %q does not fit kty %q", k.Alg, k.Kty)
	}
	return verifyKey{kid: k.Kid, alg: k.Alg, key: pub}, nil
}

func rsaKey(k jwk) (*rsa.PublicKey, error) {
	n, err := b64(k.N)
	if err != nil {
		return nil, fmt.Errorf("RSA n: %w", err)
	}
	e, err := b64(k.E)
	if err != nil {
		return nil, fmt.Errorf("RSA e: %w", err)
	}
	if len(e) == 0 || len(e) > 4 {
		return nil, errors.New("RSA e out of range")
	}
	mod := new(big.Int).SetBytes(n)
	if bits := mod.BitLen(); bits < minRSABits || bits > maxRSABits {
		return nil, fmt.Errorf("RSA modulus of %d bits outside %d..%d", bits, minRSABits, maxRSABits)
	}
	exp := new(big.Int).SetBytes(e).Int64()
	if exp < 3 || exp%2 == 0 || exp > 1<<31-1 {
		return nil, errors.New("RSA e out of range")
	}
	return &rsa.PublicKey{N: mod, E: int(exp)}, nil
}

func ecKey(k jwk) (*ecdsa.PublicKey, error) {
	var (
		curve elliptic.Curve
		size  int
	)
	switch k.Crv {
	case "P-256":
		curve, size = elliptic.P256(), 32
	case "P-384":
		curve, size = elliptic.P384(), 48
	default:
		return nil, fmt.Errorf("unsupported EC curve %q", k.Crv)
	}
	x, err := b64(k.X)
	if err != nil {
		return nil, fmt.Errorf("EC x: %w", err)
	}
	y, err := b64(k.Y)
	if err != nil {
		return nil, fmt.Errorf("EC y: %w", err)
	}
	if len(x) != size || len(y) != size {
		return nil, errors.New("EC coordinates have the wrong length")
	}
	point := make([]byte, 0, 1+2*size)
	point = append(point, 4)
	point = append(point, x...)
	point = append(point, y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		return nil, fmt.Errorf("EC point: %w", err)
	}
	return pub, nil
}

func okpKey(k jwk) (ed25519.PublicKey, error) {
	if k.Crv != "Ed25519" {
		return nil, fmt.Errorf("unsupported OKP curve %q", k.Crv)
	}
	x, err := b64(k.X)
	if err != nil {
		return nil, fmt.Errorf("OKP x: %w", err)
	}
	if len(x) != ed25519.PublicKeySize {
		return nil, errors.New("Ed25519 key has the wrong length")
	}
	return ed25519.PublicKey(x), nil
}

// b64 decodes base64url, with or without padding.
func b64(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, fmt.Errorf("invalid base64url: %w", err)
	}
	return b, nil
}
