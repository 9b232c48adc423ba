-- Generic document table: one row per record, keyed like a Cosmos DB item
-- (kind, partition = tenant, id). version is the ETag; body is the record's
-- JSON text (always TEXT, never BLOB, so the json functions read it as JSON).
CREATE TABLE items (
    kind      TEXT    NOT NULL,
    tenant_id TEXT    NOT NULL,
    id        TEXT    NOT NULL,
    version   INTEGER NOT NULL,
    body      TEXT    NOT NULL,
    PRIMARY KEY (kind, tenant_id, id)
) WITHOUT ROWID;

-- The scanner's one cross-tenant read: enabled schedules by next fire time.
-- DueSchedules repeats this WHERE clause word for word so the partial index
-- applies.
CREATE INDEX items_due ON items (json_extract(body, '$.nextRunAt'), tenant_id, id)
    WHERE kind = 'schedule'
      AND json_type(body, '$.enabled') = 'true'
      AND json_type(body, '$.nextRunAt') = 'text';

-- List filters and orders. The expressions must match the ones list.go
-- builds (json_extract(body, '$.<field>')), and list.go's listIndex names
-- every index here so that queries can pin them with INDEXED BY.
CREATE INDEX items_created ON items (kind, tenant_id, json_extract(body, '$.createdAt'), id);

CREATE INDEX items_datasource_name ON items (tenant_id, json_extract(body, '$.name'), id)
    WHERE kind = 'datasource';
CREATE INDEX items_report_name ON items (tenant_id, json_extract(body, '$.name'), id)
    WHERE kind = 'report';
CREATE INDEX items_schedule_name ON items (tenant_id, json_extract(body, '$.name'), id)
    WHERE kind = 'schedule';
CREATE INDEX items_schedule_report ON items (tenant_id, json_extract(body, '$.reportId'), id)
    WHERE kind = 'schedule';

CREATE INDEX items_run_status ON items (tenant_id, json_extract(body, '$.status'), id)
    WHERE kind = 'run';
CREATE INDEX items_run_schedule ON items (tenant_id, json_extract(body, '$.scheduleId'), id)
    WHERE kind = 'run';
CREATE INDEX items_run_report ON items (tenant_id, json_extract(body, '$.reportId'), id)
    WHERE kind = 'run';
CREATE INDEX items_run_scheduled_for ON items (tenant_id, json_extract(body, '$.scheduledFor'), id)
    WHERE kind = 'run';

CREATE INDEX items_delivery_run ON items (tenant_id, json_extract(body, '$.runId'), id)
    WHERE kind = 'delivery';

CREATE INDEX items_audit_time ON items (tenant_id, json_extract(body, '$.time'), id)
    WHERE kind = 'audit';
