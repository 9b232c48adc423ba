package datasource

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver used to build and check the demo file
)

// DemoVersion is the version of the demo dataset's content. EnsureDemo
// rebuilds a file of another version.
const DemoVersion = 1

// Demo dataset size.
const (
	demoCustomerCount = 500
	demoOrderCount    = 5000
	demoDays          = 730 // orders fall on the two years of days before now's day
	demoInactiveAfter = 180 // discontinued products appear only in orders older than this many days
)

// EnsureDemo makes sure path holds the demo dataset for now's UTC day:
// customers, products, orders and order_items of a small international
// electronics shop, with views daily_sales, sales_by_region, product_sales
// and customer_summary. Orders fall on the 730 days before now's day. The
// content depends only on DemoVersion and that day (a seeded generator),
// so the dataset is the same all day and moves forward day by day.
//
// EnsureDemo is idempotent and safe to call concurrently, from several
// goroutines or processes: a current file is left alone; otherwise the
// dataset is built into a temporary file in the same directory and renamed
// over path atomically (readers of the old file keep reading it).
func EnsureDemo(ctx context.Context, path string, now time.Time) error {
	day := now.UTC().Format(time.DateOnly)
	if demoIsCurrent(ctx, path, day) {
		return nil
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("datasource: creating the demo dataset directory: %w", err)
	}
	f, err := os.CreateTemp(dir, ".herald-demo-*.db")
	if err != nil {
		return fmt.Errorf("datasource: creating the demo dataset file: %w", err)
	}
	tmp := f.Name()
	renamed := false
	defer func() {
		if !renamed {
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Close(); err != nil {
		return fmt.Errorf("datasource: creating the demo dataset file: %w", err)
	}
	if err := buildDemo(ctx, tmp, now); err != nil {
		return fmt.Errorf("datasource: building the demo dataset: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("datasource: installing the demo dataset: %w", err)
	}
	renamed = true
	return nil
}

// demoIsCurrent reports whether path holds the dataset of this version and day.
func demoIsCurrent(ctx context.Context, path, day string) bool {
	if _, err := os.Stat(path); err != nil {
		return false
	}
	db, err := sql.Open("sqlite", "file:"+escapeSQLitePath(path)+"?mode=ro")
	if err != nil {
		return false
	}
	defer db.Close()
	var (
		version int
		anchor  string
	)
	err = db.QueryRowContext(ctx, "SELECT version, anchor_day FROM demo_meta").Scan(&version, &anchor)
	return err == nil && version == DemoVersion && anchor == day
}

func buildDemo(ctx context.Context, path string, now time.Time) (err error) {
	db, err := sql.Open("sqlite", "file:"+escapeSQLitePath(path)+"?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	db.SetMaxOpenConns(1)

	data := generateDemo(now)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	for _, stmt := range demoSchema() {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("creating the schema: %w", err)
		}
	}
	inserts := []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"customers", []string{"id", "name", "email", "country", "city", "segment", "created_at"}, data.customers},
		{"products", []string{"id", "sku", "name", "category", "unit_price", "active"}, data.products},
		{"orders", []string{"id", "customer_id", "ordered_at", "status", "channel", "region", "total"}, data.orders},
		{"order_items", []string{"order_id", "product_id", "quantity", "unit_price"}, data.items},
		{"demo_meta", []string{"version", "anchor_day"}, [][]any{{DemoVersion, now.UTC().Format(time.DateOnly)}}},
	}
	for _, in := range inserts {
		if err := insertBatches(ctx, tx, in.table, in.cols, in.rows); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// insertBatches inserts rows with multi-row INSERT statements. Table and
// column names are this file's constants.
func insertBatches(ctx context.Context, tx *sql.Tx, table string, cols []string, rows [][]any) error {
	const batch = 1000
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	for start := 0; start < len(rows); start += batch {
		end := min(start+batch, len(rows))
		var b strings.Builder
		b.WriteString(head)
		args := make([]any, 0, (end-start)*len(cols))
		for i := start; i < end; i++ {
			if i > start {
				b.WriteByte(',')
			}
			b.WriteString(tuple)
			args = append(args, rows[i]...)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("inserting into %s: %w", table, err)
		}
	}
	return nil
}

func demoSchema() []string {
	const live = "o.status NOT IN ('cancelled', 'refunded')"
	return []string{
		`CREATE TABLE demo_meta (version INTEGER NOT NULL, anchor_day TEXT NOT NULL)`,
		`CREATE TABLE customers (
			id INTEGER PRIMARY KEY,
			name TEXT NOT NULL,
			email TEXT NOT NULL UNIQUE,
			country TEXT NOT NULL,
			city TEXT NOT NULL,
			segment TEXT NOT NULL,
			created_at TIMESTAMP NOT NULL)`,
		`CREATE TABLE products (
			id INTEGER PRIMARY KEY,
			sku TEXT NOT NULL UNIQUE,
			name TEXT NOT NULL,
			category TEXT NOT NULL,
			unit_price DECIMAL(10,2) NOT NULL,
			active BOOLEAN NOT NULL)`,
		`CREATE TABLE orders (
			id INTEGER PRIMARY KEY,
			customer_id INTEGER NOT NULL REFERENCES customers(id),
			ordered_at TIMESTAMP NOT NULL,
			status TEXT NOT NULL,
			channel TEXT NOT NULL,
			region TEXT NOT NULL,
			total DECIMAL(12,2) NOT NULL)`,
		`CREATE TABLE order_items (
			order_id INTEGER NOT NULL REFERENCES orders(id),
			product_id INTEGER NOT NULL REFERENCES products(id),
			quantity INTEGER NOT NULL,
			unit_price DECIMAL(10,2) NOT NULL,
			PRIMARY KEY (order_id, product_id)) WITHOUT ROWID`,
		`CREATE INDEX orders_ordered_at ON orders (ordered_at)`,
		`CREATE INDEX orders_customer_id ON orders (customer_id)`,
		`CREATE INDEX order_items_product_id ON order_items (product_id)`,
		`CREATE VIEW daily_sales AS
			SELECT date(o.ordered_at) AS day, COUNT(*) AS orders, COUNT(DISTINCT o.customer_id) AS customers,
			       ROUND(SUM(o.total), 2) AS revenue, ROUND(AVG(o.total), 2) AS avg_order_value
			FROM orders o WHERE ` + live + `
			GROUP BY date(o.ordered_at)`,
		`CREATE VIEW sales_by_region AS
			SELECT o.region, strftime('%Y-%m', o.ordered_at) AS month, COUNT(*) AS orders,
			       COUNT(DISTINCT o.customer_id) AS customers, ROUND(SUM(o.total), 2) AS revenue
			FROM orders o WHERE ` + live + `
			GROUP BY o.region, strftime('%Y-%m', o.ordered_at)`,
		`CREATE VIEW product_sales AS
			SELECT p.id AS product_id, p.sku, p.name, p.category, SUM(i.quantity) AS units,
			       ROUND(SUM(i.quantity * i.unit_price), 2) AS revenue
			FROM order_items i JOIN orders o ON o.id = i.order_id JOIN products p ON p.id = i.product_id
			WHERE ` + live + `
			GROUP BY p.id, p.sku, p.name, p.category`,
		`CREATE VIEW customer_summary AS
			SELECT c.id AS customer_id, c.name, c.email, c.country, c.city, c.segment,
			       COUNT(o.id) AS orders, ROUND(COALESCE(SUM(o.total), 0), 2) AS lifetime_value,
			       MIN(o.ordered_at) AS first_order_at, MAX(o.ordered_at) AS last_order_at
			FROM customers c LEFT JOIN orders o ON o.customer_id = c.id AND ` + live + `
			GROUP BY c.id`,
	}
}

// demoData holds the rows of each table.
type demoData struct {
	customers, products, orders, items [][]any
}

type demoCustomer struct {
	name, email, country, city, region, segment string
	created                                     time.Time
	firstOrder                                  time.Time
	id                                          int64
}

type demoItem struct {
	product  int // index into demoProducts
	quantity int64
	price    int64 // cents
}

type demoOrder struct {
	at              time.Time
	customer        int // index into the customers slice
	status, channel string
	items           []demoItem
	total           int64 // cents
}

// generateDemo builds the dataset's rows for now's UTC day. It draws from
// one generator seeded with the day, in a fixed order.
func generateDemo(now time.Time) demoData {
	today := now.UTC().Truncate(24 * time.Hour)
	seed := uint64(today.Unix()/86400) ^ DemoVersion<<48    //nolint:gosec // days since 1970 are positive
	rng := rand.New(rand.NewPCG(seed, 0x48657261_6c644465)) //nolint:gosec // deterministic demo data, not a secret

	products := demoProducts()
	customers := genCustomers(rng)
	orders := make([]demoOrder, 0, demoOrderCount)
	for len(orders) < demoOrderCount {
		if o, ok := genOrder(rng, today, customers, products); ok {
			orders = append(orders, o)
		}
	}
	sort.SliceStable(orders, func(i, j int) bool { return orders[i].at.Before(orders[j].at) })
	for _, o := range orders {
		c := &customers[o.customer]
		if c.firstOrder.IsZero() || o.at.Before(c.firstOrder) {
			c.firstOrder = o.at
		}
	}
	for i := range customers {
		c := &customers[i]
		if c.firstOrder.IsZero() {
			c.created = today.AddDate(0, 0, -1-rng.IntN(demoDays)).Add(randomSecondOfDay(rng))
		} else {
			c.created = c.firstOrder.AddDate(0, 0, -1-rng.IntN(120)).Add(-time.Duration(rng.IntN(86400)) * time.Second)
		}
	}
	// Customer ids follow sign-up order, order ids follow order time.
	byCreated := make([]int, len(customers))
	for i := range byCreated {
		byCreated[i] = i
	}
	sort.SliceStable(byCreated, func(a, b int) bool { return customers[byCreated[a]].created.Before(customers[byCreated[b]].created) })
	var data demoData
	for id, idx := range byCreated {
		c := &customers[idx]
		c.id = int64(id + 1)
		data.customers = append(data.customers, []any{c.id, c.name, c.email, c.country, c.city, c.segment, c.created.Format(time.RFC3339)})
	}
	for i, p := range products {
		data.products = append(data.products, []any{int64(i + 1), demoSKU(p, i), p.name, p.category, money(p.price), !demoDiscontinued(i)})
	}
	for i, o := range orders {
		id := int64(i + 1)
		c := customers[o.customer]
		data.orders = append(data.orders, []any{id, c.id, o.at.Format(time.RFC3339), o.status, o.channel, c.region, money(o.total)})
		for _, it := range o.items {
			data.items = append(data.items, []any{id, int64(it.product + 1), it.quantity, money(it.price)})
		}
	}
	return data
}

func money(cents int64) float64 { return float64(cents) / 100 }

func demoSKU(p demoProduct, i int) string {
	return fmt.Sprintf("%s-%04d", strings.ToUpper(p.category[:3]), 1001+i)
}

// demoDiscontinued reports whether the product at index i is no longer sold.
func demoDiscontinued(i int) bool {
	switch i {
	case 0, 7, 18, 35, 49: // Aurora 13 (replaced by its 2nd gen), Pico Netbook, Vista 22, Echo Buds Lite, Tax & Finance Helper
		return true
	}
	return false
}

func genCustomers(rng *rand.Rand) []demoCustomer {
	locales := demoLocales()
	var total float64
	for _, l := range locales {
		total += l.weight
	}
	domains := []string{"example.com", "example.org", "example.net", "mail.example.com"}
	seen := map[string]bool{}
	out := make([]demoCustomer, demoCustomerCount)
	for i := range out {
		l := locales[len(locales)-1]
		for x, j := rng.Float64()*total, 0; j < len(locales); j++ {
			if x -= locales[j].weight; x < 0 {
				l = locales[j]
				break
			}
		}
		first, last := l.first[rng.IntN(len(l.first))], l.last[rng.IntN(len(l.last))]
		name := first.native + " " + last.native
		if l.familyFirst {
			name = last.native + " " + first.native
		}
		local := emailLocal(first.latin) + "." + emailLocal(last.latin)
		email := local + "@" + domains[rng.IntN(len(domains))]
		for k := 2; seen[email]; k++ {
			email = fmt.Sprintf("%s%d@%s", local, k, domains[rng.IntN(len(domains))])
		}
		seen[email] = true
		segment := "Consumer"
		switch u := rng.Float64(); {
		case u > 0.9:
			segment = "Enterprise"
		case u > 0.62:
			segment = "Small Business"
		}
		out[i] = demoCustomer{name: name, email: email, country: l.country, city: l.cities[rng.IntN(len(l.cities))], region: l.region, segment: segment}
	}
	return out
}

func emailLocal(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// genOrder draws one order; ok is false when the draw is rejected by the
// weekly and yearly seasonality.
func genOrder(rng *rand.Rand, today time.Time, customers []demoCustomer, products []demoProduct) (demoOrder, bool) {
	// Half the orders spread evenly, half lean to recent days: the shop grows.
	x := rng.Float64()
	if rng.IntN(2) == 0 {
		x = 1 - math.Sqrt(rng.Float64())
	}
	daysAgo := 1 + min(int(x*demoDays), demoDays-1)
	day := today.AddDate(0, 0, -daysAgo)
	if rng.Float64() > seasonality(day) {
		return demoOrder{}, false
	}
	o := demoOrder{
		at:       day.Add(randomSecondOfDay(rng)),
		customer: int(float64(len(customers)) * math.Pow(rng.Float64(), 1.7)), // a few customers buy a lot
	}
	c := customers[o.customer]
	o.channel = pickChannel(rng, c.segment)
	o.status = pickStatus(rng, daysAgo)
	o.items = pickItems(rng, products, daysAgo, c.segment == "Enterprise")
	for _, it := range o.items {
		o.total += it.quantity * it.price
	}
	return o, true
}

func seasonality(day time.Time) float64 {
	f := 1.0
	if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
		f *= 0.7
	}
	if m := day.Month(); m != time.November && m != time.December {
		f *= 0.8
	}
	return f
}

// randomSecondOfDay draws a time of day, busiest in the working hours.
func randomSecondOfDay(rng *rand.Rand) time.Duration {
	weights := [24]float64{1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4.5, 4, 3.5, 3, 2}
	hour := pickIndex(rng, weights[:])
	return time.Duration(hour)*time.Hour + time.Duration(rng.IntN(3600))*time.Second
}

func pickIndex(rng *rand.Rand, weights []float64) int {
	var total float64
	for _, w := range weights {
		total += w
	}
	x := rng.Float64() * total
	for i, w := range weights {
		if x -= w; x < 0 {
			return i
		}
	}
	return len(weights) - 1
}

func pickChannel(rng *rand.Rand, segment string) string {
	channels := []string{"web", "mobile", "partner", "phone"}
	weights := []float64{52, 31, 11, 6}
	if segment == "Enterprise" {
		weights = []float64{30, 5, 45, 20}
	}
	return channels[pickIndex(rng, weights)]
}

func pickStatus(rng *rand.Rand, daysAgo int) string {
	switch {
	case daysAgo <= 2:
		return []string{"pending", "processing", "shipped"}[pickIndex(rng, []float64{45, 35, 20})]
	case daysAgo <= 7:
		return []string{"shipped", "delivered", "cancelled"}[pickIndex(rng, []float64{65, 30, 5})]
	}
	return []string{"delivered", "cancelled", "refunded"}[pickIndex(rng, []float64{91, 5, 4})]
}

func pickItems(rng *rand.Rand, products []demoProduct, daysAgo int, enterprise bool) []demoItem {
	popularity := map[string]float64{"Accessories": 3, "Software": 2, "Audio": 2, "Services": 1.5, "Monitors": 1.2, "Laptops": 1}
	weights := make([]float64, len(products))
	for i, p := range products {
		if demoDiscontinued(i) && daysAgo <= demoInactiveAfter {
			continue
		}
		weights[i] = popularity[p.category]
	}
	count := 1 + pickIndex(rng, []float64{30, 30, 20, 12, 8})
	items := make([]demoItem, 0, count)
	for len(items) < count {
		p := pickIndex(rng, weights)
		weights[p] = 0 // one line per product
		qty := int64(1 + pickIndex(rng, []float64{70, 18, 7, 2, 1, 1, 0.5, 0.3, 0.2}))
		if enterprise {
			qty *= int64(1 + rng.IntN(5))
		}
		price := products[p].price
		switch u := rng.Float64(); {
		case u < 0.04:
			price = price * 80 / 100
		case u < 0.16:
			price = price * 90 / 100
		}
		items = append(items, demoItem{product: p, quantity: qty, price: price})
	}
	return items
}
