package azureblob

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/heraldreports/herald/internal/herald"
)

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
		return herald.BlobInfo{}, translate(ctx, err, "storing blob %s", p)
	}
	bufp := s.buffer()
	defer s.buffers.Put(bufp)
	buf := *bufp
	up := &upload{ctx: ctx, path: p, client: s.container.NewBlockBlobClient(p), src: &sourceReader{ctx: ctx, r: r}, hash: sha256.New()}

	n, err := up.read(buf)
	if err != nil {
		return herald.BlobInfo{}, err
	}
	var modified *time.Time
	if n < len(buf) { // it all fits in one block: one request
		modified, err = up.single(buf[:n], ct)
	} else {
		modified, err = up.blocks(buf, ct)
	}
	if err != nil {
		return herald.BlobInfo{}, err
	}
	info := herald.BlobInfo{Path: p, Size: up.size, ContentType: ct, SHA256: up.sum(), Modified: utc(modified)}
	return info, nil
}

// buffer takes a block buffer from the pool.
func (s *Store) buffer() *[]byte {
	if b, ok := s.buffers.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, s.blockSize)
	return &b
}

// upload is one Put in progress.
type upload struct {
	ctx    context.Context
	path   string
	client *blockblob.Client
	src    *sourceReader
	hash   hash.Hash
	size   int64
}

// read fills buf from the source as far as it goes and hashes what it
// read. A short count means the source is exhausted.
func (u *upload) read(buf []byte) (int, error) {
	n, err := io.ReadFull(u.src, buf)
	switch {
	case u.src.err != nil && u.ctx.Err() != nil:
		return 0, translate(u.ctx, u.src.err, "storing blob %s", u.path)
	case u.src.err != nil:
		// The caller's reader failed: its error, and its code if it has one.
		return 0, fmt.Errorf("storing blob %s: reading the content: %w", u.path, u.src.err)
	case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
		return 0, translate(u.ctx, err, "storing blob %s", u.path)
	}
	u.hash.Write(buf[:n])
	u.size += int64(n)
	return n, nil
}

func (u *upload) sum() string { return hex.EncodeToString(u.hash.Sum(nil)) }

// headers are the content type and metadata a blob is committed with.
func (u *upload) headers(ct string) (*blob.HTTPHeaders, map[string]*string) {
	return &blob.HTTPHeaders{BlobContentType: &ct}, map[string]*string{metaSHA256: new(u.sum())}
}

// single stores content with one Put Blob.
func (u *upload) single(content []byte, ct string) (*time.Time, error) {
	h, meta := u.headers(ct)
	resp, err := u.client.Upload(u.ctx, streaming.NopCloser(bytes.NewReader(content)), &blockblob.UploadOptions{
		HTTPHeaders: h, Metadata: meta,
	})
	if err != nil {
		return nil, translate(u.ctx, err, "storing blob %s", u.path)
	}
	return resp.LastModified, nil
}

// blocks stages buf (full) and the rest of the source block by block, then
// commits them with the content type and hash.
func (u *upload) blocks(buf []byte, ct string) (*time.Time, error) {
	var uploadID [16]byte
	_, _ = rand.Read(uploadID[:])
	var ids []string
	n := len(buf)
	for n > 0 {
		if len(ids) == maxBlocks {
			return nil, herald.Errorf(herald.CodeTooLarge, "blob %s is larger than %d blocks", u.path, maxBlocks)
		}
		id := blockID(uploadID, len(ids))
		_, err := u.client.StageBlock(u.ctx, id, streaming.NopCloser(bytes.NewReader(buf[:n])), nil)
		if err != nil {
			return nil, translate(u.ctx, err, "storing blob %s", u.path)
		}
		ids = append(ids, id)
		if n < len(buf) {
			break
		}
		var rerr error
		if n, rerr = u.read(buf); rerr != nil {
			return nil, rerr
		}
	}
	if err := u.ctx.Err(); err != nil {
		return nil, translate(u.ctx, err, "storing blob %s", u.path)
	}
	h, meta := u.headers(ct)
	resp, err := u.client.CommitBlockList(u.ctx, ids, &blockblob.CommitBlockListOptions{HTTPHeaders: h, Metadata: meta})
	if err != nil {
		return nil, translate(u.ctx, err, "storing blob %s", u.path)
	}
	return resp.LastModified, nil
}

// blockID is the base64 id of block i of an upload: the upload's random
// id and the index, so every id of a blob has the same length and no two
// Puts share one.
func blockID(uploadID [16]byte, i int) string {
	var b [20]byte
	copy(b[:], uploadID[:])
	binary.BigEndian.PutUint32(b[16:], uint32(i)) //nolint:gosec // 0 <= i < maxBlocks
	return base64.StdEncoding.EncodeToString(b[:])
}

// sourceReader reads the caller's content, stopping when ctx is done, and
// keeps the reader's error apart from the service's.
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

// utc is *t in UTC, or the zero time.
func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
