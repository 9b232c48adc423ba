package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite" // direct queries of the demo database
)

// call sends a JSON request with a bearer token and decodes the answer.
func call(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// download follows an artifact's API link: a 302 to a signed URL, fetched
// without credentials.
func download(t *testing.T, base, token, runID, artifactID string) (*http.Response, []byte) {
	t.Helper()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/api/v1/runs/"+runID+"/artifacts/"+artifactID, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := noFollow.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	link := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(link, base+"/files/"), "a link Herald serves itself: %s", link)

	get, err := http.NewRequestWithContext(t.Context(), http.MethodGet, link, nil)
	require.NoError(t, err)
	file, err := http.DefaultClient.Do(get)
	require.NoError(t, err)
	defer file.Body.Close()
	body, err := io.ReadAll(file.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, file.StatusCode, "%s", body)
	return file, body
}

// TestScheduledDemoReportEndToEnd runs Herald standalone, schedules the
// demo report every two seconds, and checks the first scheduled run's CSV
// and PDF against a direct query of the demo database.
func TestScheduledDemoReportEndToEnd(t *testing.T) {
	dir := t.TempDir()
	base, logs, stop := startServe(t, map[string]string{"HERALD_DATA_DIR": dir, "HERALD_SCAN_INTERVAL": "1s"}, "--addr", "127.0.0.1:0")
	token := tokenFor(t, dir, "demo", "editor")

	_, reports := call(t, http.MethodGet, base+"/api/v1/reports", token, nil)
	var reportID string
	for _, r := range reports["items"].([]any) {
		if r.(map[string]any)["name"] == "Weekly sales by region" {
			reportID = r.(map[string]any)["id"].(string)
		}
	}
	require.NotEmpty(t, reportID, "the demo report is seeded")
	code, sch := call(t, http.MethodPost, base+"/api/v1/schedules", token, map[string]any{
		"reportId": reportID, "name": "every two seconds", "cron": "*/2 * * * * *", "timezone": "Europe/Berlin", "enabled": true,
	})
	require.Equal(t, http.StatusCreated, code, "%v", sch)

	var run map[string]any
	require.Eventually(t, func() bool {
		_, runs := call(t, http.MethodGet, base+"/api/v1/runs?scheduleId="+sch["id"].(string)+"&status=succeeded", token, nil)
		items, _ := runs["items"].([]any)
		if len(items) == 0 {
			return false
		}
		_, run = call(t, http.MethodGet, base+"/api/v1/runs/"+items[0].(map[string]any)["id"].(string), token, nil)
		return true
	}, 30*time.Second, 200*time.Millisecond, "a scheduled run succeeds: %s", logs)
	_, _ = call(t, http.MethodPost, base+"/api/v1/schedules/"+sch["id"].(string)+"/pause", token, nil)
	assert.Equal(t, "schedule", run["trigger"])

	arts := map[string]map[string]any{}
	for _, a := range run["artifacts"].([]any) {
		arts[a.(map[string]any)["format"].(string)] = a.(map[string]any)
	}
	require.Contains(t, arts, "csv")
	require.Contains(t, arts, "pdf")
	require.Contains(t, arts, "metadata")

	// The metadata says which day "-7d" resolved to for this run.
	_, metaBody := download(t, base, token, run["id"].(string), arts["metadata"]["id"].(string))
	var meta struct {
		Parameters map[string]string `json:"parameters"`
		Rows       int64             `json:"rows"`
	}
	require.NoError(t, json.Unmarshal(metaBody, &meta))
	scheduled, err := time.Parse(time.RFC3339, run["scheduledFor"].(string))
	require.NoError(t, err)
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	since := scheduled.In(berlin).AddDate(0, 0, -7).Format(time.DateOnly)
	assert.Equal(t, since, meta.Parameters["since"])

	want := directQuery(t, filepath.Join(dir, "demo.db"),
		"SELECT region, channel, COUNT(*) AS orders, ROUND(SUM(total), 2) AS revenue FROM orders "+
			"WHERE ordered_at >= ? AND status <> 'cancelled' GROUP BY region, channel ORDER BY revenue DESC", since)
	require.NotEmpty(t, want)

	resp, csvBody := download(t, base, token, run["id"].(string), arts["csv"]["id"].(string))
	assert.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Contains(t, resp.Header.Get("Content-Disposition"), "attachment")
	recs, err := csv.NewReader(bytes.NewReader(csvBody)).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, []string{"Region", "Channel", "Orders", "Revenue"}, recs[0])
	assert.Equal(t, want, recs[1:], "the CSV matches a direct query of the demo database")
	assert.Equal(t, int64(len(want)), meta.Rows)

	resp, pdf := download(t, base, token, run["id"].(string), arts["pdf"]["id"].(string))
	assert.Equal(t, "application/pdf", resp.Header.Get("Content-Type"))
	text := pdfToText(t, pdf)
	for _, row := range want {
		assert.Contains(t, text, row[0]+" ", "the PDF lists region %s", row[0])
	}
	assert.Contains(t, text, "Weekly sales by region")
	assert.Contains(t, text, "Page 1 of 1")

	// The downloads were audited.
	_, audit := call(t, http.MethodGet, base+"/api/v1/audit", tokenFor(t, dir, "demo", "admin"), nil)
	auditJSON, _ := json.Marshal(audit)
	assert.Contains(t, string(auditJSON), "artifact.download")
	assert.NotContains(t, string(auditJSON), "/files/", "signed links are not recorded")
	assert.NotContains(t, logs.String(), "sig=", "signed links are not logged")
	assert.Equal(t, 0, stop())
}

func directQuery(t *testing.T, path, query string, args ...any) [][]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), query, args...)
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
		}
		out = append(out, row)
	}
	require.NoError(t, rows.Err())
	return out
}

// pdfToText checks a PDF with qpdf and extracts its text with pdftotext.
func pdfToText(t *testing.T, pdf []byte) string {
	t.Helper()
	for _, tool := range []string{"qpdf", "pdftotext"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required when CI=true (make test installs it)", tool)
			}
			t.Skipf("!!! SKIPPED the PDF checks: %s is not installed", tool)
		}
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	require.NoError(t, os.WriteFile(path, pdf, 0o600))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "qpdf", "--check", path).CombinedOutput()
	require.NoError(t, err, "qpdf --check: %s", out)
	text, err := exec.CommandContext(ctx, "pdftotext", "-layout", path, "-").Output()
	require.NoError(t, err)
	return string(text)
}

func TestFileLinksAreServedBesideTheAPI(t *testing.T) {
	echo := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, name+" "+r.URL.Path) })
	}
	h := withFiles(echo("api"), echo("files"))
	for path, want := range map[string]string{
		"/files/acme/r/run/art":     "files /files/acme/r/run/art",
		"/api/files/acme/r/run/art": "files /files/acme/r/run/art", // behind the Functions host
		"/api/v1/runs":              "api /api/v1/runs",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil))
		assert.Equal(t, want, rec.Body.String())
	}
}
