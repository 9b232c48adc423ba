package generate

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// TestReportsOnRealServers runs a report on PostgreSQL and on MariaDB
// through the whole handler and reads the CSV back: every type arrives as
// the database holds it.
func TestReportsOnRealServers(t *testing.T) {
	tests := []struct {
		name  string
		kind  herald.DataSourceKind
		dsn   string
		query string
		want  [][]string
	}{
		{
			name: "postgres", kind: herald.DataSourcePostgres, dsn: benchPostgresDSN(),
			query: `SELECT * FROM (VALUES
  (1, 'comma, "quote"' || E'\n' || 'newline, Łódź', 1234.50::numeric(10,2), DATE '2026-03-29', TIMESTAMPTZ '2026-03-29 01:30:00+00', true, NULL::text, '{"a": [1, 2]}'::jsonb),
  (2, ' Ærøskøbing ', -0.05::numeric(10,2), DATE '2026-10-25', TIMESTAMPTZ '2026-10-25 00:30:00+00', false, 'x', 'null'::jsonb)
) AS t(id, name, amount, day, at, paid, note, doc) ORDER BY id`,
			want: [][]string{
				{"id", "name", "amount", "day", "at", "paid", "note", "doc"},
				{"1", "comma, \"quote\"\nnewline, Łódź", "1234.50", "2026-03-29", "2026-03-29T03:30:00+02:00", "true", "", `{"a": [1, 2]}`},
				{"2", " Ærøskøbing ", "-0.05", "2026-10-25", "2026-10-25T02:30:00+02:00", "false", "x", "null"},
			},
		},
		{
			name: "mariadb", kind: herald.DataSourceMySQL, dsn: mariaDSN(),
			query: `SELECT 1 AS id, CONCAT('comma, "quote"', CHAR(10 USING utf8mb4), 'newline, Łódź') AS name, CAST(1234.50 AS DECIMAL(10,2)) AS amount,
  DATE '2026-03-29' AS day, TIMESTAMP '2026-03-29 01:30:00' AS at, TRUE AS paid, NULL AS note
UNION ALL SELECT 2, ' Ærøskøbing ', CAST(-0.05 AS DECIMAL(10,2)), DATE '2026-10-25', TIMESTAMP '2026-10-25 00:30:00', FALSE, 'x'`,
			want: [][]string{
				{"id", "name", "amount", "day", "at", "paid", "note"},
				{"1", "comma, \"quote\"\nnewline, Łódź", "1234.50", "2026-03-29", "2026-03-29T03:30:00+02:00", "1", ""},
				{"2", " Ærøskøbing ", "-0.05", "2026-10-25", "2026-10-25T02:30:00+02:00", "0", "x"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			ds := e.reloadDS()
			ds.SourceKind = tt.kind
			ds.SealedDSN = sealDSN(t, ds, tt.dsn)
			require.NoError(t, herald.ReplaceRecord(t.Context(), e.store, ds))
			tenant := &herald.Tenant{Meta: herald.Meta{ID: "acme", TenantID: "acme"}, Name: "Acme", DefaultTimezone: "Europe/Berlin", RetentionDays: 90}
			e.create(tenant)
			run := e.runNow(e.report(tt.query, nil), nil)
			if run.Status == herald.RunQueued && run.Attempt == 2 {
				missing(t, tt.name, run.Reason)
			}
			require.Equal(t, herald.RunSucceeded, run.Status, run.Reason)
			_, body := e.file(run, herald.FormatCSV)
			assert.Equal(t, tt.want, parseCSV(t, body), "timestamps in the tenant's zone (Berlin), across both DST changes")
			_, pdf := e.file(run, herald.FormatPDF)
			text := pdfText(t, pdf)
			assert.Contains(t, text, "Łódź")
			assert.Contains(t, text, "Ærøskøbing")
		})
	}
}

func mariaDSN() string {
	if dsn := os.Getenv("HERALD_TEST_MYSQL_DSN"); dsn != "" {
		return dsn
	}
	return "root@tcp(127.0.0.1:3306)/test"
}
