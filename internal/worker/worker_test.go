package worker

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/sqlite"
)

func newQueue(t *testing.T) *sqlite.Queue {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "herald.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	return store.Queue()
}

func publish(t *testing.T, q *sqlite.Queue, ids ...string) {
	t.Helper()
	for _, id := range ids {
		require.NoError(t, q.Publish(context.Background(), herald.Message{ID: id, Queue: "jobs", Body: []byte(`{"id":"` + id + `"}`)}))
	}
}

func TestPoolHandlesEveryMessageOnceWithBoundedConcurrency(t *testing.T) {
	q := newQueue(t)
	var ids []string
	for i := range 40 {
		ids = append(ids, "m"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	publish(t, q, ids...)
	var mu sync.Mutex
	seen := map[string]int{}
	var inFlight, peak atomic.Int32
	p := New(q, func(ctx context.Context, d herald.QueueDelivery) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			old := peak.Load()
			if n <= old || peak.CompareAndSwap(old, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		seen[d.ID]++
		mu.Unlock()
		return nil
	}, Config{Queue: "jobs", Concurrency: 3, Poll: 10 * time.Millisecond}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == len(ids)
	}, 10*time.Second, 10*time.Millisecond)
	cancel()
	<-done
	for _, id := range ids {
		assert.Equal(t, 1, seen[id], id)
	}
	assert.LessOrEqual(t, peak.Load(), int32(3), "never more than Concurrency at once")
	st, err := q.Stats(context.Background(), "jobs")
	require.NoError(t, err)
	assert.Equal(t, herald.QueueStats{}, st, "every message completed")
}

func TestPoolAbandonsFailuresWithBackoffAndSurvivesPanics(t *testing.T) {
	q := newQueue(t)
	publish(t, q, "fails", "panics")
	var calls atomic.Int32
	p := New(q, func(ctx context.Context, d herald.QueueDelivery) error {
		calls.Add(1)
		if d.ID == "panics" {
			panic("boom")
		}
		return errors.New("database down")
	}, Config{Queue: "jobs", Concurrency: 2, Backoff: func(int) time.Duration { return time.Hour }}, nil)
	n, err := p.RunOnce(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, int32(2), calls.Load())
	st, err := q.Stats(t.Context(), "jobs")
	require.NoError(t, err)
	assert.Equal(t, 2, st.Scheduled, "both abandoned with a back-off, not lost")
	n, err = p.RunOnce(t.Context())
	require.NoError(t, err)
	assert.Zero(t, n, "not before the back-off")
}

func TestPoolDeadLettersMessagesThatCanNeverSucceed(t *testing.T) {
	q := newQueue(t)
	publish(t, q, "malformed")
	p := New(q, func(context.Context, herald.QueueDelivery) error {
		return herald.Errorf(herald.CodeInvalid, "job is malformed")
	}, Config{Queue: "jobs"}, nil)
	_, err := p.RunOnce(t.Context())
	require.NoError(t, err)
	dead, err := q.DeadLetters(t.Context(), "jobs", 10)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Contains(t, dead[0].Reason, "malformed")
}

func TestPoolRenewsTheLockOfALongJob(t *testing.T) {
	q := newQueue(t)
	publish(t, q, "slow")
	p := New(q, func(ctx context.Context, d herald.QueueDelivery) error {
		time.Sleep(700 * time.Millisecond) // longer than the lock
		return nil
	}, Config{Queue: "jobs", LockFor: 300 * time.Millisecond}, nil)
	other := New(q, func(context.Context, herald.QueueDelivery) error {
		t.Error("the message was handed out twice")
		return nil
	}, Config{Queue: "jobs"}, nil)
	var wg sync.WaitGroup
	wg.Go(func() {
		_, err := p.RunOnce(t.Context())
		assert.NoError(t, err)
	})
	for range 6 {
		time.Sleep(100 * time.Millisecond)
		_, err := other.RunOnce(t.Context())
		require.NoError(t, err)
	}
	wg.Wait()
	st, err := q.Stats(t.Context(), "jobs")
	require.NoError(t, err)
	assert.Equal(t, herald.QueueStats{}, st, "completed under a renewed lock")
}

func TestExponentialBackoff(t *testing.T) {
	assert.Equal(t, 2*time.Second, ExponentialBackoff(1))
	assert.Equal(t, 16*time.Second, ExponentialBackoff(4))
	assert.Equal(t, 5*time.Minute, ExponentialBackoff(20))
	assert.Equal(t, time.Second, ExponentialBackoff(0))
}
