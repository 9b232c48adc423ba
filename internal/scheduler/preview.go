package scheduler

import (
	"strings"
	"time"

	"github.com/heraldreports/herald/internal/cronexpr"
	"github.com/heraldreports/herald/internal/herald"
)

// MaxPreview bounds the fire times one preview lists.
const MaxPreview = 100

// Preview is the description and upcoming fire times of a cron expression
// in a time zone.
type Preview struct {
	Description string        `json:"description"`
	Times       []PreviewTime `json:"times"`
}

// PreviewTime is one fire time, in UTC and in the schedule's zone.
type PreviewTime struct {
	UTC        herald.Instant `json:"utc"`
	Local      string         `json:"local"`              // RFC 3339 with the zone's offset
	Zone       string         `json:"zone"`               // the zone's abbreviation then (CET, CEST)
	DSTShifted bool           `json:"dstShifted"`         // moved by a DST gap: the named wall time did not exist
	Nominal    string         `json:"nominal,omitempty"`  // the wall time the expression named, when shifted
	Repeated   bool           `json:"repeated,omitempty"` // in a repeated (fall-back) hour
}

// PreviewCron lists the next count fire times of expr in zone strictly
// after from. Invalid input is CodeInvalid naming the field.
func PreviewCron(expr, zone string, from time.Time, count int) (Preview, error) {
	var p herald.Problems
	var sched *cronexpr.Schedule
	var err error
	if len(expr) > herald.MaxCronLen {
		p.Add("cron", "must be at most %d characters", herald.MaxCronLen)
	} else if sched, err = cronexpr.Parse(strings.TrimSpace(expr)); err != nil {
		p.Add("cron", "%s", strings.TrimPrefix(err.Error(), "cron: "))
	}
	loc, zerr := herald.LoadZone(zone)
	if zerr != nil {
		p.Add("timezone", "unknown time zone %q: use an IANA name such as Europe/Berlin", zone)
	}
	if count < 1 || count > MaxPreview {
		p.Add("count", "must be between 1 and %d", MaxPreview)
	}
	if err := p.Err("cron preview"); err != nil {
		return Preview{}, err
	}
	out := Preview{Description: sched.Describe() + ", " + zone, Times: []PreviewTime{}}
	for _, f := range sched.NextFires(from, loc, count) {
		local := f.Time.In(loc)
		abbr, _ := local.Zone()
		t := PreviewTime{UTC: herald.At(f.Time), Local: local.Format(time.RFC3339), Zone: abbr, DSTShifted: f.Shifted, Repeated: f.Ambiguous}
		if f.Shifted {
			t.Nominal = f.Nominal.String()
		}
		out.Times = append(out.Times, t)
	}
	return out, nil
}
