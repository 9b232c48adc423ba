package generate

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite" // the "sqlite" driver for direct queries of the demo database

	"github.com/heraldreports/herald/internal/datasource"
	"github.com/heraldreports/herald/internal/fileblob"
	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/scheduler"
	"github.com/heraldreports/herald/internal/seal"
	"github.com/heraldreports/herald/internal/sqlite"
)

// runnerQuerier adapts the real data-source runner (as functions/ does).
type runnerQuerier struct{ r *datasource.Runner }

func (q runnerQuerier) Query(ctx context.Context, ds *herald.DataSource, query string, params map[string]any, types map[string]herald.ParamType) (Rows, error) {
	rows, err := q.r.Query(ctx, datasource.Request{DataSource: ds, Query: query, Params: params, ParamTypes: types})
	if err != nil {
		return nil, err
	}
	cols := make([]Column, len(rows.Columns()))
	for i, c := range rows.Columns() {
		cols[i] = Column{Name: c.Name, Type: string(c.Type), DBType: c.DBType}
	}
	return testRows{Rows: rows, cols: cols}, nil
}

type testRows struct {
	datasource.Rows
	cols []Column
}

func (r testRows) Columns() []Column { return r.cols }

// env is a real store, queue, blob store and demo data source.
type env struct {
	t        *testing.T
	store    *sqlite.Store
	queue    *sqlite.Queue
	runs     *scheduler.Runs
	blobs    *fileblob.Store
	demoPath string
	box      *seal.Box
	ds       *herald.DataSource
	h        *Handler
	cfg      Config
}

var testNow = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)

// sharedDemo is the demo dataset every test reads (read-only), built once.
var sharedDemo string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "herald-generate-test-")
	if err != nil {
		panic(err)
	}
	sharedDemo = filepath.Join(dir, "demo.db")
	if err := datasource.EnsureDemo(context.Background(), sharedDemo, testNow); err != nil {
		panic(err)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func newEnv(t *testing.T, mutate func(*Config)) *env {
	t.Helper()
	dir := t.TempDir()
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "herald.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	blobs, err := fileblob.New(fileblob.Config{Dir: filepath.Join(dir, "artifacts"), BaseURL: "http://127.0.0.1:1", Key: bytes.Repeat([]byte{7}, 32)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = blobs.Close() })
	demo := sharedDemo
	box, err := seal.New(testKey)
	require.NoError(t, err)
	runner := datasource.NewRunner(datasource.Config{Unsealer: box, DemoPath: demo, Now: func() time.Time { return testNow }})
	t.Cleanup(func() { _ = runner.Close() })
	q := store.Queue()
	e := &env{t: t, store: store, queue: q, blobs: blobs, demoPath: demo, box: box}
	e.runs = scheduler.NewRuns(store, q, nil, time.Now)
	e.ds = &herald.DataSource{Meta: herald.Meta{ID: herald.NewID(herald.PrefixDataSource, testNow), TenantID: "acme"}, Name: "demo", SourceKind: herald.DataSourceDemo}
	e.ds.Normalize()
	e.create(e.ds)
	e.cfg = Config{Runs: e.runs, Store: store, Querier: runnerQuerier{runner}, Blobs: blobs, Lease: time.Minute}
	if mutate != nil {
		mutate(&e.cfg)
	}
	e.h = NewHandler(e.cfg)
	return e
}

func (e *env) create(r interface {
	herald.Record
	Touch(string, herald.Instant)
},
) {
	e.t.Helper()
	r.Touch("test", herald.At(time.Now()))
	require.NoError(e.t, herald.CreateRecord(context.Background(), e.store, r))
}

func (e *env) report(query string, mutate func(*herald.Report)) *herald.Report {
	e.t.Helper()
	r := &herald.Report{
		Meta: herald.Meta{ID: herald.NewID(herald.PrefixReport, time.Now()), TenantID: "acme"},
		Name: "Orders by customer", DataSourceID: e.ds.ID, Query: query,
	}
	if mutate != nil {
		mutate(r)
	}
	r.Normalize()
	require.NoError(e.t, r.Validate())
	e.create(r)
	return r
}

// runNow queues a manual run and handles its job.
func (e *env) runNow(report *herald.Report, params map[string]json.RawMessage) *herald.Run {
	e.t.Helper()
	run, err := e.runs.RunNow(context.Background(), report, params, "ana")
	require.NoError(e.t, err)
	return e.handle(run)
}

// handle handles the job of the run's current attempt and reloads the run.
func (e *env) handle(run *herald.Run) *herald.Run {
	e.t.Helper()
	job, err := json.Marshal(herald.GenerateJob{TenantID: run.TenantID, RunID: run.ID, Attempt: run.Attempt})
	require.NoError(e.t, err)
	require.NoError(e.t, e.h.Handle(context.Background(), job))
	return e.reload(run)
}

func (e *env) reload(run *herald.Run) *herald.Run {
	e.t.Helper()
	got, err := herald.GetRecord[herald.Run](context.Background(), e.store, run.TenantID, run.ID)
	require.NoError(e.t, err)
	return got
}

// stored lists the blob paths of a run.
func (e *env) stored(run *herald.Run) []string {
	e.t.Helper()
	var paths []string
	require.NoError(e.t, e.blobs.List(context.Background(), run.TenantID+"/"+run.ReportID+"/"+run.ID+"/", func(b herald.BlobInfo) error {
		paths = append(paths, b.Path)
		return nil
	}))
	return paths
}

func (e *env) file(run *herald.Run, f herald.Format) (herald.Artifact, []byte) {
	e.t.Helper()
	for _, a := range run.Artifacts {
		if a.Format == f {
			rc, info, err := e.blobs.Get(context.Background(), herald.ArtifactPath(run.TenantID, run.ReportID, run.ID, a.ID))
			require.NoError(e.t, err)
			defer rc.Close()
			body, err := io.ReadAll(rc)
			require.NoError(e.t, err)
			assert.Equal(e.t, a.SHA256, info.SHA256)
			assert.Equal(e.t, a.Size, int64(len(body)))
			return a, body
		}
	}
	e.t.Fatalf("run %s has no %s artifact: %+v", run.ID, f, run.Artifacts)
	return herald.Artifact{}, nil
}

// direct runs a query on the demo database without Herald.
func (e *env) direct(query string, args ...any) [][]string {
	e.t.Helper()
	db, err := sql.Open("sqlite", "file:"+e.demoPath+"?mode=ro")
	require.NoError(e.t, err)
	defer db.Close()
	rows, err := db.Query(query, args...)
	require.NoError(e.t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(e.t, err)
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(e.t, rows.Scan(ptrs...))
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
		}
		out = append(out, row)
	}
	require.NoError(e.t, rows.Err())
	return out
}

func parseCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = 0
	recs, err := r.ReadAll()
	require.NoError(t, err)
	return recs
}

const customersQuery = `SELECT id, name, country, city FROM customers WHERE country = :country ORDER BY id`

func TestGenerateStoresCSVPDFAndMetadata(t *testing.T) {
	e := newEnv(t, nil)
	report := e.report(customersQuery, func(r *herald.Report) {
		r.Parameters = []herald.Parameter{{Name: "country", Type: herald.ParamString, Default: json.RawMessage(`"Poland"`)}}
		r.Layout.Columns = []herald.Column{{Field: "name", Label: "Customer"}, {Field: "country", Hidden: true}}
	})
	run := e.runNow(report, nil)
	require.Equal(t, herald.RunSucceeded, run.Status, run.Reason)
	assert.Empty(t, run.Reason, "nothing to say about a complete result")
	want := e.direct(`SELECT name, id, city FROM customers WHERE country = 'Poland' ORDER BY id`)
	require.NotEmpty(t, want)
	assert.Equal(t, int64(len(want)), run.Rows)
	require.Len(t, run.Artifacts, 3)
	assert.Len(t, e.stored(run), 3, "one file per artifact")

	csvArt, body := e.file(run, herald.FormatCSV)
	assert.Equal(t, "text/csv; charset=utf-8", csvArt.ContentType)
	assert.True(t, strings.HasPrefix(csvArt.Name, "Orders-by-customer_"), csvArt.Name)
	recs := parseCSV(t, body)
	assert.Equal(t, []string{"Customer", "id", "city"}, recs[0], "layout order and labels first, hidden columns left out")
	assert.Equal(t, want, recs[1:], "the CSV holds exactly what a direct query returns")

	_, meta := e.file(run, herald.FormatMetadata)
	var m metadata
	require.NoError(t, json.Unmarshal(meta, &m))
	assert.Equal(t, int64(len(want)), m.Rows)
	assert.False(t, m.Truncated)
	assert.Equal(t, csvArt.SHA256, m.CSV.SHA256)
	assert.Equal(t, "Poland", m.Parameters["country"])
	assert.Equal(t, []string{"Customer", "id", "city"}, []string{m.Columns[0].Label, m.Columns[1].Label, m.Columns[2].Label})

	pdfArt, pdf := e.file(run, herald.FormatPDF)
	assert.Equal(t, int64(len(want)), pdfArt.Rows)
	assert.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")))
	text := pdfText(t, pdf)
	for _, row := range want[:min(3, len(want))] {
		assert.Contains(t, text, row[0], "the PDF shows the customers' names")
	}
	assert.GreaterOrEqual(t, run.Timings.QueryMs+run.Timings.RenderMs+run.Timings.StoreMs, int64(0))
}

// pdfText extracts a PDF's text with pdftotext when it is installed.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		missing(t, "pdftotext (poppler-utils)", err)
	}
	cmd := exec.CommandContext(t.Context(), "pdftotext", "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	require.NoError(t, err)
	return string(out)
}

func TestRedeliveryAndNextAttemptsLeaveOneSetOfFiles(t *testing.T) {
	e := newEnv(t, nil)
	report := e.report(`SELECT id, name FROM customers ORDER BY id LIMIT 20`, nil)
	run, err := e.runs.RunNow(t.Context(), report, nil, "ana")
	require.NoError(t, err)

	// Attempt 1 stores its files but its worker stops before finishing:
	// its lease expires and recovery queues attempt 2.
	started, err := e.runs.Start(t.Context(), herald.GenerateJob{TenantID: "acme", RunID: run.ID, Attempt: 1}, time.Millisecond)
	require.NoError(t, err)
	first := e.h.generate(t.Context(), started, e.h.log)
	require.Nil(t, first.failure)
	assert.Len(t, e.stored(run), 3)
	time.Sleep(5 * time.Millisecond)
	st, err := e.runs.Recover(t.Context(), time.Now())
	require.NoError(t, err)
	require.Equal(t, 1, st.Requeued)

	done := e.handle(e.reload(run))
	require.Equal(t, herald.RunSucceeded, done.Status)
	assert.Equal(t, 2, done.Attempt)
	paths := e.stored(run)
	assert.Len(t, paths, 3, "attempt 1's files were deleted once attempt 2 became the result")
	for _, a := range done.Artifacts {
		assert.Contains(t, paths, herald.ArtifactPath("acme", run.ReportID, run.ID, a.ID))
		assert.NotEqual(t, first.artifacts[indexOf(first.artifacts, a.Format)].ID, a.ID, "each attempt writes its own paths")
	}

	// Attempt 1, still alive after all, writes again: it can only write its
	// own paths, never the recorded files, and its result is refused.
	late := e.h.generate(t.Context(), started, e.h.log)
	require.Nil(t, late.failure)
	require.NoError(t, e.h.finish(t.Context(), started, late, e.h.log))
	again := e.reload(run)
	assert.Equal(t, done.Version(), again.Version(), "the run keeps attempt 2's result")
	assert.ElementsMatch(t, paths, e.stored(run), "the late attempt's files were deleted")
	for _, a := range again.Artifacts {
		_, body := e.file(again, a.Format)
		assert.Equal(t, a.Size, int64(len(body)), "the recorded files are intact")
	}

	// The job delivered again, for either attempt: nothing happens.
	assert.Equal(t, done.Version(), e.handle(run).Version())
	assert.Equal(t, done.Version(), e.handle(done).Version())
	assert.ElementsMatch(t, paths, e.stored(run))
}

func indexOf(arts []herald.Artifact, f herald.Format) int {
	for i, a := range arts {
		if a.Format == f {
			return i
		}
	}
	return -1
}

func TestFailuresAreClassified(t *testing.T) {
	tests := []struct {
		name       string
		query      string
		ds         func(*herald.DataSource)
		wantStatus herald.RunStatus
		wantReason string
	}{
		{name: "query error", query: `SELECT nope FROM customers`, wantStatus: herald.RunFailed, wantReason: "query error:"},
		{name: "write refused", query: `DELETE FROM customers`, wantStatus: herald.RunFailed, wantReason: "permission:"},
		{
			name:  "timeout",
			query: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n`,
			ds: func(ds *herald.DataSource) {
				ds.StatementTimeout = herald.Duration(300 * time.Millisecond)
			},
			wantStatus: herald.RunFailed, wantReason: "timeout:",
		},
		{
			name: "unreachable database retries", query: `SELECT 1`,
			ds: func(ds *herald.DataSource) {
				ds.SourceKind = herald.DataSourcePostgres
				ds.SealedDSN = sealDSN(t, ds, "postgres://herald@127.0.0.1:1/test?connect_timeout=2")
			},
			wantStatus: herald.RunQueued, wantReason: "connection:",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			if tt.ds != nil {
				ds := e.reloadDS()
				tt.ds(ds)
				require.NoError(t, herald.ReplaceRecord(t.Context(), e.store, ds))
			}
			run := e.runNow(e.report(tt.query, nil), nil)
			assert.Equal(t, tt.wantStatus, run.Status)
			assert.Contains(t, run.Reason, tt.wantReason)
			assert.Empty(t, e.stored(run), "a failed attempt stores nothing")
			assert.Empty(t, run.Artifacts)
			if tt.wantStatus == herald.RunQueued {
				assert.Equal(t, 2, run.Attempt, "a failure that may pass is retried later")
			}
		})
	}
}

// testKey seals data-source DSNs in these tests.
var testKey = bytes.Repeat([]byte{9}, 32)

func sealDSN(t *testing.T, ds *herald.DataSource, dsn string) []byte {
	t.Helper()
	box, err := seal.New(testKey)
	require.NoError(t, err)
	sealed, err := box.Seal([]byte(dsn), herald.DSNSealContext(ds.TenantID, ds.ID))
	require.NoError(t, err)
	return sealed
}

func (e *env) reloadDS() *herald.DataSource {
	ds, err := herald.GetRecord[herald.DataSource](context.Background(), e.store, "acme", e.ds.ID)
	require.NoError(e.t, err)
	return ds
}

func TestRowCapIsReported(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.PDFMaxRows = 5 })
	ds := e.reloadDS()
	ds.RowCap = 12
	require.NoError(t, herald.ReplaceRecord(t.Context(), e.store, ds))
	run := e.runNow(e.report(`SELECT id, name FROM customers ORDER BY id`, nil), nil)
	require.Equal(t, herald.RunSucceeded, run.Status)
	assert.True(t, run.Truncated)
	assert.Equal(t, int64(12), run.Rows)
	assert.Contains(t, run.Reason, "row cap: the query returned more than 12 rows")
	assert.Contains(t, run.Reason, "the PDF shows the first 5 of 12 rows")

	_, body := e.file(run, herald.FormatCSV)
	assert.Len(t, parseCSV(t, body), 13)
	_, meta := e.file(run, herald.FormatMetadata)
	var m metadata
	require.NoError(t, json.Unmarshal(meta, &m))
	assert.True(t, m.Truncated)
	assert.Equal(t, int64(12), m.RowCap)
	pdfArt, pdf := e.file(run, herald.FormatPDF)
	assert.Equal(t, int64(5), pdfArt.Rows)
	assert.Contains(t, strings.Join(strings.Fields(pdfText(t, pdf)), " "), "row cap")
}

// failingBlobs is the real blob store with writes failing after a few
// bytes (a storage outage).
type failingBlobs struct{ BlobStore }

func (failingBlobs) Put(_ context.Context, _ string, r io.Reader, _ herald.BlobPut) (herald.BlobInfo, error) {
	_, _ = io.CopyN(io.Discard, r, 10)
	return herald.BlobInfo{}, herald.Errorf(herald.CodeUnavailable, "storage account unreachable")
}

func TestStorageFailureRetriesLater(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Blobs = failingBlobs{c.Blobs} })
	run := e.runNow(e.report(`SELECT id, name FROM customers ORDER BY id`, nil), nil)
	assert.Equal(t, herald.RunQueued, run.Status)
	assert.Equal(t, 2, run.Attempt)
	assert.Contains(t, run.Reason, "storage: storing ")
	assert.Contains(t, run.Reason, "storage account unreachable")
}

func TestParametersResolveAtTheScheduledInstant(t *testing.T) {
	e := newEnv(t, nil)
	report := e.report(`SELECT COUNT(*) AS orders FROM orders WHERE ordered_at >= :since AND ordered_at < :until`, func(r *herald.Report) {
		r.Parameters = []herald.Parameter{
			{Name: "since", Type: herald.ParamDate, Default: json.RawMessage(`"-7d"`)},
			{Name: "until", Type: herald.ParamDate, Default: json.RawMessage(`"today"`)},
		}
	})
	sch := &herald.Schedule{
		Meta:     herald.Meta{ID: herald.NewID(herald.PrefixSchedule, testNow), TenantID: "acme"},
		ReportID: report.ID, Name: "weekly", Cron: "0 9 * * MON", Timezone: "Pacific/Auckland", Enabled: false,
	}
	sch.Normalize()
	e.create(sch)
	// A backfilled run of Monday 2026-11-02 09:00 in Auckland (Sunday 20:00 UTC).
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, mustZone(t, "Pacific/Auckland"))
	runs, _, err := e.runs.Backfill(t.Context(), sch, at.Add(-time.Minute), at.Add(time.Minute), "ana")
	require.NoError(t, err)
	require.Len(t, runs, 1)
	run := e.handle(runs[0])
	require.Equal(t, herald.RunSucceeded, run.Status, run.Reason)
	_, meta := e.file(run, herald.FormatMetadata)
	var m metadata
	require.NoError(t, json.Unmarshal(meta, &m))
	assert.Equal(t, "2026-10-26", m.Parameters["since"], "seven days before the scheduled day in the schedule's zone")
	assert.Equal(t, "2026-11-02", m.Parameters["until"], "the scheduled day in Auckland, not the UTC day (1 Nov)")
	assert.Equal(t, "Pacific/Auckland", m.Run.Timezone)
	assert.Equal(t, "2026-11-02T09:00:00+13:00", m.Run.ScheduledFor)
	_, body := e.file(run, herald.FormatCSV)
	want := e.direct(`SELECT COUNT(*) FROM orders WHERE ordered_at >= ? AND ordered_at < ?`, "2026-10-26", "2026-11-02")
	assert.Equal(t, want, parseCSV(t, body)[1:])
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func TestDeletedReportFailsTheRun(t *testing.T) {
	e := newEnv(t, nil)
	report := e.report(`SELECT 1 AS one`, nil)
	run, err := e.runs.RunNow(t.Context(), report, nil, "ana")
	require.NoError(t, err)
	require.NoError(t, e.store.Delete(t.Context(), herald.KindReport, "acme", report.ID, ""))
	got := e.handle(run)
	assert.Equal(t, herald.RunFailed, got.Status)
	assert.Equal(t, fmt.Sprintf("configuration: the report %s no longer exists", report.ID), got.Reason)
}

func TestMalformedAndStaleJobs(t *testing.T) {
	e := newEnv(t, nil)
	gone, _ := json.Marshal(herald.GenerateJob{TenantID: "acme", RunID: herald.NewID(herald.PrefixRun, time.Now()), Attempt: 1})
	require.NoError(t, e.h.Handle(t.Context(), gone), "a job for a deleted run is done")
	for _, bad := range []string{`{`, `{}`, `{"tenantId":"acme"}`} {
		assert.Equal(t, herald.CodeInvalid, herald.CodeOf(e.h.Handle(t.Context(), []byte(bad))), bad)
	}
}
