package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"

	"github.com/heraldreports/herald/internal/herald"
)

// List returns one page of a tenant's items of a kind, in keyset order:
// (order field, id), both ascending or both descending. Items without the
// order field are not listed. Where conditions compare a top-level field
// with a value of the same JSON type; an item whose field is missing or of
// another type never matches.
func (s *Store) List(ctx context.Context, q herald.ListQuery) (herald.Page, error) {
	if err := q.Validate(); err != nil {
		return herald.Page{}, err
	}
	if !validKind(q.Kind) {
		return herald.Page{}, herald.Errorf(herald.CodeInvalid, "query is invalid: kind: %q is not a kind", q.Kind)
	}
	order := q.OrderBy
	if order == "id" {
		order = "" // the key column, not the copy of it in the body
	}
	after, err := decodeCursor(q.Cursor, order, q.Desc)
	if err != nil {
		return herald.Page{}, err
	}
	limit := q.EffectiveLimit()
	query, args := buildList(q, order, after, limit+1)
	st, release, err := s.lists.stmt(ctx, s.read, query) //nolint:sqlclosecheck // cached; release closes an uncached one
	if err != nil {
		return herald.Page{}, translate(ctx, err, "listing %s items", q.Kind)
	}
	defer release()
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return herald.Page{}, translate(ctx, err, "listing %s items", q.Kind)
	}
	defer func() { _ = rows.Close() }()

	page := herald.Page{Items: make([]herald.Item, 0, min(limit, 64))}
	var orderValue any // of the last row scanned
	for rows.Next() {
		if len(page.Items) == limit { // the extra row: another page follows
			last := page.Items[limit-1].ID
			page.NextCursor = encodeCursor(cursor{Order: order, Desc: q.Desc, Value: orderValue, ID: last})
			break
		}
		it := herald.Item{Kind: q.Kind, TenantID: q.TenantID}
		var version int64
		var body []byte
		dest := []any{&it.ID, &version, &body}
		if order != "" {
			dest = append(dest, &orderValue)
		}
		if err := rows.Scan(dest...); err != nil {
			return herald.Page{}, translate(ctx, err, "listing %s items", q.Kind)
		}
		it.ETag, it.Body = formatETag(version), body
		page.Items = append(page.Items, it)
	}
	if err := rows.Err(); err != nil {
		return herald.Page{}, translate(ctx, err, "listing %s items", q.Kind)
	}
	return page, nil
}

// fieldExpr is the SQL for a top-level body field. name has passed
// herald.ValidField (letters and digits only), so it cannot break out of the
// string literal. The text must stay identical to the index expressions in
// migrations/0001_items.sql for SQLite to match them.
func fieldExpr(name string) string { return "json_extract(body, '$." + name + "')" }

func typeExpr(name string) string { return "json_type(body, '$." + name + "')" }

// buildList writes the SQL of one page and its arguments. Every value is a
// bound parameter; the kind (checked by validKind) and the field names
// (checked by herald.ValidField) are the only text written into the query,
// which keeps the text stable per query shape so its statement is reused.
func buildList(q herald.ListQuery, order string, after *cursor, fetch int) (string, []any) {
	var b strings.Builder
	b.Grow(256)
	args := make([]any, 0, 5+len(q.Where))
	b.WriteString("SELECT id, version, body")
	if order != "" {
		b.WriteString(", " + fieldExpr(order))
	}
	b.WriteString(" FROM items")
	if idx := pickIndex(q.Kind, order, q.Where); idx != "" {
		b.WriteString(" INDEXED BY " + idx)
	}
	// The kind is a literal so that SQLite can match the partial indexes.
	b.WriteString(" WHERE kind = '" + string(q.Kind) + "' AND tenant_id = ?")
	args = append(args, q.TenantID)
	for _, c := range q.Where {
		args = writeCond(&b, c, args)
	}
	cmp, dir := ">", "ASC"
	if q.Desc {
		cmp, dir = "<", "DESC"
	}
	if order == "" {
		if after != nil {
			b.WriteString(" AND id " + cmp + " ?")
			args = append(args, after.ID)
		}
		b.WriteString(" ORDER BY id " + dir)
	} else {
		e := fieldExpr(order)
		b.WriteString(" AND " + e + " IS NOT NULL")
		if after != nil {
			// The first term lets SQLite seek the index to the cursor; the row
			// value then skips the ties already returned.
			b.WriteString(" AND " + e + " " + cmp + "= ? AND (" + e + ", id) " + cmp + " (?, ?)")
			args = append(args, after.Value, after.Value, after.ID)
		}
		b.WriteString(" ORDER BY " + e + " " + dir + ", id " + dir)
	}
	b.WriteString(" LIMIT ?")
	args = append(args, fetch)
	return b.String(), args
}

func sqlOp(op herald.Op) string {
	switch op {
	case herald.OpGte:
		return ">="
	case herald.OpLt:
		return "<"
	default: // OpEq: Validate allows nothing else
		return "="
	}
}

// writeCond appends one condition. Values compare only with fields of the
// same JSON type (as in Cosmos DB, where comparing across types is
// undefined): without the json_type guard SQLite would order every number
// before every string and let "attempt < 'x'" match.
func writeCond(b *strings.Builder, c herald.Cond, args []any) []any {
	e, t, op := fieldExpr(c.Field), typeExpr(c.Field), sqlOp(c.Op)
	switch v := c.Value.(type) {
	case bool:
		if c.Op == herald.OpEq {
			b.WriteString(" AND " + t + " = ?")
			if v {
				return append(args, "true")
			}
			return append(args, "false")
		}
		b.WriteString(" AND " + e + " " + op + " ? AND " + t + " IN ('true', 'false')")
		if v {
			return append(args, 1)
		}
		return append(args, 0)
	case int64:
		b.WriteString(" AND " + e + " " + op + " ? AND " + t + " IN ('integer', 'real')")
		return append(args, v)
	default: // string: Validate allows nothing else
		b.WriteString(" AND " + e + " " + op + " ? AND " + t + " = 'text'")
		return append(args, v)
	}
}

// pickIndex names the index a list should use, or "" to let SQLite choose.
// Without statistics SQLite prefers scanning the primary key of the
// tenant's items and filtering, which reads every item of the tenant when
// the filter is rare (queued runs, the runs of one schedule). An equality
// on an indexed field bounds the work by the number of matches, so it wins;
// otherwise an index on the order field gives rows already sorted.
func pickIndex(kind herald.Kind, order string, where []herald.Cond) string {
	for _, c := range where {
		if _, ok := c.Value.(string); ok && c.Op == herald.OpEq {
			if idx := listIndex(kind, c.Field); idx != "" {
				return idx
			}
		}
	}
	if order != "" {
		return listIndex(kind, order)
	}
	return ""
}

// listIndex names the index of (kind, field) that migrations/0001_items.sql
// creates, or "". TestListIndexesExist keeps the two in step.
func listIndex(kind herald.Kind, field string) string {
	if field == "createdAt" {
		return "items_created"
	}
	switch kind {
	case herald.KindDataSource, herald.KindReport, herald.KindSchedule:
		if field == "name" {
			return "items_" + string(kind) + "_name"
		}
		if kind == herald.KindSchedule && field == "reportId" {
			return "items_schedule_report"
		}
	case herald.KindRun:
		return runIndex(field)
	case herald.KindDelivery:
		if field == "runId" {
			return "items_delivery_run"
		}
	case herald.KindAudit:
		if field == "time" {
			return "items_audit_time"
		}
	}
	return ""
}

func runIndex(field string) string {
	switch field {
	case "status":
		return "items_run_status"
	case "scheduleId":
		return "items_run_schedule"
	case "reportId":
		return "items_run_report"
	case "scheduledFor":
		return "items_run_scheduled_for"
	}
	return ""
}

// cursor is the position after the last item of a page. It carries the
// order it was made for, so that it cannot be replayed against another one.
type cursor struct {
	Order string `json:"o,omitempty"`
	Desc  bool   `json:"d,omitempty"`
	Value any    `json:"v,omitempty"` // the order field's value: string or number
	ID    string `json:"i"`
}

const maxCursorLen = 2048

func encodeCursor(c cursor) string {
	b, err := json.Marshal(c)
	if err != nil { // only strings and numbers from SQLite get here
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor parses a cursor from a list with the given order; nil for "".
func decodeCursor(s, order string, desc bool) (*cursor, error) {
	if s == "" {
		return nil, nil
	}
	bad := herald.Errorf(herald.CodeInvalid, "query is invalid: cursor: is not a cursor of this list")
	if len(s) > maxCursorLen {
		return nil, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var c cursor
	if err := dec.Decode(&c); err != nil || dec.More() || c.ID == "" || c.Order != order || c.Desc != desc {
		return nil, bad
	}
	var ok bool
	if c.Value, ok = cursorValue(c.Value, order); !ok {
		return nil, bad
	}
	return &c, nil
}

// cursorValue checks a decoded order value (none when ordering by id) and
// turns a JSON number back into the int64 or float64 SQLite compares.
func cursorValue(v any, order string) (any, bool) {
	switch v := v.(type) {
	case nil:
		return nil, order == ""
	case string:
		return v, order != ""
	case json.Number:
		if order == "" {
			return nil, false
		}
		if n, err := v.Int64(); err == nil {
			return n, true
		}
		f, err := v.Float64()
		return f, err == nil
	}
	return nil, false
}

// stmtCache keeps the prepared statement of each list query shape. Shapes
// come from validated field names, so there are few; past maxCachedLists
// new shapes are prepared for one use.
type stmtCache struct {
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	closed bool
}

const maxCachedLists = 256

// stmt returns the prepared statement of query and a func to call once
// its rows are closed, which closes the statement when it is not cached.
func (c *stmtCache) stmt(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, func(), error) {
	noop := func() {}
	c.mu.Lock()
	st := c.m[query]
	c.mu.Unlock()
	if st != nil {
		return st, noop, nil
	}
	st, err := db.PrepareContext(ctx, query) //nolint:sqlclosecheck // cached, or closed by the returned func
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	prev := c.m[query]
	keep := prev == nil && !c.closed && len(c.m) < maxCachedLists
	if keep {
		c.m[query] = st
	}
	c.mu.Unlock()
	switch {
	case keep:
		return st, noop, nil
	case prev != nil: // another caller cached the shape first
		return prev, func() { _ = st.Close() }, nil
	default: // cache full, or the store is closing
		return st, func() { _ = st.Close() }, nil
	}
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var first error
	for k, st := range c.m {
		if err := st.Close(); err != nil && first == nil {
			first = err
		}
		delete(c.m, k)
	}
	return first
}
