package cronexpr

import (
	"math/bits"
	"strconv"
	"strings"
)

// Describe returns an English description of the schedule, such as
// "At 09:00, Monday through Friday" or "Every 15 minutes". It never returns
// an empty string. The time zone is not mentioned.
func (s *Schedule) Describe() string {
	return s.describeTime() + s.describeDays() + s.describeMonths()
}

var fullDayNames = [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

var fullMonthNames = [13]string{"", "January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"}

var ordinalWords = [6]string{"", "first", "second", "third", "fourth", "fifth"}

// unit describes one time field for Describe.
type unit struct {
	name     string // "second", "minute", "hour"
	mask     uint64
	min, max int
}

// setKind classifies a set of values.
type setKind int

const (
	setAll     setKind = iota // every value of the field
	setSingle                 // one value
	setEvery                  // lo, lo+n, ... with n dividing the field's cycle
	setStepped                // a, a+n, ... b (n >= 2, four values or more)
	setRange                  // a, a+1, ... b
	setList                   // anything else
)

// classify returns the kind of a set and, for steps, its step.
func classify(mask uint64, lo, hi int) (setKind, int) {
	count := bits.OnesCount64(mask)
	first, last := nextBit(mask, 0), prevBit(mask, 63)
	switch {
	case mask == rangeMask(lo, hi):
		return setAll, 1
	case count == 1:
		return setSingle, 0
	case last-first == count-1:
		return setRange, 1
	}
	step := nextBit(mask, first+1) - first
	if (last-first)%step != 0 || (last-first)/step != count-1 {
		return setList, 0
	}
	if first == lo && (hi-lo+1)%step == 0 && last+step > hi {
		return setEvery, step
	}
	if count < 4 {
		return setList, 0 // short lists read better spelled out
	}
	return setStepped, step
}

func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}

// joinAnd joins words as "a, b and c".
func joinAnd(words []string, conj string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + conj + " " + words[len(words)-1]
}

// runs lists a set as values and "a through b" runs (runs of three or more).
func runs(mask uint64, name func(int) string) []string {
	var out []string
	for v := nextBit(mask, 0); v >= 0; {
		end := v
		for end < 63 && mask&(1<<uint(end+1)) != 0 {
			end++
		}
		switch {
		case end-v >= 2:
			out = append(out, name(v)+" through "+name(end))
		case end > v:
			out = append(out, name(v), name(end))
		default:
			out = append(out, name(v))
		}
		v = nextBit(mask, end+1)
	}
	return out
}

// phrase describes a time field inside a sentence: "minute 5",
// "minutes 0 and 30", "every minute from 0 through 29", "every 2nd hour".
func (u unit) phrase() string {
	kind, step := classify(u.mask, u.min, u.max)
	first, last := strconv.Itoa(nextBit(u.mask, 0)), strconv.Itoa(prevBit(u.mask, 63))
	switch kind {
	case setAll:
		return "every " + u.name
	case setSingle:
		return u.name + " " + first
	case setEvery:
		return "every " + ordinal(step) + " " + u.name
	case setStepped:
		return "every " + ordinal(step) + " " + u.name + " from " + first + " through " + last
	case setRange:
		if bits.OnesCount64(u.mask) > 2 {
			return "every " + u.name + " from " + first + " through " + last
		}
	}
	return u.name + "s " + joinAnd(runs(u.mask, strconv.Itoa), "and")
}

// lead describes the finest time field at the start of a sentence. every
// reports an "Every ..." form (all values or an even step).
func (u unit) lead() (text string, every bool) {
	kind, step := classify(u.mask, u.min, u.max)
	switch kind {
	case setAll:
		return "Every " + u.name, true
	case setEvery:
		return "Every " + strconv.Itoa(step) + " " + u.name + "s", true
	}
	return "At " + u.phrase(), false
}

func two(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// describeTime describes the second, minute and hour fields.
func (s *Schedule) describeTime() string {
	sec := unit{"second", s.second, 0, 59}
	minute := unit{"minute", s.minute, 0, 59}
	hour := unit{"hour", s.hour, 0, 23}
	if n := bits.OnesCount64(s.second) * bits.OnesCount64(s.minute) * bits.OnesCount64(s.hour); n <= 6 {
		return "At " + s.timeList()
	}
	if s.second == 1 {
		if s.minute == 1 && s.everyHour {
			return "Every hour"
		}
		return describeLead(minute, nil, hour)
	}
	return describeLead(sec, &minute, hour)
}

// timeList lists every time of day, as "08:00 and 17:00".
func (s *Schedule) timeList() string {
	var times []string
	for h := nextBit(s.hour, 0); h >= 0; h = nextBit(s.hour, h+1) {
		for m := nextBit(s.minute, 0); m >= 0; m = nextBit(s.minute, m+1) {
			for sec := nextBit(s.second, 0); sec >= 0; sec = nextBit(s.second, sec+1) {
				t := two(h) + ":" + two(m)
				if s.second != 1 {
					t += ":" + two(sec)
				}
				times = append(times, t)
			}
		}
	}
	return joinAnd(times, "and")
}

// describeLead builds a sentence from the finest field (head) and the
// coarser ones (minute, when head is the seconds field, and hour).
func describeLead(head unit, minute *unit, hour unit) string {
	text, every := head.lead()
	hourAll := hour.mask == rangeMask(0, 23)
	minuteAll := minute == nil || minute.mask == rangeMask(0, 59)
	if every {
		switch {
		case !minuteAll:
			return text + ", during " + minute.phrase() + pastHour(hour, hourAll)
		case hourAll:
			return text
		}
		return text + ", " + hourWindow(hour)
	}
	if minute != nil {
		if minuteAll {
			text += " past every minute"
			if hourAll {
				return text
			}
			return text + ", " + hourWindow(hour)
		}
		text += " past " + minute.phrase()
		if hourAll {
			return text
		}
	}
	return text + pastHour(hour, hourAll)
}

func pastHour(hour unit, all bool) string {
	if all {
		return " past every hour"
	}
	return " past " + hour.phrase()
}

// hourWindow describes restricted hours as a window of the day.
func hourWindow(hour unit) string {
	if kind, _ := classify(hour.mask, 0, 23); kind == setSingle || kind == setRange {
		return "between " + two(nextBit(hour.mask, 0)) + ":00 and " + two(prevBit(hour.mask, 63)) + ":59"
	}
	return "during " + hour.phrase()
}

// describeDays describes the day-of-month and day-of-week fields,
// following the Vixie rule.
func (s *Schedule) describeDays() string {
	if s.anyDay {
		return ""
	}
	domAll := s.dom == rangeMask(1, 31)
	dowAll := s.dow == rangeMask(0, 6)
	switch {
	case (s.domStar || s.dowStar) && domAll:
		return s.dowSentence()
	case (s.domStar || s.dowStar) && dowAll:
		return s.domSentence()
	case s.domStar || s.dowStar:
		return ", on " + s.domText() + " of the month, if it is " + joinAnd(s.dowWords(), "or")
	}
	return ", on " + s.domText() + " of the month and on " + joinAnd(s.dowWords(), "and")
}

// dowSentence joins the day-of-week description to the time.
func (s *Schedule) dowSentence() string {
	words := s.dowWords()
	if len(words) == 1 {
		if strings.Contains(words[0], " through ") {
			return ", " + words[0]
		}
		return " on " + words[0]
	}
	return ", on " + joinAnd(words, "and")
}

// dowWords lists the matching weekdays: "Monday through Friday",
// "the last Friday of the month", "the second Monday of the month".
func (s *Schedule) dowWords() []string {
	// List the week Monday first so that FRI-SUN reads "Friday through Sunday".
	mondayFirst := s.dow>>1 | (s.dow&1)<<6
	words := runs(mondayFirst, func(i int) string { return fullDayNames[(i+1)%7] })
	for d := 0; d < 7; d++ {
		for n := 1; n <= 5; n++ {
			if s.dowNth[d]&(1<<uint(n)) != 0 {
				words = append(words, "the "+ordinalWords[n]+" "+fullDayNames[d]+" of the month")
			}
		}
		if s.dowLast&(1<<uint(d)) != 0 {
			words = append(words, "the last "+fullDayNames[d]+" of the month")
		}
	}
	return words
}

// domSentence joins the day-of-month description to the time.
func (s *Schedule) domSentence() string {
	words := s.domWords()
	if len(words) == 1 && bits.OnesCount64(s.dom) <= 1 {
		return " on " + words[0] + " of the month"
	}
	return ", on " + joinAnd(words, "and") + " of the month"
}

// domText describes the matching days of the month (without "of the
// month"): "day 1", "days 1 and 15", "every 2nd day from 1 through 31",
// "the last day".
func (s *Schedule) domText() string {
	return joinAnd(s.domWords(), "and")
}

func (s *Schedule) domWords() []string {
	var words []string
	if s.dom != 0 {
		words = append(words, unit{"day", s.dom, 1, 31}.phrase())
	}
	for n := s.domNearest; n != 0; n &= n - 1 {
		words = append(words, "the weekday nearest day "+strconv.Itoa(nextBit(n, 0)))
	}
	if s.domLastWeekday {
		words = append(words, "the last weekday")
	}
	if s.domLast {
		words = append(words, "the last day")
	}
	return words
}

// describeMonths describes the month field.
func (s *Schedule) describeMonths() string {
	if s.month == rangeMask(1, 12) {
		return ""
	}
	words := runs(s.month, func(m int) string { return fullMonthNames[m] })
	if len(words) == 1 && !strings.Contains(words[0], " through ") {
		return " in " + words[0]
	}
	return ", in " + joinAnd(words, "and")
}
