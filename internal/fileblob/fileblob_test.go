package fileblob

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/blobtest"
	"github.com/heraldreports/herald/internal/herald"
)

var _ blobtest.Store = (*Store)(nil)

// testKey is a fixed link key for tests.
func testKey() []byte { return []byte("0123456789abcdef0123456789abcdef") }

// newTestStore returns a store in a new directory with its links served
// by a test server.
func newTestStore(t *testing.T, cfg Config) (*Store, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	cfg.BaseURL = srv.URL
	if cfg.Key == nil {
		cfg.Key = testKey()
	}
	s, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	mux.Handle(LinkPathPrefix, s.Handler())
	return s, srv
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blobtest.Harness {
		s, srv := newTestStore(t, Config{})
		return blobtest.Harness{Store: s, Client: srv.Client()}
	})
}

func TestLayoutOnDisk(t *testing.T) {
	dir := t.TempDir()
	clock := time.Date(2026, 3, 2, 9, 30, 0, 123456789, time.UTC)
	s, _ := newTestStore(t, Config{Dir: dir, Now: func() time.Time { return clock }})
	ctx := t.Context()
	info, err := s.Put(ctx, "acme/rep_1/run_1/art_1", strings.NewReader("a,b\n"), herald.BlobPut{ContentType: "text/csv"})
	require.NoError(t, err)
	assert.Equal(t, clock.Truncate(time.Millisecond), info.Modified, "Modified comes from the clock")

	raw, err := os.ReadFile(filepath.Join(dir, "acme", "rep_1", "run_1", "art_1@"))
	require.NoError(t, err)
	require.Len(t, raw, headerSize+4)
	assert.Equal(t, "a,b\n", string(raw[headerSize:]))
	assert.Equal(t, byte('\n'), raw[headerSize-1])
	var h map[string]any
	require.NoError(t, json.Unmarshal(bytes.TrimRight(raw[:headerSize], " \n"), &h))
	assert.Equal(t, map[string]any{
		"herald": "blob/1", "contentType": "text/csv", "size": 4.0,
		"sha256":   info.SHA256,
		"modified": "2026-03-02T09:30:00.123Z",
	}, h)
	assert.Empty(t, dirNames(t, filepath.Join(dir, tmpDir)), "no temp file left")
	assert.Equal(t, []string{"acme", tmpDir}, dirNames(t, dir))

	// A blob and a folder of one name live side by side.
	_, err = s.Put(ctx, "acme/rep_1/run_1/art_1/more", strings.NewReader("x"), herald.BlobPut{})
	require.NoError(t, err)
	assert.Equal(t, []string{"art_1", "art_1@"}, dirNames(t, filepath.Join(dir, "acme", "rep_1", "run_1")))

	// Delete prunes the folders it empties, and only those.
	require.NoError(t, s.Delete(ctx, "acme/rep_1/run_1/art_1/more"))
	assert.Equal(t, []string{"art_1@"}, dirNames(t, filepath.Join(dir, "acme", "rep_1", "run_1")))
	require.NoError(t, s.Delete(ctx, "acme/rep_1/run_1/art_1"))
	assert.Equal(t, []string{tmpDir}, dirNames(t, dir))
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestTempFiles(t *testing.T) {
	dir := t.TempDir()
	s, _ := newTestStore(t, Config{Dir: dir})
	ctx := t.Context()
	_, err := s.Put(ctx, "a/b", &failingReader{after: 100_000}, herald.BlobPut{})
	require.Error(t, err)
	assert.Empty(t, dirNames(t, filepath.Join(dir, tmpDir)), "a failed Put removes its temp file")

	// A crash leaves temp files: an old one, and one "in progress".
	old, fresh := filepath.Join(dir, tmpDir, "0badc0ffee"), filepath.Join(dir, tmpDir, "inprogress")
	require.NoError(t, os.WriteFile(old, []byte("partial"), 0o600))
	require.NoError(t, os.WriteFile(fresh, []byte("partial"), 0o600))
	require.NoError(t, os.Chtimes(old, time.Now().Add(-2*time.Hour), time.Now().Add(-2*time.Hour)))
	// Stray files that are not blobs are ignored too.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README"), []byte("not a blob"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad name@"), []byte("not a blob"), 0o600))
	_, err = s.Put(ctx, "x/y", strings.NewReader("y"), herald.BlobPut{})
	require.NoError(t, err)

	s2, _ := newTestStore(t, Config{Dir: dir})
	assert.Equal(t, []string{"inprogress"}, dirNames(t, filepath.Join(dir, tmpDir)), "New removes stale temp files only")
	var listed []string
	require.NoError(t, s2.List(ctx, "", func(info herald.BlobInfo) error {
		listed = append(listed, info.Path)
		return nil
	}))
	assert.Equal(t, []string{"x/y"}, listed, "List shows blobs only")

	// The temp folder removed by hand comes back.
	require.NoError(t, os.RemoveAll(filepath.Join(dir, tmpDir)))
	_, err = s2.Put(ctx, "x/z", strings.NewReader("z"), herald.BlobPut{})
	require.NoError(t, err)
}

type failingReader struct{ after, read int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.read >= f.after {
		return 0, errors.New("broken")
	}
	n := min(len(p), f.after-f.read)
	f.read += n
	return n, nil
}

func TestPathsStayInsideDir(t *testing.T) {
	base := t.TempDir()
	dir, outside := filepath.Join(base, "blobs"), filepath.Join(base, "outside")
	require.NoError(t, os.MkdirAll(outside, 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret@"), []byte(strings.Repeat(" ", headerSize)+"secret"), 0o600))
	s, _ := newTestStore(t, Config{Dir: dir})
	ctx := t.Context()

	for _, p := range []string{"../outside/secret", "a/../../outside/secret", "/etc/passwd", "..", "a/..", `..\outside`} {
		_, err := s.Stat(ctx, p)
		requireCode(t, err, herald.CodeInvalid, p)
		_, err = s.Put(ctx, p, strings.NewReader("x"), herald.BlobPut{})
		requireCode(t, err, herald.CodeInvalid, p)
	}

	// A symbolic link planted inside Dir cannot lead out of it.
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "evil")))
	require.NoError(t, os.Symlink(filepath.Join(outside, "secret@"), filepath.Join(dir, "leak@")))
	_, err := s.Stat(ctx, "evil/secret")
	require.Error(t, err)
	rc, _, err := s.Get(ctx, "leak")
	require.Error(t, err)
	assert.Nil(t, rc)
	_, err = s.Put(ctx, "evil/planted", strings.NewReader("x"), herald.BlobPut{})
	require.Error(t, err)
	assert.NoFileExists(t, filepath.Join(outside, "planted@"))
	require.Error(t, s.Delete(ctx, "evil/secret"))
	assert.FileExists(t, filepath.Join(outside, "secret@"), "Delete did not reach outside")
	require.NoError(t, s.List(ctx, "", func(info herald.BlobInfo) error {
		t.Errorf("listed %s through a symbolic link", info.Path)
		return nil
	}))
}

func TestDamagedBlob(t *testing.T) {
	dir := t.TempDir()
	s, _ := newTestStore(t, Config{Dir: dir})
	ctx := t.Context()
	_, err := s.Put(ctx, "a/b", strings.NewReader("content"), herald.BlobPut{})
	require.NoError(t, err)
	require.NoError(t, os.Truncate(filepath.Join(dir, "a", "b@"), headerSize+3))
	_, err = s.Stat(ctx, "a/b")
	requireCode(t, err, herald.CodeInternal, "a size that does not match the header")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a", "c@"), []byte("short"), 0o600))
	_, err = s.Stat(ctx, "a/c")
	requireCode(t, err, herald.CodeInternal, "no header")
	err = s.List(ctx, "a/", func(herald.BlobInfo) error { return nil })
	requireCode(t, err, herald.CodeInternal, "List reports a damaged blob")
}

func TestNewValidatesConfig(t *testing.T) {
	dir := t.TempDir()
	key := testKey()
	cases := []struct {
		name string
		cfg  Config
	}{
		{"no dir", Config{BaseURL: "http://127.0.0.1:8080", Key: key}},
		{"short key", Config{Dir: dir, BaseURL: "http://127.0.0.1:8080", Key: key[:31]}},
		{"relative base URL", Config{Dir: dir, BaseURL: "/files", Key: key}},
		{"no base URL", Config{Dir: dir, Key: key}},
		{"base URL with query", Config{Dir: dir, BaseURL: "http://h/?a=b", Key: key}},
		{"ftp base URL", Config{Dir: dir, BaseURL: "ftp://h", Key: key}},
	}
	for _, c := range cases {
		_, err := New(c.cfg)
		requireCode(t, err, herald.CodeInvalid, c.name)
	}
	s, err := New(Config{Dir: filepath.Join(dir, "new", "nested"), BaseURL: "https://herald.example.com/", Key: key})
	require.NoError(t, err)
	u, err := s.SignedURL(t.Context(), "a/b.csv", time.Minute, herald.BlobLink{})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(u, "https://herald.example.com/files/a/b.csv?"), u)
	require.NoError(t, s.Close())
}

func TestReopenKeepsBlobsAndLinks(t *testing.T) {
	dir := t.TempDir()
	s, err := New(Config{Dir: dir, BaseURL: "http://127.0.0.1:1", Key: testKey()})
	require.NoError(t, err)
	info, err := s.Put(t.Context(), "a/b", strings.NewReader("kept"), herald.BlobPut{ContentType: "text/plain"})
	require.NoError(t, err)
	u, err := s.SignedURL(t.Context(), "a/b", time.Hour, herald.BlobLink{})
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s2, err := New(Config{Dir: dir, BaseURL: "http://127.0.0.1:1", Key: testKey()})
	require.NoError(t, err)
	defer s2.Close()
	got, err := s2.Stat(t.Context(), "a/b")
	require.NoError(t, err)
	assert.Equal(t, info, got)
	rec := httptest.NewRecorder()
	s2.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u, nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "kept", rec.Body.String())
}

func requireCode(t *testing.T, err error, code herald.Code, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.Equal(t, code, herald.CodeOf(err), msgAndArgs...)
}
