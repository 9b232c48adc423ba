// Package cronexpr parses cron expressions and computes their fire times in
// an IANA time zone, following Herald's scheduling contract (see
// ARCHITECTURE.md, "Scheduling contract").
//
// Expressions have 5 fields (minute hour day-of-month month day-of-week) or 6
// fields (a leading seconds field), or are one of the macros @yearly,
// @annually, @monthly, @weekly, @daily, @midnight and @hourly. Fields accept
// `*`, values, names (JAN-DEC, SUN-SAT, any case), ranges `a-b`, steps `*/n`,
// `a-b/n` and `a/n`, and lists of these. Day-of-month also accepts `?`, `L`
// (last day), `LW` (last weekday) and `nW` (weekday nearest day n);
// day-of-week accepts `?`, `dL` (last weekday d of the month) and `d#n`
// (n-th weekday d of the month). When both day fields are restricted (neither
// starts with `*` or `?`), a day matches if either matches (Vixie cron).
//
// Daylight-saving time is handled in the schedule's zone:
//
//   - Fixed-hour schedules (the hour field does not match every hour): a
//     wall-clock time that does not exist (spring forward) fires once, at the
//     first instant after the gap, all such times in one gap coalescing into
//     that fire; a wall-clock time that occurs twice (fall back) fires once,
//     at its first occurrence.
//   - Every-hour schedules (the hour field matches all 24 hours) follow
//     elapsed time: times inside a gap do not fire and times in a repeated
//     hour fire at each occurrence.
//
// The fire set is defined once by these rules; Next enumerates it forwards
// and Prev backwards, so the two always agree.
package cronexpr

import "time"

// Schedule is a parsed cron expression. It is immutable and safe for
// concurrent use.
type Schedule struct {
	second, minute, hour uint64 // bit n set: value n matches
	dom                  uint64 // bits 1..31
	month                uint64 // bits 1..12
	dow                  uint64 // bits 0..6 (0 = Sunday)

	domNearest     uint64   // nW: bit n set for each n
	domLast        bool     // L
	domLastWeekday bool     // LW
	dowLast        uint64   // dL: bit d set for each weekday d
	dowNth         [7]uint8 // d#n: bit n of dowNth[d]

	domStar, dowStar bool // the field starts with `*` or `?` (Vixie day rule)
	anyDay           bool // every day of every month matches the day fields
	everyDay         bool // anyDay and every month matches
	weekly           bool // the matching days follow a weekly pattern: s.dow
	dayRule          dayRule
	firstTime        int  // first matching time of day, in seconds
	lastTime         int  // last matching time of day, in seconds
	everyHour        bool // the hour field matches all 24 hours
	withSeconds      bool // the expression had a seconds field

	expr string // normalised expression
}

// EveryHour reports whether the hour field matches every hour. Such schedules
// follow elapsed time across DST transitions; the others follow the
// fixed-hour rules (see the package documentation).
func (s *Schedule) EveryHour() bool { return s.everyHour }

// HasSeconds reports whether the expression has a seconds field.
func (s *Schedule) HasSeconds() bool { return s.withSeconds }

// String returns the normalised expression: fields separated by one space,
// names replaced by numbers, `?` by `*`, day-of-week 7 by 0, steps of 1
// dropped and macros expanded. Parsing it yields an equivalent schedule.
func (s *Schedule) String() string { return s.expr }

// locOrUTC returns the location to use; a nil location means UTC.
func locOrUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}
