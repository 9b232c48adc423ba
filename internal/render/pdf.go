package render

import (
	"fmt"
	"io"
)

// DefaultPDFMaxRows is the number of rows a PDF draws at most unless
// PDFOptions says otherwise.
const DefaultPDFMaxRows = 20_000

// layoutSampleRows is how many rows are buffered to fit the column widths.
const layoutSampleRows = 200

// PDFOptions configures a PDF writer.
type PDFOptions struct {
	// MaxRows is the number of rows drawn at most; 0 (or less) means
	// DefaultPDFMaxRows. fpdf keeps the whole document in memory, so this
	// bounds the memory a PDF takes.
	MaxRows int64
}

// PDF renders rows as a paginated A4 table (see the package comment). The
// first rows are buffered until the column widths are fitted; after that
// each row is drawn as it arrives. The document is written to w by Close.
//
// A PDF is not safe for concurrent use.
type PDF struct {
	w       io.Writer
	cols    []Column
	formats []colFormat
	meta    Meta
	max     int64
	seen    int64 // rows received
	drawn   int64 // rows drawn or buffered to be drawn
	sample  [][]cell
	scratch []cell
	doc     *document
	err     error
	closed  bool
}

// NewPDF starts a PDF document for w. Nothing is written before Close.
func NewPDF(w io.Writer, cols []Column, meta Meta, opts PDFOptions) (*PDF, error) {
	if len(cols) == 0 {
		return nil, fmt.Errorf("render pdf: %w", ErrNoColumns)
	}
	p := &PDF{
		w:       w,
		cols:    append([]Column(nil), cols...),
		formats: make([]colFormat, len(cols)),
		meta:    meta,
		max:     opts.MaxRows,
		scratch: make([]cell, len(cols)),
	}
	if p.max <= 0 {
		p.max = DefaultPDFMaxRows
	}
	for i, c := range cols {
		p.formats[i] = newColFormat(c, meta.location())
	}
	return p, nil
}

// WriteRow adds one row; vals must hold one value per column. Rows beyond
// MaxRows are checked and counted, not drawn. A row with a bad value is
// skipped and the error wraps ErrValueCount or ErrUnsupportedValue; a
// failure of the document itself is final.
func (p *PDF) WriteRow(vals []any) error {
	switch {
	case p.closed:
		return fmt.Errorf("render pdf: %w", ErrClosed)
	case p.err != nil:
		return p.err
	}
	row := p.seen + 1
	if err := checkCount("pdf", row, vals, p.cols); err != nil {
		return err
	}
	if p.drawn >= p.max {
		if err := checkValues("pdf", row, vals, p.cols); err != nil {
			return err
		}
		p.seen++
		return nil
	}
	cells := p.scratch
	if p.doc == nil {
		cells = make([]cell, len(p.cols))
	}
	for i, v := range vals {
		c, ok := p.formats[i].cell(v)
		if !ok {
			return valueError("pdf", row, p.cols[i], v)
		}
		cells[i] = c
	}
	p.seen++
	p.drawn++
	if p.doc != nil {
		p.doc.row(cells)
		return nil
	}
	p.sample = append(p.sample, cells)
	if len(p.sample) < layoutSampleRows {
		return nil
	}
	return p.layout()
}

// layout fits the table to the buffered rows and draws them.
func (p *PDF) layout() error {
	doc, err := newDocument(tableSpec{cols: p.cols, formats: p.formats, meta: p.meta, sample: p.sample})
	if err != nil {
		p.err = err
		return err
	}
	p.doc = doc
	for _, cells := range p.sample {
		doc.row(cells)
	}
	p.sample = nil
	return nil
}

// Close draws the summary (row count, truncation notes) and the page
// footers and writes the whole document to w. It never closes w. Calling
// Close again does nothing.
func (p *PDF) Close(s Summary) error {
	if p.closed {
		return p.err
	}
	p.closed = true
	if p.err != nil {
		return p.err
	}
	if p.doc == nil {
		if err := p.layout(); err != nil {
			return err
		}
	}
	p.doc.finish(outcome{total: max(s.Rows, p.seen), drawn: p.drawn, truncated: s.Truncated, rowCap: s.RowCap})
	p.err = p.doc.output(p.w)
	p.doc = nil // let the in-memory document go
	return p.err
}

// Rows returns the number of rows drawn (or to be drawn) in the document.
func (p *PDF) Rows() int64 { return p.drawn }
