package herald

import (
	"encoding/json"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInstantJSONIsFixedWidthAndOrdered(t *testing.T) {
	times := []time.Time{
		time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 29, 1, 0, 0, 1_000_000, time.UTC),
		time.Date(2026, 3, 29, 1, 0, 0, 999_999_999, time.UTC), // truncated, not rounded
		time.Date(2026, 3, 29, 3, 0, 0, 0, time.FixedZone("CEST", 2*3600)),
	}
	var texts []string
	for _, tm := range times {
		b, err := json.Marshal(At(tm))
		require.NoError(t, err)
		assert.Len(t, string(b), len(InstantLayout)+2, "fixed width: %s", b)
		texts = append(texts, string(b))
	}
	assert.Equal(t, `"2026-03-29T01:00:00.000Z"`, texts[0])
	assert.Equal(t, `"2026-03-29T01:00:00.999Z"`, texts[2])
	assert.Equal(t, texts[0], texts[3], "offsets are normalised to UTC")
	assert.True(t, sort.StringsAreSorted(texts[:3]), "text order is time order")

	var back Instant
	require.NoError(t, json.Unmarshal([]byte(texts[1]), &back))
	assert.True(t, back.Equal(times[1]))
	require.NoError(t, json.Unmarshal([]byte("null"), &back))
	assert.True(t, back.IsZero())
	require.Error(t, json.Unmarshal([]byte(`"yesterday"`), &back))
	b, _ := json.Marshal(Instant{})
	assert.Equal(t, "null", string(b))
}

func TestDurationJSON(t *testing.T) {
	var d Duration
	require.NoError(t, json.Unmarshal([]byte(`"36h"`), &d))
	assert.Equal(t, 36*time.Hour, d.Std())
	b, _ := json.Marshal(Duration(90 * time.Second))
	assert.Equal(t, `"1m30s"`, string(b))
	require.Error(t, json.Unmarshal([]byte(`"3 days"`), &d))
	require.Error(t, json.Unmarshal([]byte(`3600`), &d))
}

func TestIDs(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	a, b := NewID(PrefixReport, t0), NewID(PrefixReport, t0.Add(time.Millisecond))
	assert.True(t, ValidID(a), a)
	assert.NotEqual(t, a, NewID(PrefixReport, t0), "random part differs")
	assert.Less(t, a[:14], b[:14], "ids sort by creation time")
	assert.Len(t, a, len("rpt_")+26)

	r1 := ScheduledRunID("demo", "sch_1", At(t0))
	assert.Equal(t, r1, ScheduledRunID("demo", "sch_1", At(t0)), "derived ids are deterministic")
	assert.NotEqual(t, r1, ScheduledRunID("demo", "sch_1", At(t0.Add(time.Minute))))
	assert.NotEqual(t, r1, ScheduledRunID("other", "sch_1", At(t0)))
	assert.NotEqual(t, DerivedID("x", t0, "ab", "c"), DerivedID("x", t0, "a", "bc"), "parts are length-prefixed")
	assert.True(t, ValidID(r1))

	for _, bad := range []string{"", "rpt_", "RPT_0123456789abcdefghjkmnpqrs", "rpt_0123456789abcdefghjkmnpqr", "rpt_0123456789abcdefghjkmnpqrs/../x", "toolong_0123456789abcdefghjkmnpqrs"} {
		assert.False(t, ValidID(bad), bad)
	}
}

func TestErrors(t *testing.T) {
	cause := errors.New("disk on fire")
	err := Wrap(cause, CodeUnavailable, "store unreachable")
	assert.Equal(t, CodeUnavailable, CodeOf(err))
	assert.ErrorIs(t, err, cause)
	assert.Equal(t, CodeInternal, CodeOf(errors.New("plain")))
	assert.Equal(t, Code(""), CodeOf(nil))
	assert.True(t, Is(errors.Join(errors.New("x"), Errorf(CodeNotFound, "gone")), CodeNotFound))

	var p Problems
	assert.NoError(t, p.Err("thing"))
	p.Add("name", "is required")
	p.Merge("layout", &Error{Code: CodeInvalid, Fields: []FieldError{{Field: "columns[0].field", Message: "is required"}}})
	e := p.Err("report")
	var he *Error
	require.ErrorAs(t, e, &he)
	assert.Equal(t, []FieldError{{"name", "is required"}, {"layout.columns[0].field", "is required"}}, he.Fields)
}

func TestRoles(t *testing.T) {
	tests := []struct {
		roles []Role
		min   Role
		want  bool
	}{
		{[]Role{RoleViewer}, RoleViewer, true},
		{[]Role{RoleViewer}, RoleEditor, false},
		{[]Role{RoleEditor}, RoleViewer, true},
		{[]Role{RoleViewer, RoleAdmin}, RoleEditor, true},
		{nil, RoleViewer, false},
		{[]Role{"owner"}, RoleViewer, false},
		{[]Role{RoleAdmin}, "owner", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Principal{Roles: tt.roles}.Can(tt.min), "%v can %s", tt.roles, tt.min)
	}
	_, err := ParseRole("root")
	assert.True(t, Is(err, CodeInvalid))
}

func TestQueryParameterNames(t *testing.T) {
	tests := []struct {
		q    string
		want []string
	}{
		{"select * from t where a = :a and b in (:list) and c = :a", []string{"a", "list"}},
		{"select ':not' , \"x:y\", `z:w` from t where d = :d", []string{"d"}},
		{"select now()::date, x::text from t -- :comment\n where y > :since /* :block */", []string{"since"}},
		{"select 'it''s :fine' where a = :a_1", []string{"a_1"}},
		{"select a:=1", nil},
		{"select :1", nil},
		{"select 1 /* unterminated :x", nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, QueryParameterNames(tt.q), tt.q)
	}
}

func validReport() *Report {
	r := &Report{
		Name: "Weekly sales", DataSourceID: NewID(PrefixDataSource, time.Now()),
		Query: "select * from orders where region = :region and ordered_at >= :since",
		Parameters: []Parameter{
			{Name: "region", Type: ParamString, Default: json.RawMessage(`"EMEA"`)},
			{Name: "since", Type: ParamDate, Default: json.RawMessage(`"-7d"`)},
		},
		Layout: Layout{Columns: []Column{{Field: "total", Format: ColumnCurrency, Currency: "EUR"}}},
	}
	r.Normalize()
	return r
}

func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var he *Error
	require.ErrorAs(t, err, &he)
	require.Equal(t, CodeInvalid, he.Code)
	var out []string
	for _, f := range he.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestReportValidate(t *testing.T) {
	require.NoError(t, validReport().Validate())
	two := 2
	tests := []struct {
		name   string
		mutate func(r *Report)
		fields []string
	}{
		{"empty name", func(r *Report) { r.Name = "  " }, []string{"name"}},
		{"control chars in name", func(r *Report) { r.Name = "a\nb" }, []string{"name"}},
		{"bad data source id", func(r *Report) { r.DataSourceID = "x" }, []string{"dataSourceId"}},
		{"empty query", func(r *Report) { r.Query = "" }, []string{"query"}},
		{"undeclared placeholder", func(r *Report) { r.Query += " and x = :nope" }, []string{"query"}},
		{"duplicate parameter", func(r *Report) { r.Parameters = append(r.Parameters, Parameter{Name: "region", Type: ParamString}) }, []string{"parameters[2].name"}},
		{"bad parameter type", func(r *Report) { r.Parameters[0].Type = "uuid" }, []string{"parameters[0].type"}},
		{"default of wrong type", func(r *Report) { r.Parameters[0].Default = json.RawMessage(`12`) }, []string{"parameters[0].default"}},
		{"bad relative date", func(r *Report) { r.Parameters[1].Default = json.RawMessage(`"last tuesday"`) }, []string{"parameters[1].default"}},
		{"unknown format", func(r *Report) { r.Formats = []Format{"xlsx"} }, []string{"formats[0]"}},
		{"duplicate format", func(r *Report) { r.Formats = []Format{FormatCSV, FormatCSV} }, []string{"formats[1]"}},
		{"bad orientation", func(r *Report) { r.Layout.Orientation = "diagonal" }, []string{"layout.orientation"}},
		{"currency without code", func(r *Report) { r.Layout.Columns[0].Currency = "euro" }, []string{"layout.columns[0].currency"}},
		{"decimals range", func(r *Report) { r.Layout.Columns[0].Decimals = &two; *r.Layout.Columns[0].Decimals = 11 }, []string{"layout.columns[0].decimals"}},
		{"several at once", func(r *Report) { r.Name = ""; r.Query = "" }, []string{"name", "query"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validReport()
			tt.mutate(r)
			assert.Equal(t, tt.fields, fieldsOf(t, r.Validate()))
		})
	}
}

func okCron(string) error { return nil }

func validSchedule() *Schedule {
	s := &Schedule{
		ReportID: NewID(PrefixReport, time.Now()), Name: "Monday 09:00", Cron: "0 9 * * MON", Timezone: "Europe/Berlin",
		Enabled: true, Parameters: map[string]json.RawMessage{"region": json.RawMessage(`"APAC"`)},
		Deliveries: []DeliveryTarget{{Channel: ChannelEmail, To: []string{"ana@example.com"}}},
	}
	s.Normalize()
	return s
}

func TestScheduleValidate(t *testing.T) {
	report := validReport()
	require.NoError(t, validSchedule().Validate(okCron, report))
	s := validSchedule()
	assert.Equal(t, MisfireLatest, s.MisfirePolicy)
	assert.Equal(t, OverlapBufferOne, s.OverlapPolicy)
	assert.Equal(t, DefaultCatchUpWindow, s.CatchUpWindow.Std())

	tests := []struct {
		name   string
		mutate func(s *Schedule)
		fields []string
	}{
		{"unknown zone", func(s *Schedule) { s.Timezone = "Europe/Atlantis" }, []string{"timezone"}},
		{"local zone", func(s *Schedule) { s.Timezone = "Local" }, []string{"timezone"}},
		{"no zone", func(s *Schedule) { s.Timezone = "" }, []string{"timezone"}},
		{"cron refused", func(s *Schedule) { s.Cron = "bad" }, []string{"cron"}},
		{"no cron", func(s *Schedule) { s.Cron = "" }, []string{"cron"}},
		{"misfire", func(s *Schedule) { s.MisfirePolicy = "later" }, []string{"misfirePolicy"}},
		{"overlap", func(s *Schedule) { s.OverlapPolicy = "queue" }, []string{"overlapPolicy"}},
		{"catch-up too long", func(s *Schedule) { s.CatchUpWindow = Duration(40 * 24 * time.Hour) }, []string{"catchUpWindow"}},
		{"spread too long", func(s *Schedule) { s.Spread = Duration(2 * time.Hour) }, []string{"spread"}},
		{"send condition", func(s *Schedule) { s.SendCondition = "sometimes" }, []string{"sendCondition"}},
		{"unknown parameter", func(s *Schedule) { s.Parameters["colour"] = json.RawMessage(`"red"`) }, []string{"parameters.colour"}},
		{"parameter type", func(s *Schedule) { s.Parameters["since"] = json.RawMessage(`true`) }, []string{"parameters.since"}},
		{"channel", func(s *Schedule) { s.Deliveries[0].Channel = "pigeon" }, []string{"deliveries[0].channel"}},
		{"no recipients", func(s *Schedule) { s.Deliveries[0].To = nil }, []string{"deliveries[0].to"}},
		{"bad address", func(s *Schedule) { s.Deliveries[0].To = []string{"Ana <ana@example.com>"} }, []string{"deliveries[0].to[0]"}},
		{"header injection", func(s *Schedule) { s.Deliveries[0].Subject = "hi\r\nBcc: x@y.z" }, []string{"deliveries[0].subject"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSchedule()
			tt.mutate(s)
			check := okCron
			if s.Cron == "bad" {
				check = func(string) error { return errors.New("minute field (position 1): bad") }
			}
			assert.Equal(t, tt.fields, fieldsOf(t, s.Validate(check, report)))
		})
	}
}

func TestDataSourceValidate(t *testing.T) {
	tests := []struct {
		name   string
		ds     DataSource
		dsn    string
		hasDSN bool
		fields []string
	}{
		{"demo", DataSource{Name: "Demo", SourceKind: DataSourceDemo}, "", false, nil},
		{"postgres", DataSource{Name: "PG", SourceKind: DataSourcePostgres}, "postgres://u@h/db", false, nil},
		{"postgres keeps stored dsn", DataSource{Name: "PG", SourceKind: DataSourcePostgres}, "", true, nil},
		{"postgres without dsn", DataSource{Name: "PG", SourceKind: DataSourcePostgres}, "", false, []string{"dsn"}},
		{"demo with dsn", DataSource{Name: "D", SourceKind: DataSourceDemo}, "x", false, []string{"dsn"}},
		{"kind", DataSource{Name: "D", SourceKind: "oracle"}, "", false, []string{"kind"}},
		{"timeout", DataSource{Name: "D", SourceKind: DataSourceDemo, StatementTimeout: Duration(3 * time.Hour)}, "", false, []string{"statementTimeout"}},
		{"row cap", DataSource{Name: "D", SourceKind: DataSourceDemo, RowCap: -1}, "", false, []string{"rowCap"}},
		{"dsn control chars", DataSource{Name: "D", SourceKind: DataSourceMySQL}, "a\x00b", false, []string{"dsn"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.ds.Normalize()
			err := tt.ds.Validate(tt.dsn, tt.hasDSN)
			if tt.fields == nil {
				require.NoError(t, err)
				return
			}
			assert.Equal(t, tt.fields, fieldsOf(t, err))
			assert.NotContains(t, err.Error(), "postgres://", "messages never echo the DSN")
		})
	}
}

func TestParameterValues(t *testing.T) {
	tests := []struct {
		typ ParamType
		v   string
		ok  bool
	}{
		{ParamString, `"x"`, true}, {ParamString, `1`, false},
		{ParamInt, `42`, true}, {ParamInt, `4.2`, false}, {ParamInt, `"42"`, false}, {ParamInt, `99999999999999999999`, false},
		{ParamNumber, `4.2`, true}, {ParamNumber, `"4.2"`, false},
		{ParamBool, `true`, true}, {ParamBool, `"yes"`, false},
		{ParamDate, `"2026-02-28"`, true}, {ParamDate, `"2026-02-30"`, false}, {ParamDate, `"start_of_month"`, true}, {ParamDate, `"-7d"`, true},
		{ParamDatetime, `"2026-02-28T09:00:00+01:00"`, true}, {ParamDatetime, `"2026-02-28 09:00"`, false}, {ParamDatetime, `"today"`, true},
		{ParamList, `["a","b"]`, true}, {ParamList, `"a"`, false}, {ParamList, `[1]`, false},
		{ParamString, `null`, true},
	}
	for _, tt := range tests {
		err := Parameter{Name: "p", Type: tt.typ}.CheckValue(json.RawMessage(tt.v))
		assert.Equal(t, tt.ok, err == nil, "%s %s: %v", tt.typ, tt.v, err)
	}
	assert.Error(t, Parameter{Name: "p", Type: ParamString, Required: true}.CheckValue(nil))
}

func TestRunStatusMachine(t *testing.T) {
	assert.True(t, RunQueued.CanMove(RunRunning))
	assert.True(t, RunRunning.CanMove(RunSucceeded))
	assert.True(t, RunRunning.CanMove(RunQueued), "an expired lease requeues")
	assert.False(t, RunSucceeded.CanMove(RunRunning))
	assert.False(t, RunSkipped.CanMove(RunQueued))
	for _, s := range []RunStatus{RunSucceeded, RunFailed, RunCanceled, RunSkipped} {
		assert.True(t, s.Terminal(), s)
	}
}

func TestListQueryValidate(t *testing.T) {
	ok := ListQuery{Kind: KindReport, TenantID: "demo", Where: []Cond{{Field: "status", Op: OpEq, Value: "queued"}}}
	require.NoError(t, ok.Validate())
	bad := []ListQuery{
		{Kind: KindReport, TenantID: "demo", OrderBy: "name; drop table items"},
		{Kind: KindReport, TenantID: "demo", Where: []Cond{{Field: "a'b", Op: OpEq, Value: "x"}}},
		{Kind: KindReport, TenantID: "demo", Where: []Cond{{Field: "a", Op: "like", Value: "x"}}},
		{Kind: KindReport, TenantID: "demo", Where: []Cond{{Field: "a", Op: OpEq, Value: 1.5}}},
		{Kind: KindReport, TenantID: "", Limit: 1},
		{Kind: KindReport, TenantID: "demo", Limit: MaxListLimit + 1},
	}
	for _, q := range bad {
		assert.True(t, Is(q.Validate(), CodeInvalid), "%+v", q)
	}
}
