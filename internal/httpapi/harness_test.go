package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/auth/authtest"
	"github.com/heraldreports/herald/internal/datasource"
	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/scheduler"
	"github.com/heraldreports/herald/internal/seal"
	"github.com/heraldreports/herald/internal/sqlite"
)

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness is a real API over a real SQLite store, real token validation and
// a real data-source runner on the demo dataset.
type harness struct {
	t      *testing.T
	srv    *Server
	store  *sqlite.Store
	queue  *sqlite.Queue
	tokens *authtest.Issuer
	links  *fakeLinker
	logs   *syncBuffer
	mu     sync.Mutex
	now    time.Time
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "herald.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	box, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	require.NoError(t, err)
	demo := filepath.Join(dir, "demo.db")
	require.NoError(t, datasource.EnsureDemo(ctx, demo, time.Now()))
	runner := datasource.NewRunner(datasource.Config{Unsealer: box, DemoPath: demo, Now: time.Now})
	t.Cleanup(func() { _ = runner.Close() })
	h := &harness{t: t, store: store, tokens: authtest.New(t), links: &fakeLinker{}, logs: &syncBuffer{},
		now: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	h.queue = store.Queue()
	h.srv = New(Config{
		Store: store, Auth: h.tokens.Validator(), Sealer: box, Tester: runner,
		Runs:    scheduler.NewRuns(store, h.queue, nil, h.clock),
		Preview: runnerPreviewer{runner}, Links: h.links,
		Log: slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now: h.clock, Version: "test",
	})
	return h
}

// clock is the server's clock: it ticks a millisecond per reading, so
// records made one after another have distinct, ordered times.
func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(time.Millisecond)
	return h.now
}

// setNow moves the server's clock.
func (h *harness) setNow(t time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = t
}

// response is a recorded answer with its decoded JSON body.
type response struct {
	Code   int
	Header http.Header
	Raw    string
	JSON   map[string]any
}

func (r response) items() []map[string]any {
	var out []map[string]any
	list, _ := r.JSON["items"].([]any)
	for _, it := range list {
		m, _ := it.(map[string]any)
		out = append(out, m)
	}
	return out
}

// do sends a request with an optional bearer token and JSON body (a string
// is sent as is, anything else is marshalled).
func (h *harness) do(method, path, token string, body any, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(h.t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	res := response{Code: rec.Code, Header: rec.Header(), Raw: rec.Body.String()}
	if len(res.Raw) > 0 && (res.Raw[0] == '{') {
		_ = json.Unmarshal(rec.Body.Bytes(), &res.JSON)
	}
	return res
}

// must sends a request and requires the status.
func (h *harness) must(status int, method, path, token string, body any, headers ...string) response {
	h.t.Helper()
	res := h.do(method, path, token, body, headers...)
	require.Equal(h.t, status, res.Code, "%s %s: %s", method, path, res.Raw)
	return res
}

// fixture is one tenant's set of records, created through the API.
type fixture struct {
	tenant     string
	admin      string
	editor     string
	viewer     string
	dataSource string
	report     string
	schedule   string
	run        string
	// artifactRun is a succeeded run with two artifacts (csv, pdf), written
	// to the store as generation would; artifact is the id of its csv file.
	artifactRun string
	artifact    string
}

func (h *harness) fixture(tenant string) fixture {
	h.t.Helper()
	f := fixture{tenant: tenant, admin: h.tokens.Token(tenant, "admin"), editor: h.tokens.Token(tenant, "editor"), viewer: h.tokens.Token(tenant, "viewer")}
	f.dataSource = h.must(http.StatusCreated, "POST", "/api/v1/datasources", f.admin, map[string]any{"name": "Demo " + tenant, "kind": "demo"}).JSON["id"].(string)
	f.report = h.must(http.StatusCreated, "POST", "/api/v1/reports", f.editor, reportBody(f.dataSource, "Sales "+tenant)).JSON["id"].(string)
	f.schedule = h.must(http.StatusCreated, "POST", "/api/v1/schedules", f.editor, scheduleBody(f.report, "Mondays "+tenant)).JSON["id"].(string)
	f.run = h.must(http.StatusCreated, "POST", "/api/v1/reports/"+f.report+"/runs", f.editor, map[string]any{"parameters": map[string]any{"since": "2026-11-01"}}).JSON["id"].(string)
	f.artifactRun, f.artifact = h.succeededRun(tenant, f.report)
	return f
}

// succeededRun stores a succeeded run of the report with a csv and a pdf
// artifact, as generation leaves it, and returns the run's and the csv's ids.
func (h *harness) succeededRun(tenant, reportID string) (runID, csvID string) {
	h.t.Helper()
	now := herald.At(h.clock())
	run := &herald.Run{
		Meta:     herald.Meta{ID: herald.NewID(herald.PrefixRun, now.Time), TenantID: tenant},
		ReportID: reportID, Trigger: herald.TriggerManual, ScheduledFor: now, Status: herald.RunSucceeded, Attempt: 1,
		StartedAt: now, FinishedAt: now, Rows: 4,
		Artifacts: []herald.Artifact{
			{ID: herald.NewID(herald.PrefixArtifact, now.Time), Format: herald.FormatCSV, Name: "sales-2026-11-28.csv",
				ContentType: "text/csv; charset=utf-8", Size: 212, SHA256: strings.Repeat("ab", 32), Rows: 4, CreatedAt: now},
			{ID: herald.NewID(herald.PrefixArtifact, now.Time), Format: herald.FormatPDF, Name: "sales-2026-11-28.pdf",
				ContentType: "application/pdf", Size: 48213, SHA256: strings.Repeat("cd", 32), Rows: 4, CreatedAt: now},
		},
	}
	run.Touch("generator", now)
	require.NoError(h.t, herald.CreateRecord(context.Background(), h.store, run))
	return run.ID, run.Artifacts[0].ID
}

// runnerPreviewer is the Previewer the function app wires: a real query
// runner, read until maxRows.
type runnerPreviewer struct{ runner *datasource.Runner }

func (p runnerPreviewer) Preview(ctx context.Context, ds *herald.DataSource, query string, params map[string]any, types map[string]herald.ParamType, maxRows int) (Preview, error) {
	rows, err := p.runner.Query(ctx, datasource.Request{DataSource: ds, Query: query, Params: params, ParamTypes: types, MaxRows: maxRows})
	if err != nil {
		return Preview{}, err
	}
	defer func() { _ = rows.Close() }()
	out := Preview{}
	for _, c := range rows.Columns() {
		out.Columns = append(out.Columns, PreviewColumn{Name: c.Name, Type: string(c.Type), DBType: c.DBType})
	}
	for rows.Next() {
		out.Rows = append(out.Rows, rows.Values())
	}
	if err := rows.Err(); err != nil {
		return Preview{}, err
	}
	out.More = rows.Truncated()
	return out, nil
}

// linkCall is one SignedURL call a fakeLinker saw.
type linkCall struct {
	path string
	ttl  time.Duration
	link herald.BlobLink
}

// fakeLinker signs links that carry a recognisable secret.
type fakeLinker struct {
	mu    sync.Mutex
	calls []linkCall
	err   error
}

// linkSecret marks every URL a fakeLinker issues; it must never show up in
// logs or audit records.
const linkSecret = "sig=S3CRET-SIGNATURE"

func (l *fakeLinker) SignedURL(_ context.Context, path string, ttl time.Duration, link herald.BlobLink) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return "", l.err
	}
	l.calls = append(l.calls, linkCall{path: path, ttl: ttl, link: link})
	return fmt.Sprintf("https://blobs.example.test/artifacts/%s?se=%d&%s%d", path, len(l.calls), linkSecret, len(l.calls)), nil
}

func (l *fakeLinker) seen() []linkCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]linkCall(nil), l.calls...)
}

func reportBody(dataSourceID, name string) map[string]any {
	return map[string]any{
		"name": name, "dataSourceId": dataSourceID,
		"query":      "select region, sum(total) as revenue from orders where ordered_at >= :since group by region",
		"parameters": []map[string]any{{"name": "since", "type": "date", "default": "-7d"}},
		"formats":    []string{"csv", "pdf"},
		"layout":     map[string]any{"title": name, "columns": []map[string]any{{"field": "revenue", "format": "currency", "currency": "EUR"}}},
	}
}

func scheduleBody(reportID, name string) map[string]any {
	return map[string]any{
		"reportId": reportID, "name": name, "cron": "0 9 * * MON", "timezone": "Europe/Berlin",
		"parameters": map[string]any{"since": "start_of_week"},
		"deliveries": []map[string]any{{"channel": "email", "to": []string{"ana@example.com"}}},
	}
}
