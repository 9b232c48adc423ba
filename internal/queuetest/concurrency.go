package queuetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

func testConcurrency(t *testing.T, newQueue func(t *testing.T, clock *Clock) Queue) {
	subtests(t, newQueue, []testCase{
		{"concurrent receivers complete every message exactly once", testReceiversExactlyOnce},
		{"concurrent receivers with locks running out: one completion per message", testReceiversLockExpiry},
		{"concurrent publishes of one id make one message", func(h *harness) {
			errs := waitGroupErrs(16, func(i int) error {
				return h.q.Publish(h.t.Context(), herald.Message{ID: "same", Queue: qGen, Body: fmt.Appendf(nil, `{"n":%d}`, i)})
			})
			for _, err := range errs {
				require.NoError(h.t, err)
			}
			assert.Equal(h.t, herald.QueueStats{Visible: 1}, h.stats(qGen))
		}},
		{"concurrent batches with overlapping ids", func(h *harness) {
			errs := waitGroupErrs(8, func(i int) error {
				var batch []herald.Message
				for j := range 50 {
					batch = append(batch, msg(qGen, fmt.Sprintf("m-%03d", (i*25+j)%200)))
				}
				return h.q.PublishBatch(h.t.Context(), batch)
			})
			for _, err := range errs {
				require.NoError(h.t, err)
			}
			assert.Equal(h.t, herald.QueueStats{Visible: 200}, h.stats(qGen))
		}},
	})
}

const (
	concurrentMessages  = 1000
	concurrentReceivers = 8
)

// testReceiversExactlyOnce has receivers take and complete 1,000 messages
// with the clock stopped: no lock can run out, so every message must be
// delivered once, to one receiver, and completed once.
func testReceiversExactlyOnce(h *harness) {
	ctx := h.t.Context()
	batch := make([]herald.Message, concurrentMessages)
	for i := range batch {
		batch[i] = msg(qGen, fmt.Sprintf("m-%04d", i))
	}
	require.NoError(h.t, h.q.PublishBatch(ctx, batch))

	var mu sync.Mutex
	inFlight := map[string]bool{}
	delivered := map[string]int{}
	var completed atomic.Int64
	errs := waitGroupErrs(concurrentReceivers, func(w int) error {
		for idle := 0; idle < 3; {
			ds, err := h.q.Receive(ctx, qGen, 1+w%4, lock)
			if err != nil {
				return err
			}
			if len(ds) == 0 {
				idle++ // the queue is drained: nothing is locked for long here
				continue
			}
			idle = 0
			for _, d := range ds {
				mu.Lock()
				if inFlight[d.ID] {
					mu.Unlock()
					return fmt.Errorf("%s handed to two receivers at once", d.ID)
				}
				inFlight[d.ID] = true
				delivered[d.ID]++
				mu.Unlock()
				if d.DeliveryCount != 1 {
					return fmt.Errorf("%s: delivery count %d with no lock run out", d.ID, d.DeliveryCount)
				}
				mu.Lock()
				delete(inFlight, d.ID) // before Complete: once it returns, the message may not reappear
				mu.Unlock()
				if err := h.q.Complete(ctx, d); err != nil {
					return fmt.Errorf("completing %s: %w", d.ID, err)
				}
				completed.Add(1)
			}
		}
		return nil
	})
	for _, err := range errs {
		require.NoError(h.t, err)
	}
	assert.EqualValues(h.t, concurrentMessages, completed.Load())
	assert.Len(h.t, delivered, concurrentMessages)
	for id, n := range delivered {
		assert.Equalf(h.t, 1, n, "%s delivered %d times", id, n)
	}
	assert.Equal(h.t, herald.QueueStats{}, h.stats(qGen))
}

// testReceiversLockExpiry runs receivers of which some stall past their
// locks: a message may be delivered again once its lock ran out, but never
// while it holds, and exactly one completion per message succeeds; the
// stalled receivers' completions are refused.
func testReceiversLockExpiry(h *harness) {
	const lockFor = 500 * time.Millisecond
	ctx, cancel := context.WithTimeout(h.t.Context(), 20*time.Second)
	defer cancel()
	batch := make([]herald.Message, concurrentMessages)
	for i := range batch {
		batch[i] = msg(qGen, fmt.Sprintf("m-%04d", i))
	}
	require.NoError(h.t, h.q.PublishBatch(ctx, batch))

	r := &expiryRun{h: h, lockFor: lockFor, deliveries: map[string][]herald.QueueDelivery{}, completions: map[string]int{}}
	errs := waitGroupErrs(concurrentReceivers, func(w int) error { return r.worker(ctx, w) })
	for _, err := range errs {
		require.NoError(h.t, err)
	}

	dead := h.deadLetters(qGen, herald.MaxListLimit)
	h.t.Logf("%d completions refused after a stall, %d dead letters", r.refused.Load(), len(dead))
	require.Empty(h.t, dead, "no message may reach its max delivery count here")
	require.Len(h.t, r.completions, concurrentMessages)
	for id, n := range r.completions {
		require.Equalf(h.t, 1, n, "%s completed %d times", id, n)
	}
	for id, ds := range r.deliveries {
		checkLockHistory(h.t, id, ds, lockFor)
	}
	assert.Equal(h.t, herald.QueueStats{}, h.stats(qGen))
}

// expiryRun is the shared record of testReceiversLockExpiry's workers.
type expiryRun struct {
	h       *harness
	lockFor time.Duration

	mu          sync.Mutex
	deliveries  map[string][]herald.QueueDelivery
	completions map[string]int
	refused     atomic.Int64
}

func (r *expiryRun) done() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.completions) == concurrentMessages
}

func (r *expiryRun) worker(ctx context.Context, w int) error {
	rng := rand.New(rand.NewPCG(uint64(w), 7)) //nolint:gosec // test scheduling, not secrets
	for ctx.Err() == nil && !r.done() {
		ds, err := r.h.q.Receive(ctx, qGen, 4, r.lockFor)
		if err != nil {
			return err
		}
		if len(ds) == 0 {
			time.Sleep(time.Millisecond)
			continue
		}
		r.mu.Lock()
		for _, d := range ds {
			r.deliveries[d.ID] = append(r.deliveries[d.ID], d)
		}
		r.mu.Unlock()
		if rng.IntN(8) == 0 {
			// A stall: hold the batch until its locks have run out. Time
			// moves only here, so a receiver that does not stall keeps its
			// locks however slow the machine is.
			for r.h.clock.Now().Before(ds[0].LockedUntil) {
				r.h.clock.Advance(5 * time.Millisecond)
				time.Sleep(500 * time.Microsecond)
			}
		}
		if err := r.complete(ctx, ds); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (r *expiryRun) complete(ctx context.Context, ds []herald.QueueDelivery) error {
	for _, d := range ds {
		err := r.h.q.Complete(ctx, d)
		switch {
		case err == nil:
			r.mu.Lock()
			r.completions[d.ID]++
			r.mu.Unlock()
		case herald.Is(err, herald.CodeConflict):
			r.refused.Add(1)
		default:
			return fmt.Errorf("completing %s: %w", d.ID, err)
		}
	}
	return nil
}

// checkLockHistory checks the deliveries of one message: counts 1..n with
// no gap or repeat, and each lock granted only after the previous one ran
// out (nothing here abandons or completes early and then redelivers).
func checkLockHistory(t *testing.T, id string, ds []herald.QueueDelivery, lockFor time.Duration) {
	t.Helper()
	slices.SortFunc(ds, func(a, b herald.QueueDelivery) int { return a.DeliveryCount - b.DeliveryCount })
	for i, d := range ds {
		require.Equalf(t, i+1, d.DeliveryCount, "%s: delivery counts %v", id, counts(ds))
		if i > 0 {
			grantedAt := d.LockedUntil.Add(-lockFor)
			prev := ds[i-1].LockedUntil
			require.Falsef(t, grantedAt.Before(prev), "%s: delivery %d granted at %s while lock %d held until %s",
				id, d.DeliveryCount, grantedAt.Format(time.StampMilli), i, prev.Format(time.StampMilli))
		}
	}
}

func counts(ds []herald.QueueDelivery) []int {
	out := make([]int, len(ds))
	for i, d := range ds {
		out[i] = d.DeliveryCount
	}
	return out
}
