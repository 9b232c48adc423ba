package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/heraldreports/herald/internal/herald"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// translate turns a driver error into a herald error with a safe message
// built from format and args (which name the record, never the SQL). The
// driver error stays in the chain as the cause, for logs.
func translate(ctx context.Context, err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if ctxErr := ctx.Err(); ctxErr != nil {
		if !errors.Is(err, ctxErr) {
			err = errors.Join(ctxErr, err)
		}
		return herald.Wrap(err, herald.CodeUnavailable, "%s: the request was canceled or timed out", what)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return herald.Wrap(err, herald.CodeUnavailable, "%s: the request was canceled or timed out", what)
	}
	var he *herald.Error
	if errors.As(err, &he) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary code of an extended result code
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return herald.Wrap(err, herald.CodeUnavailable, "%s: the database is busy; retry", what)
		case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY:
			return herald.Wrap(err, herald.CodeUnavailable, "%s: the database file cannot be read or written", what)
		case sqlite3.SQLITE_CONSTRAINT:
			return herald.Wrap(err, herald.CodeConflict, "%s: it conflicts with a stored record", what)
		}
	}
	return herald.Wrap(err, herald.CodeInternal, "%s failed", what)
}
