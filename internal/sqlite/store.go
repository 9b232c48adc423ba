// Package sqlite is Herald's embedded store: the herald document contract
// on one SQLite database file (modernc.org/sqlite, pure Go, WAL mode).
//
// Records live in one generic table keyed by (kind, tenant, id), the way a
// Cosmos DB container keys items by partition and id, and every write is a
// single-row conditional statement, so nothing here relies on a multi-record
// transaction that the Cosmos adapter could not follow. Writes go through
// one connection (SQLite allows one writer at a time anyway); reads use a
// pool of read-only connections that run in parallel under WAL.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldreports/herald/internal/herald"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Store is the SQLite document store. It is safe for concurrent use.
type Store struct {
	write *sql.DB // one connection: SQLite serialises writers anyway
	read  *sql.DB // read-only connections, in parallel under WAL

	stmts stmts
	lists stmtCache

	closeOnce sync.Once
	closeErr  error
}

// stmts are the fixed statements, prepared once at Open.
type stmts struct {
	get        *sql.Stmt                 // read
	due        map[herald.Kind]*sql.Stmt // read, one per due kind
	create     *sql.Stmt                 // write
	replaceIf  *sql.Stmt                 // write
	replaceAny *sql.Stmt                 // write
	deleteIf   *sql.Stmt                 // write
	deleteAny  *sql.Stmt                 // write
	version    *sql.Stmt                 // write: disambiguates a write that changed nothing
}

// options are the knobs tests turn; Open uses defaultOptions.
type options struct {
	busyTimeout time.Duration // how long a statement waits for a lock held by another process
	readConns   int           // size of the read pool
}

func defaultOptions() options {
	return options{busyTimeout: 5 * time.Second, readConns: max(4, 2*runtime.GOMAXPROCS(0))}
}

// Open opens (creating it and its parent directories when needed) the
// database file at path and brings its schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, defaultOptions())
}

func open(ctx context.Context, path string, o options) (_ *Store, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, herald.Wrap(err, herald.CodeInvalid, "database path %q is not usable", path)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, herald.Wrap(err, herald.CodeUnavailable, "creating the directory of the database file")
	}
	s := &Store{lists: stmtCache{m: map[string]*sql.Stmt{}}}
	defer func() {
		if err != nil { // release what was opened (the named result is nil by now)
			_ = s.Close()
		}
	}()

	if s.write, err = sql.Open("sqlite", dsn(abs, o.busyTimeout, false)); err != nil {
		return nil, herald.Wrap(err, herald.CodeInternal, "opening the database")
	}
	s.write.SetMaxOpenConns(1)
	s.write.SetMaxIdleConns(1)
	s.write.SetConnMaxIdleTime(0)
	s.write.SetConnMaxLifetime(0)
	// The writer connects first and alone: it creates the file, switches it
	// to WAL and migrates it before any reader opens it.
	if err := s.write.PingContext(ctx); err != nil {
		return nil, translate(ctx, err, "opening the database file")
	}
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		return nil, herald.Wrap(err, herald.CodeInternal, "loading the database schema")
	}
	if err := migrate(ctx, s.write, ms); err != nil {
		return nil, translate(ctx, err, "migrating the database")
	}

	if s.read, err = sql.Open("sqlite", dsn(abs, o.busyTimeout, true)); err != nil {
		return nil, herald.Wrap(err, herald.CodeInternal, "opening the database")
	}
	s.read.SetMaxOpenConns(o.readConns)
	s.read.SetMaxIdleConns(o.readConns)
	s.read.SetConnMaxIdleTime(0)
	s.read.SetConnMaxLifetime(0)
	if err := s.prepare(ctx); err != nil {
		return nil, translate(ctx, err, "preparing statements")
	}
	return s, nil
}

// dsn builds the driver's connection string. Pragmas travel in the DSN so
// that every pooled connection gets them, not just the first one.
func dsn(path string, busyTimeout time.Duration, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "journal_size_limit(67108864)") // truncate the WAL to 64 MiB after a checkpoint
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter: file:///C:/...
	}
	// A file: URI percent-encodes the path, so a '?' or '#' in a directory
	// name cannot be mistaken for the start of the parameters.
	return (&url.URL{Scheme: "file", Path: p, RawQuery: q.Encode()}).String()
}

func (s *Store) prepare(ctx context.Context) error {
	const key = ` WHERE kind = ? AND tenant_id = ? AND id = ?`
	list := []struct {
		dst   **sql.Stmt
		db    *sql.DB
		query string
	}{
		{&s.stmts.get, s.read, `SELECT version, body FROM items` + key},
		{&s.stmts.create, s.write, `INSERT INTO items (kind, tenant_id, id, version, body) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`},
		{&s.stmts.replaceIf, s.write, `UPDATE items SET version = version + 1, body = ?` + key + ` AND version = ?
			RETURNING version`},
		{&s.stmts.replaceAny, s.write, `UPDATE items SET version = version + 1, body = ?` + key + ` RETURNING version`},
		{&s.stmts.deleteIf, s.write, `DELETE FROM items` + key + ` AND version = ?`},
		{&s.stmts.deleteAny, s.write, `DELETE FROM items` + key},
		{&s.stmts.version, s.write, `SELECT version FROM items` + key},
	}
	for _, p := range list {
		st, err := p.db.PrepareContext(ctx, p.query) //nolint:sqlclosecheck // kept in s.stmts, closed by Close
		if err != nil {
			return fmt.Errorf("preparing %q: %w", p.query, err)
		}
		*p.dst = st
	}
	s.stmts.due = map[herald.Kind]*sql.Stmt{}
	for _, kind := range herald.DueKinds() {
		st, err := s.read.PrepareContext(ctx, dueSQL(kind)) //nolint:sqlclosecheck // kept in s.stmts, closed by Close
		if err != nil {
			return fmt.Errorf("preparing the due query of %s: %w", kind, err)
		}
		s.stmts.due[kind] = st
	}
	return nil
}

// Close optimises the query planner's statistics and closes the database.
// It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		stmts := []*sql.Stmt{s.stmts.get, s.stmts.create, s.stmts.replaceIf,
			s.stmts.replaceAny, s.stmts.deleteIf, s.stmts.deleteAny, s.stmts.version}
		for _, st := range s.stmts.due {
			stmts = append(stmts, st)
		}
		for _, st := range stmts {
			if st != nil {
				errs = append(errs, st.Close())
			}
		}
		errs = append(errs, s.lists.close())
		if s.read != nil {
			errs = append(errs, s.read.Close())
		}
		if s.write != nil {
			// Recommended before closing a connection that has written: cheap,
			// and keeps the planner's statistics current.
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, _ = s.write.ExecContext(ctx, `PRAGMA optimize`)
			cancel()
			errs = append(errs, s.write.Close())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Ping checks that the database can be read and written.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return translate(ctx, err, "reaching the database")
	}
	if err := s.write.PingContext(ctx); err != nil {
		return translate(ctx, err, "reaching the database")
	}
	return nil
}

// Create stores a new item; CodeConflict when (kind, tenant, id) exists.
func (s *Store) Create(ctx context.Context, it herald.Item) (string, error) {
	if err := checkItem(it); err != nil {
		return "", err
	}
	// Versions start at a random value so that an ETag held from before a
	// delete never matches the record created again under the same id.
	version := rand.Int64N(1<<52) + 1 //nolint:gosec // uniqueness, not secrecy
	res, err := s.stmts.create.ExecContext(ctx, string(it.Kind), it.TenantID, it.ID, version, string(it.Body))
	if err != nil {
		return "", translate(ctx, err, "creating %s %s", it.Kind, it.ID)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return "", translate(ctx, err, "creating %s %s", it.Kind, it.ID)
	}
	if n == 0 {
		return "", herald.Errorf(herald.CodeConflict, "%s %s already exists", it.Kind, it.ID)
	}
	return formatETag(version), nil
}

// Get reads an item; CodeNotFound when it is absent in this tenant.
func (s *Store) Get(ctx context.Context, kind herald.Kind, tenantID, id string) (herald.Item, error) {
	if err := checkKey(kind, tenantID, id); err != nil {
		return herald.Item{}, err
	}
	it := herald.Item{Kind: kind, TenantID: tenantID, ID: id}
	var version int64
	var body []byte
	err := s.stmts.get.QueryRowContext(ctx, string(kind), tenantID, id).Scan(&version, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return herald.Item{}, notFound(kind, id)
	}
	if err != nil {
		return herald.Item{}, translate(ctx, err, "reading %s %s", kind, id)
	}
	it.ETag, it.Body = formatETag(version), body
	return it, nil
}

// Replace overwrites an existing item if its version is it.ETag ("" for any
// version) and returns the new ETag; CodeNotFound when the item is absent,
// CodePreconditionFailed when it has changed since it.ETag was read.
func (s *Store) Replace(ctx context.Context, it herald.Item) (string, error) {
	if err := checkItem(it); err != nil {
		return "", err
	}
	var version int64
	var err error
	if it.ETag == "" {
		err = s.stmts.replaceAny.QueryRowContext(ctx, string(it.Body), string(it.Kind), it.TenantID, it.ID).Scan(&version)
	} else {
		err = s.stmts.replaceIf.QueryRowContext(ctx, string(it.Body), string(it.Kind), it.TenantID, it.ID,
			parseETag(it.ETag)).Scan(&version)
	}
	switch {
	case err == nil:
		return formatETag(version), nil
	case !errors.Is(err, sql.ErrNoRows):
		return "", translate(ctx, err, "replacing %s %s", it.Kind, it.ID)
	case it.ETag == "":
		return "", notFound(it.Kind, it.ID)
	default:
		return "", s.missingOrStale(ctx, it.Kind, it.TenantID, it.ID)
	}
}

// Delete removes an item if its version is ifETag ("" for any version).
func (s *Store) Delete(ctx context.Context, kind herald.Kind, tenantID, id, ifETag string) error {
	if err := checkKey(kind, tenantID, id); err != nil {
		return err
	}
	var res sql.Result
	var err error
	if ifETag == "" {
		res, err = s.stmts.deleteAny.ExecContext(ctx, string(kind), tenantID, id)
	} else {
		res, err = s.stmts.deleteIf.ExecContext(ctx, string(kind), tenantID, id, parseETag(ifETag))
	}
	if err != nil {
		return translate(ctx, err, "deleting %s %s", kind, id)
	}
	n, err := res.RowsAffected()
	switch {
	case err != nil:
		return translate(ctx, err, "deleting %s %s", kind, id)
	case n > 0:
		return nil
	case ifETag == "":
		return notFound(kind, id)
	default:
		return s.missingOrStale(ctx, kind, tenantID, id)
	}
}

// missingOrStale explains why a conditional write changed no row: the item
// is absent (CodeNotFound) or at another version (CodePreconditionFailed).
func (s *Store) missingOrStale(ctx context.Context, kind herald.Kind, tenantID, id string) error {
	var version int64
	err := s.stmts.version.QueryRowContext(ctx, string(kind), tenantID, id).Scan(&version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return notFound(kind, id)
	case err != nil:
		return translate(ctx, err, "reading %s %s", kind, id)
	default:
		return herald.Errorf(herald.CodePreconditionFailed,
			"%s %s was changed by someone else; read it again and retry", kind, id)
	}
}

func notFound(kind herald.Kind, id string) error {
	return herald.Errorf(herald.CodeNotFound, "%s %s not found", kind, id)
}

// formatETag and parseETag keep the version opaque to callers. A malformed
// ETag parses to 0, which no row has (versions start at 1).
func formatETag(version int64) string { return strconv.FormatInt(version, 10) }

func parseETag(etag string) int64 {
	v, err := strconv.ParseInt(etag, 10, 64)
	if err != nil || v < 1 {
		return 0
	}
	return v
}

// Limits on what a store accepts.
const (
	maxIDLen     = 256
	maxBodyBytes = herald.MaxItemBytes
)

// checkKey validates an item key before it reaches SQL. Kinds are also
// written into list queries as literals, so they are held to a strict shape.
func checkKey(kind herald.Kind, tenantID, id string) error {
	var p herald.Problems
	if !validKind(kind) {
		p.Add("kind", "must be 1-32 lowercase letters or digits, starting with a letter")
	}
	if !herald.ValidTenantID(tenantID) {
		p.Add("tenantId", "is not a valid tenant id")
	}
	if id == "" || len(id) > maxIDLen || strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		p.Add("id", "must be 1-%d characters without control characters", maxIDLen)
	}
	return p.Err("item key")
}

func validKind(k herald.Kind) bool {
	if k == "" || len(k) > 32 || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for _, c := range []byte(k) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// checkItem validates the key and the body of an item to write.
func checkItem(it herald.Item) error {
	if err := checkKey(it.Kind, it.TenantID, it.ID); err != nil {
		return err
	}
	if len(it.Body) > maxBodyBytes {
		return herald.Errorf(herald.CodeTooLarge, "%s %s is larger than %d bytes", it.Kind, it.ID, maxBodyBytes)
	}
	i := 0
	for i < len(it.Body) && (it.Body[i] == ' ' || it.Body[i] == '\t' || it.Body[i] == '\r' || it.Body[i] == '\n') {
		i++
	}
	if i == len(it.Body) || it.Body[i] != '{' || !json.Valid(it.Body) {
		return herald.Errorf(herald.CodeInvalid, "%s %s: the body must be a JSON object", it.Kind, it.ID)
	}
	return nil
}

// WriteBatch applies independent creates and conditional replaces in one
// transaction, for throughput: each write keeps the semantics of its single
// call and its own result (a conflict or a stale ETag fails that write
// only). Should the transaction itself fail, nothing is written and the
// error is returned for the whole batch.
func (s *Store) WriteBatch(ctx context.Context, writes []herald.Write) ([]herald.WriteResult, error) {
	if len(writes) > herald.MaxBatch {
		return nil, herald.Errorf(herald.CodeInvalid, "a batch holds at most %d writes", herald.MaxBatch)
	}
	results := make([]herald.WriteResult, len(writes))
	if len(writes) == 0 {
		return results, nil
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, translate(ctx, err, "starting a batch")
	}
	defer func() { _ = tx.Rollback() }()
	st := batchStmts{
		create: tx.StmtContext(ctx, s.stmts.create), replaceIf: tx.StmtContext(ctx, s.stmts.replaceIf),
		replaceAny: tx.StmtContext(ctx, s.stmts.replaceAny), version: tx.StmtContext(ctx, s.stmts.version),
	}
	for i, w := range writes {
		if err := checkItem(w.Item); err != nil {
			results[i].Err = err
			continue
		}
		if w.Replace {
			results[i] = st.replace(ctx, w.Item)
		} else {
			results[i] = st.createOne(ctx, w.Item)
		}
		if results[i].Err != nil && !isItemOutcome(results[i].Err) {
			return nil, results[i].Err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, translate(ctx, err, "committing a batch")
	}
	return results, nil
}

// isItemOutcome tells a write's own failure (the batch goes on) from a
// failure of the store (the batch stops).
func isItemOutcome(err error) bool {
	switch herald.CodeOf(err) {
	case herald.CodeConflict, herald.CodePreconditionFailed, herald.CodeNotFound, herald.CodeInvalid, herald.CodeTooLarge:
		return true
	}
	return false
}

// batchStmts are the write statements bound to a batch's transaction.
type batchStmts struct{ create, replaceIf, replaceAny, version *sql.Stmt }

func (b batchStmts) createOne(ctx context.Context, it herald.Item) herald.WriteResult {
	version := rand.Int64N(1<<52) + 1 //nolint:gosec // uniqueness, not secrecy
	res, err := b.create.ExecContext(ctx, string(it.Kind), it.TenantID, it.ID, version, string(it.Body))
	if err != nil {
		return herald.WriteResult{Err: translate(ctx, err, "creating %s %s", it.Kind, it.ID)}
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return herald.WriteResult{Err: translate(ctx, err, "creating %s %s", it.Kind, it.ID)}
		}
		return herald.WriteResult{Err: herald.Errorf(herald.CodeConflict, "%s %s already exists", it.Kind, it.ID)}
	}
	return herald.WriteResult{ETag: formatETag(version)}
}

func (b batchStmts) replace(ctx context.Context, it herald.Item) herald.WriteResult {
	var version int64
	var err error
	if it.ETag == "" {
		err = b.replaceAny.QueryRowContext(ctx, string(it.Body), string(it.Kind), it.TenantID, it.ID).Scan(&version)
	} else {
		err = b.replaceIf.QueryRowContext(ctx, string(it.Body), string(it.Kind), it.TenantID, it.ID, parseETag(it.ETag)).Scan(&version)
	}
	switch {
	case err == nil:
		return herald.WriteResult{ETag: formatETag(version)}
	case !errors.Is(err, sql.ErrNoRows):
		return herald.WriteResult{Err: translate(ctx, err, "replacing %s %s", it.Kind, it.ID)}
	case it.ETag == "":
		return herald.WriteResult{Err: notFound(it.Kind, it.ID)}
	}
	err = b.version.QueryRowContext(ctx, string(it.Kind), it.TenantID, it.ID).Scan(&version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return herald.WriteResult{Err: notFound(it.Kind, it.ID)}
	case err != nil:
		return herald.WriteResult{Err: translate(ctx, err, "reading %s %s", it.Kind, it.ID)}
	default:
		return herald.WriteResult{Err: herald.Errorf(herald.CodePreconditionFailed, "%s %s was changed by someone else; read it again and retry", it.Kind, it.ID)}
	}
}
