package queuetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

func testValidation(t *testing.T, newQueue func(t *testing.T, clock *Clock) Queue) {
	subtests(t, newQueue, []testCase{
		{"publish refuses malformed messages", testPublishValidation},
		{"a body of exactly the limit is accepted", func(h *harness) {
			h.publish(herald.Message{ID: "big", Queue: qGen, Body: jsonOfSize(herald.MaxMessageBytes)})
			d := h.receiveOne(qGen, "big")
			assert.Len(h.t, d.Body, herald.MaxMessageBytes)
		}},
		{"an id of the longest length is accepted", func(h *harness) {
			id := strings.Repeat("r", herald.MaxMessageIDLen)
			h.publish(msg(qGen, id))
			h.receiveOne(qGen, id)
		}},
		{"queue names", func(h *harness) {
			for _, name := range []string{"a", "generate", "deliver", "q-1", "a" + strings.Repeat("b", 62)} {
				require.NoErrorf(h.t, h.q.Publish(h.t.Context(), msg(name, "x")), "queue %q", name)
			}
			for _, name := range []string{"", "Generate", "1q", "-q", "q_1", "q.1", "q 1", "a" + strings.Repeat("b", 63), "é"} {
				requireCode(h.t, h.q.Publish(h.t.Context(), msg(name, "x")), herald.CodeInvalid, "queue %q", name)
				_, err := h.q.Receive(h.t.Context(), name, 1, lock)
				requireCode(h.t, err, herald.CodeInvalid, "Receive from %q", name)
				_, err = h.q.Stats(h.t.Context(), name)
				requireCode(h.t, err, herald.CodeInvalid, "Stats of %q", name)
				_, err = h.q.DeadLetters(h.t.Context(), name, 1)
				requireCode(h.t, err, herald.CodeInvalid, "DeadLetters of %q", name)
				requireCode(h.t, h.q.Requeue(h.t.Context(), name, "x"), herald.CodeInvalid, "Requeue to %q", name)
			}
		}},
		{"receive arguments", func(h *harness) {
			for _, c := range []struct {
				max     int
				lockFor time.Duration
			}{{0, lock}, {-1, lock}, {herald.MaxReceive + 1, lock}, {1, 0}, {1, -time.Second}, {1, herald.MaxLockDuration + time.Millisecond}} {
				_, err := h.q.Receive(h.t.Context(), qGen, c.max, c.lockFor)
				requireCode(h.t, err, herald.CodeInvalid, "max %d, lockFor %s", c.max, c.lockFor)
			}
			_, err := h.q.Receive(h.t.Context(), qGen, herald.MaxReceive, herald.MaxLockDuration)
			require.NoError(h.t, err, "the limits themselves are allowed")
		}},
		{"settle arguments", func(h *harness) {
			ctx := h.t.Context()
			h.publish(msg(qGen, "a"))
			d := h.receiveOne(qGen, "a")
			requireCode(h.t, h.q.Abandon(ctx, d, -time.Second), herald.CodeInvalid)
			requireCode(h.t, h.q.Abandon(ctx, d, herald.MaxRetryAfter+time.Millisecond), herald.CodeInvalid)
			requireCode(h.t, h.q.Renew(ctx, &d, 0), herald.CodeInvalid)
			requireCode(h.t, h.q.Renew(ctx, &d, herald.MaxLockDuration+time.Millisecond), herald.CodeInvalid)
			for name, bad := range map[string]herald.QueueDelivery{
				"zero":     {},
				"no token": {Message: d.Message},
				"no queue": {Message: herald.Message{ID: d.ID}, LockToken: d.LockToken},
				"no id":    {Message: herald.Message{Queue: d.Queue}, LockToken: d.LockToken},
			} {
				requireCode(h.t, h.q.Complete(ctx, bad), herald.CodeInvalid, "Complete: %s", name)
				requireCode(h.t, h.q.Abandon(ctx, bad, 0), herald.CodeInvalid, "Abandon: %s", name)
				requireCode(h.t, h.q.DeadLetter(ctx, bad, "x"), herald.CodeInvalid, "DeadLetter: %s", name)
				requireCode(h.t, h.q.Renew(ctx, &bad, lock), herald.CodeInvalid, "Renew: %s", name)
			}
			assert.Equal(h.t, herald.QueueStats{Locked: 1}, h.stats(qGen), "nothing changed")
			h.complete(d)
		}},
		{"list and requeue arguments", func(h *harness) {
			for _, limit := range []int{-1, herald.MaxListLimit + 1} {
				_, err := h.q.DeadLetters(h.t.Context(), qGen, limit)
				requireCode(h.t, err, herald.CodeInvalid, "limit %d", limit)
			}
			requireCode(h.t, h.q.Requeue(h.t.Context(), qGen, ""), herald.CodeInvalid)
		}},
		{"a canceled context fails every call", testCanceled},
	})
}

func testPublishValidation(h *harness) {
	cases := []struct {
		name string
		m    herald.Message
		code herald.Code
	}{
		{"empty id", herald.Message{Queue: qGen, Body: body("x")}, herald.CodeInvalid},
		{"id too long", msg(qGen, strings.Repeat("r", herald.MaxMessageIDLen+1)), herald.CodeInvalid},
		{"id with a control character", msg(qGen, "run\n1"), herald.CodeInvalid},
		{"id not UTF-8", msg(qGen, "run\xff"), herald.CodeInvalid},
		{"no queue", herald.Message{ID: "x", Body: body("x")}, herald.CodeInvalid},
		{"body not JSON", herald.Message{ID: "x", Queue: qGen, Body: []byte(`{"a":`)}, herald.CodeInvalid},
		{"no body", herald.Message{ID: "x", Queue: qGen}, herald.CodeInvalid},
		{"body over the limit", herald.Message{ID: "x", Queue: qGen, Body: jsonOfSize(herald.MaxMessageBytes + 1)}, herald.CodeTooLarge},
	}
	for _, c := range cases {
		requireCode(h.t, h.q.Publish(h.t.Context(), c.m), c.code, c.name)
		requireCode(h.t, h.q.PublishBatch(h.t.Context(), []herald.Message{c.m}), c.code, "batch: "+c.name)
	}
	assert.Equal(h.t, herald.QueueStats{}, h.stats(qGen), "nothing was published")
}

func testCanceled(h *harness) {
	h.publish(msg(qGen, "a"))
	d := h.receiveOne(qGen, "a")
	ctx, cancel := context.WithCancel(h.t.Context())
	cancel()
	check := func(what string, err error) {
		h.t.Helper()
		require.Errorf(h.t, err, "%s with a canceled context", what)
		assert.Truef(h.t, errors.Is(err, context.Canceled), "%s: ctx.Err() in the chain of %q", what, err)
	}
	check("Publish", h.q.Publish(ctx, msg(qGen, "b")))
	check("PublishBatch", h.q.PublishBatch(ctx, []herald.Message{msg(qGen, "c")}))
	_, err := h.q.Receive(ctx, qGen, 1, lock)
	check("Receive", err)
	check("Complete", h.q.Complete(ctx, d))
	check("Abandon", h.q.Abandon(ctx, d, 0))
	check("Renew", h.q.Renew(ctx, &d, lock))
	check("DeadLetter", h.q.DeadLetter(ctx, d, "x"))
	_, err = h.q.DeadLetters(ctx, qGen, 1)
	check("DeadLetters", err)
	check("Requeue", h.q.Requeue(ctx, qGen, "a"))
	_, err = h.q.Stats(ctx, qGen)
	check("Stats", err)
	assert.Equal(h.t, herald.QueueStats{Locked: 1}, h.stats(qGen), "nothing changed")
	h.complete(d)
}
