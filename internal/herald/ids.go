package herald

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"regexp"
	"time"
)

// Crockford's base32: no I, L, O, U; sorts in the same order as the bytes.
const idAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

var idPattern = regexp.MustCompile(`^[a-z]{2,4}_[0-9a-z]{26}$`)

// Identifier prefixes, one per kind of record.
const (
	PrefixDataSource = "ds"
	PrefixReport     = "rpt"
	PrefixSchedule   = "sch"
	PrefixRun        = "run"
	PrefixArtifact   = "art"
	PrefixDelivery   = "dlv"
	PrefixAudit      = "aud"
)

// NewID returns prefix_ followed by 26 characters: 48 bits of millisecond
// time then 80 random bits, so that ids sort by creation time.
func NewID(prefix string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16) //nolint:gosec // ms since 1970 fits 48 bits
	if _, err := rand.Read(b[6:]); err != nil {
		panic(fmt.Sprintf("herald: crypto/rand failed: %v", err)) // the runtime never returns an error here
	}
	return prefix + "_" + encodeID(b)
}

// DerivedID returns a deterministic id for a natural key: the same parts give
// the same id, so creating the record twice is a no-op. The time part keeps
// derived ids in time order.
func DerivedID(prefix string, at time.Time, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		_, _ = fmt.Fprintf(h, "%d:%s|", len(p), p)
	}
	sum := h.Sum(nil)
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(at.UnixMilli())<<16) //nolint:gosec // ms since 1970 fits 48 bits
	copy(b[6:], sum[:10])
	return prefix + "_" + encodeID(b)
}

// ValidID reports whether s has the shape of a Herald id.
func ValidID(s string) bool { return idPattern.MatchString(s) }

func encodeID(b [16]byte) string {
	// 128 bits -> 26 base32 digits (130 bits; the top two are zero).
	var out [26]byte
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		out[i] = idAlphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
