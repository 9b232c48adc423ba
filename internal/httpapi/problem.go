package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/heraldreports/herald/internal/herald"
)

// Codes that only the HTTP layer produces, next to the domain's codes.
const (
	codeMethodNotAllowed     herald.Code = "method_not_allowed"
	codeUnsupportedMediaType herald.Code = "unsupported_media_type"
)

// statusOf is the one table that maps error codes to HTTP statuses.
func statusOf(code herald.Code) int {
	switch code {
	case herald.CodeInvalid:
		return http.StatusBadRequest
	case herald.CodeNotFound:
		return http.StatusNotFound
	case herald.CodeConflict:
		return http.StatusConflict
	case herald.CodePreconditionFailed:
		return http.StatusPreconditionFailed
	case herald.CodeUnauthenticated:
		return http.StatusUnauthorized
	case herald.CodeForbidden:
		return http.StatusForbidden
	case herald.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case herald.CodeGone:
		return http.StatusGone
	case herald.CodeUnavailable:
		return http.StatusServiceUnavailable
	case codeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case codeUnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	default:
		return http.StatusInternalServerError
	}
}

// problem is an RFC 9457 problem details document.
type problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty"`
	Instance  string              `json:"instance,omitempty"`
	Code      herald.Code         `json:"code"`
	RequestID string              `json:"requestId,omitempty"`
	Errors    []herald.FieldError `json:"errors,omitempty"`
}

// writeError answers with the problem document for err. Only the safe
// message of a *herald.Error reaches the client; the cause is logged.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var he *herald.Error
	if !errors.As(err, &he) {
		he = &herald.Error{Code: herald.CodeInternal, Message: "internal error", Cause: err}
	}
	status := statusOf(he.Code)
	msg := he.Message
	if status >= 500 {
		logFrom(r.Context()).Error("request failed", "code", he.Code, "err", err.Error())
		if he.Code == herald.CodeInternal {
			msg = "internal error; quote the request id when you report it"
		}
	} else if he.Cause != nil {
		logFrom(r.Context()).Info("request refused", "code", he.Code, "err", err.Error())
	}
	p := problem{
		Type:      "urn:herald:problem:" + string(he.Code),
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    msg,
		Instance:  r.URL.Path,
		Code:      he.Code,
		RequestID: requestIDFrom(r.Context()),
		Errors:    he.Fields,
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="herald", error="invalid_token"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// logFrom returns the request's logger (with request id) or the default one.
func logFrom(ctx interface{ Value(any) any }) *slog.Logger {
	if l, ok := ctx.Value(ctxLogger{}).(*slog.Logger); ok {
		return l
	}
	return slog.New(slog.DiscardHandler)
}
