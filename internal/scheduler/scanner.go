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
	Due(ctx context.Context, kind herald.Kind, before herald.Instant, limit int) ([]herald.DueKey, error)
}

// Publisher sends queue messages. Publishing a message id twice within the
// duplicate-detection window is a no-op.
type Publisher interface {
	Publish(ctx context.Context, m herald.Message) error
}

// Scanner limits.
const (
	// DefaultBatch is how many due schedules one Due call returns.
	DefaultBatch = 500
	// DefaultWorkers is how many schedules are processed at once.
	DefaultWorkers = 8
	// MaxFiresPerScan bounds the fire times one scan enumerates for one
	// schedule; older missed times beyond it are summarised in one skipped run.
	MaxFiresPerScan = 1000
	// OnTime is how late a fire time may be handled and still count as on
	// time rather than missed (scans run every few seconds to a minute).
	OnTime = 2 * time.Minute
	// StartGrace is how long a queued run may wait for a worker before
	// recovery publishes its job again.
	StartGrace = 2 * time.Minute
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

func (s *Scanner) processAll(ctx context.Context, keys []herald.DueKey, now time.Time) (ScanStats, error) {
	var (
		mu       sync.Mutex
		total    ScanStats
		firstErr error
		wg       sync.WaitGroup
	)
	work := make(chan herald.DueKey)
	for range min(s.workers, len(keys)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				st, err := s.process(ctx, k, now)
				mu.Lock()
				total.add(st)
				if err != nil {
					total.Errors++
					if firstErr == nil {
						firstErr = err
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	return total, firstErr
}

// process handles one due schedule: decide, create runs, publish, advance.
func (s *Scanner) process(ctx context.Context, key herald.DueKey, now time.Time) (ScanStats, error) {
	log := s.log.With("tenantId", key.TenantID, "scheduleId", key.ID)
	sch, err := herald.GetRecord[herald.Schedule](ctx, s.store, key.TenantID, key.ID)
	if herald.Is(err, herald.CodeNotFound) {
		return ScanStats{}, nil // deleted since the index was read
	}
	if err != nil {
		return ScanStats{}, fmt.Errorf("reading schedule %s/%s: %w", key.TenantID, key.ID, err)
	}
	if !sch.Enabled || sch.DueAt.IsZero() || sch.DueAt.After(now) {
		return ScanStats{}, nil // paused or advanced since the index was read
	}
	plan, err := planFires(sch, now)
	if err != nil {
		log.Error("schedule cannot be planned; it stays due", "err", err.Error())
		return ScanStats{}, err
	}
	runs, err := s.decideOverlap(ctx, sch, plan, now)
	if err != nil {
		return ScanStats{}, err
	}
	st, err := s.createRuns(ctx, runs, now)
	st.Schedules = 1
	if err != nil {
		return st, err
	}
	if err := s.advance(ctx, sch, plan); err != nil {
		return st, err
	}
	if st.Skipped > 0 {
		log.Warn("fire times skipped", "skipped", st.Skipped, "policy", sch.MisfirePolicy, "overlap", sch.OverlapPolicy)
	}
	return st, nil
}

// createRuns ensures each run exists (and is published when queued) and
// counts what they became.
func (s *Scanner) createRuns(ctx context.Context, runs []*herald.Run, now time.Time) (ScanStats, error) {
	var st ScanStats
	for _, r := range runs {
		created, err := s.ensureRun(ctx, r, now)
		if err != nil {
			return st, err
		}
		switch {
		case created.Status == herald.RunSkipped:
			st.Skipped++
		case created.Status == herald.RunQueued && created.BlockedBy != "":
			st.Buffered++
		case created.Status == herald.RunQueued:
			st.Queued++
		}
	}
	return st, nil
}

// ensureRun creates the run, or finds the one an earlier (interrupted) scan
// created, and publishes its job when it is queued and not waiting.
func (s *Scanner) ensureRun(ctx context.Context, r *herald.Run, now time.Time) (*herald.Run, error) {
	err := herald.CreateRecord(ctx, s.store, r)
	if herald.Is(err, herald.CodeConflict) {
		r, err = herald.GetRecord[herald.Run](ctx, s.store, r.TenantID, r.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("creating run %s: %w", r.ID, err)
	}
	if r.Status == herald.RunQueued && r.BlockedBy == "" {
		if err := s.queue.Publish(ctx, herald.GenerateMessage(r, now)); err != nil {
			return nil, fmt.Errorf("publishing run %s: %w", r.ID, err)
		}
	}
	return r, nil
}

// advance moves the schedule past the fire times just handled. Losing the
// race to another scanner is fine (it advanced it); losing it to an edit
// leaves the schedule due for the next scan, which finds the runs created.
func (s *Scanner) advance(ctx context.Context, sch *herald.Schedule, p firePlan) error {
	sch.NextRunAt = herald.At(p.next)
	sch.DueAt = herald.At(p.next.Add(sch.SpreadOffset()))
	if p.next.IsZero() {
		sch.NextRunAt, sch.DueAt = herald.Instant{}, herald.Instant{}
	}
	last := p.fires[len(p.fires)-1]
	sch.LastRunAt = herald.At(last.at)
	sch.LastRunID = herald.ScheduledRunID(sch.TenantID, sch.ID, herald.At(last.at))
	err := herald.ReplaceRecord(ctx, s.store, sch)
	if herald.Is(err, herald.CodePreconditionFailed) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("advancing schedule %s/%s: %w", sch.TenantID, sch.ID, err)
	}
	return nil
}

// errNoFires means a due schedule had no fire time to handle: its stored
// next run is in the future of its due time, which Plan never produces.
var errNoFires = errors.New("due schedule has no fire time at or before now")
