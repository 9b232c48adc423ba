// Package auth turns bearer JWTs into a herald.Principal.
//
// Two key sources are supported and may be combined:
//
//   - a local Ed25519 signing key kept in the data directory (standalone
//     mode), see LoadOrCreateLocalKey and LocalKey.Issue;
//   - an OpenID Connect / Entra ID JSON Web Key Set fetched over HTTPS,
//     cached, refreshed periodically and on an unknown key id.
//
// Validator.Validate checks the algorithm allow-list (the algorithm must also
// match the type of the key selected by "kid"), the signature, issuer,
// audience, expiry, not-before and issued-at (with leeway), the tenant id and
// the subject, and maps role claims to herald roles. Every rejection is a
// *herald.Error whose message is safe to return to the caller: it never
// contains the token or key material.
//
// The HTTP layer owns the middleware; this package only offers BearerToken to
// read the Authorization header.
package auth
