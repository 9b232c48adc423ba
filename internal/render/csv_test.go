package render

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// field is one field read back by the strict parser.
type field struct {
	text   string
	quoted bool
}

// parseStrict reads RFC 4180 CSV and rejects what the RFC does not allow:
// a quote inside an unquoted field, anything but a comma or CRLF after a
// closing quote, a line end other than CRLF outside quotes, an unterminated
// quoted field, a missing final CRLF and rows of different lengths.
func parseStrict(data []byte) ([][]field, error) {
	var rows [][]field
	var row []field
	for i := 0; ; {
		f, next, err := strictField(data, i)
		if err != nil {
			return nil, err
		}
		row = append(row, f)
		switch {
		case next < len(data) && data[next] == ',':
			i = next + 1
			continue
		case next+1 < len(data) && data[next] == '\r' && data[next+1] == '\n':
			i = next + 2
		case next >= len(data):
			return nil, fmt.Errorf("offset %d: missing final CRLF", next)
		default:
			return nil, fmt.Errorf("offset %d: unexpected byte %q after a field", next, data[next])
		}
		if len(rows) > 0 && len(row) != len(rows[0]) {
			return nil, fmt.Errorf("row %d has %d fields, want %d", len(rows)+1, len(row), len(rows[0]))
		}
		rows, row = append(rows, row), nil
		if i == len(data) {
			return rows, nil
		}
	}
}

// strictField reads one field starting at i and returns where it ends.
func strictField(data []byte, i int) (field, int, error) {
	if i < len(data) && data[i] == '"' {
		var b strings.Builder
		for j := i + 1; j < len(data); j++ {
			if data[j] != '"' {
				b.WriteByte(data[j])
				continue
			}
			if j+1 < len(data) && data[j+1] == '"' {
				b.WriteByte('"')
				j++
				continue
			}
			return field{text: b.String(), quoted: true}, j + 1, nil
		}
		return field{}, 0, fmt.Errorf("offset %d: unterminated quoted field", i)
	}
	j := i
	for ; j < len(data) && data[j] != ',' && data[j] != '\r'; j++ {
		switch data[j] {
		case '"':
			return field{}, 0, fmt.Errorf("offset %d: bare quote in an unquoted field", j)
		case '\n':
			return field{}, 0, fmt.Errorf("offset %d: LF without CR", j)
		}
	}
	return field{text: string(data[i:j])}, j, nil
}

// crlfToLF replaces CRLF with LF in every field.
func crlfToLF(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		for _, f := range r {
			out[i] = append(out[i], strings.ReplaceAll(f, "\r\n", "\n"))
		}
	}
	return out
}

// texts returns the text of parsed rows.
func texts(rows [][]field) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		for _, f := range r {
			out[i] = append(out[i], f.text)
		}
	}
	return out
}

// readStdlib reads CSV with encoding/csv, strictly. (encoding/csv turns
// CRLF inside a quoted field into LF; crlfToLF does the same to the
// expected rows.)
func readStdlib(t *testing.T, data []byte, fields int) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(data))
	r.LazyQuotes = false
	r.FieldsPerRecord = fields
	recs, err := r.ReadAll()
	require.NoError(t, err)
	return recs
}

// writeCSV writes rows and returns the document.
func writeCSV(t *testing.T, cols []Column, rows [][]any, meta Meta, opts CSVOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	c, err := NewCSV(&buf, cols, meta, opts)
	require.NoError(t, err)
	for _, r := range rows {
		require.NoError(t, c.WriteRow(r))
	}
	require.NoError(t, c.Close(Summary{Rows: int64(len(rows))}))
	require.Equal(t, int64(len(rows)), c.Rows())
	return buf.Bytes()
}

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func TestCSVRoundTrip(t *testing.T) {
	tenth := 0.1 // a variable, so that 0.1+0.2 is float64 arithmetic
	kolkata, newYork := mustZone(t, "Asia/Kolkata"), mustZone(t, "America/New_York")
	type value struct {
		col    Column
		v      any
		want   string
		quoted bool
	}
	str := func(v any, want string, quoted bool) value {
		return value{col: Column{Name: "s", Type: TypeString}, v: v, want: want, quoted: quoted}
	}
	tests := []struct {
		name string
		loc  *time.Location
		vals []value
	}{
		{name: "text needing quotes", vals: []value{
			str("plain", "plain", false),
			str("a,b", "a,b", true),
			str(`say "hi"`, `say "hi"`, true),
			str("\"", "\"", true),
			str("line1\r\nline2", "line1\r\nline2", true),
			str("lf\nonly", "lf\nonly", true),
			str("cr\ronly", "cr\ronly", true),
			str("  leading", "  leading", true),
			str("trailing ", "trailing ", true),
			str("\ttab", "\ttab", true),
			str("in ner", "in ner", false),
			str("", "", true),
			str(nil, "", false),
			str("=SUM(A1:A9)", "=SUM(A1:A9)", false),
			str("+1", "+1", false),
		}},
		{name: "UTF-8 and invalid bytes", vals: []value{
			str("Łódź", "Łódź", false),
			str("Ærøskøbing", "Ærøskøbing", false),
			str("Δημήτρης", "Δημήτρης", false),
			str("🎉 party, 👩‍👩‍👧", "🎉 party, 👩‍👩‍👧", true),
			str("bad\xff\xfe byte", "bad\uFFFD\uFFFD byte", false),
			str("\"bad\xc3", "\"bad\uFFFD", true),
		}},
		{name: "numbers", vals: []value{
			{col: Column{Name: "i", Type: TypeInt}, v: int64(math.MaxInt64), want: "9223372036854775807"},
			{col: Column{Name: "i", Type: TypeInt}, v: int64(math.MinInt64), want: "-9223372036854775808"},
			{col: Column{Name: "f", Type: TypeFloat}, v: tenth + 2*tenth, want: "0.30000000000000004"},
			{col: Column{Name: "f", Type: TypeFloat}, v: 1234567.25, want: "1234567.25"},
			{col: Column{Name: "f", Type: TypeFloat}, v: 1e20, want: "100000000000000000000"},
			{col: Column{Name: "f", Type: TypeFloat}, v: 1e21, want: "1e+21"},
			{col: Column{Name: "f", Type: TypeFloat}, v: 1.5e-7, want: "1.5e-07"},
			{col: Column{Name: "f", Type: TypeFloat}, v: 0.000001, want: "0.000001"},
			{col: Column{Name: "f", Type: TypeFloat}, v: math.NaN(), want: "NaN"},
			{col: Column{Name: "f", Type: TypeFloat}, v: math.Inf(1), want: "Infinity"},
			{col: Column{Name: "f", Type: TypeFloat}, v: math.Inf(-1), want: "-Infinity"},
			{col: Column{Name: "f", Type: TypeFloat}, v: math.Copysign(0, -1), want: "-0"},
			{col: Column{Name: "d", Type: TypeDecimal}, v: "1234.50", want: "1234.50"},
			{col: Column{Name: "d", Type: TypeDecimal}, v: "-0.000000000000000000000000000001", want: "-0.000000000000000000000000000001"},
			{col: Column{Name: "d", Type: TypeDecimal}, v: "123456789012345678901234567890.12", want: "123456789012345678901234567890.12"},
			{col: Column{Name: "u", Type: TypeUnknown}, v: uint64(math.MaxUint64), want: "18446744073709551615"},
			{col: Column{Name: "u", Type: TypeUnknown}, v: 7, want: "7"},
			{col: Column{Name: "u", Type: TypeUnknown}, v: float32(0.5), want: "0.5"},
		}},
		{name: "bool json bytes", vals: []value{
			{col: Column{Name: "b", Type: TypeBool}, v: true, want: "true"},
			{col: Column{Name: "b", Type: TypeBool}, v: false, want: "false"},
			{col: Column{Name: "j", Type: TypeJSON}, v: jsonOf(map[string]any{"a": 1, "b": "x,y"}), want: `{"a":1,"b":"x,y"}`, quoted: true},
			{col: Column{Name: "j", Type: TypeJSON}, v: json.RawMessage(`[1,2]`), want: `[1,2]`, quoted: true},
			{col: Column{Name: "j", Type: TypeJSON}, v: json.RawMessage(`"text"`), want: `"text"`, quoted: true},
			{col: Column{Name: "j", Type: TypeJSON}, v: json.RawMessage(`42`), want: `42`},
			{col: Column{Name: "j", Type: TypeJSON}, v: json.RawMessage(nil), want: ""},
			{col: Column{Name: "x", Type: TypeBytes}, v: []byte{0, 1, 2, 0xfe, 0xff}, want: "AAEC/v8="},
			{col: Column{Name: "x", Type: TypeBytes}, v: []byte{}, want: "", quoted: true},
			{col: Column{Name: "x", Type: TypeBytes}, v: []byte(nil), want: ""},
		}},
		{name: "times in Kolkata", loc: kolkata, vals: []value{
			{col: Column{Name: "d", Type: TypeDate}, v: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), want: "2026-03-02"},
			{col: Column{Name: "t", Type: TypeDatetime}, v: time.Date(2026, 3, 2, 3, 30, 0, 0, time.UTC), want: "2026-03-02T09:00:00+05:30"},
			{col: Column{Name: "t", Type: TypeDatetime}, v: time.Date(2026, 3, 2, 3, 30, 0, 120_000_000, time.UTC), want: "2026-03-02T09:00:00.12+05:30"},
			{col: Column{Name: "t", Type: TypeUnknown}, v: time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC), want: "2026-03-02T01:30:00+05:30"},
		}},
		{name: "times in New York across DST", loc: newYork, vals: []value{
			{col: Column{Name: "before", Type: TypeDatetime}, v: time.Date(2026, 3, 8, 6, 59, 59, 0, time.UTC), want: "2026-03-08T01:59:59-05:00"},
			{col: Column{Name: "after", Type: TypeDatetime}, v: time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), want: "2026-03-08T03:00:00-04:00"},
			{col: Column{Name: "first", Type: TypeDatetime}, v: time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), want: "2026-11-01T01:30:00-04:00"},
			{col: Column{Name: "second", Type: TypeDatetime}, v: time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC), want: "2026-11-01T01:30:00-05:00"},
			{col: Column{Name: "date", Type: TypeDate}, v: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), want: "2026-11-01"},
		}},
		{name: "UTC by default", vals: []value{
			{col: Column{Name: "t", Type: TypeDatetime}, v: time.Date(2026, 3, 2, 9, 0, 0, 1, time.UTC), want: "2026-03-02T09:00:00.000000001Z"},
			{col: Column{Name: "t", Type: TypeDatetime}, v: time.Date(2026, 3, 2, 9, 0, 0, 0, kolkata), want: "2026-03-02T03:30:00Z"},
		}},
	}
	for _, tt := range tests {
		for _, bom := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/bom=%v", tt.name, bom), func(t *testing.T) {
				cols := make([]Column, len(tt.vals))
				row := make([]any, len(tt.vals))
				header := make([]string, len(tt.vals))
				want := make([]string, len(tt.vals))
				for i, v := range tt.vals {
					cols[i], row[i], want[i] = v.col, v.v, v.want
					cols[i].Label = fmt.Sprintf("%s, #%d", v.col.Name, i) // labels need quoting too
					header[i] = cols[i].Label
				}
				data := writeCSV(t, cols, [][]any{row, row}, Meta{Location: tt.loc}, CSVOptions{BOM: bom})
				if bom {
					require.True(t, bytes.HasPrefix(data, []byte(utf8BOM)), "BOM first")
					data = data[len(utf8BOM):]
				} else {
					require.False(t, bytes.HasPrefix(data, []byte(utf8BOM)))
				}
				got, err := parseStrict(data)
				require.NoError(t, err, "%q", data)
				require.Len(t, got, 3)
				assert.Equal(t, [][]string{header, want, want}, texts(got))
				for i, v := range tt.vals {
					assert.Equal(t, v.quoted, got[1][i].quoted, "quoting of %q", v.want)
				}
				assert.Equal(t, crlfToLF([][]string{header, want, want}), readStdlib(t, data, len(cols)))
			})
		}
	}
}

func TestCSVFloatsRoundTrip(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 0.1, 1.0 / 3, 2.5e-6, 9.99e-7, 123456789.123456789, math.MaxFloat64, math.SmallestNonzeroFloat64, 1e21 - 65536, 4.35, -7.2e15, 1 << 53} {
		got := string(appendFloat(nil, f))
		back, err := strconv.ParseFloat(got, 64)
		require.NoError(t, err, got)
		assert.Equal(t, f, back, "%s", got)
		if a := math.Abs(f); a == 0 || a >= 1e-6 && a < 1e21 {
			assert.NotContains(t, got, "e", "no exponent for %v", f)
		}
	}
}

func TestCSVHeaderAndLineEnds(t *testing.T) {
	cols := []Column{{Name: "id", Type: TypeInt}, {Name: "name", Label: "Full name"}, {Name: "note", Label: " padded "}}
	data := writeCSV(t, cols, [][]any{{int64(1), "Łódź", nil}}, Meta{}, CSVOptions{})
	assert.Equal(t, "id,Full name,\" padded \"\r\n1,Łódź,\r\n", string(data))
}

func TestCSVEmptyResult(t *testing.T) {
	data := writeCSV(t, []Column{{Name: "a"}, {Name: "b"}}, nil, Meta{}, CSVOptions{BOM: true})
	assert.Equal(t, utf8BOM+"a,b\r\n", string(data))
}

func TestCSVErrors(t *testing.T) {
	var buf bytes.Buffer
	_, err := NewCSV(&buf, nil, Meta{}, CSVOptions{})
	require.ErrorIs(t, err, ErrNoColumns)

	c, err := NewCSV(&buf, []Column{{Name: "a"}, {Name: "when"}}, Meta{}, CSVOptions{})
	require.NoError(t, err)
	err = c.WriteRow([]any{"x"})
	require.ErrorIs(t, err, ErrValueCount)
	assert.Contains(t, err.Error(), "got 1, want 2")
	err = c.WriteRow([]any{"x", struct{}{}})
	require.ErrorIs(t, err, ErrUnsupportedValue)
	assert.Contains(t, err.Error(), `column "when"`)
	assert.Contains(t, err.Error(), "struct {}")
	for _, v := range []any{map[string]any{}, []string{"a"}, &struct{}{}, time.Second, complex(1, 2), []any{1}} {
		require.ErrorIs(t, c.WriteRow([]any{"x", v}), ErrUnsupportedValue, "%T", v)
	}
	require.NoError(t, c.WriteRow([]any{"ok", nil}))
	require.NoError(t, c.Close(Summary{}))
	require.NoError(t, c.Close(Summary{}), "second Close is a no-op")
	require.ErrorIs(t, c.WriteRow([]any{"late", nil}), ErrClosed)
	assert.Equal(t, "a,when\r\nok,\r\n", buf.String(), "bad rows are not written")
	assert.Equal(t, int64(1), c.Rows())
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestCSVWriterError(t *testing.T) {
	c, err := NewCSV(failingWriter{}, []Column{{Name: "a"}}, Meta{}, CSVOptions{})
	require.NoError(t, err)
	require.NoError(t, c.WriteRow([]any{"buffered"}))
	err = c.Close(Summary{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "disk full")

	c, err = NewCSV(failingWriter{}, []Column{{Name: "a"}}, Meta{}, CSVOptions{})
	require.NoError(t, err)
	big := strings.Repeat("x", csvBufferSize)
	err = c.WriteRow([]any{big})
	require.Error(t, err)
	require.ErrorIs(t, c.WriteRow([]any{"more"}), err, "a write error is final")
}

func TestCSVDoesNotAllocatePerRow(t *testing.T) {
	loc := mustZone(t, "Europe/Berlin")
	cols := []Column{{Name: "i", Type: TypeInt}, {Name: "s"}, {Name: "f", Type: TypeFloat}, {Name: "d", Type: TypeDecimal},
		{Name: "b", Type: TypeBool}, {Name: "day", Type: TypeDate}, {Name: "t", Type: TypeDatetime}, {Name: "j", Type: TypeJSON}, {Name: "x", Type: TypeBytes}}
	row := []any{int64(42), `Zoë "Z", Łódź`, 1234.5678, "99.95", true, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), json.RawMessage(`{"k":[1,2],"city":"Łódź, \\"PL\\""}`), []byte("bytes")}
	c, err := NewCSV(&bytes.Buffer{}, cols, Meta{Location: loc}, CSVOptions{})
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(1000, func() {
		if err := c.WriteRow(row); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

// FuzzCSV writes arbitrary strings and reads them back strictly.
func FuzzCSV(f *testing.F) {
	for _, s := range []string{"", "a", "a,b", `"`, `""`, "\r\n", "\n", "\r", " x", "x ", "Łódź", "\xff", "é\x80", "🎉", "\"\r\n,"} {
		f.Add(s, "label", true)
	}
	f.Fuzz(func(t *testing.T, s, label string, bom bool) {
		cols := []Column{{Name: "s", Label: label}, {Name: "n", Type: TypeInt}, {Name: "j", Type: TypeJSON}}
		data := writeCSV(t, cols, [][]any{{s, int64(len(s)), json.RawMessage(s)}, {nil, nil, nil}}, Meta{}, CSVOptions{BOM: bom})
		data = bytes.TrimPrefix(data, []byte(utf8BOM))
		valid := func(x string) string { return string([]rune(x)) }
		if label == "" {
			label = "s"
		}
		want := [][]string{{valid(label), "n", "j"}, {valid(s), strconv.Itoa(len(s)), valid(s)}, {"", "", ""}}
		got, err := parseStrict(data)
		require.NoError(t, err, "%q", data)
		require.Equal(t, want, texts(got))
		require.True(t, got[1][0].quoted || s != "", "an empty string is quoted")
		require.False(t, got[2][0].quoted, "NULL is not quoted")
		require.Equal(t, crlfToLF(want), readStdlib(t, data, 3))
	})
}

func TestCSVSingleColumnNullKeepsItsRow(t *testing.T) {
	data := writeCSV(t, []Column{{Name: "note", Type: TypeString}}, [][]any{{"a"}, {nil}, {""}, {"b"}}, Meta{}, CSVOptions{})
	assert.Equal(t, "note\r\na\r\n\"\"\r\n\"\"\r\nb\r\n", string(data))
	assert.Len(t, readStdlib(t, data, 1), 5, "every row is read back, none skipped as an empty line")
}
