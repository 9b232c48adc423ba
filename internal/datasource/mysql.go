package datasource

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/heraldreports/herald/internal/herald"
)

// mysqlDialect runs queries on MySQL or MariaDB. Each query runs on a
// session set to SET SESSION TRANSACTION READ ONLY (which, unlike START
// TRANSACTION READ ONLY alone, also refuses DDL after its implicit commit)
// inside START TRANSACTION READ ONLY, with the server's statement timeout:
// max_statement_time (seconds) on MariaDB, max_execution_time
// (milliseconds, SELECT only) on MySQL.
type mysqlDialect struct {
	mu      sync.Mutex
	checked bool
	mariadb bool
}

func (*mysqlDialect) serverTimeout() bool { return true }

func (*mysqlDialect) style() placeholderStyle { return questionPlaceholders }

func (*mysqlDialect) bindTime(t time.Time, date bool) any {
	if date {
		return dateOf(t)
	}
	return t.UTC()
}

// nopLogger silences the driver's own logging; errors reach the caller.
type nopLogger struct{}

func (nopLogger) Print(...any) {}

func (*mysqlDialect) open(dsn string) (*sql.DB, error) {
	cfg, err := parseMySQLDSN(dsn)
	if err != nil {
		return nil, errInvalidDSN
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.MultiStatements = false   // one query string is one statement
	cfg.InterpolateParams = false // values are bound by the server, never spliced into SQL
	cfg.AllowAllFiles = false     // no LOAD DATA LOCAL INFILE from this machine
	if cfg.Timeout == 0 {
		cfg.Timeout = connectTimeout
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'" // TIMESTAMP columns arrive in UTC
	cfg.Logger = nopLogger{}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, errInvalidDSN
	}
	return sql.OpenDB(conn), nil
}

// parseMySQLDSN accepts the driver's DSN (user:pass@tcp(host:3306)/db?x=y)
// or a URL (mysql://user:pass@host:3306/db?x=y).
func parseMySQLDSN(dsn string) (*mysql.Config, error) {
	if !strings.HasPrefix(dsn, "mysql://") && !strings.HasPrefix(dsn, "mariadb://") {
		return mysql.ParseDSN(dsn)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, errInvalidDSN
	}
	cfg := mysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	if q := u.RawQuery; q != "" {
		// Reuse the driver's parsing of options.
		parsed, err := mysql.ParseDSN("/?" + q)
		if err != nil {
			return nil, errInvalidDSN
		}
		parsed.User, parsed.Passwd, parsed.Net, parsed.Addr, parsed.DBName = cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName
		cfg = parsed
	}
	return cfg, nil
}

func (d *mysqlDialect) begin(ctx context.Context, db *sql.DB, timeout time.Duration) (*session, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*session, error) {
		_ = conn.Close()
		return nil, err
	}
	mariadb, err := d.isMariaDB(ctx, conn)
	if err != nil {
		return fail(err)
	}
	if _, err := conn.ExecContext(ctx, "SET SESSION TRANSACTION READ ONLY"); err != nil {
		return fail(err)
	}
	setTimeout, value := "SET SESSION max_execution_time = ?", any(max(timeout.Milliseconds(), 1))
	if mariadb {
		setTimeout, value = "SET SESSION max_statement_time = ?", max(timeout.Seconds(), 0.001)
	}
	if _, err := conn.ExecContext(ctx, setTimeout, value); err != nil && !isMySQLError(err, 1193) { // 1193: an old server without the variable
		return fail(err)
	}
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fail(err)
	}
	return &session{q: tx, release: func() error {
		rerr := tx.Rollback()
		return errors.Join(rerr, conn.Close())
	}}, nil
}

// isMariaDB asks the server once per pool which flavour it is.
func (d *mysqlDialect) isMariaDB(ctx context.Context, conn *sql.Conn) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.checked {
		return d.mariadb, nil
	}
	var version string
	if err := conn.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		return false, err
	}
	d.checked, d.mariadb = true, strings.Contains(strings.ToLower(version), "mariadb")
	return d.mariadb, nil
}

func isMySQLError(err error, number uint16) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == number
}

func (*mysqlDialect) columns(rows *sql.Rows) ([]Column, error) {
	cols, err := baseColumns(rows, mysqlType)
	if err != nil {
		return nil, err
	}
	lengths := mysqlColumnLengths(rows, len(cols))
	for i := range cols {
		if cols[i].DBType == "TINYINT" && lengths != nil && lengths[i] == 1 {
			cols[i].Type, cols[i].DBType = TypeBool, "TINYINT(1)"
		}
	}
	return cols, nil
}

// mysqlColumnLengths returns the display lengths of the result's columns,
// which tell BOOLEAN (TINYINT(1)) from other TINYINT columns. The driver
// reads them from the protocol but does not export them, so they are read
// with reflection from its unexported fields, read-only; when the driver's
// layout differs, it returns nil and TINYINT(1) stays an int.
func mysqlColumnLengths(rows *sql.Rows, n int) []uint64 {
	fields, ok := structField(reflect.ValueOf(rows), "rowsi", "rs", "columns")
	if !ok || fields.Kind() != reflect.Slice || fields.Len() != n {
		return nil
	}
	out := make([]uint64, n)
	for i := range out {
		l, ok := structField(fields.Index(i), "length")
		if !ok || !l.CanUint() {
			return nil
		}
		out[i] = l.Uint()
	}
	return out
}

// structField follows a path of (possibly unexported, possibly promoted)
// field names through pointers and interfaces.
func structField(v reflect.Value, path ...string) (reflect.Value, bool) {
	for _, name := range path {
		for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		if !v.IsValid() || v.Kind() != reflect.Struct {
			return reflect.Value{}, false
		}
		v = v.FieldByName(name)
	}
	return v, v.IsValid()
}

// mysqlType maps go-sql-driver's type names.
func mysqlType(name string) ColumnType {
	switch name {
	case "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "BIGINT", "YEAR",
		"UNSIGNED TINYINT", "UNSIGNED SMALLINT", "UNSIGNED MEDIUMINT", "UNSIGNED INT":
		return TypeInt
	case "DECIMAL", "UNSIGNED BIGINT": // unsigned BIGINT may exceed int64: exact text
		return TypeDecimal
	case "FLOAT", "DOUBLE":
		return TypeFloat
	case "DATE":
		return TypeDate
	case "DATETIME", "TIMESTAMP":
		return TypeDatetime
	case "JSON":
		return TypeJSON
	case "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "BINARY", "VARBINARY", "GEOMETRY", "BIT", "VECTOR":
		return TypeBytes
	case "NULL", "":
		return TypeUnknown
	}
	return TypeString
}

func (*mysqlDialect) classify(err error) classified {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		if errors.Is(err, mysql.ErrInvalidConn) {
			return classified{ReasonConnection, herald.CodeUnavailable, "connection lost"}
		}
		return classified{}
	}
	msg := me.Message + " (error " + strconv.Itoa(int(me.Number)) + ")"
	switch me.Number {
	case 1969, 3024: // max_statement_time (MariaDB), max_execution_time (MySQL) exceeded
		return classified{reason: ReasonTimeout}
	case 1317: // query interrupted
		return classified{ReasonCanceled, herald.CodeUnavailable, "query canceled"}
	case 1792, 1290, 1836: // read-only transaction, --read-only server
		return classified{ReasonPermission, herald.CodeForbidden, "writes are not allowed, queries run read-only: " + msg}
	case 1142, 1143, 1044, 1227, 1370: // table, column, database, privilege, routine access denied
		return classified{ReasonPermission, herald.CodeForbidden, "permission denied: " + msg}
	case 1045, 1698, 1251: // access denied for user, authentication protocol
		return classified{ReasonConnection, herald.CodeUnavailable, "authentication failed: " + msg}
	case 1049, 1040, 1053, 1203: // unknown database, too many connections, shutdown, max user connections
		return classified{ReasonConnection, herald.CodeUnavailable, msg}
	case 1205, 1213: // lock wait timeout, deadlock
		return classified{ReasonInternal, herald.CodeUnavailable, "the query conflicted with another transaction: " + msg}
	}
	if me.Number >= 2000 && me.Number < 3000 { // client-side errors
		return classified{ReasonConnection, herald.CodeUnavailable, msg}
	}
	return classified{ReasonQuery, herald.CodeInvalid, "query failed: " + msg}
}
