package herald

import (
	"mime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestContentDisposition(t *testing.T) {
	cases := []struct{ in, want string }{
		{"report.csv", `attachment; filename="report.csv"`},
		{"sales report.pdf", `attachment; filename="sales report.pdf"`},
		{"Łódź.pdf", `attachment; filename="__d_.pdf"; filename*=UTF-8''%C5%81%C3%B3d%C5%BA.pdf`},
		{`a"b\c.csv`, `attachment; filename="a_b_c.csv"; filename*=UTF-8''a%22b%5Cc.csv`},
		{"100%.csv", `attachment; filename="100_.csv"; filename*=UTF-8''100%25.csv`},
		{`a "b" \ c;.csv`, ""},
		{"100% d'été.csv", ""},
		{"日本語.txt", ""},
	}
	for _, c := range cases {
		got := ContentDisposition(c.in)
		if c.want != "" {
			assert.Equal(t, c.want, got)
		}
		typ, params, err := mime.ParseMediaType(got)
		require.NoError(t, err, c.in)
		assert.Equal(t, "attachment", typ)
		assert.Equal(t, c.in, params["filename"], "a client decodes the exact name")
	}
}

func TestBlobLinkAndPathRules(t *testing.T) {
	p := ArtifactPath("acme", "rpt_1", "run_1", "art_1")
	fn, ct, err := CheckBlobLink(p, time.Minute, BlobLink{})
	require.NoError(t, err)
	assert.Equal(t, "art_1", fn, "the path's last segment by default")
	assert.Empty(t, ct)
	_, ct, err = CheckBlobLink(p, time.Minute, BlobLink{Filename: "Łódź.csv", ContentType: "text/csv; charset=utf-8"})
	require.NoError(t, err)
	assert.Equal(t, "text/csv; charset=utf-8", ct)

	bad := []struct {
		name string
		ttl  time.Duration
		link BlobLink
	}{
		{"zero ttl", 0, BlobLink{}},
		{"ttl over the maximum", MaxBlobLinkTTL + time.Second, BlobLink{}},
		{"control character", time.Minute, BlobLink{Filename: "a\r\nb"}},
		{"not UTF-8", time.Minute, BlobLink{Filename: "\xff"}},
		{"too long", time.Minute, BlobLink{Filename: strings.Repeat("x", MaxBlobFilenameBytes+1)}},
		{"header injection in the type", time.Minute, BlobLink{ContentType: "text/csv\r\nX-Evil: 1"}},
		{"not a media type", time.Minute, BlobLink{ContentType: "csv"}},
	}
	for _, b := range bad {
		_, _, err := CheckBlobLink(p, b.ttl, b.link)
		assert.Equal(t, CodeInvalid, CodeOf(err), b.name)
	}
	for _, ok := range []string{"", "acme/", "acme/rpt", ArtifactPath("a", "b", "c", "d")} {
		assert.NoError(t, CheckBlobPrefix(ok), ok)
	}
	for _, bad := range []string{"/", "acme//", "../", "a b", strings.Repeat("x", 1024)} {
		assert.Error(t, CheckBlobPrefix(bad), bad)
	}
	for _, bad := range []string{"", "a//b", "a/../b", "./a", "a/b c", "a/é", strings.Repeat("x", 1025)} {
		assert.Error(t, ValidBlobPath(bad), bad)
	}
}
