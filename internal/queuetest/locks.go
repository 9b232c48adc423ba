package queuetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

func testLocks(t *testing.T, newQueue func(t *testing.T, clock *Clock) Queue) {
	subtests(t, newQueue, []testCase{
		{"a locked message is not handed out again while the lock holds", func(h *harness) {
			h.publish(msg(qGen, "a"))
			h.receiveOne(qGen, "a")
			h.requireNone(qGen)
			h.clock.Advance(lock - time.Millisecond)
			h.requireNone(qGen)
			assert.Equal(h.t, herald.QueueStats{Locked: 1}, h.stats(qGen))
		}},
		{"lock expiry redelivers with the next count and a new token; the old token is refused", func(h *harness) {
			h.publish(msg(qGen, "a"))
			first := h.receiveOne(qGen, "a")
			h.clock.Advance(lock) // the lock has run out at LockedUntil
			assert.Equal(h.t, herald.QueueStats{Visible: 1}, h.stats(qGen))
			second := h.receiveOne(qGen, "a")
			assert.Equal(h.t, 2, second.DeliveryCount)
			assert.NotEqual(h.t, first.LockToken, second.LockToken)
			sameInstant(h.t, first.EnqueuedAt, second.EnqueuedAt, "EnqueuedAt")
			sameInstant(h.t, h.clock.Now().Add(lock), second.LockedUntil, "LockedUntil")
			h.requireAllLockLost(first, "the lock ran out and the message went to someone else")
			h.complete(second)
			h.requireNone(qGen)
		}},
		{"a lock that ran out settles nothing, even with no one else holding it", func(h *harness) {
			h.publish(msg(qGen, "a"))
			d := h.receiveOne(qGen, "a")
			h.clock.Advance(lock)
			h.requireAllLockLost(d, "the lock ran out")
			assert.Equal(h.t, herald.QueueStats{Visible: 1}, h.stats(qGen), "the message is still there")
			assert.Equal(h.t, 2, h.receiveOne(qGen, "a").DeliveryCount)
		}},
		{"renew extends the lock", func(h *harness) {
			h.publish(msg(qGen, "a"))
			d := h.receiveOne(qGen, "a")
			h.clock.Advance(20 * time.Second)
			require.NoError(h.t, h.q.Renew(h.t.Context(), &d, time.Minute))
			sameInstant(h.t, h.clock.Now().Add(time.Minute), d.LockedUntil, "LockedUntil after Renew")
			h.clock.Advance(time.Minute - time.Millisecond) // well past the first lock
			h.requireNone(qGen)
			assert.Equal(h.t, herald.QueueStats{Locked: 1}, h.stats(qGen))
			h.complete(d)
			assert.Equal(h.t, herald.QueueStats{}, h.stats(qGen))
		}},
		{"renew keeps the token, and renews again", func(h *harness) {
			h.publish(msg(qGen, "a"))
			d := h.receiveOne(qGen, "a")
			token := d.LockToken
			for range 5 {
				h.clock.Advance(lock - time.Second)
				require.NoError(h.t, h.q.Renew(h.t.Context(), &d, lock))
			}
			assert.Equal(h.t, token, d.LockToken)
			assert.Equal(h.t, 1, d.DeliveryCount)
			h.requireNone(qGen)
			h.complete(d)
		}},
		{"renew after the lock ran out is refused", func(h *harness) {
			h.publish(msg(qGen, "a"))
			d := h.receiveOne(qGen, "a")
			h.clock.Advance(lock + time.Second)
			until := d.LockedUntil
			requireLockLost(h.t, h.q.Renew(h.t.Context(), &d, lock))
			assert.Equal(h.t, until, d.LockedUntil)
		}},
		{"settling after complete is refused", func(h *harness) {
			h.publish(msg(qGen, "a"))
			d := h.receiveOne(qGen, "a")
			h.complete(d)
			h.requireAllLockLost(d, "completed")
		}},
		{"a forged or altered delivery is refused", func(h *harness) {
			h.publish(msg(qGen, "a"), msg(qGen, "b"))
			ds := h.receive(qGen, 2)
			require.Len(h.t, ds, 2)
			a, b := ds[0], ds[1]
			swapped := a
			swapped.LockToken = b.LockToken
			h.requireAllLockLost(swapped, "another message's token")
			renamed := a
			renamed.ID = "b"
			h.requireAllLockLost(renamed, "another id")
			moved := a
			moved.Queue = qDlv
			h.requireAllLockLost(moved, "another queue")
			for _, token := range []string{"x", "1", "1.1", "..", "-1.1.ab", a.LockToken + "0"} {
				bad := a
				bad.LockToken = token
				h.requireAllLockLost(bad, "token "+token)
			}
			h.complete(a)
			h.complete(b)
		}},
	})
}

func testAbandon(t *testing.T, newQueue func(t *testing.T, clock *Clock) Queue) {
	subtests(t, newQueue, []testCase{
		{"abandon makes the message visible at once", func(h *harness) {
			h.publish(msg(qGen, "a"))
			d := h.receiveOne(qGen, "a")
			h.abandon(d, 0)
			assert.Equal(h.t, herald.QueueStats{Visible: 1}, h.stats(qGen))
			again := h.receiveOne(qGen, "a")
			assert.Equal(h.t, 2, again.DeliveryCount)
			h.requireAllLockLost(d, "abandoned")
			h.complete(again)
		}},
		{"abandon with retryAfter schedules the message", func(h *harness) {
			h.publish(msg(qGen, "a"))
			d := h.receiveOne(qGen, "a")
			h.abandon(d, 2*time.Minute)
			assert.Equal(h.t, herald.QueueStats{Scheduled: 1}, h.stats(qGen))
			h.clock.Advance(2*time.Minute - time.Millisecond)
			h.requireNone(qGen)
			h.clock.Advance(time.Millisecond)
			assert.Equal(h.t, 2, h.receiveOne(qGen, "a").DeliveryCount)
		}},
		{"retryAfter may be shorter than what was left of the lock", func(h *harness) {
			h.publish(msg(qGen, "a"))
			h.abandon(h.receiveOne(qGen, "a"), time.Second)
			h.clock.Advance(time.Second)
			h.receiveOne(qGen, "a")
		}},
		{"abandon after the lock ran out is refused and changes nothing", func(h *harness) {
			h.publish(msg(qGen, "a"))
			d := h.receiveOne(qGen, "a")
			h.clock.Advance(lock)
			requireLockLost(h.t, h.q.Abandon(h.t.Context(), d, time.Hour))
			assert.Equal(h.t, herald.QueueStats{Visible: 1}, h.stats(qGen), "not rescheduled")
		}},
	})
}
