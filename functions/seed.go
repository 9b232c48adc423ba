package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/scheduler"
)

// seedID is the fixed id of a seeded record, so that seeding is idempotent.
func seedID(prefix, name string) string {
	return herald.DerivedID(prefix, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), herald.DemoTenantID, name)
}

type seedRecord interface {
	herald.Record
	Touch(actor string, now herald.Instant)
}

// seedDemo creates the demo tenant with its demo data source, two sample
// reports and a weekly schedule on first start. The tenant record is written last and marks the
// seeding as done: once it exists nothing is seeded again (so a deleted
// sample stays deleted), and a crash half-way is finished on the next start.
func seedDemo(ctx context.Context, s herald.Documents, now time.Time) error {
	if _, err := s.Get(ctx, herald.KindTenant, herald.DemoTenantID, herald.DemoTenantID); err == nil {
		return nil
	} else if !herald.Is(err, herald.CodeNotFound) {
		return fmt.Errorf("seeding the demo tenant: %w", err)
	}
	dsID := seedID(herald.PrefixDataSource, "demo-datasource")
	ds := &herald.DataSource{
		Meta: herald.Meta{ID: dsID, TenantID: herald.DemoTenantID}, Name: "Demo shop", SourceKind: herald.DataSourceDemo,
		Description: "Built-in sample data: customers, products, orders and order items over the last two years.",
	}
	ds.Normalize()
	report := &herald.Report{
		Meta: herald.Meta{ID: seedID(herald.PrefixReport, "demo-report"), TenantID: herald.DemoTenantID},
		Name: "Weekly sales by region", DataSourceID: dsID,
		Description: "Orders and revenue per region and channel since a given day.",
		Query: "SELECT region, channel, COUNT(*) AS orders, ROUND(SUM(total), 2) AS revenue\n" +
			"FROM orders\nWHERE ordered_at >= :since AND status <> 'cancelled'\nGROUP BY region, channel\nORDER BY revenue DESC",
		Parameters: []herald.Parameter{{Name: "since", Type: herald.ParamDate, Label: "Since", Default: json.RawMessage(`"-7d"`)}},
		Layout: herald.Layout{Title: "Weekly sales by region", Columns: []herald.Column{
			{Field: "region", Label: "Region"}, {Field: "channel", Label: "Channel"},
			{Field: "orders", Label: "Orders", Format: herald.ColumnInteger},
			{Field: "revenue", Label: "Revenue", Format: herald.ColumnCurrency, Currency: "EUR"},
		}},
	}
	report.Normalize()
	orders := &herald.Report{
		Meta: herald.Meta{ID: seedID(herald.PrefixReport, "demo-orders"), TenantID: herald.DemoTenantID},
		Name: "Orders and customers", DataSourceID: dsID,
		Description: "Every order of a period with its customer, country and amount.",
		Query: "SELECT o.id AS order_id, o.ordered_at, c.name AS customer, c.country, c.city, o.channel, o.status, o.total\n" +
			"FROM orders o JOIN customers c ON c.id = o.customer_id\n" +
			"WHERE o.ordered_at >= :since AND o.ordered_at < :until\nORDER BY o.ordered_at, o.id",
		Parameters: []herald.Parameter{
			{Name: "since", Type: herald.ParamDate, Label: "From", Default: json.RawMessage(`"-30d"`)},
			{Name: "until", Type: herald.ParamDate, Label: "Until (exclusive)", Default: json.RawMessage(`"today"`)},
		},
		Layout: herald.Layout{Title: "Orders and customers", Columns: []herald.Column{
			{Field: "order_id", Label: "Order"}, {Field: "ordered_at", Label: "Ordered at", Format: herald.ColumnDatetime},
			{Field: "customer", Label: "Customer"}, {Field: "country", Label: "Country"}, {Field: "city", Label: "City"},
			{Field: "channel", Label: "Channel"}, {Field: "status", Label: "Status"},
			{Field: "total", Label: "Total", Format: herald.ColumnCurrency, Currency: "EUR"},
		}},
	}
	orders.Normalize()
	weekly := &herald.Schedule{
		Meta:     herald.Meta{ID: seedID(herald.PrefixSchedule, "demo-weekly"), TenantID: herald.DemoTenantID},
		ReportID: report.ID, Name: "Monday morning sales", Cron: "0 9 * * MON", Timezone: "Europe/Berlin", Enabled: true,
		Description: "Last week's sales by region, every Monday at 09:00 Berlin time.",
	}
	weekly.Normalize()
	if err := scheduler.Plan(weekly, now); err != nil {
		return fmt.Errorf("seeding the demo schedule: %w", err)
	}
	tenant := &herald.Tenant{Meta: herald.Meta{ID: herald.DemoTenantID, TenantID: herald.DemoTenantID}, Name: "Demo", DefaultTimezone: "Europe/Berlin"}
	tenant.Normalize()
	at := herald.At(now)
	for _, r := range []seedRecord{ds, report, orders, weekly, tenant} {
		r.Touch("herald-seed", at)
		if err := herald.CreateRecord(ctx, s, r); err != nil && !herald.Is(err, herald.CodeConflict) {
			return fmt.Errorf("seeding the demo tenant: %w", err)
		}
	}
	return nil
}
