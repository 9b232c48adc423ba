package cronexpr

import (
	"fmt"
	"time"
)

// Wall is a wall-clock reading: a civil date and time of day with no zone.
type Wall struct {
	Year   int
	Month  time.Month
	Day    int
	Hour   int
	Minute int
	Second int
}

// String formats the reading as "2006-01-02 15:04:05".
func (w Wall) String() string {
	return fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", w.Year, int(w.Month), w.Day, w.Hour, w.Minute, w.Second)
}

func wallFields(w int64) Wall {
	y, mo, d, h, mi, s := splitWall(w)
	return Wall{Year: y, Month: time.Month(mo), Day: d, Hour: h, Minute: mi, Second: s}
}

// Fire is a fire time annotated for DST-aware previews.
type Fire struct {
	// Time is the instant, in the schedule's location. It is the zero Time
	// when there is no fire.
	Time time.Time
	// Nominal is the wall-clock time the expression named. It differs from
	// Time's wall clock only when Shifted is true; then it is the earliest
	// of the (coalesced) times that fell into the gap.
	Nominal Wall
	// Shifted is true when Nominal does not exist because of a
	// spring-forward gap and the fire moved to the first instant after the
	// gap (fixed-hour schedules only).
	Shifted bool
	// Ambiguous is true when Nominal occurs twice because of a fall-back
	// transition; the offset of Time tells which occurrence this is.
	// Fixed-hour schedules fire at the first occurrence only, every-hour
	// schedules at both.
	Ambiguous bool
}

// NextFire is Next with DST annotations. The zero Fire means no fire.
func (s *Schedule) NextFire(after time.Time, loc *time.Location) Fire {
	loc = locOrUTC(loc)
	return s.annotate(s.Next(after, loc), loc)
}

// PrevFire is Prev with DST annotations. The zero Fire means no fire.
func (s *Schedule) PrevFire(before time.Time, loc *time.Location) Fire {
	loc = locOrUTC(loc)
	return s.annotate(s.Prev(before, loc), loc)
}

// NextFires returns up to n consecutive fires strictly after `after`, for
// previews.
func (s *Schedule) NextFires(after time.Time, loc *time.Location, n int) []Fire {
	loc = locOrUTC(loc)
	fires := make([]Fire, 0, max(n, 0))
	for len(fires) < n {
		f := s.NextFire(after, loc)
		if f.Time.IsZero() {
			break
		}
		fires = append(fires, f)
		after = f.Time
	}
	return fires
}

// annotate explains a fire instant t produced by Next or Prev.
func (s *Schedule) annotate(t time.Time, loc *time.Location) Fire {
	if t.IsZero() {
		return Fire{}
	}
	sec := t.Unix()
	seg := segmentAt(loc, sec)
	wall := sec + seg.off
	f := Fire{Time: t, Nominal: wallFields(wall)}
	if seg.start > -noBound {
		prevOff := offsetAt(loc, seg.start-1)
		if !s.everyHour && sec == seg.start && prevOff < seg.off {
			if w, ok := s.nextWall(seg.start+prevOff, seg.start+seg.off); ok {
				f.Nominal, f.Shifted = wallFields(w), true
				return f
			}
		}
		f.Ambiguous = prevOff > seg.off && wall < seg.start+prevOff
	}
	if seg.end < noBound {
		nextOff := offsetAt(loc, seg.end)
		f.Ambiguous = f.Ambiguous || (nextOff < seg.off && wall >= seg.end+nextOff)
	}
	return f
}
