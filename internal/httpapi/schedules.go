package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/heraldreports/herald/internal/cronexpr"
	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/scheduler"
)

type scheduleInput struct {
	ReportID      string                     `json:"reportId"`
	Name          string                     `json:"name"`
	Description   string                     `json:"description"`
	Cron          string                     `json:"cron"`
	Timezone      string                     `json:"timezone"`
	Enabled       *bool                      `json:"enabled"`
	MisfirePolicy herald.MisfirePolicy       `json:"misfirePolicy"`
	OverlapPolicy herald.OverlapPolicy       `json:"overlapPolicy"`
	CatchUpWindow herald.Duration            `json:"catchUpWindow"`
	Spread        herald.Duration            `json:"spread"`
	Parameters    map[string]json.RawMessage `json:"parameters"`
	Deliveries    []herald.DeliveryTarget    `json:"deliveries"`
	SendCondition herald.SendCondition       `json:"sendCondition"`
}

type scheduleView struct {
	ID              string                     `json:"id"`
	ReportID        string                     `json:"reportId"`
	Name            string                     `json:"name"`
	Description     string                     `json:"description,omitempty"`
	Cron            string                     `json:"cron"`
	CronDescription string                     `json:"cronDescription"`
	Timezone        string                     `json:"timezone"`
	Enabled         bool                       `json:"enabled"`
	MisfirePolicy   herald.MisfirePolicy       `json:"misfirePolicy"`
	OverlapPolicy   herald.OverlapPolicy       `json:"overlapPolicy"`
	CatchUpWindow   herald.Duration            `json:"catchUpWindow"`
	Spread          herald.Duration            `json:"spread"`
	Parameters      map[string]json.RawMessage `json:"parameters"`
	Deliveries      []herald.DeliveryTarget    `json:"deliveries"`
	SendCondition   herald.SendCondition       `json:"sendCondition"`
	NextRunAt       *herald.Instant            `json:"nextRunAt"`
	LastRunAt       *herald.Instant            `json:"lastRunAt"`
	LastRunID       string                     `json:"lastRunId,omitempty"`
	CreatedAt       herald.Instant             `json:"createdAt"`
	CreatedBy       string                     `json:"createdBy,omitempty"`
	UpdatedAt       herald.Instant             `json:"updatedAt"`
	UpdatedBy       string                     `json:"updatedBy,omitempty"`
}

func optionalInstant(i herald.Instant) *herald.Instant {
	if i.IsZero() {
		return nil
	}
	return &i
}

func viewSchedule(s *herald.Schedule) any {
	desc := s.Cron
	if c, err := cronexpr.Parse(s.Cron); err == nil {
		desc = c.Describe() + ", " + s.Timezone
	}
	return scheduleView{
		ID: s.ID, ReportID: s.ReportID, Name: s.Name, Description: s.Description, Cron: s.Cron, CronDescription: desc,
		Timezone: s.Timezone, Enabled: s.Enabled, MisfirePolicy: s.MisfirePolicy, OverlapPolicy: s.OverlapPolicy,
		CatchUpWindow: s.CatchUpWindow, Spread: s.Spread, Parameters: s.Parameters, Deliveries: s.Deliveries,
		SendCondition: s.SendCondition, NextRunAt: optionalInstant(s.NextRunAt), LastRunAt: optionalInstant(s.LastRunAt),
		LastRunID: s.LastRunID, CreatedAt: s.CreatedAt, CreatedBy: s.CreatedBy, UpdatedAt: s.UpdatedAt, UpdatedBy: s.UpdatedBy,
	}
}

func (s *Server) schedules() *resource[herald.Schedule, *herald.Schedule] {
	return &resource[herald.Schedule, *herald.Schedule]{
		s: s, noun: "schedule", plural: "schedules", prefix: herald.PrefixSchedule,
		writeMin: herald.RoleEditor, orderBy: "name",
		build: s.buildSchedule,
		view:  viewSchedule,
		filters: func(r *http.Request) ([]herald.Cond, error) {
			return queryFilters(r, []filterSpec{
				{param: "reportId", field: "reportId"},
				{param: "enabled", field: "enabled", boolean: true},
			})
		},
		label: func(sc *herald.Schedule) string { return sc.Name },
	}
}

// checkCron validates a cron expression; its message names the field and
// position (the field name "cron" is added by the caller).
func checkCron(expr string) error {
	if _, err := cronexpr.Parse(expr); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "cron: "))
	}
	return nil
}

func (s *Server) buildSchedule(r *http.Request, p herald.Principal, _ string, cur *herald.Schedule) (*herald.Schedule, error) {
	var in scheduleInput
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	next := &herald.Schedule{
		ReportID: in.ReportID, Name: in.Name, Description: in.Description, Cron: in.Cron, Timezone: in.Timezone,
		Enabled: enabledOr(in.Enabled, cur), MisfirePolicy: in.MisfirePolicy, OverlapPolicy: in.OverlapPolicy,
		CatchUpWindow: in.CatchUpWindow, Spread: in.Spread, Parameters: in.Parameters, Deliveries: in.Deliveries,
		SendCondition: in.SendCondition,
	}
	next.Normalize()
	if err := next.Validate(checkCron, nil); err != nil {
		return nil, err
	}
	report, err := herald.GetRecord[herald.Report](r.Context(), s.store, p.TenantID, next.ReportID)
	if herald.Is(err, herald.CodeNotFound) {
		return nil, notInTenant("reportId", "report", next.ReportID)
	}
	if err != nil {
		return nil, err
	}
	if err := next.Validate(checkCron, report); err != nil {
		return nil, err
	}
	if cur != nil {
		next.LastRunAt, next.LastRunID = cur.LastRunAt, cur.LastRunID
	}
	if err := s.planNext(next, cur); err != nil {
		return nil, err
	}
	return next, nil
}

// enabledOr is the enabled flag a write asks for; when it says nothing, a
// new schedule is enabled and an existing one keeps its state (so editing a
// paused schedule does not resume it).
func enabledOr(v *bool, cur *herald.Schedule) bool {
	switch {
	case v != nil:
		return *v
	case cur != nil:
		return cur.Enabled
	default:
		return true
	}
}

// planNext sets the schedule's next run. An unchanged, still enabled timing
// keeps its pending next run, so an edit never drops a run that is due; a
// new or changed timing starts from now.
func (s *Server) planNext(next, cur *herald.Schedule) error {
	if next.Enabled && cur != nil && cur.Enabled && cur.Cron == next.Cron && cur.Timezone == next.Timezone &&
		cur.Spread == next.Spread && !cur.NextRunAt.IsZero() {
		next.NextRunAt, next.DueAt = cur.NextRunAt, cur.DueAt
		return nil
	}
	return scheduler.Plan(next, s.now())
}

// pauseSchedule serves POST /schedules/{id}/pause.
func (s *Server) pauseSchedule(w http.ResponseWriter, r *http.Request) {
	s.setEnabled(w, r, false)
}

// resumeSchedule serves POST /schedules/{id}/resume. Fire times that passed
// while paused are not caught up: the next run is the next fire time from now.
func (s *Server) resumeSchedule(w http.ResponseWriter, r *http.Request) {
	s.setEnabled(w, r, true)
}

func (s *Server) setEnabled(w http.ResponseWriter, r *http.Request, enabled bool) {
	rs := s.schedules()
	p, cur, err := rs.loadForWrite(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if cur.Enabled == enabled {
		s.respond(w, r, http.StatusOK, cur.Version(), viewSchedule(cur))
		return
	}
	next := *cur
	next.Enabled = enabled
	if err := scheduler.Plan(&next, s.now()); err != nil {
		writeError(w, r, err)
		return
	}
	next.Touch(p.Subject, herald.At(s.now()))
	if err := herald.ReplaceRecord(r.Context(), s.store, &next); err != nil {
		writeError(w, r, rs.staleWrite(err, next.ID))
		return
	}
	action, verb := "schedule.pause", "paused"
	if enabled {
		action, verb = "schedule.resume", "resumed"
	}
	s.audit(r, p, action, &next, fmt.Sprintf("%s schedule %q", verb, next.Name), diff(cur, &next))
	s.respond(w, r, http.StatusOK, next.Version(), viewSchedule(&next))
}
