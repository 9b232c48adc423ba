package datasource

import (
	"context"
	"database/sql"
	"errors"
)

// streamRows implements Rows over *sql.Rows, converting each value as its
// column's type says. It holds one row at a time (two while reading ahead).
type streamRows struct {
	rows    *sql.Rows
	cols    []Column
	conv    []converter
	raw     []any // scan targets' values
	ptrs    []any // pointers into raw
	pending []any // the first row, read ahead by newRows and not yet returned
	cur     []any
	max     int
	n       int

	done      bool // the driver's rows are exhausted or the cap is reached
	atEnd     bool // the driver reported the end of the result
	truncated bool
	closed    bool
	err       error

	mapErr  func(error) error
	release func() error
	cancel  context.CancelFunc
}

func newRows(rows *sql.Rows, d dialect, maxRows int, mapErr func(error) error, release func() error, cancel context.CancelFunc) (*streamRows, error) {
	r := &streamRows{rows: rows, max: maxRows, mapErr: mapErr, release: release, cancel: cancel}
	cols, err := d.columns(rows)
	if err != nil {
		_ = r.Close()
		return nil, mapErr(err)
	}
	r.cols = cols
	r.raw = make([]any, len(cols))
	r.ptrs = make([]any, len(cols))
	for i := range r.raw {
		r.ptrs[i] = &r.raw[i]
	}
	// Read the first row ahead: errors raised before the first row (most
	// of them: refused writes, permissions, bad values, timeouts) then come
	// from Query itself, and columns without a declared type (SQLite
	// expressions) take the type of their first value.
	if r.fetch() {
		r.pending = append([]any(nil), r.raw...)
		inferTypes(r.cols, r.pending)
	} else if r.err != nil {
		err := r.err
		_ = r.Close()
		return nil, err
	}
	r.conv = make([]converter, len(cols))
	for i, c := range r.cols {
		r.conv[i] = converterFor(c)
	}
	return r, nil
}

// fetch reads the next driver row into raw.
func (r *streamRows) fetch() bool {
	if r.atEnd {
		return false
	}
	if !r.rows.Next() {
		r.atEnd = true
		if err := r.rows.Err(); err != nil {
			r.err = r.mapErr(err)
		}
		return false
	}
	if err := r.rows.Scan(r.ptrs...); err != nil {
		r.err = r.mapErr(err)
		return false
	}
	return true
}

// Columns implements Rows.
func (r *streamRows) Columns() []Column { return r.cols }

// Next implements Rows.
func (r *streamRows) Next() bool {
	r.cur = nil
	if r.closed || r.done || r.err != nil {
		return false
	}
	if r.n >= r.max {
		r.done = true
		r.truncated = r.pending != nil || r.fetch()
		return false
	}
	raw := r.pending
	r.pending = nil
	if raw == nil {
		if !r.fetch() {
			r.done = true
			return false
		}
		raw = r.raw
	}
	vals := make([]any, len(raw))
	for i, v := range raw {
		vals[i] = r.conv[i](v)
	}
	r.cur = vals
	r.n++
	return true
}

// Values implements Rows.
func (r *streamRows) Values() []any { return r.cur }

// Err implements Rows.
func (r *streamRows) Err() error { return r.err }

// Truncated implements Rows.
func (r *streamRows) Truncated() bool { return r.truncated }

// Close implements Rows. When the result was not read to its end (row cap,
// or the caller stopped early) the query is canceled first: drivers would
// otherwise read and discard every remaining row.
func (r *streamRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	early := !r.atEnd
	if early {
		r.cancel()
	}
	cerr := r.rows.Close()
	rerr := r.release()
	r.cancel()
	if early {
		return nil // errors here come from the cancellation
	}
	if cerr != nil {
		return r.mapErr(cerr)
	}
	if rerr != nil && !errors.Is(rerr, sql.ErrTxDone) && !errors.Is(rerr, sql.ErrConnDone) {
		return r.mapErr(rerr)
	}
	return nil
}
