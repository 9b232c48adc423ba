package generate

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// slowQuerier runs the real query after calling before (which may wait or
// change the world).
type slowQuerier struct {
	Querier
	before func(ctx context.Context)
}

func (q slowQuerier) Query(ctx context.Context, ds *herald.DataSource, query string, params map[string]any, types map[string]herald.ParamType) (Rows, error) {
	q.before(ctx)
	return q.Querier.Query(ctx, ds, query, params, types)
}

func TestTheLeaseIsRenewedWhileGenerating(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.Lease = 150 * time.Millisecond
		c.Querier = slowQuerier{Querier: c.Querier, before: func(context.Context) { time.Sleep(600 * time.Millisecond) }}
	})
	report := e.report(`SELECT id FROM customers ORDER BY id LIMIT 3`, nil)
	run, err := e.runs.RunNow(t.Context(), report, nil, "ana")
	require.NoError(t, err)
	recovered := make(chan int, 1)
	go func() { // recovery runs all along: it must never take the run away
		n := 0
		for deadline := time.Now().Add(500 * time.Millisecond); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			st, err := e.runs.Recover(context.Background(), time.Now())
			if err == nil {
				n += st.Requeued
			}
		}
		recovered <- n
	}()
	got := e.handle(run)
	assert.Zero(t, <-recovered, "the lease never expired")
	assert.Equal(t, herald.RunSucceeded, got.Status, got.Reason)
	assert.Equal(t, 1, got.Attempt)
}

func TestALostLeaseDropsTheResult(t *testing.T) {
	var e *env
	var runID string
	e = newEnv(t, func(c *Config) {
		c.Lease = 90 * time.Millisecond
		c.Querier = slowQuerier{Querier: c.Querier, before: func(ctx context.Context) {
			// Meanwhile recovery decided the worker was gone and queued attempt 2.
			r, err := herald.GetRecord[herald.Run](context.Background(), e.store, "acme", runID)
			if err != nil {
				panic(err)
			}
			r.Status, r.Attempt, r.LeaseUntil = herald.RunQueued, 2, herald.Instant{}
			if err := herald.ReplaceRecord(context.Background(), e.store, r); err != nil {
				panic(err)
			}
			select { // the next renewal finds out and cancels the generation
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
		}}
	})
	report := e.report(`SELECT id FROM customers ORDER BY id LIMIT 3`, nil)
	run, err := e.runs.RunNow(t.Context(), report, nil, "ana")
	require.NoError(t, err)
	runID = run.ID
	start := time.Now()
	got := e.handle(run)
	assert.Less(t, time.Since(start), 4*time.Second, "the generation stopped at the next renewal")
	assert.Equal(t, herald.RunQueued, got.Status, "attempt 2 owns the run now")
	assert.Equal(t, 2, got.Attempt)
	assert.Empty(t, got.Artifacts)
	assert.Empty(t, e.stored(run), "the dropped attempt stored nothing")
}

// renewDown is the real lifecycle whose lease renewals fail (a store
// outage during a long generation).
type renewDown struct{ Lifecycle }

func (renewDown) Renew(context.Context, *herald.Run, time.Duration) error {
	return herald.Errorf(herald.CodeUnavailable, "store unreachable")
}

func TestFailingRenewalsStopTheGenerationBeforeTheLeaseExpires(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.Runs = renewDown{c.Runs}
		c.Lease = 150 * time.Millisecond
		c.Querier = slowQuerier{Querier: c.Querier, before: func(ctx context.Context) {
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
		}}
	})
	run, err := e.runs.RunNow(t.Context(), e.report(`SELECT id FROM customers LIMIT 3`, nil), nil, "ana")
	require.NoError(t, err)
	got := e.handle(run) // returns only because the keeper gave up: the query waits for cancellation
	assert.Equal(t, herald.RunRunning, got.Status, "recovery takes the run over once the lease expires")
	assert.Empty(t, got.Artifacts)
	assert.Empty(t, e.stored(run))
}

func TestShutdownHandsTheRunBack(t *testing.T) {
	ctx, shutdown := context.WithCancel(context.Background())
	e := newEnv(t, func(c *Config) {
		c.Querier = slowQuerier{Querier: c.Querier, before: func(context.Context) { shutdown() }}
	})
	run, err := e.runs.RunNow(t.Context(), e.report(`SELECT id FROM customers LIMIT 3`, nil), nil, "ana")
	require.NoError(t, err)
	job := []byte(`{"tenantId":"acme","runId":"` + run.ID + `","attempt":1}`)
	require.NoError(t, e.h.Handle(ctx, job), "handed back: the job is done")
	got := e.reload(run)
	assert.Equal(t, herald.RunQueued, got.Status)
	assert.Equal(t, 2, got.Attempt)
	assert.Equal(t, 1, got.Interruptions)
	assert.Zero(t, got.Failures(), "a shutdown is not a failure")
	assert.Contains(t, got.Reason, "interrupted by a shutdown")
	assert.Empty(t, e.stored(run))

	done := e.handle(got) // attempt 2 runs at once elsewhere
	assert.Equal(t, herald.RunSucceeded, done.Status)
}

func TestATimeoutSpentWaitingForStorageIsAStorageFailure(t *testing.T) {
	ds := &herald.DataSource{StatementTimeout: herald.Duration(5 * time.Minute)}
	timeout := herald.Wrap(context.DeadlineExceeded, herald.CodeUnavailable, "query timed out after 5m0s")
	slow := outputs{{up: &upload{blocked: 4 * time.Minute}}}
	fast := outputs{{up: &upload{blocked: time.Second}}}

	f := streamFailure(timeout, ds, slow)
	assert.Equal(t, ClassStorage, f.class)
	assert.True(t, f.retryable)
	f = streamFailure(timeout, ds, fast)
	assert.Equal(t, ClassTimeout, f.class)
	assert.False(t, f.retryable, "a query that is too slow stays too slow")
}
