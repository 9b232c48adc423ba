package scheduler

import (
	"context"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// Run scans until ctx ends (the standalone driver; in Azure the
// ScanSchedules timer function calls RunOnce). It wakes when the earliest
// schedule falls due, and at least every interval (so that schedules
// created or edited meanwhile are seen).
func (s *Scanner) Run(ctx context.Context, interval time.Duration, now func() time.Time) {
	for ctx.Err() == nil {
		st, err := s.RunOnce(ctx, now())
		if err != nil && ctx.Err() == nil {
			s.log.Error("schedule scan failed", "err", err.Error())
		}
		if st.Schedules > 0 {
			s.log.Info("schedules scanned", "schedules", st.Schedules, "queued", st.Queued, "buffered", st.Buffered, "skipped", st.Skipped, "errors", st.Errors)
		}
		wait := interval
		if err == nil {
			wait = s.untilNextDue(ctx, now(), interval)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// untilNextDue is how long until the earliest schedule falls due, at most
// interval.
func (s *Scanner) untilNextDue(ctx context.Context, now time.Time, interval time.Duration) time.Duration {
	keys, err := s.store.Due(ctx, herald.KindSchedule, herald.At(now.Add(interval)), 1)
	if err != nil || len(keys) == 0 {
		return interval
	}
	return max(keys[0].DueAt.Sub(now), 0)
}

// RunRecovery recovers unfinished runs every interval until ctx ends.
func (l *Runs) RunRecovery(ctx context.Context, interval time.Duration) {
	every(ctx, interval, func() {
		st, err := l.Recover(ctx, l.now())
		if err != nil && ctx.Err() == nil {
			l.log.Error("run recovery failed", "err", err.Error())
		}
		if st != (RecoverStats{}) {
			l.log.Info("runs recovered", "republished", st.Republished, "requeued", st.Requeued, "failed", st.Failed, "released", st.Released)
		}
	})
}

// every calls fn at once and then every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
