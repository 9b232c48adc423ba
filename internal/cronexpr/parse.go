package cronexpr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ParseError describes why an expression was rejected.
type ParseError struct {
	// Field names the field at fault ("second", "minute", "hour",
	// "day-of-month", "month" or "day-of-week"); it is empty when the error
	// is about the expression as a whole.
	Field string
	// Position is the 1-based index of the field in the expression, or 0
	// when the error is about the expression as a whole.
	Position int
	// Expr is the expression as given.
	Expr string
	// Msg says what is wrong.
	Msg string
}

// Error returns, for example,
// `cron: hour field (position 2): value 25 out of range 0-23`.
func (e *ParseError) Error() string {
	if e.Field == "" {
		return "cron: " + e.Msg
	}
	return fmt.Sprintf("cron: %s field (position %d): %s", e.Field, e.Position, e.Msg)
}

type fieldKind int

const (
	kSecond fieldKind = iota
	kMinute
	kHour
	kDom
	kMonth
	kDow
	numFields
)

type fieldBounds struct {
	name     string
	min, max int // accepted values
	stepMax  int // last value reached by `*` and `a/n`; steps may be 1..stepMax-min
}

var bounds = [numFields]fieldBounds{
	kSecond: {"second", 0, 59, 59},
	kMinute: {"minute", 0, 59, 59},
	kHour:   {"hour", 0, 23, 23},
	kDom:    {"day-of-month", 1, 31, 31},
	kMonth:  {"month", 1, 12, 12},
	kDow:    {"day-of-week", 0, 7, 6},
}

var monthNames = [13]string{"", "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}

var dayNames = [7]string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}

// fieldSpec is one parsed field.
type fieldSpec struct {
	mask  uint64
	star  bool // the field starts with `*` or `?`
	items []string

	nearest     uint64 // day-of-month nW
	last        bool   // day-of-month L
	lastWeekday bool   // day-of-month LW
	dowLast     uint64 // day-of-week dL
	nth         [7]uint8
}

// Parse parses a 5-field, 6-field (seconds first) or macro expression.
// Errors are *ParseError values.
func Parse(expr string) (*Schedule, error) {
	fields := strings.Fields(expr)
	if len(fields) == 0 {
		return nil, &ParseError{Expr: expr, Msg: "empty expression"}
	}
	if strings.HasPrefix(fields[0], "@") {
		return parseMacro(expr, fields)
	}
	withSeconds := len(fields) == 6
	if len(fields) != 5 && !withSeconds {
		return nil, &ParseError{Expr: expr, Msg: fmt.Sprintf(
			"expected 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got %d", len(fields))}
	}
	var specs [numFields]fieldSpec
	first := kMinute
	if withSeconds {
		first = kSecond
	} else {
		specs[kSecond] = fieldSpec{mask: 1, items: []string{"0"}}
	}
	for i, text := range fields {
		k := first + fieldKind(i)
		spec, err := parseField(k, text)
		if err != nil {
			return nil, &ParseError{Field: bounds[k].name, Position: i + 1, Expr: expr, Msg: err.Error()}
		}
		specs[k] = spec
	}
	return build(&specs, withSeconds), nil
}

// MustParse is like Parse but panics on error. It is meant for expressions
// that are constants of the program.
func MustParse(expr string) *Schedule {
	s, err := Parse(expr)
	if err != nil {
		panic(err)
	}
	return s
}

func parseMacro(expr string, fields []string) (*Schedule, error) {
	name := strings.ToLower(fields[0])
	var body string
	switch name {
	case "@yearly", "@annually":
		body = "0 0 1 1 *"
	case "@monthly":
		body = "0 0 1 * *"
	case "@weekly":
		body = "0 0 * * 0"
	case "@daily", "@midnight":
		body = "0 0 * * *"
	case "@hourly":
		body = "0 * * * *"
	case "@every":
		return nil, &ParseError{Expr: expr, Msg: `@every is not supported: use a cron expression such as "*/15 * * * *"`}
	default:
		return nil, &ParseError{Expr: expr, Msg: fmt.Sprintf(
			"unknown macro %q (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)", fields[0])}
	}
	if len(fields) > 1 {
		return nil, &ParseError{Position: 2, Expr: expr, Msg: fmt.Sprintf("unexpected %q after %s", fields[1], fields[0])}
	}
	return Parse(body)
}

func build(specs *[numFields]fieldSpec, withSeconds bool) *Schedule {
	dom, dow := &specs[kDom], &specs[kDow]
	s := &Schedule{
		second:         specs[kSecond].mask,
		minute:         specs[kMinute].mask,
		hour:           specs[kHour].mask,
		dom:            dom.mask,
		month:          specs[kMonth].mask,
		dow:            dow.mask,
		domNearest:     dom.nearest,
		domLast:        dom.last,
		domLastWeekday: dom.lastWeekday,
		dowLast:        dow.dowLast,
		dowNth:         dow.nth,
		domStar:        dom.star,
		dowStar:        dow.star,
		withSeconds:    withSeconds,
	}
	s.everyHour = s.hour == rangeMask(0, 23)
	s.dayRule = s.classifyDays()
	s.anyDay = s.dayRule == daysAll
	allMonths := s.month == rangeMask(1, 12)
	s.everyDay = s.anyDay && allMonths
	s.weekly = allMonths && s.dayRule == daysDow && s.dowLast == 0 && s.dowNth == [7]uint8{}
	s.firstTime = (nextBit(s.hour, 0)*60+nextBit(s.minute, 0))*60 + nextBit(s.second, 0)
	s.lastTime = (prevBit(s.hour, 23)*60+prevBit(s.minute, 59))*60 + prevBit(s.second, 59)
	parts := make([]string, 0, numFields)
	for k := kSecond; k < numFields; k++ {
		if k == kSecond && !withSeconds {
			continue
		}
		parts = append(parts, strings.Join(specs[k].items, ","))
	}
	s.expr = strings.Join(parts, " ")
	return s
}

// dayRule says how the two day fields combine (Vixie rule).
type dayRule uint8

const (
	daysAll dayRule = iota // every day
	daysDom                // only the day-of-month field restricts
	daysDow                // only the day-of-week field restricts
	daysAnd                // both restrict; a field starting with * or ? makes it AND
	daysOr                 // both restrict; a day matches if either matches
)

func (s *Schedule) classifyDays() dayRule {
	domFull := s.dom == rangeMask(1, 31) // extensions only add days
	dowFull := s.dow == rangeMask(0, 6)
	switch {
	case !s.domStar && !s.dowStar && (domFull || dowFull):
		return daysAll
	case !s.domStar && !s.dowStar:
		return daysOr
	case domFull && dowFull:
		return daysAll
	case dowFull:
		return daysDom
	case domFull:
		return daysDow
	}
	return daysAnd
}

func parseField(k fieldKind, text string) (fieldSpec, error) {
	spec := fieldSpec{star: text[0] == '*' || text[0] == '?'}
	for item := range strings.SplitSeq(text, ",") {
		norm, err := parseItem(k, item, &spec)
		if err != nil {
			return spec, err
		}
		spec.items = append(spec.items, norm)
	}
	return spec, nil
}

func parseItem(k fieldKind, item string, spec *fieldSpec) (string, error) {
	if item == "" {
		return "", errors.New("empty list item")
	}
	if norm, handled, err := parseSpecialItem(k, item, spec); handled {
		return norm, err
	}
	rangePart, stepPart, hasStep := strings.Cut(item, "/")
	step := 1
	if hasStep {
		var err error
		if step, err = parseStep(k, stepPart); err != nil {
			return "", err
		}
	}
	lo, hi, star, err := parseRange(k, rangePart, hasStep)
	if err != nil {
		return "", err
	}
	for v := lo; v <= hi; v += step {
		spec.mask |= 1 << uint(v)
	}
	if k == kDow && spec.mask&(1<<7) != 0 {
		spec.mask = spec.mask&^(1<<7) | 1 // 7 is Sunday
	}
	return normItem(k, lo, hi, step, star, hasStep && !strings.Contains(rangePart, "-")), nil
}

// parseSpecialItem handles the L, W and # forms of the day fields and
// reports whether item was one of them.
func parseSpecialItem(k fieldKind, item string, spec *fieldSpec) (string, bool, error) {
	switch k {
	case kDom:
		if strings.ContainsAny(item, "LlWw#") {
			norm, err := parseDomExtension(item, spec)
			return norm, true, err
		}
	case kDow:
		if strings.Contains(item, "#") || strings.HasSuffix(item, "L") || strings.HasSuffix(item, "l") {
			norm, err := parseDowExtension(item, spec)
			return norm, true, err
		}
	case kSecond, kMinute, kHour:
		if strings.ContainsAny(item, "LlWw#") {
			return "", true, fmt.Errorf("invalid value %q (L, W and # are only allowed in the day fields)", item)
		}
	}
	return "", false, nil
}

// normItem renders a parsed item in normalised form.
func normItem(k fieldKind, lo, hi, step int, star, openEnded bool) string {
	var base string
	switch {
	case star:
		base = "*"
	case openEnded && step > 1:
		base = strconv.Itoa(lo)
	case lo == hi:
		if k == kDow && lo == 7 {
			lo = 0
		}
		return strconv.Itoa(lo)
	default:
		base = strconv.Itoa(lo) + "-" + strconv.Itoa(hi)
	}
	if step == 1 {
		return base
	}
	return base + "/" + strconv.Itoa(step)
}

func parseStep(k fieldKind, text string) (int, error) {
	b := bounds[k]
	if text == "" {
		return 0, errors.New("missing step after /")
	}
	n, ok := parseDigits(text)
	if !ok {
		return 0, fmt.Errorf("invalid step %q", text)
	}
	if n < 1 || n > b.stepMax-b.min {
		return 0, fmt.Errorf("step %s out of range 1-%d", text, b.stepMax-b.min)
	}
	return n, nil
}

// parseRange parses `*`, `?`, `a` or `a-b`. With a step, `a` means a to the
// end of the field.
func parseRange(k fieldKind, text string, hasStep bool) (lo, hi int, star bool, err error) {
	b := bounds[k]
	if text == "*" || text == "?" {
		if text == "?" && k != kDom && k != kDow {
			return 0, 0, false, errors.New("? is only allowed in day-of-month and day-of-week")
		}
		return b.min, b.stepMax, true, nil
	}
	loText, hiText, isRange := strings.Cut(text, "-")
	if lo, err = parseValue(k, loText); err != nil {
		return 0, 0, false, err
	}
	if !isRange {
		if hasStep {
			return lo, max(lo, b.stepMax), false, nil
		}
		return lo, lo, false, nil
	}
	if hi, err = parseValue(k, hiText); err != nil {
		return 0, 0, false, err
	}
	if k == kDow && hi == 0 && lo > 0 {
		hi = 7 // FRI-SUN
	}
	if lo > hi {
		return 0, 0, false, fmt.Errorf("reversed range %s (the start must not exceed the end)", text)
	}
	return lo, hi, false, nil
}

// parseValue parses a number or a name and checks its range.
func parseValue(k fieldKind, text string) (int, error) {
	b := bounds[k]
	if text == "" {
		return 0, errors.New("missing value")
	}
	if n, ok := parseDigits(text); ok {
		if n < b.min || n > b.max {
			return 0, fmt.Errorf("value %s out of range %d-%d", text, b.min, b.max)
		}
		return n, nil
	}
	if (k == kMonth || k == kDow) && isLetters(text) {
		if n, ok := lookupName(k, text); ok {
			return n, nil
		}
		if k == kMonth {
			return 0, fmt.Errorf("unknown name %q (use JAN-DEC or 1-12)", text)
		}
		return 0, fmt.Errorf("unknown name %q (use SUN-SAT or 0-7)", text)
	}
	return 0, fmt.Errorf("invalid value %q", text)
}

func lookupName(k fieldKind, text string) (int, bool) {
	upper := strings.ToUpper(text)
	if k == kMonth {
		for i := 1; i < len(monthNames); i++ {
			if monthNames[i] == upper {
				return i, true
			}
		}
		return 0, false
	}
	for i, name := range dayNames {
		if name == upper {
			return i, true
		}
	}
	return 0, false
}

// parseDigits parses a short run of ASCII digits. Values too long to be
// valid in any field come back as 1000 so that they fail the range check.
func parseDigits(text string) (int, bool) {
	if text == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < 1000 {
			n = n*10 + int(c-'0')
		}
	}
	return n, true
}

func isLetters(text string) bool {
	for i := 0; i < len(text); i++ {
		c := text[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// parseDomExtension parses L, LW and nW in the day-of-month field.
func parseDomExtension(item string, spec *fieldSpec) (string, error) {
	upper := strings.ToUpper(item)
	switch {
	case upper == "L":
		spec.last = true
		return "L", nil
	case upper == "LW":
		spec.lastWeekday = true
		return "LW", nil
	case strings.HasPrefix(upper, "L"):
		return "", fmt.Errorf("unsupported value %q (use L for the last day or LW for the last weekday)", item)
	case strings.HasSuffix(upper, "W") && !strings.ContainsAny(upper, "#"):
		n, ok := parseDigits(upper[:len(upper)-1])
		if !ok {
			return "", fmt.Errorf("invalid value %q (W needs a single day, e.g. 15W)", item)
		}
		if n < 1 || n > 31 {
			return "", fmt.Errorf("value %s out of range 1-31", item[:len(item)-1])
		}
		spec.nearest |= 1 << uint(n)
		return strconv.Itoa(n) + "W", nil
	}
	return "", fmt.Errorf("invalid value %q", item)
}

// parseDowExtension parses dL and d#n in the day-of-week field.
func parseDowExtension(item string, spec *fieldSpec) (string, error) {
	upper := strings.ToUpper(item)
	if day, nth, ok := strings.Cut(upper, "#"); ok {
		d, err := parseValue(kDow, day)
		if err != nil {
			return "", err
		}
		n, ok := parseDigits(nth)
		if !ok {
			return "", fmt.Errorf("invalid occurrence %q in %q (use d#1 to d#5)", nth, item)
		}
		if n < 1 || n > 5 {
			return "", fmt.Errorf("occurrence %s out of range 1-5", nth)
		}
		spec.nth[d%7] |= 1 << uint(n)
		return strconv.Itoa(d%7) + "#" + strconv.Itoa(n), nil
	}
	if upper == "L" {
		return "", errors.New(`a lone L is not supported in day-of-week (use dL, e.g. 5L for the last Friday, or 6 for Saturday)`)
	}
	if day, ok := strings.CutSuffix(upper, "L"); ok {
		d, err := parseValue(kDow, day)
		if err != nil {
			return "", err
		}
		spec.dowLast |= 1 << uint(d%7)
		return strconv.Itoa(d%7) + "L", nil
	}
	return "", fmt.Errorf("invalid value %q", item)
}
