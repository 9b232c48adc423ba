package storetest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// dueKey renders a due schedule for comparisons and failure messages.
func dueKey(tenantID, scheduleID string, next herald.Instant) string {
	return fmt.Sprintf("%s@%s/%s", next, tenantID, scheduleID)
}

func dueKeys(ds []herald.DueSchedule) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = dueKey(d.TenantID, d.ScheduleID, d.NextRunAt)
	}
	return out
}

func testDueSchedules(t *testing.T, newStore func(t *testing.T) Store) {
	now := at(0)

	t.Run("enabled schedules due by the instant, across tenants, in order", func(t *testing.T) {
		s := newStore(t)
		sharedID := newID(herald.PrefixSchedule, 99, "shared")
		fixtures := []struct {
			tenantID, id string
			enabled      bool
			next         herald.Instant
			due          bool
		}{
			{"t1", newID(herald.PrefixSchedule, 1), true, at(-2 * time.Hour), true},
			{"t2", newID(herald.PrefixSchedule, 2), true, at(-2 * time.Hour), true}, // same time: by tenant
			{"t0", newID(herald.PrefixSchedule, 3), true, at(-2 * time.Hour), true},
			{"t1", newID(herald.PrefixSchedule, 4), true, now, true}, // exactly at before: due
			{"t3", newID(herald.PrefixSchedule, 5), true, at(time.Millisecond), false},
			{"t3", newID(herald.PrefixSchedule, 6), true, at(30 * 24 * time.Hour), false},
			{"t2", newID(herald.PrefixSchedule, 7), false, at(-3 * time.Hour), false}, // disabled
			{"t3", newID(herald.PrefixSchedule, 8), true, herald.Instant{}, false},    // no nextRunAt
			{"t3", newID(herald.PrefixSchedule, 9), true, at(-time.Hour), true},
			{"t1", sharedID, true, at(-90 * time.Minute), true}, // one id in two tenants
			{"t2", sharedID, true, at(-90 * time.Minute), true},
			{"t1", newID(herald.PrefixSchedule, 10), true, at(-366 * 24 * time.Hour), true},
		}
		var due []herald.DueSchedule
		for _, f := range fixtures {
			create(t, s, itemOf(t, newSchedule(f.tenantID, f.id, f.enabled, f.next)))
			if f.due {
				due = append(due, herald.DueSchedule{TenantID: f.tenantID, ScheduleID: f.id, NextRunAt: f.next})
			}
		}
		slices.SortFunc(due, func(a, b herald.DueSchedule) int {
			return cmp.Or(a.NextRunAt.Compare(b.NextRunAt.Time), cmp.Compare(a.TenantID, b.TenantID),
				cmp.Compare(a.ScheduleID, b.ScheduleID))
		})
		want := dueKeys(due)

		// Records that look due but are not.
		nullNext := itemOf(t, newSchedule("t1", newID(herald.PrefixSchedule, 20), true, now))
		nullNext.Body = withField(t, nullNext.Body, "nextRunAt", json.RawMessage("null"))
		create(t, s, nullNext)
		for _, kind := range []herald.Kind{herald.KindRun, herald.KindReport} {
			it := itemOf(t, sampleRecord(t, kind, "t1", newID("lookalike", 21), 0))
			it.Body = withField(t, it.Body, "enabled", true)
			it.Body = withField(t, it.Body, "nextRunAt", at(-time.Hour).String())
			create(t, s, it)
		}

		got, err := s.DueSchedules(t.Context(), now, 100)
		require.NoError(t, err)
		assert.Equal(t, want, dueKeys(got))

		got, err = s.DueSchedules(t.Context(), now, 3)
		require.NoError(t, err)
		assert.Equal(t, want[:3], dueKeys(got), "limit keeps the earliest")

		got, err = s.DueSchedules(t.Context(), at(-48*time.Hour), 100)
		require.NoError(t, err)
		assert.Equal(t, want[:1], dueKeys(got), "an earlier instant")
	})

	t.Run("a schedule stops being due when moved, disabled or deleted", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		var items []herald.Item
		for n := range 4 {
			it := itemOf(t, newSchedule(acme, newID(herald.PrefixSchedule, n), true, at(-time.Duration(n+1)*time.Minute)))
			it.ETag = create(t, s, it)
			items = append(items, it)
		}
		due := func() []string {
			got, err := s.DueSchedules(ctx, now, 10)
			require.NoError(t, err)
			out := make([]string, len(got))
			for i, d := range got {
				out[i] = d.ScheduleID
			}
			return out
		}
		require.Equal(t, []string{items[3].ID, items[2].ID, items[1].ID, items[0].ID}, due())

		replace := func(it herald.Item, field string, value any) {
			it.Body = withField(t, it.Body, field, value)
			_, err := s.Replace(ctx, it)
			require.NoError(t, err)
		}
		replace(items[3], "nextRunAt", at(time.Hour).String()) // the scanner moved it past now
		replace(items[2], "enabled", false)
		require.NoError(t, s.Delete(ctx, herald.KindSchedule, acme, items[1].ID, ""))
		assert.Equal(t, []string{items[0].ID}, due())

		replace(items[0], "nextRunAt", nil) // no next run at all
		assert.Empty(t, due())
	})

	t.Run("nothing due", func(t *testing.T) {
		s := newStore(t)
		create(t, s, itemOf(t, newSchedule(acme, newID(herald.PrefixSchedule, 1), true, at(time.Hour))))
		got, err := s.DueSchedules(t.Context(), now, 10)
		require.NoError(t, err)
		assert.Empty(t, got)
	})

	t.Run("invalid arguments", func(t *testing.T) {
		s := newStore(t)
		for _, limit := range []int{0, -1, herald.MaxListLimit + 1} {
			_, err := s.DueSchedules(t.Context(), now, limit)
			requireCode(t, err, herald.CodeInvalid, "limit %d", limit)
		}
		_, err := s.DueSchedules(t.Context(), herald.Instant{}, 10)
		requireCode(t, err, herald.CodeInvalid, "zero instant")
	})
}
