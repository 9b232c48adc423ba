package cronexpr

import (
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var propertyZones = []string{
	"UTC",
	"America/New_York",
	"Europe/Berlin",
	"Australia/Lord_Howe",
	"Asia/Kolkata",
	"America/Sao_Paulo",
	"Pacific/Chatham",
	"Europe/London",
	"Europe/Dublin",       // negative DST in the zone data
	"America/St_Johns",    // -03:30 / -02:30
	"Asia/Kathmandu",      // +05:45
	"Australia/Adelaide",  // +09:30 / +10:30, southern hemisphere
	"America/Havana",      // transitions at midnight
	"Asia/Tehran",         // DST at midnight until 2022
	"America/Santiago",    // southern DST, transitions at 24:00
	"Antarctica/Troll",    // two-hour shifts
	"Africa/Casablanca",   // DST suspended each Ramadan
	"Pacific/Apia",        // DST abolished in 2021
	"America/Los_Angeles", // -08:00 / -07:00
}

// genField builds one random, valid field from components.
func genField(r *rand.Rand, k fieldKind) string {
	n := 1 + r.IntN(3)
	if r.IntN(3) == 0 {
		n = 1
	}
	items := make([]string, n)
	for i := range items {
		items[i] = genItem(r, k)
	}
	return strings.Join(items, ",")
}

func genItem(r *rand.Rand, k fieldKind) string {
	b := bounds[k]
	val := func() string {
		v := b.min + r.IntN(b.max-b.min+1)
		if k == kDow && r.IntN(4) == 0 {
			return dayNames[v%7]
		}
		if k == kMonth && r.IntN(4) == 0 {
			return strings.ToLower(monthNames[v])
		}
		return strconv.Itoa(v)
	}
	step := func() string { return strconv.Itoa(1 + r.IntN(b.stepMax-b.min)) }
	switch r.IntN(12) {
	case 0, 1, 2:
		return "*"
	case 3:
		return "*/" + step()
	case 4:
		lo := b.min + r.IntN(b.max-b.min+1)
		hi := lo + r.IntN(b.max-lo+1)
		return strconv.Itoa(lo) + "-" + strconv.Itoa(hi)
	case 5:
		lo := b.min + r.IntN(b.max-b.min+1)
		hi := lo + r.IntN(b.max-lo+1)
		return strconv.Itoa(lo) + "-" + strconv.Itoa(hi) + "/" + step()
	case 6:
		return strconv.Itoa(b.min+r.IntN(b.stepMax-b.min+1)) + "/" + step()
	case 7:
		return genSpecial(r, k, val)
	default:
		return val()
	}
}

func genSpecial(r *rand.Rand, k fieldKind, val func() string) string {
	switch k {
	case kDom:
		return []string{"L", "LW", strconv.Itoa(1+r.IntN(31)) + "W"}[r.IntN(3)]
	case kDow:
		if r.IntN(2) == 0 {
			return val() + "L"
		}
		return val() + "#" + strconv.Itoa(1+r.IntN(5))
	}
	return val()
}

// genExpr builds a random expression; hot fields are kept dense enough for
// the fires to be near each other most of the time.
func genExpr(r *rand.Rand) string {
	fields := []string{genField(r, kMinute), genField(r, kHour), genField(r, kDom), genField(r, kMonth), genField(r, kDow)}
	switch r.IntN(8) {
	case 0:
		fields[1] = "*" // every-hour schedules
	case 1:
		fields[1] = strconv.Itoa(r.IntN(4)) // hours near typical transitions
	case 2:
		fields = append([]string{genField(r, kSecond)}, fields...)
	}
	if r.IntN(3) > 0 {
		fields[len(fields)-2] = "*" // keep months dense
	}
	return strings.Join(fields, " ")
}

// naiveMatches reports whether a wall-clock reading matches the schedule,
// computing the day rules directly from the calendar.
func naiveMatches(s *Schedule, y int, mo time.Month, d, h, mi, sec int) bool {
	if s.second&(1<<uint(sec)) == 0 || s.minute&(1<<uint(mi)) == 0 || s.hour&(1<<uint(h)) == 0 || s.month&(1<<uint(mo)) == 0 {
		return false
	}
	date := time.Date(y, mo, d, 12, 0, 0, 0, time.UTC)
	dim := time.Date(y, mo+1, 0, 12, 0, 0, 0, time.UTC).Day()
	wd := int(date.Weekday())

	domMatch := s.dom&(1<<uint(d)) != 0 || (s.domLast && d == dim)
	isWeekday := func(day int) bool {
		w := time.Date(y, mo, day, 12, 0, 0, 0, time.UTC).Weekday()
		return w != time.Saturday && w != time.Sunday
	}
	for n := 1; n <= 31; n++ {
		if s.domNearest&(1<<uint(n)) != 0 && n <= dim && naiveNearest(n, dim, isWeekday) == d {
			domMatch = true
		}
	}
	if s.domLastWeekday && naiveNearest(dim, dim, isWeekday) == d {
		domMatch = true
	}
	dowMatch := s.dow&(1<<uint(wd)) != 0 ||
		(s.dowLast&(1<<uint(wd)) != 0 && d+7 > dim) ||
		s.dowNth[wd]&(1<<uint((d-1)/7+1)) != 0
	if s.domStar || s.dowStar {
		return domMatch && dowMatch
	}
	return domMatch || dowMatch
}

func naiveNearest(n, dim int, isWeekday func(int) bool) int {
	if isWeekday(n) {
		return n
	}
	for _, c := range []int{n - 1, n + 1, n - 2, n + 2} {
		if c >= 1 && c <= dim && isWeekday(c) {
			return c
		}
	}
	return n
}

func matchesAt(s *Schedule, t time.Time) bool {
	return naiveMatches(s, t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second())
}

// TestProperties checks random expressions in random zones from random
// instants: Next is strictly increasing, results match the expression (or
// are the documented gap shift), and Prev and Next agree.
func TestProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 3))
	locs := make([]*time.Location, len(propertyZones))
	for i, z := range propertyZones {
		locs[i] = mustLoad(t, z)
	}
	lo := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	hi := time.Date(2030, 12, 31, 0, 0, 0, 0, time.UTC)
	trs := make([][]time.Time, len(locs))
	for i, loc := range locs {
		trs[i] = transitions(loc, lo, hi)
	}
	for i := range 1000 {
		expr := genExpr(r)
		s, err := Parse(expr)
		require.NoError(t, err, expr)
		z := r.IntN(len(locs))
		loc := locs[z]
		start := time.Unix(lo.Unix()+r.Int64N(hi.Unix()-lo.Unix()), r.Int64N(2)*int64(r.IntN(1e9)))
		if len(trs[z]) > 0 && i%2 == 0 {
			// Start shortly before a transition so that chains cross it.
			tr := trs[z][r.IntN(len(trs[z]))]
			start = tr.Add(-time.Duration(r.Int64N(int64(48 * time.Hour))))
		}
		start = start.In(loc)
		checkChain(t, s, loc, start, 50, "case %d: %q in %s from %s", i, expr, loc, start)
	}
}

func checkChain(t *testing.T, s *Schedule, loc *time.Location, start time.Time, steps int, msgAndArgs ...any) {
	t.Helper()
	prev := start
	for step := 0; step < steps; step++ {
		next := s.Next(prev, loc)
		if next.IsZero() {
			return // nothing within the horizon (rare day rules such as "*/20 4 FRI")
		}
		require.True(t, next.After(prev), msgAndArgs...)
		require.Zero(t, next.Nanosecond(), msgAndArgs...)
		if !matchesAt(s, next.In(loc)) {
			f := s.NextFire(prev, loc)
			require.True(t, f.Shifted, append([]any{"non-matching fire %s (%s) is not a gap shift: "}, msgAndArgs...))
			require.False(t, s.EveryHour(), msgAndArgs...)
			n := f.Nominal
			require.True(t, naiveMatches(s, n.Year, n.Month, n.Day, n.Hour, n.Minute, n.Second), msgAndArgs...)
			back := time.Date(n.Year, n.Month, n.Day, n.Hour, n.Minute, n.Second, 0, loc)
			require.NotEqual(t, n.Hour*60+n.Minute, back.Hour()*60+back.Minute(), "nominal time must not exist")
		}
		// Prev and Next enumerate the same set.
		require.Equal(t, prev.Before(next), !s.Prev(next, loc).After(prev), msgAndArgs...)
		if p := s.Prev(next, loc); !p.IsZero() {
			require.Equal(t, next, s.Next(p, loc), msgAndArgs...)
		}
		mid := prev.Add(next.Sub(prev) / 2)
		require.Equal(t, next, s.Next(mid, loc), msgAndArgs...)
		if p := s.Prev(mid, loc); !p.IsZero() {
			require.False(t, p.After(mid), msgAndArgs...)
			require.False(t, s.Next(p, loc).Before(mid), msgAndArgs...)
		}
		prev = next
	}
}

// naiveFires enumerates the fire set in [from, to) by walking the timeline
// in steps (transitions and fires are aligned to them) and applying the
// DST rules literally.
func naiveFires(s *Schedule, loc *time.Location, from, to time.Time, step time.Duration) []time.Time {
	var out []time.Time
	for t := from; t.Before(to); t = t.Add(step) {
		lt := t.In(loc)
		_, off := lt.Zone()
		_, offBefore := t.Add(-time.Second).In(loc).Zone()
		if !s.EveryHour() && offBefore < off && naiveGapMatches(s, t, offBefore, off, step) {
			out = append(out, t) // fixed-hour: times in the gap fire once, now
			continue
		}
		if !matchesAt(s, lt) {
			continue
		}
		if s.EveryHour() || !occurredBefore(lt, loc) {
			out = append(out, t)
		}
	}
	return out
}

// naiveGapMatches reports whether a wall time skipped at instant t matches.
func naiveGapMatches(s *Schedule, t time.Time, offBefore, off int, step time.Duration) bool {
	for w := t.Add(time.Duration(offBefore) * time.Second); w.Before(t.Add(time.Duration(off) * time.Second)); w = w.Add(step) {
		u := w.UTC()
		if naiveMatches(s, u.Year(), u.Month(), u.Day(), u.Hour(), u.Minute(), u.Second()) {
			return true
		}
	}
	return false
}

// occurredBefore reports whether the wall-clock reading of lt was already
// shown at an earlier instant (fall back by 30 minutes to 3 hours).
func occurredBefore(lt time.Time, loc *time.Location) bool {
	for _, d := range []time.Duration{30, 60, 90, 120, 180} {
		e := lt.Add(-d * time.Minute).In(loc)
		if e.Format(time.DateTime) == lt.Format(time.DateTime) {
			return true
		}
	}
	return false
}

func chainFires(tb testing.TB, s *Schedule, loc *time.Location, from, to time.Time) []time.Time {
	var out []time.Time
	last := from.Add(-time.Second)
	for t := s.Next(last, loc); !t.IsZero() && t.Before(to); t = s.Next(t, loc) {
		require.True(tb, t.After(last), "Next(%s) = %s is not after it", last, t)
		out, last = append(out, t.UTC()), t
	}
	return out
}

func chainFiresBackwards(tb testing.TB, s *Schedule, loc *time.Location, from, to time.Time) []time.Time {
	var out []time.Time
	last := to
	for t := s.Prev(to, loc); !t.IsZero() && !t.Before(from); t = s.Prev(t, loc) {
		require.True(tb, t.Before(last), "Prev(%s) = %s is not before it", last, t)
		out, last = append([]time.Time{t.UTC()}, out...), t
	}
	return out
}

// transitions returns the offset changes of loc in [from, to).
func transitions(loc *time.Location, from, to time.Time) []time.Time {
	var out []time.Time
	for t := from; t.Before(to); {
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(to) {
			break
		}
		_, o1 := end.Add(-time.Second).In(loc).Zone()
		_, o2 := end.In(loc).Zone()
		if o1 != o2 {
			out = append(out, end)
		}
		t = end
	}
	return out
}

// TestReferenceModel compares Next and Prev with the brute-force model
// around real transitions of every zone in the list.
func TestReferenceModel(t *testing.T) {
	fixed := []string{
		"30 2 * * *", "*/15 2 * * *", "0 * * * *", "30 * * * *", "*/15 * * * *", "0 */2 * * *",
		"0 0 * * *", "0,30 0-3 * * *", "45 1,2,3 * * *", "0 0 L * *", "*/10 0-4 * * 0",
	}
	fixed6 := []string{"30 */30 * * * *", "0 0,30 2 * * *", "*/20 59 1 * * *", "15 45 * * * *"}
	r := rand.New(rand.NewPCG(7, 11))
	from := time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, zone := range propertyZones {
		loc := mustLoad(t, zone)
		trs := transitions(loc, from, to)
		if len(trs) == 0 {
			trs = []time.Time{time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)}
		}
		for i := 0; i < 3; i++ {
			tr := trs[r.IntN(len(trs))]
			exprs := append([]string{genExpr(r), genExpr(r)}, fixed[r.IntN(len(fixed))], fixed[r.IntN(len(fixed))])
			for _, expr := range exprs {
				s := MustParse(expr)
				step, span := time.Minute, 30*time.Hour
				if s.HasSeconds() {
					step, span = time.Second, 3*time.Hour
				}
				compareWithModel(t, s, loc, tr.Add(-span/2), tr.Add(span/2), step)
			}
			s := MustParse(fixed6[r.IntN(len(fixed6))])
			compareWithModel(t, s, loc, tr.Add(-90*time.Minute), tr.Add(90*time.Minute), time.Second)
		}
	}
}

func compareWithModel(t *testing.T, s *Schedule, loc *time.Location, from, to time.Time, step time.Duration) {
	t.Helper()
	want := naiveFires(s, loc, from, to, step)
	for i := range want {
		want[i] = want[i].UTC()
	}
	require.Equal(t, want, chainFires(t, s, loc, from, to), "Next: %q in %s from %s", s, loc, from)
	require.Equal(t, want, chainFiresBackwards(t, s, loc, from, to), "Prev: %q in %s from %s", s, loc, from)

	// Start anywhere in the window, including inside repeated hours.
	span := to.Sub(from)
	for i := int64(1); i < 40; i++ {
		at := from.Add(time.Duration(i * int64(span) / 40)).Add(time.Duration(i%3) * 500 * time.Millisecond)
		j := sort.Search(len(want), func(k int) bool { return want[k].After(at) })
		if j < len(want) {
			require.Equal(t, want[j], s.Next(at, loc).UTC(), "Next(%s): %q in %s", at, s, loc)
		}
		if j > 0 && !want[j-1].Before(at) {
			j-- // want[j-1] == at: Prev must go before it
		}
		if j > 0 {
			require.Equal(t, want[j-1], s.Prev(at, loc).UTC(), "Prev(%s): %q in %s", at, s, loc)
		}
	}
}
