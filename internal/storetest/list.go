package storetest

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// listData is what seedList stores: acme's reports, runs and schedules,
// plus look-alikes in globex that must never show up in acme's lists.
type listData struct {
	reports   []*herald.Report
	runs      []*herald.Run
	schedules []*herald.Schedule
	audits    int
	schedA    string
	schedB    string
}

func seedList(t *testing.T, s Store) listData {
	t.Helper()
	d := listData{schedA: newID(herald.PrefixSchedule, 1, acme), schedB: newID(herald.PrefixSchedule, 2, acme)}
	names := []string{"Weekly sales", "Churn", "Pipeline", "Ärger & Co"}
	// Stored out of id order, so that an unordered store cannot pass.
	for _, i := range []int{7, 2, 11, 0, 5, 9, 1, 4, 10, 3, 8, 6} {
		r := newReport(acme, newID(herald.PrefixReport, i, acme), names[i%len(names)], at(time.Duration(i%5)*time.Hour))
		d.reports = append(d.reports, r)
		create(t, s, itemOf(t, r))
		// Same names and times in another tenant.
		if i < 5 {
			create(t, s, itemOf(t, newReport(globex, newID(herald.PrefixReport, i, globex), r.Name, r.CreatedAt)))
		}
	}
	statuses := []herald.RunStatus{herald.RunQueued, herald.RunRunning, herald.RunSucceeded, herald.RunFailed, herald.RunSucceeded}
	for i := range 15 {
		sched := []string{d.schedA, d.schedB, ""}[i%3] // every third run is manual: no scheduleId
		r := newRun(acme, newID(herald.PrefixRun, 14-i, acme), sched, statuses[i%len(statuses)], at(time.Duration(i)*time.Hour))
		r.Attempt = 1 + i%3
		r.Rows = int64(i * 10)
		r.Truncated = i%4 == 0
		if r.Status.Terminal() {
			r.FinishedAt = herald.At(r.ScheduledFor.Add(time.Minute))
		}
		d.runs = append(d.runs, r)
		create(t, s, itemOf(t, r))
	}
	for i := range 3 {
		r := newRun(globex, newID(herald.PrefixRun, i, globex), d.schedA, herald.RunFailed, at(time.Duration(i)*time.Hour))
		create(t, s, itemOf(t, r))
	}
	for i, id := range []string{d.schedA, d.schedB, newID(herald.PrefixSchedule, 3, acme)} {
		sc := newSchedule(acme, id, i != 1, at(time.Duration(i)*time.Hour))
		d.schedules = append(d.schedules, sc)
		create(t, s, itemOf(t, sc))
	}
	d.audits = 55
	for i := range d.audits {
		create(t, s, itemOf(t, sampleRecord(t, herald.KindAudit, acme, newID(herald.PrefixAudit, i, acme), i)))
	}
	return d
}

// expectIDs filters recs, sorts them and returns their ids.
func expectIDs[T herald.Record](recs []T, keep func(T) bool, order func(a, b T) int) []string {
	kept := slices.DeleteFunc(slices.Clone(recs), func(r T) bool { return !keep(r) })
	slices.SortFunc(kept, order)
	out := make([]string, len(kept))
	for i, r := range kept {
		_, out[i] = r.Key()
	}
	return out
}

func all[T any](T) bool { return true }

// ordered compares by key, then id, both in the same direction.
func ordered[T herald.Record](key func(T) string, desc bool) func(a, b T) int {
	return func(a, b T) int {
		_, ia := a.Key()
		_, ib := b.Key()
		c := cmp.Or(cmp.Compare(key(a), key(b)), cmp.Compare(ia, ib))
		if desc {
			return -c
		}
		return c
	}
}

func byID[T herald.Record](desc bool) func(a, b T) int {
	return ordered(func(T) string { return "" }, desc)
}

// listAll walks every page of q and returns the items. It fails if an item
// comes twice, a page is over the limit, or a page before the last is short.
func listAll(t *testing.T, s Store, q herald.ListQuery) []herald.Item {
	t.Helper()
	var out []herald.Item
	seen := map[string]bool{}
	for pages := 1; ; pages++ {
		require.LessOrEqual(t, pages, 1000, "the walk does not end")
		page, err := s.List(t.Context(), q)
		require.NoError(t, err, "page %d", pages)
		require.LessOrEqual(t, len(page.Items), q.EffectiveLimit(), "page %d is over the limit", pages)
		for _, it := range page.Items {
			require.False(t, seen[it.ID], "%s returned twice", it.ID)
			seen[it.ID] = true
			out = append(out, it)
		}
		if page.NextCursor == "" {
			return out
		}
		require.Len(t, page.Items, q.EffectiveLimit(), "page %d has a next page but is not full", pages)
		q.Cursor = page.NextCursor
	}
}

// checkOrder lists q in one page and in pages of 1, 2 and 7 items, and
// requires the ids of want, in order, every time.
func checkOrder(t *testing.T, s Store, q herald.ListQuery, want []string) {
	t.Helper()
	q.Limit = herald.MaxListLimit
	page, err := s.List(t.Context(), q)
	require.NoError(t, err)
	require.Equal(t, want, ids(page.Items), "one page")
	assert.Empty(t, page.NextCursor, "the only page has no next cursor")
	for _, limit := range []int{1, 2, 7} {
		q.Limit = limit
		assert.Equal(t, want, ids(listAll(t, s, q)), "pages of %d", limit)
	}
}

func testList(t *testing.T, newStore func(t *testing.T) Store) {
	s := newStore(t)
	d := seedList(t, s)
	reports := func(orderBy string, desc bool) herald.ListQuery {
		return herald.ListQuery{Kind: herald.KindReport, TenantID: acme, OrderBy: orderBy, Desc: desc}
	}

	t.Run("only the tenant's items of the kind, with key, ETag and body", func(t *testing.T) {
		page, err := s.List(t.Context(), herald.ListQuery{Kind: herald.KindReport, TenantID: acme, Limit: 100})
		require.NoError(t, err)
		assert.ElementsMatch(t, expectIDs(d.reports, all, byID[*herald.Report](false)), ids(page.Items))
		for _, it := range page.Items {
			assert.Equal(t, herald.KindReport, it.Kind)
			assert.Equal(t, acme, it.TenantID)
			stored := get(t, s, it.Kind, it.TenantID, it.ID)
			assert.Equal(t, stored.ETag, it.ETag, "List and Get agree on the ETag")
			assert.JSONEq(t, string(stored.Body), string(it.Body))
		}
	})

	t.Run("empty results", func(t *testing.T) {
		for _, q := range []herald.ListQuery{
			{Kind: herald.KindDataSource, TenantID: acme},
			{Kind: herald.KindReport, TenantID: "nobody"},
			{Kind: herald.KindReport, TenantID: acme, OrderBy: "name",
				Where: []herald.Cond{{Field: "name", Op: herald.OpEq, Value: "No such report"}}},
		} {
			page, err := s.List(t.Context(), q)
			require.NoError(t, err)
			assert.Empty(t, page.Items)
			assert.Empty(t, page.NextCursor)
		}
	})

	t.Run("order", func(t *testing.T) {
		name := func(r *herald.Report) string { return r.Name }
		created := func(r *herald.Report) string { return r.CreatedAt.String() }
		cases := []struct {
			name    string
			orderBy string
			desc    bool
			order   func(a, b *herald.Report) int
		}{
			{"id ascending", "", false, byID[*herald.Report](false)},
			{"id descending", "", true, byID[*herald.Report](true)},
			{"name ascending, ties by id", "name", false, ordered(name, false)},
			{"name descending, ties by id descending", "name", true, ordered(name, true)},
			{"createdAt ascending, ties by id", "createdAt", false, ordered(created, false)},
			{"createdAt descending, ties by id descending", "createdAt", true, ordered(created, true)},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				checkOrder(t, s, reports(tc.orderBy, tc.desc), expectIDs(d.reports, all, tc.order))
			})
		}
	})

	t.Run("where", func(t *testing.T) {
		testListWhere(t, s, d)
	})

	t.Run("a page that ends exactly at the last item has no next cursor", func(t *testing.T) {
		q := reports("name", false)
		q.Limit = len(d.reports)
		page, err := s.List(t.Context(), q)
		require.NoError(t, err)
		assert.Len(t, page.Items, len(d.reports))
		assert.Empty(t, page.NextCursor)

		q.Limit = len(d.reports) - 1
		page, err = s.List(t.Context(), q)
		require.NoError(t, err)
		require.NotEmpty(t, page.NextCursor)
		q.Cursor = page.NextCursor
		page, err = s.List(t.Context(), q)
		require.NoError(t, err)
		assert.Len(t, page.Items, 1)
		assert.Empty(t, page.NextCursor)
	})

	t.Run("limit 0 means the default limit", func(t *testing.T) {
		q := herald.ListQuery{Kind: herald.KindAudit, TenantID: acme}
		page, err := s.List(t.Context(), q)
		require.NoError(t, err)
		assert.Len(t, page.Items, herald.DefaultListLimit)
		require.NotEmpty(t, page.NextCursor)
		q.Cursor = page.NextCursor
		page, err = s.List(t.Context(), q)
		require.NoError(t, err)
		assert.Len(t, page.Items, d.audits-herald.DefaultListLimit)
		assert.Empty(t, page.NextCursor)
	})

	t.Run("invalid queries", func(t *testing.T) {
		testListInvalid(t, s)
	})

	t.Run("cursors", func(t *testing.T) {
		testListCursors(t, s, d)
	})
}

func testListWhere(t *testing.T, s Store, d listData) {
	type run = *herald.Run
	eq := func(f string, v any) herald.Cond { return herald.Cond{Field: f, Op: herald.OpEq, Value: v} }
	gte := func(f string, v any) herald.Cond { return herald.Cond{Field: f, Op: herald.OpGte, Value: v} }
	lt := func(f string, v any) herald.Cond { return herald.Cond{Field: f, Op: herald.OpLt, Value: v} }
	from, to := at(3*time.Hour), at(9*time.Hour)
	none := func(run) bool { return false }
	cases := []struct {
		name  string
		where []herald.Cond
		keep  func(run) bool
	}{
		{"string eq", []herald.Cond{eq("status", "failed")}, func(r run) bool { return r.Status == herald.RunFailed }},
		{"string eq on a field some items lack", []herald.Cond{eq("scheduleId", d.schedA)},
			func(r run) bool { return r.ScheduleID == d.schedA }},
		{"bool eq true", []herald.Cond{eq("truncated", true)}, func(r run) bool { return r.Truncated }},
		{"bool eq false never matches items without the field", []herald.Cond{eq("truncated", false)}, none},
		{"int64 eq", []herald.Cond{eq("attempt", int64(2))}, func(r run) bool { return r.Attempt == 2 }},
		{"int64 gte", []herald.Cond{gte("rows", int64(70))}, func(r run) bool { return r.Rows >= 70 }},
		{"int64 lt", []herald.Cond{lt("rows", int64(30))}, func(r run) bool { return r.Rows < 30 }},
		{"instant range from-to", []herald.Cond{gte("scheduledFor", from.String()), lt("scheduledFor", to.String())},
			func(r run) bool { return !r.ScheduledFor.Before(from.Time) && r.ScheduledFor.Before(to.Time) }},
		{"combined conditions", []herald.Cond{eq("status", "succeeded"), gte("scheduledFor", from.String()), eq("attempt", int64(3))},
			func(r run) bool {
				return r.Status == herald.RunSucceeded && !r.ScheduledFor.Before(from.Time) && r.Attempt == 3
			}},
		{"lt never matches items without the field", []herald.Cond{lt("finishedAt", at(1000*time.Hour).String())},
			func(r run) bool { return !r.FinishedAt.IsZero() }},
		{"unknown field never matches", []herald.Cond{eq("noSuchField", "x")}, none},
		{"string against a number field never matches", []herald.Cond{lt("attempt", "9")}, none},
		{"number against a string field never matches", []herald.Cond{gte("status", int64(0))}, none},
		{"bool against a number field never matches", []herald.Cond{eq("attempt", true)}, none},
		{"number against a bool field never matches", []herald.Cond{eq("truncated", int64(1))}, none},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := herald.ListQuery{Kind: herald.KindRun, TenantID: acme, Where: tc.where}
			checkOrder(t, s, q, expectIDs(d.runs, tc.keep, byID[run](false)))
		})
	}

	t.Run("filtered and ordered by another field, descending", func(t *testing.T) {
		q := herald.ListQuery{Kind: herald.KindRun, TenantID: acme, OrderBy: "scheduledFor", Desc: true,
			Where: []herald.Cond{eq("scheduleId", d.schedB)}}
		want := expectIDs(d.runs, func(r run) bool { return r.ScheduleID == d.schedB },
			ordered(func(r run) string { return r.ScheduledFor.String() }, true))
		checkOrder(t, s, q, want)
	})

	t.Run("bool eq on schedules", func(t *testing.T) {
		for _, enabled := range []bool{true, false} {
			q := herald.ListQuery{Kind: herald.KindSchedule, TenantID: acme, Where: []herald.Cond{eq("enabled", enabled)}}
			want := expectIDs(d.schedules, func(s *herald.Schedule) bool { return s.Enabled == enabled }, byID[*herald.Schedule](false))
			checkOrder(t, s, q, want)
		}
	})
}

func testListInvalid(t *testing.T, s Store) {
	valid := herald.ListQuery{Kind: herald.KindReport, TenantID: acme}
	cases := []struct {
		name   string
		change func(*herald.ListQuery)
	}{
		{"order field with SQL", func(q *herald.ListQuery) { q.OrderBy = "name; DROP TABLE items" }},
		{"order field with a path", func(q *herald.ListQuery) { q.OrderBy = "layout.title" }},
		{"condition field with SQL", func(q *herald.ListQuery) {
			q.Where = []herald.Cond{{Field: "name') OR 1=1 --", Op: herald.OpEq, Value: "x"}}
		}},
		{"unknown op", func(q *herald.ListQuery) { q.Where = []herald.Cond{{Field: "name", Op: "like", Value: "x%"}} }},
		{"value of an unsupported type", func(q *herald.ListQuery) {
			q.Where = []herald.Cond{{Field: "rows", Op: herald.OpEq, Value: 1.5}}
		}},
		{"limit over the maximum", func(q *herald.ListQuery) { q.Limit = herald.MaxListLimit + 1 }},
		{"negative limit", func(q *herald.ListQuery) { q.Limit = -1 }},
		{"empty tenant", func(q *herald.ListQuery) { q.TenantID = "" }},
		{"malformed tenant", func(q *herald.ListQuery) { q.TenantID = "acme' OR '1'='1" }},
		{"empty kind", func(q *herald.ListQuery) { q.Kind = "" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := valid
			tc.change(&q)
			_, err := s.List(t.Context(), q)
			requireCode(t, err, herald.CodeInvalid)
		})
	}
}

func testListCursors(t *testing.T, s Store, d listData) {
	firstCursor := func(t *testing.T, q herald.ListQuery) string {
		t.Helper()
		q.Limit = 2
		page, err := s.List(t.Context(), q)
		require.NoError(t, err)
		require.NotEmpty(t, page.NextCursor)
		return page.NextCursor
	}
	byName := herald.ListQuery{Kind: herald.KindReport, TenantID: acme, OrderBy: "name"}
	nameCursor := firstCursor(t, byName)

	t.Run("malformed cursors are invalid", func(t *testing.T) {
		b64 := base64.RawURLEncoding.EncodeToString
		for _, c := range []string{"garbage!", "%%%", b64([]byte("{}")), b64([]byte(`{"i":`)), b64([]byte("[1,2]")),
			nameCursor[:len(nameCursor)/2], nameCursor + "x"} {
			q := byName
			q.Cursor = c
			_, err := s.List(t.Context(), q)
			requireCode(t, err, herald.CodeInvalid, "cursor %q", c)
		}
	})

	t.Run("a cursor of another order is invalid", func(t *testing.T) {
		for _, q := range []herald.ListQuery{
			{Kind: herald.KindReport, TenantID: acme},
			{Kind: herald.KindReport, TenantID: acme, OrderBy: "name", Desc: true},
			{Kind: herald.KindReport, TenantID: acme, OrderBy: "createdAt"},
		} {
			q.Cursor = nameCursor
			_, err := s.List(t.Context(), q)
			requireCode(t, err, herald.CodeInvalid, "order %q desc=%v", q.OrderBy, q.Desc)
		}
	})

	t.Run("another tenant's cursor reveals none of its items", func(t *testing.T) {
		theirs := herald.ListQuery{Kind: herald.KindReport, TenantID: globex}
		theirIDs := map[string]bool{}
		for _, it := range listAll(t, s, herald.ListQuery{Kind: herald.KindReport, TenantID: globex, Limit: 100}) {
			theirIDs[it.ID] = true
		}
		for _, orderBy := range []string{"", "name"} {
			theirs.OrderBy = orderBy
			mine := theirs
			mine.TenantID, mine.Cursor, mine.Limit = acme, firstCursor(t, theirs), 100
			page, err := s.List(t.Context(), mine)
			if err != nil {
				requireCode(t, err, herald.CodeInvalid, "a store may refuse the cursor")
				continue
			}
			for _, it := range page.Items {
				assert.Equal(t, acme, it.TenantID)
				assert.False(t, theirIDs[it.ID], "%s of %s leaked through a cursor", it.ID, globex)
			}
		}
	})

	t.Run("a cursor keeps working when reused", func(t *testing.T) {
		q := byName
		q.Cursor, q.Limit = nameCursor, 3
		first, err := s.List(t.Context(), q)
		require.NoError(t, err)
		second, err := s.List(t.Context(), q)
		require.NoError(t, err)
		assert.Equal(t, ids(first.Items), ids(second.Items))
		want := expectIDs(d.reports, all, ordered(func(r *herald.Report) string { return r.Name }, false))
		assert.Equal(t, want[2:5], ids(first.Items))
	})
}

// testListPagination changes the data between pages: keyset pagination
// shows what was added after the cursor, skips what was removed and never
// returns an item twice.
func testListPagination(t *testing.T, newStore func(t *testing.T) Store) {
	for _, orderBy := range []string{"", "name", "createdAt"} {
		t.Run("items added and removed between pages, order "+cmp.Or(orderBy, "id"), func(t *testing.T) {
			s := newStore(t)
			ctx := t.Context()
			// id, name and createdAt all sort like n.
			id := func(n int) string { return newID(herald.PrefixReport, n, acme) }
			add := func(n int) herald.Item {
				it := itemOf(t, newReport(acme, id(n), fmt.Sprintf("Report %03d", n), at(time.Duration(n)*time.Minute)))
				it.ETag = create(t, s, it)
				return it
			}
			stored := map[int]herald.Item{}
			for _, n := range []int{10, 20, 30, 40, 50, 60} {
				stored[n] = add(n)
			}
			q := herald.ListQuery{Kind: herald.KindReport, TenantID: acme, OrderBy: orderBy, Limit: 3}
			first, err := s.List(ctx, q)
			require.NoError(t, err)
			require.Equal(t, []string{id(10), id(20), id(30)}, ids(first.Items))

			add(25) // before the cursor: not shown again
			add(45) // after it: shown
			add(70) // after it: shown
			require.NoError(t, s.Delete(ctx, herald.KindReport, acme, id(50), ""))
			edited := stored[60]
			edited.Body = withField(t, edited.Body, "description", "edited between pages")
			_, err = s.Replace(ctx, edited)
			require.NoError(t, err)

			q.Cursor = first.NextCursor
			assert.Equal(t, []string{id(40), id(45), id(60), id(70)}, ids(listAll(t, s, q)))
		})
	}
}
