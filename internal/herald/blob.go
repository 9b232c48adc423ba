package herald

import (
	"fmt"
	"strings"
	"time"
)

// BlobInfo describes one stored blob (an artifact file).
type BlobInfo struct {
	// Path is the blob's path: tenant/report/run/artifact (see ArtifactPath).
	Path string
	// Size is the blob's length in bytes.
	Size int64
	// ContentType is the media type given when the blob was stored.
	ContentType string
	// SHA256 is the lowercase hex SHA-256 of the content. Put computes it
	// while streaming; Stat, Get and List return the value Put stored.
	SHA256 string
	// Modified is when the blob was last written (UTC).
	Modified time.Time
}

// BlobPut says how a blob is stored.
type BlobPut struct {
	// ContentType is the blob's media type; empty means application/octet-stream.
	ContentType string
}

// BlobLink says what a signed download link serves.
type BlobLink struct {
	// Filename is offered to the browser (Content-Disposition: attachment).
	Filename string
	// ContentType overrides the stored content type when not empty.
	ContentType string
}

// Limits of blob links.
const (
	// ArtifactLinkTTL is how long an artifact download link stays valid.
	ArtifactLinkTTL = 15 * time.Minute
	// MaxBlobLinkTTL is the longest link any adapter signs.
	MaxBlobLinkTTL = 7 * 24 * time.Hour
)

// ArtifactPath is where an artifact's file is stored. Every segment is a
// Herald identifier, never a user-chosen string.
func ArtifactPath(tenantID, reportID, runID, artifactID string) string {
	return tenantID + "/" + reportID + "/" + runID + "/" + artifactID
}

// ValidBlobPath reports whether p is a well-formed blob path: non-empty
// segments of letters, digits, '.', '_' and '-', no "." or ".." segment,
// at most 1,024 bytes. Adapters refuse other paths with CodeInvalid.
func ValidBlobPath(p string) error {
	if p == "" || len(p) > 1024 {
		return fmt.Errorf("blob path must be 1-1024 bytes")
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("blob path %q has an empty, '.' or '..' segment", p)
		}
		if strings.IndexFunc(seg, notBlobPathRune) >= 0 {
			return fmt.Errorf("blob path %q may contain only letters, digits, '.', '_', '-' and '/'", p)
		}
	}
	return nil
}

func notBlobPathRune(c rune) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		return false
	}
	return true
}
