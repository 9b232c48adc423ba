package azureblob

// The input rules every blob adapter applies (see internal/blobtest). They
// are the same as fileblob's; adapters do not import each other.

import (
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/heraldreports/herald/internal/herald"
)

// checkPath refuses paths that are not valid blob paths.
func checkPath(p string) error {
	if err := herald.ValidBlobPath(p); err != nil {
		return herald.Wrap(err, herald.CodeInvalid, "invalid blob path")
	}
	return nil
}

// checkPrefix refuses a List prefix that is neither "" nor the beginning
// of a valid blob path.
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if len(prefix) >= 1024 || herald.ValidBlobPath(prefix+"x") != nil {
		return herald.Errorf(herald.CodeInvalid, "invalid blob path prefix %q", prefix)
	}
	return nil
}

// contentType validates a content type and defaults "" to
// application/octet-stream.
func contentType(ct string) (string, error) {
	if ct == "" {
		return "application/octet-stream", nil
	}
	if len(ct) > maxContentTypeBytes {
		return "", herald.Errorf(herald.CodeInvalid, "a content type must be at most %d bytes", maxContentTypeBytes)
	}
	for i := range len(ct) {
		if ct[i] < 0x20 || ct[i] > 0x7e {
			return "", herald.Errorf(herald.CodeInvalid, "a content type may contain printable ASCII only")
		}
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") {
		return "", herald.Errorf(herald.CodeInvalid, "%q is not a media type such as text/csv", ct)
	}
	return ct, nil
}

// checkFilename refuses filenames that are not UTF-8, hold control
// characters or are too long.
func checkFilename(fn string) error {
	if len(fn) > maxFilenameBytes {
		return herald.Errorf(herald.CodeInvalid, "a filename must be at most %d bytes", maxFilenameBytes)
	}
	if !utf8.ValidString(fn) {
		return herald.Errorf(herald.CodeInvalid, "a filename must be UTF-8")
	}
	for _, c := range fn {
		if c < 0x20 || (c >= 0x7f && c <= 0x9f) {
			return herald.Errorf(herald.CodeInvalid, "a filename may not contain control characters")
		}
	}
	return nil
}

// contentDisposition is "attachment" with fn as an ASCII filename and,
// when fn is not plain ASCII, as an RFC 8187 filename* (RFC 6266).
func contentDisposition(fn string) string {
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
