package herald

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Parameter values are resolved in three steps: the layers of raw JSON
// values (a report's defaults, a schedule's values, a run's overrides) are
// merged, each effective value is checked against its declared type, and the
// result is converted to the driver-neutral Go value a query runner binds:
//
//	string    string
//	int       int64
//	number    float64
//	bool      bool
//	date      time.Time: the first instant of the civil date in the zone, so
//	          that t.Date() (in t's own location) is that date
//	datetime  time.Time: the instant, in the zone
//	list      []string
//
// An optional parameter without a value resolves to nil.

// ResolveParameters merges a report's declared parameters with value layers
// (later layers win; an absent value or an explicit null falls back to the
// earlier layer and finally to the parameter's default), resolves relative
// dates (today, -7d, start_of_week, ...) in zone at the instant at (the run's
// scheduled instant, so that a backfilled run reproduces that day's report)
// and returns the driver-ready values and the declared types, both keyed by
// parameter name and holding every declared parameter.
//
// Relative expressions are civil-date arithmetic in zone: weeks start on
// Monday (ISO 8601); months and years clamp to the end of the month (-1m
// from 31 March is the last day of February, +1y from 29 February is 28
// February). A datetime given as a relative expression is the first instant
// of that civil date in zone (01:00 on a day whose midnight a daylight-saving
// change skips). Absolute datetimes are RFC 3339. A nil zone means UTC.
//
// A name in a layer that is not declared, a value that does not fit its
// type and a required parameter left without a value are CodeInvalid
// errors whose Fields name "parameters.<name>".
func ResolveParameters(declared []Parameter, at time.Time, zone *time.Location, layers ...map[string]json.RawMessage) (map[string]any, map[string]ParamType, error) {
	if zone == nil {
		zone = time.UTC
	}
	var p Problems
	byName := make(map[string]bool, len(declared))
	values := make(map[string]any, len(declared))
	types := make(map[string]ParamType, len(declared))
	for _, d := range declared {
		byName[d.Name] = true
		types[d.Name] = d.Type
		raw := effectiveValue(d, layers)
		if IsNull(raw) {
			if d.Required {
				p.Add("parameters."+d.Name, "is required: give it a value or a default")
			}
			values[d.Name] = nil
			continue
		}
		v, err := resolveValue(d, raw, at, zone)
		if err != nil {
			p.Add("parameters."+d.Name, "%s", err.Error())
			continue
		}
		values[d.Name] = v
	}
	for _, name := range unknownNames(byName, layers) {
		p.Add("parameters."+name, "is not a parameter of the report")
	}
	if len(p.fields) > 0 {
		return nil, nil, parameterError(p.fields)
	}
	return values, types, nil
}

// effectiveValue is the value of the last layer that gives d a non-null
// value, else d's default.
func effectiveValue(d Parameter, layers []map[string]json.RawMessage) json.RawMessage {
	raw := d.Default
	for _, layer := range layers {
		if v, ok := layer[d.Name]; ok && !IsNull(v) {
			raw = v
		}
	}
	return raw
}

// unknownNames lists, sorted and once each, the names layers give that are
// not declared.
func unknownNames(declared map[string]bool, layers []map[string]json.RawMessage) []string {
	var out []string
	for _, layer := range layers {
		for name := range layer {
			if !declared[name] && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out
}

func parameterError(fields []FieldError) error {
	msg := "parameter values are invalid"
	if len(fields) == 1 {
		msg = fmt.Sprintf("parameter values are invalid: %s: %s", fields[0].Field, fields[0].Message)
	}
	return &Error{Code: CodeInvalid, Message: msg, Fields: fields}
}

// resolveValue checks raw against d's type and converts it.
func resolveValue(d Parameter, raw json.RawMessage, at time.Time, zone *time.Location) (any, error) {
	d.Required = false
	if err := d.CheckValue(raw); err != nil {
		return nil, err
	}
	switch d.Type {
	case ParamString:
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case ParamInt:
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return nil, err
		}
		return strconv.ParseInt(n.String(), 10, 64)
	case ParamNumber:
		var f float64
		err := json.Unmarshal(raw, &f)
		return f, err
	case ParamBool:
		var b bool
		err := json.Unmarshal(raw, &b)
		return b, err
	case ParamList:
		items := []string{}
		err := json.Unmarshal(raw, &items)
		return items, err
	case ParamDate, ParamDatetime:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return resolveTime(s, d.Type, at, zone)
	}
	return nil, fmt.Errorf("has unknown type %q", d.Type)
}

// civilDate is a calendar date without a zone.
type civilDate struct {
	year  int
	month time.Month
	day   int
}

func civilOf(t time.Time) civilDate {
	y, m, d := t.Date()
	return civilDate{y, m, d}
}

// addDays moves the date by n days (civil arithmetic, no zone involved).
func (c civilDate) addDays(n int) civilDate {
	return civilOf(time.Date(c.year, c.month, c.day+n, 12, 0, 0, 0, time.UTC))
}

// addMonths moves the date by n months, clamping the day to the end of the
// target month (31 March - 1 month = 28 or 29 February).
func (c civilDate) addMonths(n int) civilDate {
	total := c.year*12 + int(c.month) - 1 + n
	y, m := floorDiv(total, 12), time.Month(total-floorDiv(total, 12)*12+1)
	return civilDate{y, m, min(c.day, daysIn(y, m))}
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 12, 0, 0, 0, time.UTC).Day()
}

// resolveTime resolves an absolute or relative date or datetime.
func resolveTime(s string, t ParamType, at time.Time, zone *time.Location) (time.Time, error) {
	if relativeDatePattern.MatchString(s) {
		c, err := relativeDate(s, civilOf(at.In(zone)))
		if err != nil {
			return time.Time{}, err
		}
		if c.year < 1 || c.year > 9999 {
			return time.Time{}, fmt.Errorf("%q resolves to a date outside the years 1 to 9999", s)
		}
		if t == ParamDate {
			return dateIn(c, zone), nil
		}
		return startOfDay(c, zone), nil
	}
	if t == ParamDate {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("must be a date (2026-01-31) or a relative expression such as today or -7d")
		}
		return dateIn(civilOf(d), zone), nil
	}
	d, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("must be an RFC 3339 datetime (2026-01-31T09:00:00Z) or a relative expression such as today or -7d")
	}
	return d.In(zone), nil
}

// relativeDate resolves a relative expression against today's civil date.
func relativeDate(expr string, today civilDate) (civilDate, error) {
	switch expr {
	case "today":
		return today, nil
	case "yesterday":
		return today.addDays(-1), nil
	case "tomorrow":
		return today.addDays(1), nil
	case "start_of_week": // ISO 8601: Monday
		wd := int(time.Date(today.year, today.month, today.day, 12, 0, 0, 0, time.UTC).Weekday())
		return today.addDays(-((wd + 6) % 7)), nil
	case "start_of_month":
		return civilDate{today.year, today.month, 1}, nil
	case "start_of_quarter":
		return civilDate{today.year, (today.month-1)/3*3 + 1, 1}, nil
	case "start_of_year":
		return civilDate{today.year, time.January, 1}, nil
	case "end_of_month":
		return civilDate{today.year, today.month, daysIn(today.year, today.month)}, nil
	}
	n, err := strconv.Atoi(expr[:len(expr)-1]) // [+-]N followed by the unit
	if err != nil {
		return civilDate{}, fmt.Errorf("%q is not a relative date", expr)
	}
	switch expr[len(expr)-1] {
	case 'd':
		return today.addDays(n), nil
	case 'w':
		return today.addDays(7 * n), nil
	case 'm':
		return today.addMonths(n), nil
	case 'y':
		return today.addMonths(12 * n), nil
	}
	return civilDate{}, fmt.Errorf("%q is not a relative date", expr)
}

// dateIn is the value of a date parameter: the first instant of the civil
// date in zone. On the rare day a zone skips altogether (Pacific/Apia,
// 30 December 2011) it is midnight UTC of that date, so that its calendar
// date is still the one asked for.
func dateIn(c civilDate, zone *time.Location) time.Time {
	t := startOfDay(c, zone)
	if civilOf(t) != c {
		return time.Date(c.year, c.month, c.day, 0, 0, 0, 0, time.UTC)
	}
	return t
}

// startOfDay returns the first instant whose civil date in zone is c (or,
// for a day the zone skips, the first instant after it). Go's time.Date
// leaves unspecified which side of a transition a missing or repeated
// midnight lands on, so the zone's periods are walked instead: in each
// period [start, end) with offset off, the instants on or after c's midnight
// are those from midnightUTC-off on.
func startOfDay(c civilDate, zone *time.Location) time.Time {
	midnight := time.Date(c.year, c.month, c.day, 0, 0, 0, 0, time.UTC)
	u := midnight.Add(-26 * time.Hour) // before c begins in any zone (offsets stay within ±26h)
	for range 16 {                     // a zone changes offset a few times a day at most
		t := u.In(zone)
		_, off := t.Zone()
		_, end := t.ZoneBounds()
		cand := midnight.Add(-time.Duration(off) * time.Second)
		if cand.Before(u) {
			cand = u
		}
		if end.IsZero() || cand.Before(end) {
			return cand.In(zone)
		}
		u = end
	}
	return time.Date(c.year, c.month, c.day, 0, 0, 0, 0, zone)
}

// FormatParameterValue renders a resolved parameter value (as
// ResolveParameters returns it) for people: dates as YYYY-MM-DD (their own
// calendar date, whatever zone), datetimes in RFC 3339 in zone (nil means
// UTC; pass the schedule's zone to show its wall clock), lists joined with
// ", ", numbers in their shortest exact form and nil as "".
func FormatParameterValue(v any, t ParamType, zone *time.Location) string {
	if zone == nil {
		zone = time.UTC
	}
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return formatFloat(x)
	case time.Time:
		if t == ParamDate {
			return x.Format(time.DateOnly)
		}
		return x.In(zone).Format(time.RFC3339)
	case []string:
		return strings.Join(x, ", ")
	case []any:
		parts := make([]string, len(x))
		for i, item := range x {
			parts[i] = FormatParameterValue(item, t, zone)
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
