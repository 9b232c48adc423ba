package generate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// Failure classes, the first word of a failed run's reason.
const (
	ClassTimeout    = "timeout"
	ClassQuery      = "query error"
	ClassPermission = "permission"
	ClassConnection = "connection"
	ClassStorage    = "storage"
	ClassRender     = "render"
	ClassConfig     = "configuration"
	ClassInternal   = "internal"
)

// failure is why a generation did not produce its artifacts.
type failure struct {
	class     string
	reason    string // "<class>: <safe message>"
	retryable bool
}

func newFailure(class string, retryable bool, format string, args ...any) *failure {
	return &failure{class: class, reason: class + ": " + fmt.Sprintf(format, args...), retryable: retryable}
}

// queryFailure classifies an error of the query runner. Timeouts, rejected
// queries and refused permissions fail at once (running them again gives
// the same answer); an unreachable database and unclassified errors retry.
func queryFailure(err error, ds *herald.DataSource) *failure {
	msg := herald.MessageOf(err)
	switch {
	case errors.Is(err, context.DeadlineExceeded) && strings.HasPrefix(msg, "could not connect"):
		return newFailure(ClassConnection, true, "%s", msg)
	case errors.Is(err, context.DeadlineExceeded):
		return newFailure(ClassTimeout, false, "the query ran longer than the data source's statement timeout (%s)", time.Duration(ds.StatementTimeout))
	case herald.Is(err, herald.CodeInvalid):
		return newFailure(ClassQuery, false, "%s", msg)
	case herald.Is(err, herald.CodeForbidden):
		return newFailure(ClassPermission, false, "%s", msg)
	case herald.Is(err, herald.CodeUnavailable):
		return newFailure(ClassConnection, true, "%s", msg)
	}
	return newFailure(ClassInternal, true, "%s", msg)
}

// storageFailure classifies an error of the blob store: every storage
// failure but a refused path may pass.
func storageFailure(err error, name string) *failure {
	return newFailure(ClassStorage, !herald.Is(err, herald.CodeInvalid), "storing %s failed: %s", name, herald.MessageOf(err))
}
