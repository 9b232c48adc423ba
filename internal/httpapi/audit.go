package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// audit records a change made by p. The change itself has already been
// stored, so a failure here is retried briefly and then logged loudly: it
// does not undo the change or fail the request.
func (s *Server) audit(r *http.Request, p herald.Principal, action string, target herald.Record, summary string, changes map[string]any) {
	if err := s.recordAudit(r, p, action, target, summary, changes); err != nil {
		_, id := target.Key()
		logFrom(r.Context()).Error("audit event not recorded", "action", action, "resourceId", id, "tenantId", p.TenantID, "err", err.Error())
	}
}

// recordAudit writes an audit event, retrying briefly. Callers that must
// not act unaudited (issuing a download link) check its error.
func (s *Server) recordAudit(r *http.Request, p herald.Principal, action string, target herald.Record, summary string, changes map[string]any) error {
	now := herald.At(s.now())
	_, id := target.Key()
	ev := &herald.AuditEvent{
		Meta:         herald.Meta{ID: herald.NewID(herald.PrefixAudit, now.Time), TenantID: p.TenantID},
		Time:         now,
		Actor:        p.Subject,
		ActorRole:    p.Role(),
		Action:       action,
		ResourceType: target.Kind(),
		ResourceID:   id,
		Summary:      summary,
		Changes:      changes,
		RequestID:    requestIDFrom(r.Context()),
	}
	ev.Touch(p.Subject, now)
	ctx := context.WithoutCancel(r.Context())
	var err error
	for attempt := range 3 {
		if err = herald.CreateRecord(ctx, s.store, ev); err == nil || herald.Is(err, herald.CodeConflict) {
			return nil
		}
		time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
	}
	return fmt.Errorf("recording audit event %s: %w", action, err)
}

func changedFields(changes map[string]any) string {
	keys := make([]string, 0, len(changes))
	for k := range changes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ", ")
}

// auditView is the API shape of an audit event.
type auditView struct {
	ID           string         `json:"id"`
	Time         herald.Instant `json:"time"`
	Actor        string         `json:"actor"`
	ActorRole    herald.Role    `json:"actorRole"`
	Action       string         `json:"action"`
	ResourceType herald.Kind    `json:"resourceType"`
	ResourceID   string         `json:"resourceId"`
	Summary      string         `json:"summary"`
	Changes      map[string]any `json:"changes,omitempty"`
	RequestID    string         `json:"requestId,omitempty"`
}

func viewAudit(e *herald.AuditEvent) any {
	return auditView{ID: e.ID, Time: e.Time, Actor: e.Actor, ActorRole: e.ActorRole, Action: e.Action,
		ResourceType: e.ResourceType, ResourceID: e.ResourceID, Summary: e.Summary, Changes: e.Changes, RequestID: e.RequestID}
}

// listAudit serves GET /audit, newest first, with filters.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	limit, cursor, err := pageParams(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	where, err := queryFilters(r, []filterSpec{
		{param: "action", field: "action"},
		{param: "resourceType", field: "resourceType", oneOf: kindNames()},
		{param: "resourceId", field: "resourceId"},
		{param: "actor", field: "actor"},
		{param: "from", field: "time", op: herald.OpGte, instant: true},
		{param: "to", field: "time", op: herald.OpLt, instant: true},
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	items, next, err := herald.ListRecords[herald.AuditEvent](r.Context(), s.store, herald.ListQuery{
		TenantID: p.TenantID, Where: where, OrderBy: "time", Desc: true, Limit: limit, Cursor: cursor,
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	views := make([]any, len(items))
	for i, e := range items {
		views[i] = viewAudit(e)
	}
	writeJSON(w, http.StatusOK, newList(views, next))
}

func kindNames() []string {
	var out []string
	for _, k := range herald.Kinds() {
		out = append(out, string(k))
	}
	return out
}

// filterSpec maps one query parameter to one list condition.
type filterSpec struct {
	param   string
	field   string
	op      herald.Op // OpEq when empty
	instant bool      // an RFC 3339 value, compared in the stored layout
	boolean bool      // true or false
	oneOf   []string  // the allowed values, when the field is an enumeration
}

// queryFilters turns query parameters into list conditions, refusing bad values.
func queryFilters(r *http.Request, specs []filterSpec) ([]herald.Cond, error) {
	var conds []herald.Cond
	var p herald.Problems
	q := r.URL.Query()
	for _, sp := range specs {
		v := q.Get(sp.param)
		if v == "" {
			continue
		}
		op := sp.op
		if op == "" {
			op = herald.OpEq
		}
		var val any = v
		switch {
		case sp.instant:
			t, err := herald.ParseInstant(v)
			if err != nil {
				p.Add(sp.param, "%s", err.Error())
				continue
			}
			val = t.String()
		case sp.boolean:
			if v != "true" && v != "false" {
				p.Add(sp.param, "must be true or false")
				continue
			}
			val = v == "true"
		case len(sp.oneOf) > 0 && !slices.Contains(sp.oneOf, v):
			p.Add(sp.param, "must be one of %s", strings.Join(sp.oneOf, ", "))
			continue
		case len(v) > 256:
			p.Add(sp.param, "is too long")
			continue
		}
		conds = append(conds, herald.Cond{Field: sp.field, Op: op, Value: val})
	}
	return conds, p.Err("query")
}
