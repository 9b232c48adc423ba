package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// Type is a column's value type: "string", "int", "float", "decimal",
// "bool", "date", "datetime", "json", "bytes" or "unknown". It mirrors the
// datasource package's ColumnType; an empty or unrecognised Type is treated
// as TypeUnknown.
type Type string

// Column types. Values arrive as: string; int64; float64; decimal: a string
// holding exact decimal text ("1234.50"); bool; date: time.Time at midnight
// UTC; datetime: time.Time (an instant); json: json.RawMessage; bytes:
// []byte; unknown: any of these, by the value's Go type. nil is NULL in any
// column.
const (
	TypeString   Type = "string"
	TypeInt      Type = "int"
	TypeFloat    Type = "float"
	TypeDecimal  Type = "decimal"
	TypeBool     Type = "bool"
	TypeDate     Type = "date"
	TypeDatetime Type = "datetime"
	TypeJSON     Type = "json"
	TypeBytes    Type = "bytes"
	TypeUnknown  Type = "unknown"
)

// Column describes one result column.
type Column struct {
	Name     string              // result column name
	Label    string              // header text; Name when empty
	Type     Type                // value type
	Format   herald.ColumnFormat // PDF display format (auto, text, integer, number, percent, currency, date, datetime, bool); CSV ignores it
	Decimals *int                // PDF decimals for number, percent and currency
	Currency string              // ISO 4217 code for currency
}

// header returns the column's header text.
func (c Column) header() string {
	if c.Label != "" {
		return c.Label
	}
	return c.Name
}

// Param is one resolved report parameter, as display text.
type Param struct{ Name, Value string }

// Meta describes the run an artifact belongs to.
type Meta struct {
	Title        string             // title block heading (layout title, else report name)
	ReportName   string             // the report's name
	Parameters   []Param            // resolved parameter values as display text
	ScheduledFor time.Time          // the run's scheduled instant
	Location     *time.Location     // the schedule's zone; nil means UTC. CSV datetimes and every PDF time are shown in it
	GeneratedAt  time.Time          // when the artifact was made
	RunID        string             // the run's id
	Orientation  herald.Orientation // auto (landscape when the table does not fit portrait), portrait, landscape
}

// location returns the zone times are shown in.
func (m Meta) location() *time.Location {
	if m.Location == nil {
		return time.UTC
	}
	return m.Location
}

// Summary describes the whole result once the source is exhausted.
type Summary struct {
	Rows      int64 // rows the source produced in total
	Truncated bool  // the source stopped at its row cap; more rows existed
	RowCap    int64 // the row cap that applied
}

// Content types of the artifacts.
const (
	ContentTypeCSV = "text/csv; charset=utf-8"
	ContentTypePDF = "application/pdf"
)

// Errors reported for bad input; they are wrapped with the row and column.
var (
	// ErrValueCount means a row did not have one value per column.
	ErrValueCount = errors.New("wrong number of values")
	// ErrUnsupportedValue means a value's Go type is not one a column can hold.
	ErrUnsupportedValue = errors.New("unsupported value type")
	// ErrNoColumns means a renderer was created without columns.
	ErrNoColumns = errors.New("no columns")
	// ErrClosed means a row was written after Close.
	ErrClosed = errors.New("renderer is closed")
)

// checkCount reports whether a row has one value per column.
func checkCount(kind string, row int64, vals []any, cols []Column) error {
	if len(vals) != len(cols) {
		return fmt.Errorf("render %s: row %d: %w: got %d, want %d", kind, row, ErrValueCount, len(vals), len(cols))
	}
	return nil
}

// valueError describes an unsupported value.
func valueError(kind string, row int64, col Column, v any) error {
	return fmt.Errorf("render %s: row %d, column %q: %w %T", kind, row, col.Name, ErrUnsupportedValue, v)
}

// checkValues reports the first value of a row whose Go type no column can
// hold, without formatting anything.
func checkValues(kind string, row int64, vals []any, cols []Column) error {
	for i, v := range vals {
		if !supported(v) {
			return valueError(kind, row, cols[i], v)
		}
	}
	return nil
}

// supported reports whether v has a Go type the renderers accept.
func supported(v any) bool {
	switch v.(type) {
	case nil, string, int64, float64, bool, time.Time, json.RawMessage, []byte:
		return true
	case int, int8, int16, int32, uint, uint8, uint16, uint32, uint64, float32:
		return true
	}
	return false
}

// widen converts the convenience integer kinds and float32 to int64,
// float64 or, for a uint64 above MaxInt64, its decimal text. Other values
// are returned unchanged.
func widen(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint:
		return widenUint(uint64(x))
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return widenUint(x)
	case float32:
		return float64(x)
	}
	return v
}

// widenUint returns u as int64 when it fits, else as its decimal text.
func widenUint(u uint64) any {
	const maxInt64 = 1<<63 - 1
	if u <= maxInt64 {
		return int64(u)
	}
	return decimalText(fmt.Sprint(u))
}

// decimalText is exact decimal text produced by widen; it is formatted as a
// number rather than as a string.
type decimalText string
