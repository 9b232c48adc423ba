package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// The fixtures are real records (with herald.Meta), marshalled the way the
// services will store them.

// base is the instant the fixtures are laid out around.
func base() time.Time { return time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC) }

// at is base plus d, as an Instant.
func at(d time.Duration) herald.Instant { return herald.At(base().Add(d)) }

// newID is a deterministic id of the given prefix that sorts by n.
func newID(prefix string, n int, parts ...string) string {
	return herald.DerivedID(prefix, base().Add(time.Duration(n)*time.Minute), append(parts, fmt.Sprint(n))...)
}

func meta(tenantID, id string, created herald.Instant) herald.Meta {
	return herald.Meta{
		ID: id, TenantID: tenantID,
		CreatedAt: created, CreatedBy: "ana@example.com",
		UpdatedAt: created, UpdatedBy: "ana@example.com",
	}
}

// itemOf marshals a record into the item a store holds.
func itemOf(t *testing.T, r herald.Record) herald.Item {
	t.Helper()
	tenantID, id := r.Key()
	body, err := json.Marshal(r)
	require.NoError(t, err)
	return herald.Item{Kind: r.Kind(), TenantID: tenantID, ID: id, Body: body}
}

func newReport(tenantID, id, name string, created herald.Instant) *herald.Report {
	r := &herald.Report{
		Meta:         meta(tenantID, id, created),
		Name:         name,
		Description:  "Revenue by region for the sales team",
		DataSourceID: herald.DerivedID(herald.PrefixDataSource, base(), tenantID, "warehouse"),
		Query:        "SELECT region, sum(amount) AS total FROM sales WHERE day >= :from GROUP BY region ORDER BY total DESC",
		Parameters:   []herald.Parameter{{Name: "from", Type: herald.ParamDate, Default: json.RawMessage(`"start_of_month"`)}},
		Layout: herald.Layout{
			Title:   name,
			Columns: []herald.Column{{Field: "region", Label: "Region"}, {Field: "total", Label: "Total", Format: herald.ColumnCurrency, Currency: "EUR"}},
		},
	}
	r.Normalize()
	return r
}

func newSchedule(tenantID, id string, enabled bool, next herald.Instant) *herald.Schedule {
	s := &herald.Schedule{
		Meta:     meta(tenantID, id, at(-24*time.Hour)),
		ReportID: herald.DerivedID(herald.PrefixReport, base(), tenantID, "weekly"),
		Name:     "Monday sales " + id,
		Cron:     "0 9 * * MON",
		Timezone: "Europe/Berlin",
		Enabled:  enabled,
		Deliveries: []herald.DeliveryTarget{
			{Channel: herald.ChannelEmail, To: []string{"sales@example.com"}, Formats: []herald.Format{herald.FormatPDF}},
		},
		NextRunAt: next,
	}
	if enabled {
		s.DueAt = next
	}
	s.Normalize()
	return s
}

func newRun(tenantID, id, scheduleID string, status herald.RunStatus, scheduledFor herald.Instant) *herald.Run {
	r := &herald.Run{
		Meta:         meta(tenantID, id, scheduledFor),
		ScheduleID:   scheduleID,
		ReportID:     herald.DerivedID(herald.PrefixReport, base(), tenantID, "weekly"),
		Trigger:      herald.TriggerSchedule,
		ScheduledFor: scheduledFor,
		Status:       status,
		Attempt:      1,
		Artifacts:    []herald.Artifact{},
	}
	if scheduleID == "" {
		r.Trigger = herald.TriggerManual
	}
	return r
}

// sampleRecord returns a realistic record of any kind.
func sampleRecord(t *testing.T, kind herald.Kind, tenantID, id string, n int) herald.Record {
	t.Helper()
	created := at(time.Duration(n) * time.Minute)
	m := meta(tenantID, id, created)
	switch kind {
	case herald.KindTenant:
		return &herald.Tenant{Meta: m, Name: "Tenant " + tenantID, DefaultTimezone: "Europe/Paris", RetentionDays: 90}
	case herald.KindDataSource:
		return &herald.DataSource{Meta: m, Name: "Warehouse", SourceKind: herald.DataSourcePostgres,
			SealedDSN: []byte{1, 2, 3, 4}, StatementTimeout: herald.Duration(time.Minute), RowCap: 10000}
	case herald.KindReport:
		return newReport(tenantID, id, fmt.Sprintf("Report %d", n), created)
	case herald.KindSchedule:
		return newSchedule(tenantID, id, true, created)
	case herald.KindRun:
		return newRun(tenantID, id, "", herald.RunSucceeded, created)
	case herald.KindDelivery:
		return &herald.Delivery{Meta: m, RunID: newID(herald.PrefixRun, n, tenantID), Channel: herald.ChannelEmail,
			Recipient: "ops@example.com", Status: herald.DeliverySent, Attempts: 1, SentAt: created}
	case herald.KindAudit:
		return &herald.AuditEvent{Meta: m, Time: created, Actor: "ana@example.com", ActorRole: herald.RoleAdmin,
			Action: "report.update", ResourceType: herald.KindReport, ResourceID: newID(herald.PrefixReport, n, tenantID),
			Summary: "renamed the report"}
	}
	t.Fatalf("storetest has no sample record of kind %q: add one to sampleRecord", kind)
	return nil
}
