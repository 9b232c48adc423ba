package fileblob

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// clock is a settable test clock.
type clock struct{ now atomic.Pointer[time.Time] }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.set(t)
	return c
}
func (c *clock) set(t time.Time)     { c.now.Store(&t) }
func (c *clock) Now() time.Time      { return *c.now.Load() }
func (c *clock) add(d time.Duration) { c.set(c.Now().Add(d)) }

func serve(h http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func requireProblem(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	require.Equal(t, status, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	var body struct {
		Title  string `json:"title"`
		Status int    `json:"status"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, status, body.Status)
	assert.NotEmpty(t, body.Title)
}

func TestHandler(t *testing.T) {
	clk := newClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	s, _ := newTestStore(t, Config{Now: clk.Now})
	h := s.Handler()
	ctx := t.Context()
	info, err := s.Put(ctx, "acme/r/run/a1", strings.NewReader("hello, links"), herald.BlobPut{ContentType: "text/plain"})
	require.NoError(t, err)
	u, err := s.SignedURL(ctx, "acme/r/run/a1", 10*time.Minute, herald.BlobLink{Filename: "Łódź report.txt"})
	require.NoError(t, err)

	t.Run("GET", func(t *testing.T) {
		rec := serve(h, http.MethodGet, u, nil)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, "hello, links", rec.Body.String())
		hd := rec.Header()
		assert.Equal(t, "text/plain", hd.Get("Content-Type"))
		assert.Equal(t, `attachment; filename="__d_ report.txt"; filename*=UTF-8''%C5%81%C3%B3d%C5%BA%20report.txt`, hd.Get("Content-Disposition"))
		assert.Equal(t, "nosniff", hd.Get("X-Content-Type-Options"))
		assert.Equal(t, "private, no-store", hd.Get("Cache-Control"))
		assert.Equal(t, `"`+info.SHA256+`"`, hd.Get("ETag"))
		assert.Equal(t, info.Modified.Format(http.TimeFormat), hd.Get("Last-Modified"))
		assert.Equal(t, "12", hd.Get("Content-Length"))
	})
	t.Run("HEAD", func(t *testing.T) {
		rec := serve(h, http.MethodHead, u, nil)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Empty(t, rec.Body.String())
		assert.Equal(t, "12", rec.Header().Get("Content-Length"))
	})
	t.Run("conditional and range requests", func(t *testing.T) {
		rec := serve(h, http.MethodGet, u, http.Header{"If-None-Match": {`"` + info.SHA256 + `"`}})
		assert.Equal(t, http.StatusNotModified, rec.Code)
		rec = serve(h, http.MethodGet, u, http.Header{"Range": {"bytes=7-"}})
		assert.Equal(t, http.StatusPartialContent, rec.Code)
		assert.Equal(t, "links", rec.Body.String())
	})
	t.Run("other methods", func(t *testing.T) {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
			rec := serve(h, m, u, nil)
			requireProblem(t, rec, http.StatusMethodNotAllowed)
			assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
		}
	})
	t.Run("paths outside /files/ or not blob paths", func(t *testing.T) {
		q := u[strings.IndexByte(u, '?'):]
		for _, p := range []string{"/acme/r/run/a1", "/files", "/files/", "/files/acme/../acme/r/run/a1", "/files/acme//r/run/a1", "/filesacme/r/run/a1"} {
			requireProblem(t, serve(h, http.MethodGet, p+q, nil), http.StatusNotFound)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		rec := serve(h, http.MethodGet, strings.Replace(u, "sig=", "sig=x", 1), nil)
		requireProblem(t, rec, http.StatusForbidden)
		assert.NotContains(t, rec.Body.String(), "hello")
	})
	t.Run("expired", func(t *testing.T) {
		clk.add(10*time.Minute - time.Second)
		require.Equal(t, http.StatusOK, serve(h, http.MethodGet, u, nil).Code, "a second before exp")
		clk.add(time.Second)
		rec := serve(h, http.MethodGet, u, nil)
		requireProblem(t, rec, http.StatusForbidden)
		assert.Contains(t, rec.Body.String(), "expired")
	})
	t.Run("mounted behind a prefix", func(t *testing.T) {
		clk.set(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		mux := http.NewServeMux()
		mux.Handle("/herald/", http.StripPrefix("/herald", h))
		parsed, err := url.Parse(u)
		require.NoError(t, err)
		rec := serve(mux, http.MethodGet, "/herald"+parsed.RequestURI(), nil)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, "hello, links", rec.Body.String())
	})
	t.Run("missing blob", func(t *testing.T) {
		missing, err := s.SignedURL(ctx, "acme/r/run/none", time.Minute, herald.BlobLink{})
		require.NoError(t, err)
		requireProblem(t, serve(h, http.MethodGet, missing, nil), http.StatusNotFound)
	})
}

func TestSignatureFieldsCannotShift(t *testing.T) {
	s, _ := newTestStore(t, Config{})
	assert.NotEqual(t, s.signature("a/b", "1", "ab", ""), s.signature("a/b", "1", "a", "b"))
	assert.NotEqual(t, s.signature("a/b", "12", "", ""), s.signature("a/b", "1", "2", ""))
	other, _ := newTestStore(t, Config{Key: []byte(strings.Repeat("k", 32))})
	assert.NotEqual(t, s.signature("a/b", "1", "f", ""), other.signature("a/b", "1", "f", ""), "the key matters")
}
