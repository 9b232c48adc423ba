package datasource

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/seal"
)

// testTenant owns every test data source.
const testTenant = "tn_test"

// testBox seals test DSNs with the real AES-GCM sealer, bound to their record.
var testBox = func() *seal.Box {
	b, err := seal.New(bytes.Repeat([]byte{42}, seal.KeySize))
	if err != nil {
		panic(err)
	}
	return b
}()

func sealDSN(tenantID, dsID, dsn string) []byte {
	sealed, err := testBox.Seal([]byte(dsn), herald.DSNSealContext(tenantID, dsID))
	if err != nil {
		panic(err)
	}
	return sealed
}

var dsCounter atomic.Int64

// newDS returns a data source with a fresh id.
func newDS(kind herald.DataSourceKind, dsn string, timeout time.Duration, rowCap int) *herald.DataSource {
	id := fmt.Sprintf("ds_%d", dsCounter.Add(1))
	ds := &herald.DataSource{
		Meta:             herald.Meta{ID: id, TenantID: testTenant},
		Name:             "test " + id,
		SourceKind:       kind,
		StatementTimeout: herald.Duration(timeout),
		RowCap:           rowCap,
	}
	if dsn != "" {
		ds.SealedDSN = sealDSN(testTenant, id, dsn)
	}
	return ds
}

// testNow anchors the demo dataset in tests.
var testNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func newTestRunner(t testing.TB, demoPath string) *Runner {
	t.Helper()
	r := NewRunner(Config{
		Unsealer:        testBox,
		DemoPath:        demoPath,
		AllowLocalPaths: true,
		Now:             func() time.Time { return testNow },
	})
	t.Cleanup(func() { require.NoError(t, r.Close()) })
	return r
}

// collect reads every row.
func collect(t testing.TB, rows Rows) [][]any {
	t.Helper()
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		out = append(out, rows.Values())
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	return out
}

// query runs a query and returns its columns and rows.
func query(t testing.TB, r *Runner, req Request) ([]Column, [][]any) {
	t.Helper()
	rows, err := r.Query(context.Background(), req)
	require.NoError(t, err)
	cols := rows.Columns()
	return cols, collect(t, rows)
}

// requireService skips a test whose service is unreachable, loudly, or
// fails it when CI=true.
func requireService(t testing.TB, name string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required when CI=true but is not reachable: %v", name, err)
	}
	t.Skipf("!!! SKIPPED: %s is not reachable (%v). Integration tests did not run; set CI=true to make this a failure.", name, err)
}

// assertCode checks an error's herald code and reason.
func assertCode(t testing.TB, err error, code herald.Code, reason Reason) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, herald.CodeOf(err), "error: %v", err)
	require.Equal(t, reason, Classify(err), "error: %v", err)
}

// shared is one demo dataset for the tests that only read it: building
// one takes about 3 s under the race detector.
var shared struct {
	once      sync.Once
	dir, path string
	err       error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// sharedDemo returns the path of the shared demo dataset, built for testNow.
func sharedDemo(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "herald-demo-test-")
		if shared.err == nil {
			shared.path = filepath.Join(shared.dir, "demo.db")
			shared.err = EnsureDemo(context.Background(), shared.path, testNow)
		}
	})
	require.NoError(t, shared.err)
	return shared.path
}

// demoFile returns a path for a demo dataset of the test's own.
func demoFile(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "demo", "demo.db")
}
