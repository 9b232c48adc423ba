package azureblob

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/heraldreports/herald/internal/herald"
)

// downloadRetries is how often Get's reader resumes a broken download (of
// the same blob version: it asks with If-Match).
const downloadRetries = 3

// Get streams the blob at p.
func (s *Store) Get(ctx context.Context, p string) (io.ReadCloser, herald.BlobInfo, error) {
	if err := checkPath(p); err != nil {
		return nil, herald.BlobInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, herald.BlobInfo{}, translate(ctx, err, "reading blob %s", p)
	}
	resp, err := s.container.NewBlobClient(p).DownloadStream(ctx, nil)
	if err != nil {
		return nil, herald.BlobInfo{}, translate(ctx, err, "reading blob %s", p)
	}
	info := herald.BlobInfo{
		Path:        p,
		Size:        deref(resp.ContentLength),
		ContentType: deref(resp.ContentType),
		SHA256:      sha256Of(resp.Metadata),
		Modified:    utc(resp.LastModified),
	}
	body := resp.NewRetryReader(ctx, &blob.RetryReaderOptions{MaxRetries: downloadRetries})
	return &blobReader{ctx: ctx, p: p, rc: body}, info, nil
}

// blobReader translates the errors of a download.
type blobReader struct {
	ctx context.Context
	p   string
	rc  io.ReadCloser
}

func (b *blobReader) Read(buf []byte) (int, error) {
	// The transport notices a canceled context asynchronously, after
	// buffered bytes: fail at once instead.
	if err := b.ctx.Err(); err != nil {
		return 0, translate(b.ctx, err, "reading blob %s", b.p)
	}
	n, err := b.rc.Read(buf)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, translate(b.ctx, err, "reading blob %s", b.p)
	}
	return n, err
}

func (b *blobReader) Close() error {
	if err := b.rc.Close(); err != nil {
		return translate(b.ctx, err, "closing blob %s", b.p)
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
	resp, err := s.container.NewBlobClient(p).GetProperties(ctx, nil)
	if err != nil {
		return herald.BlobInfo{}, translate(ctx, err, "reading blob %s", p)
	}
	return herald.BlobInfo{
		Path:        p,
		Size:        deref(resp.ContentLength),
		ContentType: deref(resp.ContentType),
		SHA256:      sha256Of(resp.Metadata),
		Modified:    utc(resp.LastModified),
	}, nil
}

// Delete removes the blob at p (with its snapshots, should it have any). A
// missing blob is not an error.
func (s *Store) Delete(ctx context.Context, p string) error {
	if err := checkPath(p); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return translate(ctx, err, "deleting blob %s", p)
	}
	_, err := s.container.NewBlobClient(p).Delete(ctx, &blob.DeleteOptions{
		DeleteSnapshots: new(blob.DeleteSnapshotsOptionTypeInclude),
	})
	if err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
		return translate(ctx, err, "deleting blob %s", p)
	}
	return nil
}

// List calls fn for every blob whose path starts with prefix, in path
// order, one page of Config.ListPageSize blobs at a time.
func (s *Store) List(ctx context.Context, prefix string, fn func(herald.BlobInfo) error) error {
	if err := herald.CheckBlobPrefix(prefix); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return translate(ctx, err, "listing blobs")
	}
	opts := &container.ListBlobsFlatOptions{Include: container.ListBlobsInclude{Metadata: true}}
	if prefix != "" {
		opts.Prefix = &prefix
	}
	if s.pageSize > 0 {
		opts.MaxResults = &s.pageSize
	}
	pager := s.container.NewListBlobsFlatPager(opts)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return translate(ctx, err, "listing blobs")
		}
		if page.Segment == nil {
			continue
		}
		for _, item := range page.Segment.BlobItems {
			info := listed(item)
			if info.Path == "" {
				continue
			}
			if err := fn(info); err != nil {
				return err
			}
		}
	}
	return nil
}

// listed is the info of a listed blob.
func listed(item *container.BlobItem) herald.BlobInfo {
	if item == nil || item.Name == nil {
		return herald.BlobInfo{}
	}
	info := herald.BlobInfo{Path: *item.Name, SHA256: sha256Of(item.Metadata)}
	if pr := item.Properties; pr != nil {
		info.Size = deref(pr.ContentLength)
		info.ContentType = deref(pr.ContentType)
		info.Modified = utc(pr.LastModified)
	}
	return info
}

// sha256Of finds the sha256 metadata entry: headers arrive canonicalized
// ("Sha256"), listings as stored.
func sha256Of(meta map[string]*string) string {
	for k, v := range meta {
		if strings.EqualFold(k, metaSHA256) && v != nil {
			return *v
		}
	}
	return ""
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
