package generate

import (
	"bufio"
	"context"
	"errors"
	"io"

	"github.com/heraldreports/herald/internal/herald"
)

// uploadBuffer decouples a renderer from the blob store's reads.
const uploadBuffer = 256 << 10

// errAborted ends an upload whose generation failed: the store must not
// keep the partial file.
var errAborted = errors.New("generation failed; the partial file is discarded")

// upload streams one file into the blob store while it is being written:
// a renderer writes into a pipe that Put reads from.
type upload struct {
	pw   *io.PipeWriter
	buf  *bufio.Writer
	done chan struct{}
	info herald.BlobInfo
	err  error
}

func startUpload(ctx context.Context, blobs BlobWriter, path, contentType string) *upload {
	pr, pw := io.Pipe()
	u := &upload{pw: pw, buf: bufio.NewWriterSize(pw, uploadBuffer), done: make(chan struct{})}
	go func() {
		defer close(u.done)
		u.info, u.err = blobs.Put(ctx, path, pr, herald.BlobPut{ContentType: contentType})
		// Unblock a writer the store stopped reading from.
		_ = pr.CloseWithError(errors.Join(errAborted, u.err))
	}()
	return u
}

// Write implements io.Writer for the renderer.
func (u *upload) Write(p []byte) (int, error) { return u.buf.Write(p) }

// finish ends the file and waits until the store has it.
func (u *upload) finish() (herald.BlobInfo, error) {
	if err := u.buf.Flush(); err != nil {
		u.abort()
		return herald.BlobInfo{}, u.failed(err)
	}
	_ = u.pw.Close()
	<-u.done
	return u.info, u.err
}

// abort discards the file.
func (u *upload) abort() {
	_ = u.pw.CloseWithError(errAborted)
	<-u.done
}

// failed returns the store's error when the store ended the upload, else err.
func (u *upload) failed(err error) error {
	select {
	case <-u.done:
		if u.err != nil {
			return u.err
		}
	default:
	}
	return err
}

// storeErr reports whether the store ended the upload with an error, and
// which; it does not wait.
func (u *upload) storeErr() error {
	select {
	case <-u.done:
		return u.err
	default:
		return nil
	}
}
