package httpapi

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunNowCancelRetry(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	run := h.must(http.StatusOK, "GET", "/api/v1/runs/"+f.run, f.viewer, nil).JSON
	assert.Equal(t, "manual", run["trigger"])
	assert.Equal(t, "queued", run["status"])
	assert.Nil(t, run["scheduleId"])
	assert.Equal(t, map[string]any{"since": "2026-11-01"}, run["parameters"])
	assert.Equal(t, []any{}, run["artifacts"])
	assert.Equal(t, []any{}, run["deliveries"])

	bad := h.must(http.StatusBadRequest, "POST", "/api/v1/reports/"+f.report+"/runs", f.editor, map[string]any{"parameters": map[string]any{"since": 7, "nope": 1}})
	assert.Len(t, bad.JSON["errors"], 2)
	h.must(http.StatusCreated, "POST", "/api/v1/reports/"+f.report+"/runs", f.editor, nil) // no body: defaults

	canceled := h.must(http.StatusOK, "POST", "/api/v1/runs/"+f.run+"/cancel", f.editor, nil).JSON
	assert.Equal(t, "canceled", canceled["status"])
	assert.Contains(t, canceled["reason"], "test-user")
	h.must(http.StatusConflict, "POST", "/api/v1/runs/"+f.run+"/cancel", f.editor, nil)
	retry := h.must(http.StatusCreated, "POST", "/api/v1/runs/"+f.run+"/retry", f.editor, nil)
	assert.Equal(t, "retry", retry.JSON["trigger"])
	assert.Equal(t, f.run, retry.JSON["retryOf"])
	assert.Equal(t, "/api/v1/runs/"+retry.JSON["id"].(string), retry.Header.Get("Location"))
	h.must(http.StatusConflict, "POST", "/api/v1/runs/"+retry.JSON["id"].(string)+"/retry", f.editor, nil)

	queued := h.must(http.StatusOK, "GET", "/api/v1/runs?status=queued&reportId="+f.report, f.viewer, nil).items()
	assert.Len(t, queued, 2)
	h.must(http.StatusOK, "GET", "/api/v1/runs?status=canceled", f.viewer, nil)
	h.must(http.StatusBadRequest, "GET", "/api/v1/runs?status=lost", f.viewer, nil)

	var actions []string
	for _, e := range h.must(http.StatusOK, "GET", "/api/v1/audit?resourceType=run", f.admin, nil).items() {
		actions = append(actions, e["action"].(string))
	}
	assert.Equal(t, []string{"run.retry", "run.cancel", "run.create", "run.create"}, actions)
}

func TestBackfillAndPreview(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	res := h.must(http.StatusOK, "POST", "/api/v1/schedules/"+f.schedule+"/backfill", f.editor,
		map[string]any{"from": "2026-11-01T00:00:00Z", "to": "2026-11-15T00:00:00Z"}).JSON
	assert.Len(t, res["created"], 2, "two Mondays")
	again := h.must(http.StatusOK, "POST", "/api/v1/schedules/"+f.schedule+"/backfill", f.editor,
		map[string]any{"from": "2026-11-01T00:00:00Z", "to": "2026-11-15T00:00:00Z"}).JSON
	assert.Empty(t, again["created"])
	assert.Len(t, again["existing"], 2, "backfilling twice creates nothing twice")
	h.must(http.StatusBadRequest, "POST", "/api/v1/schedules/"+f.schedule+"/backfill", f.editor, map[string]any{"from": "2026-11-15T00:00:00Z", "to": "2026-11-01T00:00:00Z"})
	h.must(http.StatusBadRequest, "POST", "/api/v1/schedules/"+f.schedule+"/backfill", f.editor, map[string]any{"from": "2026-11-15T00:00:00Z"})

	backfilled := h.must(http.StatusOK, "GET", "/api/v1/runs?trigger=backfill&scheduleId="+f.schedule, f.viewer, nil).items()
	require.Len(t, backfilled, 2)
	assert.Equal(t, "2026-11-09T08:00:00.000Z", backfilled[0]["scheduledFor"], "newest first")

	preview := h.must(http.StatusOK, "POST", "/api/v1/cron/preview", f.viewer,
		map[string]any{"cron": "30 2 * * *", "timezone": "Europe/Berlin", "count": 3, "from": "2026-03-28T00:00:00Z"}).JSON
	assert.Equal(t, "At 02:30, Europe/Berlin", preview["description"])
	times := preview["times"].([]any)
	require.Len(t, times, 3)
	shifted := times[1].(map[string]any)
	assert.Equal(t, "2026-03-29T01:00:00.000Z", shifted["utc"])
	assert.Equal(t, "2026-03-29T03:00:00+02:00", shifted["local"])
	assert.Equal(t, true, shifted["dstShifted"])
	assert.Equal(t, false, times[0].(map[string]any)["dstShifted"])

	bad := h.must(http.StatusBadRequest, "POST", "/api/v1/cron/preview", f.viewer, map[string]any{"cron": "61 * * * *", "timezone": "Nowhere", "count": 1000})
	var fields []string
	for _, e := range bad.JSON["errors"].([]any) {
		fields = append(fields, e.(map[string]any)["field"].(string))
	}
	assert.Equal(t, []string{"cron", "timezone", "count"}, fields)

	next := h.must(http.StatusOK, "GET", "/api/v1/schedules/"+f.schedule+"/next?count=2", f.viewer, nil).JSON
	assert.Len(t, next["times"], 2)
	assert.Equal(t, "2026-11-30T08:00:00.000Z", next["times"].([]any)[0].(map[string]any)["utc"])
	h.must(http.StatusBadRequest, "GET", "/api/v1/schedules/"+f.schedule+"/next?count=0", f.viewer, nil)
}
