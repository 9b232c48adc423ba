package scheduler

import (
	"context"
	"time"
)

// Run scans every interval until ctx ends (the standalone driver; in Azure
// the ScanSchedules timer function calls RunOnce).
func (s *Scanner) Run(ctx context.Context, interval time.Duration, now func() time.Time) {
	every(ctx, interval, func() {
		st, err := s.RunOnce(ctx, now())
		if err != nil && ctx.Err() == nil {
			s.log.Error("schedule scan failed", "err", err.Error())
		}
		if st.Schedules > 0 {
			s.log.Info("schedules scanned", "schedules", st.Schedules, "queued", st.Queued, "buffered", st.Buffered, "skipped", st.Skipped, "errors", st.Errors)
		}
	})
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
