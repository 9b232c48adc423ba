package auth

import (
	"errors"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldreports/herald/internal/herald"
)

// Internal reasons returned by the key lookup; Validate maps them to safe
// messages.
var (
	errIssuer         = errors.New("issuer not accepted")
	errKIDMissing     = errors.New("kid missing while several keys are configured")
	errKIDMalformed   = errors.New("kid is not a string")
	errKIDUnknown     = errors.New("kid unknown")
	errAlgKeyMismatch = errors.New("algorithm does not match the key")
)

// jwksUnavailableError means no key set could be fetched yet.
type jwksUnavailableError struct{ cause error }

func (e *jwksUnavailableError) Error() string {
	if e.cause == nil {
		return "JWKS unavailable"
	}
	return "JWKS unavailable: " + e.cause.Error()
}

func (e *jwksUnavailableError) Unwrap() error { return e.cause }

func unauthenticated(msg string, cause error) *herald.Error {
	return &herald.Error{Code: herald.CodeUnauthenticated, Message: msg, Cause: cause}
}

// keyReason maps a key lookup failure to its safe message.
func keyReason(err error) (string, bool) {
	switch {
	case errors.Is(err, errIssuer):
		return "token issuer not accepted", true
	case errors.Is(err, errKIDMissing):
		return "token key id (kid) missing", true
	case errors.Is(err, errKIDMalformed):
		return "malformed token", true
	case errors.Is(err, errKIDUnknown):
		return "token key id unknown", true
	case errors.Is(err, errAlgKeyMismatch):
		return "token algorithm does not match its key", true
	default:
		return "", false
	}
}

// claimReason maps a jwt parse or claim failure to its safe message; the
// order is the order of importance when several checks failed.
func claimReason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token not yet valid"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token issued in the future"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "token audience not accepted"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "token issuer not accepted"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "token signature invalid"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "token algorithm not accepted"
	default:
		return "token rejected"
	}
}

// classify maps a jwt parse error to a *herald.Error with a safe message; the
// original error is kept as Cause for logs. claims and alg are what the
// parser decoded (possibly unverified) and only refine the message.
func classify(err error, claims *tokenClaims, alg string) *herald.Error {
	var unavailable *jwksUnavailableError
	if errors.As(err, &unavailable) {
		return herald.Wrap(err, herald.CodeUnavailable, "token signing keys are unavailable; try again later")
	}
	if msg, ok := keyReason(err); ok {
		return unauthenticated(msg, err)
	}
	if errors.Is(err, jwt.ErrTokenSignatureInvalid) && alg != "" && !algAllowed(alg) {
		return unauthenticated("token algorithm not accepted", err)
	}
	if errors.Is(err, jwt.ErrTokenRequiredClaimMissing) {
		return unauthenticated(missingClaimMessage(claims), err)
	}
	return unauthenticated(claimReason(err), err)
}

func missingClaimMessage(c *tokenClaims) string {
	switch {
	case c == nil:
		return "token lacks a required claim"
	case c.ExpiresAt == nil:
		return "token has no expiry (exp)"
	case len(c.Audience) == 0:
		return "token audience not accepted"
	default:
		return "token lacks a required claim"
	}
}
