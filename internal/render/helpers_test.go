package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// requireTool returns the path of an external program the test needs. When
// it is missing the test is skipped loudly, or fails when CI=true.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required when CI=true but is not installed: %v", name, err)
	}
	t.Skipf("!!! SKIPPED: %s is not installed (%v). This check did not run; install it (qpdf, poppler-utils, chromium) or set CI=true to make this a failure.", name, err)
	return ""
}

// people holds names that need more than Latin-1.
func people() []string {
	return []string{"Łódź Trading", "Ærøskøbing Fisk", "Δημήτρης Παπαδόπουλος", "Zoë O'Brien", "Ünal Çelik", "Ivan Petrović", "Søren Kierkegaard", "Anaïs Nin", "Jürgen Groß", "Ольга Иванова"}
}

// sampleColumns are the columns of a realistic orders table.
func sampleColumns() []Column {
	two := 2
	return []Column{
		{Name: "id", Label: "Order", Type: TypeInt},
		{Name: "customer", Label: "Customer", Type: TypeString},
		{Name: "country", Label: "Country", Type: TypeString},
		{Name: "ordered_on", Label: "Ordered", Type: TypeDate},
		{Name: "shipped_at", Label: "Shipped", Type: TypeDatetime},
		{Name: "amount", Label: "Amount", Type: TypeDecimal, Format: herald.ColumnCurrency, Currency: "EUR"},
		{Name: "discount", Label: "Discount", Type: TypeFloat, Format: herald.ColumnPercent, Decimals: &two},
		{Name: "status", Label: "Status", Type: TypeString},
	}
}

// rowMaker makes the rows of sampleColumns one at a time.
type rowMaker struct {
	names, countries, statuses []string
	base                       time.Time
}

func newRowMaker() rowMaker {
	return rowMaker{
		names:     people(),
		countries: []string{"Poland", "Denmark", "Greece", "Ireland", "Türkiye", "Serbia", "Denmark", "France", "Germany", "Ukraine"},
		statuses:  []string{"paid", "shipped", "refunded", "pending, review", "cancelled"},
		base:      time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

// row returns row i: an id, a customer, a country, a date, a datetime
// (NULL now and then), an amount, a discount and a status.
func (m rowMaker) row(i int) []any {
	day := m.base.AddDate(0, 0, i%365)
	var shipped any = day.Add(time.Duration(9*60+i%600) * time.Minute)
	if i%17 == 0 {
		shipped = nil
	}
	return []any{
		int64(100000 + i),
		m.names[i%len(m.names)],
		m.countries[i%len(m.countries)],
		day,
		shipped,
		strconv.Itoa((i*7919)%250000) + "." + fmt.Sprintf("%02d", i%100),
		float64(i%40) / 200,
		m.statuses[i%len(m.statuses)],
	}
}

// sampleRows returns n rows for sampleColumns.
func sampleRows(n int) [][]any {
	m := newRowMaker()
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = m.row(i)
	}
	return rows
}

// sampleMeta is the meta of a run scheduled in Berlin.
func sampleMeta() Meta {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return Meta{
		Title:        "Monthly orders",
		ReportName:   "orders-monthly",
		Parameters:   []Param{{Name: "region", Value: "EU"}, {Name: "since", Value: "2026-01-01"}},
		ScheduledFor: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC),
		Location:     berlin,
		GeneratedAt:  time.Date(2026, 3, 2, 8, 0, 7, 0, time.UTC),
		RunID:        "run_01JNQ3W8ZK",
		Orientation:  herald.OrientationAuto,
	}
}

// renderPDF renders rows into a PDF and returns it.
func renderPDF(t testing.TB, cols []Column, rows [][]any, meta Meta, opts PDFOptions, s Summary) []byte {
	t.Helper()
	var buf bytes.Buffer
	p, err := NewPDF(&buf, cols, meta, opts)
	require.NoError(t, err)
	for _, r := range rows {
		require.NoError(t, p.WriteRow(r))
	}
	require.NoError(t, p.Close(s))
	return buf.Bytes()
}

// writeTemp writes data to a file in a test's temporary directory.
func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

// run runs a program and returns its standard output.
func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(requireTool(t, name), args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Run(), "%s %s: %s", name, strings.Join(args, " "), errOut.String())
	return out.String()
}

// checkPDF runs qpdf --check on a PDF file.
func checkPDF(t testing.TB, path string) {
	t.Helper()
	out := run(t, "qpdf", "--check", path)
	require.Contains(t, out, "No syntax or stream encoding errors found", out)
}

// pdfText extracts the text of a PDF file, pages separated by form feeds.
func pdfText(t testing.TB, path string) string {
	t.Helper()
	return run(t, "pdftotext", "-layout", "-enc", "UTF-8", path, "-")
}

// jsonOf is a json.RawMessage of v.
func jsonOf(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
