package datasource

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// demoDigest hashes every table's rows in a fixed order.
func demoDigest(t *testing.T, r *Runner, ds *herald.DataSource) string {
	t.Helper()
	h := sha256.New()
	for _, q := range []string{
		"SELECT * FROM customers ORDER BY id",
		"SELECT * FROM products ORDER BY id",
		"SELECT * FROM orders ORDER BY id",
		"SELECT * FROM order_items ORDER BY order_id, product_id",
	} {
		_, rows := query(t, r, Request{DataSource: ds, Query: q})
		for _, row := range rows {
			fmt.Fprintf(h, "%v\n", row)
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestEnsureDemoBuildsTablesAndViews(t *testing.T) {
	path := sharedDemo(t)
	info, err := os.Stat(path)
	require.NoError(t, err)
	t.Logf("demo dataset size: %d bytes", info.Size())
	assert.Less(t, info.Size(), int64(8<<20), "the demo file should be a few MB at most")

	r := newTestRunner(t, path)
	ds := newDS(herald.DataSourceDemo, "", time.Minute, 0)
	_, counts := query(t, r, Request{DataSource: ds, Query: `SELECT
		(SELECT COUNT(*) FROM customers), (SELECT COUNT(*) FROM products),
		(SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM order_items),
		(SELECT MIN(ordered_at) FROM orders), (SELECT MAX(ordered_at) FROM orders)`})
	require.Len(t, counts, 1)
	c := counts[0]
	assert.Equal(t, int64(demoCustomerCount), c[0])
	assert.Equal(t, int64(60), c[1])
	assert.Equal(t, int64(demoOrderCount), c[2])
	assert.InDelta(t, 12000, c[3], 1500, "about 12,000 order items")
	first, last := c[4].(time.Time), c[5].(time.Time)
	today := testNow.UTC().Truncate(24 * time.Hour)
	assert.False(t, first.Before(today.AddDate(0, 0, -demoDays)), "first order %v", first)
	assert.True(t, last.Before(today), "last order %v must be before now's day", last)
	assert.True(t, last.After(today.AddDate(0, 0, -3)), "orders reach the last days: %v", last)

	// Every order's total equals its items.
	_, bad := query(t, r, Request{DataSource: ds, Query: `SELECT o.id FROM orders o
		JOIN (SELECT order_id, ROUND(SUM(quantity * unit_price), 2) AS s FROM order_items GROUP BY order_id) i ON i.order_id = o.id
		WHERE ABS(o.total - i.s) > 0.001`})
	assert.Empty(t, bad)
	// Customers sign up before they order.
	_, early := query(t, r, Request{DataSource: ds, Query: `SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.ordered_at < c.created_at`})
	assert.Empty(t, early)

	for _, view := range []string{"daily_sales", "sales_by_region", "product_sales", "customer_summary"} {
		cols, rows := query(t, r, Request{DataSource: ds, Query: "SELECT * FROM " + view + " LIMIT 5"})
		assert.Len(t, rows, 5, view)
		assert.NotEmpty(t, cols, view)
	}
	cols, rows := query(t, r, Request{DataSource: ds, Query: "SELECT day, orders, revenue FROM daily_sales ORDER BY day DESC LIMIT 1"})
	assert.Equal(t, []ColumnType{TypeDate, TypeInt, TypeFloat}, []ColumnType{cols[0].Type, cols[1].Type, cols[2].Type})
	assert.IsType(t, time.Time{}, rows[0][0])
}

func TestDemoIsDeterministicPerDay(t *testing.T) {
	t.Parallel()
	a, b := generateDemo(testNow), generateDemo(testNow.Add(5*time.Hour))
	assert.Equal(t, a, b, "same day, same data")
	c := generateDemo(testNow.AddDate(0, 0, 1))
	assert.NotEqual(t, a.orders, c.orders, "another day, other data")

	// Two files built for the same day hold the same rows.
	p1, p2 := sharedDemo(t), demoFile(t) // p1 was built at testNow
	require.NoError(t, EnsureDemo(context.Background(), p2, testNow.Add(time.Hour)))
	r := newTestRunner(t, p1)
	r2 := newTestRunner(t, p2)
	ds := newDS(herald.DataSourceDemo, "", time.Minute, 0)
	assert.Equal(t, demoDigest(t, r, ds), demoDigest(t, r2, ds))
}

func TestEnsureDemoIsIdempotent(t *testing.T) {
	t.Parallel()
	path := demoFile(t)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o750))
	built, err := os.ReadFile(sharedDemo(t)) // a dataset built for testNow
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, built, 0o600))
	require.NoError(t, EnsureDemo(context.Background(), path, testNow))
	before, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, EnsureDemo(context.Background(), path, testNow.Add(time.Hour)))
	after, err := os.Stat(path)
	require.NoError(t, err)
	assert.True(t, os.SameFile(before, after), "a current dataset is not rebuilt")

	// A newer day or another version rebuilds.
	require.NoError(t, EnsureDemo(context.Background(), path, testNow.AddDate(0, 0, 1)))
	next, err := os.Stat(path)
	require.NoError(t, err)
	assert.False(t, os.SameFile(after, next), "the next day rebuilds")
	assert.True(t, demoIsCurrent(context.Background(), path, testNow.AddDate(0, 0, 1).Format(time.DateOnly)))

	// A corrupt file is replaced.
	require.NoError(t, os.WriteFile(path, []byte("not a database"), 0o600))
	require.NoError(t, EnsureDemo(context.Background(), path, testNow))
	assert.True(t, demoIsCurrent(context.Background(), path, testNow.Format(time.DateOnly)))

	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary files are left behind")
}

func TestEnsureDemoConcurrent(t *testing.T) {
	t.Parallel()
	path := demoFile(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() { errs <- EnsureDemo(context.Background(), path, testNow) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.True(t, demoIsCurrent(context.Background(), path, testNow.Format(time.DateOnly)))
	dir, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, dir, 1, "no temporary files are left behind")
}

func TestDemoUTF8RoundTrip(t *testing.T) {
	r := newTestRunner(t, sharedDemo(t))
	ds := newDS(herald.DataSourceDemo, "", time.Minute, 0)
	for _, want := range []string{"Łódź", "Ærøskøbing", "São Paulo", "Zürich", "東京"} {
		_, rows := query(t, r, Request{DataSource: ds, Query: "SELECT DISTINCT city FROM customers WHERE city = :city",
			Params: map[string]any{"city": want}})
		require.Len(t, rows, 1, "city %s", want)
		assert.Equal(t, want, rows[0][0])
	}
	_, rows := query(t, r, Request{DataSource: ds, Query: "SELECT name FROM customers WHERE name LIKE :p LIMIT 1",
		Params: map[string]any{"p": "Δημήτρης%"}})
	require.Len(t, rows, 1)
	assert.Contains(t, rows[0][0], "Δημήτρης")
	_, rows = query(t, r, Request{DataSource: ds, Query: `SELECT name FROM products WHERE name LIKE '%"%' AND name LIKE '%,%'`})
	assert.NotEmpty(t, rows, "a product name with a quote and a comma, for CSV tests")
}

func TestDemoTypesAndParams(t *testing.T) {
	r := newTestRunner(t, sharedDemo(t))
	ds := newDS(herald.DataSourceDemo, "", time.Minute, 0)
	cols, rows := query(t, r, Request{DataSource: ds,
		Query: `SELECT p.id, p.sku, p.unit_price, p.active, o.ordered_at, o.total, COUNT(*) AS n, json_object('sku', p.sku) AS j
			FROM orders o JOIN order_items i ON i.order_id = o.id JOIN products p ON p.id = i.product_id
			WHERE o.ordered_at >= :from AND o.ordered_at < :to AND o.region IN (:regions) AND p.active = :active
			  AND o.total > :min AND i.quantity >= :qty AND date(o.ordered_at) <> :skip_day
			GROUP BY p.id ORDER BY p.id LIMIT 3`,
		Params: map[string]any{
			"from": testNow.AddDate(0, -1, 0), "to": testNow, "regions": []string{"EMEA", "APAC"},
			"active": true, "min": 10.5, "qty": int64(1), "skip_day": testNow,
		},
		ParamTypes: map[string]herald.ParamType{"from": herald.ParamDatetime, "to": herald.ParamDatetime, "regions": herald.ParamList,
			"active": herald.ParamBool, "min": herald.ParamNumber, "qty": herald.ParamInt, "skip_day": herald.ParamDate},
	})
	require.Len(t, rows, 3)
	types := make([]ColumnType, len(cols))
	for i, c := range cols {
		types[i] = c.Type
	}
	assert.Equal(t, []ColumnType{TypeInt, TypeString, TypeDecimal, TypeBool, TypeDatetime, TypeDecimal, TypeInt, TypeString}, types)
	row := rows[0]
	assert.IsType(t, int64(0), row[0])
	assert.IsType(t, "", row[2])
	assert.Regexp(t, `^\d+(\.\d{1,2})?$`, row[2])
	assert.Equal(t, true, row[3])
	at := row[4].(time.Time)
	assert.Equal(t, time.UTC, at.Location())
	assert.True(t, !at.Before(testNow.AddDate(0, -1, 0)) && at.Before(testNow), "%v", at)
	assert.Equal(t, "DECIMAL(10,2)", cols[2].DBType)
}

func TestRunnerMovesTheDemoForward(t *testing.T) {
	t.Parallel()
	path := demoFile(t)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o750))
	built, err := os.ReadFile(sharedDemo(t))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, built, 0o600))

	var clock atomic.Int64
	clock.Store(testNow.UnixNano())
	r := NewRunner(Config{DemoPath: path, Now: func() time.Time { return time.Unix(0, clock.Load()).UTC() }})
	defer r.Close()
	ds := newDS(herald.DataSourceDemo, "", time.Minute, 0)
	latest := func() time.Time {
		_, rows := query(t, r, Request{DataSource: ds, Query: "SELECT MAX(ordered_at) FROM orders"})
		return rows[0][0].(time.Time)
	}
	day1 := latest()
	clock.Add(int64(48 * time.Hour))
	day3 := latest()
	assert.True(t, day3.After(day1.Add(24*time.Hour)), "%v then %v", day1, day3)
	r.mu.Lock()
	assert.Len(t, r.pools, 1, "the old day's pool is closed")
	r.mu.Unlock()
}

func BenchmarkEnsureDemo(b *testing.B) {
	for b.Loop() {
		path := demoFile(b)
		if err := EnsureDemo(context.Background(), path, testNow); err != nil {
			b.Fatal(err)
		}
	}
}
