package datasource

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// converter turns a value scanned from the driver into the typed value of
// its column. Every converter maps nil to nil and falls back to dynamic
// typing for a value it does not expect, so no value is ever lost.
type converter func(v any) any

func converterFor(c Column) converter {
	switch c.Type {
	case TypeString:
		return toString
	case TypeInt:
		return toInt
	case TypeFloat:
		if strings.EqualFold(c.DBType, "FLOAT4") { // PostgreSQL real: single precision widened by the driver
			return toFloat32
		}
		return toFloat
	case TypeDecimal:
		return toDecimal
	case TypeBool:
		return toBool
	case TypeDate:
		return toDate
	case TypeDatetime:
		return toDatetime
	case TypeJSON:
		return toJSON
	case TypeBytes:
		return toBytes
	}
	return toDynamic
}

// inferTypes types the unknown columns from a row's values.
func inferTypes(cols []Column, row []any) {
	for i := range cols {
		if cols[i].Type != TypeUnknown {
			continue
		}
		switch v := row[i].(type) {
		case int64:
			cols[i].Type = TypeInt
		case float64:
			cols[i].Type = TypeFloat
		case string:
			cols[i].Type = textType(v)
		case []byte:
			cols[i].Type = TypeBytes
		case bool:
			cols[i].Type = TypeBool
		case time.Time:
			cols[i].Type = TypeDatetime
		}
	}
}

// textType types an untyped text value: dates (2006-01-02) and RFC 3339
// datetimes, as SQLite's date functions return them, become date and
// datetime; anything else is a string.
func textType(s string) ColumnType {
	if len(s) == len(time.DateOnly) {
		if _, err := time.Parse(time.DateOnly, s); err == nil {
			return TypeDate
		}
	}
	if len(s) >= len("2006-01-02T15:04:05Z") && s[10] == 'T' {
		if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return TypeDatetime
		}
	}
	return TypeString
}

func toString(v any) any {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return toDynamic(v)
}

func toInt(v any) any {
	switch x := v.(type) {
	case int64:
		return x
	case []byte:
		return parseIntText(string(x))
	case string:
		return parseIntText(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
		return x
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	}
	return toDynamic(v)
}

func parseIntText(s string) any {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	return s
}

func toFloat(v any) any {
	switch x := v.(type) {
	case float64:
		return x
	case []byte:
		return parseFloatText(string(x), 64)
	case string:
		return parseFloatText(x, 64)
	case int64:
		return float64(x)
	}
	return toDynamic(v)
}

// toFloat32 converts single-precision columns, giving the shortest decimal
// that round-trips as float32 (0.1, not 0.10000000149011612).
func toFloat32(v any) any {
	switch x := v.(type) {
	case float64:
		return shortFloat32(float32(x))
	case []byte:
		return parseFloatText(string(x), 32)
	case string:
		return parseFloatText(x, 32)
	}
	return toFloat(v)
}

func shortFloat32(f float32) float64 {
	g, err := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	if err != nil {
		return float64(f)
	}
	return g
}

func parseFloatText(s string, bits int) any {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), bits)
	if err != nil {
		return s
	}
	if bits == 32 {
		return shortFloat32(float32(f))
	}
	return f
}

func toDecimal(v any) any {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	}
	return toDynamic(v)
}

func toBool(v any) any {
	switch x := v.(type) {
	case bool:
		return x
	case int64:
		return x != 0
	case []byte:
		return parseBoolText(string(x))
	case string:
		return parseBoolText(x)
	}
	return toDynamic(v)
}

func parseBoolText(s string) any {
	if b, err := strconv.ParseBool(s); err == nil {
		return b
	}
	return s
}

func toDate(v any) any {
	switch x := v.(type) {
	case time.Time:
		return dateOf(x)
	case []byte:
		return parseTimeText(string(x), true)
	case string:
		return parseTimeText(x, true)
	}
	return toDynamic(v)
}

func toDatetime(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC()
	case []byte:
		return parseTimeText(string(x), false)
	case string:
		return parseTimeText(x, false)
	}
	return toDynamic(v)
}

// parseTimeText parses a date or datetime text; unparseable text (such as
// PostgreSQL's 'infinity') is returned as it is.
func parseTimeText(s string, date bool) any {
	// The texts databases use for dates and times; a value without an
	// offset is UTC.
	layouts := [...]string{
		time.RFC3339Nano,
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999Z07",
		"2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04:05.999999999",
		time.DateOnly,
	}
	for _, layout := range layouts {
		if t, err := time.Parse(layout, s); err == nil {
			if date {
				return dateOf(t)
			}
			return t.UTC()
		}
	}
	return s
}

func toJSON(v any) any {
	var b []byte
	switch x := v.(type) {
	case []byte:
		b = x
	case string:
		b = []byte(x)
	case json.RawMessage:
		return x
	default:
		return toDynamic(v)
	}
	if !json.Valid(b) {
		return string(b)
	}
	return json.RawMessage(b)
}

func toBytes(v any) any {
	switch x := v.(type) {
	case []byte:
		return x
	case string:
		return []byte(x)
	}
	return toDynamic(v)
}

// toDynamic normalises a value by its own type.
func toDynamic(v any) any {
	switch x := v.(type) {
	case nil, string, int64, float64, bool, []byte, json.RawMessage:
		return x
	case time.Time:
		return x.UTC()
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
		return strconv.FormatUint(x, 10)
	case float32:
		return shortFloat32(x)
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}
