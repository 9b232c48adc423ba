package render

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// Display defaults of the PDF.
const (
	floatDecimals   = 6 // at most, for floats without Decimals, trailing zeros trimmed
	percentDecimals = 2 // at most, for percents without Decimals, trailing zeros trimmed
	maxBytesShown   = 450
)

// cell is one formatted table cell.
type cell struct {
	text  string
	right bool // a number: right-aligned
	null  bool // NULL: drawn as a light dash
}

// numSource says where a number came from; it picks default decimals.
type numSource int

const (
	fromInt numSource = iota
	fromFloat
	fromDecimal
)

// colFormat is a column's resolved display format.
type colFormat struct {
	format   herald.ColumnFormat // never empty; auto means by each value's type
	typ      Type
	decimals *int
	currency string
	loc      *time.Location
}

// newColFormat resolves a column's format: auto follows the column type.
func newColFormat(c Column, loc *time.Location) colFormat {
	f := colFormat{format: c.Format, typ: c.Type, decimals: c.Decimals, currency: strings.ToUpper(strings.TrimSpace(c.Currency)), loc: loc}
	if f.format == "" || f.format == herald.ColumnAuto {
		switch c.Type {
		case TypeInt:
			f.format = herald.ColumnInteger
		case TypeFloat, TypeDecimal:
			f.format = herald.ColumnNumber
		case TypeDate:
			f.format = herald.ColumnDate
		case TypeDatetime:
			f.format = herald.ColumnDatetime
		default:
			f.format = herald.ColumnAuto
		}
	}
	return f
}

// numeric reports whether the column shows numbers (right-aligned header).
func (f colFormat) numeric() bool {
	switch f.format {
	case herald.ColumnInteger, herald.ColumnNumber, herald.ColumnPercent, herald.ColumnCurrency:
		return true
	}
	return false
}

// cell formats one value; ok is false for an unsupported value.
func (f colFormat) cell(v any) (cell, bool) {
	switch x := widen(v).(type) {
	case nil:
		return cell{null: true}, true
	case string:
		return f.stringCell(x), true
	case decimalText:
		return f.decimalCell(string(x), fromInt), true
	case int64:
		return f.intCell(x), true
	case float64:
		return f.floatCell(x), true
	case bool:
		return f.boolCell(x), true
	case time.Time:
		return cell{text: f.timeText(x)}, true
	case json.RawMessage:
		if x == nil {
			return cell{null: true}, true
		}
		return textCell(string(x[:min(len(x), 4*maxCellRunes+4)])), true // more is cut anyway
	case []byte:
		return bytesCell(x), true
	}
	return cell{}, false
}

// textCell is a left-aligned cell of cleaned text.
func textCell(s string) cell { return cell{text: cleanText(s)} }

// bytesCell shows bytes as base64, cut after maxBytesShown bytes.
func bytesCell(p []byte) cell {
	if p == nil {
		return cell{null: true}
	}
	if len(p) > maxBytesShown {
		return cell{text: base64.StdEncoding.EncodeToString(p[:maxBytesShown]) + ellipsis}
	}
	return cell{text: base64.StdEncoding.EncodeToString(p)}
}

// stringCell shows a string: as a number under a numeric format (decimals
// arrive as strings), as Yes/No under the bool format, else as text.
func (f colFormat) stringCell(s string) cell {
	switch {
	case f.numeric():
		return f.decimalCell(s, fromDecimal)
	case f.format == herald.ColumnBool:
		if b, err := strconv.ParseBool(strings.TrimSpace(s)); err == nil {
			return f.boolCell(b)
		}
	}
	return textCell(s)
}

// decimalCell shows decimal text as a number, or as text when it is not one.
func (f colFormat) decimalCell(s string, src numSource) cell {
	if f.format == herald.ColumnText {
		return textCell(s)
	}
	n, ok := parseDecimal(s)
	if !ok {
		return textCell(s)
	}
	return cell{text: f.numberText(n, src), right: true}
}

// intCell shows an int64.
func (f colFormat) intCell(i int64) cell {
	switch f.format {
	case herald.ColumnText, herald.ColumnDate, herald.ColumnDatetime:
		return cell{text: strconv.FormatInt(i, 10)}
	case herald.ColumnBool:
		return f.boolCell(i != 0)
	}
	n, _ := parseDecimal(strconv.FormatInt(i, 10))
	return cell{text: f.numberText(n, fromInt), right: true}
}

// floatCell shows a float64.
func (f colFormat) floatCell(x float64) cell {
	var s []byte
	s = appendFloat(s, x)
	switch f.format {
	case herald.ColumnText, herald.ColumnDate, herald.ColumnDatetime:
		return cell{text: string(s)}
	case herald.ColumnBool:
		return f.boolCell(x != 0)
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return cell{text: string(s), right: true}
	}
	if a := math.Abs(x); a != 0 && (a < 1e-6 || a >= 1e21) && f.decimals == nil {
		return cell{text: string(s), right: true} // keep the exponent
	}
	n, ok := parseDecimal(string(s))
	if !ok {
		return cell{text: string(s), right: true}
	}
	return cell{text: f.numberText(n, fromFloat), right: true}
}

// boolCell shows a bool: Yes/No under the bool format, else true/false.
func (f colFormat) boolCell(b bool) cell {
	if f.format == herald.ColumnBool {
		if b {
			return cell{text: "Yes"}
		}
		return cell{text: "No"}
	}
	return cell{text: strconv.FormatBool(b)}
}

// numberText formats a number under the column's numeric format.
func (f colFormat) numberText(n number, src numSource) string {
	switch f.format {
	case herald.ColumnInteger:
		return n.round(0).String()
	case herald.ColumnPercent:
		n = n.shift(2)
		if f.decimals != nil {
			n = n.round(*f.decimals)
		} else {
			n = n.round(percentDecimals).trimZeros(0)
		}
		return n.String() + "%"
	case herald.ColumnCurrency:
		d := minorUnits(f.currency)
		if f.decimals != nil {
			d = *f.decimals
		}
		return currencyText(n.round(d), f.currency)
	}
	switch {
	case f.decimals != nil:
		n = n.round(*f.decimals)
	case src == fromFloat:
		n = n.round(floatDecimals).trimZeros(0)
	}
	return n.String()
}

// currencyText writes "$1,234.50", "-€5.00" or "CHF 1,234.50".
func currencyText(n number, code string) string {
	sym := currencySymbol(code)
	var b []byte
	if n.neg && !n.isZero() {
		b = append(b, '-')
	}
	n.neg = false
	switch {
	case sym != "":
		b = append(b, sym...)
	case code != "":
		b = append(append(b, code...), ' ')
	}
	return string(n.appendGrouped(b))
}

// currencySymbol returns the symbol shown for a few common currencies.
func currencySymbol(code string) string {
	switch code {
	case "USD":
		return "$"
	case "EUR":
		return "€"
	case "GBP":
		return "£"
	case "JPY":
		return "¥"
	}
	return ""
}

// minorUnits returns the usual decimals of an ISO 4217 currency.
func minorUnits(code string) int {
	switch code {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	}
	return 2
}

// timeText shows a date (its calendar date) or an instant in the zone,
// with seconds only when they are not zero.
func (f colFormat) timeText(t time.Time) string {
	date := f.format == herald.ColumnDate || f.format != herald.ColumnDatetime && f.typ == TypeDate
	switch {
	case date && f.typ == TypeDate:
		return t.Format(time.DateOnly)
	case date:
		return t.In(f.loc).Format(time.DateOnly)
	}
	t = t.In(f.loc)
	if t.Second() != 0 {
		return t.Format(time.DateTime)
	}
	return t.Format("2006-01-02 15:04")
}

// instantText shows an instant for the title block and footers:
// "Mon 2 Mar 2026 09:00 CET (UTC+01:00)".
func instantText(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	if loc == time.UTC {
		return t.Format("Mon 2 Jan 2006 15:04") + " UTC"
	}
	name, _ := t.Zone()
	if name == "" || name[0] == '+' || name[0] == '-' {
		name = loc.String() // zones without an abbreviation, such as "-03"
	}
	return t.Format("Mon 2 Jan 2006 15:04") + " " + name + " (UTC" + t.Format("-07:00") + ")"
}

// countText writes "1 row" or "1,234 rows".
func countText(n int64) string {
	s := groupInt(n)
	if n == 1 {
		return s + " row"
	}
	return s + " rows"
}

// groupInt writes an integer with thousands separators.
func groupInt(i int64) string {
	n, _ := parseDecimal(strconv.FormatInt(i, 10))
	return n.String()
}
