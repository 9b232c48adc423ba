package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// Runs moves runs through their lifecycle: queued -> running ->
// succeeded | failed | canceled, plus skipped. Every write is conditional on
// the version read, so two workers, a worker and recovery, or a worker and
// a cancel never both win.
type Runs struct {
	store Store
	queue Publisher
	log   *slog.Logger
	now   func() time.Time
}

// NewRuns returns the run lifecycle over store and queue.
func NewRuns(store Store, queue Publisher, log *slog.Logger, now func() time.Time) *Runs {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Runs{store: store, queue: queue, log: log, now: now}
}

// errStale means a job no longer matches its run (finished, canceled, or a
// later attempt took over): the job is done without doing anything.
var errStale = errors.New("job is stale")

// IsStale reports whether err says the job no longer applies to its run.
func IsStale(err error) bool { return errors.Is(err, errStale) }

// Start takes the run of a job: queued at the job's attempt becomes running
// with a lease. A stale job (the run finished, was canceled, or moved to
// another attempt) returns an error for which IsStale is true.
func (l *Runs) Start(ctx context.Context, job herald.GenerateJob, lease time.Duration) (*herald.Run, error) {
	r, err := herald.GetRecord[herald.Run](ctx, l.store, job.TenantID, job.RunID)
	if herald.Is(err, herald.CodeNotFound) {
		return nil, fmt.Errorf("run %s/%s: %w", job.TenantID, job.RunID, errStale)
	}
	if err != nil {
		return nil, err
	}
	if r.Status != herald.RunQueued || r.Attempt != job.Attempt || r.BlockedBy != "" {
		return nil, fmt.Errorf("run %s is %s at attempt %d, job is for attempt %d: %w", r.ID, r.Status, r.Attempt, job.Attempt, errStale)
	}
	now := herald.At(l.now())
	r.Status, r.Reason = herald.RunRunning, ""
	r.StartedAt = now
	r.LeaseUntil = herald.At(now.Add(lease))
	r.DueAt = r.LeaseUntil
	r.Touch("worker", now)
	if err := herald.ReplaceRecord(ctx, l.store, r); err != nil {
		if herald.Is(err, herald.CodePreconditionFailed) {
			return nil, fmt.Errorf("run %s changed while starting: %w", r.ID, errStale)
		}
		return nil, err
	}
	return r, nil
}

// Renew extends the lease of a running run the caller holds.
func (l *Runs) Renew(ctx context.Context, r *herald.Run, lease time.Duration) error {
	now := herald.At(l.now())
	r.LeaseUntil = herald.At(now.Add(lease))
	r.DueAt = r.LeaseUntil
	r.Touch("worker", now)
	err := herald.ReplaceRecord(ctx, l.store, r)
	if herald.Is(err, herald.CodePreconditionFailed) {
		return fmt.Errorf("run %s changed while running (canceled or recovered): %w", r.ID, errStale)
	}
	return err
}

// Finish ends a running run the caller holds with a terminal status and a
// reason, then starts the run that waits behind it, if any, and publishes
// the run's delivery job when it needs one.
func (l *Runs) Finish(ctx context.Context, r *herald.Run, status herald.RunStatus, reason string) error {
	if !status.Terminal() {
		return herald.Errorf(herald.CodeInvalid, "run %s cannot finish as %s", r.ID, status)
	}
	now := herald.At(l.now())
	l.end(r, status, reason, now, "worker")
	if err := herald.ReplaceRecord(ctx, l.store, r); err != nil {
		if herald.Is(err, herald.CodePreconditionFailed) {
			return fmt.Errorf("run %s changed while running (canceled or recovered): %w", r.ID, errStale)
		}
		return err
	}
	if err := l.release(ctx, r); err != nil {
		return err
	}
	return l.queueDelivery(ctx, r)
}

// end moves r to a terminal status in memory. A run that needs delivery
// keeps a dueAt until its delivery job is published, so that recovery
// publishes it when the process dies in between.
func (l *Runs) end(r *herald.Run, status herald.RunStatus, reason string, now herald.Instant, actor string) {
	r.Status, r.Reason = status, reason
	r.FinishedAt, r.LeaseUntil, r.DueAt = now, herald.Instant{}, herald.Instant{}
	if r.NeedsDelivery() && r.DeliveryQueuedAt.IsZero() {
		r.DueAt = herald.At(now.Add(DeliveryGrace))
	}
	r.Touch(actor, now)
}

// queueDelivery publishes a finished run's delivery job (a no-op when it
// needs none or has it already) and records that it did.
func (l *Runs) queueDelivery(ctx context.Context, r *herald.Run) error {
	if !r.NeedsDelivery() || !r.DeliveryQueuedAt.IsZero() {
		return nil
	}
	if err := l.queue.Publish(ctx, herald.DeliverMessage(r)); err != nil {
		return fmt.Errorf("publishing the delivery of run %s: %w", r.ID, err)
	}
	now := herald.At(l.now())
	r.DeliveryQueuedAt, r.DueAt = now, herald.Instant{}
	r.Touch("worker", now)
	return ignoreStale(herald.ReplaceRecord(ctx, l.store, r))
}

// Interrupt gives a running run the caller holds back to the queue at once,
// because the worker is shutting down: the next attempt starts right away
// elsewhere (or after the restart) and this one does not count as failed.
func (l *Runs) Interrupt(ctx context.Context, r *herald.Run, reason string) error {
	now := herald.At(l.now())
	r.Status = herald.RunQueued
	r.Reason = fmt.Sprintf("attempt %d was %s; attempt %d starts at once", r.Attempt, reason, r.Attempt+1)
	r.Attempt++
	r.Interruptions++
	r.StartedAt, r.LeaseUntil = herald.Instant{}, herald.Instant{}
	r.DueAt = herald.At(now.Add(StartGrace))
	r.Touch("worker", now)
	if err := herald.ReplaceRecord(ctx, l.store, r); err != nil {
		if herald.Is(err, herald.CodePreconditionFailed) {
			return fmt.Errorf("run %s changed while running (canceled or recovered): %w", r.ID, errStale)
		}
		return err
	}
	if err := l.queue.Publish(ctx, herald.GenerateMessage(r, now.Time)); err != nil {
		return fmt.Errorf("publishing attempt %d of run %s: %w", r.Attempt, r.ID, err)
	}
	return nil
}

// RetryLater gives a running run the caller holds back to the queue after a
// failure that may pass (a database or storage outage): its next attempt
// starts after delay. After herald.MaxAttempts attempts it fails instead.
func (l *Runs) RetryLater(ctx context.Context, r *herald.Run, reason string, delay time.Duration) error {
	if r.Failures()+1 >= herald.MaxAttempts {
		return l.Finish(ctx, r, herald.RunFailed, fmt.Sprintf("%s (gave up after %d failed attempts)", reason, r.Failures()+1))
	}
	now := herald.At(l.now())
	notBefore := now.Add(delay)
	r.Status = herald.RunQueued
	r.Reason = fmt.Sprintf("attempt %d failed: %s; attempt %d starts at %s", r.Attempt, reason, r.Attempt+1, herald.At(notBefore))
	r.Attempt++
	r.StartedAt, r.LeaseUntil = herald.Instant{}, herald.Instant{}
	r.DueAt = herald.At(notBefore.Add(StartGrace))
	r.Touch("worker", now)
	if err := herald.ReplaceRecord(ctx, l.store, r); err != nil {
		if herald.Is(err, herald.CodePreconditionFailed) {
			return fmt.Errorf("run %s changed while running (canceled or recovered): %w", r.ID, errStale)
		}
		return err
	}
	if err := l.queue.Publish(ctx, herald.GenerateMessage(r, notBefore)); err != nil {
		return fmt.Errorf("publishing attempt %d of run %s: %w", r.Attempt, r.ID, err)
	}
	return nil
}

// release starts the run of the same schedule that waits for r, if any.
func (l *Runs) release(ctx context.Context, r *herald.Run) error {
	if r.ScheduleID == "" {
		return nil
	}
	waiting, _, err := herald.ListRecords[herald.Run](ctx, l.store, herald.ListQuery{
		TenantID: r.TenantID, Limit: 10,
		Where: []herald.Cond{{Field: "scheduleId", Op: herald.OpEq, Value: r.ScheduleID}, {Field: "status", Op: herald.OpEq, Value: string(herald.RunQueued)}},
	})
	if err != nil {
		return fmt.Errorf("finding the run waiting for %s: %w", r.ID, err)
	}
	for _, w := range waiting {
		if w.BlockedBy == r.ID {
			return l.unblock(ctx, w)
		}
	}
	return nil
}

// unblock lets a waiting run start: it is published like a new one.
func (l *Runs) unblock(ctx context.Context, w *herald.Run) error {
	now := herald.At(l.now())
	w.BlockedBy, w.Reason = "", ""
	w.DueAt = herald.At(now.Add(StartGrace))
	w.Touch("scheduler", now)
	if err := herald.ReplaceRecord(ctx, l.store, w); err != nil {
		if herald.Is(err, herald.CodePreconditionFailed) {
			return nil // someone else (recovery, a cancel) got there first
		}
		return fmt.Errorf("releasing run %s: %w", w.ID, err)
	}
	return l.publish(ctx, w)
}

func (l *Runs) publish(ctx context.Context, r *herald.Run) error {
	if err := l.queue.Publish(ctx, herald.GenerateMessage(r, l.now())); err != nil {
		return fmt.Errorf("publishing run %s: %w", r.ID, err)
	}
	return nil
}

// Cancel cancels a queued run (waiting or not). A running run is not
// interrupted: that answers CodeConflict, as does a finished one.
func (l *Runs) Cancel(ctx context.Context, tenantID, id, actor string) (*herald.Run, error) {
	r, err := herald.GetRecord[herald.Run](ctx, l.store, tenantID, id)
	if err != nil {
		return nil, err
	}
	if r.Status != herald.RunQueued {
		return nil, herald.Errorf(herald.CodeConflict, "run %s is %s: only a queued run can be canceled", id, r.Status)
	}
	now := herald.At(l.now())
	r.Status, r.Reason = herald.RunCanceled, "canceled by "+actor
	r.FinishedAt, r.DueAt, r.BlockedBy = now, herald.Instant{}, ""
	r.Touch(actor, now)
	if err := herald.ReplaceRecord(ctx, l.store, r); err != nil {
		if herald.Is(err, herald.CodePreconditionFailed) {
			return nil, herald.Errorf(herald.CodeConflict, "run %s changed meanwhile (it may have started): read it again", id)
		}
		return nil, err
	}
	return r, l.release(ctx, r)
}
