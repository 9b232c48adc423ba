// Package render writes a query result as a CSV file or a PDF report,
// streaming rows in as they arrive. It knows nothing of where rows come from:
// the caller describes the columns (name, label, portable type, display
// format), then feeds each row's values and finally a Summary of the result.
//
// Values arrive typed as the datasource package delivers them: string,
// int64, float64, a decimal as exact text ("1234.50"), bool, time.Time
// (a date at midnight UTC or an instant), json.RawMessage, []byte, and nil
// for NULL in any column. The other Go integer kinds and float32 are
// accepted as a convenience; any other type is an error (ErrUnsupportedValue)
// and a row with the wrong number of values is one too (ErrValueCount).
// Renderers never panic on a value.
//
// The CSV writer is lossless (RFC 4180, UTF-8, locale-neutral numbers,
// RFC 3339 datetimes, base64 bytes), runs in constant memory and allocates
// nothing per row. NULL is an empty field and the empty string a quoted
// empty field (""), except in a one-column file, where NULL is written as
// "" too: an empty line would be skipped by most readers. Values are written as they are: no formula-injection
// prefixes, because the file is data, not a spreadsheet.
//
// The PDF writer (go-pdf/fpdf with the embedded Go fonts, so any text in the
// fonts' Latin, Greek and Cyrillic repertoire prints) draws a paginated A4
// table: a title block, a header row repeated on every page, column widths
// fitted to the header and the first rows, zebra rows, right-aligned and
// grouped numbers, "Page x of y" footers and a closing summary with the row
// count and truncation notes. fpdf keeps the whole document in memory, so the
// PDF draws at most PDFOptions.MaxRows rows and counts the rest.
//
// Two things keep the PDF fast (10,000 rows in about a tenth of a second):
// table rows are written as raw PDF text operators rather than through
// fpdf's fmt-based cell calls (the runes drawn are registered with fpdf so
// its font subset still has their glyphs), and fpdf writes the document
// uncompressed so that deflater can compress all page streams with a single
// zlib writer instead of allocating one per page. Each document still parses
// the two fonts (fpdf offers no way to share a parsed font between
// documents), a fixed cost of roughly 10 ms.
package render
