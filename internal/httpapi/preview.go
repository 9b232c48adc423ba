package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// PreviewMaxRows is how many rows a report preview returns at most.
const PreviewMaxRows = 50

// Previewer runs a report's query for a preview: at most maxRows rows,
// read-only, under the data source's statement timeout. params holds
// resolved values (see herald.ResolveParameters) and types their declared
// types. Errors are *herald.Error values classified by the query runner
// (CodeInvalid for a query the database refuses, CodeUnavailable when it
// cannot be reached, ...); their messages are shown to the caller.
type Previewer interface {
	Preview(ctx context.Context, ds *herald.DataSource, query string, params map[string]any, types map[string]herald.ParamType, maxRows int) (Preview, error)
}

// Preview is the first rows of a query's result.
type Preview struct {
	Columns []PreviewColumn
	// Rows holds the values of each row, one per column: nil, string,
	// int64, float64, bool, time.Time, json.RawMessage or []byte (the
	// runner's typed values; decimals arrive as exact text).
	Rows [][]any
	// More reports that the result has rows beyond maxRows.
	More bool
}

// PreviewColumn describes one result column.
type PreviewColumn struct {
	Name string
	// Type is the portable type: string, int, float, decimal, bool, date,
	// datetime, json, bytes or unknown.
	Type string
	// DBType is the database's own type name; it may be empty.
	DBType string
}

type reportPreviewInput struct {
	Parameters map[string]json.RawMessage `json:"parameters"`
}

type previewColumnView struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	DBType string `json:"dbType"`
}

type reportPreviewView struct {
	Columns    []previewColumnView `json:"columns"`
	Rows       [][]any             `json:"rows"`
	More       bool                `json:"more"`
	ElapsedMs  int64               `json:"elapsedMs"`
	Timezone   string              `json:"timezone"`
	Parameters map[string]any      `json:"parameters"`
}

// previewReport serves POST /reports/{id}/preview: the first rows of the
// report's result with the given parameter overrides, nothing stored.
func (s *Server) previewReport(w http.ResponseWriter, r *http.Request) {
	if s.previewer == nil {
		writeError(w, r, herald.Errorf(herald.CodeUnavailable, "preview is not available"))
		return
	}
	var in reportPreviewInput
	if err := decodeOptionalJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	p, report, err := s.reports().load(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ds, err := herald.GetRecord[herald.DataSource](r.Context(), s.store, p.TenantID, report.DataSourceID)
	if err != nil {
		if herald.Is(err, herald.CodeNotFound) {
			err = herald.Errorf(herald.CodeConflict, "the data source %s of report %s no longer exists: choose another one", report.DataSourceID, report.ID)
		}
		writeError(w, r, err)
		return
	}
	zone, err := s.tenantZone(r, p.TenantID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	values, types, err := herald.ResolveParameters(report.Parameters, s.now(), zone, in.Parameters)
	if err != nil {
		writeError(w, r, err)
		return
	}
	start := time.Now()
	pv, err := s.previewer.Preview(r.Context(), ds, report.Query, values, types, PreviewMaxRows)
	elapsed := time.Since(start).Milliseconds()
	if err != nil {
		writeError(w, r, fmt.Errorf("preview of report %s: %w", report.ID, err))
		return
	}
	logFrom(r.Context()).Info("report previewed", "tenantId", p.TenantID, "reportId", report.ID, "rows", len(pv.Rows), "elapsedMs", elapsed)
	writeJSON(w, http.StatusOK, viewPreview(pv, values, types, zone, elapsed))
}

// tenantZone is the tenant's default time zone, UTC when it has none.
func (s *Server) tenantZone(r *http.Request, tenantID string) (*time.Location, error) {
	t, err := s.loadTenant(r, tenantID)
	if err != nil {
		return nil, err
	}
	if t.DefaultTimezone == "" {
		return time.UTC, nil
	}
	if zone, err := herald.LoadZone(t.DefaultTimezone); err == nil {
		return zone, nil
	}
	return time.UTC, nil // a stored zone that no longer loads: resolve in UTC rather than fail
}

func viewPreview(pv Preview, values map[string]any, types map[string]herald.ParamType, zone *time.Location, elapsed int64) reportPreviewView {
	if len(pv.Rows) > PreviewMaxRows { // a runner that read past the cap
		pv.Rows, pv.More = pv.Rows[:PreviewMaxRows], true
	}
	out := reportPreviewView{
		Columns: make([]previewColumnView, len(pv.Columns)), Rows: make([][]any, len(pv.Rows)), More: pv.More,
		ElapsedMs: elapsed, Timezone: zone.String(), Parameters: make(map[string]any, len(values)),
	}
	dates := make([]bool, len(pv.Columns))
	for i, c := range pv.Columns {
		out.Columns[i] = previewColumnView(c)
		dates[i] = c.Type == "date"
	}
	for i, row := range pv.Rows {
		cells := make([]any, len(row))
		for j, v := range row {
			cells[j] = jsonValue(v, j < len(dates) && dates[j])
		}
		out.Rows[i] = cells
	}
	for name, v := range values {
		out.Parameters[name] = jsonValue(v, types[name] == herald.ParamDate)
	}
	return out
}

// maxExactJSONInt is 2^53: integers beyond it lose precision in JavaScript
// numbers, so they are sent as decimal strings.
const maxExactJSONInt = 1 << 53

// jsonValue is the JSON form of a query or parameter value: integers as
// numbers (as strings beyond ±2^53), floats as numbers (NaN and the
// infinities as the strings "NaN", "Infinity", "-Infinity"), decimals and
// other text as strings, dates as "YYYY-MM-DD" (their own calendar date),
// datetimes as RFC 3339 in UTC, JSON values as they are, bytes in base64
// and lists as arrays.
func jsonValue(v any, date bool) any {
	switch x := v.(type) {
	case nil, string, bool, []string:
		return x
	case int64:
		return jsonInt(x)
	case int:
		return jsonInt(int64(x))
	case float64:
		return jsonFloat(x)
	case float32:
		return jsonFloat(float64(x))
	case time.Time:
		if date {
			return x.Format(time.DateOnly)
		}
		return x.UTC().Format(time.RFC3339Nano)
	case json.RawMessage:
		return jsonRaw(x)
	case []byte:
		if x == nil {
			return nil
		}
		return base64.StdEncoding.EncodeToString(x)
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = jsonValue(item, date)
		}
		return out
	}
	return fmt.Sprint(v)
}

func jsonInt(n int64) any {
	if n > maxExactJSONInt || n < -maxExactJSONInt {
		return strconv.FormatInt(n, 10)
	}
	return n
}

// jsonRaw embeds a JSON value as it is; text that is not JSON is sent as a string.
func jsonRaw(raw json.RawMessage) any {
	switch {
	case raw == nil:
		return nil
	case json.Valid(raw):
		return raw
	default:
		return string(raw)
	}
}

func jsonFloat(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return f
}
