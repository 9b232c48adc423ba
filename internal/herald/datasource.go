package herald

import (
	"time"
	"unicode/utf8"
)

// DataSourceKind says which query runner serves a data source.
type DataSourceKind string

// Data source kinds.
const (
	DataSourceDemo     DataSourceKind = "demo"     // the built-in demo dataset; no DSN
	DataSourceSQLite   DataSourceKind = "sqlite"   // a local database file, where the operator allows it
	DataSourcePostgres DataSourceKind = "postgres" // PostgreSQL
	DataSourceMySQL    DataSourceKind = "mysql"    // MySQL or MariaDB
)

// Valid reports whether k is a known kind.
func (k DataSourceKind) Valid() bool {
	switch k {
	case DataSourceDemo, DataSourceSQLite, DataSourcePostgres, DataSourceMySQL:
		return true
	}
	return false
}

// NeedsDSN reports whether the kind needs a connection string.
func (k DataSourceKind) NeedsDSN() bool { return k != DataSourceDemo }

// DSNSealContext is the associated data a data source's DSN is sealed
// with: it binds the sealed value to its record, so that a value copied
// into another record (or tenant) does not open.
func DSNSealContext(tenantID, dataSourceID string) string {
	return "herald/datasource/" + tenantID + "/" + dataSourceID + "/dsn"
}

// Data source limits and defaults.
const (
	DefaultStatementTimeout = 5 * time.Minute
	MaxStatementTimeout     = 2 * time.Hour
	DefaultRowCap           = 1_000_000
	MaxRowCap               = 50_000_000
	MaxDSNLen               = 4096
)

// DataSource is a database a tenant's reports query. The DSN is held only
// sealed (encrypted); the API never returns it.
type DataSource struct {
	Meta
	Name             string         `json:"name"`
	Description      string         `json:"description,omitempty"`
	SourceKind       DataSourceKind `json:"kind"`
	SealedDSN        []byte         `json:"sealedDsn,omitempty"`
	StatementTimeout Duration       `json:"statementTimeout"`
	RowCap           int            `json:"rowCap"`
}

// Kind implements Record.
func (*DataSource) Kind() Kind { return KindDataSource }

// Normalize fills defaults.
func (d *DataSource) Normalize() {
	if d.StatementTimeout == 0 {
		d.StatementTimeout = Duration(DefaultStatementTimeout)
	}
	if d.RowCap == 0 {
		d.RowCap = DefaultRowCap
	}
}

// Validate checks the data source. dsn is the plain connection string given
// with this change ("" when it is not being changed); hasDSN tells whether
// one is already stored.
func (d *DataSource) Validate(dsn string, hasDSN bool) error {
	var p Problems
	checkName(&p, "name", d.Name)
	checkText(&p, "description", d.Description, MaxDescriptionLen)
	switch {
	case !d.SourceKind.Valid():
		p.Add("kind", "must be one of demo, sqlite, postgres, mysql")
	case d.SourceKind.NeedsDSN() && dsn == "" && !hasDSN:
		p.Add("dsn", "is required for kind %s", d.SourceKind)
	case !d.SourceKind.NeedsDSN() && dsn != "":
		p.Add("dsn", "must be empty for kind %s", d.SourceKind)
	}
	switch {
	case len(dsn) > MaxDSNLen:
		p.Add("dsn", "must be at most %d bytes", MaxDSNLen)
	case dsn != "" && (!utf8.ValidString(dsn) || hasControl(dsn)):
		p.Add("dsn", "must be printable UTF-8 text")
	}
	if t := d.StatementTimeout.Std(); t < time.Second || t > MaxStatementTimeout {
		p.Add("statementTimeout", "must be between 1s and %s", MaxStatementTimeout)
	}
	if d.RowCap < 1 || d.RowCap > MaxRowCap {
		p.Add("rowCap", "must be between 1 and %d", MaxRowCap)
	}
	return p.Err("data source")
}
