// Package herald is Herald's domain: entities, validation, identifiers, the
// store contract and the error vocabulary shared by every layer. It imports
// the standard library only.
package herald

import (
	"errors"
	"fmt"
	"strings"
)

// Code is a machine-readable error class. Adapters translate their own errors
// into these codes; the HTTP layer maps each code to one status in one table.
type Code string

// The error vocabulary.
const (
	CodeInvalid            Code = "invalid"             // the input breaks a rule; Fields says which
	CodeNotFound           Code = "not_found"           // absent, or belongs to another tenant
	CodeConflict           Code = "conflict"            // already exists, or state forbids the change
	CodePreconditionFailed Code = "precondition_failed" // stale version (If-Match, conditional write)
	CodeUnauthenticated    Code = "unauthenticated"     // no valid credentials
	CodeForbidden          Code = "forbidden"           // authenticated, but the role is too low
	CodeTooLarge           Code = "too_large"           // a body or value over its limit
	CodeGone               Code = "gone"                // existed, but is no longer available (expired)
	CodeUnavailable        Code = "unavailable"         // a dependency is down; retrying may help
	CodeInternal           Code = "internal"            // a bug or an unclassified failure
)

// FieldError names one offending input field and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the domain error. Message is safe to show to the caller; Cause is
// kept for logs only and never leaves the process.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	Cause   error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	b.WriteString(": ")
	b.WriteString(e.safe())
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Cause }

// safe is the message with its field problems: what may be shown.
func (e *Error) safe() string {
	var b strings.Builder
	b.WriteString(e.Message)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	return b.String()
}

// Errorf builds an Error with a formatted safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches a code and a safe message to an underlying cause.
func Wrap(cause error, code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Cause: cause}
}

// CodeOf returns the code of the first *Error in err's chain, CodeInternal
// for any other non-nil error and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// MessageOf returns the safe message of the first *Error in err's chain,
// with its field problems, or "an unexpected error occurred" for any other
// error (whose text may hold internals).
func MessageOf(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return "an unexpected error occurred"
	}
	return e.safe()
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// Problems collects field errors during validation.
type Problems struct{ fields []FieldError }

// Add records a problem with field.
func (p *Problems) Add(field, format string, args ...any) {
	p.fields = append(p.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Merge adds the field errors of err (if it is a CodeInvalid *Error) under prefix.
func (p *Problems) Merge(prefix string, err error) {
	if err == nil {
		return
	}
	var e *Error
	if errors.As(err, &e) && e.Code == CodeInvalid && len(e.Fields) > 0 {
		for _, f := range e.Fields {
			p.Add(joinField(prefix, f.Field), "%s", f.Message)
		}
		return
	}
	p.Add(prefix, "%s", err.Error())
}

// Err returns nil when nothing was added, else a CodeInvalid *Error.
func (p *Problems) Err(what string) error {
	if len(p.fields) == 0 {
		return nil
	}
	msg := fmt.Sprintf("%s is invalid", what)
	if len(p.fields) == 1 {
		msg = fmt.Sprintf("%s is invalid: %s: %s", what, p.fields[0].Field, p.fields[0].Message)
	}
	return &Error{Code: CodeInvalid, Message: msg, Fields: p.fields}
}

func joinField(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	case strings.HasPrefix(field, "["):
		return prefix + field
	default:
		return prefix + "." + field
	}
}
