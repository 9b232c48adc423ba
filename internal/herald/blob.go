package herald

import (
	"fmt"
	"mime"
	"path"
	"strings"
	"time"
	"unicode/utf8"
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

// Limits every blob store applies to what it is given.
const (
	// MaxBlobContentTypeBytes bounds BlobPut.ContentType and BlobLink.ContentType.
	MaxBlobContentTypeBytes = 255
	// MaxBlobFilenameBytes bounds BlobLink.Filename.
	MaxBlobFilenameBytes = 255
)

// CheckBlobPrefix refuses a List prefix that is neither "" nor the
// beginning of a valid blob path.
func CheckBlobPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if len(prefix) >= 1024 || ValidBlobPath(prefix+"x") != nil {
		return Errorf(CodeInvalid, "invalid blob path prefix %q", prefix)
	}
	return nil
}

// BlobContentType validates a content type and defaults "" to
// application/octet-stream.
func BlobContentType(ct string) (string, error) {
	if ct == "" {
		return "application/octet-stream", nil
	}
	if len(ct) > MaxBlobContentTypeBytes {
		return "", Errorf(CodeInvalid, "a content type must be at most %d bytes", MaxBlobContentTypeBytes)
	}
	for i := range len(ct) {
		if ct[i] < 0x20 || ct[i] > 0x7e {
			return "", Errorf(CodeInvalid, "a content type may contain printable ASCII only")
		}
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") {
		return "", Errorf(CodeInvalid, "%q is not a media type such as text/csv", ct)
	}
	return ct, nil
}

// CheckBlobLink validates a signed link's ttl and options for the blob at
// p, and returns the filename it offers (the path's last segment when
// link.Filename is empty) and its content type override ("" keeps the
// stored type).
func CheckBlobLink(p string, ttl time.Duration, link BlobLink) (filename, contentType string, err error) {
	if ttl <= 0 || ttl > MaxBlobLinkTTL {
		return "", "", Errorf(CodeInvalid, "a link's ttl must be more than 0 and at most %s", MaxBlobLinkTTL)
	}
	filename = link.Filename
	if filename == "" {
		filename = path.Base(p)
	}
	if err := checkBlobFilename(filename); err != nil {
		return "", "", err
	}
	if link.ContentType == "" {
		return filename, "", nil
	}
	if contentType, err = BlobContentType(link.ContentType); err != nil {
		return "", "", err
	}
	return filename, contentType, nil
}

// checkBlobFilename refuses filenames that are not UTF-8, hold control
// characters or are too long.
func checkBlobFilename(fn string) error {
	if len(fn) > MaxBlobFilenameBytes {
		return Errorf(CodeInvalid, "a filename must be at most %d bytes", MaxBlobFilenameBytes)
	}
	if !utf8.ValidString(fn) {
		return Errorf(CodeInvalid, "a filename must be UTF-8")
	}
	for _, c := range fn {
		if c < 0x20 || (c >= 0x7f && c <= 0x9f) {
			return Errorf(CodeInvalid, "a filename may not contain control characters")
		}
	}
	return nil
}

// ContentDisposition is "attachment" with fn as an ASCII filename and,
// when fn is not plain ASCII, as an RFC 8187 filename* (RFC 6266), so that
// every browser offers a sensible name and modern ones the exact one.
func ContentDisposition(fn string) string {
	var ascii strings.Builder
	for _, c := range fn {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '%' {
			ascii.WriteByte('_')
			continue
		}
		ascii.WriteRune(c)
	}
	v := `attachment; filename="` + ascii.String() + `"`
	if ascii.String() != fn {
		v += "; filename*=UTF-8''" + encodeRFC8187(fn)
	}
	return v
}

// encodeRFC8187 percent-encodes every byte of s that is not an attr-char.
func encodeRFC8187(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xf])
	}
	return b.String()
}
