package datasource

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// pgTestDSN returns a DSN for the test PostgreSQL (HERALD_TEST_POSTGRES_DSN,
// else user postgres, else root) and an admin connection for fixtures.
func pgTestDSN(t testing.TB) (string, *pgx.Conn) {
	t.Helper()
	candidates := []string{
		"postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		"postgres://root@127.0.0.1:5432/test?sslmode=disable",
	}
	if env := os.Getenv("HERALD_TEST_POSTGRES_DSN"); env != "" {
		candidates = []string{env}
	}
	var lastErr error
	for _, dsn := range candidates {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, dsn)
		cancel()
		if err == nil {
			t.Cleanup(func() { conn.Close(context.Background()) })
			return dsn, conn
		}
		lastErr = err
	}
	requireService(t, "PostgreSQL at 127.0.0.1:5432", lastErr)
	return "", nil
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// pgScratch creates a schema with a types table and drops it after the test.
func pgScratch(t *testing.T, admin *pgx.Conn) string {
	t.Helper()
	ctx := context.Background()
	schema := randomName("herald_test_")
	_, err := admin.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		assert.NoError(t, err)
	})
	_, err = admin.Exec(ctx, `CREATE TABLE `+schema+`.types (
		id int PRIMARY KEY, small smallint, big bigint, num numeric(24,6), dec numeric, price decimal(10,2),
		r real, d double precision, day date, ts timestamp, tstz timestamptz, b boolean, txt text, vc varchar(20),
		j json, jb jsonb, bin bytea, u uuid, iv interval, arr int[], nul text)`)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, `INSERT INTO `+schema+`.types VALUES
		(1, -7, 9007199254740993, 123456789012345678.123456, 0.1, 19.90,
		 0.1, 1e-300, '2026-01-31', '2026-01-31 09:15:00.123456', '2026-01-31 09:15:00+02', true,
		 E'comma, "quote"\nnewline, Łódź 東京', 'EMEA', '{"b": 1,  "a": [1, 2]}', '{"ü": "東京", "a": [1, 2]}',
		 '\x00ff10', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1 day 02:00:00', '{1,2,3}', NULL),
		(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)
	require.NoError(t, err)
	return schema
}

func TestPostgresTypes(t *testing.T) {
	dsn, admin := pgTestDSN(t)
	schema := pgScratch(t, admin)
	r := newTestRunner(t, "")
	ds := newDS(herald.DataSourcePostgres, dsn, time.Minute, 0)
	cols, rows := query(t, r, Request{DataSource: ds, Query: "SELECT * FROM " + schema + ".types ORDER BY id"})
	want := []ColumnType{TypeInt, TypeInt, TypeInt, TypeDecimal, TypeDecimal, TypeDecimal, TypeFloat, TypeFloat, TypeDate,
		TypeDatetime, TypeDatetime, TypeBool, TypeString, TypeString, TypeJSON, TypeJSON, TypeBytes, TypeString, TypeString,
		TypeString, TypeString}
	got := make([]ColumnType, len(cols))
	for i, c := range cols {
		got[i] = c.Type
	}
	assert.Equal(t, want, got)
	assert.Equal(t, "NUMERIC", cols[3].DBType)
	assert.Equal(t, "TIMESTAMPTZ", cols[10].DBType)
	require.Len(t, rows, 2)
	v := rows[0]
	assert.Equal(t, []any{int64(1), int64(-7), int64(9007199254740993)}, v[:3])
	assert.Equal(t, "123456789012345678.123456", v[3], "numeric is exact text")
	assert.Equal(t, "0.1", v[4])
	assert.Equal(t, "19.90", v[5], "numeric keeps its scale")
	assert.Equal(t, 0.1, v[6], "real arrives as its shortest decimal")
	assert.Equal(t, 1e-300, v[7])
	assert.Equal(t, time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC), v[8])
	assert.Equal(t, time.Date(2026, 1, 31, 9, 15, 0, 123456000, time.UTC), v[9])
	assert.Equal(t, time.Date(2026, 1, 31, 7, 15, 0, 0, time.UTC), v[10], "timestamptz arrives in UTC")
	assert.Equal(t, time.UTC, v[10].(time.Time).Location())
	assert.Equal(t, true, v[11])
	assert.Equal(t, "comma, \"quote\"\nnewline, Łódź 東京", v[12])
	assert.Equal(t, "EMEA", v[13])
	assert.Equal(t, json.RawMessage(`{"b": 1,  "a": [1, 2]}`), v[14], "json is kept as written")
	assert.JSONEq(t, `{"ü": "東京", "a": [1, 2]}`, string(v[15].(json.RawMessage)))
	assert.Equal(t, []byte{0, 0xff, 0x10}, v[16])
	assert.Equal(t, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", v[17])
	assert.Equal(t, "1 day 02:00:00", v[18])
	assert.Equal(t, "{1,2,3}", v[19])
	assert.Nil(t, v[20])
	for i, x := range rows[1][1:] {
		assert.Nil(t, x, cols[i+1].Name)
	}

	// 'infinity' has no time.Time: it stays text.
	_, rows = query(t, r, Request{DataSource: ds, Query: "SELECT 'infinity'::timestamptz, '-infinity'::date, 'NaN'::numeric"})
	assert.Equal(t, []any{"infinity", "-infinity", "NaN"}, rows[0])
}

func TestPostgresParams(t *testing.T) {
	dsn, admin := pgTestDSN(t)
	schema := pgScratch(t, admin)
	r := newTestRunner(t, "")
	ds := newDS(herald.DataSourcePostgres, dsn, time.Minute, 0)
	params := map[string]any{
		"txt": "comma, \"quote\"\nnewline, Łódź 東京", "big": int64(9007199254740993), "min": 0.05, "b": true,
		"day": time.Date(2026, 1, 31, 22, 0, 0, 0, time.FixedZone("X", -3*3600)), // the calendar day counts
		"at":  time.Date(2026, 1, 31, 9, 15, 0, 0, time.FixedZone("CEST", 2*3600)),
		"vcs": []string{"APAC", "EMEA"}, "none": []string{}, "nothing": nil,
	}
	types := map[string]herald.ParamType{"day": herald.ParamDate, "at": herald.ParamDatetime, "vcs": herald.ParamList, "none": herald.ParamList}
	_, rows := query(t, r, Request{DataSource: ds, Params: params, ParamTypes: types, Query: `SELECT id FROM ` + schema + `.types
		WHERE txt = :txt AND big = :big AND dec > :min AND b = :b AND day = :day AND tstz = :at AND vc IN (:vcs)
		  AND :nothing::text IS NULL AND (vc IN (:none) OR TRUE) AND txt <> ':txt' -- :nope`})
	assert.Equal(t, [][]any{{int64(1)}}, rows)

	_, rows = query(t, r, Request{DataSource: ds, Params: params, ParamTypes: types, Query: `SELECT id FROM ` + schema + `.types WHERE vc IN (:none)`})
	assert.Empty(t, rows, "an empty list matches nothing")

	_, rows = query(t, r, Request{DataSource: ds, Params: params, ParamTypes: types,
		Query: "SELECT :big::bigint + 1, :min::float8 * 2, :b::boolean, :day::date, :at::timestamptz, :txt, :txt = :txt"})
	assert.Equal(t, []any{int64(9007199254740994), 0.1, true, time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 31, 7, 15, 0, 0, time.UTC), params["txt"], true}, rows[0])

	// Placeholders the server types as text take any scalar, as its text.
	_, rows = query(t, r, Request{DataSource: ds, Params: params, ParamTypes: types,
		Query: "SELECT :big, :min, :b, :big || '!', :at;"})
	assert.Equal(t, []any{"9007199254740993", "0.05", "true", "9007199254740993!", "2026-01-31T07:15:00Z"}, rows[0])

	// A value that fits nowhere is a query error, not an internal one.
	_, err := r.Query(context.Background(), Request{DataSource: ds, Params: map[string]any{"x": "not a number"},
		Query: "SELECT id FROM " + schema + ".types WHERE big = :x"})
	assertCode(t, err, herald.CodeInvalid, ReasonQuery)

	// Injection attempts stay values.
	_, rows = query(t, r, Request{DataSource: ds, Params: map[string]any{"x": "'; DROP TABLE " + schema + ".types; --"},
		Query: "SELECT count(*) FROM " + schema + ".types WHERE txt = :x"})
	assert.Equal(t, [][]any{{int64(0)}}, rows)
}

func TestPostgresReadOnly(t *testing.T) {
	dsn, admin := pgTestDSN(t)
	schema := pgScratch(t, admin)
	r := newTestRunner(t, "")
	ds := newDS(herald.DataSourcePostgres, dsn, time.Minute, 0)
	table := schema + ".types"
	for _, q := range []string{
		"INSERT INTO " + table + " (id) VALUES (3)",
		"UPDATE " + table + " SET txt = 'x'",
		"DELETE FROM " + table,
		"CREATE TABLE " + schema + ".evil (x int)",
		"DROP TABLE " + table,
		"TRUNCATE " + table,
		"WITH d AS (DELETE FROM " + table + " RETURNING id) SELECT * FROM d",
		"SELECT 1; DELETE FROM " + table,
		"COMMIT; DELETE FROM " + table,
	} {
		t.Run(q, func(t *testing.T) {
			rows, err := r.Query(context.Background(), Request{DataSource: ds, Query: q})
			if err == nil {
				collect(t, rows)
				t.Fatalf("%q ran", q)
			}
			code := herald.CodeOf(err)
			assert.True(t, code == herald.CodeForbidden || code == herald.CodeInvalid, "%q: %v", q, err)
			if code == herald.CodeForbidden {
				assert.Contains(t, err.Error(), "read-only")
			}
		})
	}
	// A bare COMMIT ends nothing that matters: the next query is read-only again.
	rows, err := r.Query(context.Background(), Request{DataSource: ds, Query: "COMMIT"})
	if err == nil {
		collect(t, rows)
	}
	_, err = r.Query(context.Background(), Request{DataSource: ds, Query: "DELETE FROM " + table})
	assertCode(t, err, herald.CodeForbidden, ReasonPermission)

	var n int
	require.NoError(t, admin.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n))
	assert.Equal(t, 2, n, "the data is unchanged")
}

func TestPostgresTimeout(t *testing.T) {
	t.Parallel()
	dsn, _ := pgTestDSN(t)
	r := newTestRunner(t, "")
	ds := newDS(herald.DataSourcePostgres, dsn, time.Second, 0)
	start := time.Now()
	rows, err := r.Query(context.Background(), Request{DataSource: ds, Query: "SELECT pg_sleep(5)"})
	if err == nil {
		collect(t, rows)
		t.Fatal("pg_sleep(5) finished under a 1s timeout")
	}
	assertCode(t, err, herald.CodeUnavailable, ReasonTimeout)
	assert.Contains(t, err.Error(), "query timed out after 1s")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 3*time.Second)

	// The pool is still usable.
	_, out := query(t, r, Request{DataSource: ds, Query: "SELECT 1"})
	assert.Equal(t, [][]any{{int64(1)}}, out)
}

func TestPostgresRowCap(t *testing.T) {
	dsn, _ := pgTestDSN(t)
	r := newTestRunner(t, "")
	ds := newDS(herald.DataSourcePostgres, dsn, time.Minute, 100)
	rows, err := r.Query(context.Background(), Request{DataSource: ds, Query: "SELECT g FROM generate_series(1, 1000) g"})
	require.NoError(t, err)
	out := collect(t, rows)
	assert.Len(t, out, 100)
	assert.True(t, rows.Truncated())
	assert.Equal(t, int64(100), out[99][0])

	rows, err = r.Query(context.Background(), Request{DataSource: ds, Query: "SELECT g FROM generate_series(1, 100) g"})
	require.NoError(t, err)
	assert.Len(t, collect(t, rows), 100)
	assert.False(t, rows.Truncated())

	// Stopping early does not read the rest of a huge result.
	big := newDS(herald.DataSourcePostgres, dsn, time.Minute, 10)
	start := time.Now()
	rows, err = r.Query(context.Background(), Request{DataSource: big, Query: "SELECT generate_series(1, 50000000)"}) // streamed, not materialized
	require.NoError(t, err)
	assert.Len(t, collect(t, rows), 10)
	assert.True(t, rows.Truncated())
	assert.Less(t, time.Since(start), 3*time.Second)
	require.NoError(t, r.TestConnection(context.Background(), big))
}

func TestPostgresConnectionErrors(t *testing.T) {
	dsn, _ := pgTestDSN(t)
	_ = dsn
	const secret = "Sup3r-S3cret_pw"
	r := newTestRunner(t, "")
	for _, tc := range []struct {
		name, dsn string
		code      herald.Code
	}{
		{"unknown role", "postgres://herald_nobody:" + secret + "@127.0.0.1:5432/test?sslmode=disable", herald.CodeUnavailable},
		{"unknown database", "postgres://postgres:" + secret + "@127.0.0.1:5432/herald_no_such_db?sslmode=disable", herald.CodeUnavailable},
		{"refused", "postgres://postgres:" + secret + "@127.0.0.1:1/test?sslmode=disable", herald.CodeUnavailable},
		{"unknown host", "postgres://postgres:" + secret + "@no-such-host.invalid:5432/test?sslmode=disable&connect_timeout=3", herald.CodeUnavailable},
		{"keyword form", "host=127.0.0.1 port=1 user=postgres password=" + secret + " dbname=test sslmode=disable", herald.CodeUnavailable},
		{"malformed", "postgres://postgres:" + secret + "@127.0.0.1:notaport/test", herald.CodeInvalid},
		{"server password file", "postgres://postgres@127.0.0.1:5432/test?passfile=/root/.pgpass&x=" + secret, herald.CodeInvalid},
		{"server service file", "service=prod password=" + secret, herald.CodeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := newDS(herald.DataSourcePostgres, tc.dsn, 5*time.Second, 0)
			err := r.TestConnection(context.Background(), ds)
			assertCode(t, err, tc.code, ReasonConnection)
			for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				assert.NotContains(t, text, secret)
				assert.NotContains(t, text, tc.dsn)
			}
			t.Logf("%s: %v", tc.name, err)
		})
	}
}

func TestPostgresQueryErrors(t *testing.T) {
	dsn, _ := pgTestDSN(t)
	r := newTestRunner(t, "")
	ds := newDS(herald.DataSourcePostgres, dsn, time.Minute, 0)
	_, err := r.Query(context.Background(), Request{DataSource: ds, Query: "SELEC 1"})
	assertCode(t, err, herald.CodeInvalid, ReasonQuery)
	assert.Contains(t, err.Error(), "syntax error")
	assert.Contains(t, err.Error(), "42601")

	_, err = r.Query(context.Background(), Request{DataSource: ds, Query: "SELECT 1/0"})
	assertCode(t, err, herald.CodeInvalid, ReasonQuery)
	assert.Contains(t, err.Error(), "division by zero")

	_, err = r.Query(context.Background(), Request{DataSource: ds, Query: "SELECT * FROM herald_no_such_table"})
	assertCode(t, err, herald.CodeInvalid, ReasonQuery)

	// A role without the privilege gets CodeForbidden.
	ctx := context.Background()
	_, admin := pgTestDSN(t)
	role := randomName("herald_ro_")
	_, err = admin.Exec(ctx, "CREATE ROLE "+role+" LOGIN")
	require.NoError(t, err)
	schema := pgScratch(t, admin)
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP ROLE "+role) })
	cfg, err := pgx.ParseConfig(dsn)
	require.NoError(t, err)
	roDSN := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", role, cfg.Host, cfg.Port, cfg.Database)
	_, err = r.Query(ctx, Request{DataSource: newDS(herald.DataSourcePostgres, roDSN, time.Minute, 0), Query: "SELECT * FROM " + schema + ".types"})
	assertCode(t, err, herald.CodeForbidden, ReasonPermission)
	assert.Contains(t, err.Error(), "permission denied")
}

func BenchmarkPostgresStream(b *testing.B) {
	dsn, _ := pgTestDSN(b)
	r := newTestRunner(b, "")
	ds := newDS(herald.DataSourcePostgres, dsn, 5*time.Minute, herald.MaxRowCap)
	const n = 100_000
	q := `SELECT g, 'row ' || g, g * 1.5::float8, g % 2 = 0, timestamptz '2026-01-01' + g * interval '1 second',
		(g / 7.0)::numeric(14,4), date '2026-01-01' + (g % 365), md5(g::text) FROM generate_series(1, ` + fmt.Sprint(n) + `) g`
	var rowsRead int
	start := time.Now()
	for b.Loop() {
		rows, err := r.Query(context.Background(), Request{DataSource: ds, Query: q})
		if err != nil {
			b.Fatal(err)
		}
		count := 0
		for rows.Next() {
			if len(rows.Values()) != 8 {
				b.Fatal("want 8 columns")
			}
			count++
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		if err := rows.Close(); err != nil {
			b.Fatal(err)
		}
		if count != n {
			b.Fatalf("read %d rows, want %d", count, n)
		}
		rowsRead += count
	}
	b.ReportMetric(float64(rowsRead)/time.Since(start).Seconds(), "rows/s")
}
