package cronexpr

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNextUTC checks Next and Prev without DST. Expected values were
// written by hand from a calendar (2026-01-01 is a Thursday).
func TestNextUTC(t *testing.T) {
	tests := []struct {
		name, expr, after string
		want              []string
	}{
		{"every minute", "* * * * *", "2026-01-01T00:00:00Z",
			[]string{"2026-01-01T00:01:00Z", "2026-01-01T00:02:00Z"}},
		{"every second", "* * * * * *", "2026-01-01T00:00:59Z",
			[]string{"2026-01-01T00:01:00Z", "2026-01-01T00:01:01Z"}},
		{"year wrap", "0 0 1 1 *", "2026-06-01T00:00:00Z",
			[]string{"2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"}},
		{"weekdays", "0 9 * * MON-FRI", "2026-01-01T10:00:00Z",
			[]string{"2026-01-02T09:00:00Z", "2026-01-05T09:00:00Z"}},
		{"Vixie OR: 13th or Friday", "0 0 13 * FRI", "2026-02-05T00:00:00Z",
			[]string{"2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z"}},
		{"Vixie OR: 1st or Monday", "0 0 1 * MON", "2026-01-01T00:00:00Z",
			[]string{"2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z", "2026-01-19T00:00:00Z", "2026-01-26T00:00:00Z", "2026-02-01T00:00:00Z"}},
		{"Vixie AND when dom starts with *", "0 0 */2 * MON", "2026-01-01T00:00:00Z",
			[]string{"2026-01-05T00:00:00Z", "2026-01-19T00:00:00Z", "2026-02-09T00:00:00Z"}},
		{"? in dom", "0 0 ? * MON", "2026-01-01T00:00:00Z",
			[]string{"2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z"}},
		{"leap day", "0 0 29 2 *", "2026-03-01T00:00:00Z",
			[]string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
		{"31st skips short months", "0 0 31 * *", "2026-01-31T00:00:00Z",
			[]string{"2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z"}},
		{"last day", "0 0 L * *", "2026-01-31T00:00:00Z",
			[]string{"2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z"}},
		{"last day leap", "0 0 L 2 *", "2027-03-01T00:00:00Z",
			[]string{"2028-02-29T00:00:00Z"}},
		{"last weekday", "0 0 LW * *", "2026-01-01T00:00:00Z",
			[]string{"2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z", "2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z", "2026-05-29T00:00:00Z"}},
		{"nearest weekday", "0 0 15W * *", "2026-01-01T00:00:00Z",
			[]string{"2026-01-15T00:00:00Z", "2026-02-16T00:00:00Z", "2026-03-16T00:00:00Z", "2026-04-15T00:00:00Z", "2026-05-15T00:00:00Z", "2026-06-15T00:00:00Z", "2026-07-15T00:00:00Z", "2026-08-14T00:00:00Z"}},
		{"1W on a Saturday stays in the month", "0 0 1W * *", "2026-07-31T00:00:00Z",
			[]string{"2026-08-03T00:00:00Z"}},
		{"31W on a Sunday stays in the month", "0 0 31W * *", "2026-05-01T00:00:00Z",
			[]string{"2026-05-29T00:00:00Z"}},
		{"last Friday", "0 0 * * 5L", "2026-01-01T00:00:00Z",
			[]string{"2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z", "2026-03-27T00:00:00Z"}},
		{"second Monday", "0 0 * * MON#2", "2026-01-01T00:00:00Z",
			[]string{"2026-01-12T00:00:00Z", "2026-02-09T00:00:00Z", "2026-03-09T00:00:00Z"}},
		{"fifth Thursday only when it exists", "0 0 * * 4#5", "2026-01-01T00:00:00Z",
			[]string{"2026-01-29T00:00:00Z", "2026-04-30T00:00:00Z", "2026-07-30T00:00:00Z"}},
		{"steps with offset", "10/20 9-10 * * *", "2026-01-01T09:30:00Z",
			[]string{"2026-01-01T09:50:00Z", "2026-01-01T10:10:00Z", "2026-01-01T10:30:00Z", "2026-01-01T10:50:00Z", "2026-01-02T09:10:00Z"}},
		{"6-field", "30 */30 * * * *", "2026-01-01T00:00:30Z",
			[]string{"2026-01-01T00:30:30Z", "2026-01-01T01:00:30Z"}},
		{"month names", "0 0 1 JUL,jan *", "2026-02-01T00:00:00Z",
			[]string{"2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.expr)
			require.NoError(t, err)
			cur := mustTime(t, tc.after)
			for _, want := range tc.want {
				next := s.Next(cur, time.UTC)
				require.Equal(t, want, next.UTC().Format(time.RFC3339), "Next(%s)", cur)
				if !cur.Equal(mustTime(t, tc.after)) {
					assert.Equal(t, cur, s.Prev(next, time.UTC), "Prev(%s)", next)
				}
				cur = next
			}
		})
	}
}

func TestNextEdges(t *testing.T) {
	every := MustParse("* * * * * *")
	at := mustTime(t, "2026-01-01T09:00:00Z")
	half := at.Add(500 * time.Millisecond)

	assert.Equal(t, at.Add(time.Second), every.Next(at, time.UTC), "strictly after")
	assert.Equal(t, at.Add(time.Second), every.Next(half, time.UTC), "sub-second after")
	assert.Equal(t, at.Add(-time.Second), every.Prev(at, time.UTC), "strictly before")
	assert.Equal(t, at, every.Prev(half, time.UTC), "sub-second before")

	daily := MustParse("0 0 * * *")
	assert.Equal(t, time.UTC, daily.Next(at, nil).Location(), "nil location means UTC")
	assert.Equal(t, "2026-01-02T00:00:00Z", daily.Next(at, nil).Format(time.RFC3339))
	assert.Equal(t, "2026-01-01T00:00:00Z", daily.Prev(at, nil).Format(time.RFC3339))

	never := MustParse("0 0 30 2 *")
	assert.True(t, never.Next(at, time.UTC).IsZero())
	assert.True(t, never.Prev(at, time.UTC).IsZero())

	// Extreme instants neither panic nor loop.
	berlin := mustLoad(t, "Europe/Berlin")
	for _, tm := range []time.Time{
		{}, time.Unix(-1<<62, 0), time.Unix(1<<62, 0), time.Unix(1<<50-10, 0), time.Unix(-1<<50+10, 0),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(-500, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		for _, loc := range []*time.Location{time.UTC, berlin} {
			if n := daily.Next(tm, loc); !n.IsZero() {
				assert.True(t, n.After(tm))
			}
			if p := daily.Prev(tm, loc); !p.IsZero() {
				assert.True(t, p.Before(tm))
			}
		}
	}
	assert.Equal(t, "0001-01-02T00:00:00Z", daily.Next(time.Time{}, time.UTC).Format(time.RFC3339))
}

// TestRuleBasedPeriod covers instants after the last transition stored in
// the zone file, where the time package computes transitions from the
// zone's rule (and reports period ends oddly on 31 December of leap
// years). Berlin 2040: last Sundays are 2040-03-25 and 2040-10-28.
func TestRuleBasedPeriod(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	tests := []struct {
		expr, after string
		want        []string
	}{
		{"0 12 * * *", "2040-12-29T12:00:00Z",
			[]string{"2040-12-30T11:00:00Z", "2040-12-31T11:00:00Z", "2041-01-01T11:00:00Z", "2041-01-02T11:00:00Z"}},
		{"0 */6 * * *", "2040-12-30T20:00:00Z",
			[]string{"2040-12-30T23:00:00Z", "2040-12-31T05:00:00Z", "2040-12-31T11:00:00Z", "2040-12-31T17:00:00Z", "2040-12-31T23:00:00Z", "2041-01-01T05:00:00Z"}},
		{"30 2 * * *", "2040-03-24T00:00:00Z",
			[]string{"2040-03-24T01:30:00Z", "2040-03-25T01:00:00Z", "2040-03-26T00:30:00Z"}},
		{"30 2 * * *", "2040-10-27T00:00:00Z",
			[]string{"2040-10-27T00:30:00Z", "2040-10-28T00:30:00Z", "2040-10-29T01:30:00Z"}},
		{"*/30 * * * *", "2040-10-28T00:10:00Z",
			[]string{"2040-10-28T00:30:00Z", "2040-10-28T01:00:00Z", "2040-10-28T01:30:00Z"}},
	}
	for _, tc := range tests {
		s := MustParse(tc.expr)
		cur := mustTime(t, tc.after)
		var got []string
		for range tc.want {
			cur = s.Next(cur, berlin)
			got = append(got, cur.UTC().Format(time.RFC3339))
		}
		assert.Equal(t, tc.want, got, tc.expr)
		for i := len(tc.want) - 1; i > 0; i-- {
			assert.Equal(t, tc.want[i-1], s.Prev(mustTime(t, tc.want[i]), berlin).UTC().Format(time.RFC3339), tc.expr)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	s := MustParse("*/15 9-17 * * MON-FRI")
	loc := mustLoad(t, "America/New_York")
	start := mustTime(t, "2026-03-01T00:00:00Z")
	want := s.Next(start, loc)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				assert.Equal(t, want, s.Next(start, loc))
				_ = s.Describe()
				_ = s.NextFire(start, loc)
			}
		})
	}
	wg.Wait()
}

func TestCivil(t *testing.T) {
	for days := int64(-800_000); days <= 800_000; days += 97 {
		tm := time.Unix(days*secondsPerDay, 0).UTC()
		y, m, d := civilFromDays(days)
		require.Equal(t, [3]int{tm.Year(), int(tm.Month()), tm.Day()}, [3]int{y, m, d}, "day %d", days)
		require.Equal(t, days, daysFromCivil(y, m, d))
		require.Equal(t, int(tm.Weekday()), weekday(days))
		require.Equal(t, time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day(), daysIn(y, m))
	}
	// The fast path and the wide algorithm agree, including at the edges of
	// the fast path's range.
	for _, days := range []int64{nsMinDays - 1, nsMinDays, nsMinDays + 1, nsMaxDays - 1, nsMaxDays, nsMaxDays + 1, 0, -1, 1 << 40, -1 << 40} {
		y, m, d := civilFromDays(days)
		wy, wm, wd := civilFromDaysWide(days)
		require.Equal(t, [3]int{wy, wm, wd}, [3]int{y, m, d}, "day %d", days)
		require.Equal(t, days, daysFromCivil(y, m, d), "day %d", days)
	}
	for days := int64(nsMinDays); days <= nsMaxDays; days += 9_999_991 {
		y, m, d := civilFromDays(days)
		wy, wm, wd := civilFromDaysWide(days)
		require.Equal(t, [3]int{wy, wm, wd}, [3]int{y, m, d}, "day %d", days)
	}
	assert.Equal(t, -1, nextBit(0, 0))
	assert.Equal(t, -1, nextBit(1, 64))
	assert.Equal(t, 63, nextBit(1<<63, 63))
	assert.Equal(t, -1, prevBit(1<<5, 4))
	assert.Equal(t, 5, prevBit(1<<5, 100))
	assert.Equal(t, uint64(0b1110), rangeMask(1, 3))
	assert.Equal(t, uint64(0), rangeMask(3, 1))
}
