package datasource

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"os"
	"strings"
	"time"

	"modernc.org/sqlite"

	"github.com/heraldreports/herald/internal/herald"
)

// sqliteDialect runs queries on a SQLite file (the demo dataset or a local
// file). Connections open the file with mode=ro and PRAGMA query_only=1,
// and an authorizer admits only reads: no ATTACH (which would reach other
// files on this machine), no writing PRAGMA, no DDL or DML. SQLite has no
// server-side timeout: the context interrupts the statement.
type sqliteDialect struct {
	driver *sqlite.Driver
}

func (*sqliteDialect) serverTimeout() bool { return false }

func (*sqliteDialect) style() placeholderStyle { return questionPlaceholders }

// bindTime binds times as the text the demo dataset stores: dates as
// 2006-01-02, datetimes as UTC RFC 3339, so that comparisons with stored
// text order correctly.
func (*sqliteDialect) bindTime(t time.Time, date bool) any {
	if date {
		return t.Format(time.DateOnly)
	}
	return t.UTC().Format(time.RFC3339Nano)
}

var (
	errSQLiteMissing = errors.New("the database file does not exist")
	errSQLiteNotFile = errors.New("the database path is not a regular file")
)

func (d *sqliteDialect) open(path string) (*sql.DB, error) {
	path = strings.TrimPrefix(path, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i] // the runner chooses the open flags, not the DSN
	}
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, errSQLiteMissing
	case err != nil:
		return nil, err
	case !info.Mode().IsRegular():
		return nil, errSQLiteNotFile
	}
	dsn := "file:" + escapeSQLitePath(path) +
		"?mode=ro&_pragma=query_only(1)&_pragma=trusted_schema(0)&_pragma=busy_timeout(5000)&_defensive=1"
	return sql.OpenDB(&sqliteConnector{driver: d.driver, dsn: dsn}), nil
}

// escapeSQLitePath escapes the bytes that end or alter the path of a
// SQLite URI filename.
func escapeSQLitePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// sqliteConnector opens connections with the runner's own driver, which
// carries the read-only authorizer, without registering anything globally.
type sqliteConnector struct {
	driver *sqlite.Driver
	dsn    string
}

// Connect implements driver.Connector.
func (c *sqliteConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.driver.Open(c.dsn)
}

// Driver implements driver.Connector.
func (c *sqliteConnector) Driver() driver.Driver { return c.driver }

// installReadOnlyAuthorizer is the connection hook of the runner's SQLite
// driver.
func installReadOnlyAuthorizer(conn sqlite.ExecQuerierContext, _ string) error {
	reg, ok := conn.(sqlite.AuthorizerRegisterer)
	if !ok {
		return errors.New("the SQLite driver cannot install an authorizer")
	}
	return reg.RegisterAuthorizer(readOnlyAuthorizer)
}

// readOnlyAuthorizer admits reads, functions (but load_extension),
// transactions and schema-introspection pragmas; it denies everything else.
func readOnlyAuthorizer(action sqlite.AuthorizerActionCode, arg1, arg2, _, _ string) sqlite.AuthorizerReturnCode {
	switch action {
	case sqlite.AuthSelect, sqlite.AuthRead, sqlite.AuthRecursive, sqlite.AuthTransaction, sqlite.AuthSavepoint:
		return sqlite.AuthorizerOK
	case sqlite.AuthFunction:
		if strings.EqualFold(arg2, "load_extension") {
			return sqlite.AuthorizerDeny
		}
		return sqlite.AuthorizerOK
	case sqlite.AuthPragma:
		if introspectionPragma(arg1) {
			return sqlite.AuthorizerOK
		}
	}
	return sqlite.AuthorizerDeny
}

func introspectionPragma(name string) bool {
	switch strings.ToLower(name) {
	case "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo", "foreign_key_list":
		return true
	}
	return false
}

func (*sqliteDialect) begin(_ context.Context, db *sql.DB, _ time.Duration) (*session, error) {
	return &session{q: db, release: func() error { return nil }}, nil
}

func (*sqliteDialect) columns(rows *sql.Rows) ([]Column, error) {
	return baseColumns(rows, sqliteType)
}

// sqliteType maps a declared column type, following SQLite's affinity
// rules with the common date, boolean, decimal and JSON names first. An
// empty declared type (an expression) is typed from the first row's value.
func sqliteType(decl string) ColumnType {
	t := strings.ToUpper(strings.TrimSpace(decl))
	if i := strings.IndexByte(t, '('); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	switch t {
	case "":
		return TypeUnknown
	case "DATE":
		return TypeDate
	case "DATETIME", "TIMESTAMP", "TIMESTAMPTZ":
		return TypeDatetime
	case "BOOLEAN", "BOOL":
		return TypeBool
	case "JSON", "JSONB":
		return TypeJSON
	case "DECIMAL", "NUMERIC", "MONEY":
		return TypeDecimal
	}
	switch {
	case strings.Contains(t, "INT"):
		return TypeInt
	case strings.Contains(t, "CHAR"), strings.Contains(t, "CLOB"), strings.Contains(t, "TEXT"):
		return TypeString
	case strings.Contains(t, "BLOB"):
		return TypeBytes
	case strings.Contains(t, "REAL"), strings.Contains(t, "FLOA"), strings.Contains(t, "DOUB"): //nolint:misspell // SQLite's affinity rule matches "DOUB"
		return TypeFloat
	}
	return TypeUnknown
}

// SQLite primary result codes.
const (
	sqliteError     = 1
	sqliteBusy      = 5
	sqliteLocked    = 6
	sqliteReadOnly  = 8
	sqliteInterrupt = 9
	sqliteCorrupt   = 11
	sqliteCantOpen  = 14
	sqliteTooBig    = 18
	sqliteMismatch  = 20
	sqliteAuth      = 23
	sqliteRange     = 25
	sqliteNotADB    = 26
)

func (*sqliteDialect) classify(err error) classified {
	switch {
	case errors.Is(err, errSQLiteMissing), errors.Is(err, errSQLiteNotFile):
		return classified{ReasonConnection, herald.CodeUnavailable, err.Error()}
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return classified{}
	}
	msg := se.Error()
	switch se.Code() & 0xff {
	case sqliteReadOnly:
		return classified{ReasonPermission, herald.CodeForbidden, "writes are not allowed, queries run read-only: " + msg}
	case sqliteAuth:
		return classified{ReasonPermission, herald.CodeForbidden, "only reading statements are allowed: " + msg}
	case sqliteInterrupt:
		return classified{ReasonCanceled, herald.CodeUnavailable, "query canceled"}
	case sqliteCantOpen, sqliteNotADB, sqliteCorrupt:
		return classified{ReasonConnection, herald.CodeUnavailable, "cannot open the database file: " + msg}
	case sqliteBusy, sqliteLocked:
		return classified{ReasonConnection, herald.CodeUnavailable, "the database file is locked: " + msg}
	case sqliteError, sqliteMismatch, sqliteRange, sqliteTooBig:
		if strings.Contains(msg, "not authorized") { // a function the authorizer denies
			return classified{ReasonPermission, herald.CodeForbidden, "only reading statements are allowed: " + msg}
		}
		return classified{ReasonQuery, herald.CodeInvalid, "query failed: " + msg}
	}
	return classified{ReasonInternal, herald.CodeInternal, "the database reported an error: " + msg}
}
