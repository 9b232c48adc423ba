package scheduler

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// failingPublisher fails every publish to one queue.
type failingPublisher struct {
	Publisher
	queue string
}

func (p failingPublisher) Publish(ctx context.Context, m herald.Message) error {
	if m.Queue == p.queue {
		return herald.Errorf(herald.CodeUnavailable, "queue down")
	}
	return p.Publisher.Publish(ctx, m)
}

// deliveries receives and completes everything visible on the deliver queue.
func (e *env) deliveries() []string {
	e.t.Helper()
	ds, err := e.queue.Receive(context.Background(), herald.QueueDeliver, herald.MaxReceive, time.Minute)
	require.NoError(e.t, err)
	var ids []string
	for _, d := range ds {
		ids = append(ids, d.ID)
		require.NoError(e.t, e.queue.Complete(context.Background(), d))
	}
	return ids
}

// scheduledRun stores a queued scheduled run and starts it.
func (e *env) startedScheduledRun() *herald.Run {
	e.t.Helper()
	now := herald.At(e.clock.Now())
	r := &herald.Run{
		Meta:       herald.Meta{ID: herald.NewID(herald.PrefixRun, now.Time), TenantID: "acme"},
		ScheduleID: herald.NewID(herald.PrefixSchedule, now.Time), ReportID: herald.NewID(herald.PrefixReport, now.Time),
		Trigger: herald.TriggerSchedule, ScheduledFor: now, Status: herald.RunQueued, Attempt: 1, DueAt: now,
	}
	require.NoError(e.t, herald.CreateRecord(context.Background(), e.store, r))
	started, err := e.runs.Start(context.Background(), herald.GenerateJob{TenantID: "acme", RunID: r.ID, Attempt: 1}, time.Minute)
	require.NoError(e.t, err)
	return started
}

func TestFinishPublishesTheDeliveryOnce(t *testing.T) {
	tests := []struct {
		name    string
		status  herald.RunStatus
		manual  bool
		deliver bool
	}{
		{name: "succeeded scheduled run", status: herald.RunSucceeded, deliver: true},
		{name: "failed scheduled run (failure notice)", status: herald.RunFailed, deliver: true},
		{name: "manual run has no recipients", status: herald.RunSucceeded, manual: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, utc("2026-11-30T08:00:00Z"))
			r := e.startedScheduledRun()
			if tt.manual {
				r.ScheduleID = ""
			}
			require.NoError(t, e.runs.Finish(t.Context(), r, tt.status, "done"))
			got, err := herald.GetRecord[herald.Run](t.Context(), e.store, "acme", r.ID)
			require.NoError(t, err)
			if !tt.deliver {
				assert.Empty(t, e.deliveries())
				assert.True(t, got.DueAt.IsZero())
				return
			}
			assert.Equal(t, []string{r.ID + ".deliver"}, e.deliveries())
			assert.False(t, got.DeliveryQueuedAt.IsZero())
			assert.True(t, got.DueAt.IsZero(), "nothing left for recovery")
		})
	}
}

func TestRecoveryPublishesALostDelivery(t *testing.T) {
	e := newEnv(t, utc("2026-11-30T08:00:00Z"))
	r := e.startedScheduledRun()
	broken := NewRuns(e.store, failingPublisher{Publisher: e.queue, queue: herald.QueueDeliver}, nil, e.clock.Now)
	err := broken.Finish(t.Context(), r, herald.RunSucceeded, "")
	require.Error(t, err, "the delivery could not be published")
	got, err := herald.GetRecord[herald.Run](t.Context(), e.store, "acme", r.ID)
	require.NoError(t, err)
	assert.Equal(t, herald.RunSucceeded, got.Status, "the run's end is recorded first")
	assert.False(t, got.DueAt.IsZero(), "recovery must come back for the delivery")
	assert.Empty(t, e.deliveries())

	e.clock.Set(e.clock.Now().Add(DeliveryGrace + time.Second))
	st, err := e.runs.Recover(t.Context(), e.clock.Now())
	require.NoError(t, err)
	assert.Equal(t, 1, st.Delivered)
	assert.Equal(t, []string{r.ID + ".deliver"}, e.deliveries())
	got, err = herald.GetRecord[herald.Run](t.Context(), e.store, "acme", r.ID)
	require.NoError(t, err)
	assert.True(t, got.DueAt.IsZero())

	st, err = e.runs.Recover(t.Context(), e.clock.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.Zero(t, st.Delivered, "published once")
}

func TestRetryLater(t *testing.T) {
	e := newEnv(t, utc("2026-11-30T08:00:00Z"))
	r := e.startedScheduledRun()
	require.NoError(t, e.runs.RetryLater(t.Context(), r, "connection: refused", 30*time.Second))
	got, err := herald.GetRecord[herald.Run](t.Context(), e.store, "acme", r.ID)
	require.NoError(t, err)
	assert.Equal(t, herald.RunQueued, got.Status)
	assert.Equal(t, 2, got.Attempt)
	assert.Contains(t, got.Reason, "attempt 1 failed: connection: refused")
	assert.Empty(t, e.messages(), "the next attempt waits for its back-off")

	e.clock.Set(e.clock.Now().Add(31 * time.Second))
	assert.Equal(t, []string{r.ID + ".2"}, e.messages())
	_, err = e.runs.Start(t.Context(), herald.GenerateJob{TenantID: "acme", RunID: r.ID, Attempt: 1}, time.Minute)
	assert.True(t, IsStale(err), "the first attempt's job is stale")

	for attempt := 2; attempt <= herald.MaxAttempts; attempt++ {
		run, err := e.runs.Start(t.Context(), herald.GenerateJob{TenantID: "acme", RunID: r.ID, Attempt: attempt}, time.Minute)
		require.NoError(t, err)
		require.NoError(t, e.runs.RetryLater(t.Context(), run, "connection: refused", time.Second))
		e.clock.Set(e.clock.Now().Add(2 * time.Second))
		e.messages()
	}
	got, err = herald.GetRecord[herald.Run](t.Context(), e.store, "acme", r.ID)
	require.NoError(t, err)
	assert.Equal(t, herald.RunFailed, got.Status)
	assert.Contains(t, got.Reason, "gave up after 3 failed attempts")
	assert.Equal(t, []string{r.ID + ".deliver"}, e.deliveries(), "the failure is delivered (a failure notice)")
}

func TestInterruptionsDoNotCountAsFailures(t *testing.T) {
	e := newEnv(t, utc("2026-11-30T08:00:00Z"))
	r := e.startedScheduledRun()
	for i := range 5 { // five deploys in a row during a long report
		require.NoError(t, e.runs.Interrupt(t.Context(), r, "interrupted by a shutdown"))
		assert.Equal(t, []string{r.ID + "." + strconv.Itoa(i+2)}, e.messages(), "the next attempt is published at once")
		var err error
		r, err = e.runs.Start(t.Context(), herald.GenerateJob{TenantID: "acme", RunID: r.ID, Attempt: i + 2}, time.Minute)
		require.NoError(t, err)
	}
	assert.Equal(t, 5, r.Interruptions)
	assert.Zero(t, r.Failures())
	// Two real failures still retry; the third gives up.
	require.NoError(t, e.runs.RetryLater(t.Context(), r, "connection: refused", 0))
	e.messages()
	r, err := e.runs.Start(t.Context(), herald.GenerateJob{TenantID: "acme", RunID: r.ID, Attempt: 7}, time.Minute)
	require.NoError(t, err)
	require.NoError(t, e.runs.RetryLater(t.Context(), r, "connection: refused", 0))
	e.messages()
	r, err = e.runs.Start(t.Context(), herald.GenerateJob{TenantID: "acme", RunID: r.ID, Attempt: 8}, time.Minute)
	require.NoError(t, err)
	require.NoError(t, e.runs.RetryLater(t.Context(), r, "connection: refused", 0))
	got, err := herald.GetRecord[herald.Run](t.Context(), e.store, "acme", r.ID)
	require.NoError(t, err)
	assert.Equal(t, herald.RunFailed, got.Status)
	assert.Contains(t, got.Reason, "gave up after 3 failed attempts")
}
