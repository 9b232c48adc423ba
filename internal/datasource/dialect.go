package datasource

import (
	"context"
	"database/sql"
	"time"
)

// dialect is what differs between database kinds. A dialect value belongs to
// one pool, so it may cache facts about its server.
type dialect interface {
	// style is how the driver spells placeholders.
	style() placeholderStyle
	// bindTime converts a date or datetime parameter for the driver.
	bindTime(t time.Time, date bool) any
	// open returns a pool for the DSN, set up for read-only use.
	open(dsn string) (*sql.DB, error)
	// serverTimeout reports whether begin sets a timeout on the server;
	// when not, the context alone enforces it.
	serverTimeout() bool
	// begin starts a read-only session with the statement timeout set on
	// the server where the server supports one.
	begin(ctx context.Context, db *sql.DB, timeout time.Duration) (*session, error)
	// columns describes a result's columns.
	columns(rows *sql.Rows) ([]Column, error)
	// classify sorts a driver error; a zero reason defers to the generic rules.
	classify(err error) classified
}

// session is a read-only unit of work: the report query runs on q, and
// release ends it (rolls back, returns the connection).
type session struct {
	q interface {
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	}
	release func() error
}

// baseColumns describes columns from database/sql's column types, mapping
// each database type name with typeOf.
func baseColumns(rows *sql.Rows, typeOf func(dbType string) ColumnType) ([]Column, error) {
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	cols := make([]Column, len(cts))
	for i, ct := range cts {
		nullable, ok := ct.Nullable()
		cols[i] = Column{
			Name:     ct.Name(),
			DBType:   ct.DatabaseTypeName(),
			Type:     typeOf(ct.DatabaseTypeName()),
			Nullable: nullable || !ok,
		}
	}
	return cols, nil
}
