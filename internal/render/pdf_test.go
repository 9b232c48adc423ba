package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// pages splits pdftotext output into pages.
func pages(text string) []string {
	return strings.Split(strings.TrimRight(text, "\f"), "\f")
}

// pageSize returns the size of page n as pdfinfo reports it ("595.28 x 841.89").
func pageSize(t *testing.T, path string, n int) string {
	t.Helper()
	out := run(t, "pdfinfo", "-f", strconv.Itoa(n), "-l", strconv.Itoa(n), path)
	m := regexp.MustCompile(`Page +\d+ size: +([\d.]+ x [\d.]+) pts`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	return m[1]
}

const (
	portraitA4  = "595.28 x 841.89"
	landscapeA4 = "841.89 x 595.28"
)

func TestPDFContent(t *testing.T) {
	rows := sampleRows(130)
	data := renderPDF(t, sampleColumns(), rows, sampleMeta(), PDFOptions{}, Summary{Rows: 130})
	require.True(t, bytes.HasPrefix(data, []byte("%PDF-")))
	path := writeTemp(t, "orders.pdf", data)
	checkPDF(t, path)
	text := pdfText(t, path)
	ps := pages(text)
	require.GreaterOrEqual(t, len(ps), 3, "130 rows take several pages")
	n := len(ps)

	for _, want := range []string{
		"Monthly orders", "Report: orders-monthly", "region = EU", "since = 2026-01-01",
		"Scheduled for Mon 2 Mar 2026 09:00 CET (UTC+01:00)", "Europe/Berlin", "Run run_01JNQ3W8ZK",
		"Łódź Trading", "Ærøskøbing Fisk", "Δημήτρης Παπαδόπουλος", "Ольга Иванова", "Jürgen Groß",
		"pending, review", "€7,919.01", "100,001", "2026-01-02 10:01", "0.50%",
	} {
		assert.Contains(t, ps[0], want)
	}
	for i, p := range ps {
		assert.Contains(t, p, fmt.Sprintf("Page %d of %d", i+1, n))
		assert.Contains(t, p, "Generated Mon 2 Mar 2026 09:00 CET (UTC+01:00) by Herald")
		assert.Regexp(t, `Order +Customer +Country +Ordered +Shipped +Amount +Discount +Status`, p, "header on page %d", i+1)
	}
	assert.NotContains(t, ps[1], "Monthly orders", "the title block is on page 1 only")
	assert.Contains(t, ps[n-1], "Total: 130 rows")
	assert.Contains(t, ps[n-1], "100,129", "the last row")
	assert.NotContains(t, text, "row cap")
	assert.NotContains(t, text, "the CSV holds")
	assert.Equal(t, 1, strings.Count(text, "100,064 "), "every row once")
	for i := 1; i <= n; i++ {
		assert.Equal(t, portraitA4, pageSize(t, path, i))
	}
	assert.Regexp(t, `utf8go +CID TrueType +Identity-H +yes`, run(t, "pdffonts", path), "embedded Go font")
}

func TestPDFNotes(t *testing.T) {
	const note1 = "The query returned more rows than the row cap (40); only the first 40 are included."
	const note2 = "This PDF shows the first 25 of 40 rows; the CSV holds all of them."
	tests := []struct {
		name      string
		max       int64
		s         Summary
		want      []string
		wantRows  int64
		notWanted []string
	}{
		{name: "complete", max: 0, s: Summary{Rows: 40, RowCap: 1000}, want: []string{"Total: 40 rows"}, wantRows: 40, notWanted: []string{"row cap", "CSV holds"}},
		{name: "row cap", max: 0, s: Summary{Rows: 40, Truncated: true, RowCap: 40}, want: []string{"Total: 40 rows", note1}, wantRows: 40, notWanted: []string{"CSV holds"}},
		{name: "max rows", max: 25, s: Summary{Rows: 40, RowCap: 1000}, want: []string{"Total: 40 rows", note2}, wantRows: 25, notWanted: []string{"row cap"}},
		{name: "both", max: 25, s: Summary{Rows: 40, Truncated: true, RowCap: 40}, want: []string{note1, note2}, wantRows: 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			p, err := NewPDF(&buf, sampleColumns(), sampleMeta(), PDFOptions{MaxRows: tt.max})
			require.NoError(t, err)
			for _, r := range sampleRows(40) {
				require.NoError(t, p.WriteRow(r))
			}
			require.NoError(t, p.Close(tt.s))
			assert.Equal(t, tt.wantRows, p.Rows())
			path := writeTemp(t, "notes.pdf", buf.Bytes())
			checkPDF(t, path)
			text := strings.Join(strings.Fields(pdfText(t, path)), " ")
			for _, w := range tt.want {
				assert.Contains(t, text, w)
			}
			for _, w := range tt.notWanted {
				assert.NotContains(t, text, w)
			}
			if tt.max > 0 {
				assert.Contains(t, text, "100,024 ", "the last drawn row")
				assert.NotContains(t, text, "100,025 ", "rows beyond MaxRows are not drawn")
			}
		})
	}
}

func TestPDFOrientation(t *testing.T) {
	wide := make([]Column, 14)
	row := make([]any, 14)
	for i := range wide {
		wide[i] = Column{Name: fmt.Sprintf("measure_%02d", i), Label: fmt.Sprintf("Measure %02d", i), Type: TypeDecimal, Format: herald.ColumnCurrency, Currency: "USD"}
		row[i] = "1234567.89"
	}
	narrow := []Column{{Name: "a"}, {Name: "b", Type: TypeInt}}
	tests := []struct {
		name string
		cols []Column
		row  []any
		o    herald.Orientation
		want string
	}{
		{name: "14 columns auto", cols: wide, row: row, o: herald.OrientationAuto, want: landscapeA4},
		{name: "14 columns unset", cols: wide, row: row, o: "", want: landscapeA4},
		{name: "14 columns portrait", cols: wide, row: row, o: herald.OrientationPortrait, want: portraitA4},
		{name: "2 columns auto", cols: narrow, row: []any{"x", int64(1)}, o: herald.OrientationAuto, want: portraitA4},
		{name: "2 columns landscape", cols: narrow, row: []any{"x", int64(1)}, o: herald.OrientationLandscape, want: landscapeA4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			meta := sampleMeta()
			meta.Orientation = tt.o
			rows := make([][]any, 70)
			for i := range rows {
				rows[i] = tt.row
			}
			path := writeTemp(t, "o.pdf", renderPDF(t, tt.cols, rows, meta, PDFOptions{}, Summary{Rows: 70}))
			checkPDF(t, path)
			ps := pages(pdfText(t, path))
			require.GreaterOrEqual(t, len(ps), 2)
			for i := range ps {
				assert.Equal(t, tt.want, pageSize(t, path, i+1), "page %d", i+1)
			}
			if len(tt.cols) == 14 {
				assert.Contains(t, ps[0], "$1,234,567.89", "numbers are never cut")
				assert.NotContains(t, ps[0], "$1,234,56…")
				assert.Equal(t, 14, strings.Count(ps[1], "Measur"), "header repeated")
			}
		})
	}
}

// word is one word of pdftotext -bbox output.
type word struct {
	xMin, xMax float64
	text       string
}

// words returns the words of page 1 with their horizontal extent.
func words(t *testing.T, path string) []word {
	t.Helper()
	out := run(t, "pdftotext", "-f", "1", "-l", "1", "-bbox", path, "-")
	re := regexp.MustCompile(`<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>`)
	var ws []word
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		lo, err := strconv.ParseFloat(m[1], 64)
		require.NoError(t, err)
		hi, err := strconv.ParseFloat(m[2], 64)
		require.NoError(t, err)
		ws = append(ws, word{xMin: lo, xMax: hi, text: m[3]})
	}
	return ws
}

func TestPDFAlignment(t *testing.T) {
	cols := []Column{{Name: "name"}, {Name: "amount", Type: TypeDecimal}, {Name: "qty", Type: TypeInt}, {Name: "code", Type: TypeInt, Format: herald.ColumnText}}
	rows := [][]any{
		{"Alpha", "1.50", int64(7), int64(10)},
		{"Beta", "1234567.89", int64(1234567), int64(123456)},
		{"Gamma", "-12.00", int64(-42), int64(5)},
	}
	path := writeTemp(t, "align.pdf", renderPDF(t, cols, rows, Meta{Title: "Alignment"}, PDFOptions{}, Summary{Rows: 3}))
	ws := words(t, path)
	find := func(text string) word {
		for _, w := range ws {
			if w.text == text {
				return w
			}
		}
		t.Fatalf("word %q not found", text)
		return word{}
	}
	right := func(texts ...string) {
		for _, s := range texts[1:] {
			assert.InDelta(t, find(texts[0]).xMax, find(s).xMax, 0.5, "%s and %s end together", texts[0], s)
		}
	}
	left := func(texts ...string) {
		for _, s := range texts[1:] {
			assert.InDelta(t, find(texts[0]).xMin, find(s).xMin, 0.5, "%s and %s start together", texts[0], s)
		}
	}
	right("amount", "1.50", "1,234,567.89", "-12.00")
	right("qty", "7", "1,234,567", "-42")
	left("name", "Alpha", "Beta", "Gamma")
	left("code", "10", "123456", "5")
}

func TestPDFEmptyResult(t *testing.T) {
	path := writeTemp(t, "empty.pdf", renderPDF(t, sampleColumns(), nil, sampleMeta(), PDFOptions{}, Summary{}))
	checkPDF(t, path)
	text := pdfText(t, path)
	require.Len(t, pages(text), 1)
	assert.Contains(t, text, "No rows.")
	assert.Regexp(t, `Order +Customer +Country`, text)
	assert.Contains(t, text, "Page 1 of 1")
	assert.NotContains(t, text, "Total:")
}

func TestPDFHostileText(t *testing.T) {
	cols := []Column{{Name: "text"}, {Name: "json", Type: TypeJSON}, {Name: "bytes", Type: TypeBytes}, {Name: "any", Type: TypeUnknown}}
	long := strings.Repeat("Long text that will not fit. ", 200)
	rows := [][]any{
		{`paren (a) \ back\slash`, jsonOf(map[string]string{"k": "(v)"}), []byte("\x00\xff"), nil},
		{"line\r\nbreak\ttab\x00nul", nil, []byte{}, int64(5)},
		{"emoji 🎉 and \xff\xfe invalid", jsonOf([]int{1, 2}), nil, 2.5},
		{long, nil, bytes.Repeat([]byte{1}, 5000), time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)},
		{"שלום עולם مرحبا 中文 \u200b\ufeff\ufffe\uffff", nil, nil, true},
		{"", nil, nil, "text"},
	}
	path := writeTemp(t, "hostile.pdf", renderPDF(t, cols, rows, Meta{Title: "Hostile (text) \\ \xff 🎉", Parameters: []Param{{Name: "p\n", Value: "v\r"}}}, PDFOptions{}, Summary{Rows: 6}))
	checkPDF(t, path)
	text := pdfText(t, path)
	for _, want := range []string{`paren (a) \ back\slash`, "line break tab nul", `{"k":"(v)"}`, "AP8=", "emoji \uFFFD and", "Long text that", "…", "2026-03-02 09:00", "2.5", "Hostile (text) \\"} {
		assert.Contains(t, text, want)
	}
	assert.NotContains(t, text, strings.Repeat("Long text that will not fit. ", 20), "long text is cut")
}

func TestPDFManyColumns(t *testing.T) {
	cols := make([]Column, 60)
	row := make([]any, 60)
	for i := range cols {
		cols[i] = Column{Name: fmt.Sprintf("column_with_a_long_name_%d", i)}
		row[i] = strings.Repeat("w", 40)
	}
	path := writeTemp(t, "many.pdf", renderPDF(t, cols, [][]any{row, row}, Meta{}, PDFOptions{}, Summary{Rows: 2}))
	checkPDF(t, path)
	assert.Equal(t, landscapeA4, pageSize(t, path, 1))
}

func TestPDFErrors(t *testing.T) {
	_, err := NewPDF(&bytes.Buffer{}, nil, Meta{}, PDFOptions{})
	require.ErrorIs(t, err, ErrNoColumns)

	var buf bytes.Buffer
	p, err := NewPDF(&buf, []Column{{Name: "a"}, {Name: "when"}}, Meta{}, PDFOptions{MaxRows: 1})
	require.NoError(t, err)
	require.ErrorIs(t, p.WriteRow([]any{"x"}), ErrValueCount)
	err = p.WriteRow([]any{"x", struct{}{}})
	require.ErrorIs(t, err, ErrUnsupportedValue)
	assert.Contains(t, err.Error(), `column "when"`)
	require.NoError(t, p.WriteRow([]any{"ok", nil}))
	require.ErrorIs(t, p.WriteRow([]any{"x", map[int]int{}}), ErrUnsupportedValue, "checked beyond MaxRows too")
	require.ErrorIs(t, p.WriteRow([]any{"x"}), ErrValueCount, "checked beyond MaxRows too")
	require.NoError(t, p.WriteRow([]any{"counted", "not drawn"}))
	assert.Equal(t, int64(1), p.Rows())
	require.NoError(t, p.Close(Summary{Rows: 2}))
	require.NoError(t, p.Close(Summary{Rows: 2}), "second Close is a no-op")
	require.ErrorIs(t, p.WriteRow([]any{"late", nil}), ErrClosed)
	require.True(t, bytes.HasSuffix(bytes.TrimSpace(buf.Bytes()), []byte("%%EOF")))

	p, err = NewPDF(failingWriter{}, []Column{{Name: "a"}}, Meta{}, PDFOptions{})
	require.NoError(t, err)
	require.NoError(t, p.WriteRow([]any{"x"}))
	err = p.Close(Summary{Rows: 1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "disk full")
}

func TestPDFDeterministic(t *testing.T) {
	a := renderPDF(t, sampleColumns(), sampleRows(60), sampleMeta(), PDFOptions{}, Summary{Rows: 60})
	b := renderPDF(t, sampleColumns(), sampleRows(60), sampleMeta(), PDFOptions{}, Summary{Rows: 60})
	assert.True(t, bytes.Equal(a, b), "same input, same bytes")
	assert.Contains(t, string(a), "/FlateDecode", "page streams are compressed")
}

func TestColumnFormats(t *testing.T) {
	kolkata := mustZone(t, "Asia/Kolkata")
	two, zero := 2, 0
	col := func(typ Type, f herald.ColumnFormat) Column { return Column{Name: "c", Type: typ, Format: f} }
	withDec := func(c Column, d *int) Column { c.Decimals = d; return c }
	cur := func(typ Type, code string) Column {
		return Column{Name: "c", Type: typ, Format: herald.ColumnCurrency, Currency: code}
	}
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	instant := time.Date(2026, 3, 2, 3, 30, 0, 0, time.UTC)
	tests := []struct {
		col   Column
		v     any
		want  string
		right bool
	}{
		{col(TypeInt, ""), int64(1234567), "1,234,567", true},
		{col(TypeInt, herald.ColumnAuto), int64(-1000), "-1,000", true},
		{col(TypeInt, herald.ColumnText), int64(1234567), "1234567", false},
		{col(TypeInt, herald.ColumnNumber), int64(12), "12", true},
		{withDec(col(TypeInt, herald.ColumnNumber), &two), int64(12), "12.00", true},
		{col(TypeFloat, ""), 1234567.891, "1,234,567.891", true},
		{col(TypeFloat, ""), 0.1 + 0.2, "0.3", true},
		{withDec(col(TypeFloat, herald.ColumnNumber), &two), 1234567.891, "1,234,567.89", true},
		{withDec(col(TypeFloat, herald.ColumnNumber), &two), 2.675, "2.68", true},
		{col(TypeFloat, herald.ColumnInteger), 2.5, "3", true},
		{col(TypeFloat, ""), math.NaN(), "NaN", true},
		{col(TypeFloat, ""), math.Inf(-1), "-Infinity", true},
		{col(TypeFloat, ""), 1e300, "1e+300", true},
		{col(TypeFloat, ""), 1.5e-9, "1.5e-09", true},
		{col(TypeDecimal, ""), "1234.50", "1,234.50", true},
		{col(TypeDecimal, ""), "-0.5", "-0.5", true},
		{withDec(col(TypeDecimal, ""), &two), "-0.004", "0.00", true},
		{withDec(col(TypeDecimal, ""), &zero), "999.5", "1,000", true},
		{col(TypeDecimal, ""), "12345678901234567890.123456789", "12,345,678,901,234,567,890.123456789", true},
		{col(TypeDecimal, ""), "NaN", "NaN", false},
		{col(TypeString, herald.ColumnNumber), "not a number", "not a number", false},
		{col(TypeString, ""), "1234", "1234", false},
		{col(TypeFloat, herald.ColumnPercent), 0.075, "7.5%", true},
		{withDec(col(TypeFloat, herald.ColumnPercent), &zero), 0.075, "8%", true},
		{col(TypeDecimal, herald.ColumnPercent), "0.12345", "12.35%", true},
		{col(TypeInt, herald.ColumnPercent), int64(1), "100%", true},
		{cur(TypeDecimal, "EUR"), "1234.5", "€1,234.50", true},
		{cur(TypeDecimal, "USD"), "-5", "-$5.00", true},
		{cur(TypeFloat, "GBP"), 0.125, "£0.13", true},
		{cur(TypeFloat, "JPY"), 1234.5, "¥1,235", true},
		{cur(TypeInt, "CHF"), int64(1234), "CHF 1,234.00", true},
		{cur(TypeDecimal, "KWD"), "1.23456", "KWD 1.235", true},
		{withDec(cur(TypeDecimal, "EUR"), &zero), "1234.5", "€1,235", true},
		{cur(TypeDecimal, ""), "1234.5", "1,234.50", true},
		{col(TypeBool, ""), true, "true", false},
		{col(TypeBool, herald.ColumnBool), false, "No", false},
		{col(TypeString, herald.ColumnBool), "t", "Yes", false},
		{col(TypeInt, herald.ColumnBool), int64(1), "Yes", false},
		{col(TypeDate, ""), day, "2026-03-02", false},
		{col(TypeDatetime, ""), instant, "2026-03-02 09:00", false},
		{col(TypeDatetime, ""), instant.Add(5 * time.Second), "2026-03-02 09:00:05", false},
		{col(TypeDatetime, herald.ColumnDate), time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC), "2026-03-02", false},
		{col(TypeDate, herald.ColumnDatetime), day, "2026-03-02 05:30", false},
		{col(TypeUnknown, ""), instant, "2026-03-02 09:00", false},
		{col(TypeJSON, ""), jsonOf(map[string]int{"a": 1}), `{"a":1}`, false},
		{col(TypeBytes, ""), []byte("hi"), "aGk=", false},
		{col(TypeUnknown, ""), uint64(math.MaxUint64), "18,446,744,073,709,551,615", true},
		{col(TypeUnknown, ""), int32(-7), "-7", true},
		{col(TypeUnknown, ""), "text", "text", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s/%v", tt.col.Type, tt.col.Format, tt.v), func(t *testing.T) {
			c, ok := newColFormat(tt.col, kolkata).cell(tt.v)
			require.True(t, ok)
			assert.Equal(t, tt.want, c.text)
			assert.Equal(t, tt.right, c.right)
		})
	}
	for _, v := range []any{nil, json.RawMessage(nil), []byte(nil)} {
		c, ok := newColFormat(col(TypeUnknown, ""), kolkata).cell(v)
		require.True(t, ok)
		assert.True(t, c.null, "%#v is NULL", v)
	}
	_, ok := newColFormat(col(TypeUnknown, ""), kolkata).cell(struct{}{})
	assert.False(t, ok)
}

func TestInstantText(t *testing.T) {
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		zone, want string
	}{
		{"Europe/Berlin", "Mon 2 Mar 2026 09:00 CET (UTC+01:00)"},
		{"Asia/Kolkata", "Mon 2 Mar 2026 13:30 IST (UTC+05:30)"},
		{"America/New_York", "Mon 2 Mar 2026 03:00 EST (UTC-05:00)"},
		{"America/Sao_Paulo", "Mon 2 Mar 2026 05:00 America/Sao_Paulo (UTC-03:00)"},
		{"UTC", "Mon 2 Mar 2026 08:00 UTC"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, instantText(at, mustZone(t, tt.zone)), tt.zone)
	}
}

func TestDecimal(t *testing.T) {
	tests := []struct {
		in   string
		d    int
		want string
	}{
		{"0", 2, "0.00"}, {"1234567.891", 2, "1,234,567.89"}, {"-1234567.895", 2, "-1,234,567.90"},
		{"999.999", 2, "1,000.00"}, {".5", 0, "1"}, {"-.4", 0, "0"}, {"+12", 1, "12.0"},
		{"1e3", 0, "1,000"}, {"1.5E-3", 4, "0.0015"}, {"00012.30", 3, "12.300"}, {"9", -1, "9"},
	}
	for _, tt := range tests {
		n, ok := parseDecimal(tt.in)
		require.True(t, ok, tt.in)
		assert.Equal(t, tt.want, n.round(tt.d).String(), "%s to %d", tt.in, tt.d)
	}
	for _, bad := range []string{"", "-", ".", "1.2.3", "1e", "1e99999", "abc", "1,000", "0x10", "--1", "1e-999"} {
		_, ok := parseDecimal(bad)
		assert.False(t, ok, bad)
	}
	n, _ := parseDecimal("1234.5")
	assert.Equal(t, "123,450", n.shift(2).String())
	assert.Equal(t, "1.2345", n.shift(-3).String())
}

func TestFitWidths(t *testing.T) {
	sumOf := func(ws []float64) float64 { return math.Round(sum(ws)*1000) / 1000 }
	w := fitWidths([]float64{20, 30}, []float64{12, 12}, 100)
	assert.InDeltaSlice(t, []float64{40, 60}, w, 1e-9, "narrow tables are widened proportionally")

	w = fitWidths([]float64{90, 90, 14, 14}, []float64{12, 12, 12, 12}, 150)
	assert.Equal(t, 150.0, sumOf(w))
	assert.InDelta(t, w[0], w[1], 1e-9)
	assert.GreaterOrEqual(t, w[2], 12.0)
	assert.Less(t, w[0], 90.0)

	w = fitWidths([]float64{50, 50, 50}, []float64{12, 12, 12}, 30)
	assert.Equal(t, 30.0, sumOf(w), "minimums scaled down when even they do not fit")
	assert.InDelta(t, 10, w[0], 1e-9)

	assert.True(t, chooseLandscape(herald.OrientationAuto, []float64{100, 100}))
	assert.False(t, chooseLandscape(herald.OrientationAuto, []float64{100, 80}))
	assert.False(t, chooseLandscape(herald.OrientationPortrait, []float64{300}))
	assert.True(t, chooseLandscape(herald.OrientationLandscape, []float64{10}))
}

func TestCleanText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\r\nb\nc\rd\te", "a b c d e"},
		{"nul\x00del\x7f", "nul del "},
		{"\u2028sep\u2029", " sep "},
		{"emoji 🎉!", "emoji \uFFFD!"},
		{"bad \xff\xc3", "bad \uFFFD\uFFFD"},
		{"Łódź Δημήτρης", "Łódź Δημήτρης"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, cleanText(tt.in), "%q", tt.in)
	}
	long := cleanText(strings.Repeat("é", 1000))
	assert.Equal(t, maxCellRunes+1, len([]rune(long)))
	assert.True(t, strings.HasSuffix(long, ellipsis))
}

func TestDeflaterPassesThroughOddInput(t *testing.T) {
	for _, in := range []string{"not a pdf %%EOF", "%PDF-1.3\nstartxref\n999\n%%EOF\n", "%PDF-1.3\nxref\n0 1\nstartxref\n9\n%%EOF\n"} {
		var out bytes.Buffer
		z := &deflater{w: &out}
		_, err := z.Write([]byte(in))
		require.NoError(t, err)
		require.NoError(t, z.finish())
		assert.Equal(t, in, out.String())
	}
	var out bytes.Buffer
	z := &deflater{w: &out}
	_, _ = z.Write([]byte("%PDF-1.3\n"))
	_, _ = z.Write([]byte("rest %%EOF"))
	require.NoError(t, z.finish())
	assert.Equal(t, "%PDF-1.3\nrest %%EOF", out.String(), "pieces are collected")

	z = &deflater{w: failingWriter{}}
	_, err := z.Write([]byte("x %%EOF"))
	require.Error(t, err)
	require.False(t, errors.Is(err, ErrClosed))
}

// FuzzPDFRow draws arbitrary text in every kind of column; nothing may
// panic and the document must be complete.
func FuzzPDFRow(f *testing.F) {
	for _, s := range []string{"", "Łódź", "(a)\\b", "\xff\xfe", "🎉", "\r\n\t\x00", "1234.5", "-0.000", "1e400", "\uffff\ufffe", strings.Repeat("x", 3000), "\u202eevil"} {
		f.Add(s, s)
	}
	cols := []Column{
		{Name: "text"},
		{Name: "amount", Type: TypeDecimal, Format: herald.ColumnCurrency, Currency: "EUR"},
		{Name: "pct", Type: TypeString, Format: herald.ColumnPercent},
		{Name: "json", Type: TypeJSON},
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		var buf bytes.Buffer
		p, err := NewPDF(&buf, append([]Column{{Name: "label", Label: a}}, cols...), Meta{Title: b, ReportName: a, RunID: b, Parameters: []Param{{Name: a, Value: b}}}, PDFOptions{MaxRows: 3})
		require.NoError(t, err)
		for _, r := range [][]any{{a, b, a, b, json.RawMessage(a)}, {b, a, b, a, []byte(b)}, {nil, nil, nil, nil, nil}, {a, a, a, a, nil}} {
			require.NoError(t, p.WriteRow(r))
		}
		require.NoError(t, p.Close(Summary{Rows: 4, Truncated: true, RowCap: 4}))
		require.True(t, bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")))
		require.True(t, bytes.HasSuffix(buf.Bytes(), []byte("%%EOF\n")))
	})
}

// FuzzColumnFormat formats arbitrary text under every format; nothing may
// panic, and a number that parses is shown as one that parses back.
func FuzzColumnFormat(f *testing.F) {
	for _, s := range []string{"1234.5", "-0.004", "1e5", ".5", "9.999e-3", "abc", "", "1e-400", "+1.", "99999999999999999999.99"} {
		f.Add(s, uint8(2))
	}
	formats := []herald.ColumnFormat{herald.ColumnAuto, herald.ColumnText, herald.ColumnInteger, herald.ColumnNumber, herald.ColumnPercent, herald.ColumnCurrency, herald.ColumnDate, herald.ColumnDatetime, herald.ColumnBool}
	f.Fuzz(func(t *testing.T, s string, dec uint8) {
		d := int(dec % 12)
		for _, typ := range []Type{TypeString, TypeDecimal, TypeUnknown} {
			for _, format := range formats {
				c := Column{Name: "c", Type: typ, Format: format, Decimals: &d, Currency: "EUR"}
				got, ok := newColFormat(c, time.UTC).cell(s)
				require.True(t, ok)
				if got.right {
					plain := strings.NewReplacer(",", "", "€", "", "%", "").Replace(got.text)
					_, ok := parseDecimal(plain)
					require.True(t, ok, "%q shown as %q", s, got.text)
				}
			}
		}
		if n, err := strconv.ParseFloat(s, 64); err == nil {
			_, ok := newColFormat(Column{Name: "f", Type: TypeFloat}, time.UTC).cell(n)
			require.True(t, ok)
		}
	})
}
