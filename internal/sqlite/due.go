package sqlite

import (
	"context"

	"github.com/heraldreports/herald/internal/herald"
)

// dueSQL repeats the WHERE clause of the partial index items_due word for
// word, and names it, so that the lookup reads only enabled schedules with a
// next run, already in order, whatever the planner's statistics say.
const dueSQL = `SELECT tenant_id, id, json_extract(body, '$.nextRunAt')
FROM items INDEXED BY items_due
WHERE kind = 'schedule'
  AND json_type(body, '$.enabled') = 'true'
  AND json_type(body, '$.nextRunAt') = 'text'
  AND json_extract(body, '$.nextRunAt') <= ?
ORDER BY json_extract(body, '$.nextRunAt'), tenant_id, id
LIMIT ?`

// DueSchedules returns, across all tenants, the keys of the enabled
// schedules whose nextRunAt is at or before before, earliest first (ties by
// tenant, then id), at most limit (1..herald.MaxListLimit). A schedule whose
// nextRunAt is not a timestamp is never due.
func (s *Store) DueSchedules(ctx context.Context, before herald.Instant, limit int) ([]herald.DueSchedule, error) {
	var p herald.Problems
	if before.IsZero() {
		p.Add("before", "is required")
	}
	if limit < 1 || limit > herald.MaxListLimit {
		p.Add("limit", "must be between 1 and %d", herald.MaxListLimit)
	}
	if err := p.Err("due schedule query"); err != nil {
		return nil, err
	}
	rows, err := s.stmts.due.QueryContext(ctx, before.String(), limit)
	if err != nil {
		return nil, translate(ctx, err, "finding due schedules")
	}
	defer func() { _ = rows.Close() }()
	var out []herald.DueSchedule
	for rows.Next() {
		var d herald.DueSchedule
		var next string
		if err := rows.Scan(&d.TenantID, &d.ScheduleID, &next); err != nil {
			return nil, translate(ctx, err, "finding due schedules")
		}
		if d.NextRunAt, err = herald.ParseInstant(next); err != nil {
			continue // not a timestamp: it could never be run, and must not block the others
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(ctx, err, "finding due schedules")
	}
	return out, nil
}
