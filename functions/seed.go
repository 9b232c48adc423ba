package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// seedID is the fixed id of a seeded record, so that seeding is idempotent.
func seedID(prefix, name string) string {
	return herald.DerivedID(prefix, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), herald.DemoTenantID, name)
}

type seedRecord interface {
	herald.Record
	Touch(actor string, now herald.Instant)
}

// seedDemo creates the demo tenant with its demo data source and a sample
// report on first start. The tenant record is written last and marks the
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
	tenant := &herald.Tenant{Meta: herald.Meta{ID: herald.DemoTenantID, TenantID: herald.DemoTenantID}, Name: "Demo", DefaultTimezone: "Europe/Berlin"}
	tenant.Normalize()
	at := herald.At(now)
	for _, r := range []seedRecord{ds, report, tenant} {
		r.Touch("herald-seed", at)
		if err := herald.CreateRecord(ctx, s, r); err != nil && !herald.Is(err, herald.CodeConflict) {
			return fmt.Errorf("seeding the demo tenant: %w", err)
		}
	}
	return nil
}
