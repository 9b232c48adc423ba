// Package fileblob is the local-disk artifact blob store of standalone mode.
//
// # Layout
//
// Everything lives under Config.Dir, which the store owns (give it a
// directory of its own, e.g. <data dir>/artifacts):
//
//	<Dir>/<seg1>/<seg2>/.../<last>@   one blob, path "seg1/seg2/.../last"
//	<Dir>/~tmp/<random>               a Put in progress (or left by a crash)
//
// The folders of a blob path are directories named after the segments; the
// blob itself is a file named after the last segment plus "@", a character
// no blob path contains. As a file name is at most 255 bytes, a segment is
// at most MaxSegmentBytes (254) here: longer ones are CodeInvalid. So a blob and a folder may share a name ("a/b" and
// "a/b/c" are both storable, as in Azure's flat namespace), and temp files
// can never be mistaken for blobs. Empty folders are removed by Delete.
//
// A blob file starts with a header of headerSize (1,024) bytes: a JSON
// object {"herald":"blob/1","contentType","sha256","size","modified"}
// padded with spaces and ended by "\n", followed by the content. Stat and
// List read the header only; nothing is hashed after Put. Content and
// metadata live in one file, so one rename publishes both at once.
//
// Put streams the content into a new file in ~tmp (same file system),
// hashing it on the way, writes the header, fsyncs the file, renames it into
// place and fsyncs the directory (and, when Put created folders, their
// parents). A failed or canceled Put removes its temp file; New removes temp
// files older than staleTempAge, which only a crash leaves behind. Readers
// hold an open file, so an overwrite or delete never cuts a read short.
//
// All file access goes through an os.Root on Dir: on top of path validation
// (herald.ValidBlobPath and filepath.IsLocal), no name and no symbolic link
// can reach outside Dir.
//
// Signed links are served by Handler: see link.go.
package fileblob

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

const (
	// blobSuffix ends the file name of every blob.
	blobSuffix = "@"
	// tmpDir holds Puts in progress.
	tmpDir = "~tmp"
	// staleTempAge is the age after which New removes a temp file.
	staleTempAge = time.Hour
	// MaxSegmentBytes is the longest path segment the store accepts: a
	// file name is at most 255 bytes, and blob files end in blobSuffix.
	MaxSegmentBytes = 255 - len(blobSuffix)
	// MinKeyBytes is the shortest link-signing key New accepts.
	MinKeyBytes    = 32
	dirPerm        = 0o750
	filePerm       = 0o640
	copyBufferSize = 256 << 10
)

// Config configures a Store.
type Config struct {
	// Dir is the directory the store owns; New creates it when missing.
	Dir string
	// BaseURL is the absolute URL Handler is reachable at, such as
	// "http://127.0.0.1:8080"; links are BaseURL + "/files/<path>?...".
	BaseURL string
	// Key signs links with HMAC-SHA256: at least MinKeyBytes random bytes,
	// kept secret and stable across restarts (links survive a restart).
	Key []byte
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store is a blob store on the local disk. It is safe for concurrent use,
// also by several Stores (or processes) on the same Dir.
type Store struct {
	root    *os.Root
	baseURL string
	key     []byte
	now     func() time.Time
}

// New opens (creating when needed) the store in cfg.Dir and removes stale
// temp files. Close releases it.
func New(cfg Config) (*Store, error) {
	if cfg.Dir == "" {
		return nil, herald.Errorf(herald.CodeInvalid, "fileblob: Dir is required")
	}
	base, err := checkBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if len(cfg.Key) < MinKeyBytes {
		return nil, herald.Errorf(herald.CodeInvalid, "fileblob: the link key must be at least %d bytes", MinKeyBytes)
	}
	if err := os.MkdirAll(cfg.Dir, dirPerm); err != nil {
		return nil, herald.Wrap(err, herald.CodeUnavailable, "fileblob: creating the blob directory")
	}
	root, err := os.OpenRoot(cfg.Dir)
	if err != nil {
		return nil, herald.Wrap(err, herald.CodeUnavailable, "fileblob: opening the blob directory")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	s := &Store{root: root, baseURL: base, key: slices.Clone(cfg.Key), now: now}
	if err := s.root.MkdirAll(tmpDir, dirPerm); err != nil {
		root.Close()
		return nil, herald.Wrap(err, herald.CodeUnavailable, "fileblob: creating the temp directory")
	}
	if err := s.removeStaleTemps(); err != nil {
		root.Close()
		return nil, err
	}
	return s, nil
}

// checkBaseURL returns u without a trailing slash, or an error unless it
// is an absolute http(s) URL without query or fragment.
func checkBaseURL(u string) (string, error) {
	parsed, err := url.Parse(u)
	if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" ||
		parsed.RawQuery != "" || parsed.Fragment != "" || parsed.User != nil {
		return "", herald.Errorf(herald.CodeInvalid, "fileblob: BaseURL must be an absolute http(s) URL without query, such as http://127.0.0.1:8080")
	}
	return strings.TrimRight(u, "/"), nil
}

// Close releases the directory. The Store must not be used afterwards.
func (s *Store) Close() error {
	if err := s.root.Close(); err != nil {
		return fmt.Errorf("fileblob: closing: %w", err)
	}
	return nil
}

// removeStaleTemps removes temp files older than staleTempAge.
func (s *Store) removeStaleTemps() error {
	entries, err := fs.ReadDir(s.root.FS(), tmpDir)
	if err != nil {
		return herald.Wrap(err, herald.CodeUnavailable, "fileblob: reading the temp directory")
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || info.IsDir() || s.now().Sub(info.ModTime()) < staleTempAge {
			continue
		}
		if err := s.root.Remove(tmpDir + "/" + e.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return herald.Wrap(err, herald.CodeUnavailable, "fileblob: removing a stale temp file")
		}
	}
	return nil
}

// fileName is the name, relative to the root, of the blob file of p, a
// path that passed checkPath.
func fileName(p string) string { return filepath.FromSlash(p) + blobSuffix }

// checkPath refuses paths that are not valid blob paths or that would not
// stay inside the root.
func checkPath(p string) error {
	if err := herald.ValidBlobPath(p); err != nil {
		return herald.Wrap(err, herald.CodeInvalid, "invalid blob path")
	}
	if !filepath.IsLocal(fileName(p)) {
		return herald.Errorf(herald.CodeInvalid, "invalid blob path")
	}
	for seg := range strings.SplitSeq(p, "/") {
		if len(seg) > MaxSegmentBytes {
			return herald.Errorf(herald.CodeInvalid, "a blob path segment must be at most %d bytes here", MaxSegmentBytes)
		}
	}
	return nil
}

// Put stores the content of r at p, replacing any blob there atomically.
func (s *Store) Put(ctx context.Context, p string, r io.Reader, opts herald.BlobPut) (herald.BlobInfo, error) {
	if err := checkPath(p); err != nil {
		return herald.BlobInfo{}, err
	}
	ct, err := herald.BlobContentType(opts.ContentType)
	if err != nil {
		return herald.BlobInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return herald.BlobInfo{}, writeErr(ctx, err, p)
	}
	tmp, f, err := s.createTemp()
	if err != nil {
		return herald.BlobInfo{}, writeErr(ctx, err, p)
	}
	published := false
	defer func() {
		if !published {
			f.Close()
			_ = s.root.Remove(tmp) // best effort: New removes what is left
		}
	}()
	info, err := s.write(ctx, f, r, p, ct)
	if err != nil {
		return herald.BlobInfo{}, err
	}
	if err := f.Close(); err != nil {
		return herald.BlobInfo{}, writeErr(ctx, err, p)
	}
	if err := ctx.Err(); err != nil {
		return herald.BlobInfo{}, writeErr(ctx, err, p)
	}
	if err := s.publish(tmp, p); err != nil {
		return herald.BlobInfo{}, writeErr(ctx, err, p)
	}
	published = true
	return info, nil
}

// createTemp creates a new temp file.
func (s *Store) createTemp() (string, *os.File, error) {
	var b [12]byte
	_, _ = rand.Read(b[:])
	name := tmpDir + "/" + hex.EncodeToString(b[:])
	f, err := s.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, filePerm)
	if errors.Is(err, fs.ErrNotExist) { // ~tmp was removed by hand: make it again
		if err = s.root.MkdirAll(tmpDir, dirPerm); err == nil {
			f, err = s.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, filePerm)
		}
	}
	if err != nil {
		return "", nil, fmt.Errorf("creating a temp file: %w", err)
	}
	return name, f, nil
}

// write streams r into f after a blank header, then fills in the header
// and syncs f.
func (s *Store) write(ctx context.Context, f *os.File, r io.Reader, p, ct string) (herald.BlobInfo, error) {
	if _, err := f.Write(blankHeader()); err != nil {
		return herald.BlobInfo{}, writeErr(ctx, err, p)
	}
	h := sha256.New()
	src := &sourceReader{ctx: ctx, r: r}
	n, err := io.CopyBuffer(io.MultiWriter(f, h), src, make([]byte, copyBufferSize))
	switch {
	case src.err != nil && ctx.Err() != nil:
		return herald.BlobInfo{}, translate(ctx, src.err, "storing blob %s", p)
	case src.err != nil:
		// The caller's reader failed: its error, and its code if it has one.
		return herald.BlobInfo{}, fmt.Errorf("storing blob %s: reading the content: %w", p, src.err)
	case err != nil:
		return herald.BlobInfo{}, writeErr(ctx, err, p)
	}
	info := herald.BlobInfo{
		Path:        p,
		Size:        n,
		ContentType: ct,
		SHA256:      hex.EncodeToString(h.Sum(nil)),
		Modified:    s.now().UTC().Truncate(time.Millisecond),
	}
	hdr, err := encodeHeader(info)
	if err != nil {
		return herald.BlobInfo{}, err
	}
	if _, err := f.WriteAt(hdr, 0); err != nil {
		return herald.BlobInfo{}, writeErr(ctx, err, p)
	}
	if err := f.Sync(); err != nil {
		return herald.BlobInfo{}, writeErr(ctx, err, p)
	}
	return info, nil
}

// sourceReader reads the caller's content, stopping when ctx is done, and
// keeps the reader's error apart from the disk's.
type sourceReader struct {
	ctx context.Context
	r   io.Reader
	err error
}

func (s *sourceReader) Read(b []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		s.err = err
		return 0, err
	}
	n, err := s.r.Read(b)
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = err
	}
	return n, err
}

// publish renames the synced temp file tmp to p's blob file, creating its
// folders, and makes the rename durable.
func (s *Store) publish(tmp, p string) error {
	dir := path.Dir(p)
	var err error
	for range 5 { // a concurrent Delete may prune a folder we just made
		created := false
		if dir != "." {
			if _, statErr := s.root.Stat(filepath.FromSlash(dir)); errors.Is(statErr, fs.ErrNotExist) {
				created = true
			}
			if err = s.root.MkdirAll(filepath.FromSlash(dir), dirPerm); err != nil {
				if errors.Is(err, syscall.ENOTDIR) {
					return herald.Wrap(err, herald.CodeInternal, "a folder of blob %s is a file", p)
				}
				continue
			}
		}
		if err = s.root.Rename(tmp, fileName(p)); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return fmt.Errorf("renaming the temp file into place: %w", err)
		}
		return s.syncDirs(dir, created)
	}
	return fmt.Errorf("creating the folders of the blob: %w", err)
}

// syncDirs fsyncs dir and, when up is set, every folder above it.
func (s *Store) syncDirs(dir string, up bool) error {
	for {
		if err := s.syncDir(dir); err != nil {
			return err
		}
		if !up || dir == "." {
			return nil
		}
		dir = path.Dir(dir)
	}
}

func (s *Store) syncDir(dir string) error {
	d, err := s.root.Open(filepath.FromSlash(dir))
	if err != nil {
		return fmt.Errorf("opening a folder to sync it: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing a folder: %w", err)
	}
	return nil
}

// open opens p's blob file and reads its header.
func (s *Store) open(ctx context.Context, p string) (*os.File, herald.BlobInfo, error) {
	f, err := s.root.Open(fileName(p))
	if err != nil {
		return nil, herald.BlobInfo{}, translate(ctx, err, "reading blob %s", p)
	}
	info, err := readHeader(f, p)
	if err != nil {
		f.Close()
		return nil, herald.BlobInfo{}, err
	}
	return f, info, nil
}

// Get streams the blob at p. The reader fails once ctx is done.
func (s *Store) Get(ctx context.Context, p string) (io.ReadCloser, herald.BlobInfo, error) {
	if err := checkPath(p); err != nil {
		return nil, herald.BlobInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, herald.BlobInfo{}, translate(ctx, err, "reading blob %s", p)
	}
	f, info, err := s.open(ctx, p)
	if err != nil {
		return nil, herald.BlobInfo{}, err
	}
	return &blobReader{ctx: ctx, p: p, r: io.NewSectionReader(f, headerSize, info.Size), f: f}, info, nil
}

// blobReader reads a blob's content from its open file.
type blobReader struct {
	ctx context.Context
	p   string
	r   io.Reader
	f   *os.File
}

func (b *blobReader) Read(buf []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, translate(b.ctx, err, "reading blob %s", b.p)
	}
	n, err := b.r.Read(buf)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, translate(b.ctx, err, "reading blob %s", b.p)
	}
	return n, err
}

func (b *blobReader) Close() error {
	if err := b.f.Close(); err != nil {
		return fmt.Errorf("closing blob %s: %w", b.p, err)
	}
	return nil
}

// Stat describes the blob at p.
func (s *Store) Stat(ctx context.Context, p string) (herald.BlobInfo, error) {
	if err := checkPath(p); err != nil {
		return herald.BlobInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return herald.BlobInfo{}, translate(ctx, err, "reading blob %s", p)
	}
	f, info, err := s.open(ctx, p)
	if err != nil {
		return herald.BlobInfo{}, err
	}
	f.Close()
	return info, nil
}

// Delete removes the blob at p, and the folders it leaves empty. A missing
// blob is not an error.
func (s *Store) Delete(ctx context.Context, p string) error {
	if err := checkPath(p); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return translate(ctx, err, "deleting blob %s", p)
	}
	err := s.root.Remove(fileName(p))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil
	}
	if err != nil {
		return translate(ctx, err, "deleting blob %s", p)
	}
	// Prune the folders left empty; Remove fails (and stops us) on the
	// first one that is not. A Put racing with this retries its folders.
	dir := path.Dir(p)
	for dir != "." && s.root.Remove(filepath.FromSlash(dir)) == nil {
		dir = path.Dir(dir)
	}
	if err := s.syncDir(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return translate(ctx, err, "deleting blob %s", p)
	}
	return nil
}
