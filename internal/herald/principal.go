package herald

import (
	"regexp"
	"slices"
)

// Role is a tenant-scoped permission level. Each role includes the ones below it.
type Role string

// Roles, lowest first.
const (
	RoleViewer Role = "viewer" // read everything of the tenant, download artifacts
	RoleEditor Role = "editor" // plus reports, schedules, run now
	RoleAdmin  Role = "admin"  // plus data sources, tenant settings, audit log
)

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleEditor:
		return 2
	case RoleAdmin:
		return 3
	default:
		return 0
	}
}

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// ParseRole accepts a role name; unknown names are an error.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", Errorf(CodeInvalid, "unknown role %q: use viewer, editor or admin", s)
	}
	return r, nil
}

var tenantIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidTenantID reports whether s can name a tenant: 1-64 characters of
// letters, digits, dot, underscore and hyphen, starting with a letter or digit.
func ValidTenantID(s string) bool { return tenantIDPattern.MatchString(s) }

// Principal is the authenticated caller: one subject acting in one tenant.
type Principal struct {
	TenantID string
	Subject  string
	Name     string
	Roles    []Role
}

// Role returns the highest role the principal holds ("" when none is known).
func (p Principal) Role() Role {
	var best Role
	for _, r := range p.Roles {
		if r.rank() > best.rank() {
			best = r
		}
	}
	return best
}

// Can reports whether the principal holds min or a higher role.
func (p Principal) Can(minimum Role) bool {
	return minimum.Valid() && p.Role().rank() >= minimum.rank()
}

// HasRole reports whether r was granted explicitly.
func (p Principal) HasRole(r Role) bool { return slices.Contains(p.Roles, r) }
