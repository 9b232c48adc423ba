package generate

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldreports/herald/internal/datasource"
	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/render"
	"github.com/heraldreports/herald/internal/seal"
)

// benchPostgresDSN is the PostgreSQL the benchmark reads (HERALD_TEST_POSTGRES_DSN overrides).
func benchPostgresDSN() string {
	if dsn := os.Getenv("HERALD_TEST_POSTGRES_DSN"); dsn != "" {
		return dsn
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// csvBenchQuery returns n rows of 8 columns of the usual report types.
func csvBenchQuery(n int) string {
	return fmt.Sprintf(`SELECT i AS id,
       'customer ' || i AS name,
       (i %% 100000)::numeric(12,2) / 7 AS amount,
       TIMESTAMPTZ '2026-01-01 00:00:00+00' + i * INTERVAL '1 minute' AS created_at,
       i %% 3 = 0 AS paid,
       md5(i::text) AS reference,
       i * 1.5::float8 AS score,
       DATE '2026-01-01' + (i %% 365) AS day
FROM generate_series(1, %d) AS i`, n)
}

// writeCSVThroughHerald runs query with Herald's runner and streams it
// through the CSV renderer into path; it returns the row count.
func writeCSVThroughHerald(ctx context.Context, query, path string) (int64, error) {
	box, err := seal.New(testKey)
	if err != nil {
		return 0, err
	}
	ds := &herald.DataSource{Meta: herald.Meta{ID: "ds_bench", TenantID: "bench"}, Name: "bench", SourceKind: herald.DataSourcePostgres}
	ds.Normalize()
	if ds.SealedDSN, err = box.Seal([]byte(benchPostgresDSN()), herald.DSNSealContext(ds.TenantID, ds.ID)); err != nil {
		return 0, err
	}
	runner := datasource.NewRunner(datasource.Config{Unsealer: box})
	defer func() { _ = runner.Close() }()
	rows, err := runner.Query(ctx, datasource.Request{DataSource: ds, Query: query})
	if err != nil {
		return 0, err
	}
	defer func() { _ = rows.Close() }()
	cols := make([]render.Column, len(rows.Columns()))
	for i, c := range rows.Columns() {
		cols[i] = render.Column{Name: c.Name, Type: render.Type(c.Type)}
	}
	f, err := os.Create(path) //nolint:gosec // a temp path of the benchmark's own
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	w, err := render.NewCSV(f, cols, render.Meta{Location: time.UTC}, render.CSVOptions{})
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		if err := w.WriteRow(rows.Values()); err != nil {
			return 0, err
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if err := w.Close(render.Summary{Rows: w.Rows()}); err != nil {
		return 0, err
	}
	return w.Rows(), f.Sync()
}

// TestHelperCSVProcess is the child process of the RSS measurement: it
// writes HERALD_BENCH_ROWS rows to HERALD_BENCH_OUT and exits.
func TestHelperCSVProcess(t *testing.T) {
	rowsEnv := os.Getenv("HERALD_BENCH_ROWS")
	if rowsEnv == "" {
		t.Skip("helper process of BenchmarkCSVFromPostgres")
	}
	n, err := strconv.Atoi(rowsEnv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writeCSVThroughHerald(t.Context(), csvBenchQuery(n), os.Getenv("HERALD_BENCH_OUT")); err != nil {
		t.Fatal(err)
	}
	// The peak RSS of this process alone: a child's ru_maxrss starts from
	// its parent's RSS at fork, so the parent cannot use it.
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			fmt.Println("HERALD_PEAK_RSS_KB", strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), " kB"))
		}
	}
}

// childPeakRSS runs the helper process for n rows and returns its peak RSS
// (VmHWM) in MiB.
func childPeakRSS(b *testing.B, n int) float64 {
	b.Helper()
	cmd := exec.CommandContext(b.Context(), os.Args[0], "-test.run=^TestHelperCSVProcess$", "-test.count=1") //nolint:gosec // the test binary itself
	cmd.Env = append(os.Environ(), "HERALD_BENCH_ROWS="+strconv.Itoa(n), "HERALD_BENCH_OUT="+filepath.Join(b.TempDir(), "rss.csv"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("helper process for %d rows: %v\n%s", n, err, out)
	}
	for line := range strings.SplitSeq(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "HERALD_PEAK_RSS_KB "); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				b.Fatalf("helper process: %q", line)
			}
			return kb / 1024
		}
	}
	b.Fatalf("helper process for %d rows did not report its peak RSS:\n%s", n, out)
	return 0
}

// BenchmarkCSVFromPostgres writes a 1,000,000-row, 8-column PostgreSQL
// result as CSV through Herald's runner and renderer, and the same query
// with psql's \copy, in the same run; then the peak RSS of the Herald path
// at 100k and 1M rows, each in its own process.
func BenchmarkCSVFromPostgres(b *testing.B) {
	const n = 1_000_000
	psql, err := exec.LookPath("psql")
	if err != nil {
		missing(b, "psql (postgresql-client)", err)
	}
	ctx := b.Context()
	dir := b.TempDir()
	query := csvBenchQuery(n)
	// Warm up the server's caches with one untimed pass.
	if _, err := writeCSVThroughHerald(ctx, csvBenchQuery(1000), filepath.Join(dir, "warm.csv")); err != nil {
		missing(b, "PostgreSQL", err)
	}
	var herald, psqlTime time.Duration
	var rows int64
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		rows, err = writeCSVThroughHerald(ctx, query, filepath.Join(dir, "herald.csv"))
		if err != nil {
			b.Fatal(err)
		}
		herald += time.Since(start)

		start = time.Now()
		cmd := exec.CommandContext(ctx, psql, benchPostgresDSN(), "-X", "-q", "-c", //nolint:gosec // fixed arguments
			`\copy (`+flatten(query)+`) to '`+filepath.Join(dir, "psql.csv")+`' csv header`)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("psql: %v\n%s", err, out)
		}
		psqlTime += time.Since(start)
	}
	b.StopTimer()
	if rows != n {
		b.Fatalf("Herald wrote %d rows, want %d", rows, n)
	}
	hs, ps := herald.Seconds()/float64(b.N), psqlTime.Seconds()/float64(b.N)
	hSize, pSize := fileSize(b, filepath.Join(dir, "herald.csv")), fileSize(b, filepath.Join(dir, "psql.csv"))
	rss100k, rss1m := childPeakRSS(b, 100_000), childPeakRSS(b, n)
	b.ReportMetric(hs, "herald-s")
	b.ReportMetric(ps, "psql-s")
	b.ReportMetric(hs/ps, "ratio")
	b.ReportMetric(float64(n)/hs, "rows/s")
	b.ReportMetric(rss100k, "rss-100k-MiB")
	b.ReportMetric(rss1m, "rss-1M-MiB")
	b.Logf("1,000,000 rows x 8 columns: Herald runner+CSV %.2f s (%.0f MB), psql \\copy %.2f s (%.0f MB): %.2fx; peak RSS 100k rows %.1f MiB, 1M rows %.1f MiB",
		hs, float64(hSize)/1e6, ps, float64(pSize)/1e6, hs/ps, rss100k, rss1m)
}

func flatten(q string) string {
	out := []byte(q)
	for i, c := range out {
		if c == '\n' {
			out[i] = ' '
		}
	}
	return string(out)
}

func fileSize(b *testing.B, path string) int64 {
	b.Helper()
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return st.Size()
}

// missing stops a test or benchmark loudly when a service or tool it needs
// is not there: it skips, or fails when CI=true (CI must never pass on
// skipped checks).
func missing(tb testing.TB, what string, why any) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s is required when CI=true (make test installs and starts it): %v", what, why)
	}
	tb.Skipf("!!! SKIPPED: %s is not available: %v", what, why)
}
