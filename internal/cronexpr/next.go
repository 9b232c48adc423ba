package cronexpr

import "time"

const (
	// horizon bounds the search of Next and Prev: about five years.
	horizon = (5*365 + 2) * secondsPerDay

	// maxShift bounds the size of a single offset change (real ones are at
	// most a day). Only instants this close after a transition need to look
	// at the offset before it.
	maxShift = 2 * secondsPerDay

	noBound = int64(1) << 62 // stands for "no transition" in segment bounds
)

// segment is a span [start, end) of Unix seconds with one UTC offset.
type segment struct {
	start, end int64 // -noBound / noBound when unbounded
	off        int64 // seconds east of UTC
}

// segmentAt returns the zone segment containing the instant sec.
func segmentAt(loc *time.Location, sec int64) segment {
	if loc == time.UTC {
		return segment{start: -noBound, end: noBound}
	}
	t := time.Unix(sec, 0).In(loc)
	_, off := t.Zone()
	start, end := t.ZoneBounds()
	seg := segment{start: -noBound, end: noBound, off: int64(off)}
	if !start.IsZero() {
		seg.start = min(start.Unix(), sec)
	}
	if !end.IsZero() {
		seg.end = end.Unix()
		if seg.end <= sec {
			// The time package reports the end of a rule-based (tzset)
			// period as 365 days after the start of the UTC year, which
			// falls on 31 December in leap years. Nothing changes there,
			// so continue to the next UTC midnight.
			seg.end = (floorDiv(sec, secondsPerDay) + 1) * secondsPerDay
		}
	}
	return seg
}

// offsetAt returns the UTC offset in effect at the instant sec.
func offsetAt(loc *time.Location, sec int64) int64 {
	_, off := time.Unix(sec, 0).In(loc).Zone()
	return int64(off)
}

// Next returns the first fire time strictly after `after`, in loc (nil means
// UTC), or the zero Time if there is none within about five years (for
// example "0 0 30 2 *"). Fire times have whole seconds. DST transitions
// follow the package rules: see the package documentation.
func (s *Schedule) Next(after time.Time, loc *time.Location) time.Time {
	loc = locOrUTC(loc)
	sec, ok := s.next(after.Unix()+1, loc)
	if !ok {
		return time.Time{}
	}
	return time.Unix(sec, 0).In(loc)
}

// Prev returns the last fire time strictly before `before`, in loc (nil
// means UTC), or the zero Time if there is none within about five years.
// Prev and Next enumerate the same set of fire times: for every t,
// Prev(Next(t)) <= t and Next(Prev(t)) >= t.
func (s *Schedule) Prev(before time.Time, loc *time.Location) time.Time {
	loc = locOrUTC(loc)
	to := before.Unix()
	if before.Nanosecond() == 0 {
		to--
	}
	sec, ok := s.prev(to, loc)
	if !ok {
		return time.Time{}
	}
	return time.Unix(sec, 0).In(loc)
}

// next returns the first fire instant at or after from.
func (s *Schedule) next(from int64, loc *time.Location) (int64, bool) {
	if from < minUnix || from > maxUnix {
		return 0, false
	}
	limit := from + horizon
	prevOff, knownPrev := int64(0), false
	for from <= limit {
		seg := segmentAt(loc, from)
		wFrom := from + seg.off
		if !s.everyHour && seg.start > -noBound && from-seg.start < maxShift {
			if !knownPrev || seg.start != from {
				prevOff = offsetAt(loc, seg.start-1)
			}
			if from == seg.start && s.gapMatches(seg, prevOff) {
				return seg.start, true // coalesced fire for times in the gap
			}
			// After a fall back, wall times before start+prevOff already
			// occurred in the previous segment (a no-op otherwise).
			wFrom = max(wFrom, seg.start+prevOff)
		}
		end := min(seg.end, limit+1)
		if w, ok := s.nextWall(wFrom, end+seg.off); ok {
			return w - seg.off, true
		}
		if seg.end >= noBound {
			break
		}
		from, prevOff, knownPrev = seg.end, seg.off, true
	}
	return 0, false
}

// prev returns the last fire instant at or before to.
func (s *Schedule) prev(to int64, loc *time.Location) (int64, bool) {
	if to < minUnix || to > maxUnix {
		return 0, false
	}
	limit := to - horizon
	for to >= limit {
		seg := segmentAt(loc, to)
		wLow := max(seg.start, limit) + seg.off
		hasPrev := seg.start > -noBound
		var prevOff int64
		if hasPrev && !s.everyHour {
			prevOff = offsetAt(loc, seg.start-1)
			wLow = max(wLow, seg.start+prevOff) // skip second occurrences
		}
		if w, ok := s.prevWall(to+seg.off, wLow); ok {
			return w - seg.off, true
		}
		if !hasPrev {
			break
		}
		if !s.everyHour && seg.start >= limit && s.gapMatches(seg, prevOff) {
			return seg.start, true
		}
		to = seg.start - 1
	}
	return 0, false
}

// gapMatches reports whether the wall-clock times skipped at the start of
// seg (if its offset is larger than the previous one) contain a match.
func (s *Schedule) gapMatches(seg segment, prevOff int64) bool {
	if prevOff >= seg.off {
		return false
	}
	_, ok := s.nextWall(seg.start+prevOff, seg.start+seg.off)
	return ok
}

// nextWall returns the first matching wall time w with from <= w < end.
func (s *Schedule) nextWall(from, end int64) (int64, bool) {
	if from >= end {
		return 0, false
	}
	days := floorDiv(from, secondsPerDay)
	tod := int(from - days*secondsPerDay)
	if s.everyDay {
		// Every day matches: only the time of day matters.
		if t, ok := s.nextTime(tod); ok {
			w := days*secondsPerDay + int64(t)
			return w, w < end
		}
		w := (days+1)*secondsPerDay + int64(s.firstTime)
		return w, w < end
	}
	if s.weekly {
		w := s.nextWeekly(days, tod)
		return w, w < end
	}
	y, mo, d := civilFromDays(days)
	c := cursor{y: y, mo: mo, d: d, tod: tod, first: days - int64(d-1)}
	for {
		if s.month&(1<<uint(c.mo)) == 0 {
			c.toNextMonth(s.month)
		}
		if c.first*secondsPerDay >= end {
			return 0, false
		}
		if w, ok := s.nextInMonth(&c); ok {
			return w, w < end
		}
		c.toNextMonth(^uint64(0))
	}
}

// nextWeekly is nextWall for schedules whose days follow the weekly pattern
// s.dow: the first match at or after time of day tod of day number days.
func (s *Schedule) nextWeekly(days int64, tod int) int64 {
	// Bit k of week is the weekday k days after today, over two weeks.
	week := rotateWeek(s.dow, weekday(days))
	week |= week << 7
	if week&1 != 0 {
		if t, ok := s.nextTime(tod); ok {
			return days*secondsPerDay + int64(t)
		}
	}
	return (days+int64(nextBit(week, 1)))*secondsPerDay + int64(s.firstTime)
}

// prevWeekly is prevWall for weekly schedules.
func (s *Schedule) prevWeekly(days int64, tod int) int64 {
	// Bit k of week is the weekday k days before today, over two weeks.
	week := reverseWeek(rotateWeek(s.dow, weekday(days)))
	week |= week << 7
	if week&1 != 0 {
		if t, ok := s.prevTime(tod); ok {
			return days*secondsPerDay + int64(t)
		}
	}
	return (days-int64(nextBit(week, 1)))*secondsPerDay + int64(s.lastTime)
}

// rotateWeek rotates a weekday mask so that bit 0 is weekday wd.
func rotateWeek(dow uint64, wd int) uint64 {
	return (dow>>uint(wd) | dow<<uint(7-wd)) & 0x7f
}

// reverseWeek maps bit k of a 7-bit week to bit (7-k)%7.
func reverseWeek(week uint64) uint64 {
	r := week & 1
	for k := 1; k < 7; k++ {
		if week&(1<<uint(k)) != 0 {
			r |= 1 << uint(7-k)
		}
	}
	return r
}

// cursor is a position in the wall-clock calendar.
type cursor struct {
	y, mo, d int
	tod      int   // seconds into day d
	first    int64 // day number (days since 1970-01-01) of day 1 of the month
}

// toNextMonth moves to the start of the next month in mask.
func (c *cursor) toNextMonth(mask uint64) {
	for {
		c.first += int64(daysIn(c.y, c.mo))
		if c.mo++; c.mo > 12 {
			c.y, c.mo = c.y+1, 1
		}
		if mask&(1<<uint(c.mo)) != 0 {
			break
		}
	}
	c.d, c.tod = 1, 0
}

// toPrevMonth moves to the end of the previous month in mask.
func (c *cursor) toPrevMonth(mask uint64) {
	for {
		if c.mo--; c.mo < 1 {
			c.y, c.mo = c.y-1, 12
		}
		c.first -= int64(daysIn(c.y, c.mo))
		if mask&(1<<uint(c.mo)) != 0 {
			break
		}
	}
	c.d, c.tod = daysIn(c.y, c.mo), secondsPerDay-1
}

// nextInMonth returns the first matching wall time at or after the cursor
// within the cursor's month.
func (s *Schedule) nextInMonth(c *cursor) (int64, bool) {
	days := s.dayMask(c.y, c.mo, c.first)
	for {
		nd := nextBit(days, c.d)
		if nd < 0 {
			return 0, false
		}
		if nd != c.d {
			c.d, c.tod = nd, 0
		}
		if tod, ok := s.nextTime(c.tod); ok {
			return (c.first+int64(c.d-1))*secondsPerDay + int64(tod), true
		}
		c.d, c.tod = c.d+1, 0
	}
}

// prevWall returns the last matching wall time w with low <= w <= to.
func (s *Schedule) prevWall(to, low int64) (int64, bool) {
	if to < low {
		return 0, false
	}
	days := floorDiv(to, secondsPerDay)
	tod := int(to - days*secondsPerDay)
	if s.everyDay {
		if t, ok := s.prevTime(tod); ok {
			w := days*secondsPerDay + int64(t)
			return w, w >= low
		}
		w := (days-1)*secondsPerDay + int64(s.lastTime)
		return w, w >= low
	}
	if s.weekly {
		w := s.prevWeekly(days, tod)
		return w, w >= low
	}
	y, mo, d := civilFromDays(days)
	c := cursor{y: y, mo: mo, d: d, tod: tod, first: days - int64(d-1)}
	for {
		if s.month&(1<<uint(c.mo)) == 0 {
			c.toPrevMonth(s.month)
		}
		if (c.first+int64(daysIn(c.y, c.mo)))*secondsPerDay <= low {
			return 0, false
		}
		if w, ok := s.prevInMonth(&c); ok {
			return w, w >= low
		}
		c.toPrevMonth(^uint64(0))
	}
}

// prevInMonth returns the last matching wall time at or before the cursor
// within the cursor's month.
func (s *Schedule) prevInMonth(c *cursor) (int64, bool) {
	days := s.dayMask(c.y, c.mo, c.first)
	for {
		pd := prevBit(days, c.d)
		if pd < 1 {
			return 0, false
		}
		if pd != c.d {
			c.d, c.tod = pd, secondsPerDay-1
		}
		if tod, ok := s.prevTime(c.tod); ok {
			return (c.first+int64(c.d-1))*secondsPerDay + int64(tod), true
		}
		c.d, c.tod = c.d-1, secondsPerDay-1
	}
}

// splitTime splits a time of day (0 <= tod < 86400) into hours, minutes
// and seconds. Unsigned 32-bit division by constants is the cheapest form.
func splitTime(tod int) (h, mi, sec int) {
	t := uint32(tod) //nolint:gosec // 0 <= tod < 86400
	hh := t / 3600
	r := t - hh*3600
	mm := r / 60
	return int(hh), int(mm), int(r - mm*60)
}

// nextTime returns the first matching time of day (in seconds) at or
// after tod.
func (s *Schedule) nextTime(tod int) (int, bool) {
	h, mi, sec := splitTime(tod)
	if s.hour&(1<<uint(h)) != 0 {
		if s.minute&(1<<uint(mi)) != 0 {
			if ns := nextBit(s.second, sec); ns >= 0 {
				return h*3600 + mi*60 + ns, true
			}
		}
		if nm := nextBit(s.minute, mi+1); nm >= 0 {
			return h*3600 + nm*60 + nextBit(s.second, 0), true
		}
	}
	nh := nextBit(s.hour, h+1)
	if nh < 0 {
		return 0, false
	}
	return nh*3600 + nextBit(s.minute, 0)*60 + nextBit(s.second, 0), true
}

// prevTime returns the last matching time of day (in seconds) at or
// before tod.
func (s *Schedule) prevTime(tod int) (int, bool) {
	h, mi, sec := splitTime(tod)
	if s.hour&(1<<uint(h)) != 0 {
		if s.minute&(1<<uint(mi)) != 0 {
			if ps := prevBit(s.second, sec); ps >= 0 {
				return h*3600 + mi*60 + ps, true
			}
		}
		if pm := prevBit(s.minute, mi-1); pm >= 0 {
			return h*3600 + pm*60 + prevBit(s.second, 59), true
		}
	}
	ph := prevBit(s.hour, h-1)
	if ph < 0 {
		return 0, false
	}
	return ph*3600 + prevBit(s.minute, 59)*60 + prevBit(s.second, 59), true
}

// dayMask returns the days of a month that match (bits 1..31); first is
// the day number of its first day.
func (s *Schedule) dayMask(y, mo int, first int64) uint64 {
	dim := daysIn(y, mo)
	valid := rangeMask(1, dim)
	switch s.dayRule {
	case daysAll:
		return valid
	case daysDom:
		return s.domDays(dim, first) & valid
	case daysDow:
		return s.dowDays(dim, weekday(first)) & valid
	case daysAnd:
		return s.domDays(dim, first) & s.dowDays(dim, weekday(first)) & valid
	}
	return (s.domDays(dim, first) | s.dowDays(dim, weekday(first))) & valid
}

// domDays returns the days matched by the day-of-month field.
func (s *Schedule) domDays(dim int, first int64) uint64 {
	m := s.dom
	if s.domLast {
		m |= 1 << uint(dim)
	}
	if !s.domLastWeekday && s.domNearest == 0 {
		return m
	}
	wd1 := weekday(first)
	if s.domLastWeekday {
		m |= 1 << uint(nearestWeekday(dim, dim, wd1))
	}
	for n := s.domNearest; n != 0; n &= n - 1 {
		d := nextBit(n, 0)
		if d <= dim {
			m |= 1 << uint(nearestWeekday(d, dim, wd1))
		}
	}
	return m
}

// nearestWeekday returns the Monday-to-Friday day nearest to day d of a
// month, without leaving the month.
func nearestWeekday(d, dim, wd1 int) int {
	switch (wd1 + d - 1) % 7 {
	case 6: // Saturday
		if d == 1 {
			return 3
		}
		return d - 1
	case 0: // Sunday
		if d == dim {
			return d - 2
		}
		return d + 1
	}
	return d
}

// dowDays returns the days matched by the day-of-week field.
func (s *Schedule) dowDays(dim, wd1 int) uint64 {
	// Rotate the weekly pattern so that bit k is day k+1 of the month,
	// then repeat it over five weeks.
	r := (s.dow>>uint(wd1) | s.dow<<uint(7-wd1)) & 0x7f
	m := (r | r<<7 | r<<14 | r<<21 | r<<28) << 1
	if s.dowLast == 0 && s.dowNth == [7]uint8{} {
		return m
	}
	for wd := 0; wd < 7; wd++ {
		first := 1 + (wd-wd1+7)%7
		if s.dowLast&(1<<uint(wd)) != 0 {
			m |= 1 << uint(first+(dim-first)/7*7)
		}
		for n := uint64(s.dowNth[wd]); n != 0; n &= n - 1 {
			if d := first + 7*(nextBit(n, 0)-1); d <= dim {
				m |= 1 << uint(d)
			}
		}
	}
	return m
}
