package blobtest

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// fetched is a signed link's response.
type fetched struct {
	status int
	header http.Header
	body   []byte
}

// fetch GETs u with the harness client (no credentials).
func fetch(t *testing.T, h Harness, u string, header http.Header) fetched {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	require.NoError(t, err)
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := h.Client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return fetched{resp.StatusCode, resp.Header, body}
}

// sign returns a link that must be well-formed and absolute.
func sign(t *testing.T, h Harness, p string, ttl time.Duration, link herald.BlobLink) string {
	t.Helper()
	u, err := h.Store.SignedURL(t.Context(), p, ttl, link)
	require.NoErrorf(t, err, "SignedURL %s", p)
	parsed, err := url.Parse(u)
	require.NoError(t, err)
	require.True(t, parsed.IsAbs(), "an absolute link: %s", redact(u))
	require.Contains(t, []string{"http", "https"}, parsed.Scheme)
	return u
}

// redact drops a link's query (its signature) for messages.
func redact(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + "?..."
	}
	return u
}

// disposition parses Content-Disposition into its type and filename.
func disposition(t *testing.T, header http.Header) (string, string) {
	t.Helper()
	v := header.Get("Content-Disposition")
	require.NotEmpty(t, v, "Content-Disposition is set")
	typ, params, err := mime.ParseMediaType(v)
	require.NoErrorf(t, err, "Content-Disposition %q", v)
	return typ, params["filename"]
}

func testSignedURL(t *testing.T, h Harness) {
	pre := prefix(t)
	p := pre + "run_1/report.csv"
	content := []byte("region,total\nnorth,12\nsouth,7\n")
	put(t, h.Store, p, content, "text/csv; charset=utf-8")

	cases := []struct {
		name             string
		link             herald.BlobLink
		wantFile, wantCT string
	}{
		{"plain", herald.BlobLink{Filename: "sales.csv"}, "sales.csv", "text/csv; charset=utf-8"},
		{"utf-8 filename", herald.BlobLink{Filename: "Łódź report.pdf"}, "Łódź report.pdf", "text/csv; charset=utf-8"},
		{"quotes and backslashes", herald.BlobLink{Filename: `a "quoted" \ name;.csv`}, `a "quoted" \ name;.csv`, "text/csv; charset=utf-8"},
		{"percent and apostrophe", herald.BlobLink{Filename: "100% d'été.csv"}, "100% d'été.csv", "text/csv; charset=utf-8"},
		{"default filename", herald.BlobLink{}, "report.csv", "text/csv; charset=utf-8"},
		{"content type override", herald.BlobLink{Filename: "x.txt", ContentType: "text/plain"}, "x.txt", "text/plain"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			u := sign(t, h, p, time.Minute, c.link)
			got := fetch(t, h, u, nil)
			require.Equal(t, http.StatusOK, got.status, "GET %s: %s", redact(u), got.body)
			assert.Equal(t, content, got.body)
			assert.Equal(t, c.wantCT, got.header.Get("Content-Type"))
			typ, file := disposition(t, got.header)
			assert.Equal(t, "attachment", typ)
			assert.Equal(t, c.wantFile, file)
		})
	}
	t.Run("range", func(t *testing.T) {
		t.Parallel()
		u := sign(t, h, p, time.Minute, herald.BlobLink{})
		got := fetch(t, h, u, http.Header{"Range": {"bytes=7-11"}})
		require.Equal(t, http.StatusPartialContent, got.status)
		assert.Equal(t, "total", string(got.body))
	})
	t.Run("the longest ttl", func(t *testing.T) {
		t.Parallel()
		got := fetch(t, h, sign(t, h, p, herald.MaxBlobLinkTTL, herald.BlobLink{}), nil)
		require.Equal(t, http.StatusOK, got.status)
		assert.Equal(t, content, got.body)
	})
	t.Run("a link follows overwrites and deletes", func(t *testing.T) {
		t.Parallel()
		q := pre + "changing.txt"
		put(t, h.Store, q, []byte("first"), "text/plain")
		u := sign(t, h, q, time.Minute, herald.BlobLink{Filename: "c.txt"})
		put(t, h.Store, q, []byte("second"), "text/plain")
		got := fetch(t, h, u, nil)
		require.Equal(t, http.StatusOK, got.status)
		assert.Equal(t, "second", string(got.body))
		require.NoError(t, h.Store.Delete(t.Context(), q))
		got = fetch(t, h, u, nil)
		assert.Equal(t, http.StatusNotFound, got.status)
		assert.NotContains(t, string(got.body), "second")
	})
	t.Run("a link to a missing blob answers 404", func(t *testing.T) {
		t.Parallel()
		got := fetch(t, h, sign(t, h, pre+"missing.csv", time.Minute, herald.BlobLink{}), nil)
		assert.Equal(t, http.StatusNotFound, got.status)
	})
	t.Run("an empty blob", func(t *testing.T) {
		t.Parallel()
		q := pre + "empty.csv"
		put(t, h.Store, q, nil, "text/csv")
		got := fetch(t, h, sign(t, h, q, time.Minute, herald.BlobLink{Filename: "empty.csv"}), nil)
		require.Equal(t, http.StatusOK, got.status)
		assert.Empty(t, got.body)
	})
}

// signExpiring stores a blob, signs a link to it with a ttl of 2 s and
// checks that it works. The test it returns checks, after waiting for what
// is left of the ttl and a second more, that the link is refused.
func signExpiring(t *testing.T, h Harness) func(t *testing.T) {
	t.Helper()
	p := prefix(t) + "expiring.csv"
	put(t, h.Store, p, []byte("SECRET-EXPIRING"), "text/csv")
	const ttl = 2 * time.Second
	signed := time.Now()
	u := sign(t, h, p, ttl, herald.BlobLink{Filename: "r.csv"})
	got := fetch(t, h, u, nil)
	require.Equal(t, http.StatusOK, got.status, "a link works before its ttl")
	return func(t *testing.T) {
		// Expiry times are whole seconds (rounded down), and a service may
		// compare them to its own clock: leave a second more.
		time.Sleep(time.Until(signed.Add(ttl + 1100*time.Millisecond)))
		requireRefused(t, h, u, "SECRET-EXPIRING", "refused after its ttl")
	}
}

// requireRefused fails unless GET u answers a 4xx without secret in the body.
func requireRefused(t *testing.T, h Harness, u, secret string, msgAndArgs ...any) {
	t.Helper()
	got := fetch(t, h, u, nil)
	require.GreaterOrEqual(t, got.status, 400, msgAndArgs...)
	require.Less(t, got.status, 500, msgAndArgs...)
	require.NotContains(t, string(got.body), secret, msgAndArgs...)
}

func testSignedURLRefused(t *testing.T, h Harness) {
	pre := prefix(t)
	p, other := pre+"mine/report.csv", pre+"mine/other.csv"
	put(t, h.Store, p, []byte("SECRET-MINE"), "text/csv")
	put(t, h.Store, other, []byte("SECRET-OTHER"), "text/csv")

	u := sign(t, h, p, time.Minute, herald.BlobLink{Filename: "r.csv", ContentType: "text/plain"})
	parsed, err := url.Parse(u)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, fetch(t, h, u, nil).status)

	// mutate returns u with its query changed by fn.
	mutate := func(fn func(q url.Values)) string {
		c := *parsed
		q := c.Query()
		fn(q)
		c.RawQuery = q.Encode()
		return c.String()
	}
	// withPath returns u with the blob path p replaced by to.
	withPath := func(to string) string {
		c := *parsed
		c.Path = strings.Replace(c.Path, p, to, 1)
		c.RawPath = ""
		require.NotEqual(t, parsed.Path, c.Path, "the link's path holds the blob path")
		return c.String()
	}
	tampered := []struct{ name, url string }{
		{"another blob's path", withPath(other)},
		{"a folder's path", withPath(pre + "mine")},
		{"a longer path", withPath(p + ".bak")},
		{"no query", redactAll(u)},
	}
	// Every query parameter changed, dropped or doubled in turn.
	for name := range parsed.Query() {
		tampered = append(tampered,
			struct{ name, url string }{"changed " + name, mutate(func(q url.Values) { q.Set(name, flip(q.Get(name))) })},
			struct{ name, url string }{"dropped " + name, mutate(func(q url.Values) { q.Del(name) })},
		)
	}
	for _, c := range tampered {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			requireRefused(t, h, c.url, "SECRET-", "tampered link: %s", c.name)
		})
	}
	t.Run("a link reads its blob only", func(t *testing.T) {
		t.Parallel()
		got := fetch(t, h, sign(t, h, other, time.Minute, herald.BlobLink{}), nil)
		require.Equal(t, http.StatusOK, got.status)
		assert.Equal(t, "SECRET-OTHER", string(got.body))
		// A link is read-only: writing or deleting through it fails.
		for _, method := range []string{http.MethodPut, http.MethodDelete} {
			req, err := http.NewRequestWithContext(t.Context(), method, u, strings.NewReader("overwritten"))
			require.NoError(t, err)
			req.Header.Set("x-ms-blob-type", "BlockBlob")
			resp, err := h.Client.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.GreaterOrEqual(t, resp.StatusCode, 400, method)
		}
		b, _ := get(t, h.Store, p)
		assert.Equal(t, "SECRET-MINE", string(b))
	})
}

// redactAll drops u's query entirely.
func redactAll(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

// flip changes one character of s (or makes it non-empty).
func flip(s string) string {
	if s == "" {
		return "x"
	}
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func testLinkValidation(t *testing.T, h Harness) {
	pre := prefix(t)
	p := pre + "valid.csv"
	put(t, h.Store, p, []byte("x"), "text/csv")
	ttls := []struct {
		name string
		ttl  time.Duration
	}{
		{"zero", 0},
		{"negative", -time.Second},
		{"over the maximum", herald.MaxBlobLinkTTL + time.Second},
	}
	for _, c := range ttls {
		_, err := h.Store.SignedURL(t.Context(), p, c.ttl, herald.BlobLink{})
		requireCode(t, err, herald.CodeInvalid, "ttl %s", c.name)
	}
	links := []struct {
		name string
		link herald.BlobLink
	}{
		{"filename with a newline", herald.BlobLink{Filename: "a\nb.csv"}},
		{"filename with a NUL", herald.BlobLink{Filename: "a\x00.csv"}},
		{"filename not UTF-8", herald.BlobLink{Filename: "a\xff.csv"}},
		{"filename too long", herald.BlobLink{Filename: strings.Repeat("é", MaxFilenameBytes/2+1)}},
		{"content type header injection", herald.BlobLink{ContentType: "text/plain\r\nSet-Cookie: a=b"}},
		{"content type not a media type", herald.BlobLink{ContentType: "plain text"}},
	}
	for _, c := range links {
		_, err := h.Store.SignedURL(t.Context(), p, time.Minute, c.link)
		requireCode(t, err, herald.CodeInvalid, "link %s", c.name)
	}
}
