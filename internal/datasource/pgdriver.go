package datasource

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// This file adapts native pgx connections to database/sql, so PostgreSQL
// pools are *sql.DB like the others. (pgx's own stdlib adapter imports
// pgxpool and its dependencies, which this module does not carry.) The
// adapter covers what the runner uses: read-only transactions, queries and
// statements with arguments, and typed column values.

// pgCleanupTimeout bounds rollback and close, which run after the query's
// context may have ended.
const pgCleanupTimeout = 5 * time.Second

// pgConnector opens pgx connections with one configuration.
type pgConnector struct {
	cfg *pgx.ConnConfig
}

// Connect implements driver.Connector.
func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, c.cfg.Copy())
	if err != nil {
		return nil, err
	}
	m := conn.TypeMap() // this connection's own map
	m.TryWrapEncodePlanFuncs = append([]pgtype.TryWrapEncodePlanFunc{tryWrapAsText}, m.TryWrapEncodePlanFuncs...)
	return &pgConn{conn: conn, formats: pgResultFormats()}, nil
}

// Driver implements driver.Connector.
func (c *pgConnector) Driver() driver.Driver { return pgDriver{} }

// pgDriver exists for driver.Connector; connections come from Connect.
type pgDriver struct{}

// Open implements driver.Driver.
func (pgDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("datasource: open PostgreSQL pools through their connector")
}

// pgConn is one pgx connection.
type pgConn struct {
	conn    *pgx.Conn
	formats pgx.QueryResultFormatsByOID
}

var (
	_ driver.ConnBeginTx                    = (*pgConn)(nil)
	_ driver.QueryerContext                 = (*pgConn)(nil)
	_ driver.ExecerContext                  = (*pgConn)(nil)
	_ driver.NamedValueChecker              = (*pgConn)(nil)
	_ driver.Pinger                         = (*pgConn)(nil)
	_ driver.SessionResetter                = (*pgConn)(nil)
	_ driver.Validator                      = (*pgConn)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*pgRows)(nil)
)

// Prepare implements driver.Conn; statements are prepared by pgx itself.
func (c *pgConn) Prepare(string) (driver.Stmt, error) {
	return nil, errors.New("datasource: explicit prepared statements are not supported")
}

// Close implements driver.Conn.
func (c *pgConn) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), pgCleanupTimeout)
	defer cancel()
	return c.conn.Close(ctx)
}

// Begin implements driver.Conn.
func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx implements driver.ConnBeginTx.
func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.conn.IsClosed() {
		return nil, driver.ErrBadConn
	}
	var o pgx.TxOptions
	if opts.ReadOnly {
		o.AccessMode = pgx.ReadOnly
	}
	tx, err := c.conn.BeginTx(ctx, o)
	if err != nil {
		return nil, err
	}
	return pgTx{tx: tx}, nil
}

// QueryContext implements driver.QueryerContext.
func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.conn.IsClosed() {
		return nil, driver.ErrBadConn
	}
	rows, err := c.conn.Query(ctx, query, append([]any{c.formats}, namedArgs(args)...)...)
	if err != nil {
		return nil, err
	}
	return &pgRows{rows: rows, typeMap: c.conn.TypeMap()}, nil
}

// ExecContext implements driver.ExecerContext.
func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.conn.IsClosed() {
		return nil, driver.ErrBadConn
	}
	tag, err := c.conn.Exec(ctx, query, namedArgs(args)...)
	if err != nil {
		return nil, err
	}
	return driver.RowsAffected(tag.RowsAffected()), nil
}

// CheckNamedValue implements driver.NamedValueChecker: pgx encodes every
// value itself.
func (c *pgConn) CheckNamedValue(*driver.NamedValue) error { return nil }

// Ping implements driver.Pinger.
func (c *pgConn) Ping(ctx context.Context) error {
	if c.conn.IsClosed() {
		return driver.ErrBadConn
	}
	return c.conn.Ping(ctx)
}

// ResetSession implements driver.SessionResetter.
func (c *pgConn) ResetSession(context.Context) error {
	if c.conn.IsClosed() {
		return driver.ErrBadConn
	}
	return nil
}

// IsValid implements driver.Validator.
func (c *pgConn) IsValid() bool { return !c.conn.IsClosed() }

// pgResultFormats asks for binary results only for the types decoded from
// binary below, and text for every other type, which then arrives as the
// server writes it (numeric, interval, uuid, arrays, ...).
func pgResultFormats() pgx.QueryResultFormatsByOID {
	binary := []uint32{pgtype.BoolOID, pgtype.ByteaOID, pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID,
		pgtype.Float4OID, pgtype.Float8OID, pgtype.DateOID, pgtype.TimestampOID, pgtype.TimestamptzOID,
		pgtype.OIDOID, pgtype.XIDOID, pgtype.CIDOID}
	formats := make(pgx.QueryResultFormatsByOID, len(binary))
	for _, oid := range binary {
		formats[oid] = pgx.BinaryFormatCode
	}
	return formats
}

func namedArgs(args []driver.NamedValue) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a.Value
	}
	return out
}

// pgTx is a pgx transaction.
type pgTx struct {
	tx pgx.Tx
}

// Commit implements driver.Tx.
func (t pgTx) Commit() error {
	ctx, cancel := context.WithTimeout(context.Background(), pgCleanupTimeout)
	defer cancel()
	return t.tx.Commit(ctx)
}

// Rollback implements driver.Tx.
func (t pgTx) Rollback() error {
	ctx, cancel := context.WithTimeout(context.Background(), pgCleanupTimeout)
	defer cancel()
	return t.tx.Rollback(ctx)
}

// pgRows streams a pgx result, decoding each value once into a
// database/sql driver value: bool, int64, float64, string (numeric and
// every type without a closer Go type), time.Time (date, timestamp,
// timestamptz; 'infinity' stays a string), []byte (bytea, json, jsonb).
type pgRows struct {
	rows    pgx.Rows
	typeMap *pgtype.Map
	decode  []func(src []byte) (driver.Value, error)
}

// Columns implements driver.Rows.
func (r *pgRows) Columns() []string {
	fds := r.rows.FieldDescriptions()
	names := make([]string, len(fds))
	for i, fd := range fds {
		names[i] = fd.Name
	}
	return names
}

// ColumnTypeDatabaseTypeName implements driver.RowsColumnTypeDatabaseTypeName.
func (r *pgRows) ColumnTypeDatabaseTypeName(i int) string {
	oid := r.rows.FieldDescriptions()[i].DataTypeOID
	if t, ok := r.typeMap.TypeForOID(oid); ok {
		return strings.ToUpper(t.Name)
	}
	return strconv.FormatUint(uint64(oid), 10)
}

// Close implements driver.Rows.
func (r *pgRows) Close() error {
	r.rows.Close()
	return r.rows.Err()
}

// Next implements driver.Rows.
func (r *pgRows) Next(dest []driver.Value) error {
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return io.EOF
	}
	if r.decode == nil {
		r.decode = pgDecoders(r.typeMap, r.rows.FieldDescriptions())
	}
	for i, src := range r.rows.RawValues() {
		if src == nil {
			dest[i] = nil
			continue
		}
		v, err := r.decode[i](src)
		if err != nil {
			return err
		}
		dest[i] = v
	}
	return nil
}

func pgDecoders(m *pgtype.Map, fds []pgconn.FieldDescription) []func([]byte) (driver.Value, error) {
	out := make([]func([]byte) (driver.Value, error), len(fds))
	for i, fd := range fds {
		out[i] = pgDecoder(m, fd.DataTypeOID, fd.Format)
	}
	return out
}

// pgDecoder returns the decoder of one column.
func pgDecoder(m *pgtype.Map, oid uint32, format int16) func([]byte) (driver.Value, error) {
	switch oid {
	case pgtype.BoolOID:
		return scanAs[bool](m, oid, format, func(v bool) (driver.Value, error) { return v, nil })
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID:
		return scanAs[int64](m, oid, format, func(v int64) (driver.Value, error) { return v, nil })
	case pgtype.OIDOID, pgtype.XIDOID, pgtype.CIDOID:
		return scanAs[pgtype.Uint32](m, oid, format, func(v pgtype.Uint32) (driver.Value, error) { return int64(v.Uint32), nil })
	case pgtype.Float4OID:
		return scanAs[float32](m, oid, format, func(v float32) (driver.Value, error) { return float64(v), nil })
	case pgtype.Float8OID:
		return scanAs[float64](m, oid, format, func(v float64) (driver.Value, error) { return v, nil })
	case pgtype.ByteaOID, pgtype.JSONOID, pgtype.JSONBOID:
		return scanAs[[]byte](m, oid, format, func(v []byte) (driver.Value, error) { return append([]byte(nil), v...), nil })
	case pgtype.DateOID:
		return scanAs[pgtype.Date](m, oid, format, func(v pgtype.Date) (driver.Value, error) { return v.Value() })
	case pgtype.TimestampOID:
		return scanAs[pgtype.Timestamp](m, oid, format, func(v pgtype.Timestamp) (driver.Value, error) { return v.Value() })
	case pgtype.TimestamptzOID:
		return scanAs[pgtype.Timestamptz](m, oid, format, func(v pgtype.Timestamptz) (driver.Value, error) { return v.Value() })
	}
	text := scanAs[string](m, oid, format, func(v string) (driver.Value, error) { return v, nil })
	return func(src []byte) (driver.Value, error) {
		v, err := text(src)
		if err != nil && format == pgx.TextFormatCode {
			return string(src), nil // text that pgx has no codec for
		}
		return v, err
	}
}

// scanAs decodes with pgx's scan plan for a T, then converts with conv.
func scanAs[T any](m *pgtype.Map, oid uint32, format int16, conv func(T) (driver.Value, error)) func([]byte) (driver.Value, error) {
	var target T
	plan := m.PlanScan(oid, format, &target)
	return func(src []byte) (driver.Value, error) {
		var v T
		if err := plan.Scan(src, &v); err != nil {
			return nil, err
		}
		return conv(v)
	}
}

// tryWrapAsText encodes a number, bool or time bound where the server
// expects text (an untyped placeholder such as SELECT $1, or $1 || 'x') as
// its text form (times as RFC 3339) instead of failing. pgx consults
// wrappers only when the value has no direct encoding for the parameter's
// type, and moves on to its own wrappers when this one's text does not fit.
func tryWrapAsText(value any) (pgtype.WrappedEncodePlanNextSetter, any, bool) {
	s, ok := textOf(value)
	if !ok {
		return nil, nil, false
	}
	return &textFallbackPlan{}, s, true
}

func textOf(value any) (string, bool) {
	switch v := value.(type) {
	case int64:
		return strconv.FormatInt(v, 10), true
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	case time.Time:
		return v.Format(time.RFC3339Nano), true
	}
	return "", false
}

type textFallbackPlan struct {
	next pgtype.EncodePlan
}

func (p *textFallbackPlan) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *textFallbackPlan) Encode(value any, buf []byte) ([]byte, error) {
	s, ok := textOf(value)
	if !ok {
		return nil, fmt.Errorf("cannot encode %T as text", value)
	}
	return p.next.Encode(s, buf)
}
