package datasource

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// sqliteFixture creates a SQLite file with one row of every type and one
// row of NULLs.
func sqliteFixture(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "local.db")
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`CREATE TABLE t (
		id INTEGER PRIMARY KEY, n BIGINT, r REAL, d DECIMAL(12,2), num NUMERIC, b BOOLEAN,
		day DATE, at DATETIME, ts TIMESTAMP, j JSON, blob BLOB, txt TEXT, v VARCHAR(20), untyped)`)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO t VALUES
		(1, 9007199254740993, 2.5, '1234.50', 19.99, 1, '2026-01-31', '2026-01-31 09:15:00', '2026-01-31T09:15:00Z',
		 '{"a":[1,2]}', X'00FF10', 'comma, "quote"'||char(10)||'newline', 'Zürich', 42),
		(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)
	require.NoError(t, err)
	return path
}

func TestSQLiteTypes(t *testing.T) {
	path := sqliteFixture(t)
	r := newTestRunner(t, "")
	ds := newDS(herald.DataSourceSQLite, path, time.Minute, 0)
	cols, rows := query(t, r, Request{DataSource: ds, Query: "SELECT * FROM t ORDER BY id"})
	want := map[string]ColumnType{
		"id": TypeInt, "n": TypeInt, "r": TypeFloat, "d": TypeDecimal, "num": TypeDecimal, "b": TypeBool,
		"day": TypeDate, "at": TypeDatetime, "ts": TypeDatetime, "j": TypeJSON, "blob": TypeBytes, "txt": TypeString,
		"v": TypeString, "untyped": TypeInt,
	}
	for _, c := range cols {
		assert.Equal(t, want[c.Name], c.Type, c.Name)
		assert.True(t, c.Nullable)
	}
	require.Len(t, rows, 2)
	v := rows[0]
	assert.Equal(t, int64(1), v[0])
	assert.Equal(t, int64(9007199254740993), v[1], "integers keep every digit")
	assert.Equal(t, 2.5, v[2])
	assert.Equal(t, "1234.5", v[3], "SQLite stores DECIMAL as REAL: trailing zeros are not kept")
	assert.Equal(t, "19.99", v[4])
	assert.Equal(t, true, v[5])
	assert.Equal(t, time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC), v[6])
	assert.Equal(t, time.Date(2026, 1, 31, 9, 15, 0, 0, time.UTC), v[7])
	assert.Equal(t, time.Date(2026, 1, 31, 9, 15, 0, 0, time.UTC), v[8])
	assert.Equal(t, json.RawMessage(`{"a":[1,2]}`), v[9])
	assert.Equal(t, []byte{0, 0xff, 0x10}, v[10])
	assert.Equal(t, "comma, \"quote\"\nnewline", v[11])
	assert.Equal(t, "Zürich", v[12])
	assert.Equal(t, int64(42), v[13])
	for i, x := range rows[1][1:] {
		assert.Nil(t, x, cols[i+1].Name)
	}
}

func TestSQLiteUntypedColumnsTakeTheFirstValuesType(t *testing.T) {
	r := newTestRunner(t, sharedDemo(t))
	ds := newDS(herald.DataSourceDemo, "", time.Minute, 0)
	cols, rows := query(t, r, Request{DataSource: ds, Query: `SELECT 1 AS i, 1.5 AS f, 'x' AS s, date('2026-01-02') AS d,
		'2026-01-02T03:04:05Z' AS dt, NULL AS n, X'01' AS b`})
	types := []ColumnType{}
	for _, c := range cols {
		types = append(types, c.Type)
	}
	assert.Equal(t, []ColumnType{TypeInt, TypeFloat, TypeString, TypeDate, TypeDatetime, TypeUnknown, TypeBytes}, types)
	assert.Equal(t, []any{int64(1), 1.5, "x", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), nil, []byte{1}}, rows[0])

	_, rows = query(t, r, Request{DataSource: ds, Query: "SELECT 1;  "})
	assert.Equal(t, [][]any{{int64(1)}}, rows, "a trailing semicolon is fine")

	// An empty result still describes its columns.
	cols, rows = query(t, r, Request{DataSource: ds, Query: "SELECT 1 + id AS x FROM orders WHERE 0"})
	assert.Empty(t, rows)
	assert.Equal(t, "x", cols[0].Name)
}

func TestSQLiteReadOnly(t *testing.T) {
	path := sqliteFixture(t)
	r := newTestRunner(t, sharedDemo(t))
	for _, tc := range []struct {
		ds    *herald.DataSource
		table string
	}{
		{newDS(herald.DataSourceSQLite, path, time.Minute, 0), "t"},
		{newDS(herald.DataSourceDemo, "", time.Minute, 0), "orders"},
	} {
		for _, q := range []string{
			"INSERT INTO " + tc.table + " (id) VALUES (100000)",
			"UPDATE " + tc.table + " SET id = id + 1",
			"DELETE FROM " + tc.table,
			"CREATE TABLE evil (x)",
			"CREATE TEMP TABLE evil (x)",
			"DROP TABLE " + tc.table,
			"PRAGMA query_only = 0",
			"PRAGMA query_only(0)",
			"PRAGMA writable_schema = 1",
			"ATTACH DATABASE '" + filepath.Join(t.TempDir(), "other.db") + "' AS other",
			"VACUUM INTO '" + filepath.Join(t.TempDir(), "copy.db") + "'",
			"SELECT load_extension('x')",
			"CREATE VIEW v AS SELECT 1",
		} {
			t.Run(string(tc.ds.SourceKind)+"/"+q, func(t *testing.T) {
				rows, err := r.Query(context.Background(), Request{DataSource: tc.ds, Query: q})
				if err == nil {
					collect(t, rows)
					t.Fatalf("%q ran", q)
				}
				assert.Equal(t, herald.CodeForbidden, herald.CodeOf(err), "%q: %v", q, err)
				assert.Equal(t, ReasonPermission, Classify(err))
			})
		}
	}
	ds := newDS(herald.DataSourceSQLite, path, time.Minute, 0)
	_, rows := query(t, r, Request{DataSource: ds, Query: "SELECT COUNT(*), MAX(txt) FROM t"})
	assert.Equal(t, []any{int64(2), "comma, \"quote\"\nnewline"}, rows[0], "the data is unchanged")
	_, rows = query(t, r, Request{DataSource: newDS(herald.DataSourceDemo, "", time.Minute, 0), Query: "SELECT COUNT(*) FROM orders"})
	assert.Equal(t, []any{int64(demoOrderCount)}, rows[0], "the demo data is unchanged")
	// Introspection still works.
	_, rows = query(t, r, Request{DataSource: ds, Query: "SELECT name FROM pragma_table_info('t') ORDER BY cid LIMIT 2"})
	assert.Equal(t, [][]any{{"id"}, {"n"}}, rows)
}

func TestSQLiteRowCap(t *testing.T) {
	r := newTestRunner(t, sharedDemo(t))
	const series = "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :upto) SELECT n FROM s"
	ds := newDS(herald.DataSourceDemo, "", time.Minute, 100)

	run := func(upto int64, maxRows int) (int, bool) {
		rows, err := r.Query(context.Background(), Request{DataSource: ds, Query: series, Params: map[string]any{"upto": upto}, MaxRows: maxRows})
		require.NoError(t, err)
		n := len(collect(t, rows))
		return n, rows.Truncated()
	}
	n, truncated := run(1000, 0)
	assert.Equal(t, 100, n)
	assert.True(t, truncated)
	n, truncated = run(100, 0)
	assert.Equal(t, 100, n, "exactly the cap")
	assert.False(t, truncated)
	n, truncated = run(1000, 10)
	assert.Equal(t, 10, n, "MaxRows below the data source's cap")
	assert.True(t, truncated)
	n, truncated = run(1000, 5000)
	assert.Equal(t, 100, n, "MaxRows cannot exceed the data source's cap")
	assert.True(t, truncated)

	_, err := r.Query(context.Background(), Request{DataSource: ds, Query: series, MaxRows: -1})
	assertCode(t, err, herald.CodeInvalid, ReasonQuery)
}

func TestSQLiteTimeout(t *testing.T) {
	t.Parallel()
	r := newTestRunner(t, sharedDemo(t))
	ds := newDS(herald.DataSourceDemo, "", time.Second, 0)
	start := time.Now()
	rows, err := r.Query(context.Background(), Request{DataSource: ds,
		Query: "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 1000000000) SELECT COUNT(*) FROM s"})
	if err == nil {
		for rows.Next() { //nolint:revive // drain
		}
		err = rows.Err()
		rows.Close()
	}
	assertCode(t, err, herald.CodeUnavailable, ReasonTimeout)
	assert.Contains(t, err.Error(), "query timed out after 1s")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestSQLiteCallerCancel(t *testing.T) {
	t.Parallel()
	r := newTestRunner(t, sharedDemo(t))
	ds := newDS(herald.DataSourceDemo, "", time.Minute, 0)
	require.NoError(t, r.TestConnection(context.Background(), ds)) // builds the dataset
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	rows, err := r.Query(ctx, Request{DataSource: ds,
		Query: "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 1000000000) SELECT COUNT(*) FROM s"})
	if err == nil {
		for rows.Next() { //nolint:revive // drain
		}
		err = rows.Err()
		rows.Close()
	}
	assertCode(t, err, herald.CodeUnavailable, ReasonCanceled)
}

func TestSQLiteEarlyCloseIsCheap(t *testing.T) {
	r := newTestRunner(t, sharedDemo(t))
	ds := newDS(herald.DataSourceDemo, "", time.Minute, 0)
	rows, err := r.Query(context.Background(), Request{DataSource: ds,
		Query: "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 100000000) SELECT n FROM s"})
	require.NoError(t, err)
	require.True(t, rows.Next())
	start := time.Now()
	require.NoError(t, rows.Close())
	require.NoError(t, rows.Close(), "Close twice is fine")
	assert.Less(t, time.Since(start), time.Second)
	assert.False(t, rows.Next())
	// The pool is still usable.
	_, out := query(t, r, Request{DataSource: ds, Query: "SELECT 1"})
	assert.Equal(t, [][]any{{int64(1)}}, out)
}

func TestSQLiteErrors(t *testing.T) {
	path := sqliteFixture(t)
	r := newTestRunner(t, "")
	ds := newDS(herald.DataSourceSQLite, path, time.Minute, 0)

	_, err := r.Query(context.Background(), Request{DataSource: ds, Query: "SELEC 1"})
	assertCode(t, err, herald.CodeInvalid, ReasonQuery)
	assert.Contains(t, err.Error(), "syntax error")

	_, err = r.Query(context.Background(), Request{DataSource: ds, Query: "SELECT nope FROM t"})
	assertCode(t, err, herald.CodeInvalid, ReasonQuery)
	assert.Contains(t, err.Error(), "no such column")

	_, err = r.Query(context.Background(), Request{DataSource: ds, Query: "SELECT * FROM t WHERE id = :id"})
	assertCode(t, err, herald.CodeInvalid, ReasonQuery)
	assert.Contains(t, err.Error(), ":id")

	_, err = r.Query(context.Background(), Request{DataSource: ds, Query: "   "})
	assertCode(t, err, herald.CodeInvalid, ReasonQuery)

	missing := filepath.Join(t.TempDir(), "secret-name.db")
	_, err = r.Query(context.Background(), Request{DataSource: newDS(herald.DataSourceSQLite, missing, time.Minute, 0), Query: "SELECT 1"})
	assertCode(t, err, herald.CodeUnavailable, ReasonConnection)
	assert.NotContains(t, err.Error(), "secret-name", "the DSN (here a path) never shows")

	err = r.TestConnection(context.Background(), newDS(herald.DataSourceSQLite, t.TempDir(), time.Minute, 0))
	assertCode(t, err, herald.CodeUnavailable, ReasonConnection)
}

func TestSQLiteNeedsAllowLocalPaths(t *testing.T) {
	path := sqliteFixture(t)
	r := NewRunner(Config{Unsealer: testBox})
	defer r.Close()
	_, err := r.Query(context.Background(), Request{DataSource: newDS(herald.DataSourceSQLite, path, time.Minute, 0), Query: "SELECT 1"})
	assert.Equal(t, herald.CodeForbidden, herald.CodeOf(err))

	// The demo kind needs a configured path.
	_, err = r.Query(context.Background(), Request{DataSource: newDS(herald.DataSourceDemo, "", time.Minute, 0), Query: "SELECT 1"})
	assert.Equal(t, herald.CodeInternal, herald.CodeOf(err))
}

func TestUnsealUsesAssociatedData(t *testing.T) {
	path := sqliteFixture(t)
	r := newTestRunner(t, "")
	ds := newDS(herald.DataSourceSQLite, path, time.Minute, 0)
	require.NoError(t, r.TestConnection(context.Background(), ds))

	moved := *ds
	moved.ID = "ds_other" // a sealed DSN copied to another record does not open
	err := r.TestConnection(context.Background(), &moved)
	assert.Equal(t, herald.CodeInternal, herald.CodeOf(err))
	assert.NotContains(t, err.Error(), path)
	assert.Equal(t, "herald/datasource/t1/ds1/dsn", herald.DSNSealContext("t1", "ds1"))
}

func TestPoolsPerDataSource(t *testing.T) {
	path, other := sqliteFixture(t), sqliteFixture(t)
	r := newTestRunner(t, sharedDemo(t))
	a := newDS(herald.DataSourceSQLite, path, time.Minute, 0)
	b := newDS(herald.DataSourceSQLite, path, time.Minute, 0)
	require.NoError(t, r.TestConnection(context.Background(), a))
	require.NoError(t, r.TestConnection(context.Background(), b))
	require.NoError(t, r.TestConnection(context.Background(), a))
	r.mu.Lock()
	assert.Len(t, r.pools, 2, "one pool per data source, even with the same DSN")
	poolA := r.pools[a.TenantID+"/"+a.ID]
	r.mu.Unlock()

	// A changed DSN gets a new pool.
	a.SealedDSN = sealDSN(a.TenantID, a.ID, other)
	require.NoError(t, r.TestConnection(context.Background(), a))
	r.mu.Lock()
	assert.NotSame(t, poolA, r.pools[a.TenantID+"/"+a.ID])
	assert.Len(t, r.pools, 2)
	r.mu.Unlock()

	require.NoError(t, r.Close())
	err := r.TestConnection(context.Background(), a)
	assert.Equal(t, herald.CodeUnavailable, herald.CodeOf(err))
}

func TestDemoTestConnection(t *testing.T) {
	r := newTestRunner(t, sharedDemo(t))
	require.NoError(t, r.TestConnection(context.Background(), newDS(herald.DataSourceDemo, "", time.Minute, 0)))
}

func TestConcurrentQueries(t *testing.T) {
	r := newTestRunner(t, sharedDemo(t))
	ds := newDS(herald.DataSourceDemo, "", time.Minute, 0)
	errs := make(chan error, 16)
	for i := range 16 {
		go func() {
			rows, err := r.Query(context.Background(), Request{DataSource: ds, Query: "SELECT region, COUNT(*) FROM orders WHERE id > :i GROUP BY region",
				Params: map[string]any{"i": int64(i)}})
			if err != nil {
				errs <- err
				return
			}
			for rows.Next() { //nolint:revive // drain
			}
			if err := rows.Err(); err != nil {
				errs <- err
				rows.Close()
				return
			}
			errs <- rows.Close()
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
