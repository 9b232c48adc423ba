package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/storetest"
)

var _ storetest.Store = (*Store)(nil)

func newTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "herald.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return newTestStore(t) })
}

func reportItem(t testing.TB, tenantID string, n int) herald.Item {
	t.Helper()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute)
	r := &herald.Report{
		Meta: herald.Meta{ID: herald.DerivedID(herald.PrefixReport, now, tenantID, fmt.Sprint(n)), TenantID: tenantID,
			CreatedAt: herald.At(now), UpdatedAt: herald.At(now), CreatedBy: "ana@example.com"},
		Name:         fmt.Sprintf("Report %04d", n),
		DataSourceID: herald.DerivedID(herald.PrefixDataSource, now, tenantID),
		Query:        "SELECT region, sum(amount) AS total FROM sales WHERE day >= :from GROUP BY region ORDER BY total DESC",
		Parameters:   []herald.Parameter{{Name: "from", Type: herald.ParamDate, Default: json.RawMessage(`"start_of_month"`)}},
		Layout:       herald.Layout{Title: "Sales", Columns: []herald.Column{{Field: "region"}, {Field: "total", Format: herald.ColumnCurrency, Currency: "EUR"}}},
	}
	r.Normalize()
	body, err := json.Marshal(r)
	require.NoError(t, err)
	return herald.Item{Kind: herald.KindReport, TenantID: tenantID, ID: r.ID, Body: body}
}

func TestReopenKeepsDataAndAppliesMigrationsOnce(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "nested", "dirs", "herald.db")
	s, err := Open(ctx, path)
	require.NoError(t, err)
	it := reportItem(t, "acme", 1)
	_, err = s.Create(ctx, it)
	require.NoError(t, err)
	it.Body = json.RawMessage(strings.Replace(string(it.Body), "Report 0001", "Renamed", 1))
	it.ETag, err = s.Replace(ctx, it)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close twice")

	ms, err := loadMigrations(migrationFiles, "migrations")
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	for range 2 {
		s, err = Open(ctx, path)
		require.NoError(t, err)
		got, err := s.Get(ctx, it.Kind, it.TenantID, it.ID)
		require.NoError(t, err)
		assert.Equal(t, it.ETag, got.ETag)
		assert.JSONEq(t, string(it.Body), string(got.Body))

		var n, maxVersion int
		require.NoError(t, s.read.QueryRowContext(ctx, `SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &maxVersion))
		assert.Equal(t, len(ms), n, "each migration recorded once")
		assert.Equal(t, ms[len(ms)-1].version, maxVersion)
		require.NoError(t, migrate(ctx, s.write, ms), "migrating an up-to-date file is a no-op")
		require.NoError(t, s.Close())
	}
}

func TestMigrateAppliesOnlyNewVersions(t *testing.T) {
	ctx := t.Context()
	v1 := fstest.MapFS{
		"m/0001_jobs.sql": {Data: []byte(`CREATE TABLE jobs (id TEXT PRIMARY KEY); INSERT INTO jobs VALUES ('a');`)},
	}
	v2 := fstest.MapFS{
		"m/0001_jobs.sql":       v1["m/0001_jobs.sql"],
		"m/0002_jobs_state.sql": {Data: []byte(`ALTER TABLE jobs ADD COLUMN state TEXT NOT NULL DEFAULT 'ready';`)},
	}
	db, err := sql.Open("sqlite", dsn(filepath.Join(t.TempDir(), "m.db"), time.Second, false))
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })

	m1, err := loadMigrations(v1, "m")
	require.NoError(t, err)
	m2, err := loadMigrations(v2, "m")
	require.NoError(t, err)
	require.NoError(t, migrate(ctx, db, m1))
	require.NoError(t, migrate(ctx, db, m2), "0001 must not run again (CREATE TABLE would fail)")
	require.NoError(t, migrate(ctx, db, m2))
	var rows int
	var state string
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*), max(state) FROM jobs`).Scan(&rows, &state))
	assert.Equal(t, 1, rows)
	assert.Equal(t, "ready", state)

	err = migrate(ctx, db, m1)
	assert.Error(t, err, "a build that knows fewer migrations than the file refuses it")

	bad := fstest.MapFS{"m/0001_x.sql": {Data: []byte(`CREATE TABLE x (a);`)}, "m/0001_y.sql": {Data: []byte(`SELECT 1;`)}}
	_, err = loadMigrations(bad, "m")
	assert.Error(t, err, "two files with one version")
	_, err = loadMigrations(fstest.MapFS{"m/first.sql": {Data: []byte(`SELECT 1;`)}}, "m")
	assert.Error(t, err, "a file without a version")

	failing := fstest.MapFS{"m/0001_jobs.sql": v1["m/0001_jobs.sql"], "m/0002_bad.sql": {Data: []byte(`ALTER TABLE nope ADD COLUMN x;`)}}
	m3, err := loadMigrations(failing, "m")
	require.NoError(t, err)
	db2, err := sql.Open("sqlite", dsn(filepath.Join(t.TempDir(), "m2.db"), time.Second, false))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db2.Close() })
	require.Error(t, migrate(ctx, db2, m3))
	var versions int
	require.NoError(t, db2.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&versions))
	assert.Equal(t, 1, versions, "the failed migration is rolled back and not recorded")
}

func TestPragmasOnEveryConnection(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	check := func(db *sql.DB, name string) {
		t.Helper()
		// Hold several connections at once so that the pool opens new ones.
		var conns []*sql.Conn
		for range 3 {
			c, err := db.Conn(ctx)
			require.NoError(t, err)
			conns = append(conns, c)
			if db == s.write {
				break
			}
		}
		for _, c := range conns {
			var mode string
			var syncMode, busy int
			require.NoError(t, c.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode))
			require.NoError(t, c.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&syncMode))
			require.NoError(t, c.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy))
			assert.Equal(t, "wal", mode, name)
			assert.Equal(t, 1, syncMode, "%s: synchronous=NORMAL", name)
			assert.Equal(t, 5000, busy, name)
			require.NoError(t, c.Close())
		}
	}
	check(s.read, "reader")
	check(s.write, "writer")

	_, err := s.read.ExecContext(ctx, `DELETE FROM items`)
	assert.Error(t, err, "read connections are query-only")
}

func TestOpenPathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?with#odd%chars&x=1")
	s, err := Open(t.Context(), filepath.Join(dir, "herald.db"))
	require.NoError(t, err)
	require.NoError(t, s.Ping(t.Context()))
	require.NoError(t, s.Close())
	assert.FileExists(t, filepath.Join(dir, "herald.db"))
}

func TestClosedStoreFails(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "herald.db"))
	require.NoError(t, err)
	require.NoError(t, s.Close())
	assert.Error(t, s.Ping(t.Context()))
	_, err = s.Get(t.Context(), herald.KindReport, "acme", "rpt_x")
	assert.Error(t, err)
	_, err = s.List(t.Context(), herald.ListQuery{Kind: herald.KindReport, TenantID: "acme"})
	assert.Error(t, err)
}

func TestBusyDatabaseIsUnavailable(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "herald.db")
	o := defaultOptions()
	o.busyTimeout = 50 * time.Millisecond
	s, err := open(ctx, path, o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })

	// Another process holds the write lock.
	other, err := sql.Open("sqlite", dsn(path, 0, false))
	require.NoError(t, err)
	t.Cleanup(func() { _ = other.Close() })
	tx, err := other.BeginTx(ctx, nil) // BEGIN IMMEDIATE: takes the write lock now
	require.NoError(t, err)

	_, err = s.Create(ctx, reportItem(t, "acme", 1))
	require.Error(t, err)
	assert.Equal(t, herald.CodeUnavailable, herald.CodeOf(err), "%v", err)

	require.NoError(t, tx.Rollback())
	_, err = s.Create(ctx, reportItem(t, "acme", 1))
	require.NoError(t, err, "works again once the lock is released")
}

func TestErrorsAreTranslatedWithSafeMessages(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	it := reportItem(t, "acme", 1)
	_, err := s.Create(ctx, it)
	require.NoError(t, err)

	_, err = s.Create(ctx, it)
	var he *herald.Error
	require.ErrorAs(t, err, &he)
	assert.Equal(t, herald.CodeConflict, he.Code)
	assert.Equal(t, "report "+it.ID+" already exists", he.Message)

	_, err = s.Get(ctx, herald.KindReport, "acme", "rpt_missing")
	require.ErrorAs(t, err, &he)
	assert.Equal(t, "report rpt_missing not found", he.Message)

	big := it
	big.ID = "rpt_big"
	big.Body = json.RawMessage(`{"query": "` + strings.Repeat("x", maxBodyBytes) + `"}`)
	_, err = s.Create(ctx, big)
	assert.Equal(t, herald.CodeTooLarge, herald.CodeOf(err))

	// A driver error keeps its cause for logs but shows only the safe message.
	ctxTimeout, cancel := context.WithTimeout(ctx, time.Nanosecond)
	defer cancel()
	<-ctxTimeout.Done()
	_, err = s.Get(ctxTimeout, herald.KindReport, "acme", it.ID)
	require.ErrorAs(t, err, &he)
	assert.Equal(t, herald.CodeUnavailable, he.Code)
	assert.True(t, errors.Is(err, context.DeadlineExceeded))
	assert.NotContains(t, he.Message, "SELECT")
}

func TestListOrderedByNumberField(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	for i := range 9 {
		body := fmt.Sprintf(`{"id": "run_%02d", "tenantId": "acme", "attempt": %d, "rows": %d.5}`, i, i%3, i)
		_, err := s.Create(ctx, herald.Item{Kind: herald.KindRun, TenantID: "acme", ID: fmt.Sprintf("run_%02d", i), Body: json.RawMessage(body)})
		require.NoError(t, err)
	}
	for _, field := range []string{"attempt", "rows"} {
		q := herald.ListQuery{Kind: herald.KindRun, TenantID: "acme", OrderBy: field, Limit: 2}
		var got []string
		for {
			page, err := s.List(ctx, q)
			require.NoError(t, err)
			got = append(got, itemIDs(page.Items)...)
			if page.NextCursor == "" {
				break
			}
			q.Cursor = page.NextCursor
		}
		want := []string{"run_00", "run_03", "run_06", "run_01", "run_04", "run_07", "run_02", "run_05", "run_08"}
		if field == "rows" {
			want = []string{"run_00", "run_01", "run_02", "run_03", "run_04", "run_05", "run_06", "run_07", "run_08"}
		}
		assert.Equal(t, want, got, field)
	}
}

func itemIDs(items []herald.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

// queryPlan returns the EXPLAIN QUERY PLAN lines of query.
func queryPlan(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	require.NoError(t, err)
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		lines = append(lines, detail)
	}
	require.NoError(t, rows.Err())
	return strings.Join(lines, "\n")
}

func TestQueryPlans(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	// A few tenants with reports and runs so the planner has something to weigh.
	for tenant := range 5 {
		tenantID := fmt.Sprintf("tenant-%d", tenant)
		for i := range 40 {
			_, err := s.Create(ctx, reportItem(t, tenantID, i))
			require.NoError(t, err)
			run := fmt.Sprintf(`{"id": "run_%03d", "tenantId": %q, "status": %q, "scheduleId": "sch_%d", "scheduledFor": "2026-03-02T09:%02d:00.000Z", "createdAt": "2026-03-02T09:00:00.000Z"}`,
				i, tenantID, []string{"queued", "succeeded"}[i%2], i%4, i)
			_, err = s.Create(ctx, herald.Item{Kind: herald.KindRun, TenantID: tenantID, ID: fmt.Sprintf("run_%03d", i), Body: json.RawMessage(run)})
			require.NoError(t, err)
		}
	}
	eq := func(f, v string) herald.Cond { return herald.Cond{Field: f, Op: herald.OpEq, Value: v} }
	cases := []struct {
		name  string
		q     herald.ListQuery
		after *cursor
		want  string // in the plan
	}{
		{"a tenant's reports by id use the primary key",
			herald.ListQuery{Kind: herald.KindReport, TenantID: "tenant-1"}, nil,
			"SEARCH items USING PRIMARY KEY (kind=? AND tenant_id=?)"},
		{"the next page seeks the primary key",
			herald.ListQuery{Kind: herald.KindReport, TenantID: "tenant-1", Desc: true}, &cursor{ID: "rpt_x", Desc: true},
			"SEARCH items USING PRIMARY KEY (kind=? AND tenant_id=? AND id<?)"},
		{"reports by name use the name index",
			herald.ListQuery{Kind: herald.KindReport, TenantID: "tenant-1", OrderBy: "name"}, nil,
			"SEARCH items USING INDEX items_report_name (tenant_id=?"},
		{"the next page by name seeks the name index",
			herald.ListQuery{Kind: herald.KindReport, TenantID: "tenant-1", OrderBy: "name"}, &cursor{Order: "name", Value: "Report 0010", ID: "rpt_x"},
			"SEARCH items USING INDEX items_report_name (tenant_id=? AND <expr>>?)"},
		{"reports by createdAt use the createdAt index",
			herald.ListQuery{Kind: herald.KindReport, TenantID: "tenant-1", OrderBy: "createdAt", Desc: true}, nil,
			"SEARCH items USING INDEX items_created (kind=? AND tenant_id=?"},
		{"runs by status use the status index",
			herald.ListQuery{Kind: herald.KindRun, TenantID: "tenant-1", Where: []herald.Cond{eq("status", "queued")}}, nil,
			"SEARCH items USING INDEX items_run_status (tenant_id=? AND <expr>=?)"},
		{"runs of a schedule use the schedule index",
			herald.ListQuery{Kind: herald.KindRun, TenantID: "tenant-1", Where: []herald.Cond{eq("scheduleId", "sch_1")}, Desc: true}, nil,
			"SEARCH items USING INDEX items_run_schedule (tenant_id=? AND <expr>=?)"},
		{"runs in a time range use the scheduledFor index",
			herald.ListQuery{Kind: herald.KindRun, TenantID: "tenant-1", OrderBy: "scheduledFor", Where: []herald.Cond{
				{Field: "scheduledFor", Op: herald.OpGte, Value: "2026-03-02T09:10:00.000Z"},
				{Field: "scheduledFor", Op: herald.OpLt, Value: "2026-03-02T09:20:00.000Z"}}}, nil,
			"SEARCH items USING INDEX items_run_scheduled_for (tenant_id=? AND <expr>>? AND <expr><?)"},
		{"audit by time uses the audit index",
			herald.ListQuery{Kind: herald.KindAudit, TenantID: "tenant-1", OrderBy: "time", Desc: true}, nil,
			"SEARCH items USING INDEX items_audit_time (tenant_id=?"},
	}
	for _, analyzed := range []bool{false, true} {
		if analyzed {
			_, err := s.write.ExecContext(ctx, `ANALYZE`)
			require.NoError(t, err)
		}
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s (analyzed %v)", tc.name, analyzed), func(t *testing.T) {
				query, args := buildList(tc.q, tc.q.OrderBy, tc.after, tc.q.EffectiveLimit()+1)
				plan := queryPlan(t, s.read, query, args...)
				assert.Contains(t, plan, tc.want)
				assert.NotContains(t, plan, "SCAN items", "no full scan")
				if tc.q.Where == nil || tc.q.OrderBy != "" {
					assert.NotContains(t, plan, "TEMP B-TREE", "rows come sorted from the index")
				}
			})
		}
		for _, kind := range herald.DueKinds() {
			t.Run(fmt.Sprintf("due %s records use the partial index (analyzed %v)", kind, analyzed), func(t *testing.T) {
				plan := queryPlan(t, s.read, dueSQL(kind), "2026-03-02T09:00:00.000Z", 100)
				assert.Contains(t, plan, "SEARCH items USING INDEX items_due_"+string(kind)+" (<expr><?)")
				assert.NotContains(t, plan, "TEMP B-TREE")
			})
		}
	}
}

// TestListIndexesExist keeps listIndex and the migrations in step: every
// index listIndex names exists, and every list index is reachable.
func TestListIndexesExist(t *testing.T) {
	s := newTestStore(t)
	rows, err := s.read.QueryContext(t.Context(), `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items' AND sql IS NOT NULL`)
	require.NoError(t, err)
	defer rows.Close()
	existing := map[string]bool{}
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		existing[name] = true
	}
	require.NoError(t, rows.Err())

	named := map[string]bool{"items_due_schedule": true, "items_due_run": true}
	fields := []string{"id", "name", "createdAt", "status", "scheduleId", "reportId", "scheduledFor", "runId", "time", "enabled"}
	for _, kind := range herald.Kinds() {
		for _, f := range fields {
			if idx := listIndex(kind, f); idx != "" {
				assert.True(t, existing[idx], "listIndex(%s, %s) = %s, which the migrations do not create", kind, f, idx)
				named[idx] = true
			}
		}
	}
	for idx := range existing {
		assert.True(t, named[idx], "index %s is created but no query names it", idx)
	}
}

func TestDecodeCursor(t *testing.T) {
	c := encodeCursor(cursor{Order: "name", Value: "Weekly", ID: "rpt_1"})
	got, err := decodeCursor(c, "name", false)
	require.NoError(t, err)
	assert.Equal(t, &cursor{Order: "name", Value: "Weekly", ID: "rpt_1"}, got)

	got, err = decodeCursor(encodeCursor(cursor{Order: "rows", Value: int64(1) << 60, ID: "run_1"}), "rows", false)
	require.NoError(t, err)
	assert.Equal(t, int64(1)<<60, got.Value, "large integers survive")

	for _, bad := range []struct {
		cursor, order string
	}{
		{encodeCursor(cursor{Order: "name", ID: "rpt_1"}), "name"},              // no value
		{encodeCursor(cursor{Value: "x", ID: "rpt_1"}), ""},                     // a value with id order
		{encodeCursor(cursor{Order: "name", Value: "x"}), "name"},               // no id
		{encodeCursor(cursor{Order: "name", Value: true, ID: "rpt_1"}), "name"}, // not a string or number
		{encodeCursor(cursor{Order: "name", Value: "x", ID: "rpt_1"}), "createdAt"},
		{strings.Repeat("A", maxCursorLen+1), "name"},
	} {
		_, err := decodeCursor(bad.cursor, bad.order, false)
		assert.Equal(t, herald.CodeInvalid, herald.CodeOf(err), "cursor %q", bad.cursor)
	}
}

func TestListStatementCache(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	_, err := s.Create(ctx, reportItem(t, "acme", 1))
	require.NoError(t, err)
	list := func(orderBy string) {
		t.Helper()
		page, err := s.List(ctx, herald.ListQuery{Kind: herald.KindReport, TenantID: "acme", OrderBy: orderBy})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
	}
	list("name")
	list("name")
	assert.Len(t, s.lists.m, 1, "one statement per query shape")

	// Once the cache is full, new shapes still work, prepared for one use.
	for i := len(s.lists.m); i < maxCachedLists; i++ {
		st, err := s.read.PrepareContext(ctx, fmt.Sprintf("SELECT %d", i)) //nolint:sqlclosecheck // the cache closes it
		require.NoError(t, err)
		s.lists.m[fmt.Sprintf("filler %d", i)] = st
	}
	list("createdAt")
	list("")
	assert.Len(t, s.lists.m, maxCachedLists)
}

func TestOpenFailureReleasesWhatItOpened(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "herald.db")
	require.NoError(t, os.WriteFile(path, []byte("this is not a database file, but it is long enough to be read as one"), 0o600))
	_, err := Open(context.Background(), path)
	require.Error(t, err, "a corrupt file fails to open, without a panic")
}
