package fileblob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/heraldreports/herald/internal/herald"
)

// translate turns a file system error into a herald error with a safe
// message built from format and args; err stays in the chain for logs.
func translate(ctx context.Context, err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if ctxErr := ctx.Err(); ctxErr != nil {
		if !errors.Is(err, ctxErr) {
			err = errors.Join(ctxErr, err)
		}
		return herald.Wrap(err, herald.CodeUnavailable, "%s: the request was canceled or timed out", what)
	}
	var he *herald.Error
	switch {
	case errors.As(err, &he):
		return err
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return herald.Wrap(err, herald.CodeNotFound, "%s: no such blob", what)
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), errors.Is(err, syscall.EMFILE),
		errors.Is(err, syscall.ENFILE), errors.Is(err, syscall.EIO), errors.Is(err, syscall.EROFS):
		return herald.Wrap(err, herald.CodeUnavailable, "%s: the blob directory cannot be written or read", what)
	}
	return herald.Wrap(err, herald.CodeInternal, "%s failed", what)
}

// writeErr is translate for Put: a missing file or folder there is a
// failure of the store, not a missing blob.
func writeErr(ctx context.Context, err error, p string) error {
	err = translate(ctx, err, "storing blob %s", p)
	if herald.Is(err, herald.CodeNotFound) {
		return herald.Wrap(err, herald.CodeInternal, "storing blob %s failed", p)
	}
	return err
}

// isNotDir reports whether err says a path component is not a directory.
func isNotDir(err error) bool { return errors.Is(err, syscall.ENOTDIR) }
