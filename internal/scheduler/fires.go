package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// fire is one fire time of a scan and what the misfire policy made of it.
type fire struct {
	at     time.Time
	run    bool
	reason string    // why it is skipped
	upTo   time.Time // set on a summary: this fire stands for every fire time from at up to and including upTo
}

// firePlan is what one scan does with one schedule.
type firePlan struct {
	fires []fire
	next  time.Time // the first fire time after the handled ones (zero: none left)
}

// planFires lists the schedule's fire times from its stored next run up to
// now (each delayed by the spread offset) and applies the misfire policy
// and the catch-up window to them. After Herald was down for longer than
// MaxFiresPerScan fire times, the oldest are recorded one by one, the rest
// but the latest in one summary skipped run, and the latest as usual.
func planFires(sch *herald.Schedule, now time.Time, zones *zoneCache) (firePlan, error) {
	expr, loc, err := parseWith(sch, zones.load)
	if err != nil {
		return firePlan{}, err
	}
	offset := sch.SpreadOffset()
	var p firePlan
	f := sch.NextRunAt.Time
	for !f.IsZero() && !f.Add(offset).After(now) {
		if len(p.fires) == MaxFiresPerScan-2 {
			latest := expr.Prev(now.Add(-offset).Add(time.Nanosecond), loc)
			if latest.After(f) {
				p.fires = append(p.fires, fire{at: f, upTo: expr.Prev(latest, loc)})
				f = latest
			}
			p.fires = append(p.fires, fire{at: f})
			f = expr.Next(f, loc)
			break
		}
		p.fires = append(p.fires, fire{at: f})
		f = expr.Next(f, loc)
	}
	if len(p.fires) == 0 {
		return p, errNoFires
	}
	p.next = f
	applyMisfire(sch, &p, now, offset)
	return p, nil
}

// applyMisfire decides which fire times run. A fire time handled within
// OnTime of its due time always runs; missed ones follow the policy:
// skip runs none, latest runs the most recent, all runs every one; none
// older than the catch-up window runs.
func applyMisfire(sch *herald.Schedule, p *firePlan, now time.Time, offset time.Duration) {
	window := sch.CatchUpWindow.Std()
	for i := range p.fires {
		f := &p.fires[i]
		late := now.Sub(f.at.Add(offset))
		latest := i == len(p.fires)-1
		switch {
		case !f.upTo.IsZero():
			f.reason = fmt.Sprintf("missed, like every fire time after it up to and including %s: more than %d fire times were missed, so these are recorded as one",
				herald.At(f.upTo), MaxFiresPerScan)
		case late <= OnTime:
			f.run = true
		case late > window:
			f.reason = fmt.Sprintf("missed by %s, beyond the catch-up window of %s", late.Round(time.Second), window)
		case sch.MisfirePolicy == herald.MisfireAll:
			f.run = true
		case sch.MisfirePolicy == herald.MisfireLatest && latest:
			f.run = true
		case sch.MisfirePolicy == herald.MisfireLatest:
			f.reason = "missed; a later fire time runs instead (misfire policy latest)"
		default:
			f.reason = fmt.Sprintf("missed by %s (misfire policy skip)", late.Round(time.Second))
		}
	}
}

// decideOverlap turns the planned fires into runs, applying the overlap
// policy against the schedule's unfinished runs and against each other.
func (s *Scanner) decideOverlap(ctx context.Context, sch *herald.Schedule, p firePlan, now time.Time) ([]*herald.Run, error) {
	active, waiting, err := s.activeRuns(ctx, sch)
	if err != nil {
		return nil, err
	}
	runs := make([]*herald.Run, 0, len(p.fires))
	for _, f := range p.fires {
		r := newScheduledRun(sch, f.at, now, "scheduler")
		switch {
		case !f.run:
			r.Skip(f.reason, herald.At(now))
		case sch.OverlapPolicy == herald.OverlapAllow || active == "":
			active = r.ID
			r.DueAt = herald.At(now.Add(StartGrace))
		case sch.OverlapPolicy == herald.OverlapBufferOne && waiting == "":
			r.BlockedBy, waiting = active, r.ID
			r.Reason = "waiting for run " + active + " of this schedule to end (overlap policy bufferOne)"
			r.DueAt = herald.At(now.Add(StartGrace))
		case sch.OverlapPolicy == herald.OverlapBufferOne:
			r.Skip("run "+waiting+" of this schedule is already waiting (overlap policy bufferOne)", herald.At(now))
		default:
			r.Skip("run "+active+" of this schedule is still unfinished (overlap policy skip)", herald.At(now))
		}
		runs = append(runs, r)
	}
	return runs, nil
}

// activeRuns finds the schedule's unfinished run that is not waiting and
// the one waiting behind it, if any. Under the skip and bufferOne policies
// the scanner never lets more than one run be active (and one wait), and
// the newest of them is the schedule's last run: one point read answers.
// Runs started by hand or by a backfill do not hold a schedule up.
func (s *Scanner) activeRuns(ctx context.Context, sch *herald.Schedule) (active, waiting string, err error) {
	if sch.OverlapPolicy == herald.OverlapAllow || sch.LastRunID == "" {
		return "", "", nil
	}
	last, err := herald.GetRecord[herald.Run](ctx, s.store, sch.TenantID, sch.LastRunID)
	switch {
	case herald.Is(err, herald.CodeNotFound):
		return "", "", nil
	case err != nil:
		return "", "", fmt.Errorf("reading the last run of schedule %s: %w", sch.ID, err)
	case !last.Status.Active():
		return "", "", nil
	case last.BlockedBy != "":
		return last.BlockedBy, last.ID, nil
	default:
		return last.ID, "", nil
	}
}

// newScheduledRun is the queued run of a schedule at a fire time, created by actor.
func newScheduledRun(sch *herald.Schedule, at, now time.Time, actor string) *herald.Run {
	scheduledFor := herald.At(at)
	r := &herald.Run{
		Meta:         herald.Meta{ID: herald.ScheduledRunID(sch.TenantID, sch.ID, scheduledFor), TenantID: sch.TenantID},
		ScheduleID:   sch.ID,
		ReportID:     sch.ReportID,
		Trigger:      herald.TriggerSchedule,
		ScheduledFor: scheduledFor,
		Status:       herald.RunQueued,
		Attempt:      1,
		Parameters:   sch.Parameters,
		Artifacts:    []herald.Artifact{},
	}
	r.Touch(actor, herald.At(now))
	return r
}
