package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMe(t *testing.T) {
	h := newHarness(t)
	res := h.must(http.StatusOK, "GET", "/api/v1/me", h.tokens.Token("acme", "editor"), nil)
	assert.Equal(t, map[string]any{"id": "acme", "name": "acme"}, res.JSON["tenant"])
	assert.Equal(t, "test-user", res.JSON["subject"])
	assert.Equal(t, "editor", res.JSON["role"])
	assert.Equal(t, []any{"editor"}, res.JSON["roles"])
}

func TestReportLifecycle(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")

	created := h.must(http.StatusCreated, "POST", "/api/v1/reports", f.editor, reportBody(f.dataSource, "Revenue"))
	id := created.JSON["id"].(string)
	assert.Equal(t, "/api/v1/reports/"+id, created.Header.Get("Location"))
	etag := created.Header.Get("ETag")
	require.NotEmpty(t, etag)
	assert.Equal(t, "auto", created.JSON["layout"].(map[string]any)["orientation"], "defaults are filled")

	got := h.must(http.StatusOK, "GET", "/api/v1/reports/"+id, f.viewer, nil)
	assert.Equal(t, etag, got.Header.Get("ETag"))
	h.must(http.StatusNotModified, "GET", "/api/v1/reports/"+id, f.viewer, nil, "If-None-Match", etag)

	update := reportBody(f.dataSource, "Revenue by region")
	updated := h.must(http.StatusOK, "PUT", "/api/v1/reports/"+id, f.editor, update, "If-Match", etag)
	assert.NotEqual(t, etag, updated.Header.Get("ETag"))
	assert.Equal(t, "Revenue by region", updated.JSON["name"])

	stale := h.must(http.StatusPreconditionFailed, "PUT", "/api/v1/reports/"+id, f.editor, reportBody(f.dataSource, "Lost update"), "If-Match", etag)
	assert.Equal(t, "precondition_failed", stale.JSON["code"])
	assert.Equal(t, "Revenue by region", h.must(http.StatusOK, "GET", "/api/v1/reports/"+id, f.viewer, nil).JSON["name"])

	h.must(http.StatusPreconditionFailed, "DELETE", "/api/v1/reports/"+id, f.editor, nil, "If-Match", etag)
	h.must(http.StatusNoContent, "DELETE", "/api/v1/reports/"+id, f.editor, nil, "If-Match", updated.Header.Get("ETag"))
	h.must(http.StatusNotFound, "GET", "/api/v1/reports/"+id, f.viewer, nil)

	audit := h.must(http.StatusOK, "GET", "/api/v1/audit?resourceId="+id, f.admin, nil).items()
	require.Len(t, audit, 3)
	assert.Equal(t, []any{"report.delete", "report.update", "report.create"}, []any{audit[0]["action"], audit[1]["action"], audit[2]["action"]})
	change := audit[1]["changes"].(map[string]any)
	assert.Equal(t, map[string]any{"from": "Revenue", "to": "Revenue by region"}, change["name"])
	assert.Equal(t, "test-user", audit[1]["actor"])
	assert.Contains(t, audit[1]["summary"], "Revenue by region")
}

func TestReferencesAreChecked(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	other := h.fixture("globex")

	res := h.must(http.StatusBadRequest, "POST", "/api/v1/reports", f.editor, reportBody(other.dataSource, "Sneaky"))
	assert.Equal(t, "dataSourceId", res.JSON["errors"].([]any)[0].(map[string]any)["field"])
	res = h.must(http.StatusBadRequest, "POST", "/api/v1/schedules", f.editor, scheduleBody(other.report, "Sneaky"))
	assert.Equal(t, "reportId", res.JSON["errors"].([]any)[0].(map[string]any)["field"])

	conflict := h.must(http.StatusConflict, "DELETE", "/api/v1/reports/"+f.report, f.editor, nil)
	assert.Contains(t, conflict.JSON["detail"], "schedules")
	h.must(http.StatusConflict, "DELETE", "/api/v1/datasources/"+f.dataSource, f.admin, nil)
	h.must(http.StatusNoContent, "DELETE", "/api/v1/schedules/"+f.schedule, f.editor, nil)
	h.must(http.StatusNoContent, "DELETE", "/api/v1/reports/"+f.report, f.editor, nil)
	h.must(http.StatusNoContent, "DELETE", "/api/v1/datasources/"+f.dataSource, f.admin, nil)
}

func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	before := h.snapshot(f)
	good := scheduleBody(f.report, "Fine")
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for key, val := range good {
			m[key] = val
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
		field, detail      string
	}{
		{"malformed JSON", "POST", "/api/v1/schedules", `{"name": "x",`, nil, 400, "", "malformed JSON"},
		{"syntax error position", "POST", "/api/v1/schedules", "{\n  \"name\": 'x'\n}", nil, 400, "", "line 2"},
		{"not an object", "POST", "/api/v1/schedules", `[1,2]`, nil, 400, "", "must be"},
		{"empty body", "POST", "/api/v1/schedules", ``, nil, 400, "", "empty"},
		{"trailing data", "POST", "/api/v1/schedules", `{"name":"x"} {"name":"y"}`, nil, 400, "", "after the JSON object"},
		{"unknown field", "POST", "/api/v1/schedules", with("colour", "red"), nil, 400, "colour", "unknown field"},
		{"wrong type", "POST", "/api/v1/schedules", with("enabled", "yes"), nil, 400, "enabled", "true or false"},
		{"invalid cron", "POST", "/api/v1/schedules", with("cron", "61 9 * * *"), nil, 400, "cron", "minute"},
		{"six fields too many", "POST", "/api/v1/schedules", with("cron", "0 0 9 * * MON 2026"), nil, 400, "cron", ""},
		{"unknown zone", "POST", "/api/v1/schedules", with("timezone", "Mars/Olympus_Mons"), nil, 400, "timezone", "Mars/Olympus_Mons"},
		{"bad duration", "POST", "/api/v1/schedules", with("catchUpWindow", "one day"), nil, 400, "", "duration"},
		{"bad recipient", "POST", "/api/v1/schedules", with("deliveries", []map[string]any{{"channel": "email", "to": []string{"not-an-address"}}}), nil, 400, "deliveries[0].to[0]", ""},
		{"wrong content type", "POST", "/api/v1/schedules", `name=x`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "", "application/json"},
		{"oversized body", "POST", "/api/v1/schedules", `{"name":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, nil, 413, "", "larger than"},
		{"bad If-Match", "PUT", "/api/v1/schedules/" + f.schedule, good, []string{"If-Match", "not-quoted"}, 400, "", "If-Match"},
		{"bad limit", "GET", "/api/v1/reports?limit=1000", nil, nil, 400, "limit", ""},
		{"bad cursor", "GET", "/api/v1/reports?cursor=bm90LWEtY3Vyc29y", nil, nil, 400, "", ""},
		{"bad filter", "GET", "/api/v1/schedules?enabled=maybe", nil, nil, 400, "enabled", ""},
		{"bad time filter", "GET", "/api/v1/audit?from=yesterday", nil, nil, 400, "from", ""},
		{"malformed id", "GET", "/api/v1/reports/../../etc", nil, nil, 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := f.admin
			res := h.do(tt.method, tt.path, token, tt.body, tt.headers...)
			require.Equal(t, tt.status, res.Code, res.Raw)
			assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
			assert.NotEmpty(t, res.JSON["requestId"])
			if tt.detail != "" {
				assert.Contains(t, res.JSON["detail"], tt.detail)
			}
			if tt.field != "" {
				var fields []string
				errs, _ := res.JSON["errors"].([]any)
				for _, e := range errs {
					fields = append(fields, e.(map[string]any)["field"].(string))
				}
				assert.Contains(t, fields, tt.field)
			}
		})
	}
	assert.Equal(t, before, h.snapshot(f))
	assert.Len(t, h.must(http.StatusOK, "GET", "/api/v1/schedules", f.viewer, nil).items(), 1)
	assert.Len(t, h.must(http.StatusOK, "GET", "/api/v1/audit", f.admin, nil).items(), 4, "refused requests are not audited")
}

func TestDataSourceDSNIsWriteOnly(t *testing.T) {
	h := newHarness(t)
	admin := h.tokens.Token("acme", "admin")
	const secret = "s3cr3t-Pa55word"
	dsn := "postgres://reporter:" + secret + "@db.example.com:5432/sales?sslmode=require"
	created := h.must(http.StatusCreated, "POST", "/api/v1/datasources", admin, map[string]any{"name": "Sales DB", "kind": "postgres", "dsn": dsn})
	id := created.JSON["id"].(string)
	assert.Equal(t, true, created.JSON["hasDsn"])
	assert.NotContains(t, created.JSON, "dsn")

	// An update without dsn keeps it; a rename is audited without the secret.
	h.must(http.StatusOK, "PUT", "/api/v1/datasources/"+id, admin, map[string]any{"name": "Sales", "kind": "postgres"})
	h.must(http.StatusOK, "PUT", "/api/v1/datasources/"+id, admin, map[string]any{"name": "Sales", "kind": "postgres", "dsn": dsn + "&x=1"})
	h.must(http.StatusBadRequest, "PUT", "/api/v1/datasources/"+id, admin, map[string]any{"name": "Sales", "kind": "mysql"})

	stored, err := h.store.Get(t.Context(), "datasource", "acme", id)
	require.NoError(t, err)
	everything := []string{
		h.must(http.StatusOK, "GET", "/api/v1/datasources/"+id, admin, nil).Raw,
		h.must(http.StatusOK, "GET", "/api/v1/datasources", admin, nil).Raw,
		h.must(http.StatusOK, "GET", "/api/v1/audit", admin, nil).Raw,
		string(stored.Body),
		h.logs.String(),
	}
	for i, text := range everything {
		assert.NotContains(t, text, secret, "place %d", i)
		assert.NotContains(t, text, "db.example.com", "place %d", i)
	}
	audit := h.must(http.StatusOK, "GET", "/api/v1/audit?action=datasource.update", admin, nil).items()
	require.Len(t, audit, 2)
	assert.Equal(t, "changed", audit[0]["changes"].(map[string]any)["dsn"])

	// The connection test reaches the runner, which fails without leaking the DSN.
	res := h.must(http.StatusOK, "POST", "/api/v1/datasources/"+id+"/test", admin, nil)
	assert.Equal(t, false, res.JSON["ok"])
	assert.NotContains(t, res.Raw, secret)
}

func TestDemoDataSourceConnectionTest(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	res := h.must(http.StatusOK, "POST", "/api/v1/datasources/"+f.dataSource+"/test", f.admin, nil)
	assert.Equal(t, true, res.JSON["ok"], res.Raw)
	h.must(http.StatusBadRequest, "POST", "/api/v1/datasources", f.admin, map[string]any{"name": "Local", "kind": "sqlite", "dsn": "/etc/passwd"})
}

func TestScheduleNextRunPauseResume(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	path := "/api/v1/schedules/" + f.schedule
	s := h.must(http.StatusOK, "GET", path, f.viewer, nil).JSON
	// 2026-11-28 is a Saturday; the next Monday 09:00 in Berlin (CET, UTC+1) is 08:00 UTC on the 30th.
	assert.Equal(t, "2026-11-30T08:00:00.000Z", s["nextRunAt"])
	assert.Equal(t, "latest", s["misfirePolicy"])
	assert.Equal(t, "bufferOne", s["overlapPolicy"])
	assert.Contains(t, s["cronDescription"], "Europe/Berlin")

	paused := h.must(http.StatusOK, "POST", path+"/pause", f.editor, nil).JSON
	assert.Equal(t, false, paused["enabled"])
	assert.Nil(t, paused["nextRunAt"])
	h.must(http.StatusOK, "POST", path+"/pause", f.editor, nil) // idempotent
	edited := h.must(http.StatusOK, "PUT", path, f.editor, scheduleBody(f.report, "Mondays, paused")).JSON
	assert.Equal(t, false, edited["enabled"], "an edit that does not mention enabled keeps the schedule paused")
	assert.Nil(t, edited["nextRunAt"])

	h.setNow(time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC)) // a Tuesday, after a missed Monday
	resumed := h.must(http.StatusOK, "POST", path+"/resume", f.editor, nil).JSON
	assert.Equal(t, true, resumed["enabled"])
	assert.Equal(t, "2026-12-14T08:00:00.000Z", resumed["nextRunAt"], "no catch-up of runs missed while paused")

	// An edit that keeps the timing keeps the pending next run.
	h.setNow(time.Date(2026, 12, 14, 8, 0, 30, 0, time.UTC)) // due, not yet scanned
	body := scheduleBody(f.report, "Renamed")
	kept := h.must(http.StatusOK, "PUT", path, f.editor, body).JSON
	assert.Equal(t, "2026-12-14T08:00:00.000Z", kept["nextRunAt"])
	body["cron"] = "30 7 * * *"
	body["timezone"] = "America/New_York"
	moved := h.must(http.StatusOK, "PUT", path, f.editor, body).JSON
	assert.Equal(t, "2026-12-14T12:30:00.000Z", moved["nextRunAt"], "07:30 EST is 12:30 UTC")

	actions := []string{}
	for _, e := range h.must(http.StatusOK, "GET", "/api/v1/audit?resourceType=schedule", f.admin, nil).items() {
		actions = append(actions, e["action"].(string))
	}
	assert.Equal(t, []string{"schedule.update", "schedule.update", "schedule.resume", "schedule.update", "schedule.pause", "schedule.create"}, actions)
}

func TestPagination(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	for i := range 6 {
		h.must(http.StatusCreated, "POST", "/api/v1/reports", f.editor, reportBody(f.dataSource, fmt.Sprintf("Report %02d", i)))
	}
	var names []string
	next := "/api/v1/reports?limit=3"
	pages := 0
	for next != "" {
		res := h.must(http.StatusOK, "GET", next, f.viewer, nil)
		pages++
		for _, it := range res.items() {
			names = append(names, it["name"].(string))
		}
		next = ""
		if c, ok := res.JSON["nextCursor"].(string); ok {
			next = "/api/v1/reports?limit=3&cursor=" + c
		}
	}
	assert.Equal(t, 3, pages)
	assert.Equal(t, []string{"Report 00", "Report 01", "Report 02", "Report 03", "Report 04", "Report 05", "Sales acme"}, names, "sorted by name")

	filtered := h.must(http.StatusOK, "GET", "/api/v1/reports?dataSourceId="+f.dataSource+"&limit=200", f.viewer, nil)
	assert.Len(t, filtered.items(), 7)
	assert.Nil(t, filtered.JSON["nextCursor"])
}

func TestTenantSettings(t *testing.T) {
	h := newHarness(t)
	admin := h.tokens.Token("acme", "admin")
	res := h.must(http.StatusOK, "GET", "/api/v1/tenant", h.tokens.Token("acme", "viewer"), nil)
	assert.Equal(t, float64(90), res.JSON["retentionDays"])
	put := h.must(http.StatusOK, "PUT", "/api/v1/tenant", admin, map[string]any{"name": "Acme Corp", "defaultTimezone": "Europe/Paris", "retentionDays": 30})
	h.must(http.StatusPreconditionFailed, "PUT", "/api/v1/tenant", admin, map[string]any{"name": "Stale", "retentionDays": 30}, "If-Match", `"0"`)
	h.must(http.StatusOK, "PUT", "/api/v1/tenant", admin, map[string]any{"name": "Acme Corp.", "retentionDays": 30}, "If-Match", put.Header.Get("ETag"))
	h.must(http.StatusBadRequest, "PUT", "/api/v1/tenant", admin, map[string]any{"name": "Acme", "retentionDays": 0, "defaultTimezone": "Nowhere/City"})
	me := h.must(http.StatusOK, "GET", "/api/v1/me", admin, nil)
	assert.Equal(t, "Acme Corp.", me.JSON["tenant"].(map[string]any)["name"])
}

func TestRequestIDs(t *testing.T) {
	h := newHarness(t)
	res := h.must(http.StatusOK, "GET", "/healthz", "", nil, "X-Request-Id", "abc-123")
	assert.Equal(t, "abc-123", res.Header.Get("X-Request-Id"))
	res = h.must(http.StatusOK, "GET", "/healthz", "", nil, "X-Request-Id", "bad id with spaces\n")
	assert.Len(t, res.Header.Get("X-Request-Id"), 24)
	assert.Contains(t, h.logs.String(), `"requestId":"abc-123"`)
	h.must(http.StatusOK, "GET", "/api/v1/me", h.tokens.Token("acme", "viewer"), nil, "X-Request-Id", "req-with-tenant")
	var line string
	for _, l := range strings.Split(h.logs.String(), "\n") {
		if strings.Contains(l, `"requestId":"req-with-tenant"`) && strings.Contains(l, `"msg":"request"`) {
			line = l
		}
	}
	assert.Contains(t, line, `"tenantId":"acme"`, "the access log names the tenant")
}
