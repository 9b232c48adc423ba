//go:build linux

package render

import (
	"bufio"
	"context"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/metrics"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Environment of the child process that measures peak memory.
const (
	helperRowsEnv = "HERALD_RENDER_HELPER_ROWS"
	helperOutEnv  = "HERALD_RENDER_HELPER_OUT"
)

// chromiumPath is where the comparison expects Chromium.
const chromiumPath = "/usr/bin/chromium"

// BenchmarkPDFvsChromium renders the same 10,000-row × 8-column table with
// NewPDF (ns/op and fpdf-s, the median of at least five renders) and with
// headless Chromium printing an HTML table (chromium-s, one run, wall
// clock), and measures the renderer's peak RSS and heap in a child process
// for 10,000 and 50,000 rows.
func BenchmarkPDFvsChromium(b *testing.B) {
	const n = 10_000
	rows := sampleRows(n)
	var out countingDiscard
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		renderRows(b, &out, rows)
		times = append(times, time.Since(start))
	}
	for len(times) < 5 {
		start := time.Now()
		renderRows(b, &out, rows)
		times = append(times, time.Since(start))
	}
	fpdfSec := median(times)
	b.ReportMetric(fpdfSec, "fpdf-s")
	b.ReportMetric(float64(out.n)/float64(len(times))/1e3, "pdf-KB")

	for _, m := range []struct {
		rows   int
		suffix string
	}{{10_000, ""}, {50_000, "-50k"}} {
		mem := measureChild(b, m.rows)
		b.ReportMetric(mem.hwm, "peak-rss"+m.suffix+"-MB")
		b.ReportMetric(mem.heap, "peak-heap"+m.suffix+"-MB")
		b.ReportMetric(mem.maxrss, "ru-maxrss"+m.suffix+"-MB")
		b.Logf("%d rows: peak RSS %.1f MB (VmHWM), peak heap %.1f MB, ru_maxrss %.1f MB (includes this process's RSS at spawn)",
			m.rows, mem.hwm, mem.heap, mem.maxrss)
	}

	chromeSec, ok := timeChromium(b, rows)
	if !ok {
		return
	}
	b.ReportMetric(chromeSec, "chromium-s")
	b.ReportMetric(chromeSec/fpdfSec, "speedup-x")
	b.Logf("fpdf %.3fs (median of %d), chromium %.2fs: %.0f× faster", fpdfSec, len(times), chromeSec, chromeSec/fpdfSec)
}

// timeChromium prints the table as HTML with headless Chromium once and
// returns the wall-clock seconds; ok is false when Chromium is missing.
func timeChromium(b *testing.B, rows [][]any) (float64, bool) {
	path := chromiumPath
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatalf("%s is required when CI=true: %v", chromiumPath, err)
		}
		b.Logf("!!! NOTE: %s is missing (%v): no Chromium comparison; only the fpdf figures are reported.", chromiumPath, err)
		return 0, false
	}
	dir := b.TempDir()
	page := filepath.Join(dir, "table.html")
	writeHTML(b, page, rows)
	out := filepath.Join(dir, "chromium.pdf")
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
		"--print-to-pdf="+out, "file://"+page)
	start := time.Now()
	msg, err := cmd.CombinedOutput()
	elapsed := time.Since(start)
	require.NoError(b, err, "chromium: %s", msg)
	st, err := os.Stat(out)
	require.NoError(b, err, "chromium wrote no PDF: %s", msg)
	b.ReportMetric(float64(st.Size())/1e3, "chromium-pdf-KB")
	// CPU time of Chromium and the processes it waited for: the wall clock
	// also counts its start-up waits, which vary by machine.
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	b.ReportMetric(cpu.Seconds(), "chromium-cpu-s")
	return elapsed.Seconds(), true
}

// writeHTML writes the sample table as an HTML page whose header row
// repeats on every printed page, with the same cell text as the PDF.
func writeHTML(b *testing.B, path string, rows [][]any) {
	f, err := os.Create(path)
	require.NoError(b, err)
	defer f.Close()
	w := bufio.NewWriter(f)
	cols, meta := sampleColumns(), sampleMeta()
	formats := make([]colFormat, len(cols))
	_, _ = w.WriteString(`<!doctype html><html><head><meta charset="utf-8"><title>Monthly orders</title><style>
@page { size: A4; margin: 12mm }
body { font: 8pt sans-serif }
table { border-collapse: collapse; width: 100% }
thead { display: table-header-group }
th { background: #2c3e50; color: #fff; text-align: left; padding: 3px 4px }
td { padding: 2px 4px; white-space: nowrap }
tbody tr:nth-child(even) td { background: #f2f5f9 }
.n { text-align: right }
</style></head><body><h1>Monthly orders</h1><table><thead><tr>`)
	for i, c := range cols {
		formats[i] = newColFormat(c, meta.location())
		class := ""
		if formats[i].numeric() {
			class = ` class="n"`
		}
		_, _ = w.WriteString("<th" + class + ">" + html.EscapeString(c.header()) + "</th>")
	}
	_, _ = w.WriteString("</tr></thead><tbody>\n")
	for _, r := range rows {
		_, _ = w.WriteString("<tr>")
		for i, v := range r {
			c, _ := formats[i].cell(v)
			class := ""
			if c.right {
				class = ` class="n"`
			}
			_, _ = w.WriteString("<td" + class + ">" + html.EscapeString(c.text) + "</td>")
		}
		_, _ = w.WriteString("</tr>\n")
	}
	_, _ = w.WriteString("</tbody></table></body></html>\n")
	require.NoError(b, w.Flush())
}

// childMemory is what measureChild reports, in MB.
type childMemory struct {
	hwm    float64 // the child's own peak RSS (VmHWM of its address space)
	maxrss float64 // rusage ru_maxrss of the child
	heap   float64 // peak live heap sampled in the child
}

// measureChild renders rows in a child process (this test binary running
// TestHelperRenderPDF) and returns its peak memory.
//
// ru_maxrss alone overstates the child's peak: Go starts children with
// vfork semantics (CLONE_VM) and Linux records the parent's peak RSS in
// the child's maxrss when the child calls exec. So the child also reports
// VmHWM from /proc/self/status, the peak RSS of its own address space,
// which is the figure that means "peak RSS of the renderer".
func measureChild(b *testing.B, rows int) childMemory {
	out := filepath.Join(b.TempDir(), "child.pdf")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRenderPDF$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), helperRowsEnv+"="+strconv.Itoa(rows), helperOutEnv+"="+out)
	msg, err := cmd.CombinedOutput()
	require.NoError(b, err, "child: %s", msg)
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	require.True(b, ok, "no rusage")
	st, err := os.Stat(out)
	require.NoError(b, err)
	require.Positive(b, st.Size())
	return childMemory{
		hwm:    reported(b, msg, "vmhwm-kb") / 1024,
		maxrss: float64(ru.Maxrss) / 1024, // KiB on Linux
		heap:   reported(b, msg, "peak-heap-bytes") / (1 << 20),
	}
}

// reported returns the number the child logged as name=value.
func reported(b *testing.B, msg []byte, name string) float64 {
	m := regexp.MustCompile(name + `=(\d+)`).FindSubmatch(msg)
	require.NotNil(b, m, "child did not report %s: %s", name, msg)
	v, err := strconv.ParseFloat(string(m[1]), 64)
	require.NoError(b, err)
	return v
}

// vmHWM returns the peak resident set size of this process's address
// space in KiB, from /proc/self/status.
func vmHWM(t *testing.T) int64 {
	data, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(data)
	require.NotNil(t, m, "no VmHWM in /proc/self/status")
	kb, err := strconv.ParseInt(string(m[1]), 10, 64)
	require.NoError(t, err)
	return kb
}

// TestHelperRenderPDF is the child process of measureChild; on its own it
// skips. It renders the sample table, made row by row so that the test
// data does not count, to a file and prints the peak heap it sampled.
func TestHelperRenderPDF(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv(helperRowsEnv))
	if err != nil {
		t.Skip("helper process of BenchmarkPDFvsChromium; runs only when " + helperRowsEnv + " is set")
	}
	f, err := os.Create(os.Getenv(helperOutEnv))
	require.NoError(t, err)
	defer f.Close()

	done, peak := make(chan struct{}), make(chan uint64)
	go samplePeakHeap(done, peak)

	m := newRowMaker()
	w := bufio.NewWriterSize(f, 256<<10)
	p, err := NewPDF(w, sampleColumns(), sampleMeta(), PDFOptions{MaxRows: int64(n)})
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, p.WriteRow(m.row(i)))
	}
	require.NoError(t, p.Close(Summary{Rows: int64(n)}))
	require.NoError(t, w.Flush())
	close(done)
	t.Logf("peak-heap-bytes=%d", <-peak)
	t.Logf("vmhwm-kb=%d", vmHWM(t))
}

// samplePeakHeap samples the live heap every millisecond until done and
// then sends the peak.
func samplePeakHeap(done <-chan struct{}, peak chan<- uint64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var top uint64
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		metrics.Read(s)
		if v := s[0].Value; v.Kind() == metrics.KindUint64 {
			top = max(top, v.Uint64())
		}
		select {
		case <-done:
			peak <- top
			return
		case <-tick.C:
		}
	}
}
