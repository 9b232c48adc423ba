package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// RecoverStats counts what one recovery pass did.
type RecoverStats struct {
	Republished int // queued runs whose job was published again
	Requeued    int // running runs whose lease expired, started again
	Failed      int // running runs whose lease expired too often
	Released    int // waiting runs whose predecessor had ended
	Delivered   int // finished runs whose delivery job was published late
}

// Recover looks at every unfinished run whose dueAt has passed: a queued run
// that no worker started is published again (duplicate detection makes this
// safe), a running run whose lease expired is queued again as its next
// attempt (or fails after herald.MaxAttempts), and a run waiting for a
// predecessor that ended is released.
func (l *Runs) Recover(ctx context.Context, now time.Time) (RecoverStats, error) {
	var st RecoverStats
	keys, err := l.store.Due(ctx, herald.KindRun, herald.At(now), herald.MaxListLimit)
	if err != nil {
		return st, fmt.Errorf("finding runs to recover: %w", err)
	}
	var firstErr error
	for _, k := range keys {
		if err := l.recoverOne(ctx, k, now, &st); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return st, firstErr
}

func (l *Runs) recoverOne(ctx context.Context, k herald.DueKey, now time.Time, st *RecoverStats) error {
	r, err := herald.GetRecord[herald.Run](ctx, l.store, k.TenantID, k.ID)
	if herald.Is(err, herald.CodeNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	at := herald.At(now)
	if r.DueAt.IsZero() || r.DueAt.After(now) {
		return nil // moved on since the index was read
	}
	switch {
	case r.Status == herald.RunRunning:
		return l.expireLease(ctx, r, at, st)
	case r.Status == herald.RunQueued && r.BlockedBy != "":
		return l.checkBlocker(ctx, r, at, st)
	case r.Status == herald.RunQueued:
		r.DueAt = herald.At(now.Add(StartGrace))
		r.Touch("recovery", at)
		if err := herald.ReplaceRecord(ctx, l.store, r); err != nil {
			return ignoreStale(err)
		}
		st.Republished++
		return l.publish(ctx, r)
	case r.NeedsDelivery() && r.DeliveryQueuedAt.IsZero():
		st.Delivered++
		return l.queueDelivery(ctx, r)
	default:
		r.DueAt = herald.Instant{} // finished: nothing left to watch
		return ignoreStale(herald.ReplaceRecord(ctx, l.store, r))
	}
}

// expireLease handles a running run whose worker stopped renewing its lease.
func (l *Runs) expireLease(ctx context.Context, r *herald.Run, now herald.Instant, st *RecoverStats) error {
	if r.Failures()+1 >= herald.MaxAttempts {
		l.end(r, herald.RunFailed, fmt.Sprintf("the worker stopped responding %d times (lease expired); giving up", r.Failures()+1), now, "recovery")
		if err := herald.ReplaceRecord(ctx, l.store, r); err != nil {
			return ignoreStale(err)
		}
		st.Failed++
		l.log.Warn("run failed after repeated lease expiry", "tenantId", r.TenantID, "runId", r.ID, "attempt", r.Attempt)
		if err := l.release(ctx, r); err != nil {
			return err
		}
		return l.queueDelivery(ctx, r)
	}
	r.Status = herald.RunQueued
	r.Reason = fmt.Sprintf("attempt %d stopped responding (lease expired); starting attempt %d", r.Attempt, r.Attempt+1)
	r.Attempt++
	r.LeaseUntil, r.StartedAt = herald.Instant{}, herald.Instant{}
	r.DueAt = herald.At(now.Add(StartGrace))
	r.Touch("recovery", now)
	if err := herald.ReplaceRecord(ctx, l.store, r); err != nil {
		return ignoreStale(err)
	}
	st.Requeued++
	l.log.Warn("run requeued after lease expiry", "tenantId", r.TenantID, "runId", r.ID, "attempt", r.Attempt)
	return l.publish(ctx, r)
}

// checkBlocker releases a waiting run whose predecessor ended (or vanished)
// without releasing it, and otherwise looks again later.
func (l *Runs) checkBlocker(ctx context.Context, r *herald.Run, now herald.Instant, st *RecoverStats) error {
	prev, err := herald.GetRecord[herald.Run](ctx, l.store, r.TenantID, r.BlockedBy)
	if err != nil && !herald.Is(err, herald.CodeNotFound) {
		return err
	}
	if err == nil && prev.Status.Active() {
		r.DueAt = herald.At(now.Add(StartGrace))
		return ignoreStale(herald.ReplaceRecord(ctx, l.store, r))
	}
	st.Released++
	return l.unblock(ctx, r)
}

// ignoreStale treats losing a conditional write as done: whoever won moved
// the run on.
func ignoreStale(err error) error {
	if herald.Is(err, herald.CodePreconditionFailed) {
		return nil
	}
	return err
}
