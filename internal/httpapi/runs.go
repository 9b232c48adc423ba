package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/scheduler"
)

// RunService creates and moves runs.
type RunService interface {
	RunNow(ctx context.Context, report *herald.Report, params map[string]json.RawMessage, actor string) (*herald.Run, error)
	Retry(ctx context.Context, tenantID, id, actor string) (*herald.Run, error)
	Cancel(ctx context.Context, tenantID, id, actor string) (*herald.Run, error)
	Backfill(ctx context.Context, sch *herald.Schedule, from, to time.Time, actor string) (created, existing []*herald.Run, err error)
}

type runView struct {
	ID           string                     `json:"id"`
	ScheduleID   *string                    `json:"scheduleId"`
	ReportID     string                     `json:"reportId"`
	Trigger      herald.Trigger             `json:"trigger"`
	ScheduledFor herald.Instant             `json:"scheduledFor"`
	Status       herald.RunStatus           `json:"status"`
	Reason       string                     `json:"reason"`
	Attempt      int                        `json:"attempt"`
	Parameters   map[string]json.RawMessage `json:"parameters"`
	RetryOf      string                     `json:"retryOf,omitempty"`
	WaitingFor   string                     `json:"waitingFor,omitempty"`
	CreatedAt    herald.Instant             `json:"createdAt"`
	CreatedBy    string                     `json:"createdBy,omitempty"`
	StartedAt    *herald.Instant            `json:"startedAt"`
	FinishedAt   *herald.Instant            `json:"finishedAt"`
	Rows         int64                      `json:"rows"`
	Truncated    bool                       `json:"truncated"`
	Timings      herald.PhaseTimings        `json:"timings"`
	Artifacts    []artifactView             `json:"artifacts"`
	Deliveries   []deliveryView             `json:"deliveries"`
}

type artifactView struct {
	ID          string         `json:"id"`
	Format      herald.Format  `json:"format"`
	Name        string         `json:"name"`
	ContentType string         `json:"contentType"`
	Size        int64          `json:"size"`
	SHA256      string         `json:"sha256"`
	Rows        int64          `json:"rows"`
	CreatedAt   herald.Instant `json:"createdAt"`
	ExpiredAt   herald.Instant `json:"expiredAt,omitzero"`
}

type deliveryView struct {
	ID        string                `json:"id"`
	Channel   herald.Channel        `json:"channel"`
	Recipient string                `json:"recipient"`
	Status    herald.DeliveryStatus `json:"status"`
	Attempts  int                   `json:"attempts"`
	Reason    string                `json:"reason,omitempty"`
	SentAt    *herald.Instant       `json:"sentAt"`
}

func viewRun(r *herald.Run) any { return newRunView(r, nil) }

func newRunView(r *herald.Run, deliveries []*herald.Delivery) runView {
	v := runView{
		ID: r.ID, ReportID: r.ReportID, Trigger: r.Trigger, ScheduledFor: r.ScheduledFor, Status: r.Status,
		Reason: r.Reason, Attempt: r.Attempt, Parameters: r.Parameters, RetryOf: r.RetryOf, WaitingFor: r.BlockedBy,
		CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy, StartedAt: optionalInstant(r.StartedAt), FinishedAt: optionalInstant(r.FinishedAt),
		Rows: r.Rows, Truncated: r.Truncated, Timings: r.Timings, Artifacts: []artifactView{}, Deliveries: []deliveryView{},
	}
	if r.ScheduleID != "" {
		v.ScheduleID = &r.ScheduleID
	}
	if v.Parameters == nil {
		v.Parameters = map[string]json.RawMessage{}
	}
	for _, a := range r.Artifacts {
		v.Artifacts = append(v.Artifacts, viewArtifact(a))
	}
	for _, d := range deliveries {
		v.Deliveries = append(v.Deliveries, deliveryView{ID: d.ID, Channel: d.Channel, Recipient: d.Recipient, Status: d.Status,
			Attempts: d.Attempts, Reason: d.Reason, SentAt: optionalInstant(d.SentAt)})
	}
	return v
}

func (s *Server) runs() *resource[herald.Run, *herald.Run] {
	return &resource[herald.Run, *herald.Run]{
		s: s, noun: "run", plural: "runs", orderBy: "scheduledFor", desc: true,
		view: viewRun,
		filters: func(r *http.Request) ([]herald.Cond, error) {
			return queryFilters(r, []filterSpec{
				{param: "status", field: "status", oneOf: []string{"queued", "running", "succeeded", "failed", "canceled", "skipped"}},
				{param: "reportId", field: "reportId"},
				{param: "scheduleId", field: "scheduleId"},
				{param: "trigger", field: "trigger", oneOf: []string{"schedule", "manual", "backfill", "retry"}},
				{param: "from", field: "scheduledFor", op: herald.OpGte, instant: true},
				{param: "to", field: "scheduledFor", op: herald.OpLt, instant: true},
			})
		},
		label: func(r *herald.Run) string { return r.ID },
	}
}

func (s *Server) runRoutes(r chi.Router) {
	rs := s.runs()
	r.Get("/", rs.list)
	r.Get("/{id}", s.getRun)
	r.Get("/{id}/artifacts/{artifactId}", s.downloadArtifact)
	r.With(requireRole(herald.RoleEditor)).Post("/{id}/retry", s.retryRun)
	r.With(requireRole(herald.RoleEditor)).Post("/{id}/cancel", s.cancelRun)
}

// getRun serves GET /runs/{id} with the run's delivery ledger.
func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	_, run, err := s.runs().load(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	deliveries, _, err := herald.ListRecords[herald.Delivery](r.Context(), s.store, herald.ListQuery{
		TenantID: run.TenantID, Limit: herald.MaxListLimit,
		Where: []herald.Cond{{Field: "runId", Op: herald.OpEq, Value: run.ID}},
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.respond(w, r, http.StatusOK, runETag(run, deliveries), newRunView(run, deliveries))
}

// runETag versions a run together with its delivery ledger, which is
// stored apart from it, so that a 304 is never stale.
func runETag(run *herald.Run, deliveries []*herald.Delivery) string {
	if len(deliveries) == 0 {
		return run.Version()
	}
	h := sha256.New()
	for _, d := range deliveries {
		_, _ = fmt.Fprintf(h, "%s=%s;", d.ID, d.Version())
	}
	return run.Version() + "-" + hex.EncodeToString(h.Sum(nil)[:8])
}

type runNowInput struct {
	Parameters map[string]json.RawMessage `json:"parameters"`
}

// runReport serves POST /reports/{id}/runs: run now, with parameter overrides.
func (s *Server) runReport(w http.ResponseWriter, r *http.Request) {
	var in runNowInput
	if err := decodeOptionalJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	p, report, err := s.reports().load(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	run, err := s.runsSvc.RunNow(r.Context(), report, in.Parameters, p.Subject)
	if err != nil {
		writeError(w, r, err)
		return
	}
	changes := map[string]any{"reportId": report.ID}
	if len(in.Parameters) > 0 {
		changes["parameters"] = in.Parameters
	}
	s.audit(r, p, "run.create", run, fmt.Sprintf("ran report %q now", report.Name), changes)
	w.Header().Set("Location", "/api/v1/runs/"+run.ID)
	s.respond(w, r, http.StatusCreated, run.Version(), viewRun(run))
}

// retryRun serves POST /runs/{id}/retry: a new run repeating a failed one.
func (s *Server) retryRun(w http.ResponseWriter, r *http.Request) {
	p, old, err := s.runs().load(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	run, err := s.runsSvc.Retry(r.Context(), p.TenantID, old.ID, p.Subject)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.audit(r, p, "run.retry", run, fmt.Sprintf("retried run %s", old.ID), map[string]any{"retryOf": old.ID})
	w.Header().Set("Location", "/api/v1/runs/"+run.ID)
	s.respond(w, r, http.StatusCreated, run.Version(), viewRun(run))
}

// cancelRun serves POST /runs/{id}/cancel for a queued run.
func (s *Server) cancelRun(w http.ResponseWriter, r *http.Request) {
	p, old, err := s.runs().load(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	run, err := s.runsSvc.Cancel(r.Context(), p.TenantID, old.ID, p.Subject)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.audit(r, p, "run.cancel", run, fmt.Sprintf("canceled run %s", run.ID), nil)
	s.respond(w, r, http.StatusOK, run.Version(), viewRun(run))
}

type backfillInput struct {
	From herald.Instant `json:"from"`
	To   herald.Instant `json:"to"`
}

type backfillView struct {
	Created  []any `json:"created"`
	Existing []any `json:"existing"`
}

// backfillSchedule serves POST /schedules/{id}/backfill: one run per fire
// time in [from, to), capped; fire times that have a run keep it.
func (s *Server) backfillSchedule(w http.ResponseWriter, r *http.Request) {
	var in backfillInput
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	var pr herald.Problems
	if in.From.IsZero() {
		pr.Add("from", "is required (RFC 3339)")
	}
	if in.To.IsZero() {
		pr.Add("to", "is required (RFC 3339)")
	}
	if err := pr.Err("backfill"); err != nil {
		writeError(w, r, err)
		return
	}
	p, sch, err := s.schedules().load(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	created, existing, err := s.runsSvc.Backfill(r.Context(), sch, in.From.Time, in.To.Time, p.Subject)
	if len(created) > 0 {
		s.audit(r, p, "schedule.backfill", sch, fmt.Sprintf("backfilled schedule %q: %d runs from %s to %s", sch.Name, len(created), in.From, in.To),
			map[string]any{"from": in.From, "to": in.To, "runs": len(created)})
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := backfillView{Created: []any{}, Existing: []any{}}
	for _, run := range created {
		out.Created = append(out.Created, viewRun(run))
	}
	for _, run := range existing {
		out.Existing = append(out.Existing, viewRun(run))
	}
	writeJSON(w, http.StatusOK, out)
}

type previewInput struct {
	Cron     string         `json:"cron"`
	Timezone string         `json:"timezone"`
	Count    int            `json:"count"`
	From     herald.Instant `json:"from"`
}

// previewCron serves POST /cron/preview.
func (s *Server) previewCron(w http.ResponseWriter, r *http.Request) {
	var in previewInput
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	if in.Count == 0 {
		in.Count = 5
	}
	from := in.From.Time
	if in.From.IsZero() {
		from = s.now()
	}
	out, err := scheduler.PreviewCron(in.Cron, in.Timezone, from, in.Count)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// nextRuns serves GET /schedules/{id}/next?count=N: its upcoming fire times.
func (s *Server) nextRuns(w http.ResponseWriter, r *http.Request) {
	count := 5
	if v := r.URL.Query().Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > scheduler.MaxPreview {
			writeError(w, r, &herald.Error{Code: herald.CodeInvalid, Message: fmt.Sprintf("count must be an integer from 1 to %d", scheduler.MaxPreview),
				Fields: []herald.FieldError{{Field: "count", Message: fmt.Sprintf("must be an integer from 1 to %d", scheduler.MaxPreview)}}})
			return
		}
		count = n
	}
	_, sch, err := s.schedules().load(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out, err := scheduler.PreviewCron(sch.Cron, sch.Timezone, s.now(), count)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
