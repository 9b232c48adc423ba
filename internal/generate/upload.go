package generate

import (
	"bufio"
	"context"
	"errors"
	"io"
	"time"

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
	pw      *io.PipeWriter
	buf     *bufio.Writer
	done    chan struct{} // closed once Put returned; info and err are set before
	stop    func() bool   // releases the context watch
	info    herald.BlobInfo
	err     error
	blocked time.Duration // time writers waited for the store to take data
}

// startUpload starts Put of path reading from a pipe. When ctx ends
// (shutdown, a lost lease, a panic unwinding the handler) the pipe is
// closed, so the store's goroutine never outlives the generation.
func startUpload(ctx context.Context, blobs BlobWriter, path, contentType string) *upload {
	pr, pw := io.Pipe()
	u := &upload{pw: pw, done: make(chan struct{})}
	u.buf = bufio.NewWriterSize(timedWriter{w: pw, d: &u.blocked}, uploadBuffer)
	u.stop = context.AfterFunc(ctx, func() { _ = pw.CloseWithError(errors.Join(errAborted, ctx.Err())) })
	go func() {
		info, err := blobs.Put(ctx, path, pr, herald.BlobPut{ContentType: contentType})
		u.info, u.err = info, err
		close(u.done) // before the pipe closes: a writer that fails next sees the store's error
		_ = pr.CloseWithError(errors.Join(errAborted, err))
	}()
	return u
}

// timedWriter adds the time spent in each Write to *d.
type timedWriter struct {
	w io.Writer
	d *time.Duration
}

func (t timedWriter) Write(p []byte) (int, error) {
	start := time.Now()
	n, err := t.w.Write(p)
	*t.d += time.Since(start)
	return n, err
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
	u.stop()
	return u.info, u.err
}

// abort discards the file. It is safe to call more than once and after finish.
func (u *upload) abort() {
	_ = u.pw.CloseWithError(errAborted)
	<-u.done
	u.stop()
}

// failed returns the store's error when the store ended the upload, else err.
func (u *upload) failed(err error) error {
	if serr := u.storeErr(); serr != nil {
		return serr
	}
	return err
}

// storeErr reports whether the store ended the upload with an error, and
// which. A write fails only after the store stopped reading, so a writer
// that saw its write fail waits for the store's answer.
func (u *upload) storeErr() error {
	select {
	case <-u.done:
		return u.err
	default:
		return nil
	}
}
