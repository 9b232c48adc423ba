// Package blobtest is the conformance suite of the artifact blob store
// contract. Every blob adapter calls Run from its own tests; a behaviour that
// differs between adapters fails here.
//
// Besides what the Store interface states, the suite pins down:
//   - Paths follow herald.ValidBlobPath; any other path is CodeInvalid on
//     every method. An adapter may also refuse a path segment longer than
//     254 bytes with CodeInvalid (fileblob does: file names are limited to
//     255 bytes); segments up to 200 bytes must work. A List prefix is "" or a beginning of a valid path
//     (prefix+"x" is valid); any other prefix is CodeInvalid.
//   - A content type (BlobPut.ContentType, BlobLink.ContentType) must parse
//     as a media type and be at most MaxContentTypeBytes long; a link
//     filename must be valid UTF-8 without control characters and at most
//     MaxFilenameBytes long. Anything else is CodeInvalid.
//   - BlobInfo.Modified is UTC; Put, Get, Stat and List report the same
//     info for the same write.
//   - When the reader given to Put fails, Put returns an error with the
//     reader's error in its chain and stores nothing: the previous blob, if
//     any, stays. A canceled context does the same with ctx.Err() in the
//     chain; every other call with a canceled context fails with ctx.Err()
//     in the chain.
//   - Concurrent Puts to one path never mix contents: each Put succeeds or
//     fails with CodeConflict (Azure discards the blocks a Put has staged
//     when another Put to the same path commits first); at least one
//     succeeds and the blob is then exactly one successful Put's content
//     with that Put's info.
//   - SignedURL does no existence check (signing is local): a link to a
//     missing or deleted blob answers 404. A link serves the blob's current
//     content, honours Range requests, and answers a 4xx without the content
//     once expired or when any part of it (path, signature, overrides) was
//     changed. An empty BlobLink.Filename offers the path's last segment.
//
// Every test works under a path prefix of its own, so several harnesses may
// share one backend (an Azure container) and the suite may run against a
// store that holds other blobs.
//
// The package imports testing and testify: only tests may import it.
package blobtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// Limits the suite expects adapters to enforce.
const (
	// MaxContentTypeBytes is the longest content type a store accepts.
	MaxContentTypeBytes = herald.MaxBlobContentTypeBytes
	// MaxFilenameBytes is the longest link filename a store accepts.
	MaxFilenameBytes = herald.MaxBlobFilenameBytes
)

// Store is the artifact blob store contract.
type Store interface {
	// Put streams r into the blob at path, computing its SHA-256 on the
	// way, and replaces any blob there atomically. When r fails nothing is
	// stored.
	Put(ctx context.Context, path string, r io.Reader, opts herald.BlobPut) (herald.BlobInfo, error)
	// Get streams the blob at path; the caller closes the reader.
	Get(ctx context.Context, path string) (io.ReadCloser, herald.BlobInfo, error)
	// Stat describes the blob at path.
	Stat(ctx context.Context, path string) (herald.BlobInfo, error)
	// Delete removes the blob at path; a missing blob is not an error.
	Delete(ctx context.Context, path string) error
	// List calls fn for every blob whose path starts with prefix, in path
	// (byte) order, and stops at fn's first error, which it returns.
	List(ctx context.Context, prefix string, fn func(herald.BlobInfo) error) error
	// SignedURL returns an absolute link that reads this one blob without
	// other credentials until ttl (0 < ttl <= herald.MaxBlobLinkTTL) passes.
	SignedURL(ctx context.Context, path string, ttl time.Duration, link herald.BlobLink) (string, error)
}

// Harness is what the suite needs from an adapter's test.
type Harness struct {
	// Store is the store under test. It may hold other blobs, and several
	// harnesses may share a backend.
	Store Store
	// Client fetches signed links. It must carry no credentials; nil means
	// a plain client with a 30 s timeout.
	Client *http.Client
	// ListPageSize is the number of blobs the store fetches per List page,
	// 0 when it does not page. The suite lists more than two pages.
	ListPageSize int
	// BlockSize is the size above which Put sends the content in several
	// parts (Azure blocks), 0 when it never does. The suite streams blobs
	// of several parts to test failures and races in the middle of a Put.
	BlockSize int
	// LargeSize is the size of the big streamed blob; 0 means 32 MiB.
	LargeSize int64
}

// Run runs the conformance suite. newHarness is called once per group of
// tests; the groups run in parallel.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Helper()
	// An expiring link is signed first and checked last, so its wait
	// overlaps the rest of the suite.
	expiring := signExpiring(t, fill(t, newHarness))
	// Streaming measures the heap, so it runs alone, before the others.
	t.Run("Streaming", func(t *testing.T) { testStreaming(t, fill(t, newHarness)) })
	groups := []struct {
		name string
		run  func(t *testing.T, h Harness)
	}{
		{"PutGet", testPutGet},
		{"ContentType", testContentType},
		{"Overwrite", testOverwrite},
		{"FailedPut", testFailedPut},
		{"StatDelete", testStatDelete},
		{"InvalidPaths", testInvalidPaths},
		{"List", testList},
		{"ListPages", testListPages},
		{"Concurrency", testConcurrency},
		{"Context", testContext},
		{"SignedURL", testSignedURL},
		{"SignedURLRefused", testSignedURLRefused},
		{"LinkValidation", testLinkValidation},
	}
	t.Run("Contract", func(t *testing.T) {
		for _, g := range groups {
			t.Run(g.name, func(t *testing.T) {
				t.Parallel()
				g.run(t, fill(t, newHarness))
			})
		}
	})
	t.Run("ExpiredLink", expiring)
}

// fill calls newHarness and applies the defaults.
func fill(t *testing.T, newHarness func(t *testing.T) Harness) Harness {
	t.Helper()
	h := newHarness(t)
	require.NotNil(t, h.Store, "the harness needs a Store")
	if h.Client == nil {
		h.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if h.LargeSize == 0 {
		h.LargeSize = 32 << 20
	}
	return h
}

// multiPartSize is a size Put sends in several parts (2.5 blocks), or 3 MiB
// when the store has no blocks.
func (h Harness) multiPartSize() int64 {
	if h.BlockSize <= 0 {
		return 3 << 20
	}
	return int64(h.BlockSize)*5/2 + 17
}

// prefix returns a new path prefix ending in "/", unique to this test run:
// "bt-<random>/<test name>/".
func prefix(t *testing.T) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := t.Name()
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	var clean strings.Builder
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			clean.WriteRune(c)
		default:
			clean.WriteByte('_')
		}
	}
	s := clean.String()
	if len(s) > 60 {
		s = s[:60]
	}
	return "bt-" + hex.EncodeToString(b[:]) + "/" + s + "/"
}

// requireCode fails unless err carries code.
func requireCode(t *testing.T, err error, code herald.Code, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.Equalf(t, code, herald.CodeOf(err), "want %s, got error %q", code, err)
}

// sum is the lowercase hex SHA-256 of b.
func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// put stores content at path and checks the returned info.
func put(t *testing.T, s Store, path string, content []byte, contentType string) herald.BlobInfo {
	t.Helper()
	info, err := s.Put(t.Context(), path, strings.NewReader(string(content)), herald.BlobPut{ContentType: contentType})
	require.NoErrorf(t, err, "Put %s", path)
	want := contentType
	if want == "" {
		want = "application/octet-stream"
	}
	requireInfo(t, herald.BlobInfo{Path: path, Size: int64(len(content)), ContentType: want, SHA256: sum(content)}, info, "Put's info")
	return info
}

// requireInfo compares everything but Modified, which must be set, UTC and
// recent.
func requireInfo(t *testing.T, want, got herald.BlobInfo, what string) {
	t.Helper()
	require.Equal(t, want.Path, got.Path, "%s: path", what)
	require.Equal(t, want.Size, got.Size, "%s: size", what)
	require.Equal(t, want.ContentType, got.ContentType, "%s: content type", what)
	require.Equal(t, want.SHA256, got.SHA256, "%s: sha256", what)
	require.False(t, got.Modified.IsZero(), "%s: modified is set", what)
	require.Equal(t, time.UTC, got.Modified.Location(), "%s: modified is UTC", what)
	require.WithinDuration(t, time.Now(), got.Modified, 10*time.Minute, "%s: modified is recent", what)
}

// sameInfo fails unless a and b describe the same write.
func sameInfo(t *testing.T, want, got herald.BlobInfo, what string) {
	t.Helper()
	requireInfo(t, want, got, what)
	require.WithinDuration(t, want.Modified, got.Modified, time.Second, "%s: same modified time", what)
}

// get reads the whole blob at path.
func get(t *testing.T, s Store, path string) ([]byte, herald.BlobInfo) {
	t.Helper()
	rc, info, err := s.Get(t.Context(), path)
	require.NoErrorf(t, err, "Get %s", path)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoErrorf(t, err, "reading %s", path)
	return b, info
}

// requireAbsent fails unless Stat and Get answer CodeNotFound.
func requireAbsent(t *testing.T, s Store, path string, msgAndArgs ...any) {
	t.Helper()
	_, err := s.Stat(t.Context(), path)
	requireCode(t, err, herald.CodeNotFound, msgAndArgs...)
	rc, _, err := s.Get(t.Context(), path)
	if rc != nil {
		rc.Close()
	}
	requireCode(t, err, herald.CodeNotFound, msgAndArgs...)
}

// listAll collects List's infos.
func listAll(t *testing.T, s Store, prefix string) []herald.BlobInfo {
	t.Helper()
	var out []herald.BlobInfo
	require.NoErrorf(t, s.List(t.Context(), prefix, func(info herald.BlobInfo) error {
		out = append(out, info)
		return nil
	}), "List %q", prefix)
	return out
}

// paths returns the paths of infos, in order.
func paths(infos []herald.BlobInfo) []string {
	var out []string
	for _, info := range infos {
		out = append(out, info.Path)
	}
	return out
}

// gen is a reader of n pseudo-random bytes derived from seed, generated on
// the fly: it never holds the content. fail, when set, is returned once
// failAt bytes were read. onRead, when set, is called with the count read
// so far.
type gen struct {
	n, read int64
	state   uint64
	failAt  int64
	fail    error
	onRead  func(read int64)
}

func newGen(n int64, seed int) *gen {
	state := uint64(0x9E3779B97F4A7C15)
	for range seed + 1 { // seeds are small
		state = state*6364136223846793005 + 1442695040888963407
	}
	return &gen{n: n, state: state, failAt: -1}
}

func (g *gen) Read(p []byte) (int, error) {
	if g.fail != nil && g.read >= g.failAt {
		return 0, g.fail
	}
	if g.read >= g.n {
		return 0, io.EOF
	}
	if rest := g.n - g.read; int64(len(p)) > rest {
		p = p[:rest]
	}
	if g.fail != nil && g.read+int64(len(p)) > g.failAt {
		p = p[:g.failAt-g.read]
	}
	for i := range p {
		// xorshift64*
		g.state ^= g.state >> 12
		g.state ^= g.state << 25
		g.state ^= g.state >> 27
		p[i] = byte((g.state * 0x2545F4914F6CDD1D) >> 56)
	}
	g.read += int64(len(p))
	if g.onRead != nil {
		g.onRead(g.read)
	}
	return len(p), nil
}

// genSum is the SHA-256 and size of newGen(n, seed)'s content.
func genSum(t *testing.T, n int64, seed int) string {
	t.Helper()
	h := sha256.New()
	_, err := io.Copy(h, newGen(n, seed))
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

// streamSum reads the blob at path without buffering it and returns its
// SHA-256, size and info.
func streamSum(t *testing.T, s Store, path string) (string, int64, herald.BlobInfo) {
	t.Helper()
	rc, info, err := s.Get(t.Context(), path)
	require.NoErrorf(t, err, "Get %s", path)
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	require.NoErrorf(t, err, "reading %s", path)
	return hex.EncodeToString(h.Sum(nil)), n, info
}

// constError is an error that can be a constant.
type constError string

func (e constError) Error() string { return string(e) }

// errBoom is what the suite's failing readers fail with.
const errBoom = constError("blobtest: the reader broke")

// tryGet reads the whole blob at path; safe off the test goroutine.
func tryGet(ctx context.Context, s Store, path string) ([]byte, herald.BlobInfo, error) {
	rc, info, err := s.Get(ctx, path)
	if err != nil {
		return nil, info, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return b, info, err
}
