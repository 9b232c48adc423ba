package fileblob

// Signed links.
//
// A link is BaseURL + "/files/<path>?ct=<type>&exp=<unix s>&fn=<name>&sig=<sig>"
// where sig is the unpadded base64url HMAC-SHA256, under Config.Key, of
//
//	"herald-blob-link/1\n" + field(path) + field(exp) + field(fn) + field(ct)
//
// with field(v) = len(v) in decimal + ":" + v, so no two field lists share
// a string. ct is left out of the query when empty. fn is the filename the
// browser is offered (the path's last segment when BlobLink.Filename is
// empty); ct overrides the stored content type. A link is valid while the
// clock is before exp.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// LinkPathPrefix is the URL path prefix Handler serves.
const LinkPathPrefix = "/files/"

// SignedURL returns a link to the blob at p that anyone can GET (or HEAD)
// from Handler until ttl passes. It does not check that the blob exists.
func (s *Store) SignedURL(ctx context.Context, p string, ttl time.Duration, link herald.BlobLink) (string, error) {
	if err := checkPath(p); err != nil {
		return "", err
	}
	fn, ct, err := herald.CheckBlobLink(p, ttl, link)
	if err != nil {
		return "", err
	}
	exp := strconv.FormatInt(s.now().Add(ttl).Unix(), 10)
	q := url.Values{"exp": {exp}, "fn": {fn}, "sig": {s.signature(p, exp, fn, ct)}}
	if ct != "" {
		q.Set("ct", ct)
	}
	return s.baseURL + LinkPathPrefix + p + "?" + q.Encode(), nil
}

// signature is the base64url HMAC of a link's canonical string.
func (s *Store) signature(p, exp, fn, ct string) string {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte("herald-blob-link/1\n"))
	for _, v := range []string{p, exp, fn, ct} {
		mac.Write([]byte(strconv.Itoa(len(v)) + ":" + v))
	}
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Handler serves signed links: GET and HEAD of LinkPathPrefix + path. It
// expects the full request path, so mount it as mux.Handle("/files/", h);
// behind a path prefix, strip that prefix first (http.StripPrefix) so the
// path starts with "/files/".
//
// A bad or expired signature answers 403 and a missing blob 404, both with
// a problem+json body. Success serves the content with http.ServeContent
// (Range, If-None-Match, If-Modified-Since), ETag "<sha256>", the stored or
// overriding content type, Content-Disposition: attachment, nosniff and
// Cache-Control: private, no-store.
func (s *Store) Handler() http.Handler { return http.HandlerFunc(s.serveLink) }

func (s *Store) serveLink(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		problem(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	p, ok := strings.CutPrefix(r.URL.Path, LinkPathPrefix)
	if !ok || checkPath(p) != nil {
		problem(w, http.StatusNotFound, "Not found")
		return
	}
	q := r.URL.Query()
	exp, fn, ct := q.Get("exp"), q.Get("fn"), q.Get("ct")
	want := s.signature(p, exp, fn, ct)
	if !hmac.Equal([]byte(want), []byte(q.Get("sig"))) {
		problem(w, http.StatusForbidden, "This link is not valid")
		return
	}
	expires, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !s.now().Before(time.Unix(expires, 0)) {
		problem(w, http.StatusForbidden, "This link has expired")
		return
	}
	f, info, err := s.open(r.Context(), p)
	if herald.Is(err, herald.CodeNotFound) {
		problem(w, http.StatusNotFound, "Not found")
		return
	}
	if err != nil {
		problem(w, http.StatusInternalServerError, "The file cannot be read")
		return
	}
	defer f.Close()
	if ct == "" {
		ct = info.ContentType
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", herald.ContentDisposition(fn))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	h.Set("ETag", `"`+info.SHA256+`"`)
	http.ServeContent(w, r, "", info.Modified, io.NewSectionReader(f, headerSize, info.Size))
}

// problem writes a problem+json response.
func problem(w http.ResponseWriter, status int, title string) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Title  string `json:"title"`
		Status int    `json:"status"`
	}{title, status})
}
