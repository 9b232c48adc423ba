package auth

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldreports/herald/internal/herald"
)

// tokenClaims is the claim set of local and Entra ID tokens.
type tokenClaims struct {
	jwt.RegisteredClaims
	TenantID          string     `json:"tid,omitempty"`
	ObjectID          string     `json:"oid,omitempty"`
	Roles             roleClaims `json:"roles,omitempty"`
	Name              string     `json:"name,omitempty"`
	PreferredUsername string     `json:"preferred_username,omitempty"`
}

// roleClaims accepts a JSON array of strings or a single string.
type roleClaims []string

// UnmarshalJSON implements json.Unmarshaler.
func (r *roleClaims) UnmarshalJSON(data []byte) error {
	var one string
	if err := json.Unmarshal(data, &one); err == nil {
		*r = roleClaims{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(data, &many); err != nil {
		return errors.New("roles claim must be a string or an array of strings")
	}
	*r = many
	return nil
}

// entraRolePrefix is the app-role naming convention "Herald.Admin".
const entraRolePrefix = "herald."

// mapRole maps a role claim value to a herald role: exactly "viewer",
// "editor" or "admin", or "Herald.Viewer", "Herald.Editor", "Herald.Admin"
// in any letter case. Anything else is not a Herald role.
func mapRole(s string) (herald.Role, bool) {
	if r := herald.Role(s); r.Valid() {
		return r, true
	}
	if len(s) > len(entraRolePrefix) && strings.EqualFold(s[:len(entraRolePrefix)], entraRolePrefix) {
		if r := herald.Role(strings.ToLower(s[len(entraRolePrefix):])); r.Valid() {
			return r, true
		}
	}
	return "", false
}

// heraldRoles returns the known roles among the claim values, deduplicated,
// in the order first seen.
func (r roleClaims) heraldRoles() []herald.Role {
	var out []herald.Role
	for _, s := range r {
		if role, ok := mapRole(s); ok && !slices.Contains(out, role) {
			out = append(out, role)
		}
	}
	return out
}

// principal checks the Herald-specific claims and builds the principal.
func (c *tokenClaims) principal() (herald.Principal, error) {
	if c.TenantID == "" {
		return herald.Principal{}, unauthenticated("token has no tenant (tid)", nil)
	}
	if !herald.ValidTenantID(c.TenantID) {
		return herald.Principal{}, unauthenticated("token tenant (tid) is not a valid tenant id", nil)
	}
	subject := c.ObjectID
	if subject == "" {
		subject = c.Subject
	}
	if subject == "" {
		return herald.Principal{}, unauthenticated("token has no subject (sub or oid)", nil)
	}
	name := c.Name
	if name == "" {
		name = c.PreferredUsername
	}
	p := herald.Principal{
		TenantID: c.TenantID,
		Subject:  subject,
		Name:     name,
		Roles:    c.Roles.heraldRoles(),
	}
	if len(p.Roles) == 0 {
		return herald.Principal{}, herald.Errorf(herald.CodeForbidden, "token carries no Herald role")
	}
	return p, nil
}
