package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// fakePreviewer answers every preview with a fixed result or error and
// records what it was asked.
type fakePreviewer struct {
	mu     sync.Mutex
	result Preview
	err    error
	calls  []previewCall
}

type previewCall struct {
	ds      *herald.DataSource
	query   string
	params  map[string]any
	types   map[string]herald.ParamType
	maxRows int
}

func (f *fakePreviewer) Preview(_ context.Context, ds *herald.DataSource, query string, params map[string]any, types map[string]herald.ParamType, maxRows int) (Preview, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, previewCall{ds: ds, query: query, params: params, types: types, maxRows: maxRows})
	return f.result, f.err
}

func (f *fakePreviewer) seen() []previewCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]previewCall(nil), f.calls...)
}

// fields lists the fields a problem names.
func (r response) fields() []string {
	var out []string
	errs, _ := r.JSON["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any)["field"].(string))
	}
	return out
}

func TestPreviewRunsTheQueryOnTheDemoData(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	path := "/api/v1/reports/" + f.report + "/preview"

	res := h.must(http.StatusOK, "POST", path, f.editor, map[string]any{"parameters": map[string]any{"since": "2026-11-01"}})
	cols := res.JSON["columns"].([]any)
	require.Len(t, cols, 2)
	assert.Equal(t, "region", cols[0].(map[string]any)["name"])
	assert.Equal(t, "revenue", cols[1].(map[string]any)["name"])
	rows := res.JSON["rows"].([]any)
	assert.NotEmpty(t, rows)
	assert.LessOrEqual(t, len(rows), PreviewMaxRows)
	assert.Len(t, rows[0], 2)
	assert.Equal(t, false, res.JSON["more"])
	assert.Equal(t, "UTC", res.JSON["timezone"], "a tenant without settings resolves in UTC")
	assert.Equal(t, map[string]any{"since": "2026-11-01"}, res.JSON["parameters"])
	assert.Contains(t, res.JSON, "elapsedMs")

	// No body: the default "-7d" resolves at the request time in the tenant's zone.
	h.must(http.StatusOK, "PUT", "/api/v1/tenant", f.admin, map[string]any{"name": "Acme", "defaultTimezone": "Pacific/Kiritimati"})
	h.setNow(time.Date(2026, 11, 28, 10, 30, 0, 0, time.UTC)) // already 29 November, 00:30, in Kiritimati
	res = h.must(http.StatusOK, "POST", path, f.editor, nil)
	assert.Equal(t, "Pacific/Kiritimati", res.JSON["timezone"])
	assert.Equal(t, map[string]any{"since": "2026-11-22"}, res.JSON["parameters"], "UTC would say 2026-11-21")

	// A query the database refuses is a 400 with the database's reason.
	bad := reportBody(f.dataSource, "Broken")
	bad["query"] = "select no_such_column from orders where ordered_at >= :since"
	id := h.must(http.StatusCreated, "POST", "/api/v1/reports", f.editor, bad).JSON["id"].(string)
	res = h.must(http.StatusBadRequest, "POST", "/api/v1/reports/"+id+"/preview", f.editor, nil)
	assert.Equal(t, "invalid", res.JSON["code"])
	assert.Contains(t, res.JSON["detail"], "no_such_column")
}

func TestPreviewEncodesValuesAndPassesResolvedParameters(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	fake := &fakePreviewer{result: Preview{
		Columns: []PreviewColumn{
			{Name: "n", Type: "int", DBType: "INT8"}, {Name: "big", Type: "int", DBType: "INT8"}, {Name: "neg", Type: "int", DBType: "INT8"},
			{Name: "f", Type: "float", DBType: "FLOAT8"}, {Name: "nan", Type: "float"}, {Name: "inf", Type: "float"}, {Name: "ninf", Type: "float"},
			{Name: "amount", Type: "decimal", DBType: "NUMERIC(30,10)"}, {Name: "day", Type: "date", DBType: "DATE"},
			{Name: "at", Type: "datetime", DBType: "TIMESTAMPTZ"}, {Name: "doc", Type: "json", DBType: "JSONB"},
			{Name: "blob", Type: "bytes", DBType: "BYTEA"}, {Name: "ok", Type: "bool", DBType: "BOOL"},
			{Name: "note", Type: "string", DBType: "TEXT"}, {Name: "nothing", Type: "string", DBType: ""},
		},
		Rows: [][]any{{
			int64(42), int64(1<<53 + 1), int64(math.MinInt64), 0.1, math.NaN(), math.Inf(1), math.Inf(-1),
			"12345678901234567890.1234567890", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
			time.Date(2026, 3, 29, 3, 0, 0, 123456000, berlin), json.RawMessage(`{"a":[1,2]}`),
			[]byte{0, 1, 2, 255}, true, "<b>&</b>", nil,
		}},
		More: true,
	}}
	h.srv.previewer = fake

	res := h.must(http.StatusOK, "POST", "/api/v1/reports/"+f.report+"/preview", f.editor, map[string]any{"parameters": map[string]any{"since": "start_of_month"}})
	var body struct {
		Columns    []map[string]string `json:"columns"`
		Rows       [][]json.RawMessage `json:"rows"`
		More       bool                `json:"more"`
		Parameters map[string]any      `json:"parameters"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.Raw), &body))
	assert.Equal(t, map[string]string{"name": "amount", "type": "decimal", "dbType": "NUMERIC(30,10)"}, body.Columns[7])
	assert.Equal(t, map[string]string{"name": "nothing", "type": "string", "dbType": ""}, body.Columns[14])
	require.Len(t, body.Rows, 1)
	var cells []string
	for _, c := range body.Rows[0] {
		cells = append(cells, string(c))
	}
	assert.Equal(t, []string{
		`42`, `"9007199254740993"`, `"-9223372036854775808"`, `0.1`, `"NaN"`, `"Infinity"`, `"-Infinity"`,
		`"12345678901234567890.1234567890"`, `"2026-11-01"`, `"2026-03-29T01:00:00.123456Z"`, `{"a":[1,2]}`,
		`"AAEC/w=="`, `true`, `"<b>&</b>"`, `null`,
	}, cells)
	assert.True(t, body.More)
	assert.Equal(t, map[string]any{"since": "2026-11-01"}, body.Parameters)

	calls := fake.seen()
	require.Len(t, calls, 1)
	c := calls[0]
	assert.Equal(t, f.dataSource, c.ds.ID, "the report's own data source")
	assert.Equal(t, "acme", c.ds.TenantID)
	assert.Contains(t, c.query, ":since")
	assert.Equal(t, PreviewMaxRows, c.maxRows)
	assert.Equal(t, map[string]herald.ParamType{"since": herald.ParamDate}, c.types)
	since, ok := c.params["since"].(time.Time)
	require.True(t, ok, "dates reach the runner as time.Time, not %T", c.params["since"])
	assert.Equal(t, "2026-11-01", since.Format(time.DateOnly))

	// Integers within ±2^53 stay numbers.
	assert.Equal(t, int64(1<<53), jsonValue(int64(1<<53), false))
	assert.Equal(t, int64(-(1 << 53)), jsonValue(int64(-(1<<53)), false))
	assert.Equal(t, "-9007199254740993", jsonValue(int64(-(1<<53)-1), false))
	assert.Equal(t, []string{"a", "b"}, jsonValue([]string{"a", "b"}, false))
	assert.Equal(t, "not json", jsonValue(json.RawMessage("not json"), false))
	assert.Nil(t, jsonValue([]byte(nil), false))
}

func TestPreviewRefusals(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	other := h.fixture("globex")
	fake := &fakePreviewer{result: Preview{Columns: []PreviewColumn{{Name: "x", Type: "int"}}, Rows: [][]any{{int64(1)}}}}
	h.srv.previewer = fake
	path := "/api/v1/reports/" + f.report + "/preview"

	required := reportBody(f.dataSource, "Needs a region")
	required["query"] = "select region from orders where region = :region and ordered_at >= :since"
	required["parameters"] = []map[string]any{{"name": "region", "type": "string", "required": true}, {"name": "since", "type": "date", "default": "-7d"}}
	requiredID := h.must(http.StatusCreated, "POST", "/api/v1/reports", f.editor, required).JSON["id"].(string)

	tests := []struct {
		name, path, token string
		body              any
		status            int
		fields            []string
		detail            string
	}{
		{"wrong types and unknown names", path, f.editor, map[string]any{"parameters": map[string]any{"since": 7, "nope": 1}}, 400,
			[]string{"parameters.since", "parameters.nope"}, ""},
		{"relative expression that is not one", path, f.editor, map[string]any{"parameters": map[string]any{"since": "last tuesday"}}, 400,
			[]string{"parameters.since"}, "relative expression"},
		{"required parameter without value", "/api/v1/reports/" + requiredID + "/preview", f.editor, nil, 400,
			[]string{"parameters.region"}, "is required"},
		{"required parameter given null", "/api/v1/reports/" + requiredID + "/preview", f.editor, map[string]any{"parameters": map[string]any{"region": nil}}, 400,
			[]string{"parameters.region"}, "is required"},
		{"unknown body field", path, f.editor, map[string]any{"params": map[string]any{}}, 400, []string{"params"}, ""},
		{"malformed body", path, f.editor, `{"parameters":`, 400, nil, "malformed JSON"},
		{"report of another tenant", "/api/v1/reports/" + other.report + "/preview", f.editor, nil, 404, nil, ""},
		{"no such report", "/api/v1/reports/rpt_0000000000000000000000000a/preview", f.editor, nil, 404, nil, ""},
		{"viewer", path, f.viewer, nil, 403, nil, "editor"},
		{"no token", path, "", nil, 401, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.do("POST", tt.path, tt.token, tt.body)
			require.Equal(t, tt.status, res.Code, res.Raw)
			assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
			if tt.fields != nil {
				assert.ElementsMatch(t, tt.fields, res.fields())
			}
			if tt.detail != "" {
				assert.Contains(t, res.JSON["detail"], tt.detail)
			}
			assert.NotContains(t, res.Raw, "globex")
		})
	}
	assert.Empty(t, fake.seen(), "no refused preview reached the runner")
	h.must(http.StatusOK, "POST", "/api/v1/reports/"+requiredID+"/preview", f.editor, map[string]any{"parameters": map[string]any{"region": "EMEA"}})
	h.must(http.StatusOK, "POST", path, f.admin, nil)
	assert.Len(t, fake.seen(), 2)
	assert.Len(t, h.must(http.StatusOK, "GET", "/api/v1/audit?action=run.create", f.admin, nil).items(), 1, "previews create no runs")
}

func TestPreviewRunnerErrorsMapToStatuses(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	fake := &fakePreviewer{}
	h.srv.previewer = fake
	path := "/api/v1/reports/" + f.report + "/preview"
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		detail string
	}{
		{"query refused", herald.Wrap(errors.New(`pq: column "x" does not exist`), herald.CodeInvalid, `column "x" does not exist`), 400, "invalid", `column "x" does not exist`},
		{"permission", herald.Errorf(herald.CodeForbidden, "permission denied for table orders"), 403, "forbidden", "permission denied"},
		{"unreachable", herald.Wrap(errors.New("dial tcp 10.0.0.7:5432: connect: connection refused"), herald.CodeUnavailable, "connection refused"), 503, "unavailable", "connection refused"},
		{"timeout", herald.Errorf(herald.CodeUnavailable, "the query ran longer than the statement timeout (5m0s)"), 503, "unavailable", "statement timeout"},
		{"unclassified", errors.New("driver exploded at 10.0.0.7 with password hunter2"), 500, "internal", "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.mu.Lock()
			fake.err = tt.err
			fake.mu.Unlock()
			res := h.do("POST", path, f.editor, nil)
			require.Equal(t, tt.status, res.Code, res.Raw)
			assert.Equal(t, tt.code, res.JSON["code"])
			assert.Contains(t, res.JSON["detail"], tt.detail)
			assert.NotContains(t, res.Raw, "10.0.0.7", "causes stay in the logs")
			assert.NotContains(t, res.Raw, "hunter2")
		})
	}
}

func TestPreviewNeverAnswersMoreThanItsCap(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	rows := make([][]any, PreviewMaxRows+5)
	for i := range rows {
		rows[i] = []any{int64(i)}
	}
	h.srv.previewer = &fakePreviewer{result: Preview{Columns: []PreviewColumn{{Name: "i", Type: "int"}}, Rows: rows}}
	res := h.must(http.StatusOK, "POST", "/api/v1/reports/"+f.report+"/preview", f.editor, nil)
	assert.Len(t, res.JSON["rows"], PreviewMaxRows)
	assert.Equal(t, true, res.JSON["more"])
}

func TestPreviewUnavailable(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	h.srv.previewer = nil
	res := h.must(http.StatusServiceUnavailable, "POST", "/api/v1/reports/"+f.report+"/preview", f.editor, nil)
	assert.Equal(t, "preview is not available", res.JSON["detail"])
	assert.Equal(t, "unavailable", res.JSON["code"])
}

func TestPreviewOfAReportWhoseDataSourceIsGone(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	h.srv.previewer = &fakePreviewer{}
	// The API refuses to delete a data source in use; a store-level removal
	// (or a race) can still leave a report pointing nowhere.
	require.NoError(t, h.store.Delete(context.Background(), herald.KindDataSource, "acme", f.dataSource, ""))
	res := h.must(http.StatusConflict, "POST", "/api/v1/reports/"+f.report+"/preview", f.editor, nil)
	assert.Contains(t, res.JSON["detail"], "no longer exists")
}
