package datasource

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/heraldreports/herald/internal/herald"
)

// postgresDialect runs queries on PostgreSQL through pgx (see pgdriver.go). Each query runs in BEGIN READ ONLY with a transaction-local
// statement_timeout; sessions also default to read-only transactions, and
// the extended protocol is forced so one query string is one statement.
type postgresDialect struct{}

func (*postgresDialect) serverTimeout() bool { return true }

func (*postgresDialect) style() placeholderStyle { return dollarPlaceholders }

func (*postgresDialect) bindTime(t time.Time, date bool) any {
	if date {
		return dateOf(t)
	}
	return t.UTC()
}

func (*postgresDialect) open(dsn string) (*sql.DB, error) {
	if pgLocalFileKey.MatchString(dsn) {
		return nil, errDSNLocalFiles
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, errInvalidDSN
	}
	if !pgDSNHasPassword(dsn) {
		// ParseConfig fills a missing password from PGPASSWORD or a
		// .pgpass file: those are this server's, never a tenant's.
		cfg.Password = ""
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "herald"
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	if cfg.DefaultQueryExecMode == pgx.QueryExecModeSimpleProtocol {
		// The simple protocol runs several ';'-separated statements (and
		// interpolates values); the extended protocol runs exactly one.
		cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	return sql.OpenDB(&pgConnector{cfg: cfg}), nil
}

var (
	pgPasswordKeyword = regexp.MustCompile(`(?i)(^|\s)password\s*=`)
	// pgLocalFileKey finds settings that make pgx read this server's files
	// (a password file, a service file), in keyword or URL form.
	pgLocalFileKey = regexp.MustCompile(`(?i)(^|[\s?&])(passfile|service|servicefile)\s*=`)
)

// pgDSNHasPassword reports whether the DSN itself carries a password.
func pgDSNHasPassword(dsn string) bool {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return true
		}
		if _, ok := u.User.Password(); ok {
			return true
		}
		return u.Query().Has("password")
	}
	return pgPasswordKeyword.MatchString(dsn)
}

func (*postgresDialect) begin(ctx context.Context, db *sql.DB, timeout time.Duration) (*session, error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	ms := strconv.FormatInt(max(timeout.Milliseconds(), 1), 10)
	if _, err := tx.ExecContext(ctx, "SELECT set_config('statement_timeout', $1, true)", ms); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	return &session{q: tx, release: tx.Rollback}, nil
}

func (*postgresDialect) columns(rows *sql.Rows) ([]Column, error) {
	return baseColumns(rows, postgresType)
}

// postgresType maps pgx's type names. Types it does not list arrive from
// the driver as text.
func postgresType(name string) ColumnType {
	switch name {
	case "INT2", "INT4", "INT8", "OID", "XID", "CID":
		return TypeInt
	case "FLOAT4", "FLOAT8":
		return TypeFloat
	case "NUMERIC":
		return TypeDecimal
	case "BOOL":
		return TypeBool
	case "DATE":
		return TypeDate
	case "TIMESTAMP", "TIMESTAMPTZ":
		return TypeDatetime
	case "JSON", "JSONB":
		return TypeJSON
	case "BYTEA":
		return TypeBytes
	}
	return TypeString
}

func (*postgresDialect) classify(err error) classified {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return classifyPgError(pgErr)
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		c := classifyGeneric(err)
		if c.reason != ReasonConnection {
			c = classified{ReasonConnection, herald.CodeUnavailable, ""}
		}
		return c
	}
	if pgconn.Timeout(err) {
		return classified{reason: ReasonTimeout}
	}
	if strings.Contains(err.Error(), "failed to encode args") { // pgx: a value that does not fit its placeholder's type
		return classified{ReasonQuery, herald.CodeInvalid, "a parameter does not fit the query: " + err.Error()}
	}
	return classified{}
}

// classifyPgError sorts a server error by SQLSTATE. Query errors show the
// server's message, which is about the query.
func classifyPgError(e *pgconn.PgError) classified {
	msg := e.Message
	if e.Hint != "" {
		msg += " (hint: " + e.Hint + ")"
	}
	msg += " (SQLSTATE " + e.Code + ")"
	switch class := e.Code[:min(2, len(e.Code))]; {
	case e.Code == "57014" && strings.Contains(e.Message, "statement timeout"):
		return classified{reason: ReasonTimeout}
	case e.Code == "57014":
		return classified{ReasonCanceled, herald.CodeUnavailable, "query canceled"}
	case e.Code == "25006":
		return classified{ReasonPermission, herald.CodeForbidden, "writes are not allowed, queries run read-only: " + msg}
	case e.Code == "42501":
		return classified{ReasonPermission, herald.CodeForbidden, "permission denied: " + msg}
	case class == "28":
		return classified{ReasonConnection, herald.CodeUnavailable, "authentication failed: " + msg}
	case e.Code == "3D000":
		return classified{ReasonConnection, herald.CodeUnavailable, msg}
	case class == "08", class == "53", class == "57":
		return classified{ReasonConnection, herald.CodeUnavailable, "the database is unavailable: " + msg}
	case class == "40":
		return classified{ReasonInternal, herald.CodeUnavailable, "the query conflicted with another transaction: " + msg}
	case class == "XX":
		return classified{ReasonInternal, herald.CodeInternal, "the database reported an internal error: " + msg}
	}
	return classified{ReasonQuery, herald.CodeInvalid, "query failed: " + msg}
}
