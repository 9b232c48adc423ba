package cronexpr

import "math/bits"

// Civil-calendar arithmetic on "wall seconds": the number of seconds since
// 1970-01-01T00:00:00 of a wall clock (proleptic Gregorian, no zone). All of
// it is pure integer arithmetic so that Next and Prev do not allocate and do
// not call into the time package except to learn zone offsets.

const (
	secondsPerDay = 86400

	// minUnix and maxUnix bound the instants the engine works with. They are
	// far outside any useful schedule (about ±36 million years) and keep every
	// intermediate value clear of int64 overflow.
	minUnix = -1 << 50
	maxUnix = 1 << 50
)

// floorDiv returns a/b rounded towards negative infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// Constants of the Neri-Schneider date algorithm ("Euclidean affine
// functions and their application to calendar algorithms", 2022): the day
// count is shifted by nsShift so that it is non-negative for years from
// -32800, and the algorithm is exact while 4*(days+nsShift)+3 fits in 32 bits.
const (
	nsEras    = 82
	nsShift   = 719468 + 146097*nsEras
	nsYears   = 400 * nsEras
	nsMinDays = -nsShift
	nsMaxDays = 1<<30 - 1 - nsShift
)

// civilFromDays converts days since 1970-01-01 to a proleptic Gregorian date.
func civilFromDays(z int64) (year, month, day int) {
	if z < nsMinDays || z > nsMaxDays {
		return civilFromDaysWide(z)
	}
	n := uint32(z + nsShift)
	n1 := 4*n + 3
	c := n1 / 146097
	nc := n1 % 146097 / 4
	p2 := uint64(2939745) * uint64(4*nc+3)
	zy := uint32(p2 >> 32)
	ny := uint32(p2&0xFFFFFFFF) / 2939745 / 4
	n3 := 2141*ny + 197913
	m := n3 >> 16
	d := (n3 & 0xFFFF) / 2141
	year = int(100*c+zy) - nsYears
	if ny >= 306 {
		year++
		m -= 12
	}
	return year, int(m), int(d) + 1
}

// civilFromDaysWide is civilFromDays for any day number (Howard Hinnant's
// algorithm).
func civilFromDaysWide(z int64) (year, month, day int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day = int(doy - (153*mp+2)/5 + 1)
	month = int(mp + 3)
	if month > 12 {
		month -= 12
	}
	year = int(yoe + era*400)
	if month <= 2 {
		year++
	}
	return year, month, day
}

// daysFromCivil converts a proleptic Gregorian date to days since 1970-01-01.
func daysFromCivil(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := int64(month+9) % 12
	doy := (153*mp+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// weekday returns the day of the week (0 = Sunday) of a day number.
func weekday(days int64) int {
	w := (days + 4) % 7 // 1970-01-01 was a Thursday
	if w < 0 {
		w += 7
	}
	return int(w)
}

func isLeap(year int) bool {
	return year%4 == 0 && (year%100 != 0 || year%400 == 0)
}

// daysIn returns the number of days of a month.
func daysIn(year, month int) int {
	switch month {
	case 2:
		if isLeap(year) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	default:
		return 31
	}
}

// splitWall decomposes wall seconds into civil fields.
func splitWall(w int64) (year, month, day, hour, minute, second int) {
	days := floorDiv(w, secondsPerDay)
	sod := int(w - days*secondsPerDay)
	year, month, day = civilFromDays(days)
	return year, month, day, sod / 3600, sod / 60 % 60, sod % 60
}

// nextBit returns the lowest set bit of mask at or above from, or -1.
func nextBit(mask uint64, from int) int {
	if from < 0 {
		from = 0
	}
	if from > 63 {
		return -1
	}
	m := mask & (^uint64(0) << uint(from))
	if m == 0 {
		return -1
	}
	return bits.TrailingZeros64(m)
}

// prevBit returns the highest set bit of mask at or below from, or -1.
func prevBit(mask uint64, from int) int {
	if from < 0 {
		return -1
	}
	if from > 63 {
		from = 63
	}
	m := mask & (^uint64(0) >> uint(63-from))
	if m == 0 {
		return -1
	}
	return 63 - bits.LeadingZeros64(m)
}

// rangeMask returns a mask with bits lo..hi set.
func rangeMask(lo, hi int) uint64 {
	if hi < lo {
		return 0
	}
	return (^uint64(0) >> uint(63-hi)) &^ (uint64(1)<<uint(lo) - 1)
}
