-- The due index generalises from enabled schedules to every kind that
-- carries a "dueAt" instant (schedules while enabled, runs while
-- unfinished). One partial index per kind, in (dueAt, tenant, id) order, so
-- Due reads only what is due, already sorted.
DROP INDEX IF EXISTS items_due;

CREATE INDEX items_due_schedule ON items (json_extract(body, '$.dueAt'), tenant_id, id)
    WHERE kind = 'schedule' AND json_type(body, '$.dueAt') = 'text';

CREATE INDEX items_due_run ON items (json_extract(body, '$.dueAt'), tenant_id, id)
    WHERE kind = 'run' AND json_type(body, '$.dueAt') = 'text';
