package render

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// deflater compresses the plain streams of an uncompressed fpdf document on
// its way to w, and rebuilds the cross-reference table.
//
// fpdf compresses each page with a new zlib writer, and a zlib writer
// allocates about a megabyte: for a 200-page table that is most of the
// rendering time. The document is therefore produced uncompressed and every
// stream whose dictionary is just <</Length n>> (page contents, ToUnicode
// maps) is deflated here with one reused writer. Anything that does not look
// exactly as expected is passed through unchanged: the PDF stays valid, only
// larger.
type deflater struct {
	w       io.Writer
	pending []byte
}

// Write takes the document. fpdf hands it over in a single Write; should it
// come in pieces, they are collected until finish.
func (z *deflater) Write(p []byte) (int, error) {
	if len(z.pending) == 0 && bytes.HasSuffix(bytes.TrimRight(p, "\r\n"), []byte("%%EOF")) {
		return len(p), z.rewrite(p)
	}
	z.pending = append(z.pending, p...)
	return len(p), nil
}

// finish writes a document that arrived in pieces.
func (z *deflater) finish() error {
	if len(z.pending) == 0 {
		return nil
	}
	err := z.rewrite(z.pending)
	z.pending = nil
	return err
}

// xrefTable is the parsed cross-reference section of a document.
type xrefTable struct {
	start   int   // offset of "xref"
	offsets []int // by object number; offsets[0] is unused
	trailer []byte
}

// rewrite writes src with its plain streams deflated, or unchanged when its
// layout is not the one expected.
func (z *deflater) rewrite(src []byte) error {
	x, ok := parseXref(src)
	if !ok {
		return z.copy(src)
	}
	order := make([]int, 0, len(x.offsets))
	for i := 1; i < len(x.offsets); i++ {
		order = append(order, i)
	}
	slices.SortFunc(order, func(a, b int) int { return x.offsets[a] - x.offsets[b] })
	if !objectsAt(src, x, order) {
		return z.copy(src)
	}
	bw := bufio.NewWriterSize(z.w, 256<<10)
	cw := &countingWriter{w: bw}
	zw, err := zlib.NewWriterLevel(nil, zlib.BestSpeed)
	if err != nil {
		return fmt.Errorf("render pdf: %w", err)
	}
	scratch := new(bytes.Buffer)
	newOffsets := make([]int, len(x.offsets))
	_, _ = cw.Write(src[:x.offsets[order[0]]])
	for k, obj := range order {
		end := x.start
		if k+1 < len(order) {
			end = x.offsets[order[k+1]]
		}
		newOffsets[obj] = cw.n
		writeObject(cw, zw, scratch, obj, src[x.offsets[obj]:end])
	}
	writeXref(cw, newOffsets, x.trailer)
	if cw.err != nil {
		return fmt.Errorf("render pdf: writing the document: %w", cw.err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("render pdf: writing the document: %w", err)
	}
	return nil
}

// copy writes src unchanged.
func (z *deflater) copy(src []byte) error {
	if _, err := z.w.Write(src); err != nil {
		return fmt.Errorf("render pdf: writing the document: %w", err)
	}
	return nil
}

// parseXref reads the classic cross-reference table fpdf writes last:
// "xref\n0 N\n" followed by N 20-byte entries, the trailer, "startxref".
func parseXref(src []byte) (xrefTable, bool) {
	var x xrefTable
	sx := bytes.LastIndex(src, []byte("startxref\n"))
	if sx < 0 {
		return x, false
	}
	start, ok := leadingInt(src[sx+len("startxref\n"):])
	if !ok || start >= sx || !bytes.HasPrefix(src[start:], []byte("xref\n0 ")) {
		return x, false
	}
	x.start = start
	p := start + len("xref\n0 ")
	n, ok := leadingInt(src[p:])
	if !ok || n < 2 {
		return x, false
	}
	p = bytes.IndexByte(src[p:], '\n') + p + 1
	if p+20*n > sx {
		return x, false
	}
	x.offsets = make([]int, n)
	for i := 1; i < n; i++ {
		e := src[p+20*i : p+20*i+20]
		off, ok := leadingInt(e)
		if !ok || !bytes.HasSuffix(e, []byte(" 00000 n \n")) || off >= start {
			return x, false
		}
		x.offsets[i] = off
	}
	x.trailer = src[p+20*n : sx]
	return x, bytes.HasPrefix(x.trailer, []byte("trailer\n"))
}

// objectsAt reports whether each object starts where the table says and no
// two share an offset.
func objectsAt(src []byte, x xrefTable, order []int) bool {
	if len(order) == 0 {
		return false
	}
	for k, obj := range order {
		if k > 0 && x.offsets[obj] == x.offsets[order[k-1]] {
			return false
		}
		head := strconv.Itoa(obj) + " 0 obj\n"
		if !bytes.HasPrefix(src[x.offsets[obj]:], []byte(head)) {
			return false
		}
	}
	return true
}

// leadingInt parses the decimal digits at the start of b.
func leadingInt(b []byte) (int, bool) {
	n, i := 0, 0
	for ; i < len(b) && i < 12 && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int(b[i]-'0')
	}
	return n, i > 0
}

// writeObject writes one object, deflating its stream when the object is
// exactly "N 0 obj\n<</Length L>>\nstream\n" + L bytes +
// "\nendstream\nendobj\n".
func writeObject(w io.Writer, zw *zlib.Writer, scratch *bytes.Buffer, obj int, span []byte) {
	data, ok := plainStream(obj, span)
	if !ok {
		_, _ = w.Write(span)
		return
	}
	scratch.Reset()
	zw.Reset(scratch)
	_, _ = zw.Write(data)
	if err := zw.Close(); err != nil {
		_, _ = w.Write(span)
		return
	}
	fmt.Fprintf(w, "%d 0 obj\n<</Filter /FlateDecode /Length %d>>\nstream\n", obj, scratch.Len())
	_, _ = w.Write(scratch.Bytes())
	_, _ = io.WriteString(w, "\nendstream\nendobj\n")
}

// plainStream returns the data of an object holding an unfiltered stream
// with nothing but a Length in its dictionary.
func plainStream(obj int, span []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(span, []byte(strconv.Itoa(obj)+" 0 obj\n<</Length "))
	if !ok {
		return nil, false
	}
	n, ok := leadingInt(rest)
	if !ok {
		return nil, false
	}
	rest, ok = bytes.CutPrefix(rest[len(strconv.Itoa(n)):], []byte(">>\nstream\n"))
	if !ok || len(rest) != n+len("\nendstream\nendobj\n") || !bytes.HasSuffix(rest, []byte("\nendstream\nendobj\n")) {
		return nil, false
	}
	return rest[:n], true
}

// writeXref writes the cross-reference table, the trailer and startxref.
func writeXref(cw *countingWriter, offsets []int, trailer []byte) {
	start := cw.n
	fmt.Fprintf(cw, "xref\n0 %d\n0000000000 65535 f \n", len(offsets))
	for _, off := range offsets[1:] {
		fmt.Fprintf(cw, "%010d 00000 n \n", off)
	}
	_, _ = cw.Write(trailer)
	fmt.Fprintf(cw, "startxref\n%d\n%%%%EOF\n", start)
}

// countingWriter counts the bytes written and keeps the first error.
type countingWriter struct {
	w   io.Writer
	n   int
	err error
}

// Write implements io.Writer.
func (c *countingWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += n
	c.err = err
	return n, err
}
