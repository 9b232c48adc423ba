package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// Store is what the scheduler needs of the record store.
type Store interface {
	herald.Documents
	herald.Batcher
	Due(ctx context.Context, kind herald.Kind, before herald.Instant, limit int) ([]herald.DueKey, error)
}

// Publisher sends queue messages. Publishing a message id twice within the
// duplicate-detection window is a no-op.
type Publisher interface {
	Publish(ctx context.Context, m herald.Message) error
	PublishBatch(ctx context.Context, ms []herald.Message) error
}

// Scanner limits.
const (
	// DefaultBatch is how many due schedules one Due call returns.
	DefaultBatch = 500
	// DefaultWorkers is how many schedules are processed at once.
	DefaultWorkers = 8
	// MaxFiresPerScan bounds the runs one scan records for one schedule
	// (a week of an every-minute schedule): missed fire times beyond it are
	// summarised in one skipped run, and the latest is handled as usual.
	MaxFiresPerScan = 10_000
	// OnTime is how late a fire time may be handled and still count as on
	// time rather than missed (scans run every few seconds to a minute).
	OnTime = 2 * time.Minute
	// Unplannable is how long a schedule that cannot be planned waits
	// before the scanner tries it again.
	Unplannable = 10 * time.Minute
	// StartGrace is how long a queued run may wait for a worker before
	// recovery publishes its job again.
	StartGrace = 2 * time.Minute
	// DeliveryGrace is how long a finished run may wait for its delivery
	// job to be published (it is published right after the run ends)
	// before recovery publishes it.
	DeliveryGrace = 15 * time.Second
)

// Scanner creates the runs of due schedules. It is safe to run several
// scanners (processes or goroutines) against one store at once: run ids
// derive from the schedule and the fire time, messages are deduplicated by
// id, and schedules advance with conditional writes.
type Scanner struct {
	store   Store
	queue   Publisher
	log     *slog.Logger
	batch   int
	workers int
	zones   zoneCache
}

// NewScanner returns a scanner over store publishing to queue.
func NewScanner(store Store, queue Publisher, log *slog.Logger) *Scanner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scanner{store: store, queue: queue, log: log, batch: DefaultBatch, workers: DefaultWorkers}
}

// ScanStats counts what one RunOnce did.
type ScanStats struct {
	Schedules int // due schedules processed
	Queued    int // runs created (or found) queued and published
	Buffered  int // runs waiting for the previous run of their schedule
	Skipped   int // runs recorded as skipped (misfire or overlap)
	Errors    int // schedules that failed and stay due for the next scan
}

func (st *ScanStats) add(o ScanStats) {
	st.Schedules += o.Schedules
	st.Queued += o.Queued
	st.Buffered += o.Buffered
	st.Skipped += o.Skipped
	st.Errors += o.Errors
}

// RunOnce processes every schedule due at now. A schedule that fails stays
// due and is tried again by the next scan; the error of the first failure is
// returned after all others were processed.
func (s *Scanner) RunOnce(ctx context.Context, now time.Time) (ScanStats, error) {
	var total ScanStats
	var firstErr error
	seen := map[string]bool{}
	for {
		keys, err := s.store.Due(ctx, herald.KindSchedule, herald.At(now), s.batch)
		if err != nil {
			return total, fmt.Errorf("finding due schedules: %w", err)
		}
		var fresh []herald.DueKey
		for _, k := range keys {
			if id := k.TenantID + "/" + k.ID; !seen[id] {
				seen[id] = true
				fresh = append(fresh, k)
			}
		}
		st, err := s.processAll(ctx, fresh, now)
		total.add(st)
		if firstErr == nil {
			firstErr = err
		}
		// A page of schedules all seen before holds only ones that failed
		// this scan: they wait for the next.
		if len(keys) < s.batch || len(fresh) == 0 || ctx.Err() != nil {
			break
		}
	}
	return total, firstErr
}

// work is one due schedule of a page and the runs its scan decided.
type work struct {
	sch  *herald.Schedule
	plan firePlan
	runs []*herald.Run
	err  error
}

// processAll handles one page of due schedules in three batched steps, in
// the order that makes every crash repairable: create the runs, publish
// their jobs, advance the schedules. A schedule whose step fails is not
// advanced, so the next scan finds its runs and finishes the work.
func (s *Scanner) processAll(ctx context.Context, keys []herald.DueKey, now time.Time) (ScanStats, error) {
	works := s.prepareAll(ctx, keys, now)
	var st ScanStats
	var firstErr error
	fail := func(w *work, err error) {
		if w.err == nil {
			w.err = err
			st.Errors++
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	for _, w := range works {
		if w.err != nil {
			st.Errors++
			if firstErr == nil {
				firstErr = w.err
			}
		}
	}
	s.createRuns(ctx, works, fail)
	s.publishRuns(ctx, works, now, fail)
	s.advanceAll(ctx, works, fail)
	for _, w := range works {
		if w.err != nil || w.sch == nil {
			continue
		}
		st.Schedules++
		for _, r := range w.runs {
			switch {
			case r.Status == herald.RunSkipped:
				st.Skipped++
			case r.Status == herald.RunQueued && r.BlockedBy != "":
				st.Buffered++
			case r.Status == herald.RunQueued:
				st.Queued++
			}
		}
		if skipped := countSkipped(w.runs); skipped > 0 {
			s.log.Warn("fire times skipped", "tenantId", w.sch.TenantID, "scheduleId", w.sch.ID, "skipped", skipped,
				"policy", w.sch.MisfirePolicy, "overlap", w.sch.OverlapPolicy)
		}
	}
	return st, firstErr
}

func countSkipped(runs []*herald.Run) int {
	n := 0
	for _, r := range runs {
		if r.Status == herald.RunSkipped {
			n++
		}
	}
	return n
}

// prepareAll reads and plans the page's schedules with bounded concurrency.
// Schedules that are no longer due come back without a schedule.
func (s *Scanner) prepareAll(ctx context.Context, keys []herald.DueKey, now time.Time) []*work {
	works := make([]*work, len(keys))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(s.workers, len(keys)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				works[i] = s.prepare(ctx, keys[i], now)
			}
		}()
	}
	for i := range keys {
		next <- i
	}
	close(next)
	wg.Wait()
	return works
}

// prepare reads one due schedule and decides its runs.
func (s *Scanner) prepare(ctx context.Context, key herald.DueKey, now time.Time) *work {
	sch, err := herald.GetRecord[herald.Schedule](ctx, s.store, key.TenantID, key.ID)
	if herald.Is(err, herald.CodeNotFound) {
		return &work{} // deleted since the index was read
	}
	if err != nil {
		return &work{err: fmt.Errorf("reading schedule %s/%s: %w", key.TenantID, key.ID, err)}
	}
	if !sch.Enabled || sch.DueAt.IsZero() || sch.DueAt.After(now) {
		return &work{} // paused or advanced since the index was read
	}
	plan, err := planFires(sch, now, &s.zones)
	if err != nil {
		// A schedule that cannot be planned (its stored cron or zone no
		// longer parses) is looked at again later rather than staying at
		// the head of the due index, where it would hold the others up.
		s.log.Error("schedule cannot be planned; retrying later", "tenantId", key.TenantID, "scheduleId", key.ID, "err", err.Error(), "retryIn", Unplannable.String())
		sch.DueAt = herald.At(now.Add(Unplannable))
		if rerr := herald.ReplaceRecord(ctx, s.store, sch); rerr != nil && !herald.Is(rerr, herald.CodePreconditionFailed) {
			s.log.Error("deferring an unplannable schedule failed", "scheduleId", key.ID, "err", rerr.Error())
		}
		return &work{err: err}
	}
	runs, err := s.decideOverlap(ctx, sch, plan, now)
	if err != nil {
		return &work{err: err}
	}
	return &work{sch: sch, plan: plan, runs: runs}
}

// pending lists the works still going.
func pending(works []*work) []*work {
	var out []*work
	for _, w := range works {
		if w.err == nil && w.sch != nil {
			out = append(out, w)
		}
	}
	return out
}

// createRuns creates the runs of every schedule, in batches. A run that
// exists already (an earlier, interrupted scan made it) is read back, and
// its stored state counts.
func (s *Scanner) createRuns(ctx context.Context, works []*work, fail func(*work, error)) {
	type ref struct {
		w *work
		i int
	}
	var refs []ref
	var recs []herald.Record
	for _, w := range pending(works) {
		for i, r := range w.runs {
			refs = append(refs, ref{w, i})
			recs = append(recs, r)
		}
	}
	for start := 0; start < len(recs); start += herald.MaxBatch {
		end := min(start+herald.MaxBatch, len(recs))
		errs, err := herald.WriteRecords(ctx, s.store, false, recs[start:end])
		for j := start; j < end; j++ {
			rf := refs[j]
			switch {
			case err != nil:
				fail(rf.w, fmt.Errorf("creating runs: %w", err))
			case herald.Is(errs[j-start], herald.CodeConflict):
				old, getErr := herald.GetRecord[herald.Run](ctx, s.store, rf.w.sch.TenantID, rf.w.runs[rf.i].ID)
				if getErr != nil {
					fail(rf.w, fmt.Errorf("reading run %s: %w", rf.w.runs[rf.i].ID, getErr))
					continue
				}
				rf.w.runs[rf.i] = old
			case errs[j-start] != nil:
				fail(rf.w, fmt.Errorf("creating run %s: %w", rf.w.runs[rf.i].ID, errs[j-start]))
			}
		}
	}
}

// publishRuns publishes the jobs of the queued runs that are not waiting,
// in one batch. Should it fail, no schedule of the page advances.
func (s *Scanner) publishRuns(ctx context.Context, works []*work, now time.Time, fail func(*work, error)) {
	var msgs []herald.Message
	live := pending(works)
	for _, w := range live {
		for _, r := range w.runs {
			if r.Status == herald.RunQueued && r.BlockedBy == "" {
				msgs = append(msgs, herald.GenerateMessage(r, now))
			}
		}
	}
	if len(msgs) == 0 {
		return
	}
	if err := s.queue.PublishBatch(ctx, msgs); err != nil {
		for _, w := range live {
			fail(w, fmt.Errorf("publishing generation jobs: %w", err))
		}
	}
}

// advanceAll moves every schedule past the fire times just handled. Losing
// the race to another scanner is fine (it advanced it); losing it to an
// edit leaves the schedule due for the next scan, which finds the runs.
func (s *Scanner) advanceAll(ctx context.Context, works []*work, fail func(*work, error)) {
	live := pending(works)
	recs := make([]herald.Record, len(live))
	for i, w := range live {
		advance(w.sch, w.plan, w.runs)
		recs[i] = w.sch
	}
	for start := 0; start < len(recs); start += herald.MaxBatch {
		end := min(start+herald.MaxBatch, len(recs))
		errs, err := herald.WriteRecords(ctx, s.store, true, recs[start:end])
		for j := start; j < end; j++ {
			switch {
			case err != nil:
				fail(live[j], fmt.Errorf("advancing schedules: %w", err))
			case errs[j-start] != nil && !herald.Is(errs[j-start], herald.CodePreconditionFailed):
				fail(live[j], fmt.Errorf("advancing schedule %s: %w", live[j].sch.ID, errs[j-start]))
			}
		}
	}
}

// advance sets the schedule past the plan's fire times and remembers its
// newest run that was not skipped (the one a later fire may overlap).
func advance(sch *herald.Schedule, p firePlan, runs []*herald.Run) {
	sch.NextRunAt = herald.At(p.next)
	sch.DueAt = herald.At(p.next.Add(sch.SpreadOffset()))
	if p.next.IsZero() {
		sch.NextRunAt, sch.DueAt = herald.Instant{}, herald.Instant{}
	}
	for i := len(runs) - 1; i >= 0; i-- {
		if runs[i].Status != herald.RunSkipped {
			sch.LastRunAt, sch.LastRunID = runs[i].ScheduledFor, runs[i].ID
			return
		}
	}
}

// errNoFires means a due schedule had no fire time to handle: its stored
// next run is in the future of its due time, which Plan never produces.
var errNoFires = errors.New("due schedule has no fire time at or before now")
