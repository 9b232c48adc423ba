package queuetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

func testBasics(t *testing.T, newQueue func(t *testing.T, clock *Clock) Queue) {
	subtests(t, newQueue, []testCase{
		{"publish then receive returns the message locked", func(h *harness) {
			m := herald.Message{ID: "run_1.1", Queue: qGen, Body: []byte(`{"tenantId":"acme","runId":"run_1","note":"é ✓"}`)}
			h.publish(m)
			h.clock.Advance(time.Second)
			ds, err := h.q.Receive(h.t.Context(), qGen, 10, lock)
			require.NoError(h.t, err)
			require.Len(h.t, ds, 1)
			d := ds[0]
			assert.Equal(h.t, m.ID, d.ID)
			assert.Equal(h.t, qGen, d.Queue)
			assert.JSONEq(h.t, string(m.Body), string(d.Body))
			assert.True(h.t, d.NotBefore.IsZero(), "a zero NotBefore stays zero, got %s", d.NotBefore)
			assert.Equal(h.t, 1, d.DeliveryCount)
			assert.NotEmpty(h.t, d.LockToken)
			sameInstant(h.t, epoch(), d.EnqueuedAt, "EnqueuedAt")
			sameInstant(h.t, epoch().Add(time.Second+lock), d.LockedUntil, "LockedUntil")
		}},
		{"the body comes back byte for byte", func(h *harness) {
			m := herald.Message{ID: "dlv_1", Queue: qDlv, Body: []byte("{ \"a\" : [1, 2.50, \"\\u00e9\"] }\n")}
			h.publish(m)
			d := h.receiveOne(qDlv, m.ID)
			assert.Equal(h.t, string(m.Body), string(d.Body))
		}},
		{"an empty queue receives an empty slice", func(h *harness) {
			ds, err := h.q.Receive(h.t.Context(), qGen, 10, lock)
			require.NoError(h.t, err)
			assert.Empty(h.t, ds)
		}},
		{"receive returns at most max", func(h *harness) {
			h.publishN(qGen, 5)
			assert.Len(h.t, h.receive(qGen, 2), 2)
			assert.Len(h.t, h.receive(qGen, 2), 2)
			assert.Len(h.t, h.receive(qGen, 2), 1)
			assert.Empty(h.t, h.receive(qGen, 2))
		}},
		{"complete removes the message for good", func(h *harness) {
			h.publish(msg(qGen, "a"))
			d := h.receiveOne(qGen, "a")
			h.complete(d)
			h.clock.Advance(time.Hour)
			h.requireNone(qGen)
			assert.Equal(h.t, herald.QueueStats{}, h.stats(qGen))
			requireLockLost(h.t, h.q.Complete(h.t.Context(), d), "completing twice")
		}},
		{"lock tokens are distinct within a batch", func(h *harness) {
			h.publishN(qGen, 20)
			seen := map[string]bool{}
			for _, d := range h.receive(qGen, 20) {
				assert.False(h.t, seen[d.LockToken], "token %q handed out twice", d.LockToken)
				seen[d.LockToken] = true
			}
			assert.Len(h.t, seen, 20)
		}},
	})
}

func testDuplicates(t *testing.T, newQueue func(t *testing.T, clock *Clock) Queue) {
	window := herald.DefaultDuplicateWindow
	subtests(t, newQueue, []testCase{
		{"the same id within the window is dropped without an error", func(h *harness) {
			h.publish(msg(qGen, "a"))
			h.clock.Advance(window - time.Millisecond)
			h.publish(herald.Message{ID: "a", Queue: qGen, Body: []byte(`{"second":true}`)})
			assert.Equal(h.t, 1, h.stats(qGen).Visible)
			d := h.receiveOne(qGen, "a")
			assert.JSONEq(h.t, string(body("a")), string(d.Body), "the first body wins")
			h.requireNone(qGen)
		}},
		{"dropped even after the first was completed", func(h *harness) {
			h.publish(msg(qGen, "a"))
			h.complete(h.receiveOne(qGen, "a"))
			h.clock.Advance(time.Minute)
			h.publish(msg(qGen, "a"))
			assert.Equal(h.t, herald.QueueStats{}, h.stats(qGen))
			h.requireNone(qGen)
		}},
		{"dropped while the first is dead-lettered", func(h *harness) {
			h.publish(msg(qGen, "a"))
			require.NoError(h.t, h.q.DeadLetter(h.t.Context(), h.receiveOne(qGen, "a"), "bad"))
			h.publish(msg(qGen, "a"))
			assert.Equal(h.t, herald.QueueStats{DeadLettered: 1}, h.stats(qGen))
		}},
		{"accepted again once the window has passed", func(h *harness) {
			h.publish(msg(qGen, "a"))
			h.complete(h.receiveOne(qGen, "a"))
			h.clock.Advance(window)
			h.publish(msg(qGen, "a"))
			d := h.receiveOne(qGen, "a")
			assert.Equal(h.t, 1, d.DeliveryCount, "a new message")
			sameInstant(h.t, epoch().Add(window), d.EnqueuedAt, "EnqueuedAt")
		}},
		{"after the window a second copy may sit beside the first", func(h *harness) {
			h.publish(herald.Message{ID: "a", Queue: qGen, Body: body("a"), NotBefore: epoch().Add(time.Hour)})
			h.clock.Advance(window)
			h.publish(msg(qGen, "a"))
			assert.Equal(h.t, herald.QueueStats{Visible: 1, Scheduled: 1}, h.stats(qGen))
		}},
		{"dropped duplicates do not extend the window", func(h *harness) {
			h.publish(msg(qGen, "a"))
			h.complete(h.receiveOne(qGen, "a"))
			h.clock.Advance(window - time.Minute)
			h.publish(msg(qGen, "a")) // dropped
			h.clock.Advance(time.Minute)
			h.publish(msg(qGen, "a")) // the window of the first has passed
			h.receiveOne(qGen, "a")
		}},
		{"ids are remembered per queue", func(h *harness) {
			h.publish(msg(qGen, "a"), msg(qDlv, "a"))
			h.receiveOne(qGen, "a")
			h.receiveOne(qDlv, "a")
		}},
		{"a scheduled duplicate is dropped too", func(h *harness) {
			h.publish(msg(qGen, "a"))
			h.publish(herald.Message{ID: "a", Queue: qGen, Body: body("a"), NotBefore: epoch().Add(time.Minute)})
			assert.Equal(h.t, herald.QueueStats{Visible: 1}, h.stats(qGen))
		}},
	})
}

func testBatch(t *testing.T, newQueue func(t *testing.T, clock *Clock) Queue) {
	subtests(t, newQueue, []testCase{
		{"publishes every message, in order", func(h *harness) {
			var batch []herald.Message
			var want []string
			for i := range 100 {
				id := fmt.Sprintf("b-%03d", i)
				batch = append(batch, msg(qGen, id))
				want = append(want, id)
			}
			require.NoError(h.t, h.q.PublishBatch(h.t.Context(), batch))
			assert.Equal(h.t, want, ids(h.receive(qGen, 100)))
		}},
		{"messages of several queues in one batch", func(h *harness) {
			require.NoError(h.t, h.q.PublishBatch(h.t.Context(), []herald.Message{msg(qGen, "a"), msg(qDlv, "b"), msg(qGen, "c")}))
			assert.Equal(h.t, []string{"a", "c"}, ids(h.receive(qGen, 10)))
			assert.Equal(h.t, []string{"b"}, ids(h.receive(qDlv, 10)))
		}},
		{"duplicates within the batch and of earlier publishes are dropped", func(h *harness) {
			h.publish(msg(qGen, "old"))
			batch := []herald.Message{msg(qGen, "a"), msg(qGen, "old"), {ID: "a", Queue: qGen, Body: []byte(`{"copy":1}`)}, msg(qGen, "b")}
			require.NoError(h.t, h.q.PublishBatch(h.t.Context(), batch))
			ds := h.receive(qGen, 10)
			assert.Equal(h.t, []string{"old", "a", "b"}, ids(ds))
			assert.JSONEq(h.t, string(body("a")), string(ds[1].Body), "the first copy wins")
			require.NoError(h.t, h.q.PublishBatch(h.t.Context(), batch), "a batch published twice")
			assert.Equal(h.t, herald.QueueStats{Locked: 3}, h.stats(qGen))
		}},
		{"one invalid message publishes none", func(h *harness) {
			batch := []herald.Message{msg(qGen, "a"), {ID: "", Queue: qGen, Body: body("x")}, msg(qGen, "c")}
			requireCode(h.t, h.q.PublishBatch(h.t.Context(), batch), herald.CodeInvalid)
			assert.Equal(h.t, herald.QueueStats{}, h.stats(qGen))
		}},
		{"one oversized message publishes none", func(h *harness) {
			batch := []herald.Message{msg(qGen, "a"), {ID: "big", Queue: qGen, Body: jsonOfSize(herald.MaxMessageBytes + 1)}}
			requireCode(h.t, h.q.PublishBatch(h.t.Context(), batch), herald.CodeTooLarge)
			assert.Equal(h.t, herald.QueueStats{}, h.stats(qGen))
		}},
		{"an empty batch is a no-op", func(h *harness) {
			require.NoError(h.t, h.q.PublishBatch(h.t.Context(), nil))
			assert.Equal(h.t, herald.QueueStats{}, h.stats(qGen))
		}},
		{"scheduled messages in a batch", func(h *harness) {
			require.NoError(h.t, h.q.PublishBatch(h.t.Context(), []herald.Message{
				{ID: "later", Queue: qGen, Body: body("later"), NotBefore: epoch().Add(time.Minute)},
				msg(qGen, "now"),
			}))
			assert.Equal(h.t, herald.QueueStats{Visible: 1, Scheduled: 1}, h.stats(qGen))
			h.complete(h.receiveOne(qGen, "now"))
			h.clock.Advance(time.Minute)
			h.receiveOne(qGen, "later")
		}},
	})
}

func testScheduled(t *testing.T, newQueue func(t *testing.T, clock *Clock) Queue) {
	subtests(t, newQueue, []testCase{
		{"invisible before NotBefore, visible from it", func(h *harness) {
			at := epoch().Add(5 * time.Minute)
			h.publish(herald.Message{ID: "a", Queue: qGen, Body: body("a"), NotBefore: at})
			assert.Equal(h.t, herald.QueueStats{Scheduled: 1}, h.stats(qGen))
			h.requireNone(qGen)
			h.clock.Advance(5*time.Minute - time.Millisecond)
			h.requireNone(qGen)
			h.clock.Advance(time.Millisecond)
			assert.Equal(h.t, herald.QueueStats{Visible: 1}, h.stats(qGen))
			d := h.receiveOne(qGen, "a")
			sameInstant(h.t, at, d.NotBefore, "NotBefore")
			sameInstant(h.t, epoch(), d.EnqueuedAt, "EnqueuedAt")
		}},
		{"a NotBefore in the past is visible at once", func(h *harness) {
			h.publish(herald.Message{ID: "a", Queue: qGen, Body: body("a"), NotBefore: epoch().Add(-time.Hour)})
			d := h.receiveOne(qGen, "a")
			sameInstant(h.t, epoch().Add(-time.Hour), d.NotBefore, "NotBefore")
		}},
		{"a NotBefore in another zone is the same instant", func(h *harness) {
			at := epoch().Add(time.Minute).In(time.FixedZone("UTC+5", 5*3600))
			h.publish(herald.Message{ID: "a", Queue: qGen, Body: body("a"), NotBefore: at})
			h.requireNone(qGen)
			h.clock.Advance(time.Minute)
			h.receiveOne(qGen, "a")
		}},
	})
}

func testOrdering(t *testing.T, newQueue func(t *testing.T, clock *Clock) Queue) {
	subtests(t, newQueue, []testCase{
		{"one at a time, oldest first", func(h *harness) {
			for _, id := range h.publishN(qGen, 10) {
				h.complete(h.receiveOne(qGen, id))
			}
		}},
		{"a batch comes oldest first", func(h *harness) {
			want := h.publishN(qGen, 30)
			got := h.receive(qGen, 10)
			got = append(got, h.receive(qGen, 30)...)
			assert.Equal(h.t, want, ids(got))
		}},
		{"by the time a message became visible, then by enqueue order", func(h *harness) {
			at := func(d time.Duration) time.Time { return epoch().Add(d) }
			h.publish(herald.Message{ID: "A", Queue: qGen, Body: body("A"), NotBefore: at(30 * time.Second)})
			h.clock.Advance(10 * time.Second)
			h.publish(msg(qGen, "B"))
			h.clock.Advance(10 * time.Second)
			h.publish(herald.Message{ID: "C", Queue: qGen, Body: body("C"), NotBefore: at(20 * time.Second)})
			h.publish(msg(qGen, "D"))
			h.publish(herald.Message{ID: "E", Queue: qGen, Body: body("E"), NotBefore: at(15 * time.Second)})
			h.clock.Advance(20 * time.Second)
			assert.Equal(h.t, []string{"B", "C", "D", "E", "A"}, h.drainOneByOne(qGen))
		}},
		{"a batch holds the oldest, in order", func(h *harness) {
			h.publish(herald.Message{ID: "A", Queue: qGen, Body: body("A"), NotBefore: epoch().Add(time.Minute)})
			h.publish(msg(qGen, "B"))
			h.clock.Advance(time.Second)
			h.publish(msg(qGen, "C"), msg(qGen, "D"))
			h.clock.Advance(time.Minute)
			assert.Equal(h.t, []string{"B", "C"}, ids(h.receive(qGen, 2)))
			assert.Equal(h.t, []string{"D", "A"}, ids(h.receive(qGen, 2)))
		}},
		{"an abandoned message goes behind those visible before it", func(h *harness) {
			h.publish(msg(qGen, "A"))
			h.clock.Advance(time.Second)
			h.publish(msg(qGen, "B"))
			h.clock.Advance(time.Second)
			h.abandon(h.receiveOne(qGen, "A"), 0)
			h.clock.Advance(time.Second)
			h.publish(msg(qGen, "C"))
			assert.Equal(h.t, []string{"B", "A", "C"}, h.drainOneByOne(qGen))
		}},
		{"a message whose lock ran out takes its place by the end of the lock", func(h *harness) {
			h.publish(msg(qGen, "A"))
			h.receiveOne(qGen, "A")
			h.clock.Advance(lock / 2)
			h.publish(msg(qGen, "B"))
			h.clock.Advance(lock)
			h.publish(msg(qGen, "C"))
			assert.Equal(h.t, []string{"B", "A", "C"}, h.drainOneByOne(qGen))
		}},
	})
}

// drainOneByOne receives and completes the visible messages of queue one
// at a time and returns their ids in the order received.
func (h *harness) drainOneByOne(queue string) []string {
	h.t.Helper()
	var out []string
	for {
		ds := h.receive(queue, 1)
		if len(ds) == 0 {
			return out
		}
		out = append(out, ds[0].ID)
		h.complete(ds[0])
	}
}

// jsonOfSize returns a JSON string value of exactly n bytes.
func jsonOfSize(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'x'
	}
	b[0], b[n-1] = '"', '"'
	return b
}

// waitGroupErrs runs fn in n goroutines and returns their errors.
func waitGroupErrs(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errs
}
