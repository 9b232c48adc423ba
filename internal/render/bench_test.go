package render

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// countingDiscard counts the bytes written to it.
type countingDiscard struct{ n int64 }

func (c *countingDiscard) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// csvBenchTable returns 8 mixed columns and 1,024 distinct rows to cycle
// through (building a million rows up front would measure the test data).
func csvBenchTable() ([]Column, [][]any) {
	cols := []Column{
		{Name: "id", Type: TypeInt}, {Name: "customer", Type: TypeString}, {Name: "amount", Type: TypeDecimal},
		{Name: "ratio", Type: TypeFloat}, {Name: "active", Type: TypeBool}, {Name: "day", Type: TypeDate},
		{Name: "at", Type: TypeDatetime}, {Name: "attrs", Type: TypeJSON},
	}
	m := newRowMaker()
	rows := make([][]any, 1024)
	for i := range rows {
		r := m.row(i)
		var attrs any = json.RawMessage(`{"tier":"gold","tags":["a","b"]}`)
		if i%5 == 0 {
			attrs = nil
		}
		name := r[1].(string)
		if i%7 == 0 {
			name = `Say "hi", ` + name
		}
		rows[i] = []any{int64(i) * 7919, name, r[5], float64(i) / 3, i%2 == 0, r[3], time.Date(2026, 3, 2, 9, i%60, i%60, (i%3)*1e6, time.UTC), attrs}
	}
	return cols, rows
}

// BenchmarkCSV writes 1,000,000 rows of 8 mixed columns per iteration.
func BenchmarkCSV(b *testing.B) {
	const rowsPerOp = 1_000_000
	cols, rows := csvBenchTable()
	loc, err := time.LoadLocation("Europe/Berlin")
	require.NoError(b, err)
	var out countingDiscard
	b.ReportAllocs()
	for b.Loop() {
		c, err := NewCSV(&out, cols, Meta{Location: loc}, CSVOptions{BOM: true})
		if err != nil {
			b.Fatal(err)
		}
		for i := range rowsPerOp {
			if err := c.WriteRow(rows[i%len(rows)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := c.Close(Summary{Rows: rowsPerOp}); err != nil {
			b.Fatal(err)
		}
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(rowsPerOp*b.N)/sec, "rows/s")
	b.ReportMetric(float64(out.n)/sec/1e6, "MB/s")
	b.ReportMetric(float64(out.n)/float64(b.N)/1e6, "MB/op")
}

// BenchmarkPDFRows measures the PDF renderer in process for 10,000 and
// 50,000 rows (allocations included); see BenchmarkPDFvsChromium for peak
// memory measured in a separate process.
func BenchmarkPDFRows(b *testing.B) {
	for _, n := range []int{10_000, 50_000} {
		b.Run(fmt.Sprintf("%dk-rows", n/1000), func(b *testing.B) {
			rows := sampleRows(n)
			var out countingDiscard
			b.ReportAllocs()
			for b.Loop() {
				renderRows(b, &out, rows)
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(out.n)/float64(b.N)/1e6, "pdf-MB")
		})
	}
}

// renderRows renders the sample table to w.
func renderRows(tb testing.TB, w io.Writer, rows [][]any) {
	p, err := NewPDF(w, sampleColumns(), sampleMeta(), PDFOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range rows {
		if err := p.WriteRow(r); err != nil {
			tb.Fatal(err)
		}
	}
	if err := p.Close(Summary{Rows: int64(len(rows))}); err != nil {
		tb.Fatal(err)
	}
}

// median returns the median of durations in seconds.
func median(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return math.NaN()
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Seconds()
}
