package datasource

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"

	"github.com/heraldreports/herald/internal/herald"
)

// Pool limits. Each data source gets its own small pool; idle connections
// are closed after a while so that many rarely used data sources cost
// nothing.
const (
	defaultMaxOpenConns = 4
	maxIdleConns        = 2
	connMaxIdleTime     = 5 * time.Minute
	connMaxLifetime     = 30 * time.Minute
	// maxPools bounds the cached pools; the least recently used is closed
	// beyond it.
	maxPools = 256
	// timeoutGrace lets a server's statement timeout fire before the
	// context's, so that the server reports the timeout and the connection
	// stays usable; the context still bounds everything (connecting,
	// session setup, streaming the rows). SQLite has only the context.
	timeoutGrace = time.Second
	// connectTimeout bounds establishing one connection when the DSN sets none.
	connectTimeout = 15 * time.Second
)

// Runner runs report queries. It caches one connection pool per data
// source (keyed by tenant, data source id and a hash of the DSN), never
// sharing connections between data sources. It is safe for concurrent use.
type Runner struct {
	cfg    Config
	sqlite *sqlite.Driver // this runner's SQLite driver, with the read-only authorizer hook

	mu     sync.Mutex
	pools  map[string]*pool
	closed bool

	demoMu  sync.Mutex
	demoDay string // the UTC day the demo dataset was last ensured for
}

// pool is one data source's *sql.DB.
type pool struct {
	key      string // tenant/data source
	hash     string // of the kind and DSN
	db       *sql.DB
	dialect  dialect
	secrets  []string
	lastUsed time.Time
}

// NewRunner returns a Runner. Close it to close its pools.
func NewRunner(cfg Config) *Runner {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxOpenConns <= 0 {
		cfg.MaxOpenConns = defaultMaxOpenConns
	}
	drv := &sqlite.Driver{}
	drv.RegisterConnectionHook(installReadOnlyAuthorizer)
	return &Runner{cfg: cfg, sqlite: drv, pools: map[string]*pool{}}
}

// Query runs req read-only and returns its rows, streamed from the driver.
// The statement timeout covers connecting, running the query and reading
// the rows: Close the Rows promptly. Errors are *herald.Error (see Classify).
func (r *Runner) Query(ctx context.Context, req Request) (Rows, error) {
	ds := req.DataSource
	if ds == nil {
		return nil, herald.Errorf(herald.CodeInternal, "query without a data source")
	}
	if strings.TrimSpace(req.Query) == "" {
		return nil, herald.Errorf(herald.CodeInvalid, "the query is empty")
	}
	maxRows, err := rowLimit(req.MaxRows, ds.RowCap)
	if err != nil {
		return nil, err
	}
	p, err := r.pool(ctx, ds)
	if err != nil {
		return nil, err
	}
	bindings, err := bindParams(req.Query, req.Params, req.ParamTypes, p.dialect.bindTime)
	if err != nil {
		return nil, err
	}
	q, args, err := rewriteNamed(req.Query, p.dialect.style(), bindings)
	if err != nil {
		return nil, err
	}
	timeout := statementTimeout(ds)
	m := &errorMapper{dialect: p.dialect, secrets: p.secrets, timeout: timeout}
	deadline := timeout
	if p.dialect.serverTimeout() {
		deadline += timeoutGrace
	}
	qctx, cancel := context.WithTimeout(ctx, deadline)
	sess, err := p.dialect.begin(qctx, p.db, timeout)
	if err != nil {
		cancel()
		return nil, m.mapErr(ctx, qctx, stageConnect, err)
	}
	rows, err := sess.q.QueryContext(qctx, q, args...)
	if err != nil {
		_ = sess.release()
		cancel()
		return nil, m.mapErr(ctx, qctx, stageQuery, err)
	}
	out, err := newRows(rows, p.dialect, maxRows,
		func(e error) error { return m.mapErr(ctx, qctx, stageQuery, e) }, sess.release, cancel)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TestConnection connects to ds and runs SELECT 1 in the same read-only
// session setup as Query, within the statement timeout.
func (r *Runner) TestConnection(ctx context.Context, ds *herald.DataSource) error {
	if ds == nil {
		return herald.Errorf(herald.CodeInternal, "test of a nil data source")
	}
	rows, err := r.Query(ctx, Request{DataSource: ds, Query: "SELECT 1", MaxRows: 1})
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() { //nolint:revive // drain the one row
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// Close closes every pool. It waits for open Rows to be closed.
func (r *Runner) Close() error {
	r.mu.Lock()
	pools := r.pools
	r.pools = map[string]*pool{}
	r.closed = true
	r.mu.Unlock()
	var errs []error
	for _, p := range pools {
		if err := p.db.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return herald.Wrap(&failure{reason: ReasonInternal, text: err.Error()}, herald.CodeInternal, "closing data source pools")
	}
	return nil
}

// pool returns the pool for ds, opening it on first use or when the DSN changed.
func (r *Runner) pool(ctx context.Context, ds *herald.DataSource) (*pool, error) {
	dsn, salt, err := r.dsn(ctx, ds)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(string(ds.SourceKind) + "\x00" + dsn + "\x00" + salt))
	hash := hex.EncodeToString(sum[:])
	key := ds.TenantID + "/" + ds.ID

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, herald.Errorf(herald.CodeUnavailable, "the query runner is closed")
	}
	now := r.cfg.Now()
	if p, ok := r.pools[key]; ok {
		if p.hash == hash {
			p.lastUsed = now
			return p, nil
		}
		delete(r.pools, key)
		go p.db.Close() // the DSN changed; in-flight queries finish on the old pool
	}
	p, err := r.open(ds.SourceKind, dsn)
	if err != nil {
		return nil, err
	}
	p.key, p.hash, p.lastUsed = key, hash, now
	r.pools[key] = p
	r.evictLocked()
	return p, nil
}

func (r *Runner) evictLocked() {
	if len(r.pools) <= maxPools {
		return
	}
	all := make([]*pool, 0, len(r.pools))
	for _, p := range r.pools {
		all = append(all, p)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].lastUsed.Before(all[j].lastUsed) })
	for _, p := range all[:len(all)-maxPools] {
		delete(r.pools, p.key)
		go p.db.Close() // waits for the pool's open rows
	}
}

// dsn returns the data source's plain connection string (the demo file
// path for the demo kind) and a salt for the pool key: the demo dataset's
// day, so that a rebuilt dataset gets fresh connections.
func (r *Runner) dsn(ctx context.Context, ds *herald.DataSource) (dsn, salt string, err error) {
	switch ds.SourceKind {
	case herald.DataSourceDemo:
		day, err := r.ensureDemo(ctx)
		return r.cfg.DemoPath, day, err
	case herald.DataSourceSQLite:
		if !r.cfg.AllowLocalPaths {
			return "", "", herald.Errorf(herald.CodeForbidden, "local SQLite files are not allowed on this server")
		}
	case herald.DataSourcePostgres, herald.DataSourceMySQL:
	default:
		return "", "", herald.Errorf(herald.CodeInvalid, "unknown data source kind %q", ds.SourceKind)
	}
	if len(ds.SealedDSN) == 0 {
		return "", "", herald.Errorf(herald.CodeInvalid, "the data source has no connection string")
	}
	if r.cfg.Unsealer == nil {
		return "", "", herald.Errorf(herald.CodeInternal, "no key is configured to decrypt connection strings")
	}
	plain, err := r.cfg.Unsealer.Open(ds.SealedDSN, herald.DSNSealContext(ds.TenantID, ds.ID))
	if err != nil {
		return "", "", herald.Wrap(&failure{reason: ReasonInternal, text: "unseal failed"}, herald.CodeInternal,
			"the data source's connection string cannot be decrypted")
	}
	dsn = string(plain)
	clear(plain)
	return dsn, "", nil
}

// ensureDemo builds the demo dataset once per UTC day of the runner's
// clock and returns that day.
func (r *Runner) ensureDemo(ctx context.Context) (string, error) {
	if r.cfg.DemoPath == "" {
		return "", herald.Errorf(herald.CodeInternal, "the demo dataset is not configured")
	}
	now := r.cfg.Now()
	day := now.UTC().Format(time.DateOnly)
	r.demoMu.Lock()
	defer r.demoMu.Unlock()
	if r.demoDay == day {
		return day, nil
	}
	if err := EnsureDemo(ctx, r.cfg.DemoPath, now); err != nil {
		if ctx.Err() != nil {
			return "", herald.Wrap(&failure{reason: ReasonCanceled, text: err.Error(), sentinel: context.Canceled},
				herald.CodeUnavailable, "query canceled")
		}
		return "", herald.Wrap(&failure{reason: ReasonInternal, text: err.Error()}, herald.CodeInternal, "building the demo dataset failed")
	}
	r.demoDay = day
	return day, nil
}

// open builds a pool for one kind and DSN.
func (r *Runner) open(kind herald.DataSourceKind, dsn string) (*pool, error) {
	var d dialect
	switch kind {
	case herald.DataSourceDemo, herald.DataSourceSQLite:
		d = &sqliteDialect{driver: r.sqlite}
	case herald.DataSourcePostgres:
		d = &postgresDialect{}
	case herald.DataSourceMySQL:
		d = &mysqlDialect{}
	default:
		return nil, herald.Errorf(herald.CodeInvalid, "unknown data source kind %q", kind)
	}
	secrets := secretsOf(dsn)
	db, err := d.open(dsn)
	if err != nil {
		m := &errorMapper{dialect: d, secrets: secrets}
		return nil, m.mapErr(context.Background(), context.Background(), stageConnect, err)
	}
	db.SetMaxOpenConns(r.cfg.MaxOpenConns)
	db.SetMaxIdleConns(min(maxIdleConns, r.cfg.MaxOpenConns))
	db.SetConnMaxIdleTime(connMaxIdleTime)
	db.SetConnMaxLifetime(connMaxLifetime)
	return &pool{db: db, dialect: d, secrets: secrets}, nil
}

func statementTimeout(ds *herald.DataSource) time.Duration {
	if t := ds.StatementTimeout.Std(); t > 0 {
		return t
	}
	return herald.DefaultStatementTimeout
}

func rowLimit(maxRows, rowCap int) (int, error) {
	if maxRows < 0 {
		return 0, herald.Errorf(herald.CodeInvalid, "maxRows must not be negative")
	}
	if rowCap <= 0 {
		rowCap = herald.DefaultRowCap
	}
	if maxRows == 0 || maxRows > rowCap {
		return rowCap, nil
	}
	return maxRows, nil
}
