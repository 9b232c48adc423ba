package auth

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// Verified-token cache limits. A signature check (Ed25519, RSA, ECDSA)
// costs far more than the rest of a typical API request, and clients send
// the same token many times; so a token that passed every check is
// remembered, by its SHA-256, until its expiry or for VerifiedCacheTTL,
// whichever comes first. Only successes are cached.
const (
	VerifiedCacheTTL  = time.Minute
	VerifiedCacheSize = 10_000
)

type verifiedEntry struct {
	principal herald.Principal
	until     time.Time
}

// verifiedCache is a bounded map of recently verified tokens.
type verifiedCache struct {
	mu      sync.Mutex
	entries map[[32]byte]verifiedEntry
}

func (c *verifiedCache) get(raw string, now time.Time) (herald.Principal, bool) {
	key := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return herald.Principal{}, false
	}
	if !now.Before(e.until) {
		delete(c.entries, key)
		return herald.Principal{}, false
	}
	return e.principal, true
}

// put remembers p for raw until exp or now+VerifiedCacheTTL. A full cache
// first drops expired entries, and is emptied if that frees nothing.
func (c *verifiedCache) put(raw string, p herald.Principal, exp, now time.Time) {
	until := now.Add(VerifiedCacheTTL)
	if exp.Before(until) {
		until = exp
	}
	if !now.Before(until) {
		return
	}
	key := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[[32]byte]verifiedEntry)
	}
	if len(c.entries) >= VerifiedCacheSize {
		for k, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= VerifiedCacheSize {
			clear(c.entries)
		}
	}
	p.Roles = append([]herald.Role(nil), p.Roles...)
	c.entries[key] = verifiedEntry{principal: p, until: until}
}
