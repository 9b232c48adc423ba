// Package datasource runs report queries against tenants' data sources: the
// built-in demo dataset and local SQLite files (modernc.org/sqlite),
// PostgreSQL (pgx) and MySQL or MariaDB (go-sql-driver/mysql).
//
// Every query runs read-only, under the data source's statement timeout
// (enforced by the server and by the context) and row cap, with :name
// parameters bound as driver placeholders, never interpolated. Results are
// streamed from the driver cursor as typed Go values. Connection strings are
// decrypted only inside the Runner and never appear in errors or logs; driver
// errors are translated into *herald.Error values with safe messages and a
// Reason (see Classify).
package datasource

import (
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// ColumnType is the portable type of a result column.
type ColumnType string

// Column types. Values of each type arrive from Rows.Values as:
//
//	string    string
//	int       int64
//	float     float64
//	decimal   string (exact decimal text such as "1234.50"; never rounded through float)
//	bool      bool
//	date      time.Time (midnight UTC)
//	datetime  time.Time (UTC)
//	json      json.RawMessage
//	bytes     []byte
//	unknown   any of the above, by the value's own type
//
// NULL is nil in every column.
const (
	TypeString   ColumnType = "string"
	TypeInt      ColumnType = "int"
	TypeFloat    ColumnType = "float"
	TypeDecimal  ColumnType = "decimal"
	TypeBool     ColumnType = "bool"
	TypeDate     ColumnType = "date"
	TypeDatetime ColumnType = "datetime"
	TypeJSON     ColumnType = "json"
	TypeBytes    ColumnType = "bytes"
	TypeUnknown  ColumnType = "unknown"
)

// Column describes one result column.
type Column struct {
	Name     string     // the name the query gave the column
	Type     ColumnType // the portable type
	DBType   string     // the database's own type name (e.g. NUMERIC, TINYINT(1), DECIMAL(10,2)); may be empty
	Nullable bool       // false only when the driver knows the column cannot be NULL
}

// Rows streams a query's result. It must be closed; Close ends the
// read-only transaction and releases the connection.
type Rows interface {
	// Columns describes the result columns; it is available before the first Next.
	Columns() []Column
	// Next advances to the next row. It returns false at the end of the
	// result, on error (see Err) and once the row cap is reached (see Truncated).
	Next() bool
	// Values returns the current row's values, typed as described on
	// ColumnType. The slice is the caller's to keep.
	Values() []any
	// Err returns the error that stopped iteration, as a *herald.Error.
	Err() error
	// Truncated reports whether rows beyond the row cap were left unread.
	Truncated() bool
	// Close releases the result. It is safe to call more than once.
	Close() error
}

// Request is one query to run.
type Request struct {
	// DataSource says where and how: kind, statement timeout, row cap and
	// the sealed DSN.
	DataSource *herald.DataSource
	// Query is the SQL text with :name placeholders.
	Query string
	// Params holds already-resolved values by name: nil, string, int64,
	// float64, bool, time.Time (a date or a datetime) or []string (a list).
	Params map[string]any
	// ParamTypes gives each parameter's declared type; it tells dates from
	// datetimes. A missing entry is inferred from the value.
	ParamTypes map[string]herald.ParamType
	// MaxRows caps the rows returned; 0 means the data source's RowCap. A
	// value above the data source's RowCap is lowered to it.
	MaxRows int
}

// Unsealer decrypts a sealed DSN bound to associated data. *seal.Box
// implements it.
type Unsealer interface {
	Open(sealed []byte, associated string) ([]byte, error)
}

// Config configures a Runner.
type Config struct {
	// Unsealer decrypts data sources' DSNs. Required for every kind but demo.
	Unsealer Unsealer
	// DemoPath is where the demo dataset file lives; it is built on first use.
	DemoPath string
	// AllowLocalPaths permits the sqlite kind (a file on this machine).
	AllowLocalPaths bool
	// Now is the clock; nil means time.Now. The demo dataset is anchored to it.
	Now func() time.Time
	// MaxOpenConns caps the connections of one data source's pool; 0 means 4.
	MaxOpenConns int
}
