package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

// fontFamily is the name the Go fonts are registered under.
const fontFamily = "go"

// rgb is a colour.
type rgb struct{ r, g, b uint8 }

// Colours of the table.
func headerFill() rgb { return rgb{44, 62, 80} }
func zebraFill() rgb  { return rgb{242, 245, 249} }
func noteFill() rgb   { return rgb{255, 240, 200} }
func ruleColor() rgb  { return rgb{190, 198, 208} }
func nullColor() rgb  { return rgb{175, 180, 188} }

// document draws the PDF. It holds fpdf's in-memory document.
type document struct {
	pdf       *fpdf.Fpdf
	labels    []string
	headRight []bool
	widths    []float64
	landscape bool
	bodyPt    float64 // type size of the rows
	headerPt  float64 // type size of the header row
	pageH     float64
	tableW    float64
	y         float64
	rows      int64           // rows drawn, for the zebra stripes
	line      []byte          // scratch for raw operators
	used      [1 << 10]uint64 // runes drawn raw in the body font (a bit per BMP rune)
	loc       *time.Location
	generated time.Time
}

// tableSpec is what the document needs to lay the table out.
type tableSpec struct {
	cols    []Column
	formats []colFormat
	meta    Meta
	sample  [][]cell
}

// newDocument creates the fpdf document, measures the header and the sample
// rows, fits the column widths, picks the orientation and draws the title
// block and the first header row.
func newDocument(spec tableSpec) (*document, error) {
	pdf := fpdf.NewCustom(&fpdf.InitType{OrientationStr: "P", UnitStr: "mm", SizeStr: "A4"})
	pdf.AddUTF8FontFromBytes(fontFamily, "", goregular.TTF)
	pdf.AddUTF8FontFromBytes(fontFamily, "B", gobold.TTF)
	pdf.SetMargins(pageMargin, pageMargin, pageMargin)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetCatalogSort(true)
	pdf.SetCompression(false) // the deflater compresses the streams, faster

	pdf.SetCreator("Herald", true)
	pdf.SetTitle(cleanText(titleOf(spec.meta)), true)
	if !spec.meta.GeneratedAt.IsZero() {
		pdf.SetCreationDate(spec.meta.GeneratedAt.UTC())
		pdf.SetModificationDate(spec.meta.GeneratedAt.UTC())
	}
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("render pdf: setting up fonts: %w", err)
	}
	d := &document{pdf: pdf, loc: spec.meta.location(), generated: spec.meta.GeneratedAt}
	d.measure(spec)
	d.newPage()
	d.titleBlock(spec.meta)
	d.header()
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("render pdf: starting the document: %w", err)
	}
	return d, nil
}

// titleOf returns the title block heading.
func titleOf(m Meta) string {
	switch {
	case m.Title != "":
		return m.Title
	case m.ReportName != "":
		return m.ReportName
	}
	return "Report"
}

// measure sets labels, alignment, orientation, type size and column widths
// from the header and the sample rows. A table too wide for the page is set
// in a smaller type (down to minTypeScale) before columns are shrunk; text
// columns shrink before number columns.
func (d *document) measure(spec tableSpec) {
	n := len(spec.cols)
	content := make([]float64, n)
	d.labels = make([]string, n)
	d.headRight = make([]bool, n)
	d.pdf.SetFont(fontFamily, "B", headerPt)
	for i, c := range spec.cols {
		d.labels[i] = cleanText(c.header())
		d.headRight[i] = spec.formats[i].numeric()
		content[i] = d.pdf.GetStringWidth(d.labels[i])
	}
	d.pdf.SetFont(fontFamily, "", bodyPt)
	numeric := append([]bool(nil), d.headRight...)
	for _, row := range spec.sample {
		for i, c := range row {
			content[i] = max(content[i], d.pdf.GetStringWidth(c.text))
			numeric[i] = numeric[i] || c.right
		}
	}
	natural := make([]float64, n)
	for i := range content {
		natural[i] = min(content[i]+cellSpace, maxColWidth)
	}
	d.landscape = chooseLandscape(spec.meta.Orientation, natural)
	d.pageH = a4Long
	if d.landscape {
		d.pageH = a4Short
	}
	d.tableW = tableWidth(d.landscape)
	scale := typeScale(natural, d.tableW)
	d.bodyPt, d.headerPt = bodyPt*scale, headerPt*scale
	minimum := make([]float64, n)
	for i := range natural {
		natural[i] = min(content[i]*scale+cellSpace, maxColWidth)
		minimum[i] = min(natural[i], minColWidth)
		if numeric[i] {
			minimum[i] = min(natural[i], maxNumberWidth)
		}
	}
	d.widths = fitWidths(natural, minimum, d.tableW)
}

// newPage starts a page (without the header row).
func (d *document) newPage() {
	o := "P"
	if d.landscape {
		o = "L"
	}
	d.pdf.AddPageFormat(o, fpdf.SizeType{Wd: a4Short, Ht: a4Long})
	d.y = pageMargin
}

// bottom is where the table area ends.
func (d *document) bottom() float64 { return d.pageH - footerSpace }

// titleBlock draws the heading, report name, schedule, run and parameters.
func (d *document) titleBlock(m Meta) {
	d.textLine(titleOf(m), "B", titlePt, false)
	d.y += 1
	if m.ReportName != "" && m.ReportName != titleOf(m) {
		d.textLine("Report: "+m.ReportName, "", metaPt, true)
	}
	if !m.ScheduledFor.IsZero() {
		s := "Scheduled for " + instantText(m.ScheduledFor, d.loc)
		if d.loc != time.UTC {
			s += " · times shown in " + d.loc.String()
		}
		d.textLine(s, "", metaPt, true)
	}
	if m.RunID != "" {
		d.textLine("Run "+m.RunID, "", metaPt, true)
	}
	d.parameters(m.Parameters)
	d.y += 3
}

// maxParamLines bounds the parameter lines of the title block.
const maxParamLines = 12

// parameters lists "name = value" lines.
func (d *document) parameters(ps []Param) {
	if len(ps) == 0 {
		return
	}
	d.textLine("Parameters", "B", metaPt, false)
	for i, p := range ps {
		if i == maxParamLines-1 && len(ps) > maxParamLines {
			d.textLine(fmt.Sprintf("… and %d more", len(ps)-i), "", metaPt, true)
			return
		}
		d.textLine(p.Name+" = "+p.Value, "", metaPt, false)
	}
}

// textLine draws one line of text across the table width and moves down.
func (d *document) textLine(s, style string, pt float64, muted bool) {
	size := pt / ptPerMM
	d.pdf.SetFont(fontFamily, style, pt)
	if muted {
		d.pdf.SetTextColor(90, 98, 110)
	}
	text, _ := d.fit(cleanText(s), d.tableW)
	d.pdf.Text(pageMargin, d.y+size*1.05, text)
	d.pdf.SetTextColor(0, 0, 0)
	d.y += size * 1.5
}

// header draws the header row at the current position.
func (d *document) header() {
	d.fillRect(pageMargin, d.y, d.tableW, headerHeight, headerFill())
	d.pdf.SetFont(fontFamily, "B", d.headerPt)
	d.pdf.SetTextColor(255, 255, 255)
	base := d.y + headerHeight/2 + 0.3*d.headerPt/ptPerMM
	x := pageMargin
	for i, label := range d.labels {
		d.cellText(label, x, d.widths[i], base, d.headRight[i])
		x += d.widths[i]
	}
	d.pdf.SetTextColor(0, 0, 0)
	d.pdf.SetFont(fontFamily, "", d.bodyPt)
	d.y += headerHeight
	d.rows = 0
}

// row draws one table row, starting a page (with the header) when the
// current one is full. Rows are written as raw PDF operators (one write per
// row, no formatting through fmt): the body font is selected by header, and
// the runes drawn are recorded in used for the font subset.
func (d *document) row(cells []cell) {
	if d.y+rowHeight > d.bottom() {
		d.newPage()
		d.header()
	}
	b := d.line[:0]
	if d.rows%2 == 1 {
		b = appendRect(b, pageMargin, d.y, d.tableW, rowHeight, d.pageH, zebraFill())
	}
	base := d.y + rowHeight/2 + 0.3*d.bodyPt/ptPerMM
	x := pageMargin
	for i, c := range cells {
		switch {
		case c.null:
			b = append(b, "q "...)
			b = appendColor(b, nullColor())
			b = append(b, " rg "...)
			b = d.cellOps(b, "—", x, d.widths[i], base, c.right || d.headRight[i])
			b = append(b, "Q\n"...)
		case c.right:
			b = d.numberOps(b, c.text, x, d.widths[i], base)
		case c.text != "":
			b = d.cellOps(b, c.text, x, d.widths[i], base, false)
		}
		x += d.widths[i]
	}
	d.line = d.flush(b)
	d.y += rowHeight
	d.rows++
}

// cellOps appends the operators drawing s in a cell, cut to fit.
func (d *document) cellOps(b []byte, s string, x, w, base float64, right bool) []byte {
	s, sw := d.fit(s, w-2*cellPad)
	if s == "" {
		return b
	}
	if right {
		return d.appendText(b, x+w-cellPad-sw, base, s)
	}
	return d.appendText(b, x+cellPad, base, s)
}

// numberOps appends the operators drawing a number. A number too wide for
// its cell is set smaller rather than cut, unless that would make it tiny.
func (d *document) numberOps(b []byte, s string, x, w, base float64) []byte {
	avail := w - 2*cellPad
	sw := d.pdf.GetStringWidth(s)
	if sw <= avail || sw*minNumberScale > avail {
		return d.cellOps(b, s, x, w, base, true)
	}
	b = d.flush(b)
	d.pdf.SetFontSize(d.bodyPt * avail / sw)
	b = d.flush(d.appendText(b, x+w-cellPad-avail, base, s))
	d.pdf.SetFontSize(d.bodyPt)
	return b
}

// flush writes the operators collected in b to the page and returns b
// emptied.
func (d *document) flush(b []byte) []byte {
	if len(b) > 0 {
		d.pdf.RawWriteStr(string(b[:len(b)-1]))
	}
	return b[:0]
}

// appendText appends a text operator drawing s at x and baseline y with
// the current font, and records its runes.
func (d *document) appendText(b []byte, x, y float64, s string) []byte {
	b = append(b, "BT "...)
	b = appendCoords(b, x*ptPerMM, (d.pageH-y)*ptPerMM)
	b = append(b, "Td ("...)
	for _, r := range s {
		if r > 0xFFFF {
			r = utf8.RuneError
		}
		d.used[r>>6] |= 1 << (r & 63)
		b = appendEscaped(appendEscaped(b, byte(r>>8&0xFF)), byte(r&0xFF))
	}
	return append(b, ") Tj ET\n"...)
}

// appendEscaped appends one byte of a PDF literal string.
func appendEscaped(b []byte, c byte) []byte {
	switch c {
	case '(', ')', '\\':
		return append(b, '\\', c)
	case '\r':
		return append(b, '\\', 'r')
	case '\n':
		return append(b, '\\', 'n')
	}
	return append(b, c)
}

// registerRunes tells fpdf which runes the raw rows drew, so that its font
// subset has their glyphs: it draws them once, invisibly and off the page.
func (d *document) registerRunes() {
	var sb strings.Builder
	for base := rune(0); base < 1<<16; base += 64 {
		word := d.used[base>>6]
		for bit := rune(0); word != 0 && bit < 64; bit++ {
			if word&(1<<bit) != 0 && base+bit >= ' ' {
				sb.WriteRune(base + bit)
			}
		}
	}
	if sb.Len() == 0 {
		return
	}
	d.pdf.SetFont(fontFamily, "", d.bodyPt)
	d.pdf.RawWriteStr("q BT 3 Tr ET")
	d.pdf.Text(-2*a4Long, -2*a4Long, sb.String())
	d.pdf.RawWriteStr("Q")
}

// cellText draws text in a cell of width w at baseline y, cut to fit.
func (d *document) cellText(s string, x, w, y float64, right bool) {
	s, sw := d.fit(s, w-2*cellPad)
	if s == "" {
		return
	}
	if right {
		d.pdf.Text(x+w-cellPad-sw, y, s)
		return
	}
	d.pdf.Text(x+cellPad, y, s)
}

// fit returns s, or its longest prefix that fits maxW with an ellipsis
// added, in the current font, and the width of what it returns.
func (d *document) fit(s string, maxW float64) (string, float64) {
	w := d.pdf.GetStringWidth(s)
	if w <= maxW {
		return s, w
	}
	ell := d.pdf.GetStringWidth(ellipsis)
	if ell > maxW {
		return "", 0
	}
	acc := 0.0
	for i, r := range s {
		rw := d.pdf.GetStringWidth(string(r))
		if acc+rw+ell > maxW {
			return s[:i] + ellipsis, acc + ell
		}
		acc += rw
	}
	return s, w
}

// fillRect fills a rectangle without touching fpdf's colour state (so text
// needs no colour switches).
func (d *document) fillRect(x, y, w, h float64, c rgb) {
	b := appendRect(d.line[:0], x, y, w, h, d.pageH, c)
	d.line = b
	d.pdf.RawWriteStr(string(b[:len(b)-1]))
}

// appendRect appends the operators filling a rectangle given in
// millimetres from the top left of a page of height pageH.
func appendRect(b []byte, x, y, w, h, pageH float64, c rgb) []byte {
	b = append(b, "q "...)
	b = appendColor(b, c)
	b = append(b, " rg "...)
	b = appendCoords(b, x*ptPerMM, (pageH-y)*ptPerMM, w*ptPerMM, -h*ptPerMM)
	return append(b, "re f Q\n"...)
}

// hline draws a thin horizontal rule.
func (d *document) hline(x, y, w float64, c rgb) {
	b := d.line[:0]
	b = append(b, "q 0.3 w "...)
	b = appendColor(b, c)
	b = append(b, " RG "...)
	b = appendCoords(b, x*ptPerMM, (d.pageH-y)*ptPerMM)
	b = append(b, "m "...)
	b = appendCoords(b, (x+w)*ptPerMM, (d.pageH-y)*ptPerMM)
	b = append(b, "l S Q"...)
	d.line = b
	d.pdf.RawWriteStr(string(b))
}

// appendColor appends a colour as three PDF components.
func appendColor(b []byte, c rgb) []byte {
	b = strconv.AppendFloat(b, float64(c.r)/255, 'f', 3, 64)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, float64(c.g)/255, 'f', 3, 64)
	b = append(b, ' ')
	return strconv.AppendFloat(b, float64(c.b)/255, 'f', 3, 64)
}

// appendCoords appends numbers each followed by a space.
func appendCoords(b []byte, vs ...float64) []byte {
	for _, v := range vs {
		b = strconv.AppendFloat(b, v, 'f', 2, 64)
		b = append(b, ' ')
	}
	return b
}

// outcome is what the closing summary reports.
type outcome struct {
	total     int64 // rows the source produced
	drawn     int64 // rows in this PDF
	truncated bool
	rowCap    int64
}

// finish draws the closing summary and the footers.
func (d *document) finish(o outcome) {
	if o.drawn == 0 {
		d.ensure(rowHeight)
		d.pdf.SetTextColor(90, 98, 110)
		d.pdf.Text(pageMargin+cellPad, d.y+rowHeight/2+0.3*d.bodyPt/ptPerMM, "No rows.")
		d.pdf.SetTextColor(0, 0, 0)
		d.y += rowHeight
	}
	d.hline(pageMargin, d.y, d.tableW, ruleColor())
	d.y += 3
	if o.total > 0 {
		d.ensure(metaPt / ptPerMM * 1.5)
		d.textLine("Total: "+countText(o.total), "B", metaPt, false)
	}
	if o.truncated {
		limit := o.rowCap
		if limit <= 0 {
			limit = o.total
		}
		n := groupInt(limit)
		d.note("The query returned more rows than the row cap (" + n + "); only the first " + n + " are included.")
	}
	if o.drawn < o.total {
		d.note("This PDF shows the first " + groupInt(o.drawn) + " of " + groupInt(o.total) + " rows; the CSV holds all of them.")
	}
	d.registerRunes()
	d.footers()
}

// ensure starts a new page (without a header) unless h fits above the
// bottom of the table area.
func (d *document) ensure(h float64) {
	if d.y+h > d.bottom() {
		d.newPage()
	}
}

// note draws a highlighted, wrapped note.
func (d *document) note(s string) {
	const pad, lineH = 2.0, 4.6
	d.pdf.SetFont(fontFamily, "B", metaPt)
	lines := d.pdf.SplitText(s, d.tableW-2*pad)
	h := float64(len(lines))*lineH + 2*pad
	d.y += 1.5
	d.ensure(h)
	d.fillRect(pageMargin, d.y, d.tableW, h, noteFill())
	for i, line := range lines {
		d.pdf.Text(pageMargin+pad, d.y+pad+float64(i)*lineH+lineH*0.72, line)
	}
	d.y += h
	d.pdf.SetFont(fontFamily, "", d.bodyPt)
}

// footers writes "Page x of y" and the generation line on every page.
func (d *document) footers() {
	pages := d.pdf.PageCount()
	gen := "Generated by Herald"
	if !d.generated.IsZero() {
		gen = "Generated " + instantText(d.generated, d.loc) + " by Herald"
	}
	for i := 1; i <= pages; i++ {
		d.pdf.SetPage(i)
		d.pdf.SetFont(fontFamily, "", footerPt)
		d.pdf.SetTextColor(90, 98, 110)
		y := d.pageH - 10
		d.hline(pageMargin, y, d.tableW, ruleColor())
		base := y + 4.2
		d.pdf.Text(pageMargin, base, "Page "+strconv.Itoa(i)+" of "+strconv.Itoa(pages))
		g, w := d.fit(cleanText(gen), d.tableW*0.6)
		d.pdf.Text(pageMargin+d.tableW-w, base, g)
	}
	d.pdf.SetTextColor(0, 0, 0)
}

// output writes the finished document to w, deflating its streams.
func (d *document) output(w io.Writer) error {
	z := &deflater{w: w}
	err := d.pdf.Output(z)
	d.pdf = nil
	if err != nil {
		return fmt.Errorf("render pdf: finishing the document: %w", err)
	}
	return z.finish()
}
