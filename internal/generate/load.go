package generate

import (
	"context"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// job is everything one generation needs, loaded and resolved.
type job struct {
	run    *herald.Run
	report *herald.Report
	ds     *herald.DataSource
	zone   *time.Location
	params map[string]any
	types  map[string]herald.ParamType
}

// load reads the run's report, data source, schedule and tenant and
// resolves the parameters at the run's scheduled instant in the schedule's
// zone (the tenant's zone for runs without a schedule, else UTC).
func (h *Handler) load(ctx context.Context, run *herald.Run) (*job, *failure) {
	report, err := herald.GetRecord[herald.Report](ctx, h.cfg.Store, run.TenantID, run.ReportID)
	if err != nil {
		return nil, readFailure(err, "the report "+run.ReportID)
	}
	ds, err := herald.GetRecord[herald.DataSource](ctx, h.cfg.Store, run.TenantID, report.DataSourceID)
	if err != nil {
		return nil, readFailure(err, "the data source "+report.DataSourceID)
	}
	zone, f := h.zone(ctx, run)
	if f != nil {
		return nil, f
	}
	params, types, err := herald.ResolveParameters(report.Parameters, run.ScheduledFor.Time, zone, run.Parameters)
	if err != nil {
		return nil, newFailure(ClassConfig, false, "parameters: %s", herald.MessageOf(err))
	}
	return &job{run: run, report: report, ds: ds, zone: zone, params: params, types: types}, nil
}

// zone is the zone the run's dates are resolved and shown in.
func (h *Handler) zone(ctx context.Context, run *herald.Run) (*time.Location, *failure) {
	if run.ScheduleID != "" {
		s, err := herald.GetRecord[herald.Schedule](ctx, h.cfg.Store, run.TenantID, run.ScheduleID)
		switch {
		case err == nil:
			if loc, err := s.Location(); err == nil {
				return loc, nil
			}
		case !herald.Is(err, herald.CodeNotFound):
			return nil, readFailure(err, "the schedule "+run.ScheduleID)
		}
	}
	t, err := herald.GetRecord[herald.Tenant](ctx, h.cfg.Store, run.TenantID, run.TenantID)
	switch {
	case err == nil && t.DefaultTimezone != "":
		if loc, err := herald.LoadZone(t.DefaultTimezone); err == nil {
			return loc, nil
		}
	case err != nil && !herald.Is(err, herald.CodeNotFound):
		return nil, readFailure(err, "the tenant")
	}
	return time.UTC, nil
}

// readFailure classifies a failed read of a record the run needs: a
// deleted record fails the run, anything else may pass.
func readFailure(err error, what string) *failure {
	if herald.Is(err, herald.CodeNotFound) {
		return newFailure(ClassConfig, false, "%s no longer exists", what)
	}
	return newFailure(ClassInternal, true, "reading %s failed: %s", what, herald.MessageOf(err))
}
