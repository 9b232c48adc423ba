package queuetest

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

func testDeadLetters(t *testing.T, newQueue func(t *testing.T, clock *Clock) Queue) {
	maxCount := herald.DefaultMaxDeliveryCount
	subtests(t, newQueue, []testCase{
		{"abandoned on its max delivery: dead-lettered at once", func(h *harness) {
			h.publish(msg(qGen, "a"))
			for n := 1; n <= maxCount; n++ {
				h.clock.Advance(time.Second)
				d := h.receiveOne(qGen, "a")
				require.Equal(h.t, n, d.DeliveryCount)
				h.abandon(d, 0)
			}
			assert.Equal(h.t, herald.QueueStats{DeadLettered: 1}, h.stats(qGen))
			h.requireNone(qGen)
			dls := h.deadLetters(qGen, 10)
			require.Len(h.t, dls, 1)
			dl := dls[0]
			assert.Equal(h.t, "a", dl.ID)
			assert.Equal(h.t, qGen, dl.Queue)
			assert.JSONEq(h.t, string(body("a")), string(dl.Body))
			assert.Equal(h.t, maxCount, dl.DeliveryCount)
			assert.Equal(h.t, herald.ReasonMaxDeliveryCount, dl.Reason)
			sameInstant(h.t, epoch(), dl.EnqueuedAt, "EnqueuedAt")
			sameInstant(h.t, h.clock.Now(), dl.DeadLetteredAt, "DeadLetteredAt")
		}},
		{"abandoned with a retryAfter on its max delivery: dead-lettered at once", func(h *harness) {
			h.publish(msg(qGen, "a"))
			for range maxCount {
				h.abandon(h.receiveOne(qGen, "a"), time.Minute)
				h.clock.Advance(time.Minute)
			}
			assert.Equal(h.t, herald.QueueStats{DeadLettered: 1}, h.stats(qGen))
		}},
		{"lock ran out on its max delivery: dead-lettered by the next receive", func(h *harness) {
			h.publish(msg(qGen, "a"))
			for n := 1; n <= maxCount; n++ {
				d := h.receiveOne(qGen, "a")
				require.Equal(h.t, n, d.DeliveryCount)
				h.clock.Advance(lock)
			}
			h.requireNone(qGen)
			assert.Equal(h.t, herald.QueueStats{DeadLettered: 1}, h.stats(qGen))
			dls := h.deadLetters(qGen, 0)
			require.Len(h.t, dls, 1)
			assert.Equal(h.t, maxCount, dls[0].DeliveryCount)
			assert.Equal(h.t, herald.ReasonMaxDeliveryCount, dls[0].Reason)
		}},
		{"a message delivered too often does not hide the ones behind it", func(h *harness) {
			h.publish(msg(qGen, "poison"))
			for range maxCount {
				h.receiveOne(qGen, "poison")
				h.clock.Advance(lock)
			}
			h.publish(msg(qGen, "good"))
			h.receiveOne(qGen, "good")
			assert.Equal(h.t, herald.QueueStats{Locked: 1, DeadLettered: 1}, h.stats(qGen))
		}},
		{"many messages delivered too often, then good ones", func(h *harness) {
			bad := h.publishN(qGen, 30)
			for range maxCount {
				require.Len(h.t, h.receive(qGen, 30), 30)
				h.clock.Advance(lock)
			}
			h.publish(msg(qGen, "good-1"), msg(qGen, "good-2"))
			assert.Equal(h.t, []string{"good-1"}, ids(h.receive(qGen, 1)))
			assert.Equal(h.t, []string{"good-2"}, ids(h.receive(qGen, 5)))
			assert.Len(h.t, h.deadLetters(qGen, 100), len(bad))
		}},
		{"explicit dead letter", func(h *harness) {
			h.publish(msg(qGen, "a"))
			h.clock.Advance(time.Minute)
			d := h.receiveOne(qGen, "a")
			h.clock.Advance(time.Second)
			require.NoError(h.t, h.q.DeadLetter(h.t.Context(), d, "report query failed: no such table"))
			h.requireAllLockLost(d, "dead-lettered")
			h.requireNone(qGen)
			assert.Equal(h.t, herald.QueueStats{DeadLettered: 1}, h.stats(qGen))
			dls := h.deadLetters(qGen, 10)
			require.Len(h.t, dls, 1)
			assert.Equal(h.t, "report query failed: no such table", dls[0].Reason)
			assert.Equal(h.t, 1, dls[0].DeliveryCount)
			sameInstant(h.t, epoch(), dls[0].EnqueuedAt, "EnqueuedAt")
			sameInstant(h.t, h.clock.Now(), dls[0].DeadLetteredAt, "DeadLetteredAt")
		}},
		{"a scheduled message keeps its NotBefore in the dead letters", func(h *harness) {
			at := epoch().Add(time.Minute)
			h.publish(herald.Message{ID: "a", Queue: qGen, Body: body("a"), NotBefore: at})
			h.clock.Advance(time.Minute)
			require.NoError(h.t, h.q.DeadLetter(h.t.Context(), h.receiveOne(qGen, "a"), ""))
			dls := h.deadLetters(qGen, 10)
			require.Len(h.t, dls, 1)
			sameInstant(h.t, at, dls[0].NotBefore, "NotBefore")
			assert.Empty(h.t, dls[0].Reason)
		}},
		{"a long reason is cut, not refused", func(h *harness) {
			h.publish(msg(qGen, "a"))
			reason := "x" + strings.Repeat("é", herald.MaxDeadLetterReasonBytes) // the limit falls inside an é
			require.NoError(h.t, h.q.DeadLetter(h.t.Context(), h.receiveOne(qGen, "a"), reason))
			got := h.deadLetters(qGen, 1)[0].Reason
			assert.Len(h.t, got, herald.MaxDeadLetterReasonBytes-1)
			assert.True(h.t, utf8.ValidString(got), "cut between characters")
			assert.True(h.t, strings.HasPrefix(reason, got))
			assert.Equal(h.t, herald.ClipReason(reason), got)
		}},
		{"listed newest first, up to the limit", func(h *harness) {
			for i := range 5 {
				id := fmt.Sprintf("d%d", i)
				h.publish(msg(qGen, id))
				require.NoError(h.t, h.q.DeadLetter(h.t.Context(), h.receiveOne(qGen, id), id))
				if i != 2 { // d2 and d3 share an instant: the later one is newer
					h.clock.Advance(time.Second)
				}
			}
			got := func(dls []herald.DeadLetter) []string {
				out := make([]string, len(dls))
				for i, dl := range dls {
					out[i] = dl.ID
				}
				return out
			}
			assert.Equal(h.t, []string{"d4", "d3", "d2", "d1", "d0"}, got(h.deadLetters(qGen, 0)))
			assert.Equal(h.t, []string{"d4", "d3"}, got(h.deadLetters(qGen, 2)))
			assert.Empty(h.t, h.deadLetters(qDlv, 10))
		}},
		{"requeue moves it back as a new message", func(h *harness) {
			h.publish(msg(qGen, "a"))
			require.NoError(h.t, h.q.DeadLetter(h.t.Context(), h.receiveOne(qGen, "a"), "bad"))
			h.clock.Advance(time.Minute)
			h.publish(msg(qGen, "b"))
			require.NoError(h.t, h.q.Requeue(h.t.Context(), qGen, "a"), "requeue bypasses duplicate detection")
			assert.Equal(h.t, herald.QueueStats{Visible: 2}, h.stats(qGen))
			assert.Empty(h.t, h.deadLetters(qGen, 10))
			ds := h.receive(qGen, 10)
			require.Equal(h.t, []string{"b", "a"}, ids(ds), "behind what was already visible")
			assert.Equal(h.t, 1, ds[1].DeliveryCount, "the delivery count starts again")
			sameInstant(h.t, h.clock.Now(), ds[1].EnqueuedAt, "EnqueuedAt")
			assert.JSONEq(h.t, string(body("a")), string(ds[1].Body))
			h.complete(ds[1])
		}},
		{"a requeued message gets the full count of deliveries again", func(h *harness) {
			h.publish(msg(qGen, "a"))
			for range maxCount {
				h.abandon(h.receiveOne(qGen, "a"), 0)
			}
			require.NoError(h.t, h.q.Requeue(h.t.Context(), qGen, "a"))
			for n := 1; n <= maxCount; n++ {
				d := h.receiveOne(qGen, "a")
				require.Equal(h.t, n, d.DeliveryCount)
				h.abandon(d, 0)
			}
			assert.Equal(h.t, herald.QueueStats{DeadLettered: 1}, h.stats(qGen))
		}},
		{"requeue takes the newest dead letter of an id", func(h *harness) {
			h.publish(herald.Message{ID: "a", Queue: qGen, Body: []byte(`{"n":1}`)})
			require.NoError(h.t, h.q.DeadLetter(h.t.Context(), h.receiveOne(qGen, "a"), "first"))
			h.clock.Advance(herald.DefaultDuplicateWindow)
			h.publish(herald.Message{ID: "a", Queue: qGen, Body: []byte(`{"n":2}`)})
			require.NoError(h.t, h.q.DeadLetter(h.t.Context(), h.receiveOne(qGen, "a"), "second"))
			require.NoError(h.t, h.q.Requeue(h.t.Context(), qGen, "a"))
			assert.JSONEq(h.t, `{"n":2}`, string(h.receiveOne(qGen, "a").Body))
			dls := h.deadLetters(qGen, 10)
			require.Len(h.t, dls, 1)
			assert.Equal(h.t, "first", dls[0].Reason)
		}},
		{"requeue of an unknown id is not found", func(h *harness) {
			requireCode(h.t, h.q.Requeue(h.t.Context(), qGen, "nope"), herald.CodeNotFound)
			h.publish(msg(qGen, "a"))
			requireCode(h.t, h.q.Requeue(h.t.Context(), qGen, "a"), herald.CodeNotFound, "a live message is no dead letter")
		}},
	})
}

func testIsolation(t *testing.T, newQueue func(t *testing.T, clock *Clock) Queue) {
	subtests(t, newQueue, []testCase{
		{"two queues never see each other's messages", func(h *harness) {
			h.publishN(qGen, 3)
			h.publish(msg(qDlv, "x"), herald.Message{ID: "y", Queue: qDlv, Body: body("y"), NotBefore: epoch().Add(time.Hour)})
			assert.Equal(h.t, herald.QueueStats{Visible: 3}, h.stats(qGen))
			assert.Equal(h.t, herald.QueueStats{Visible: 1, Scheduled: 1}, h.stats(qDlv))
			dlv := h.receive(qDlv, 10)
			assert.Equal(h.t, []string{"x"}, ids(dlv))
			assert.Equal(h.t, herald.QueueStats{Visible: 3}, h.stats(qGen))
			require.NoError(h.t, h.q.DeadLetter(h.t.Context(), dlv[0], "bad"))
			assert.Empty(h.t, h.deadLetters(qGen, 10))
			requireCode(h.t, h.q.Requeue(h.t.Context(), qGen, "x"), herald.CodeNotFound)
			gen := h.receive(qGen, 10)
			assert.Len(h.t, gen, 3)
			for _, d := range gen {
				assert.Equal(h.t, qGen, d.Queue)
			}
			assert.Empty(h.t, h.receive("other", 10), "an unused queue name is simply empty")
			assert.Equal(h.t, herald.QueueStats{}, h.stats("other"))
		}},
	})
}

func testStats(t *testing.T, newQueue func(t *testing.T, clock *Clock) Queue) {
	subtests(t, newQueue, []testCase{
		{"each state is counted", func(h *harness) {
			h.publishN(qGen, 6)
			h.publish(herald.Message{ID: "later", Queue: qGen, Body: body("later"), NotBefore: epoch().Add(time.Minute)})
			ds := h.receive(qGen, 3)
			require.Len(h.t, ds, 3)
			h.complete(ds[0])
			require.NoError(h.t, h.q.DeadLetter(h.t.Context(), ds[1], "bad"))
			assert.Equal(h.t, herald.QueueStats{Visible: 3, Scheduled: 1, Locked: 1, DeadLettered: 1}, h.stats(qGen))
			h.abandon(ds[2], 2*time.Minute)
			assert.Equal(h.t, herald.QueueStats{Visible: 3, Scheduled: 2, DeadLettered: 1}, h.stats(qGen))
			h.receive(qGen, 2)
			assert.Equal(h.t, herald.QueueStats{Visible: 1, Scheduled: 2, Locked: 2, DeadLettered: 1}, h.stats(qGen))
			h.clock.Advance(lock)
			assert.Equal(h.t, herald.QueueStats{Visible: 3, Scheduled: 2, DeadLettered: 1}, h.stats(qGen))
			h.clock.Advance(2 * time.Minute)
			assert.Equal(h.t, herald.QueueStats{Visible: 5, DeadLettered: 1}, h.stats(qGen))
		}},
	})
}
