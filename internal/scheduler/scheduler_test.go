package scheduler

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/sqlite"
)

// clock is a test clock shared by the store's queue and the scheduler.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// env is a real SQLite store and queue in a temp dir.
type env struct {
	t     *testing.T
	store *sqlite.Store
	queue *sqlite.Queue
	clock *clock
	runs  *Runs
	scan  *Scanner
}

func newEnv(t *testing.T, start time.Time) *env {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "herald.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	c := &clock{now: start}
	q := store.Queue(sqlite.WithQueueClock(c.Now))
	return &env{t: t, store: store, queue: q, clock: c, runs: NewRuns(store, q, nil, c.Now), scan: NewScanner(store, q, nil)}
}

// schedule stores an enabled schedule planned from the clock's now.
func (e *env) schedule(tenant, cron, zone string, mutate func(*herald.Schedule)) *herald.Schedule {
	e.t.Helper()
	now := herald.At(e.clock.Now())
	s := &herald.Schedule{
		Meta:     herald.Meta{ID: herald.NewID(herald.PrefixSchedule, now.Time), TenantID: tenant},
		ReportID: herald.NewID(herald.PrefixReport, now.Time), Name: "test", Cron: cron, Timezone: zone, Enabled: true,
	}
	s.Normalize()
	if mutate != nil {
		mutate(s)
	}
	require.NoError(e.t, Plan(s, now.Time))
	s.Touch("test", now)
	require.NoError(e.t, herald.CreateRecord(context.Background(), e.store, s))
	return s
}

// runsOf lists a schedule's runs, oldest fire time first.
func (e *env) runsOf(s *herald.Schedule) []*herald.Run {
	e.t.Helper()
	runs, _, err := herald.ListRecords[herald.Run](context.Background(), e.store, herald.ListQuery{
		TenantID: s.TenantID, Limit: herald.MaxListLimit, OrderBy: "scheduledFor",
		Where: []herald.Cond{{Field: "scheduleId", Op: herald.OpEq, Value: s.ID}},
	})
	require.NoError(e.t, err)
	return runs
}

// messages receives and completes everything visible on the generate queue.
func (e *env) messages() []string {
	e.t.Helper()
	ds, err := e.queue.Receive(context.Background(), herald.QueueGenerate, herald.MaxReceive, time.Minute)
	require.NoError(e.t, err)
	var ids []string
	for _, d := range ds {
		ids = append(ids, d.ID)
		require.NoError(e.t, e.queue.Complete(context.Background(), d))
	}
	return ids
}

func (e *env) reload(s *herald.Schedule) *herald.Schedule {
	e.t.Helper()
	got, err := herald.GetRecord[herald.Schedule](context.Background(), e.store, s.TenantID, s.ID)
	require.NoError(e.t, err)
	return got
}

func statuses(runs []*herald.Run) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.ScheduledFor.UTC().Format("15:04") + " " + string(r.Status)
	}
	return out
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestScanCreatesEachRunOnce(t *testing.T) {
	e := newEnv(t, utc("2026-11-30T07:55:00Z"))
	s := e.schedule("acme", "0 9 * * MON", "Europe/Berlin", nil)
	assert.Equal(t, utc("2026-11-30T08:00:00Z"), s.NextRunAt.Time)

	st, err := e.scan.RunOnce(t.Context(), utc("2026-11-30T07:59:59Z"))
	require.NoError(t, err)
	assert.Zero(t, st.Schedules, "not due yet")

	e.clock.Set(utc("2026-11-30T08:00:02Z"))
	other := NewScanner(e.store, e.queue, nil)
	var wg sync.WaitGroup
	for _, sc := range []*Scanner{e.scan, other, e.scan, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := sc.RunOnce(t.Context(), e.clock.Now())
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	runs := e.runsOf(s)
	require.Len(t, runs, 1, "four concurrent scans create one run")
	assert.Equal(t, herald.ScheduledRunID("acme", s.ID, herald.At(utc("2026-11-30T08:00:00Z"))), runs[0].ID)
	assert.Equal(t, herald.RunQueued, runs[0].Status)
	assert.Equal(t, []string{runs[0].ID + ".1"}, e.messages(), "one generation job")

	s = e.reload(s)
	assert.Equal(t, utc("2026-12-07T08:00:00Z"), s.NextRunAt.Time, "advanced to next Monday")
	assert.Equal(t, runs[0].ID, s.LastRunID)
}

func TestScanRepairsAnInterruptedScan(t *testing.T) {
	e := newEnv(t, utc("2026-11-30T07:55:00Z"))
	s := e.schedule("acme", "0 9 * * MON", "Europe/Berlin", nil)
	now := utc("2026-11-30T08:00:01Z")
	e.clock.Set(now)
	// A scan that created the run and died before publishing and advancing.
	r := newScheduledRun(s, s.NextRunAt.Time, now, "scheduler")
	require.NoError(t, herald.CreateRecord(t.Context(), e.store, r))

	st, err := e.scan.RunOnce(t.Context(), now)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Queued)
	assert.Len(t, e.runsOf(s), 1)
	assert.Equal(t, []string{r.ID + ".1"}, e.messages(), "the found run is published")
	assert.Equal(t, utc("2026-12-07T08:00:00Z"), e.reload(s).NextRunAt.Time)

	// A scan that published and died before advancing: publishing again is dropped.
	s = e.reload(s)
	s.NextRunAt, s.DueAt = herald.At(utc("2026-11-30T08:00:00Z")), herald.At(utc("2026-11-30T08:00:00Z"))
	require.NoError(t, herald.ReplaceRecord(t.Context(), e.store, s))
	_, err = e.scan.RunOnce(t.Context(), now)
	require.NoError(t, err)
	assert.Empty(t, e.messages(), "duplicate detection drops the second publish")
	assert.Len(t, e.runsOf(s), 1)
}

func TestMisfirePolicies(t *testing.T) {
	// Hourly schedule; Herald was down from 06:30 until the scan.
	tests := []struct {
		name    string
		policy  herald.MisfirePolicy
		scanAt  string
		want    []string
		running int
	}{
		{"latest, back on time", herald.MisfireLatest, "2026-11-30T12:00:30Z",
			[]string{"07:00 skipped", "08:00 skipped", "09:00 skipped", "10:00 skipped", "11:00 skipped", "12:00 queued"}, 1},
		{"skip, back on time", herald.MisfireSkip, "2026-11-30T12:00:30Z",
			[]string{"07:00 skipped", "08:00 skipped", "09:00 skipped", "10:00 skipped", "11:00 skipped", "12:00 queued"}, 1},
		{"all, within the 3h window", herald.MisfireAll, "2026-11-30T12:00:30Z",
			[]string{"07:00 skipped", "08:00 skipped", "09:00 skipped", "10:00 queued", "11:00 queued", "12:00 queued"}, 3},
		{"latest, back late", herald.MisfireLatest, "2026-11-30T12:30:00Z",
			[]string{"07:00 skipped", "08:00 skipped", "09:00 skipped", "10:00 skipped", "11:00 skipped", "12:00 queued"}, 1},
		{"skip, back late", herald.MisfireSkip, "2026-11-30T12:30:00Z",
			[]string{"07:00 skipped", "08:00 skipped", "09:00 skipped", "10:00 skipped", "11:00 skipped", "12:00 skipped"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, utc("2026-11-30T06:30:00Z"))
			s := e.schedule("acme", "0 * * * *", "UTC", func(s *herald.Schedule) {
				s.MisfirePolicy, s.OverlapPolicy = tt.policy, herald.OverlapAllow
				s.CatchUpWindow = herald.Duration(3 * time.Hour)
			})
			e.clock.Set(utc(tt.scanAt))
			_, err := e.scan.RunOnce(t.Context(), e.clock.Now())
			require.NoError(t, err)
			runs := e.runsOf(s)
			assert.Equal(t, tt.want, statuses(runs))
			assert.Len(t, e.messages(), tt.running)
			for _, r := range runs {
				if r.Status == herald.RunSkipped {
					assert.NotEmpty(t, r.Reason, "every skipped run says why")
					assert.False(t, r.FinishedAt.IsZero())
				}
			}
			assert.Equal(t, utc("2026-11-30T13:00:00Z"), e.reload(s).NextRunAt.Time)
		})
	}
}

func TestOverlapPolicies(t *testing.T) {
	tests := []struct {
		policy herald.OverlapPolicy
		want   []string // the runs at 09:01 and 09:02 while 09:00 is running
		jobs   int
	}{
		{herald.OverlapSkip, []string{"09:00 running", "09:01 skipped", "09:02 skipped"}, 0},
		{herald.OverlapBufferOne, []string{"09:00 running", "09:01 queued", "09:02 skipped"}, 0},
		{herald.OverlapAllow, []string{"09:00 running", "09:01 queued", "09:02 queued"}, 2},
	}
	for _, tt := range tests {
		t.Run(string(tt.policy), func(t *testing.T) {
			e := newEnv(t, utc("2026-11-30T08:59:30Z"))
			s := e.schedule("acme", "* * * * *", "UTC", func(s *herald.Schedule) { s.OverlapPolicy = tt.policy })
			e.clock.Set(utc("2026-11-30T09:00:01Z"))
			_, err := e.scan.RunOnce(t.Context(), e.clock.Now())
			require.NoError(t, err)
			first := e.messages()
			require.Len(t, first, 1)
			running, err := e.runs.Start(t.Context(), herald.GenerateJob{TenantID: "acme", RunID: e.runsOf(s)[0].ID, Attempt: 1}, time.Hour)
			require.NoError(t, err)

			for _, at := range []string{"2026-11-30T09:01:01Z", "2026-11-30T09:02:01Z"} {
				e.clock.Set(utc(at))
				_, err := e.scan.RunOnce(t.Context(), e.clock.Now())
				require.NoError(t, err)
			}
			assert.Equal(t, tt.want, statuses(e.runsOf(s)))
			assert.Len(t, e.messages(), tt.jobs)

			require.NoError(t, e.runs.Finish(t.Context(), running, herald.RunSucceeded, "done"))
			if tt.policy == herald.OverlapBufferOne {
				waiting := e.runsOf(s)[1]
				assert.Empty(t, waiting.BlockedBy, "the waiting run is released when its predecessor ends")
				assert.Equal(t, []string{waiting.ID + ".1"}, e.messages())
			}
		})
	}
}

func TestSpreadDelaysTheRunNotItsFireTime(t *testing.T) {
	e := newEnv(t, utc("2026-11-30T08:00:00Z"))
	s := e.schedule("acme", "0 9 * * *", "UTC", func(s *herald.Schedule) { s.Spread = herald.Duration(10 * time.Minute) })
	offset := s.SpreadOffset()
	require.Positive(t, offset)
	require.Less(t, offset, 10*time.Minute)
	assert.Equal(t, utc("2026-11-30T09:00:00Z").Add(offset), s.DueAt.Time)

	_, err := e.scan.RunOnce(t.Context(), utc("2026-11-30T09:00:00Z").Add(offset-time.Second))
	require.NoError(t, err)
	assert.Empty(t, e.runsOf(s), "not before its offset")
	_, err = e.scan.RunOnce(t.Context(), utc("2026-11-30T09:00:00Z").Add(offset))
	require.NoError(t, err)
	runs := e.runsOf(s)
	require.Len(t, runs, 1)
	assert.Equal(t, utc("2026-11-30T09:00:00Z"), runs[0].ScheduledFor.Time, "the run is for the fire time")
}

func TestScanFollowsDST(t *testing.T) {
	e := newEnv(t, utc("2026-03-28T12:00:00Z"))
	s := e.schedule("acme", "30 2 * * *", "Europe/Berlin", nil)
	// 02:30 does not exist on 2026-03-29 in Berlin: it fires once, at 03:00 CEST (01:00 UTC).
	assert.Equal(t, utc("2026-03-29T01:00:00Z"), s.NextRunAt.Time)
	_, err := e.scan.RunOnce(t.Context(), utc("2026-03-29T01:00:05Z"))
	require.NoError(t, err)
	require.Len(t, e.runsOf(s), 1)
	assert.Equal(t, utc("2026-03-30T00:30:00Z"), e.reload(s).NextRunAt.Time, "02:30 CEST the day after")
}

func TestRecovery(t *testing.T) {
	e := newEnv(t, utc("2026-11-30T08:00:00Z"))
	report := &herald.Report{Meta: herald.Meta{ID: herald.NewID(herald.PrefixReport, e.clock.Now()), TenantID: "acme"}, Name: "r"}
	run, err := e.runs.RunNow(t.Context(), report, nil, "ana")
	require.NoError(t, err)
	assert.Equal(t, []string{run.ID + ".1"}, e.messages())

	// A worker takes it and dies: the lease expires, recovery starts attempt 2.
	_, err = e.runs.Start(t.Context(), herald.GenerateJob{TenantID: "acme", RunID: run.ID, Attempt: 1}, time.Minute)
	require.NoError(t, err)
	e.clock.Set(utc("2026-11-30T08:01:30Z"))
	st, err := e.runs.Recover(t.Context(), e.clock.Now())
	require.NoError(t, err)
	assert.Equal(t, 1, st.Requeued)
	assert.Equal(t, []string{run.ID + ".2"}, e.messages())

	// The old attempt's job is stale now.
	_, err = e.runs.Start(t.Context(), herald.GenerateJob{TenantID: "acme", RunID: run.ID, Attempt: 1}, time.Minute)
	assert.True(t, IsStale(err))

	// Attempts 2 and 3 die too: the run fails with a reason.
	for attempt := 2; attempt <= herald.MaxAttempts; attempt++ {
		_, err = e.runs.Start(t.Context(), herald.GenerateJob{TenantID: "acme", RunID: run.ID, Attempt: attempt}, time.Minute)
		require.NoError(t, err)
		e.clock.Set(e.clock.Now().Add(2 * time.Minute))
		_, err = e.runs.Recover(t.Context(), e.clock.Now())
		require.NoError(t, err)
		e.messages()
	}
	got, err := herald.GetRecord[herald.Run](t.Context(), e.store, "acme", run.ID)
	require.NoError(t, err)
	assert.Equal(t, herald.RunFailed, got.Status)
	assert.Contains(t, got.Reason, "lease expired")
	assert.True(t, got.DueAt.IsZero(), "nothing left to recover")

	// A queued run whose job was lost is published again at its due time.
	lost := &herald.Run{Meta: herald.Meta{ID: herald.NewID(herald.PrefixRun, e.clock.Now()), TenantID: "acme"},
		ReportID: report.ID, Trigger: herald.TriggerManual, Status: herald.RunQueued, Attempt: 1, DueAt: herald.At(e.clock.Now())}
	require.NoError(t, herald.CreateRecord(t.Context(), e.store, lost))
	st, err = e.runs.Recover(t.Context(), e.clock.Now())
	require.NoError(t, err)
	assert.Equal(t, 1, st.Republished)
	assert.Equal(t, []string{lost.ID + ".1"}, e.messages())
}

func TestCancelAndRetry(t *testing.T) {
	e := newEnv(t, utc("2026-11-30T08:00:00Z"))
	report := &herald.Report{Meta: herald.Meta{ID: herald.NewID(herald.PrefixReport, e.clock.Now()), TenantID: "acme"}, Name: "r"}
	run, err := e.runs.RunNow(t.Context(), report, nil, "ana")
	require.NoError(t, err)
	canceled, err := e.runs.Cancel(t.Context(), "acme", run.ID, "ana")
	require.NoError(t, err)
	assert.Equal(t, herald.RunCanceled, canceled.Status)
	_, err = e.runs.Cancel(t.Context(), "acme", run.ID, "ana")
	assert.Equal(t, herald.CodeConflict, herald.CodeOf(err))
	_, err = e.runs.Start(t.Context(), herald.GenerateJob{TenantID: "acme", RunID: run.ID, Attempt: 1}, time.Minute)
	assert.True(t, IsStale(err), "a canceled run's job does nothing")

	retry, err := e.runs.Retry(t.Context(), "acme", run.ID, "ana")
	require.NoError(t, err)
	assert.Equal(t, herald.TriggerRetry, retry.Trigger)
	assert.Equal(t, run.ID, retry.RetryOf)
	_, err = e.runs.Retry(t.Context(), "acme", retry.ID, "ana")
	assert.Equal(t, herald.CodeConflict, herald.CodeOf(err), "a queued run is not retried")
	_, err = e.runs.Cancel(t.Context(), "globex", retry.ID, "eve")
	assert.Equal(t, herald.CodeNotFound, herald.CodeOf(err), "another tenant's run does not exist")
}

func TestBackfill(t *testing.T) {
	e := newEnv(t, utc("2026-11-30T08:00:00Z"))
	s := e.schedule("acme", "0 9 * * *", "Europe/Berlin", nil)
	created, existing, err := e.runs.Backfill(t.Context(), s, utc("2026-11-01T00:00:00Z"), utc("2026-11-08T00:00:00Z"), "ana")
	require.NoError(t, err)
	assert.Len(t, created, 7)
	assert.Empty(t, existing)
	created, existing, err = e.runs.Backfill(t.Context(), s, utc("2026-11-05T00:00:00Z"), utc("2026-11-10T00:00:00Z"), "ana")
	require.NoError(t, err)
	assert.Len(t, created, 2, "the 8th and 9th are new")
	assert.Len(t, existing, 3, "the 5th to 7th exist")
	assert.Len(t, e.runsOf(s), 9)
	assert.Equal(t, "ana", created[0].CreatedBy)
	_, _, err = e.runs.Backfill(t.Context(), s, utc("2020-01-01T00:00:00Z"), utc("2026-01-01T00:00:00Z"), "ana")
	assert.Equal(t, herald.CodeInvalid, herald.CodeOf(err), "capped")
	_, _, err = e.runs.Backfill(t.Context(), s, utc("2026-11-29T00:00:00Z"), utc("2026-12-10T00:00:00Z"), "ana")
	assert.Equal(t, herald.CodeInvalid, herald.CodeOf(err), "no future fire times")
}

func TestRunNowChecksParameters(t *testing.T) {
	e := newEnv(t, utc("2026-11-30T08:00:00Z"))
	report := &herald.Report{Meta: herald.Meta{ID: herald.NewID(herald.PrefixReport, e.clock.Now()), TenantID: "acme"}, Name: "r",
		Parameters: []herald.Parameter{
			{Name: "region", Type: herald.ParamString, Required: true},
			{Name: "since", Type: herald.ParamDate, Required: true, Default: []byte(`"-7d"`)},
		}}
	_, err := e.runs.RunNow(t.Context(), report, nil, "ana")
	var he *herald.Error
	require.ErrorAs(t, err, &he)
	require.Len(t, he.Fields, 1)
	assert.Equal(t, "parameters.region", he.Fields[0].Field, "a required parameter without default must be given")
	_, err = e.runs.RunNow(t.Context(), report, map[string]json.RawMessage{"region": []byte(`"EMEA"`)}, "ana")
	require.NoError(t, err)
	_, err = e.runs.RunNow(t.Context(), report, map[string]json.RawMessage{"region": []byte(`3`)}, "ana")
	assert.Equal(t, herald.CodeInvalid, herald.CodeOf(err))
}

func TestRunWakesAtTheNextDueTime(t *testing.T) {
	e := newEnv(t, time.Now())
	s := e.schedule("acme", "* * * * * *", "UTC", nil) // every second
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); e.scan.Run(ctx, time.Hour, time.Now) }()
	require.Eventually(t, func() bool { return len(e.runsOf(s)) >= 2 }, 5*time.Second, 20*time.Millisecond,
		"runs every second although the polling interval is an hour")
	cancel()
	<-done
}

func TestAnUnplannableScheduleDoesNotHoldOthersUp(t *testing.T) {
	e := newEnv(t, utc("2026-11-30T08:00:00Z"))
	e.scan.batch = 2
	var good []*herald.Schedule
	for range 3 {
		good = append(good, e.schedule("acme", "0 9 * * *", "UTC", nil))
	}
	// Two schedules whose stored cron no longer parses, due before the others.
	for range 2 {
		bad := e.schedule("acme", "30 8 * * *", "UTC", nil)
		bad.Cron = "61 * * * *"
		require.NoError(t, herald.ReplaceRecord(t.Context(), e.store, bad))
	}
	_, err := e.scan.RunOnce(t.Context(), utc("2026-11-30T09:00:10Z"))
	require.Error(t, err, "the failures are reported")
	_, err = e.scan.RunOnce(t.Context(), utc("2026-11-30T09:00:20Z"))
	require.NoError(t, err, "deferred, they no longer stand in the way")
	for _, s := range good {
		assert.Len(t, e.runsOf(s), 1)
	}
}

func TestLongOutageRecordsEveryMissedFireTime(t *testing.T) {
	e := newEnv(t, utc("2026-11-30T08:59:30Z"))
	s := e.schedule("acme", "* * * * *", "UTC", func(s *herald.Schedule) {
		s.OverlapPolicy, s.CatchUpWindow = herald.OverlapAllow, herald.Duration(time.Hour)
	})
	now := utc("2026-12-01T09:00:30Z") // down for a day: 1,441 fire times
	e.clock.Set(now)
	_, err := e.scan.RunOnce(t.Context(), now)
	require.NoError(t, err)
	runs := e.allRunsOf(s)
	require.Len(t, runs, 1441)
	for i, r := range runs {
		want := herald.RunSkipped
		if i >= len(runs)-2 { // 08:59 and 09:00 are within OnTime of the scan
			want = herald.RunQueued
		}
		require.Equal(t, want, r.Status, "%s", r.ScheduledFor)
	}
}

func TestAVeryLongOutageIsSummarised(t *testing.T) {
	e := newEnv(t, utc("2026-11-30T08:59:30Z"))
	s := e.schedule("acme", "* * * * *", "UTC", func(s *herald.Schedule) { s.OverlapPolicy = herald.OverlapAllow })
	now := utc("2026-12-08T09:00:30Z") // down for eight days: 11,521 fire times
	e.clock.Set(now)
	_, err := e.scan.RunOnce(t.Context(), now)
	require.NoError(t, err)
	runs := e.allRunsOf(s)
	require.Len(t, runs, MaxFiresPerScan)
	summary := runs[len(runs)-2]
	assert.Equal(t, herald.RunSkipped, summary.Status)
	assert.Contains(t, summary.Reason, "2026-12-08T08:59:00.000Z", "it names the range it stands for")
	latest := runs[len(runs)-1]
	assert.Equal(t, utc("2026-12-08T09:00:00Z"), latest.ScheduledFor.Time)
	assert.Equal(t, herald.RunQueued, latest.Status)
	assert.Equal(t, utc("2026-12-08T09:01:00Z"), e.reload(s).NextRunAt.Time)
}

// allRunsOf lists every run of a schedule, oldest fire time first.
func (e *env) allRunsOf(s *herald.Schedule) []*herald.Run {
	e.t.Helper()
	var runs []*herald.Run
	q := herald.ListQuery{TenantID: s.TenantID, Limit: herald.MaxListLimit, OrderBy: "scheduledFor",
		Where: []herald.Cond{{Field: "scheduleId", Op: herald.OpEq, Value: s.ID}}}
	for {
		page, next, err := herald.ListRecords[herald.Run](context.Background(), e.store, q)
		require.NoError(e.t, err)
		runs = append(runs, page...)
		if next == "" {
			return runs
		}
		q.Cursor = next
	}
}
