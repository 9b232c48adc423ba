package scheduler

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/cronexpr"
	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/sqlite"
)

// This file simulates Herald's scheduling over simulated time against the
// real SQLite store and queue: two scanners scan at every simulated minute,
// with outages, restarts and crashes in between, and the runs they leave
// are compared with an independent model of the scheduling contract (fire
// times from cronexpr, then the misfire and overlap rules as
// ARCHITECTURE.md and the scanner's doc comments state them).

const (
	simTick    = time.Minute // scanners run every simulated minute
	simTenants = 20
)

// simWeek is the simulated week. It holds Europe's spring-forward
// (2026-03-29 01:00Z, inside the first outage) and the fall-back of Chatham
// (2026-04-04 14:00Z, one hour) and Lord Howe (2026-04-04 15:00Z, half an
// hour).
var simWeek = simPlan{
	start: utc("2026-03-28T18:00:00Z"),
	end:   utc("2026-04-04T18:00:00Z"),
	outages: []simOutage{
		{"3 hours across Europe's spring-forward", "2026-03-29T00:00:00Z", "2026-03-29T03:00:00Z"},
		{"2 minutes: fire times due at 06:59:00 are handled exactly OnTime late", "2026-03-30T06:59:00Z", "2026-03-30T07:01:00Z"},
		{"30 minutes", "2026-03-31T08:50:00Z", "2026-03-31T09:20:00Z"},
		{"1 day: fire times due at 06:00:00 are handled exactly 24h late", "2026-04-02T06:00:00Z", "2026-04-03T06:00:00Z"},
	},
	restarts: []string{
		"2026-03-29T03:00:00Z", // the first scan after an outage runs in a new process
		"2026-03-30T12:34:00Z",
		"2026-04-03T06:00:00Z",
		"2026-04-04T14:20:00Z",
	},
	// The scans of these ticks die mid-way; a restart follows and the next
	// tick's scans repair what they left. The tick after each is a normal
	// one, so every fire time a crashed scan touched is still handled
	// within OnTime.
	crashes: []simCrash{
		{"2026-03-31T07:00:00Z", 3, false},      // a few runs created, none published, no schedule advanced
		{"2026-04-04T14:00:00Z", 1 << 40, true}, // runs created and published, no schedule advanced
	},
}

// simSize is the number of schedules of the week: the full 10,000, or 300
// under the race detector, which makes every SQLite call several times
// slower (the ticks alone then take some 10 s).
func simSize() int {
	if raceEnabled {
		return 300
	}
	return 10000
}

// TestSimulatedWeek drives 10,000 schedules of 20 tenants through a week of
// simulated minutes with two concurrent scanners, outages, restarts and
// crashes, and checks every run against the model: each fire time has
// exactly one run, queued or skipped as the misfire policy and catch-up
// window say (skipped ones with the reason why), each queued run exactly
// one generation message, and each schedule ends at its next fire time.
// Runs never start here, so every schedule allows overlap;
// TestSimulatedOverlap covers the other overlap policies.
func TestSimulatedWeek(t *testing.T) {
	began := time.Now()
	ctx := t.Context()
	sm := newSimulation(t, simWeek.start)
	schedules := sm.seed(ctx, simSize(), simWeekSchedule)
	seeded := time.Since(began)

	scans := sm.run(ctx, simWeek, nil)
	ran := time.Since(began) - seeded
	assert.Positive(t, sm.crashed, "the crash points interrupt scans")

	fig := sm.verify(ctx, simWeek.start, schedules, func(s simSchedule) []simWant { return expectMisfires(s, simWeek.start, scans) })
	t.Logf("%d schedules of %d tenants (%s); %d ticks: %d with scans, %d outages, %d restarts, %d crashes (%d scans interrupted)",
		len(schedules), simTenants, zonesUsed(schedules), int(simWeek.end.Sub(simWeek.start)/simTick), len(scans),
		len(simWeek.outages), sm.restarts, len(simWeek.crashes), sm.crashed)
	t.Logf("%d runs: %d queued, %d skipped (%s); %d generation messages",
		fig.runs, fig.status[herald.RunQueued], fig.status[herald.RunSkipped], fig.reasons(), fig.messages)
	t.Logf("seed %s, simulated week %s (%.2f ms per run), checks %s, total %s",
		seeded.Round(time.Millisecond), ran.Round(time.Millisecond), float64(ran.Microseconds())/1000/float64(max(fig.runs, 1)),
		(time.Since(began) - seeded - ran).Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

// simOverlapDay holds Chatham's and Lord Howe's fall-back.
var simOverlapDay = simPlan{
	start: utc("2026-04-04T00:00:00Z"),
	end:   utc("2026-04-05T00:00:00Z"),
	outages: []simOutage{
		{"25 minutes", "2026-04-04T06:00:00Z", "2026-04-04T06:25:00Z"},
		{"1 minute", "2026-04-04T14:30:00Z", "2026-04-04T14:31:00Z"},
	},
	restarts: []string{"2026-04-04T03:00:00Z", "2026-04-04T06:25:00Z", "2026-04-04T12:00:00Z"},
}

// TestSimulatedOverlap runs schedules with the overlap policies skip and
// bufferOne (and a few allow) through a simulated day whose runs take
// longer than their interval: a worker starts each run when its message
// arrives and finishes it a fixed time later. Every run must end as the
// model says: succeeded or running, waiting behind the right run, or
// skipped for the right reason, and each started run has exactly one
// generation message. After the outage, misfire policy all puts several
// runnable fire times in one scan: the first runs or waits, the next wait
// or are skipped.
func TestSimulatedOverlap(t *testing.T) {
	n := 48
	if raceEnabled {
		n = 12
	}
	ctx := t.Context()
	sm := newSimulation(t, simOverlapDay.start)
	schedules := sm.seed(ctx, n, simOverlapSchedule)
	w := &simWorker{sm: sm, durations: map[string]time.Duration{}, runs: map[string]*herald.Run{}, ends: map[string]time.Time{}}
	for _, s := range schedules {
		w.durations[s.ID] = s.duration
	}
	scans := sm.run(ctx, simOverlapDay, w)

	fig := sm.verify(ctx, simOverlapDay.start, schedules, func(s simSchedule) []simWant { return expectOverlap(s, simOverlapDay.start, scans) })
	t.Logf("%d schedules, %d runs: %d succeeded, %d running, %d waiting, %d skipped (%s); %d generation messages",
		len(schedules), fig.runs, fig.status[herald.RunSucceeded], fig.status[herald.RunRunning],
		fig.status[herald.RunQueued], fig.status[herald.RunSkipped], fig.reasons(), fig.messages)
}

// simPlan is what happens over simulated time.
type simPlan struct {
	start, end time.Time
	outages    []simOutage
	restarts   []string // ticks before which the process restarts
	crashes    []simCrash
}

// simCrash is a tick whose two scans die after budget writes (creates,
// replaces, published messages), or right after their first publish.
type simCrash struct {
	at           string
	budget       int64
	afterPublish bool
}

// simOutage is a range of ticks [from, to) at which Herald is down.
type simOutage struct{ name, from, to string }

func (p simPlan) down(now time.Time) bool {
	for _, o := range p.outages {
		if !now.Before(utc(o.from)) && now.Before(utc(o.to)) {
			return true
		}
	}
	return false
}

// simSchedule is a stored schedule with its parsed expression and zone, and
// for the overlap day how long each of its runs takes.
type simSchedule struct {
	*herald.Schedule
	expr     *cronexpr.Schedule
	loc      *time.Location
	duration time.Duration
}

// simulation is one store file, reopened at each restart, and what the
// simulated workers received from its queue.
type simulation struct {
	t        *testing.T
	path     string
	clock    *clock
	store    *sqlite.Store
	queue    *sqlite.Queue
	runs     *Runs
	scanners [2]*Scanner
	messages map[string]int // generation message id -> times received
	restarts int
	crashed  int // scans that failed at a crash point
}

func newSimulation(t *testing.T, start time.Time) *simulation {
	t.Helper()
	sm := &simulation{t: t, path: filepath.Join(t.TempDir(), "herald.db"), clock: &clock{now: start}, messages: map[string]int{}}
	sm.open()
	t.Cleanup(func() {
		_ = sm.queue.Close()
		_ = sm.store.Close()
	})
	return sm
}

// open opens the store file as a new process would: new store, queue, run
// lifecycle and scanners.
func (sm *simulation) open() {
	store, err := sqlite.Open(context.Background(), sm.path)
	require.NoError(sm.t, err)
	sm.store = store
	sm.queue = store.Queue(sqlite.WithQueueClock(sm.clock.Now))
	sm.runs = NewRuns(store, sm.queue, nil, sm.clock.Now)
	sm.scanners = [2]*Scanner{NewScanner(store, sm.queue, nil), NewScanner(store, sm.queue, nil)}
}

func (sm *simulation) restart() {
	require.NoError(sm.t, sm.queue.Close())
	require.NoError(sm.t, sm.store.Close())
	sm.open()
	sm.restarts++
}

// seed stores n schedules made by mutate, planned from the clock's time,
// in batches.
func (sm *simulation) seed(ctx context.Context, n int, mutate func(rng *rand.Rand, i int, s *simSchedule)) []simSchedule {
	rng := rand.New(rand.NewPCG(2026, 3)) //nolint:gosec // reproducible test data
	start := sm.clock.Now()
	out := make([]simSchedule, 0, n)
	for i := range n {
		tenant := fmt.Sprintf("tenant-%02d", i%simTenants)
		s := simSchedule{Schedule: &herald.Schedule{
			// Derived ids keep the spread offsets, which hash the id, the
			// same from one test run to the next.
			Meta:     herald.Meta{ID: herald.DerivedID(herald.PrefixSchedule, start, tenant, strconv.Itoa(i)), TenantID: tenant},
			ReportID: herald.DerivedID(herald.PrefixReport, start, tenant, strconv.Itoa(i%97)),
			Name:     "schedule " + strconv.Itoa(i),
			Enabled:  true,
		}}
		mutate(rng, i, &s)
		s.Normalize()
		require.NoError(sm.t, Plan(s.Schedule, start), s.Cron)
		s.Touch("simulation", herald.At(start))
		var err error
		s.expr, err = cronexpr.Parse(s.Cron)
		require.NoError(sm.t, err)
		s.loc, err = time.LoadLocation(s.Timezone)
		require.NoError(sm.t, err)
		out = append(out, s)
	}
	for from := 0; from < len(out); from += herald.MaxBatch {
		batch := make([]herald.Record, 0, herald.MaxBatch)
		for _, s := range out[from:min(from+herald.MaxBatch, len(out))] {
			batch = append(batch, s.Schedule)
		}
		errs, err := herald.WriteRecords(ctx, sm.store, false, batch)
		require.NoError(sm.t, err)
		require.NoError(sm.t, errors.Join(errs...))
	}
	return out
}

var (
	simZones = []string{
		"Europe/Berlin", "Europe/Berlin", "Europe/Berlin", "America/New_York", "America/New_York",
		"Australia/Lord_Howe", "Asia/Kolkata", "Asia/Kolkata", "Pacific/Chatham", "UTC", "UTC",
	}
	simWindows = []time.Duration{time.Minute, 5 * time.Minute, time.Hour, 3 * time.Hour, 24 * time.Hour, 24 * time.Hour, 48 * time.Hour}
	simSpreads = []time.Duration{0, 0, 0, 0, 0, 0, 0, 30 * time.Second, time.Minute, 3 * time.Minute, 5 * time.Minute, 10 * time.Minute}
)

func pick[T any](rng *rand.Rand, from []T) T { return from[rng.IntN(len(from))] }

// simWeekSchedule makes a schedule of the week's mix of expressions, zones,
// misfire policies, catch-up windows and spreads.
func simWeekSchedule(rng *rand.Rand, i int, s *simSchedule) {
	s.Cron = simCron(rng, i)
	s.Timezone = pick(rng, simZones)
	s.MisfirePolicy = pick(rng, []herald.MisfirePolicy{herald.MisfireSkip, herald.MisfireLatest, herald.MisfireLatest, herald.MisfireAll})
	s.OverlapPolicy = herald.OverlapAllow // runs never start here: any other policy would hold them back
	s.CatchUpWindow = herald.Duration(pick(rng, simWindows))
	s.Spread = herald.Duration(pick(rng, simSpreads))
}

// simCrons is the week's mix of expressions, by weight (per 1,000): mostly
// daily and weekday schedules at various hours and minutes, some at the
// local times DST skips or repeats, some 6-field and fixed-hour steps, a
// few hourly and every 15 minutes.
var simCrons = []struct {
	weight int
	cron   func(rng *rand.Rand, h, m, sec int) string
}{
	{508, func(_ *rand.Rand, h, m, _ int) string { return fmt.Sprintf("%d %d * * *", m, h) }},
	{300, func(rng *rand.Rand, h, m, _ int) string {
		return fmt.Sprintf("%d %d * * %s", m, h, pick(rng, []string{"MON-FRI", "1-5"}))
	}},
	{30, func(rng *rand.Rand, h, m, _ int) string {
		return fmt.Sprintf("%d %d * * %s", m, h, pick(rng, []string{"SUN", "SAT,SUN", "WED", "MON#1"}))
	}},
	{80, func(rng *rand.Rand, _, _, _ int) string { // local times that do not exist or occur twice in some zone this week
		return pick(rng, []string{"30 2 * * *", "0 2 * * *", "15 2 * * *", "59 2 * * *", "45 1 * * *", "50 1 * * *", "0 3 * * *", "30 3 * * *", "45 2 * * *"})
	}},
	{30, func(_ *rand.Rand, h, m, sec int) string { return fmt.Sprintf("%d %d %d * * *", sec, m, h) }},
	{10, func(_ *rand.Rand, h, m, sec int) string { return fmt.Sprintf("%d %d %d * * MON-FRI", sec, m, h) }},
	{10, func(_ *rand.Rand, _, m, _ int) string { return fmt.Sprintf("%d */6 * * *", m) }},
	{10, func(_ *rand.Rand, _, m, _ int) string { return fmt.Sprintf("%d 1-3 * * *", m) }}, // the local hours DST skips or repeats
	{5, func(_ *rand.Rand, _, m, sec int) string { return fmt.Sprintf("%d %d */4 * * *", sec, m) }},
	{10, func(rng *rand.Rand, _, _, _ int) string { return pick(rng, []string{"@daily", "@weekly"}) }},
	{3, func(_ *rand.Rand, _, m, _ int) string { return fmt.Sprintf("%d * * * *", m) }}, // every hour: elapsed time across DST
	{1, func(*rand.Rand, int, int, int) string { return "@hourly" }},
	{2, func(*rand.Rand, int, int, int) string { return "*/15 9-17 * * MON-FRI" }},
	{1, func(*rand.Rand, int, int, int) string { return "*/15 * * * *" }},
}

// simCron returns the expression of schedule i: the first ones take each
// kind of simCrons in turn, so that a small simulation has them all, the
// others one by weight.
func simCron(rng *rand.Rand, i int) string {
	h, m, sec := rng.IntN(24), simMinute(rng), rng.IntN(60)
	if i < len(simCrons) {
		return simCrons[i].cron(rng, h, m, sec)
	}
	r := rng.IntN(1000)
	for _, c := range simCrons {
		if r < c.weight {
			return c.cron(rng, h, m, sec)
		}
		r -= c.weight
	}
	panic("simCrons weights must add up to 1000")
}

func simMinute(rng *rand.Rand) int {
	switch r := rng.IntN(20); {
	case r < 10:
		return 0
	case r < 13:
		return 30
	case r < 15:
		return 15 * (1 + 2*rng.IntN(2)) // 15 or 45
	default:
		return rng.IntN(60)
	}
}

// simOverlapSchedule makes a frequent schedule whose runs often outlast
// its interval, with overlap policy skip or bufferOne (a few allow).
func simOverlapSchedule(rng *rand.Rand, _ int, s *simSchedule) {
	s.Cron = pick(rng, []string{"*/15 * * * *", "*/10 * * * *", "*/20 * * * *", "0 * * * *", "*/5 9-17 * * *", "30 */2 * * *"})
	s.Timezone = pick(rng, simZones)
	s.OverlapPolicy = pick(rng, []herald.OverlapPolicy{herald.OverlapSkip, herald.OverlapSkip, herald.OverlapBufferOne, herald.OverlapBufferOne, herald.OverlapBufferOne, herald.OverlapAllow})
	s.MisfirePolicy = pick(rng, []herald.MisfirePolicy{herald.MisfireSkip, herald.MisfireLatest, herald.MisfireAll})
	s.CatchUpWindow = herald.Duration(pick(rng, simWindows))
	s.Spread = herald.Duration(pick(rng, []time.Duration{0, 0, 2 * time.Minute}))
	s.duration = time.Duration(pick(rng, []int{4, 9, 10, 15, 22, 35, 50, 75})) * time.Minute
}

func zonesUsed(schedules []simSchedule) string {
	count := map[string]int{}
	for _, s := range schedules {
		count[s.Timezone]++
	}
	zones := make([]string, 0, len(count))
	for z, n := range count {
		zones = append(zones, fmt.Sprintf("%s %d", z, n))
	}
	slices.Sort(zones)
	return strings.Join(zones, ", ")
}

// run drives the plan tick by tick and returns the instants at which scans
// ran (crashed ones included). With a worker, the worker finishes the runs
// whose time is up before the scans and starts the runs received after
// them; without one, messages are received and completed.
func (sm *simulation) run(ctx context.Context, plan simPlan, w *simWorker) []time.Time {
	restarts := instantSet(plan.restarts)
	crashes := map[time.Time]simCrash{}
	for _, c := range plan.crashes {
		crashes[utc(c.at)] = c
	}
	var scans []time.Time
	for now := plan.start.Add(simTick); !now.After(plan.end); now = now.Add(simTick) {
		if plan.down(now) {
			_, crashed := crashes[now.Add(-simTick)]
			require.False(sm.t, crashed, "the tick after a crash must scan")
			continue
		}
		if restarts[now] {
			sm.restart()
		}
		sm.clock.Set(now)
		scans = append(scans, now)
		if w != nil {
			w.finish(ctx, now)
		}
		crash, crashing := crashes[now]
		if crashing {
			cp := &crashPoint{afterPublish: crash.afterPublish}
			cp.budget.Store(crash.budget)
			for _, err := range sm.scan(ctx, now, crashingStore{Store: sm.store, c: cp}, crashingQueue{Publisher: sm.queue, c: cp}) {
				if errors.Is(err, errCrashed) {
					sm.crashed++
				}
			}
		} else {
			for i, err := range sm.scan(ctx, now, nil, nil) {
				require.NoError(sm.t, err, "scanner %d at %s", i, now)
			}
		}
		if w != nil {
			w.start(ctx, now)
		} else {
			sm.drain(ctx, nil)
		}
		if crashing {
			sm.restart()
		}
	}
	return scans
}

// scan runs the two scanners at once at now; with a store and queue given,
// over those instead of their own.
func (sm *simulation) scan(ctx context.Context, now time.Time, store Store, queue Publisher) []error {
	errs := make([]error, len(sm.scanners))
	var wg sync.WaitGroup
	for i, sc := range sm.scanners {
		if store != nil {
			sc = NewScanner(store, queue, nil)
		}
		wg.Go(func() { _, errs[i] = sc.RunOnce(ctx, now) })
	}
	wg.Wait()
	return errs
}

// drain receives and completes every visible generation message, counting
// ids, and hands each to handle.
func (sm *simulation) drain(ctx context.Context, handle func(herald.QueueDelivery)) {
	for {
		ds, err := sm.queue.Receive(ctx, herald.QueueGenerate, herald.MaxReceive, time.Minute)
		require.NoError(sm.t, err)
		for _, d := range ds {
			sm.messages[d.ID]++
			if handle != nil {
				handle(d)
			}
			require.NoError(sm.t, sm.queue.Complete(ctx, d))
		}
		if len(ds) < herald.MaxReceive {
			return
		}
	}
}

// simWorker starts each run when its message arrives and finishes it as
// succeeded its schedule's duration later.
type simWorker struct {
	sm        *simulation
	durations map[string]time.Duration // by schedule id
	runs      map[string]*herald.Run   // running, by id
	ends      map[string]time.Time     // when each running run finishes
}

func (w *simWorker) start(ctx context.Context, now time.Time) {
	w.sm.drain(ctx, func(d herald.QueueDelivery) {
		var job herald.GenerateJob
		require.NoError(w.sm.t, json.Unmarshal(d.Body, &job))
		r, err := w.sm.runs.Start(ctx, job, 24*time.Hour)
		require.NoError(w.sm.t, err, "starting %s", d.ID)
		w.runs[r.ID], w.ends[r.ID] = r, now.Add(w.durations[r.ScheduleID])
	})
}

func (w *simWorker) finish(ctx context.Context, now time.Time) {
	var done []string
	for id, end := range w.ends {
		if !end.After(now) {
			done = append(done, id)
		}
	}
	slices.SortFunc(done, func(a, b string) int { return cmp.Or(w.ends[a].Compare(w.ends[b]), strings.Compare(a, b)) })
	for _, id := range done {
		require.NoError(w.sm.t, w.sm.runs.Finish(ctx, w.runs[id], herald.RunSucceeded, "done"), "finishing %s", id)
		delete(w.runs, id)
		delete(w.ends, id)
	}
}

func instantSet(list []string) map[time.Time]bool {
	out := map[time.Time]bool{}
	for _, s := range list {
		out[utc(s)] = true
	}
	return out
}

// errCrashed is what every call of a crashed process returns.
var errCrashed = errors.New("simulated crash: the process is gone")

// crashPoint kills a process after budget writes, or right after its first
// publish: every write and read after that fails, as if the process had
// died mid-scan.
type crashPoint struct {
	budget       atomic.Int64
	afterPublish bool
}

// take uses up to n writes of the budget and returns how many it got.
func (c *crashPoint) take(n int) int {
	for {
		left := c.budget.Load()
		got := min(int64(n), max(left, 0))
		if c.budget.CompareAndSwap(left, left-got) {
			return int(got)
		}
	}
}

func (c *crashPoint) write() error {
	if c.take(1) == 0 {
		return errCrashed
	}
	return nil
}

func (c *crashPoint) read() error {
	if c.budget.Load() <= 0 {
		return errCrashed
	}
	return nil
}

// crashingStore is a Store that dies at its crash point, in the middle of
// a batch if it comes to that: the writes before it are applied, the others
// fail.
type crashingStore struct {
	Store
	c *crashPoint
}

func (s crashingStore) Create(ctx context.Context, it herald.Item) (string, error) {
	if err := s.c.write(); err != nil {
		return "", err
	}
	return s.Store.Create(ctx, it)
}

func (s crashingStore) Replace(ctx context.Context, it herald.Item) (string, error) {
	if err := s.c.write(); err != nil {
		return "", err
	}
	return s.Store.Replace(ctx, it)
}

func (s crashingStore) WriteBatch(ctx context.Context, writes []herald.Write) ([]herald.WriteResult, error) {
	n := s.c.take(len(writes))
	if n == 0 {
		return nil, errCrashed
	}
	results, err := s.Store.WriteBatch(ctx, writes[:n])
	if err != nil {
		return nil, err
	}
	for range writes[n:] {
		results = append(results, herald.WriteResult{Err: errCrashed})
	}
	return results, nil
}

func (s crashingStore) Get(ctx context.Context, kind herald.Kind, tenantID, id string) (herald.Item, error) {
	if err := s.c.read(); err != nil {
		return herald.Item{}, err
	}
	return s.Store.Get(ctx, kind, tenantID, id)
}

func (s crashingStore) List(ctx context.Context, q herald.ListQuery) (herald.Page, error) {
	if err := s.c.read(); err != nil {
		return herald.Page{}, err
	}
	return s.Store.List(ctx, q)
}

func (s crashingStore) Due(ctx context.Context, kind herald.Kind, before herald.Instant, limit int) ([]herald.DueKey, error) {
	if err := s.c.read(); err != nil {
		return nil, err
	}
	return s.Store.Due(ctx, kind, before, limit)
}

// crashingQueue is a Publisher that dies at its crash point, in the middle
// of a batch if it comes to that: the messages before it are published.
type crashingQueue struct {
	Publisher
	c *crashPoint
}

func (q crashingQueue) Publish(ctx context.Context, m herald.Message) error {
	if err := q.c.write(); err != nil {
		return err
	}
	err := q.Publisher.Publish(ctx, m)
	if q.c.afterPublish {
		q.c.budget.Store(0)
	}
	return err
}

func (q crashingQueue) PublishBatch(ctx context.Context, ms []herald.Message) error {
	n := q.c.take(len(ms))
	if n > 0 {
		if err := q.Publisher.PublishBatch(ctx, ms[:n]); err != nil {
			return err
		}
	}
	if q.c.afterPublish {
		q.c.budget.Store(0)
	}
	if n < len(ms) {
		return errCrashed
	}
	return nil
}

// simWant is what the scheduling contract expects of one fire time.
type simWant struct {
	at        time.Time
	status    herald.RunStatus
	reason    string // words the run's reason must contain
	blockedBy string // the run a waiting run waits for
}

// Reasons, as words the run's reason must contain.
const (
	reasonWindow  = "catch-up window"
	reasonLatest  = "misfire policy latest"
	reasonSkip    = "misfire policy skip"
	reasonOverlap = "overlap policy skip"
	reasonBuffer  = "overlap policy bufferOne"
	reasonDone    = "done"
)

// simFires lists the schedule's fire times after start whose due time
// (fire time plus spread offset) the last scan reached, grouped by the scan
// that handles them: the first at or after their due time.
func simFires(s simSchedule, start time.Time, scans []time.Time) [][]time.Time {
	offset, last := s.SpreadOffset(), scans[len(scans)-1]
	var groups [][]time.Time
	var handler time.Time
	for f := s.expr.Next(start, s.loc); !f.IsZero() && !f.Add(offset).After(last); f = s.expr.Next(f, s.loc) {
		h := handledBy(s, f, scans)
		if len(groups) == 0 || !h.Equal(handler) {
			groups = append(groups, nil)
			handler = h
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], f)
	}
	return groups
}

// misfire is the model of the misfire rules for a fire time handled late
// (after its due time) by a scan, the last one that scan handles or not:
// within OnTime it runs; later than the catch-up window it is skipped; in
// between, policy all runs it, latest runs it only if it is the last, skip
// skips it. It returns the reason of a skip, "" to run.
func misfire(s simSchedule, late time.Duration, last bool) string {
	switch {
	case late <= OnTime:
		return ""
	case late > s.CatchUpWindow.Std():
		return reasonWindow
	case s.MisfirePolicy == herald.MisfireAll, s.MisfirePolicy == herald.MisfireLatest && last:
		return ""
	case s.MisfirePolicy == herald.MisfireLatest:
		return reasonLatest
	default:
		return reasonSkip
	}
}

// expectMisfires is the model of a week in which runs never start.
func expectMisfires(s simSchedule, start time.Time, scans []time.Time) []simWant {
	var want []simWant
	for _, group := range simFires(s, start, scans) {
		for i, f := range group {
			h := handledBy(s, f, scans)
			w := simWant{at: f, status: herald.RunQueued}
			if w.reason = misfire(s, h.Sub(f.Add(s.SpreadOffset())), i == len(group)-1); w.reason != "" {
				w.status = herald.RunSkipped
			}
			want = append(want, w)
		}
	}
	return want
}

// handledBy is the scan that handles fire time f: the first at or after
// its due time.
func handledBy(s simSchedule, f time.Time, scans []time.Time) time.Time {
	due := f.Add(s.SpreadOffset())
	return scans[sort.Search(len(scans), func(i int) bool { return !scans[i].Before(due) })]
}

// expectOverlap is the model of a day in which the worker runs each run for
// the schedule's duration. At each tick, first the runs whose time is up
// finish (a waiting run then starts), then the scan decides the fire times
// it handles: misfire rules first, then the overlap policy against the
// unfinished run (skip: skipped; bufferOne: waits, unless one waits already,
// then skipped; allow: runs).
func expectOverlap(s simSchedule, start time.Time, scans []time.Time) []simWant {
	var want []simWant
	byID := map[string]int{}
	var active, waiting string
	var activeEnd time.Time
	allowEnds := map[int]time.Time{} // by index in want
	groups := simFires(s, start, scans)
	for _, now := range scans {
		if active != "" && !activeEnd.After(now) {
			want[byID[active]].status, want[byID[active]].reason = herald.RunSucceeded, reasonDone
			active = ""
			if waiting != "" {
				active, activeEnd, waiting = waiting, now.Add(s.duration), ""
				want[byID[active]].status, want[byID[active]].reason, want[byID[active]].blockedBy = herald.RunRunning, "", ""
			}
		}
		if len(groups) == 0 || !handledBy(s, groups[0][0], scans).Equal(now) {
			continue
		}
		group := groups[0]
		groups = groups[1:]
		for i, f := range group {
			id := herald.ScheduledRunID(s.TenantID, s.ID, herald.At(f))
			byID[id] = len(want)
			w := simWant{at: f, status: herald.RunSkipped}
			w.reason = misfire(s, now.Sub(f.Add(s.SpreadOffset())), i == len(group)-1)
			switch {
			case w.reason != "":
			case s.OverlapPolicy == herald.OverlapAllow:
				w.status, allowEnds[len(want)] = herald.RunRunning, now.Add(s.duration)
			case active == "":
				w.status, active, activeEnd = herald.RunRunning, id, now.Add(s.duration)
			case s.OverlapPolicy == herald.OverlapBufferOne && waiting == "":
				w.status, w.reason, w.blockedBy, waiting = herald.RunQueued, reasonBuffer, active, id
			case s.OverlapPolicy == herald.OverlapBufferOne:
				w.reason = reasonBuffer
			default:
				w.reason = reasonOverlap
			}
			want = append(want, w)
		}
	}
	for i, end := range allowEnds {
		if !end.After(scans[len(scans)-1]) {
			want[i].status, want[i].reason = herald.RunSucceeded, reasonDone
		}
	}
	return want
}

// simFigures counts what a simulation produced.
type simFigures struct {
	runs, messages int
	status         map[herald.RunStatus]int
	skipped        map[string]int // by reason
}

func (fig *simFigures) count(w simWant) {
	fig.runs++
	fig.status[w.status]++
	if w.status == herald.RunSkipped {
		fig.skipped[w.reason]++
	}
}

func (fig *simFigures) reasons() string {
	var out []string
	for _, r := range []string{reasonWindow, reasonLatest, reasonSkip, reasonOverlap, reasonBuffer} {
		if n := fig.skipped[r]; n > 0 {
			out = append(out, fmt.Sprintf("%d %s", n, r))
		}
	}
	return strings.Join(out, ", ")
}

// problems collects mismatches, keeping the first few for the report.
type problems struct {
	n     int
	first []string
}

func (p *problems) add(format string, args ...any) {
	p.n++
	if len(p.first) < 30 {
		p.first = append(p.first, fmt.Sprintf(format, args...))
	}
}

// verify compares the store and the messages received with the model's
// runs of each schedule.
func (sm *simulation) verify(ctx context.Context, start time.Time, schedules []simSchedule, model func(simSchedule) []simWant) simFigures {
	fig := simFigures{status: map[herald.RunStatus]int{}, skipped: map[string]int{}}
	var p problems
	runs := sm.allRuns(ctx)
	published := map[string]bool{} // the generation message ids expected
	for _, s := range schedules {
		key := s.TenantID + "/" + s.ID
		got := map[string]*herald.Run{}
		for _, r := range runs[key] {
			got[r.ScheduledFor.String()] = r
		}
		delete(runs, key)
		want := model(s)
		for _, w := range want {
			at := herald.At(w.at).String()
			r := got[at]
			delete(got, at)
			if r == nil {
				p.add("%s %q %s: no run for %s (want %s %s)", s.ID, s.Cron, s.Timezone, at, w.status, w.reason)
				continue
			}
			checkRun(&p, s, w, r)
			fig.count(w)
			if w.status != herald.RunSkipped && w.blockedBy == "" {
				published[r.ID+".1"] = true
			}
		}
		for at, r := range got {
			p.add("%s %q %s: unexpected %s run for %s (%s)", s.ID, s.Cron, s.Timezone, r.Status, at, r.Reason)
		}
		checkNext(ctx, &p, sm.store, s, start, want)
	}
	for key, rs := range runs {
		p.add("%d runs of unknown schedule %s", len(rs), key)
	}
	for id, n := range sm.messages {
		fig.messages += n
		switch {
		case !published[id]:
			p.add("message %s received %d times: no queued or started run has it", id, n)
		case n != 1:
			p.add("message %s received %d times", id, n)
		}
	}
	for id := range published {
		if sm.messages[id] == 0 {
			p.add("run %s: no generation message", strings.TrimSuffix(id, ".1"))
		}
	}
	assert.Zero(sm.t, p.n, "%d problems; the first:\n%s", p.n, strings.Join(p.first, "\n"))
	assert.Equal(sm.t, len(published), fig.messages, "one generation message per run to start")
	return fig
}

func checkRun(p *problems, s simSchedule, w simWant, r *herald.Run) {
	at := herald.At(w.at)
	if r.Status != w.status || r.BlockedBy != w.blockedBy {
		p.add("%s %q %s (misfire %s, window %s, overlap %s, spread offset %s): run for %s is %s (%s) blocked by %q, want %s (%s) blocked by %q",
			s.ID, s.Cron, s.Timezone, s.MisfirePolicy, s.CatchUpWindow.Std(), s.OverlapPolicy, s.SpreadOffset(), at,
			r.Status, r.Reason, r.BlockedBy, w.status, w.reason, w.blockedBy)
		return
	}
	if r.ID != herald.ScheduledRunID(s.TenantID, s.ID, at) || r.Trigger != herald.TriggerSchedule || r.ReportID != s.ReportID || r.Attempt != 1 {
		p.add("run %s for %s: id, trigger %s, report %s or attempt %d not the schedule's first", r.ID, at, r.Trigger, r.ReportID, r.Attempt)
	}
	if !strings.Contains(r.Reason, w.reason) || (w.reason == "") != (r.Reason == "") {
		p.add("%s run %s for %s: reason %q, want one saying %q", r.Status, r.ID, at, r.Reason, w.reason)
	}
	if r.Status.Terminal() && (r.FinishedAt.IsZero() || !r.DueAt.IsZero()) {
		p.add("%s run %s: finished at %s, due at %s: want a finish time and no due time", r.Status, r.ID, r.FinishedAt, r.DueAt)
	}
}

// checkNext checks that the schedule ends at the first fire time after the
// ones handled.
func checkNext(ctx context.Context, p *problems, store Store, s simSchedule, start time.Time, want []simWant) {
	got, err := herald.GetRecord[herald.Schedule](ctx, store, s.TenantID, s.ID)
	if err != nil {
		p.add("reading schedule %s: %v", s.ID, err)
		return
	}
	next := s.expr.Next(start, s.loc)
	if len(want) > 0 {
		next = s.expr.Next(want[len(want)-1].at, s.loc)
	}
	if !got.NextRunAt.Equal(next) || !got.DueAt.Equal(next.Add(s.SpreadOffset())) {
		p.add("schedule %s %q %s: next run %s due %s, want %s", s.ID, s.Cron, s.Timezone, got.NextRunAt, got.DueAt, herald.At(next))
	}
}

// allRuns lists every run of every tenant, by "tenant/schedule".
func (sm *simulation) allRuns(ctx context.Context) map[string][]*herald.Run {
	out := map[string][]*herald.Run{}
	for i := range simTenants {
		q := herald.ListQuery{TenantID: fmt.Sprintf("tenant-%02d", i), Limit: herald.MaxListLimit}
		for {
			runs, next, err := herald.ListRecords[herald.Run](ctx, sm.store, q)
			require.NoError(sm.t, err)
			for _, r := range runs {
				out[r.TenantID+"/"+r.ScheduleID] = append(out[r.TenantID+"/"+r.ScheduleID], r)
			}
			if next == "" {
				break
			}
			q.Cursor = next
		}
	}
	return out
}
