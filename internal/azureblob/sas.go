package azureblob

import (
	"context"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/heraldreports/herald/internal/herald"
)

// SignedURL returns a SAS link that reads the blob at p, and nothing else,
// until ttl passes. It does not check that the blob exists.
func (s *Store) SignedURL(ctx context.Context, p string, ttl time.Duration, link herald.BlobLink) (string, error) {
	if err := checkPath(p); err != nil {
		return "", err
	}
	fn, ct, err := herald.CheckBlobLink(p, ttl, link)
	if err != nil {
		return "", err
	}
	now := s.now()
	values := sas.BlobSignatureValues{
		Protocol:           s.protocol,
		StartTime:          now.Add(-clockSkew).UTC(),
		ExpiryTime:         now.Add(ttl).UTC(),
		Permissions:        (&sas.BlobPermissions{Read: true}).String(),
		ContainerName:      s.name,
		BlobName:           p,
		ContentDisposition: herald.ContentDisposition(fn),
		ContentType:        ct,
	}
	q, err := s.signer.sign(ctx, values)
	if err != nil {
		return "", translate(ctx, err, "signing a link to blob %s", p)
	}
	// A blob path needs no escaping: keep its slashes readable (the SDK's
	// URL() would send them as %2F).
	return s.container.URL() + "/" + p + "?" + q.Encode(), nil
}

// signer signs SAS values.
type signer interface {
	sign(ctx context.Context, v sas.BlobSignatureValues) (sas.QueryParameters, error)
}

// sharedKeySigner signs service SAS with the account key.
type sharedKeySigner struct{ cred *service.SharedKeyCredential }

func (k sharedKeySigner) sign(_ context.Context, v sas.BlobSignatureValues) (sas.QueryParameters, error) {
	return v.SignWithSharedKey(k.cred)
}

// delegationSigner signs user-delegation SAS with a cached user delegation
// key.
type delegationSigner struct {
	keys *keyCache[*service.UserDelegationCredential]
}

func (d delegationSigner) sign(ctx context.Context, v sas.BlobSignatureValues) (sas.QueryParameters, error) {
	key, keyExpiry, err := d.keys.get(ctx, v.ExpiryTime)
	if err != nil {
		return sas.QueryParameters{}, err
	}
	// A SAS dies with its key: say so rather than promise more.
	if v.ExpiryTime.After(keyExpiry) {
		v.ExpiryTime = keyExpiry
	}
	return v.SignWithUserDelegation(key)
}

// Lifetimes of user delegation keys.
const (
	// keyLifetime is how long a fetched key is valid for, unless a link
	// needs longer.
	keyLifetime = 24 * time.Hour
	// maxKeyLifetime is the longest key the service grants (7 days from its
	// clock), with room for skew.
	maxKeyLifetime = 7*24*time.Hour - 15*time.Minute
	// keyMargin is how long a key must outlive a link it signs to be
	// reused; a key closer to its end is renewed.
	keyMargin = 5 * time.Minute
)

// keyCache holds the current user delegation key and fetches a new one
// when a link would outlive it (by less than keyMargin). A fetched key is
// valid from clockSkew ago for keyLifetime, or as long as the link that
// asked for it needs (at most maxKeyLifetime): a link whose ttl is within
// a quarter hour of herald.MaxBlobLinkTTL may end that much early. One
// fetch runs at a time; callers wait for it.
type keyCache[K any] struct {
	fetch func(ctx context.Context, start, expiry time.Time) (K, error)
	now   func() time.Time

	mu     sync.Mutex
	key    K
	expiry time.Time // zero: no key yet
}

func newKeyCache[K any](fetch func(ctx context.Context, start, expiry time.Time) (K, error), now func() time.Time) *keyCache[K] {
	if now == nil {
		now = time.Now
	}
	return &keyCache[K]{fetch: fetch, now: now}
}

// get returns a key valid until at least until (when the service allows)
// and its expiry.
func (c *keyCache[K]) get(ctx context.Context, until time.Time) (K, time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.expiry.IsZero() && !c.expiry.Before(until.Add(keyMargin)) {
		return c.key, c.expiry, nil
	}
	now := c.now()
	expiry := now.Add(keyLifetime)
	if need := until.Add(keyMargin); need.After(expiry) {
		expiry = need
	}
	if limit := now.Add(maxKeyLifetime); expiry.After(limit) {
		expiry = limit
	}
	expiry = expiry.Truncate(time.Second) // the service keeps seconds
	key, err := c.fetch(ctx, now.Add(-clockSkew), expiry)
	if err != nil {
		var zero K
		return zero, time.Time{}, err
	}
	c.key, c.expiry = key, expiry
	return key, expiry, nil
}
