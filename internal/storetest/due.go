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

// dueKey renders a due key for comparisons and failure messages.
func dueKey(tenantID, id string, at herald.Instant) string {
	return fmt.Sprintf("%s@%s/%s", at, tenantID, id)
}

func dueKeys(ds []herald.DueKey) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = dueKey(d.TenantID, d.ID, d.DueAt)
	}
	return out
}

// dueRecord is a record of a due kind with the given dueAt (zero: none).
func dueRecord(t *testing.T, kind herald.Kind, tenantID, id string, due herald.Instant) herald.Item {
	t.Helper()
	switch kind {
	case herald.KindSchedule:
		return itemOf(t, newSchedule(tenantID, id, !due.IsZero(), due))
	default:
		r := newRun(tenantID, id, newID(herald.PrefixSchedule, 0), herald.RunQueued, at(-time.Hour))
		r.DueAt = due
		return itemOf(t, r)
	}
}

func testDue(t *testing.T, newStore func(t *testing.T) Store) {
	for _, kind := range herald.DueKinds() {
		t.Run(string(kind), func(t *testing.T) { testDueKind(t, newStore, kind) })
	}
	t.Run("invalid arguments", func(t *testing.T) {
		s := newStore(t)
		for _, limit := range []int{0, -1, herald.MaxListLimit + 1} {
			_, err := s.Due(t.Context(), herald.KindSchedule, at(0), limit)
			requireCode(t, err, herald.CodeInvalid, "limit %d", limit)
		}
		_, err := s.Due(t.Context(), herald.KindSchedule, herald.Instant{}, 10)
		requireCode(t, err, herald.CodeInvalid, "zero instant")
		_, err = s.Due(t.Context(), herald.KindReport, at(0), 10)
		requireCode(t, err, herald.CodeInvalid, "a kind without a due index")
	})
}

func testDueKind(t *testing.T, newStore func(t *testing.T) Store, kind herald.Kind) {
	now := at(0)
	prefix := herald.PrefixSchedule
	if kind == herald.KindRun {
		prefix = herald.PrefixRun
	}

	t.Run("due by the instant, across tenants, in order", func(t *testing.T) {
		s := newStore(t)
		sharedID := newID(prefix, 99, "shared")
		fixtures := []struct {
			tenantID, id string
			due          herald.Instant
			isDue        bool
		}{
			{"t1", newID(prefix, 1), at(-2 * time.Hour), true},
			{"t2", newID(prefix, 2), at(-2 * time.Hour), true}, // same time: by tenant
			{"t0", newID(prefix, 3), at(-2 * time.Hour), true},
			{"t1", newID(prefix, 4), now, true}, // exactly at before: due
			{"t3", newID(prefix, 5), at(time.Millisecond), false},
			{"t3", newID(prefix, 6), at(30 * 24 * time.Hour), false},
			{"t2", newID(prefix, 7), herald.Instant{}, false}, // nothing due
			{"t3", newID(prefix, 9), at(-time.Hour), true},
			{"t1", sharedID, at(-90 * time.Minute), true}, // one id in two tenants
			{"t2", sharedID, at(-90 * time.Minute), true},
			{"t1", newID(prefix, 10), at(-366 * 24 * time.Hour), true},
		}
		var due []herald.DueKey
		for _, f := range fixtures {
			create(t, s, dueRecord(t, kind, f.tenantID, f.id, f.due))
			if f.isDue {
				due = append(due, herald.DueKey{TenantID: f.tenantID, ID: f.id, DueAt: f.due})
			}
		}
		slices.SortFunc(due, func(a, b herald.DueKey) int {
			return cmp.Or(a.DueAt.Compare(b.DueAt.Time), cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.ID, b.ID))
		})
		want := dueKeys(due)

		// Records that look due but are not: a null dueAt, a dueAt that is
		// not a timestamp, and a dueAt on records of other kinds.
		nullDue := dueRecord(t, kind, "t1", newID(prefix, 20), now)
		nullDue.Body = withField(t, nullDue.Body, "dueAt", json.RawMessage("null"))
		create(t, s, nullDue)
		garbage := dueRecord(t, kind, "t1", newID(prefix, 21), now)
		garbage.Body = withField(t, garbage.Body, "dueAt", 12)
		create(t, s, garbage)
		for _, other := range []herald.Kind{herald.KindReport, herald.KindSchedule, herald.KindRun} {
			if other == kind {
				continue
			}
			it := itemOf(t, sampleRecord(t, other, "t1", newID("lookalike", 22), 0))
			it.Body = withField(t, it.Body, "dueAt", at(-time.Hour).String())
			create(t, s, it)
		}

		got, err := s.Due(t.Context(), kind, now, 100)
		require.NoError(t, err)
		assert.Equal(t, want, dueKeys(got))

		got, err = s.Due(t.Context(), kind, now, 3)
		require.NoError(t, err)
		assert.Equal(t, want[:3], dueKeys(got), "limit keeps the earliest")

		got, err = s.Due(t.Context(), kind, at(-48*time.Hour), 100)
		require.NoError(t, err)
		assert.Equal(t, want[:1], dueKeys(got), "an earlier instant")
	})

	t.Run("a record stops being due when moved, cleared or deleted", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		var items []herald.Item
		for n := range 4 {
			it := dueRecord(t, kind, acme, newID(prefix, n), at(-time.Duration(n+1)*time.Minute))
			it.ETag = create(t, s, it)
			items = append(items, it)
		}
		due := func() []string {
			got, err := s.Due(ctx, kind, now, 10)
			require.NoError(t, err)
			out := make([]string, len(got))
			for i, d := range got {
				out[i] = d.ID
			}
			return out
		}
		require.Equal(t, []string{items[3].ID, items[2].ID, items[1].ID, items[0].ID}, due())

		replace := func(it herald.Item, field string, value any) {
			it.Body = withField(t, it.Body, field, value)
			_, err := s.Replace(ctx, it)
			require.NoError(t, err)
		}
		replace(items[3], "dueAt", at(time.Hour).String()) // moved past now
		replace(items[2], "dueAt", nil)                    // nothing left to do
		require.NoError(t, s.Delete(ctx, kind, acme, items[1].ID, ""))
		assert.Equal(t, []string{items[0].ID}, due())
	})

	t.Run("nothing due", func(t *testing.T) {
		s := newStore(t)
		create(t, s, dueRecord(t, kind, acme, newID(prefix, 1), at(time.Hour)))
		got, err := s.Due(t.Context(), kind, now, 10)
		require.NoError(t, err)
		assert.Empty(t, got)
	})
}
