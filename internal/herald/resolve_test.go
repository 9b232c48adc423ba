package herald

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

// resolveOne resolves a single parameter of type typ given value.
func resolveOne(t *testing.T, typ ParamType, value string, at time.Time, zone *time.Location) (any, error) {
	t.Helper()
	raw, err := json.Marshal(value)
	require.NoError(t, err)
	values, _, err := ResolveParameters([]Parameter{{Name: "p", Type: typ}}, at, zone, map[string]json.RawMessage{"p": raw})
	if err != nil {
		return nil, err
	}
	return values["p"], nil
}

func TestResolveDates(t *testing.T) {
	tests := []struct {
		name  string
		zone  string
		at    string // the run's scheduled instant
		typ   ParamType
		value string
		date  string // the civil date of the result, in its own location
		utc   string // the instant of the result in UTC, when it matters
	}{
		// Europe/Berlin: spring forward 2026-03-29 02:00 -> 03:00, fall back 2026-10-25 03:00 -> 02:00.
		{"berlin today on spring-forward day", "Europe/Berlin", "2026-03-29T10:00:00Z", ParamDatetime, "today", "2026-03-29", "2026-03-28T23:00:00Z"},
		{"berlin tomorrow after spring forward is CEST", "Europe/Berlin", "2026-03-29T10:00:00Z", ParamDatetime, "tomorrow", "2026-03-30", "2026-03-29T22:00:00Z"},
		{"berlin just after local midnight is already the next day", "Europe/Berlin", "2026-03-28T23:30:00Z", ParamDate, "today", "2026-03-29", "2026-03-28T23:00:00Z"},
		{"berlin today on fall-back day", "Europe/Berlin", "2026-10-25T12:00:00Z", ParamDatetime, "today", "2026-10-25", "2026-10-24T22:00:00Z"},
		{"berlin tomorrow after fall back is CET", "Europe/Berlin", "2026-10-25T12:00:00Z", ParamDatetime, "tomorrow", "2026-10-26", "2026-10-25T23:00:00Z"},
		{"berlin yesterday across fall back", "Europe/Berlin", "2026-10-26T06:00:00Z", ParamDatetime, "yesterday", "2026-10-25", "2026-10-24T22:00:00Z"},
		// America/Sao_Paulo: 2018-11-04 started at 01:00 (00:00 -03 -> 01:00 -02).
		{"sao paulo today starts at 01:00", "America/Sao_Paulo", "2018-11-04T12:00:00Z", ParamDatetime, "today", "2018-11-04", "2018-11-04T03:00:00Z"},
		{"sao paulo date on the day without midnight", "America/Sao_Paulo", "2018-11-04T12:00:00Z", ParamDate, "today", "2018-11-04", "2018-11-04T03:00:00Z"},
		{"sao paulo yesterday is the day without midnight", "America/Sao_Paulo", "2018-11-05T12:00:00Z", ParamDatetime, "yesterday", "2018-11-04", "2018-11-04T03:00:00Z"},
		{"sao paulo -1d from the next day", "America/Sao_Paulo", "2018-11-05T12:00:00Z", ParamDate, "-1d", "2018-11-04", "2018-11-04T03:00:00Z"},
		{"sao paulo absolute date without midnight", "America/Sao_Paulo", "2026-01-01T00:00:00Z", ParamDate, "2018-11-04", "2018-11-04", "2018-11-04T03:00:00Z"},
		{"sao paulo day before the gap", "America/Sao_Paulo", "2018-11-04T12:00:00Z", ParamDatetime, "-1d", "2018-11-03", "2018-11-03T03:00:00Z"},
		// Pacific/Kiritimati is UTC+14: its day begins at 10:00 UTC the day before.
		{"kiritimati is a day ahead of UTC", "Pacific/Kiritimati", "2026-11-28T10:00:00Z", ParamDatetime, "today", "2026-11-29", "2026-11-28T10:00:00Z"},
		{"kiritimati one second before its midnight", "Pacific/Kiritimati", "2026-11-28T09:59:59Z", ParamDate, "today", "2026-11-28", "2026-11-27T10:00:00Z"},
		{"kiritimati start of week on its monday", "Pacific/Kiritimati", "2026-11-29T10:00:00Z", ParamDate, "start_of_week", "2026-11-30", ""},
		{"kiritimati start of week on its sunday", "Pacific/Kiritimati", "2026-11-29T09:00:00Z", ParamDate, "start_of_week", "2026-11-23", ""},
		// Weeks start on Monday.
		{"start of week on a sunday", "UTC", "2026-11-29T23:59:59Z", ParamDate, "start_of_week", "2026-11-23", ""},
		{"start of week on a monday", "UTC", "2026-11-30T00:00:00Z", ParamDate, "start_of_week", "2026-11-30", ""},
		{"start of week on a saturday", "UTC", "2026-11-28T12:00:00Z", ParamDate, "start_of_week", "2026-11-23", ""},
		{"berlin monday 00:30 is a monday though UTC says sunday", "Europe/Berlin", "2026-11-29T23:30:00Z", ParamDatetime, "start_of_week", "2026-11-30", "2026-11-29T23:00:00Z"},
		{"berlin sunday 23:30 is still last week", "Europe/Berlin", "2026-11-29T22:30:00Z", ParamDate, "start_of_week", "2026-11-23", ""},
		{"start of week across a year", "UTC", "2027-01-02T08:00:00Z", ParamDate, "start_of_week", "2026-12-28", ""},
		{"-1w", "UTC", "2026-11-30T08:00:00Z", ParamDate, "-1w", "2026-11-23", ""},
		// Months and years clamp to the end of the month.
		{"-1m from 31 march", "UTC", "2026-03-31T08:00:00Z", ParamDate, "-1m", "2026-02-28", ""},
		{"-1m from 31 march of a leap year", "UTC", "2028-03-31T08:00:00Z", ParamDate, "-1m", "2028-02-29", ""},
		{"+1m from 31 january", "UTC", "2026-01-31T08:00:00Z", ParamDate, "+1m", "2026-02-28", ""},
		{"+1m from 31 may", "UTC", "2026-05-31T08:00:00Z", ParamDate, "+1m", "2026-06-30", ""},
		{"+1y from 29 february", "UTC", "2028-02-29T08:00:00Z", ParamDate, "+1y", "2029-02-28", ""},
		{"-4y from 29 february", "UTC", "2028-02-29T08:00:00Z", ParamDate, "-4y", "2024-02-29", ""},
		{"+1m across a year", "UTC", "2026-12-15T08:00:00Z", ParamDate, "+1m", "2027-01-15", ""},
		{"-13m across years", "UTC", "2026-01-15T08:00:00Z", ParamDate, "-13m", "2024-12-15", ""},
		{"-12m from 31 december", "UTC", "2026-12-31T08:00:00Z", ParamDate, "-12m", "2025-12-31", ""},
		{"+0d", "UTC", "2026-12-31T08:00:00Z", ParamDate, "+0d", "2026-12-31", ""},
		{"-30d", "UTC", "2026-03-15T08:00:00Z", ParamDate, "-30d", "2026-02-13", ""},
		{"end of month in february of a leap year", "UTC", "2028-02-10T08:00:00Z", ParamDate, "end_of_month", "2028-02-29", ""},
		{"end of month in december", "UTC", "2026-12-01T08:00:00Z", ParamDate, "end_of_month", "2026-12-31", ""},
		{"end of month follows the zone", "Pacific/Kiritimati", "2026-11-30T12:00:00Z", ParamDate, "end_of_month", "2026-12-31", ""},
		{"start of month", "UTC", "2026-11-28T08:00:00Z", ParamDate, "start_of_month", "2026-11-01", ""},
		{"start of quarter in the last month", "UTC", "2026-12-31T08:00:00Z", ParamDate, "start_of_quarter", "2026-10-01", ""},
		{"start of quarter on its first day", "UTC", "2026-04-01T00:00:00Z", ParamDate, "start_of_quarter", "2026-04-01", ""},
		{"start of quarter in march", "UTC", "2026-03-31T08:00:00Z", ParamDate, "start_of_quarter", "2026-01-01", ""},
		{"start of year in the zone", "Europe/Berlin", "2026-12-31T23:30:00Z", ParamDatetime, "start_of_year", "2027-01-01", "2026-12-31T23:00:00Z"},
		// Absolute values.
		{"absolute date", "Europe/Berlin", "2026-11-28T08:00:00Z", ParamDate, "2026-01-31", "2026-01-31", "2026-01-30T23:00:00Z"},
		{"absolute datetime keeps its instant", "Europe/Berlin", "2026-11-28T08:00:00Z", ParamDatetime, "2026-01-31T09:00:00+01:00", "2026-01-31", "2026-01-31T08:00:00Z"},
		{"absolute datetime in UTC", "America/Sao_Paulo", "2026-11-28T08:00:00Z", ParamDatetime, "2026-01-31T01:00:00Z", "2026-01-30", "2026-01-31T01:00:00Z"},
		// Pacific/Apia skipped 30 December 2011 altogether.
		{"a date the zone skipped keeps its calendar date", "Pacific/Apia", "2026-01-01T00:00:00Z", ParamDate, "2011-12-30", "2011-12-30", ""},
		{"a datetime on a skipped day is the first instant after it", "Pacific/Apia", "2011-12-30T22:00:00Z", ParamDatetime, "yesterday", "2011-12-31", "2011-12-30T10:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			zone := mustZone(t, tt.zone)
			v, err := resolveOne(t, tt.typ, tt.value, mustTime(t, tt.at), zone)
			require.NoError(t, err)
			got, ok := v.(time.Time)
			require.True(t, ok, "a %s resolves to a time.Time, not %T", tt.typ, v)
			assert.Equal(t, tt.date, got.Format(time.DateOnly), "calendar date in the value's own location")
			if tt.typ == ParamDatetime || got.Location() == zone {
				assert.Equal(t, tt.date, got.In(zone).Format(time.DateOnly), "calendar date in the zone")
			}
			if tt.utc != "" {
				assert.Equal(t, tt.utc, got.UTC().Format(time.RFC3339), "instant")
			}
		})
	}
}

func TestResolveRelativeDatetimeIsTheFirstInstantOfTheDay(t *testing.T) {
	for _, zoneName := range []string{"UTC", "Europe/Berlin", "America/Sao_Paulo", "Pacific/Kiritimati", "America/Havana", "Australia/Lord_Howe", "Asia/Kathmandu"} {
		zone := mustZone(t, zoneName)
		for day := time.Date(2018, 1, 1, 12, 0, 0, 0, time.UTC); day.Year() < 2020; day = day.Add(24 * time.Hour) {
			v, err := resolveOne(t, ParamDatetime, "today", day, zone)
			require.NoError(t, err)
			start := v.(time.Time)
			want := day.In(zone).Format(time.DateOnly)
			require.Equal(t, want, start.In(zone).Format(time.DateOnly), "%s %s", zoneName, want)
			require.NotEqual(t, want, start.Add(-time.Second).In(zone).Format(time.DateOnly), "%s %s: a second earlier is the day before", zoneName, want)
		}
	}
	// America/Havana falls back from 01:00 to 00:00: the day's first instant is the first midnight.
	havana := mustZone(t, "America/Havana")
	v, err := resolveOne(t, ParamDatetime, "today", mustTime(t, "2025-11-02T12:00:00Z"), havana)
	require.NoError(t, err)
	assert.Equal(t, "2025-11-02T04:00:00Z", v.(time.Time).UTC().Format(time.RFC3339), "00:00 -04:00, not the repeated 00:00 -05:00")
}

func TestResolveParameterTypesAndLayers(t *testing.T) {
	declared := []Parameter{
		{Name: "since", Type: ParamDate, Default: json.RawMessage(`"-7d"`)},
		{Name: "region", Type: ParamString, Default: json.RawMessage(`"EMEA"`)},
		{Name: "limit", Type: ParamInt, Default: json.RawMessage(`10`)},
		{Name: "ratio", Type: ParamNumber},
		{Name: "active", Type: ParamBool, Default: json.RawMessage(`true`)},
		{Name: "channels", Type: ParamList, Default: json.RawMessage(`["web","store"]`)},
		{Name: "until", Type: ParamDatetime},
	}
	at := mustTime(t, "2026-11-28T10:00:00Z")
	zone := mustZone(t, "Europe/Berlin")
	day := func(s string) time.Time {
		d, err := time.ParseInLocation(time.DateOnly, s, zone)
		require.NoError(t, err)
		return d
	}
	tests := []struct {
		name   string
		layers []map[string]json.RawMessage
		want   map[string]any
	}{
		{"defaults only", nil, map[string]any{
			"since": day("2026-11-21"), "region": "EMEA", "limit": int64(10), "ratio": nil, "active": true,
			"channels": []string{"web", "store"}, "until": nil,
		}},
		{"later layers win", []map[string]json.RawMessage{
			{"since": json.RawMessage(`"2026-11-01"`), "region": json.RawMessage(`"APAC"`), "ratio": json.RawMessage(`0.25`)},
			{"since": json.RawMessage(`"start_of_month"`), "limit": json.RawMessage(`9007199254740993`)},
		}, map[string]any{
			"since": day("2026-11-01"), "region": "APAC", "limit": int64(9007199254740993), "ratio": 0.25, "active": true,
			"channels": []string{"web", "store"}, "until": nil,
		}},
		{"explicit null falls back to the earlier layer", []map[string]json.RawMessage{
			{"since": json.RawMessage(`"2026-11-02"`), "region": json.RawMessage(`"APAC"`)},
			{"since": json.RawMessage(`null`), "region": json.RawMessage(` null `)},
		}, map[string]any{
			"since": day("2026-11-02"), "region": "APAC", "limit": int64(10), "ratio": nil, "active": true,
			"channels": []string{"web", "store"}, "until": nil,
		}},
		{"explicit null falls back to the default", []map[string]json.RawMessage{
			{"since": json.RawMessage(`null`), "active": json.RawMessage(`null`), "channels": json.RawMessage(`null`)},
		}, map[string]any{
			"since": day("2026-11-21"), "region": "EMEA", "limit": int64(10), "ratio": nil, "active": true,
			"channels": []string{"web", "store"}, "until": nil,
		}},
		{"empty values are values", []map[string]json.RawMessage{
			{"region": json.RawMessage(`""`), "channels": json.RawMessage(`[]`), "active": json.RawMessage(`false`), "limit": json.RawMessage(`-3`)},
		}, map[string]any{
			"since": day("2026-11-21"), "region": "", "limit": int64(-3), "ratio": nil, "active": false,
			"channels": []string{}, "until": nil,
		}},
		{"datetime value", []map[string]json.RawMessage{
			{"until": json.RawMessage(`"today"`)},
		}, map[string]any{
			"since": day("2026-11-21"), "region": "EMEA", "limit": int64(10), "ratio": nil, "active": true,
			"channels": []string{"web", "store"}, "until": day("2026-11-28"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values, types, err := ResolveParameters(declared, at, zone, tt.layers...)
			require.NoError(t, err)
			require.Len(t, values, len(tt.want), "every declared parameter has an entry")
			for name, want := range tt.want {
				got, ok := values[name]
				require.True(t, ok, name)
				if wt, isTime := want.(time.Time); isTime {
					gt, ok := got.(time.Time)
					require.True(t, ok, "%s is %T", name, got)
					assert.True(t, wt.Equal(gt), "%s: want %s, got %s", name, wt, gt)
					continue
				}
				assert.Equal(t, want, got, name)
			}
			assert.Equal(t, map[string]ParamType{
				"since": ParamDate, "region": ParamString, "limit": ParamInt, "ratio": ParamNumber,
				"active": ParamBool, "channels": ParamList, "until": ParamDatetime,
			}, types)
		})
	}
}

func TestResolveParameterErrors(t *testing.T) {
	declared := []Parameter{
		{Name: "region", Type: ParamString, Required: true},
		{Name: "since", Type: ParamDate, Required: true, Default: json.RawMessage(`"-7d"`)},
		{Name: "limit", Type: ParamInt},
	}
	at := mustTime(t, "2026-11-28T10:00:00Z")
	tests := []struct {
		name   string
		layers []map[string]json.RawMessage
		fields map[string]string // field -> part of its message
	}{
		{"required without value or default", nil, map[string]string{"parameters.region": "is required"}},
		{"required given null everywhere", []map[string]json.RawMessage{
			{"region": json.RawMessage(`null`)}, {"region": json.RawMessage(`null`)},
		}, map[string]string{"parameters.region": "is required"}},
		{"unknown names in any layer", []map[string]json.RawMessage{
			{"region": json.RawMessage(`"EMEA"`), "colour": json.RawMessage(`"red"`)},
			{"colour": json.RawMessage(`"blue"`), "size": json.RawMessage(`1`)},
		}, map[string]string{"parameters.colour": "not a parameter", "parameters.size": "not a parameter"}},
		{"wrong types", []map[string]json.RawMessage{
			{"region": json.RawMessage(`7`), "since": json.RawMessage(`"next tuesday"`), "limit": json.RawMessage(`"10"`)},
		}, map[string]string{"parameters.region": "string", "parameters.since": "date", "parameters.limit": "integer"}},
		{"integer out of range", []map[string]json.RawMessage{
			{"region": json.RawMessage(`"x"`), "limit": json.RawMessage(`9223372036854775808`)},
		}, map[string]string{"parameters.limit": "between"}},
		{"relative date beyond year 9999", []map[string]json.RawMessage{
			{"region": json.RawMessage(`"x"`), "since": json.RawMessage(`"+9999y"`)},
		}, map[string]string{"parameters.since": "9999"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values, types, err := ResolveParameters(declared, at, time.UTC, tt.layers...)
			require.Error(t, err)
			assert.Nil(t, values)
			assert.Nil(t, types)
			var he *Error
			require.ErrorAs(t, err, &he)
			assert.Equal(t, CodeInvalid, he.Code)
			got := map[string]string{}
			for _, f := range he.Fields {
				got[f.Field] = f.Message
			}
			require.Len(t, got, len(tt.fields), "%v", he.Fields)
			for field, part := range tt.fields {
				assert.Contains(t, got[field], part, field)
			}
		})
	}
	_, _, err := ResolveParameters(declared, at, nil, map[string]json.RawMessage{"region": json.RawMessage(`"x"`)})
	assert.NoError(t, err, "a required parameter with a default is satisfied; a nil zone is UTC")
	_, _, err = ResolveParameters(nil, at, nil)
	assert.NoError(t, err, "no parameters at all")
}

func TestResolveIsReproducible(t *testing.T) {
	// A backfilled run resolves relative dates at its scheduled instant, not now.
	declared := []Parameter{{Name: "since", Type: ParamDate, Default: json.RawMessage(`"start_of_week"`)}}
	zone := mustZone(t, "Europe/Berlin")
	first, _, err := ResolveParameters(declared, mustTime(t, "2026-11-09T08:00:00Z"), zone)
	require.NoError(t, err)
	again, _, err := ResolveParameters(declared, mustTime(t, "2026-11-09T08:00:00Z"), zone)
	require.NoError(t, err)
	assert.True(t, first["since"].(time.Time).Equal(again["since"].(time.Time)))
	assert.Equal(t, "2026-11-09", first["since"].(time.Time).Format(time.DateOnly))
}

func TestFormatParameterValue(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	saoPaulo := mustZone(t, "America/Sao_Paulo")
	startOfGapDay, err := resolveOne(t, ParamDate, "2018-11-04", mustTime(t, "2026-01-01T00:00:00Z"), saoPaulo)
	require.NoError(t, err)
	tests := []struct {
		name string
		v    any
		typ  ParamType
		zone *time.Location
		want string
	}{
		{"nil", nil, ParamString, nil, ""},
		{"string", "EMEA", ParamString, nil, "EMEA"},
		{"int", int64(-9007199254740993), ParamInt, nil, "-9007199254740993"},
		{"number", 0.1, ParamNumber, nil, "0.1"},
		{"large number", 1e21, ParamNumber, nil, "1000000000000000000000"},
		{"bool", false, ParamBool, nil, "false"},
		{"list", []string{"web", "store"}, ParamList, nil, "web, store"},
		{"empty list", []string{}, ParamList, nil, ""},
		{"date in its own location", startOfGapDay, ParamDate, berlin, "2018-11-04"},
		{"date at midnight UTC shown in a western zone", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), ParamDate, saoPaulo, "2026-11-01"},
		{"datetime in the schedule's zone", mustTime(t, "2026-03-28T23:00:00Z"), ParamDatetime, berlin, "2026-03-29T00:00:00+01:00"},
		{"datetime in summer time", mustTime(t, "2026-03-29T22:00:00Z"), ParamDatetime, berlin, "2026-03-30T00:00:00+02:00"},
		{"datetime without zone is UTC", mustTime(t, "2026-03-29T01:00:00+02:00"), ParamDatetime, nil, "2026-03-28T23:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, FormatParameterValue(tt.v, tt.typ, tt.zone))
		})
	}
	// Every resolved value formats back to something its type accepts.
	declared := []Parameter{{Name: "d", Type: ParamDate}, {Name: "t", Type: ParamDatetime}, {Name: "n", Type: ParamInt}}
	values, types, err := ResolveParameters(declared, mustTime(t, "2018-11-04T12:00:00Z"), saoPaulo, map[string]json.RawMessage{
		"d": json.RawMessage(`"today"`), "t": json.RawMessage(`"today"`), "n": json.RawMessage(`42`),
	})
	require.NoError(t, err)
	for _, d := range declared {
		text := FormatParameterValue(values[d.Name], types[d.Name], saoPaulo)
		raw := json.RawMessage(strconv.Quote(text))
		if d.Type == ParamInt {
			raw = json.RawMessage(text)
		}
		assert.NoError(t, d.CheckValue(raw), "%s formats as %s", d.Name, text)
	}
	assert.Equal(t, "2018-11-04T01:00:00-02:00", FormatParameterValue(values["t"], ParamDatetime, saoPaulo))
}
