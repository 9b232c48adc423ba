package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"

	"github.com/go-chi/chi/v5"

	"github.com/heraldreports/herald/internal/herald"
)

// record is what the generic handlers need of a stored entity.
type record[T any] interface {
	*T
	herald.Record
	Version() string
	Base() *herald.Meta
}

// resource serves list, get, create, replace and delete for one kind of
// record. The hooks supply what differs between kinds.
type resource[T any, P record[T]] struct {
	s        *Server
	noun     string // "report": used in messages and audit actions
	plural   string // "reports": the path segment
	prefix   string // id prefix
	writeMin herald.Role
	orderBy  string
	desc     bool
	// build turns the request body into the record to store under id; cur
	// is nil on create.
	build func(r *http.Request, p herald.Principal, id string, cur P) (P, error)
	// view is the API representation of a stored record.
	view func(P) any
	// filters reads list filters from the query string.
	filters func(r *http.Request) ([]herald.Cond, error)
	// beforeDelete refuses a delete that would leave dangling references.
	beforeDelete func(ctx context.Context, p herald.Principal, cur P) error
	// label names a record in audit summaries.
	label func(P) string
}

func (rs *resource[T, P]) routes(r chi.Router) {
	r.Get("/", rs.list)
	r.With(requireRole(rs.writeMin)).Post("/", rs.create)
	r.Get("/{id}", rs.get)
	r.With(requireRole(rs.writeMin)).Put("/{id}", rs.replace)
	r.With(requireRole(rs.writeMin)).Delete("/{id}", rs.remove)
}

// load reads the record named by the {id} path parameter in the caller's tenant.
func (rs *resource[T, P]) load(r *http.Request) (herald.Principal, P, error) {
	p, _ := principalFrom(r.Context())
	id := chi.URLParam(r, "id")
	if !herald.ValidID(id) {
		return p, nil, herald.Errorf(herald.CodeNotFound, "%s %q not found", rs.noun, id)
	}
	v, err := herald.GetRecord[T, P](r.Context(), rs.s.store, p.TenantID, id)
	if err != nil {
		if herald.Is(err, herald.CodeNotFound) {
			return p, nil, herald.Errorf(herald.CodeNotFound, "%s %q not found", rs.noun, id)
		}
		return p, nil, err
	}
	return p, v, nil
}

// loadForWrite loads the record a write targets and checks the client's
// If-Match against its current version.
func (rs *resource[T, P]) loadForWrite(r *http.Request) (herald.Principal, P, error) {
	want, err := ifMatch(r)
	if err != nil {
		return herald.Principal{}, nil, err
	}
	p, cur, err := rs.load(r)
	if err != nil {
		return p, nil, err
	}
	if want != "" && want != cur.Version() {
		return p, nil, herald.Errorf(herald.CodePreconditionFailed, "%s %s was changed since you read it (ETag %s): read it again and retry", rs.noun, cur.Base().ID, quoteETag(cur.Version()))
	}
	return p, cur, nil
}

// staleWrite rewords a conditional write that lost a race.
func (rs *resource[T, P]) staleWrite(err error, id string) error {
	if herald.Is(err, herald.CodePreconditionFailed) {
		return herald.Errorf(herald.CodePreconditionFailed, "%s %s was changed by someone else meanwhile: read it again and retry", rs.noun, id)
	}
	return err
}

func (rs *resource[T, P]) list(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	limit, cursor, err := pageParams(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var where []herald.Cond
	if rs.filters != nil {
		if where, err = rs.filters(r); err != nil {
			writeError(w, r, err)
			return
		}
	}
	items, next, err := herald.ListRecords[T, P](r.Context(), rs.s.store, herald.ListQuery{
		TenantID: p.TenantID, Where: where, OrderBy: rs.orderBy, Desc: rs.desc, Limit: limit, Cursor: cursor,
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	views := make([]any, len(items))
	for i, it := range items {
		views[i] = rs.view(it)
	}
	writeJSON(w, http.StatusOK, newList(views, next))
}

func (rs *resource[T, P]) get(w http.ResponseWriter, r *http.Request) {
	_, cur, err := rs.load(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	rs.s.respond(w, r, http.StatusOK, cur.Version(), rs.view(cur))
}

func (rs *resource[T, P]) create(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	now := herald.At(rs.s.now())
	id := herald.NewID(rs.prefix, now.Time)
	next, err := rs.build(r, p, id, nil)
	if err != nil {
		writeError(w, r, err)
		return
	}
	m := next.Base()
	m.ID, m.TenantID = id, p.TenantID
	m.CreatedAt = herald.Instant{}
	m.Touch(p.Subject, now)
	if err := herald.CreateRecord(r.Context(), rs.s.store, next); err != nil {
		writeError(w, r, err)
		return
	}
	rs.s.audit(r, p, rs.noun+".create", next, fmt.Sprintf("created %s %q", rs.noun, rs.label(next)), nil)
	w.Header().Set("Location", "/api/v1/"+rs.plural+"/"+m.ID)
	rs.s.respond(w, r, http.StatusCreated, next.Version(), rs.view(next))
}

func (rs *resource[T, P]) replace(w http.ResponseWriter, r *http.Request) {
	p, cur, err := rs.loadForWrite(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	next, err := rs.build(r, p, cur.Base().ID, cur)
	if err != nil {
		writeError(w, r, err)
		return
	}
	m := next.Base()
	*m = *cur.Base() // id, tenant, creation and the version the write is conditional on
	m.Touch(p.Subject, herald.At(rs.s.now()))
	changes := diff(cur, next)
	if err := herald.ReplaceRecord(r.Context(), rs.s.store, next); err != nil {
		writeError(w, r, rs.staleWrite(err, m.ID))
		return
	}
	if len(changes) > 0 {
		rs.s.audit(r, p, rs.noun+".update", next, fmt.Sprintf("updated %s %q (%s)", rs.noun, rs.label(next), changedFields(changes)), changes)
	}
	rs.s.respond(w, r, http.StatusOK, next.Version(), rs.view(next))
}

func (rs *resource[T, P]) remove(w http.ResponseWriter, r *http.Request) {
	p, cur, err := rs.loadForWrite(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if rs.beforeDelete != nil {
		if err := rs.beforeDelete(r.Context(), p, cur); err != nil {
			writeError(w, r, err)
			return
		}
	}
	if err := rs.s.store.Delete(r.Context(), cur.Kind(), p.TenantID, cur.Base().ID, cur.Version()); err != nil {
		writeError(w, r, rs.staleWrite(err, cur.Base().ID))
		return
	}
	rs.s.audit(r, p, rs.noun+".delete", cur, fmt.Sprintf("deleted %s %q", rs.noun, rs.label(cur)), nil)
	w.WriteHeader(http.StatusNoContent)
}

// respond writes a single resource with its ETag, honouring If-None-Match on reads.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, status int, version string, body any) {
	if version != "" { // a record not yet stored (default tenant settings) has no version
		w.Header().Set("ETag", quoteETag(version))
	}
	if r.Method == http.MethodGet && version != "" && notModified(r, version) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeJSON(w, status, body)
}

// secretField names the public field behind a stored secret; secrets are
// never written into audit records: a change shows as "changed".
func secretField(k string) (string, bool) {
	if k == "sealedDsn" {
		return "dsn", true
	}
	return "", false
}

func isMetaField(k string) bool {
	switch k {
	case "id", "tenantId", "createdAt", "createdBy", "updatedAt", "updatedBy":
		return true
	}
	return false
}

// diff lists the top-level fields that differ between two records, as
// {"field": {"from": old, "to": new}}; secrets appear only as changed.
func diff(before, after any) map[string]any {
	a, b := asMap(before), asMap(after)
	out := map[string]any{}
	for k := range union(a, b) {
		if isMetaField(k) || reflect.DeepEqual(a[k], b[k]) {
			continue
		}
		if name, secret := secretField(k); secret {
			out[name] = "changed"
			continue
		}
		out[k] = map[string]any{"from": a[k], "to": b[k]}
	}
	return out
}

func asMap(v any) map[string]any {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	m := map[string]any{}
	_ = json.Unmarshal(raw, &m)
	return m
}

func union(a, b map[string]any) map[string]bool {
	out := make(map[string]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}
