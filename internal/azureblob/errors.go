package azureblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/heraldreports/herald/internal/herald"
)

// storageError is what the logs keep of a service error: status, error
// code and request id. The SDK's own error also holds the response body,
// which can quote signatures; it does not leave the adapter.
type storageError struct {
	Status    int
	Code      string
	RequestID string
}

func (e *storageError) Error() string {
	return fmt.Sprintf("azure storage answered %d %s (request id %s)", e.Status, e.Code, e.RequestID)
}

// translate turns an SDK error into a herald error with a safe message
// built from format and args.
func translate(ctx context.Context, err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if ctxErr := ctx.Err(); ctxErr != nil {
		cause := compact(err)
		if !errors.Is(cause, ctxErr) {
			cause = errors.Join(ctxErr, cause)
		}
		return herald.Wrap(cause, herald.CodeUnavailable, "%s: the request was canceled or timed out", what)
	}
	var he *herald.Error
	var re *azcore.ResponseError
	switch {
	case errors.As(err, &he):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return herald.Wrap(err, herald.CodeUnavailable, "%s: the request was canceled or timed out", what)
	case errors.As(err, &re):
		return fromResponse(re, what)
	case isNetwork(err):
		return herald.Wrap(err, herald.CodeUnavailable, "%s: Azure Storage cannot be reached", what)
	}
	return herald.Wrap(err, herald.CodeInternal, "%s failed", what)
}

// compact replaces a service error by its storageError.
func compact(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return summarize(re)
	}
	return err
}

func summarize(re *azcore.ResponseError) *storageError {
	se := &storageError{Status: re.StatusCode, Code: re.ErrorCode}
	if re.RawResponse != nil {
		se.RequestID = re.RawResponse.Header.Get("x-ms-request-id")
	}
	return se
}

// fromResponse classifies a service error.
func fromResponse(re *azcore.ResponseError, what string) error {
	cause := summarize(re)
	switch bloberror.Code(re.ErrorCode) {
	case bloberror.BlobNotFound:
		return herald.Wrap(cause, herald.CodeNotFound, "%s: no such blob", what)
	case bloberror.ContainerNotFound:
		return herald.Wrap(cause, herald.CodeInternal, "%s: the container is missing", what)
	case bloberror.InvalidBlockList, bloberror.BlockListTooLong:
		return herald.Wrap(cause, herald.CodeConflict, "%s: another write to the same blob committed first; retry", what)
	}
	switch re.StatusCode {
	case http.StatusNotFound:
		return herald.Wrap(cause, herald.CodeNotFound, "%s: not found", what)
	case http.StatusConflict:
		return herald.Wrap(cause, herald.CodeConflict, "%s: conflict", what)
	case http.StatusPreconditionFailed:
		return herald.Wrap(cause, herald.CodePreconditionFailed, "%s: the blob changed", what)
	case http.StatusRequestEntityTooLarge:
		return herald.Wrap(cause, herald.CodeTooLarge, "%s: too large", what)
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return herald.Wrap(cause, herald.CodeUnavailable, "%s: Azure Storage is unavailable; retry", what)
	case http.StatusUnauthorized, http.StatusForbidden:
		return herald.Wrap(cause, herald.CodeInternal, "%s: Azure Storage refused the credentials or their role", what)
	}
	return herald.Wrap(cause, herald.CodeInternal, "%s failed", what)
}

// isNetwork reports whether err is a transport failure worth retrying.
func isNetwork(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
