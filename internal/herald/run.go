package herald

import (
	"encoding/json"
	"time"
)

// RunStatus is the state of a run.
type RunStatus string

// Run states: queued -> running -> succeeded | failed | canceled, and skipped.
const (
	RunQueued    RunStatus = "queued"
	RunRunning   RunStatus = "running"
	RunSucceeded RunStatus = "succeeded"
	RunFailed    RunStatus = "failed"
	RunCanceled  RunStatus = "canceled"
	RunSkipped   RunStatus = "skipped"
)

// Terminal reports whether no further transition is possible.
func (s RunStatus) Terminal() bool {
	switch s {
	case RunSucceeded, RunFailed, RunCanceled, RunSkipped:
		return true
	}
	return false
}

// CanMove reports whether the state machine allows s -> next.
func (s RunStatus) CanMove(next RunStatus) bool {
	switch s {
	case RunQueued:
		return next == RunRunning || next == RunCanceled || next == RunSkipped || next == RunFailed
	case RunRunning:
		return next == RunSucceeded || next == RunFailed || next == RunCanceled || next == RunQueued
	}
	return false
}

// Run lifecycle limits.
const (
	// MaxAttempts bounds how often a run whose worker vanished (its lease
	// expired) is started again before it fails.
	MaxAttempts = 3
	// DefaultLease is how long a worker holds a running run without renewing it.
	DefaultLease = 5 * time.Minute
)

// Active reports whether the run is queued or running.
func (s RunStatus) Active() bool { return s == RunQueued || s == RunRunning }

// Trigger says what created a run.
type Trigger string

// Run triggers.
const (
	TriggerSchedule Trigger = "schedule"
	TriggerManual   Trigger = "manual"
	TriggerBackfill Trigger = "backfill"
	TriggerRetry    Trigger = "retry"
)

// Artifact is one stored output file of a run. Its file lives at
// ArtifactPath(tenant, report, run, artifact id).
type Artifact struct {
	ID          string  `json:"id"`
	Format      Format  `json:"format"`
	Name        string  `json:"name"`
	ContentType string  `json:"contentType"`
	Size        int64   `json:"size"`
	SHA256      string  `json:"sha256"`
	Rows        int64   `json:"rows"`
	CreatedAt   Instant `json:"createdAt"`
	// ExpiredAt is set when the retention sweep deleted the file.
	ExpiredAt Instant `json:"expiredAt,omitzero"`
}

// PhaseTimings are the milliseconds spent in each phase of generation.
type PhaseTimings struct {
	QueryMs  int64 `json:"queryMs"`
	RenderMs int64 `json:"renderMs"`
	StoreMs  int64 `json:"storeMs"`
}

// Run is one execution of a report.
type Run struct {
	Meta
	ScheduleID   string    `json:"scheduleId,omitempty"`
	ReportID     string    `json:"reportId"`
	Trigger      Trigger   `json:"trigger"`
	ScheduledFor Instant   `json:"scheduledFor"`
	Status       RunStatus `json:"status"`
	Reason       string    `json:"reason,omitempty"`
	Attempt      int       `json:"attempt"`
	// Interruptions counts attempts a shutdown handed back unfinished;
	// they do not count towards MaxAttempts.
	Interruptions int                        `json:"interruptions,omitempty"`
	Parameters    map[string]json.RawMessage `json:"parameters,omitempty"`
	RetryOf       string                     `json:"retryOf,omitempty"`
	BlockedBy     string                     `json:"blockedBy,omitempty"` // overlap bufferOne: waits for this run of the schedule to end
	StartedAt     Instant                    `json:"startedAt,omitzero"`
	FinishedAt    Instant                    `json:"finishedAt,omitzero"`
	LeaseUntil    Instant                    `json:"leaseUntil,omitzero"`
	DueAt         Instant                    `json:"dueAt,omitzero"` // when recovery must look at an unfinished run; absent once terminal
	Rows          int64                      `json:"rows"`
	Truncated     bool                       `json:"truncated,omitempty"`
	Timings       PhaseTimings               `json:"timings"`
	Artifacts     []Artifact                 `json:"artifacts"`
	// DeliveryQueuedAt is when the run's delivery job was published; until
	// then a finished run that needs delivery keeps a dueAt for recovery.
	DeliveryQueuedAt Instant `json:"deliveryQueuedAt,omitzero"`
}

// Failures is the number of attempts that failed (or whose worker
// stopped responding), not counting the current one.
func (r *Run) Failures() int { return r.Attempt - 1 - r.Interruptions }

// NeedsDelivery reports whether the run's end must be delivered: a
// scheduled run (with the schedule's channels) that succeeded or failed.
// Whether anything is sent is the delivery step's decision.
func (r *Run) NeedsDelivery() bool {
	return r.ScheduleID != "" && (r.Status == RunSucceeded || r.Status == RunFailed)
}

// Kind implements Record.
func (*Run) Kind() Kind { return KindRun }

// ScheduledRunID is the id of the run of a schedule at a fire time: the same
// inputs always give the same id, so a run is never created twice.
func ScheduledRunID(tenantID, scheduleID string, at Instant) string {
	return DerivedID(PrefixRun, at.Time, tenantID, scheduleID, at.String())
}

// DeliveryStatus is the state of one delivery ledger entry.
type DeliveryStatus string

// Delivery states.
const (
	DeliveryPending DeliveryStatus = "pending" // written before sending
	DeliverySent    DeliveryStatus = "sent"    // the provider accepted it
	DeliveryFailed  DeliveryStatus = "failed"  // gave up, with a reason
	DeliverySkipped DeliveryStatus = "skipped" // the send condition was not met
)

// Delivery is a ledger entry for one (run, channel, recipient).
type Delivery struct {
	Meta
	RunID      string         `json:"runId"`
	ScheduleID string         `json:"scheduleId,omitempty"`
	Channel    Channel        `json:"channel"`
	Recipient  string         `json:"recipient"`
	Status     DeliveryStatus `json:"status"`
	Attempts   int            `json:"attempts"`
	Reason     string         `json:"reason,omitempty"`
	ProviderID string         `json:"providerId,omitempty"`
	SentAt     Instant        `json:"sentAt,omitzero"`
}

// Kind implements Record.
func (*Delivery) Kind() Kind { return KindDelivery }

// DeliveryID is the ledger key of (run, channel, recipient).
func DeliveryID(tenantID, runID string, ch Channel, recipient string, runAt Instant) string {
	return DerivedID(PrefixDelivery, runAt.Time, tenantID, runID, string(ch), recipient)
}

// AuditEvent records one change made through Herald.
type AuditEvent struct {
	Meta
	Time         Instant        `json:"time"`
	Actor        string         `json:"actor"`
	ActorRole    Role           `json:"actorRole"`
	Action       string         `json:"action"`
	ResourceType Kind           `json:"resourceType"`
	ResourceID   string         `json:"resourceId"`
	Summary      string         `json:"summary"`
	Changes      map[string]any `json:"changes,omitempty"`
	RequestID    string         `json:"requestId,omitempty"`
}

// Kind implements Record.
func (*AuditEvent) Kind() Kind { return KindAudit }

// Skip makes a new run a skipped one, finished at now with reason.
func (r *Run) Skip(reason string, now Instant) {
	r.Status, r.Reason = RunSkipped, reason
	r.FinishedAt, r.DueAt = now, Instant{}
}
