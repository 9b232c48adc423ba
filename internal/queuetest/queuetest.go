// Package queuetest is the conformance suite of the herald queue contract
// (internal/herald/queue.go). Every queue adapter calls Run from its own
// tests; a behaviour that differs between adapters fails here.
//
// The queue under test must use the defaults: a duplicate-detection window
// of herald.DefaultDuplicateWindow (10 minutes) and a max delivery count of
// herald.DefaultMaxDeliveryCount (10). Its clock must be the Clock the
// suite passes: the suite moves time, never sleeps for it.
//
// Besides what internal/herald/queue.go states, the suite pins down:
//   - Times are kept to the millisecond. A message is visible from its
//     NotBefore on (inclusive); a lock holds while now is before LockedUntil
//     and has run out at LockedUntil; a duplicate window that started at t
//     has ended at t+window.
//   - Receive orders by the time a message became visible (its publish,
//     its NotBefore, the end of its lock or of Abandon's retryAfter), then by
//     enqueue order: an abandoned message goes behind the messages that
//     became visible before it.
//   - A lock that ran out cannot settle anything, even if nobody received
//     the message since (as in Service Bus): CodeConflict, herald.LockLostMessage.
//   - The delivery count counts deliveries. A message abandoned on its max
//     delivery is dead-lettered at once; one whose lock ran out on its max
//     delivery is dead-lettered by the next Receive that reaches it, which
//     then goes on to the messages behind it. The dead letter records the
//     deliveries made (the max count), with reason herald.ReasonMaxDeliveryCount.
//   - Duplicate detection remembers an id from its first accepted publish;
//     dropped duplicates do not extend the window. Requeue bypasses it, and
//     a requeued message is new: delivery count 0, enqueued at the requeue.
//   - Requeue takes the newest dead letter of the id; CodeNotFound if none.
//   - A dead-letter reason is cut to herald.MaxDeadLetterReasonBytes.
//   - DeadLetters takes a limit of 1..herald.MaxListLimit, 0 for
//     herald.DefaultListLimit.
//   - PublishBatch validates every message first: one invalid message
//     publishes none (CodeInvalid, or CodeTooLarge for a body over the limit).
//   - Input errors are CodeInvalid: a bad queue name, an empty or
//     over-long id, a body that is not JSON, a delivery without a queue, id
//     or lock token, max outside 1..herald.MaxReceive, a lock duration
//     outside (0, herald.MaxLockDuration], a retryAfter outside
//     [0, herald.MaxRetryAfter]. A malformed lock token is a lost lock.
//   - A canceled context fails every call with ctx.Err() in the error chain.
//
// The package imports testing and testify: only tests may import it.
package queuetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// Queue is the full queue contract.
type Queue interface {
	// Publish enqueues m; a duplicate id within the window is dropped
	// without an error.
	Publish(ctx context.Context, m herald.Message) error
	// PublishBatch publishes messages in order, all or none.
	PublishBatch(ctx context.Context, messages []herald.Message) error
	// Receive peek-locks up to maxMessages visible messages of queue for
	// lockFor; it never waits.
	Receive(ctx context.Context, queue string, maxMessages int, lockFor time.Duration) ([]herald.QueueDelivery, error)
	// Complete removes a delivered message.
	Complete(ctx context.Context, d herald.QueueDelivery) error
	// Abandon unlocks a delivered message, visible again after retryAfter.
	Abandon(ctx context.Context, d herald.QueueDelivery, retryAfter time.Duration) error
	// Renew extends d's lock to lockFor from now and updates d.LockedUntil.
	Renew(ctx context.Context, d *herald.QueueDelivery, lockFor time.Duration) error
	// DeadLetter moves a delivered message to the dead letters.
	DeadLetter(ctx context.Context, d herald.QueueDelivery, reason string) error
	// DeadLetters lists the dead letters of queue, newest first.
	DeadLetters(ctx context.Context, queue string, limit int) ([]herald.DeadLetter, error)
	// Requeue moves a dead letter back to its queue.
	Requeue(ctx context.Context, queue, id string) error
	// Stats counts the messages of queue.
	Stats(ctx context.Context, queue string) (herald.QueueStats, error)
}

// epoch is where every Clock of the suite starts.
func epoch() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }

// Clock is a manual clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads start until moved.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Run runs the conformance suite. newQueue must return a new, empty queue
// that reads clock, and register its cleanup with t. Top-level groups run in
// parallel, each on queues of its own.
func Run(t *testing.T, newQueue func(t *testing.T, clock *Clock) Queue) {
	t.Helper()
	groups := []struct {
		name string
		run  func(t *testing.T, newQueue func(t *testing.T, clock *Clock) Queue)
	}{
		{"Basics", testBasics},
		{"DuplicateDetection", testDuplicates},
		{"PublishBatch", testBatch},
		{"Scheduled", testScheduled},
		{"Ordering", testOrdering},
		{"Locks", testLocks},
		{"Abandon", testAbandon},
		{"DeadLetters", testDeadLetters},
		{"Isolation", testIsolation},
		{"Stats", testStats},
		{"Validation", testValidation},
		{"Concurrency", testConcurrency},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, newQueue)
		})
	}
}

// Queue names the suite uses.
const (
	qGen = "generate"
	qDlv = "deliver"
)

// lock is the lock duration the suite receives with.
const lock = 30 * time.Second

// harness is one queue under test with its clock.
type harness struct {
	t     *testing.T
	q     Queue
	clock *Clock
}

// subtests runs each case on a fresh queue.
func subtests(t *testing.T, newQueue func(t *testing.T, clock *Clock) Queue, cases []testCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := NewClock(epoch())
			c.run(&harness{t: t, q: newQueue(t, clock), clock: clock})
		})
	}
}

type testCase struct {
	name string
	run  func(h *harness)
}

// msg returns a message of queue with a small JSON body naming id.
func msg(queue, id string) herald.Message {
	return herald.Message{ID: id, Queue: queue, Body: body(id)}
}

func body(id string) []byte {
	b, _ := json.Marshal(map[string]string{"job": id}) //nolint:errchkjson // a map of strings
	return b
}

// ids returns the message ids of deliveries, in order.
func ids(ds []herald.QueueDelivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func (h *harness) publish(ms ...herald.Message) {
	h.t.Helper()
	for _, m := range ms {
		require.NoErrorf(h.t, h.q.Publish(h.t.Context(), m), "publishing %s to %s", m.ID, m.Queue)
	}
}

// publishN publishes n messages id-000.. to queue, one by one.
func (h *harness) publishN(queue string, n int) []string {
	h.t.Helper()
	out := make([]string, n)
	for i := range n {
		out[i] = fmt.Sprintf("msg-%03d", i)
		h.publish(msg(queue, out[i]))
	}
	return out
}

func (h *harness) receive(queue string, maxMessages int) []herald.QueueDelivery {
	h.t.Helper()
	ds, err := h.q.Receive(h.t.Context(), queue, maxMessages, lock)
	require.NoErrorf(h.t, err, "receiving from %s", queue)
	require.LessOrEqual(h.t, len(ds), maxMessages)
	return ds
}

// receiveOne receives exactly one message, which must be id.
func (h *harness) receiveOne(queue, id string) herald.QueueDelivery {
	h.t.Helper()
	ds := h.receive(queue, 1)
	require.Lenf(h.t, ds, 1, "a message must be visible on %s", queue)
	require.Equal(h.t, id, ds[0].ID)
	return ds[0]
}

// requireNone fails if a message of queue is visible.
func (h *harness) requireNone(queue string) {
	h.t.Helper()
	ds := h.receive(queue, 10)
	require.Emptyf(h.t, ds, "no message of %s may be visible, got %v", queue, ids(ds))
}

func (h *harness) stats(queue string) herald.QueueStats {
	h.t.Helper()
	s, err := h.q.Stats(h.t.Context(), queue)
	require.NoError(h.t, err)
	return s
}

func (h *harness) deadLetters(queue string, limit int) []herald.DeadLetter {
	h.t.Helper()
	dls, err := h.q.DeadLetters(h.t.Context(), queue, limit)
	require.NoError(h.t, err)
	return dls
}

func (h *harness) complete(d herald.QueueDelivery) {
	h.t.Helper()
	require.NoErrorf(h.t, h.q.Complete(h.t.Context(), d), "completing %s", d.ID)
}

func (h *harness) abandon(d herald.QueueDelivery, retryAfter time.Duration) {
	h.t.Helper()
	require.NoErrorf(h.t, h.q.Abandon(h.t.Context(), d, retryAfter), "abandoning %s", d.ID)
}

// requireCode fails unless err carries code.
func requireCode(t *testing.T, err error, code herald.Code, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.Equalf(t, code, herald.CodeOf(err), "want %s, got error %q", code, err)
}

// requireLockLost fails unless err is the lost-lock conflict.
func requireLockLost(t *testing.T, err error, msgAndArgs ...any) {
	t.Helper()
	requireCode(t, err, herald.CodeConflict, msgAndArgs...)
	var he *herald.Error
	require.ErrorAs(t, err, &he)
	assert.Equal(t, herald.LockLostMessage, he.Message)
}

// requireAllLockLost checks that none of the four settlements accepts d.
func (h *harness) requireAllLockLost(d herald.QueueDelivery, why string) {
	h.t.Helper()
	ctx := h.t.Context()
	requireLockLost(h.t, h.q.Complete(ctx, d), "Complete: %s", why)
	requireLockLost(h.t, h.q.Abandon(ctx, d, 0), "Abandon: %s", why)
	requireLockLost(h.t, h.q.DeadLetter(ctx, d, "test"), "DeadLetter: %s", why)
	renewed := d
	requireLockLost(h.t, h.q.Renew(ctx, &renewed, lock), "Renew: %s", why)
	assert.Equal(h.t, d.LockedUntil, renewed.LockedUntil, "a failed Renew leaves LockedUntil alone")
}

// sameInstant compares times to the millisecond.
func sameInstant(t *testing.T, want, got time.Time, what string) {
	t.Helper()
	assert.Truef(t, want.Equal(got), "%s: want %s, got %s", what, want.Format(time.RFC3339Nano), got.Format(time.RFC3339Nano))
}
