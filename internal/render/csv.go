package render

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// csvBufferSize is the size of the CSV writer's output buffer.
const csvBufferSize = 64 << 10

// maxLineBuffer is the largest line buffer kept between rows.
const maxLineBuffer = 1 << 20

// utf8BOM is the UTF-8 byte order mark Excel looks for.
const utf8BOM = "\xEF\xBB\xBF"

// CSVOptions configures a CSV writer.
type CSVOptions struct {
	// BOM writes a UTF-8 byte order mark first (for Excel).
	BOM bool
}

// CSV writes rows as RFC 4180 CSV: a header row of labels, CRLF line ends,
// fields quoted when they contain a comma, a quote, CR or LF, start or end
// with a space or tab, or are empty strings (so that "" and NULL differ: NULL
// is an empty unquoted field). Text is UTF-8; invalid bytes become U+FFFD.
//
// Values are written losslessly and locale-neutrally: int64 in decimal;
// float64 as the shortest text that parses back to the same value, without
// an exponent between 1e-6 and 1e21, and NaN, Infinity, -Infinity; decimals
// verbatim; bool as true or false; dates as YYYY-MM-DD; datetimes as
// RFC 3339 in Meta.Location with fractional seconds only when non-zero;
// JSON verbatim; bytes as standard base64.
//
// A CSV is not safe for concurrent use.
type CSV struct {
	w      *bufio.Writer
	cols   []Column
	loc    *time.Location
	buf    []byte
	rows   int64
	err    error
	closed bool
}

// NewCSV starts a CSV document on w and buffers its header row. Nothing
// reaches w before the buffer fills or Close is called.
func NewCSV(w io.Writer, cols []Column, meta Meta, opts CSVOptions) (*CSV, error) {
	if len(cols) == 0 {
		return nil, fmt.Errorf("render csv: %w", ErrNoColumns)
	}
	c := &CSV{
		w:    bufio.NewWriterSize(w, csvBufferSize),
		cols: append([]Column(nil), cols...),
		loc:  meta.location(),
		buf:  make([]byte, 0, 1024),
	}
	if opts.BOM {
		c.buf = append(c.buf, utf8BOM...)
	}
	for i, col := range c.cols {
		if i > 0 {
			c.buf = append(c.buf, ',')
		}
		c.buf = appendText(c.buf, col.header())
	}
	if len(c.buf) == 0 {
		// A one-column row holding NULL would be an empty line, which
		// most readers skip: write it as an empty quoted field instead.
		c.buf = append(c.buf, '"', '"')
	}
	c.buf = append(c.buf, '\r', '\n')
	if err := c.write(); err != nil {
		return nil, err
	}
	return c, nil
}

// WriteRow writes one row; vals must hold one value per column. A row with a
// bad value is not written and the error wraps ErrValueCount or
// ErrUnsupportedValue; later rows may still be written. An error of the
// underlying writer is final.
func (c *CSV) WriteRow(vals []any) error {
	if c.closed {
		return fmt.Errorf("render csv: %w", ErrClosed)
	}
	if c.err != nil {
		return c.err
	}
	if err := checkCount("csv", c.rows+1, vals, c.cols); err != nil {
		return err
	}
	c.buf = c.buf[:0]
	for i, v := range vals {
		if i > 0 {
			c.buf = append(c.buf, ',')
		}
		var ok bool
		c.buf, ok = c.appendValue(c.buf, v, c.cols[i].Type)
		if !ok {
			return valueError("csv", c.rows+1, c.cols[i], v)
		}
	}
	if len(c.buf) == 0 {
		// A one-column row holding NULL would be an empty line, which
		// most readers skip: write it as an empty quoted field instead.
		c.buf = append(c.buf, '"', '"')
	}
	c.buf = append(c.buf, '\r', '\n')
	if err := c.write(); err != nil {
		return err
	}
	if cap(c.buf) > maxLineBuffer {
		c.buf = make([]byte, 0, 1024) // do not keep a huge row's buffer
	}
	c.rows++
	return nil
}

// Close flushes the buffered output. It never closes w. The summary is not
// written: the CSV holds data only. Calling Close again does nothing.
func (c *CSV) Close(_ Summary) error {
	if c.closed {
		return c.err
	}
	c.closed = true
	if c.err != nil {
		return c.err
	}
	if err := c.w.Flush(); err != nil {
		c.err = fmt.Errorf("render csv: flushing: %w", err)
	}
	return c.err
}

// Rows returns the number of data rows written.
func (c *CSV) Rows() int64 { return c.rows }

// write moves the assembled line into the output buffer.
func (c *CSV) write() error {
	if _, err := c.w.Write(c.buf); err != nil {
		c.err = fmt.Errorf("render csv: writing: %w", err)
		return c.err
	}
	return nil
}

// appendValue appends one field; ok is false for an unsupported value.
func (c *CSV) appendValue(b []byte, v any, typ Type) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return b, true
	case string:
		return appendText(b, x), true
	case int64:
		return strconv.AppendInt(b, x, 10), true
	case float64:
		return appendFloat(b, x), true
	case bool:
		return strconv.AppendBool(b, x), true
	case time.Time:
		return c.appendTime(b, x, typ), true
	case json.RawMessage:
		return appendBytesText(b, x), true
	case []byte:
		return appendBase64(b, x), true
	}
	return appendOther(b, v)
}

// appendTime appends a date (its own calendar date, whatever its zone) or an
// instant in the CSV's zone.
func (c *CSV) appendTime(b []byte, t time.Time, typ Type) []byte {
	if typ == TypeDate {
		return t.AppendFormat(b, time.DateOnly)
	}
	return t.In(c.loc).AppendFormat(b, time.RFC3339Nano)
}

// appendOther appends the convenience integer kinds and float32.
func appendOther(b []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case int:
		return strconv.AppendInt(b, int64(x), 10), true
	case int8:
		return strconv.AppendInt(b, int64(x), 10), true
	case int16:
		return strconv.AppendInt(b, int64(x), 10), true
	case int32:
		return strconv.AppendInt(b, int64(x), 10), true
	case uint:
		return strconv.AppendUint(b, uint64(x), 10), true
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10), true
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10), true
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), true
	case uint64:
		return strconv.AppendUint(b, x, 10), true
	case float32:
		return appendFloat(b, float64(x)), true
	}
	return b, false
}

// appendFloat appends f as the shortest decimal that parses back to f, in
// plain notation unless it is below 1e-6 or from 1e21 on (as JavaScript
// does), where an exponent keeps it short.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	}
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// appendBase64 appends standard base64; nil bytes are NULL, empty bytes an
// empty quoted field.
func appendBase64(b []byte, p []byte) []byte {
	if p == nil {
		return b
	}
	if len(p) == 0 {
		return append(b, '"', '"')
	}
	return base64.StdEncoding.AppendEncode(b, p)
}

// appendBytesText appends JSON text; nil is NULL.
func appendBytesText(b []byte, p []byte) []byte {
	if p == nil {
		return b
	}
	return appendText(b, p)
}

// appendText appends s as one CSV field, quoted when needed, with invalid
// UTF-8 replaced by U+FFFD.
func appendText[S string | []byte](b []byte, s S) []byte {
	quote, ascii := scanField(s)
	valid := ascii || validUTF8(s)
	if quote {
		b = append(b, '"')
	}
	switch {
	case valid && !quote:
		b = append(b, s...)
	case valid:
		b = appendDoubled(b, s)
	default:
		b = appendRepaired(b, s)
	}
	if quote {
		b = append(b, '"')
	}
	return b
}

// scanField reports whether s needs quoting and whether it is all ASCII.
func scanField[S string | []byte](s S) (quote, ascii bool) {
	n := len(s)
	if n == 0 {
		return true, true
	}
	quote = s[0] == ' ' || s[0] == '\t' || s[n-1] == ' ' || s[n-1] == '\t'
	ascii = true
	for i := 0; i < n; i++ {
		switch ch := s[i]; {
		case ch == ',' || ch == '"' || ch == '\r' || ch == '\n':
			quote = true
		case ch >= utf8.RuneSelf:
			ascii = false
		}
	}
	return quote, ascii
}

// validUTF8 reports whether s is valid UTF-8.
func validUTF8[S string | []byte](s S) bool {
	switch v := any(s).(type) {
	case string:
		return utf8.ValidString(v)
	case []byte:
		return utf8.Valid(v)
	}
	return false
}

// appendDoubled appends s with every quote doubled.
func appendDoubled[S string | []byte](b []byte, s S) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return b
}

// appendRepaired appends s with every quote doubled and each invalid UTF-8
// sequence replaced by U+FFFD.
func appendRepaired[S string | []byte](b []byte, s S) []byte {
	for _, r := range string(s) {
		if r == '"' {
			b = append(b, '"')
		}
		b = utf8.AppendRune(b, r)
	}
	return b
}
