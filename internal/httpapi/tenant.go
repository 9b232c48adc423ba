package httpapi

import (
	"fmt"
	"net/http"

	"github.com/heraldreports/herald/internal/herald"
)

type meView struct {
	Tenant  tenantRef     `json:"tenant"`
	Subject string        `json:"subject"`
	Name    string        `json:"name,omitempty"`
	Roles   []herald.Role `json:"roles"`
	Role    herald.Role   `json:"role"`
}

type tenantRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// me serves GET /me: who the token says the caller is.
func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	ref := tenantRef{ID: p.TenantID, Name: p.TenantID}
	t, err := herald.GetRecord[herald.Tenant](r.Context(), s.store, p.TenantID, p.TenantID)
	switch {
	case err == nil:
		ref.Name = t.Name
	case !herald.Is(err, herald.CodeNotFound):
		writeError(w, r, err)
		return
	}
	roles := p.Roles
	if roles == nil {
		roles = []herald.Role{}
	}
	writeJSON(w, http.StatusOK, meView{Tenant: ref, Subject: p.Subject, Name: p.Name, Roles: roles, Role: p.Role()})
}

type tenantView struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	DefaultTimezone string         `json:"defaultTimezone,omitempty"`
	RetentionDays   int            `json:"retentionDays"`
	UpdatedAt       herald.Instant `json:"updatedAt,omitzero"`
}

type tenantInput struct {
	Name            string `json:"name"`
	DefaultTimezone string `json:"defaultTimezone"`
	RetentionDays   int    `json:"retentionDays"`
}

// loadTenant reads the caller's tenant settings; a tenant that has none yet
// gets the defaults (version "").
func (s *Server) loadTenant(r *http.Request, tenantID string) (*herald.Tenant, error) {
	t, err := herald.GetRecord[herald.Tenant](r.Context(), s.store, tenantID, tenantID)
	if herald.Is(err, herald.CodeNotFound) {
		t = &herald.Tenant{Meta: herald.Meta{ID: tenantID, TenantID: tenantID}, Name: tenantID}
		t.Normalize()
		return t, nil
	}
	return t, err
}

func viewTenant(t *herald.Tenant) tenantView {
	return tenantView{ID: t.ID, Name: t.Name, DefaultTimezone: t.DefaultTimezone, RetentionDays: t.RetentionDays, UpdatedAt: t.UpdatedAt}
}

// getTenant serves GET /tenant: the caller's tenant settings.
func (s *Server) getTenant(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	t, err := s.loadTenant(r, p.TenantID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.respond(w, r, http.StatusOK, t.Version(), viewTenant(t))
}

// putTenant serves PUT /tenant (admin): name, default zone, artifact retention.
func (s *Server) putTenant(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	want, err := ifMatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var in tenantInput
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	cur, err := s.loadTenant(r, p.TenantID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if want != "" && want != cur.Version() {
		writeError(w, r, herald.Errorf(herald.CodePreconditionFailed, "tenant settings were changed since you read them: read them again and retry"))
		return
	}
	next := *cur
	next.Name, next.DefaultTimezone, next.RetentionDays = in.Name, in.DefaultTimezone, in.RetentionDays
	next.Normalize()
	if err := next.Validate(); err != nil {
		writeError(w, r, err)
		return
	}
	next.Touch(p.Subject, herald.At(s.now()))
	if cur.Version() == "" {
		err = herald.CreateRecord(r.Context(), s.store, &next)
		if herald.Is(err, herald.CodeConflict) {
			err = herald.Errorf(herald.CodePreconditionFailed, "tenant settings were created by someone else meanwhile: read them again and retry")
		}
	} else {
		err = herald.ReplaceRecord(r.Context(), s.store, &next)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	if changes := diff(cur, &next); len(changes) > 0 {
		s.audit(r, p, "tenant.update", &next, fmt.Sprintf("updated tenant settings (%s)", changedFields(changes)), changes)
	}
	s.respond(w, r, http.StatusOK, next.Version(), viewTenant(&next))
}
