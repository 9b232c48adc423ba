package sqlite

import (
	"context"
	"database/sql"
	"slices"

	"github.com/heraldreports/herald/internal/herald"
)

// dueSQL repeats the WHERE clause of the kind's partial due index word for
// word, and names it, so that the lookup reads only due records, already in
// order, whatever the planner's statistics say.
func dueSQL(kind herald.Kind) string {
	return `SELECT tenant_id, id, json_extract(body, '$.dueAt')
FROM items INDEXED BY items_due_` + string(kind) + `
WHERE kind = '` + string(kind) + `'
  AND json_type(body, '$.dueAt') = 'text'
  AND json_extract(body, '$.dueAt') <= ?
ORDER BY json_extract(body, '$.dueAt'), tenant_id, id
LIMIT ?`
}

// Due returns, across all tenants, the keys of the records of kind whose
// dueAt is at or before before, earliest first (ties by tenant, then id),
// at most limit (1..herald.MaxListLimit). A record whose dueAt is not a
// timestamp is never due.
func (s *Store) Due(ctx context.Context, kind herald.Kind, before herald.Instant, limit int) ([]herald.DueKey, error) {
	var p herald.Problems
	if !slices.Contains(herald.DueKinds(), kind) {
		p.Add("kind", "has no due index")
	}
	if before.IsZero() {
		p.Add("before", "is required")
	}
	if limit < 1 || limit > herald.MaxListLimit {
		p.Add("limit", "must be between 1 and %d", herald.MaxListLimit)
	}
	if err := p.Err("due query"); err != nil {
		return nil, err
	}
	rows, err := s.stmts.due[kind].QueryContext(ctx, before.String(), limit)
	if err != nil {
		return nil, translate(ctx, err, "finding due records")
	}
	defer func() { _ = rows.Close() }()
	return scanDue(ctx, rows)
}

func scanDue(ctx context.Context, rows *sql.Rows) ([]herald.DueKey, error) {
	var out []herald.DueKey
	for rows.Next() {
		var d herald.DueKey
		var at string
		if err := rows.Scan(&d.TenantID, &d.ID, &at); err != nil {
			return nil, translate(ctx, err, "finding due records")
		}
		var err error
		if d.DueAt, err = herald.ParseInstant(at); err != nil {
			continue // not a timestamp: it could never be acted on, and must not block the others
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(ctx, err, "finding due records")
	}
	return out, nil
}
