package herald

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ParamType is the type of a report parameter.
type ParamType string

// Parameter types.
const (
	ParamString   ParamType = "string"
	ParamInt      ParamType = "int"
	ParamNumber   ParamType = "number"
	ParamDate     ParamType = "date"
	ParamDatetime ParamType = "datetime"
	ParamBool     ParamType = "bool"
	ParamList     ParamType = "list"
)

// Valid reports whether t is a known parameter type.
func (t ParamType) Valid() bool {
	switch t {
	case ParamString, ParamInt, ParamNumber, ParamDate, ParamDatetime, ParamBool, ParamList:
		return true
	}
	return false
}

// Parameter is a named, typed value bound into a report's query as :name.
type Parameter struct {
	Name     string          `json:"name"`
	Type     ParamType       `json:"type"`
	Label    string          `json:"label,omitempty"`
	Required bool            `json:"required,omitempty"`
	Default  json.RawMessage `json:"default,omitempty"`
}

var (
	paramNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)
	// Relative dates resolve in the schedule's zone at the scheduled instant.
	relativeDatePattern = regexp.MustCompile(`^(today|yesterday|tomorrow|start_of_week|start_of_month|start_of_quarter|start_of_year|end_of_month|[+-][0-9]{1,4}[dwmy])$`)
)

// Limits on parameter values.
const (
	MaxParameters     = 50
	MaxListItems      = 1000
	MaxParamStringLen = 10_000
)

// IsNull reports whether a raw JSON value is absent or null.
func IsNull(v json.RawMessage) bool {
	t := bytes.TrimSpace(v)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// CheckValue validates a raw JSON value against the parameter's type.
// Dates and datetimes accept absolute values or relative expressions
// (today, yesterday, start_of_week, start_of_month, -7d, ...).
func (pm Parameter) CheckValue(v json.RawMessage) error {
	if IsNull(v) {
		if pm.Required {
			return fmt.Errorf("is required")
		}
		return nil
	}
	check := valueCheckers(pm.Type)
	if check == nil {
		return fmt.Errorf("has unknown type %q", pm.Type)
	}
	return check(v)
}

// valueCheckers returns the check of raw JSON values of a parameter type.
func valueCheckers(t ParamType) func(json.RawMessage) error {
	switch t {
	case ParamString:
		return checkString
	case ParamInt:
		return checkInt
	case ParamNumber:
		return func(v json.RawMessage) error {
			var f float64
			if json.Unmarshal(v, &f) != nil {
				return fmt.Errorf("must be a number")
			}
			return nil
		}
	case ParamBool:
		return func(v json.RawMessage) error {
			var b bool
			if json.Unmarshal(v, &b) != nil {
				return fmt.Errorf("must be true or false")
			}
			return nil
		}
	case ParamDate:
		return func(v json.RawMessage) error { return checkTimeValue(v, "2006-01-02", "a date (2026-01-31)") }
	case ParamDatetime:
		return func(v json.RawMessage) error {
			return checkTimeValue(v, time.RFC3339, "an RFC 3339 datetime (2026-01-31T09:00:00Z)")
		}
	case ParamList:
		return checkList
	}
	return nil
}

func checkString(v json.RawMessage) error {
	var s string
	if json.Unmarshal(v, &s) != nil {
		return fmt.Errorf("must be a string")
	}
	if len(s) > MaxParamStringLen {
		return fmt.Errorf("must be at most %d bytes", MaxParamStringLen)
	}
	return nil
}

func checkInt(v json.RawMessage) error {
	var n json.Number
	if bytes.HasPrefix(bytes.TrimSpace(v), []byte(`"`)) || json.Unmarshal(v, &n) != nil {
		return fmt.Errorf("must be an integer")
	}
	if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
		return fmt.Errorf("must be an integer between %d and %d", math.MinInt64, math.MaxInt64)
	}
	return nil
}

func checkList(v json.RawMessage) error {
	var items []string
	if json.Unmarshal(v, &items) != nil {
		return fmt.Errorf("must be an array of strings")
	}
	if len(items) > MaxListItems {
		return fmt.Errorf("must have at most %d items", MaxListItems)
	}
	return nil
}

func checkTimeValue(v json.RawMessage, layout, what string) error {
	var s string
	if json.Unmarshal(v, &s) != nil {
		return fmt.Errorf("must be %s or a relative expression such as today or -7d", what)
	}
	if relativeDatePattern.MatchString(s) {
		return nil
	}
	if _, err := time.Parse(layout, s); err != nil {
		return fmt.Errorf("must be %s or a relative expression such as today, yesterday, start_of_week, start_of_month or -7d", what)
	}
	return nil
}

func validateParameters(p *Problems, params []Parameter) map[string]Parameter {
	byName := make(map[string]Parameter, len(params))
	if len(params) > MaxParameters {
		p.Add("parameters", "must have at most %d entries", MaxParameters)
	}
	for i, pm := range params {
		field := fmt.Sprintf("parameters[%d]", i)
		if !paramNamePattern.MatchString(pm.Name) {
			p.Add(field+".name", "must start with a letter or '_' and contain only letters, digits and '_' (at most 63)")
		} else if _, dup := byName[pm.Name]; dup {
			p.Add(field+".name", "duplicates parameter %q", pm.Name)
		}
		byName[pm.Name] = pm
		if !pm.Type.Valid() {
			p.Add(field+".type", "must be one of string, int, number, date, datetime, bool, list")
			continue
		}
		checkText(p, field+".label", pm.Label, MaxNameLen)
		if !IsNull(pm.Default) {
			if err := (Parameter{Type: pm.Type}).CheckValue(pm.Default); err != nil {
				p.Add(field+".default", "%s", err.Error())
			}
		}
	}
	return byName
}

// CheckParameterValues validates values given for a report's parameters
// (a schedule's values or a run's overrides): every name must be declared and
// every value must fit its type.
func CheckParameterValues(p *Problems, field string, declared []Parameter, values map[string]json.RawMessage) {
	byName := make(map[string]Parameter, len(declared))
	for _, d := range declared {
		byName[d.Name] = d
	}
	for name, v := range values {
		d, ok := byName[name]
		if !ok {
			p.Add(field+"."+name, "is not a parameter of the report")
			continue
		}
		d.Required = false // an explicit null falls back to the default
		if err := d.CheckValue(v); err != nil {
			p.Add(field+"."+name, "%s", err.Error())
		}
	}
}

// QueryParameterNames returns the :name placeholders of a SQL query in order
// of first use.
func QueryParameterNames(q string) []string {
	var names []string
	seen := map[string]bool{}
	ScanPlaceholders(q, func(start, end int) bool {
		if name := q[start+1 : end]; !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
		return true
	})
	return names
}

// ScanPlaceholders calls fn with the byte range [start, end) of every :name
// placeholder of a SQL query (start is the colon), in order, until fn
// returns false. It skips string literals, quoted identifiers, comments and
// PostgreSQL '::' casts. Validation and every query runner use this one
// scanner, so what a report declares is what the runner binds.
func ScanPlaceholders(q string, fn func(start, end int) bool) {
	for i := 0; i < len(q); i++ {
		if j, skipped := skipNonParam(q, i); skipped {
			if j < 0 { // an unterminated block comment runs to the end
				return
			}
			i = j
			continue
		}
		if !isParamStart(q, i) {
			continue
		}
		j := i + 1
		for j < len(q) && isIdentPart(q[j]) {
			j++
		}
		if !fn(i, j) {
			return
		}
		i = j - 1
	}
}

// skipNonParam reports whether a literal, quoted identifier, comment or '::'
// cast starts at q[i], and the index of its last byte (-1 for an
// unterminated block comment).
func skipNonParam(q string, i int) (int, bool) {
	c := q[i]
	var next byte
	if i+1 < len(q) {
		next = q[i+1]
	}
	switch {
	case c == '\'' || c == '"' || c == '`':
		return skipQuoted(q, i, c), true
	case c == '-' && next == '-':
		if nl := strings.IndexByte(q[i:], '\n'); nl >= 0 {
			return i + nl, true
		}
		return len(q), true
	case c == '/' && next == '*':
		end := strings.Index(q[i+2:], "*/")
		if end < 0 {
			return -1, true
		}
		return i + end + 3, true
	case c == ':' && next == ':':
		return i + 1, true
	}
	return 0, false
}

func isParamStart(q string, i int) bool {
	return q[i] == ':' && i+1 < len(q) && isIdentStart(q[i+1]) && (i == 0 || q[i-1] != ':')
}

// skipQuoted returns the index of the quote closing the literal or
// identifier opened at q[i] (len(q) when it is unterminated). A doubled
// quote escapes itself; a backslash escapes the next byte except in
// double-quoted identifiers.
func skipQuoted(q string, i int, quote byte) int {
	for j := i + 1; j < len(q); j++ {
		if q[j] == quote {
			if j+1 < len(q) && q[j+1] == quote {
				j++
				continue
			}
			return j
		}
		if q[j] == '\\' && quote != '"' {
			j++
		}
	}
	return len(q)
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentPart(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }
