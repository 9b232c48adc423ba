package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// MaxBackfill bounds the runs one backfill request creates.
const MaxBackfill = 500

// RunNow creates and queues a manual run of a report, with parameter
// values that override the report's defaults.
func (l *Runs) RunNow(ctx context.Context, report *herald.Report, params map[string]json.RawMessage, actor string) (*herald.Run, error) {
	var p herald.Problems
	herald.CheckParameterValues(&p, "parameters", report.Parameters, params)
	for _, d := range report.Parameters {
		if v, given := params[d.Name]; d.Required && herald.IsNull(d.Default) && (!given || herald.IsNull(v)) {
			p.Add("parameters."+d.Name, "is required: the report gives it no default")
		}
	}
	if err := p.Err("run"); err != nil {
		return nil, err
	}
	now := herald.At(l.now())
	r := &herald.Run{
		Meta:     herald.Meta{ID: herald.NewID(herald.PrefixRun, now.Time), TenantID: report.TenantID},
		ReportID: report.ID, Trigger: herald.TriggerManual, ScheduledFor: now,
		Status: herald.RunQueued, Attempt: 1, Parameters: params, Artifacts: []herald.Artifact{},
		DueAt: herald.At(now.Add(StartGrace)),
	}
	return r, l.createAndPublish(ctx, r, actor, now)
}

// Retry creates a new run repeating a failed, canceled or skipped one,
// with the same report, schedule, fire time and parameters.
func (l *Runs) Retry(ctx context.Context, tenantID, id, actor string) (*herald.Run, error) {
	old, err := herald.GetRecord[herald.Run](ctx, l.store, tenantID, id)
	if err != nil {
		return nil, err
	}
	if old.Status != herald.RunFailed && old.Status != herald.RunCanceled && old.Status != herald.RunSkipped {
		return nil, herald.Errorf(herald.CodeConflict, "run %s is %s: only a failed, canceled or skipped run can be retried", id, old.Status)
	}
	now := herald.At(l.now())
	r := &herald.Run{
		Meta:       herald.Meta{ID: herald.NewID(herald.PrefixRun, now.Time), TenantID: tenantID},
		ScheduleID: old.ScheduleID, ReportID: old.ReportID, Trigger: herald.TriggerRetry, ScheduledFor: old.ScheduledFor,
		Status: herald.RunQueued, Attempt: 1, Parameters: old.Parameters, RetryOf: old.ID, Artifacts: []herald.Artifact{},
		DueAt: herald.At(now.Add(StartGrace)),
	}
	return r, l.createAndPublish(ctx, r, actor, now)
}

// Backfill creates one run per fire time of the schedule in [from, to),
// at most MaxBackfill. A fire time that already has a run (scheduled or
// backfilled before) keeps it: backfilling twice creates nothing twice.
func (l *Runs) Backfill(ctx context.Context, sch *herald.Schedule, from, to time.Time, actor string) (created, existing []*herald.Run, err error) {
	if !from.Before(to) {
		return nil, nil, &herald.Error{Code: herald.CodeInvalid, Message: "from must be before to",
			Fields: []herald.FieldError{{Field: "to", Message: "must be after from"}}}
	}
	if to.After(l.now()) {
		return nil, nil, &herald.Error{Code: herald.CodeInvalid, Message: "a backfill covers past fire times only",
			Fields: []herald.FieldError{{Field: "to", Message: "must not be in the future"}}}
	}
	expr, loc, err := parse(sch)
	if err != nil {
		return nil, nil, err
	}
	var fires []time.Time
	for f := expr.Next(from.Add(-time.Nanosecond), loc); !f.IsZero() && f.Before(to); f = expr.Next(f, loc) {
		if len(fires) == MaxBackfill {
			return nil, nil, &herald.Error{Code: herald.CodeInvalid,
				Message: fmt.Sprintf("the range has more than %d fire times: backfill a shorter range", MaxBackfill),
				Fields:  []herald.FieldError{{Field: "to", Message: fmt.Sprintf("the range has more than %d fire times", MaxBackfill)}}}
		}
		fires = append(fires, f)
	}
	now := herald.At(l.now())
	for _, f := range fires {
		r := newScheduledRun(sch, f, now.Time, actor)
		r.Trigger = herald.TriggerBackfill
		r.DueAt = herald.At(now.Add(StartGrace))
		err := l.createAndPublish(ctx, r, actor, now)
		switch {
		case herald.Is(err, herald.CodeConflict):
			old, getErr := herald.GetRecord[herald.Run](ctx, l.store, r.TenantID, r.ID)
			if getErr != nil {
				return created, existing, getErr
			}
			existing = append(existing, old)
		case err != nil:
			return created, existing, err
		default:
			created = append(created, r)
		}
	}
	return created, existing, nil
}

// createAndPublish stores a queued run and publishes its job. Once the run
// is stored the request has succeeded: should publishing fail, recovery
// publishes the run at its dueAt, so the caller is not told to try again
// (which would create a second run).
func (l *Runs) createAndPublish(ctx context.Context, r *herald.Run, actor string, now herald.Instant) error {
	r.Touch(actor, now)
	if err := herald.CreateRecord(ctx, l.store, r); err != nil {
		return err
	}
	if err := l.publish(ctx, r); err != nil {
		l.log.Warn("run stored but its job not published; recovery will publish it", "tenantId", r.TenantID, "runId", r.ID, "err", err.Error())
	}
	return nil
}
