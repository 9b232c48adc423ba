package datasource

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// myTestDSN returns a DSN for the test MariaDB/MySQL
// (HERALD_TEST_MYSQL_DSN, else root on 127.0.0.1) and an admin pool for
// fixtures, in UTC.
func myTestDSN(t testing.TB) (string, *sql.DB) {
	t.Helper()
	dsn := "root@tcp(127.0.0.1:3306)/test?parseTime=true"
	if env := os.Getenv("HERALD_TEST_MYSQL_DSN"); env != "" {
		dsn = env
	}
	cfg, err := mysql.ParseDSN(dsn)
	require.NoError(t, err)
	cfg.ParseTime, cfg.Loc = true, time.UTC
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	connector, err := mysql.NewConnector(cfg)
	require.NoError(t, err)
	admin := sql.OpenDB(connector)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		requireService(t, "MariaDB/MySQL at 127.0.0.1:3306", err)
	}
	t.Cleanup(func() { admin.Close() })
	return dsn, admin
}

func isMariaDB(t testing.TB, admin *sql.DB) bool {
	var v string
	require.NoError(t, admin.QueryRow("SELECT VERSION()").Scan(&v))
	return strings.Contains(strings.ToLower(v), "mariadb")
}

// myScratch creates a types table with a unique name and drops it after the test.
func myScratch(t *testing.T, admin *sql.DB) string {
	t.Helper()
	table := randomName("herald_test_")
	_, err := admin.Exec(`CREATE TABLE ` + table + ` (
		id INT PRIMARY KEY, tiny TINYINT, flag BOOLEAN, small SMALLINT, big BIGINT, ubig BIGINT UNSIGNED,
		dec1 DECIMAL(24,6), price DECIMAL(10,2), f FLOAT, d DOUBLE, day DATE, dt DATETIME(6), ts TIMESTAMP NULL,
		tm TIME, yr YEAR, txt TEXT, vc VARCHAR(50), en ENUM('a','b'), j JSON, bin VARBINARY(10), bl BLOB, nul VARCHAR(5)
	) CHARACTER SET utf8mb4`)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := admin.Exec("DROP TABLE IF EXISTS " + table)
		assert.NoError(t, err)
	})
	_, err = admin.Exec(`INSERT INTO ` + table + ` VALUES
		(1, 7, TRUE, -3, 9007199254740993, 18446744073709551615, 123456789012345678.123456, 19.90, 0.1, 1e-300,
		 '2026-01-31', '2026-01-31 09:15:00.123456', '2026-01-31 09:15:00', '12:34:56', 2026,
		 'comma, "quote"\nnewline, Łódź 東京', 'EMEA', 'b', '{"a": [1, 2], "ü": "東京"}', X'00FF10', X'0102', NULL),
		(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)
	require.NoError(t, err)
	return table
}

func TestMySQLTypes(t *testing.T) {
	dsn, admin := myTestDSN(t)
	table := myScratch(t, admin)
	mariadb := isMariaDB(t, admin)
	r := newTestRunner(t, "")
	ds := newDS(herald.DataSourceMySQL, dsn, time.Minute, 0)
	jsonType := TypeJSON
	if mariadb {
		jsonType = TypeString // MariaDB's JSON is LONGTEXT on the wire
	}
	want := []ColumnType{TypeInt, TypeInt, TypeBool, TypeInt, TypeInt, TypeDecimal, TypeDecimal, TypeDecimal, TypeFloat,
		TypeFloat, TypeDate, TypeDatetime, TypeDatetime, TypeString, TypeInt, TypeString, TypeString, TypeString, jsonType,
		TypeBytes, TypeBytes, TypeString}

	// The text protocol (no arguments) and the binary protocol (arguments)
	// give the same values.
	for _, req := range []Request{
		{DataSource: ds, Query: "SELECT * FROM " + table + " ORDER BY id"},
		{DataSource: ds, Query: "SELECT * FROM " + table + " WHERE id >= :min ORDER BY id", Params: map[string]any{"min": int64(0)}},
	} {
		cols, rows := query(t, r, req)
		got := make([]ColumnType, len(cols))
		for i, c := range cols {
			got[i] = c.Type
		}
		assert.Equal(t, want, got)
		assert.Equal(t, "TINYINT(1)", cols[2].DBType)
		assert.Equal(t, "TINYINT", cols[1].DBType)
		assert.False(t, cols[0].Nullable)
		assert.True(t, cols[1].Nullable)
		require.Len(t, rows, 2)
		v := rows[0]
		assert.Equal(t, []any{int64(1), int64(7), true, int64(-3), int64(9007199254740993)}, v[:5])
		assert.Equal(t, "18446744073709551615", v[5], "unsigned BIGINT is exact text")
		assert.Equal(t, "123456789012345678.123456", v[6], "DECIMAL is exact text")
		assert.Equal(t, "19.90", v[7])
		assert.Equal(t, 0.1, v[8])
		assert.Equal(t, 1e-300, v[9])
		assert.Equal(t, time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC), v[10])
		assert.Equal(t, time.Date(2026, 1, 31, 9, 15, 0, 123456000, time.UTC), v[11])
		assert.Equal(t, time.Date(2026, 1, 31, 9, 15, 0, 0, time.UTC), v[12], "TIMESTAMP arrives in UTC")
		assert.Equal(t, "12:34:56", v[13])
		assert.Equal(t, int64(2026), v[14])
		assert.Equal(t, "comma, \"quote\"\nnewline, Łódź 東京", v[15])
		assert.Equal(t, "EMEA", v[16])
		assert.Equal(t, "b", v[17])
		if mariadb {
			assert.JSONEq(t, `{"a": [1, 2], "ü": "東京"}`, v[18].(string))
		} else {
			assert.JSONEq(t, `{"a": [1, 2], "ü": "東京"}`, string(v[18].(json.RawMessage)))
		}
		assert.Equal(t, []byte{0, 0xff, 0x10}, v[19])
		assert.Equal(t, []byte{1, 2}, v[20])
		assert.Nil(t, v[21])
		for i, x := range rows[1][1:] {
			assert.Nil(t, x, cols[i+1].Name)
		}
	}
}

func TestMySQLParams(t *testing.T) {
	dsn, admin := myTestDSN(t)
	table := myScratch(t, admin)
	r := newTestRunner(t, "")
	ds := newDS(herald.DataSourceMySQL, dsn, time.Minute, 0)
	params := map[string]any{
		"txt": "comma, \"quote\"\nnewline, Łódź 東京", "big": int64(9007199254740993), "min": 19.5, "b": true,
		"day": time.Date(2026, 1, 31, 22, 0, 0, 0, time.FixedZone("X", -3*3600)),
		"at":  time.Date(2026, 1, 31, 11, 15, 0, 0, time.FixedZone("CEST", 2*3600)),
		"vcs": []string{"APAC", "EMEA"}, "none": []string{}, "nothing": nil,
	}
	types := map[string]herald.ParamType{"day": herald.ParamDate, "at": herald.ParamDatetime, "vcs": herald.ParamList, "none": herald.ParamList}
	_, rows := query(t, r, Request{DataSource: ds, Params: params, ParamTypes: types, Query: `SELECT id FROM ` + table + `
		WHERE txt = :txt AND big = :big AND price > :min AND flag = :b AND day = :day AND ts = :at AND dt >= :day
		  AND vc IN (:vcs) AND :nothing IS NULL AND txt <> ':txt' -- :nope`})
	assert.Equal(t, [][]any{{int64(1)}}, rows)

	_, rows = query(t, r, Request{DataSource: ds, Params: params, ParamTypes: types, Query: `SELECT id FROM ` + table + ` WHERE vc IN (:none)`})
	assert.Empty(t, rows, "an empty list matches nothing")

	_, rows = query(t, r, Request{DataSource: ds, Params: params, ParamTypes: types, Query: "SELECT :big, :txt;"})
	assert.Equal(t, []any{int64(9007199254740993), params["txt"]}, rows[0])

	_, rows = query(t, r, Request{DataSource: ds, Params: map[string]any{"x": "'; DROP TABLE " + table + "; --"},
		Query: "SELECT COUNT(*) FROM " + table + " WHERE txt = :x"})
	assert.Equal(t, [][]any{{int64(0)}}, rows)
}

func TestMySQLReadOnly(t *testing.T) {
	dsn, admin := myTestDSN(t)
	table := myScratch(t, admin)
	r := newTestRunner(t, "")
	ds := newDS(herald.DataSourceMySQL, dsn, time.Minute, 0)
	evil := randomName("herald_evil_")
	t.Cleanup(func() { _, _ = admin.Exec("DROP TABLE IF EXISTS " + evil) })
	for _, q := range []string{
		"INSERT INTO " + table + " (id) VALUES (3)",
		"UPDATE " + table + " SET txt = 'x'",
		"DELETE FROM " + table,
		"CREATE TABLE " + evil + " (x INT)",
		"DROP TABLE " + table,
		"TRUNCATE TABLE " + table,
		"ALTER TABLE " + table + " ADD COLUMN z INT",
		"SELECT 1; DELETE FROM " + table,
		"COMMIT",
	} {
		t.Run(q, func(t *testing.T) {
			rows, err := r.Query(context.Background(), Request{DataSource: ds, Query: q})
			if err == nil {
				collect(t, rows)
				if q == "COMMIT" {
					return // harmless: the session stays read-only
				}
				t.Fatalf("%q ran", q)
			}
			code := herald.CodeOf(err)
			assert.True(t, code == herald.CodeForbidden || code == herald.CodeInvalid, "%q: %v", q, err)
			if !strings.HasPrefix(q, "SELECT 1;") {
				assert.Equal(t, herald.CodeForbidden, code, "%q: %v", q, err)
				assert.Contains(t, err.Error(), "read-only")
			}
		})
	}
	var n int
	require.NoError(t, admin.QueryRow("SELECT COUNT(*) FROM "+table+" WHERE txt <> 'x' OR txt IS NULL").Scan(&n))
	assert.Equal(t, 2, n, "the data is unchanged")
	var tables int
	require.NoError(t, admin.QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_name = ?", evil).Scan(&tables))
	assert.Zero(t, tables, "no table was created")
}

func TestMySQLTimeout(t *testing.T) {
	t.Parallel()
	dsn, _ := myTestDSN(t)
	r := newTestRunner(t, "")
	ds := newDS(herald.DataSourceMySQL, dsn, time.Second, 0)
	for _, q := range []string{
		"SELECT SLEEP(5)",
		"SELECT COUNT(*) FROM information_schema.columns a, information_schema.columns b, information_schema.columns c",
	} {
		t.Run(q, func(t *testing.T) {
			start := time.Now()
			rows, err := r.Query(context.Background(), Request{DataSource: ds, Query: q})
			if err == nil {
				out := collect(t, rows)
				// MySQL's SLEEP returns 1 when interrupted instead of failing.
				require.True(t, strings.Contains(q, "SLEEP"), "%q finished under a 1s timeout", q)
				assert.Equal(t, [][]any{{int64(1)}}, out, "an interrupted SLEEP returns 1")
			} else {
				assertCode(t, err, herald.CodeUnavailable, ReasonTimeout)
				assert.Contains(t, err.Error(), "query timed out after 1s")
			}
			assert.Less(t, time.Since(start), 4*time.Second)
		})
	}
	_, out := query(t, r, Request{DataSource: ds, Query: "SELECT 1"})
	assert.Equal(t, [][]any{{int64(1)}}, out, "the pool is still usable")
}

func TestMySQLRowCap(t *testing.T) {
	dsn, _ := myTestDSN(t)
	r := newTestRunner(t, "")
	ds := newDS(herald.DataSourceMySQL, dsn, time.Minute, 100)
	const series = "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 1000) SELECT n FROM s"
	rows, err := r.Query(context.Background(), Request{DataSource: ds, Query: series})
	require.NoError(t, err)
	out := collect(t, rows)
	assert.Len(t, out, 100)
	assert.True(t, rows.Truncated())

	// Stopping early does not read the rest of a big result.
	big := newDS(herald.DataSourceMySQL, dsn, time.Minute, 10)
	start := time.Now()
	rows, err = r.Query(context.Background(), Request{DataSource: big,
		Query: "SELECT a.column_name FROM information_schema.columns a, information_schema.columns b, information_schema.columns c"})
	require.NoError(t, err)
	assert.Len(t, collect(t, rows), 10)
	assert.True(t, rows.Truncated())
	assert.Less(t, time.Since(start), 5*time.Second)
	require.NoError(t, r.TestConnection(context.Background(), big))
}

func TestMySQLConnectionErrors(t *testing.T) {
	myTestDSN(t)
	const secret = "Sup3r-S3cret_pw"
	r := newTestRunner(t, "")
	for _, tc := range []struct {
		name, dsn string
		code      herald.Code
	}{
		{"bad password", "root:" + secret + "@tcp(127.0.0.1:3306)/test", herald.CodeUnavailable},
		{"bad password, URL form", "mysql://root:" + secret + "@127.0.0.1:3306/test", herald.CodeUnavailable},
		{"refused", "root:" + secret + "@tcp(127.0.0.1:1)/test", herald.CodeUnavailable},
		{"unknown host", "root:" + secret + "@tcp(no-such-host.invalid:3306)/test?timeout=3s", herald.CodeUnavailable},
		{"unknown database", "root@tcp(127.0.0.1:3306)/herald_no_such_db", herald.CodeUnavailable},
		{"malformed", "root:" + secret + "@tcp(127.0.0.1:3306/test", herald.CodeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := r.TestConnection(context.Background(), newDS(herald.DataSourceMySQL, tc.dsn, 5*time.Second, 0))
			assertCode(t, err, tc.code, ReasonConnection)
			for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				assert.NotContains(t, text, secret)
			}
			t.Logf("%s: %v", tc.name, err)
		})
	}
	// The URL form works.
	require.NoError(t, r.TestConnection(context.Background(), newDS(herald.DataSourceMySQL, "mysql://root@127.0.0.1:3306/test", 5*time.Second, 0)))
}

func TestMySQLQueryErrors(t *testing.T) {
	dsn, admin := myTestDSN(t)
	table := myScratch(t, admin)
	r := newTestRunner(t, "")
	ds := newDS(herald.DataSourceMySQL, dsn, time.Minute, 0)
	_, err := r.Query(context.Background(), Request{DataSource: ds, Query: "SELEC 1"})
	assertCode(t, err, herald.CodeInvalid, ReasonQuery)
	assert.Contains(t, err.Error(), "SQL syntax")

	_, err = r.Query(context.Background(), Request{DataSource: ds, Query: "SELECT nope FROM " + table})
	assertCode(t, err, herald.CodeInvalid, ReasonQuery)
	assert.Contains(t, err.Error(), "Unknown column")

	// A user without SELECT on the table gets CodeForbidden.
	user := randomName("herald_ro_")
	other := randomName("herald_other_")
	for _, stmt := range []string{
		"CREATE USER '" + user + "'@'%'",
		"CREATE TABLE " + other + " (x INT)",
		"GRANT SELECT ON test." + other + " TO '" + user + "'@'%'",
	} {
		_, err := admin.Exec(stmt)
		require.NoError(t, err, stmt)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP USER IF EXISTS '" + user + "'@'%'")
		_, _ = admin.Exec("DROP TABLE IF EXISTS " + other)
	})
	roDS := newDS(herald.DataSourceMySQL, user+"@tcp(127.0.0.1:3306)/test", time.Minute, 0)
	_, err = r.Query(context.Background(), Request{DataSource: roDS, Query: "SELECT * FROM " + table})
	assertCode(t, err, herald.CodeForbidden, ReasonPermission)
	assert.Contains(t, err.Error(), "denied")
}
