// Package scheduler turns schedules into runs: it finds the schedules whose
// time has come, applies their spread, misfire and overlap policies,
// creates each run exactly once (its id derives from the schedule and the
// fire time), publishes a generation job per run and advances the schedule
// with a conditional write. It also recovers unfinished runs.
package scheduler

import (
	"fmt"
	"sync"
	"time"

	"github.com/heraldreports/herald/internal/cronexpr"
	"github.com/heraldreports/herald/internal/herald"
)

// Plan sets a schedule's next fire time strictly after after, and its due
// time (the fire time plus the spread offset). A disabled schedule has
// neither. A cron expression that never fires is CodeInvalid.
func Plan(s *herald.Schedule, after time.Time) error {
	if !s.Enabled {
		s.NextRunAt, s.DueAt = herald.Instant{}, herald.Instant{}
		return nil
	}
	expr, loc, err := parse(s)
	if err != nil {
		return err
	}
	next := expr.Next(after, loc)
	if next.IsZero() {
		return &herald.Error{Code: herald.CodeInvalid, Message: fmt.Sprintf("cron %q never fires", s.Cron),
			Fields: []herald.FieldError{{Field: "cron", Message: "never fires (no date matches it within five years)"}}}
	}
	s.NextRunAt = herald.At(next)
	s.DueAt = herald.At(next.Add(s.SpreadOffset()))
	return nil
}

// parse reads a stored schedule's expression and zone.
func parse(s *herald.Schedule) (*cronexpr.Schedule, *time.Location, error) {
	return parseWith(s, herald.LoadZone)
}

// parseWith is parse with a zone loader (the scanner's cache).
func parseWith(s *herald.Schedule, loadZone func(string) (*time.Location, error)) (*cronexpr.Schedule, *time.Location, error) {
	expr, err := cronexpr.Parse(s.Cron)
	if err != nil {
		return nil, nil, &herald.Error{Code: herald.CodeInvalid, Message: "cron: " + err.Error(), Cause: err,
			Fields: []herald.FieldError{{Field: "cron", Message: err.Error()}}}
	}
	loc, err := loadZone(s.Timezone)
	if err != nil {
		return nil, nil, err
	}
	return expr, loc, nil
}

// zoneCache keeps loaded time zones: loading one reads and parses the
// zone database each time, for every schedule of every scan otherwise.
type zoneCache struct {
	mu    sync.Mutex
	zones map[string]*time.Location
}

func (c *zoneCache) load(name string) (*time.Location, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if loc, ok := c.zones[name]; ok {
		return loc, nil
	}
	loc, err := herald.LoadZone(name)
	if err != nil {
		return nil, err
	}
	if c.zones == nil {
		c.zones = map[string]*time.Location{}
	}
	c.zones[name] = loc
	return loc, nil
}
