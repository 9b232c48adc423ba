package scheduler

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/sqlite"
)

// benchDay is the first simulated day of the scan benchmarks, in the past
// so that the jobs published (not before the scan time) are visible at once
// on the queue, which runs on the real clock. Iteration k of
// BenchmarkScanDue scans day k at 09:00:30.
var benchDay = utc("2026-01-05T09:00:00Z")

// BenchmarkScanDue measures RunOnce over 1,000 due schedules among 10,000
// and among 1,000,000: the due index should make the cost grow with the
// number due, not the total (target: a ratio under 2). Each sub-benchmark
// seeds its store once; every iteration puts the same 1,000 schedules back
// at 09:00 of a new day, untimed, then times one scan.
func BenchmarkScanDue(b *testing.B) {
	const due = 1000
	msPerScan := map[int]float64{}
	for _, total := range []int{10_000, 1_000_000} {
		// Seeded on the first call of the sub-benchmark and kept for the
		// later ones (the testing package calls it again with a larger
		// b.N): its file and store belong to this, the parent benchmark.
		var f *dueFixture
		dir := b.TempDir()
		b.Cleanup(func() {
			if f != nil {
				_ = f.store.Close()
			}
		})
		b.Run(fmt.Sprintf("due=%d/total=%d", due, total), func(b *testing.B) {
			b.StopTimer() // seeding and resetting are not timed
			if f == nil {
				f = newDueFixture(b, dir, total, due)
			}
			ctx := context.Background()
			for range b.N {
				now := f.reset(b)
				b.StartTimer()
				st, err := f.scan.RunOnce(ctx, now)
				b.StopTimer()
				require.NoError(b, err)
				require.Equal(b, ScanStats{Schedules: due, Queued: due}, st)
			}
			ms := float64(b.Elapsed().Microseconds()) / 1000 / float64(b.N)
			msPerScan[total] = ms
			b.ReportMetric(ms, "ms/RunOnce")
			b.ReportMetric(ms*1000/due, "µs/due-schedule")
			b.ReportMetric(f.seed.Seconds(), "seed-s")
			b.ReportMetric(float64(total), "schedules")
		})
	}
	if small, large := msPerScan[10_000], msPerScan[1_000_000]; small > 0 && large > 0 {
		fmt.Printf("BenchmarkScanDue: RunOnce over %d due schedules: %.1f ms among 10,000, %.1f ms among 1,000,000; ratio %.2f (target < 2)\n",
			due, small, large, large/small)
	}
}

// dueFixture is a store seeded with total schedules of which due are due
// each day at 09:00; the others are due years later.
type dueFixture struct {
	store *sqlite.Store
	scan  *Scanner
	due   []*herald.Schedule
	day   int // the day of the next scan, after benchDay
	seed  time.Duration
}

func newDueFixture(b *testing.B, dir string, total, due int) *dueFixture {
	b.Helper()
	store, seed, dueSchedules := seedStore(b, dir, total, func(i int) bool { return i%(total/due) == 0 }, benchDay, benchDay.AddDate(10, 0, 0))
	b.Logf("seeded %d schedules (%d due) in %s", total, len(dueSchedules), seed.Round(time.Millisecond))
	return &dueFixture{store: store, scan: NewScanner(store, store.Queue(), nil), due: dueSchedules, seed: seed}
}

// reset finishes the runs of the previous scan (as workers would have by
// the next day: otherwise overlap policy bufferOne holds the new ones
// back), puts the due schedules back at 09:00 of the next day and returns
// the time to scan at, 30 s later.
func (f *dueFixture) reset(b *testing.B) time.Time {
	b.Helper()
	ctx := context.Background()
	at := benchDay.AddDate(0, 0, f.day)
	for _, key := range f.due {
		s, err := herald.GetRecord[herald.Schedule](ctx, f.store, key.TenantID, key.ID)
		require.NoError(b, err)
		if s.LastRunID != "" {
			r, err := herald.GetRecord[herald.Run](ctx, f.store, s.TenantID, s.LastRunID)
			require.NoError(b, err)
			r.Status, r.Reason, r.FinishedAt, r.DueAt = herald.RunSucceeded, "done", herald.At(at), herald.Instant{}
			require.NoError(b, herald.ReplaceRecord(ctx, f.store, r))
		}
		s.NextRunAt, s.DueAt = herald.At(at), herald.At(at)
		require.NoError(b, herald.ReplaceRecord(ctx, f.store, s))
	}
	f.day++
	return at.Add(30 * time.Second)
}

// BenchmarkScanLag measures how late the standalone scanner publishes the
// generation jobs of 10,000 schedules due in the same minute ("0 9 * * *"
// UTC, default policies): one RunOnce at 09:00:00, each run's lag being the
// time from the scan's start (its due time) to the publish of its message,
// recorded by a Publisher decorator in front of the real queue. Target:
// p99 under 2 s, 10,000 runs, no duplicate message.
func BenchmarkScanLag(b *testing.B) {
	const n = 10_000
	ctx := context.Background()
	var lags []time.Duration
	var total time.Duration
	var runs, dups int
	for range b.N {
		b.StopTimer()
		store, _, _ := seedStore(b, b.TempDir(), n, func(int) bool { return true }, benchDay, time.Time{})
		b.Cleanup(func() { _ = store.Close() }) // Close may be called again
		q := store.Queue()
		rec := &publishRecorder{Publisher: q, at: map[string]time.Time{}}
		scan := NewScanner(store, rec, nil)
		b.StartTimer()

		start := time.Now()
		st, err := scan.RunOnce(ctx, benchDay)
		took := time.Since(start)

		b.StopTimer()
		require.NoError(b, err)
		total += took
		for _, at := range rec.at {
			lags = append(lags, at.Sub(start))
		}
		created := countRuns(b, store)
		received, distinct := receiveAll(b, q)
		require.Equal(b, n, st.Queued)
		require.Equal(b, n, created, "runs created")
		require.Equal(b, n, distinct, "generation messages")
		runs += created
		dups += received - distinct + rec.repeats
		require.NoError(b, store.Close())
	}
	slices.Sort(lags)
	p50, p99 := percentile(lags, 0.50), percentile(lags, 0.99)
	b.ReportMetric(ms(p50), "p50-lag-ms")
	b.ReportMetric(ms(p99), "p99-lag-ms")
	b.ReportMetric(ms(lags[len(lags)-1]), "max-lag-ms")
	b.ReportMetric(ms(total)/float64(b.N), "ms/RunOnce")
	b.ReportMetric(float64(runs)/float64(b.N), "runs")
	b.ReportMetric(float64(dups), "duplicates")
	fmt.Printf("BenchmarkScanLag: %d schedules due at 09:00: RunOnce %s; publish lag p50 %s, p99 %s (target < 2s), max %s; %d runs, %d duplicate messages\n",
		n, (total / time.Duration(b.N)).Round(time.Millisecond), p50.Round(time.Millisecond), p99.Round(time.Millisecond),
		lags[len(lags)-1].Round(time.Millisecond), runs/b.N, dups)
}

// publishRecorder is a Publisher decorator: it notes when each message id
// was first published, and how often an id came again, then delegates to
// the real queue.
type publishRecorder struct {
	Publisher
	mu      sync.Mutex
	at      map[string]time.Time
	repeats int
}

func (p *publishRecorder) Publish(ctx context.Context, m herald.Message) error {
	p.note(time.Now(), m)
	return p.Publisher.Publish(ctx, m)
}

func (p *publishRecorder) PublishBatch(ctx context.Context, ms []herald.Message) error {
	now := time.Now()
	for _, m := range ms {
		p.note(now, m)
	}
	return p.Publisher.PublishBatch(ctx, ms)
}

func (p *publishRecorder) note(now time.Time, m herald.Message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.at[m.ID]; ok {
		p.repeats++
	} else {
		p.at[m.ID] = now
	}
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// benchTenants spreads the benchmark schedules over tenants.
const benchTenants = 100

// seedStore creates a store on dir/herald.db (the caller closes it)
// holding n schedules "0 9 * * *" UTC with default policies, over
// benchTenants tenants: those for which due(i) is true are next due at
// dueAt, the others at later. It writes them with the store's WriteBatch,
// a thousand per commit, tenant by tenant in key order with names and
// reports in the same order, so that every index grows at its end. It
// returns the store, how long the seed took, and the due schedules.
func seedStore(b *testing.B, dir string, n int, due func(int) bool, dueAt, later time.Time) (*sqlite.Store, time.Duration, []*herald.Schedule) {
	b.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "herald.db"))
	require.NoError(b, err)
	began := time.Now()
	created := herald.At(dueAt.Add(-24 * time.Hour))
	var dueOnes []*herald.Schedule
	batch := make([]herald.Record, 0, herald.MaxBatch)
	flush := func() {
		errs, err := herald.WriteRecords(ctx, store, false, batch)
		require.NoError(b, err)
		require.NoError(b, errors.Join(errs...))
		batch = batch[:0]
	}
	for t := range benchTenants {
		tenant := fmt.Sprintf("tenant-%03d", t)
		type entry struct {
			id string
			i  int
		}
		var entries []entry
		for i := t; i < n; i += benchTenants {
			entries = append(entries, entry{herald.DerivedID(herald.PrefixSchedule, created.Time, tenant, strconv.Itoa(i)), i})
		}
		slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.id, b.id) })
		for rank, e := range entries {
			s := &herald.Schedule{
				Meta:     herald.Meta{ID: e.id, TenantID: tenant},
				ReportID: herald.DerivedID(herald.PrefixReport, created.Time, tenant, strconv.Itoa(rank*50/len(entries))),
				Name:     fmt.Sprintf("daily report %07d", rank), Cron: "0 9 * * *", Timezone: "UTC", Enabled: true,
			}
			s.Normalize()
			s.Touch("seed", created)
			s.NextRunAt = herald.At(later)
			if due(e.i) {
				s.NextRunAt = herald.At(dueAt)
				dueOnes = append(dueOnes, s)
			}
			s.DueAt = s.NextRunAt
			if batch = append(batch, s); len(batch) == herald.MaxBatch {
				flush()
			}
		}
	}
	if len(batch) > 0 {
		flush()
	}
	return store, time.Since(began), dueOnes
}

// countRuns counts the runs of every benchmark tenant.
func countRuns(b *testing.B, store *sqlite.Store) int {
	b.Helper()
	n := 0
	for i := range benchTenants {
		q := herald.ListQuery{Kind: herald.KindRun, TenantID: fmt.Sprintf("tenant-%03d", i), Limit: herald.MaxListLimit}
		for {
			page, err := store.List(context.Background(), q)
			require.NoError(b, err)
			n += len(page.Items)
			if page.NextCursor == "" {
				break
			}
			q.Cursor = page.NextCursor
		}
	}
	return n
}

// receiveAll receives and completes every generation message, returning
// how many it received and how many distinct ids they had.
func receiveAll(b *testing.B, q *sqlite.Queue) (received, distinct int) {
	b.Helper()
	ids := map[string]bool{}
	for {
		ds, err := q.Receive(context.Background(), herald.QueueGenerate, herald.MaxReceive, time.Minute)
		require.NoError(b, err)
		for _, d := range ds {
			received++
			ids[d.ID] = true
			require.NoError(b, q.Complete(context.Background(), d))
		}
		if len(ds) == 0 {
			return received, len(ids)
		}
	}
}
