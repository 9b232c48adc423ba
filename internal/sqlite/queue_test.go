package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/queuetest"
)

var _ queuetest.Queue = (*Queue)(nil)

func TestQueueConformance(t *testing.T) {
	// Every case gets a store of its own, copied from one migrated file:
	// migrating a new file each time would be most of the suite's run time.
	template := filepath.Join(t.TempDir(), "template.db")
	s, err := Open(t.Context(), template)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	image, err := os.ReadFile(template)
	require.NoError(t, err)
	_, err = os.Stat(template + "-wal")
	require.True(t, os.IsNotExist(err), "closing the store checkpoints and removes the WAL")

	queuetest.Run(t, func(t *testing.T, clock *queuetest.Clock) queuetest.Queue {
		path := filepath.Join(t.TempDir(), "herald.db")
		require.NoError(t, os.WriteFile(path, image, 0o600))
		s, err := Open(t.Context(), path)
		require.NoError(t, err)
		q := s.Queue(WithQueueClock(clock.Now))
		t.Cleanup(func() {
			require.NoError(t, q.Close())
			require.NoError(t, s.Close())
		})
		return q
	})
}

func queueMsg(id string) herald.Message {
	return herald.Message{ID: id, Queue: herald.QueueGenerate, Body: []byte(`{"runId":"` + id + `"}`)}
}

// TestQueueSurvivesRestart closes the store with a message locked, one
// scheduled and one dead-lettered, and opens the file again: nothing is
// lost, the lock runs out on its own, and duplicate detection remembers.
func TestQueueSurvivesRestart(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "herald.db")
	clock := queuetest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	const lockFor = time.Minute

	s, err := Open(ctx, path)
	require.NoError(t, err)
	q := s.Queue(WithQueueClock(clock.Now))
	require.NoError(t, q.PublishBatch(ctx, []herald.Message{queueMsg("locked"), queueMsg("dead"),
		{ID: "later", Queue: herald.QueueGenerate, Body: []byte(`{}`), NotBefore: clock.Now().Add(time.Hour)}}))
	ds, err := q.Receive(ctx, herald.QueueGenerate, 2, lockFor)
	require.NoError(t, err)
	require.Len(t, ds, 2)
	require.NoError(t, q.DeadLetter(ctx, ds[1], "bad"))
	require.NoError(t, q.Close())
	require.NoError(t, s.Close()) // the process "dies" holding the lock of ds[0]

	s, err = Open(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	q = s.Queue(WithQueueClock(clock.Now))
	defer q.Close()
	stats, err := q.Stats(ctx, herald.QueueGenerate)
	require.NoError(t, err)
	assert.Equal(t, herald.QueueStats{Scheduled: 1, Locked: 1, DeadLettered: 1}, stats)

	got, err := q.Receive(ctx, herald.QueueGenerate, 10, lockFor)
	require.NoError(t, err)
	assert.Empty(t, got, "the lock still holds after the restart")
	clock.Advance(lockFor)
	got, err = q.Receive(ctx, herald.QueueGenerate, 10, lockFor)
	require.NoError(t, err)
	require.Len(t, got, 1, "the lock ran out")
	assert.Equal(t, "locked", got[0].ID)
	assert.Equal(t, 2, got[0].DeliveryCount)
	require.True(t, herald.Is(q.Complete(ctx, ds[0]), herald.CodeConflict), "the old lock is refused")
	require.NoError(t, q.Complete(ctx, got[0]))

	require.NoError(t, q.Publish(ctx, queueMsg("locked")), "a duplicate: dropped")
	stats, err = q.Stats(ctx, herald.QueueGenerate)
	require.NoError(t, err)
	assert.Equal(t, herald.QueueStats{Scheduled: 1, DeadLettered: 1}, stats, "duplicate detection survived")

	dls, err := q.DeadLetters(ctx, herald.QueueGenerate, 10)
	require.NoError(t, err)
	require.Len(t, dls, 1)
	assert.Equal(t, "dead", dls[0].ID)
	assert.Equal(t, "bad", dls[0].Reason)

	clock.Advance(time.Hour)
	got, err = q.Receive(ctx, herald.QueueGenerate, 10, lockFor)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "later", got[0].ID)
}

// TestQueueSharesTheStoreFile checks that the queue lives in the store's
// own file, next to the documents, and that two processes (two Stores on
// one file) share it without handing a message out twice.
func TestQueueSharesTheStoreFile(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "herald.db")
	a, err := Open(ctx, path)
	require.NoError(t, err)
	defer a.Close()
	b, err := Open(ctx, path)
	require.NoError(t, err)
	defer b.Close()
	qa, qb := a.Queue(), b.Queue()
	defer qa.Close()
	defer qb.Close()

	const n = 300
	batch := make([]herald.Message, n)
	for i := range batch {
		batch[i] = queueMsg(fmt.Sprintf("m-%03d", i))
	}
	require.NoError(t, qa.PublishBatch(ctx, batch))
	require.NoError(t, qb.PublishBatch(ctx, batch[:10]), "duplicates across processes are dropped")

	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := range 4 {
		q := []*Queue{qa, qb}[w%2]
		wg.Go(func() {
			for {
				ds, err := q.Receive(ctx, herald.QueueGenerate, 7, time.Minute)
				if !assert.NoError(t, err) || len(ds) == 0 {
					return
				}
				for _, d := range ds {
					mu.Lock()
					seen[d.ID]++
					mu.Unlock()
					assert.NoError(t, q.Complete(ctx, d))
				}
			}
		})
	}
	wg.Wait()
	assert.Len(t, seen, n)
	for id, c := range seen {
		assert.Equalf(t, 1, c, "%s received %d times", id, c)
	}

	var tables int
	require.NoError(t, a.read.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('items', 'queue_messages', 'queue_dedupe', 'queue_dead_letters')`).Scan(&tables))
	assert.Equal(t, 4, tables)
}

// TestQueueOptions checks the configurable window and max delivery count.
func TestQueueOptions(t *testing.T) {
	ctx := t.Context()
	clock := queuetest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	q := newTestStore(t).Queue(WithQueueClock(clock.Now), WithDuplicateWindow(time.Minute), WithMaxDeliveryCount(2),
		WithDuplicateWindow(0), WithMaxDeliveryCount(0), WithQueueClock(nil)) // ignored
	defer q.Close()

	require.NoError(t, q.Publish(ctx, queueMsg("a")))
	clock.Advance(time.Minute)
	require.NoError(t, q.Publish(ctx, queueMsg("a")))
	stats, err := q.Stats(ctx, herald.QueueGenerate)
	require.NoError(t, err)
	assert.Equal(t, 2, stats.Visible, "a one-minute window")

	for range 2 {
		ds, err := q.Receive(ctx, herald.QueueGenerate, 1, time.Second)
		require.NoError(t, err)
		require.Len(t, ds, 1)
		require.NoError(t, q.Abandon(ctx, ds[0], 0))
	}
	stats, err = q.Stats(ctx, herald.QueueGenerate)
	require.NoError(t, err)
	assert.Equal(t, herald.QueueStats{Visible: 1, DeadLettered: 1}, stats, "two deliveries at most")

	require.NoError(t, q.Close())
	_, err = q.Receive(ctx, herald.QueueGenerate, 1, time.Second)
	assert.True(t, herald.Is(err, herald.CodeUnavailable), "a closed queue: %v", err)
	require.NoError(t, q.Close(), "Close twice")
}

// TestQueueDedupePurge checks that expired duplicate-detection entries do
// not pile up: publishing purges them a few at a time.
func TestQueueDedupePurge(t *testing.T) {
	ctx := t.Context()
	clock := queuetest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	s := newTestStore(t)
	q := s.Queue(WithQueueClock(clock.Now))
	defer q.Close()
	batch := make([]herald.Message, 500)
	for i := range batch {
		batch[i] = queueMsg(fmt.Sprintf("m-%03d", i))
	}
	require.NoError(t, q.PublishBatch(ctx, batch))
	clock.Advance(herald.DefaultDuplicateWindow)
	for i := range 10 {
		require.NoError(t, q.Publish(ctx, queueMsg(fmt.Sprintf("new-%d", i))))
	}
	var n int
	require.NoError(t, s.read.QueryRowContext(ctx, `SELECT count(*) FROM queue_dedupe`).Scan(&n))
	assert.Equal(t, 10, n, "the 500 expired entries are gone, the 10 new ones kept")
}

// TestQueueQueryPlans pins the plans of the hot statements: the receive and
// purge lookups must walk an index, never scan a table.
func TestQueueQueryPlans(t *testing.T) {
	s := newTestStore(t)
	for _, c := range []struct{ query, want string }{
		{`UPDATE queue_messages SET delivery_count = delivery_count + 1 WHERE seq IN (SELECT seq FROM queue_messages
			INDEXED BY queue_messages_receive WHERE queue = 'generate' AND visible_at <= 5 ORDER BY visible_at, seq LIMIT 10)`,
			"USING COVERING INDEX queue_messages_receive"},
		{`SELECT seq FROM queue_dead_letters WHERE queue = 'generate' AND id = 'x'
			ORDER BY dead_lettered_at DESC, seq DESC LIMIT 1`, "USING COVERING INDEX queue_dead_letters_id"},
		{`DELETE FROM queue_dedupe WHERE (queue, id) IN
			(SELECT queue, id FROM queue_dedupe WHERE expires_at <= 5 ORDER BY expires_at LIMIT 10)`, "queue_dedupe_expiry"},
		{`SELECT id FROM queue_dead_letters WHERE queue = 'generate' ORDER BY dead_lettered_at DESC, seq DESC LIMIT 10`,
			"queue_dead_letters_time"},
	} {
		plan := explain(t, s, c.query)
		assert.Contains(t, plan, c.want, c.query)
		assert.NotContains(t, plan, "TEMP B-TREE", "no sort: %s", c.query)
		assert.NotRegexp(t, `(?m)^SCAN queue_`, plan, "no table scan: %s", c.query)
	}
}

func explain(t *testing.T, s *Store, query string) string {
	t.Helper()
	rows, err := s.write.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+query)
	require.NoError(t, err)
	defer rows.Close()
	var plan string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		plan += detail + "\n"
	}
	require.NoError(t, rows.Err())
	return plan
}

// BenchmarkQueue measures the queue's throughput in messages per second:
// publishing one by one and in batches, receiving and completing, and the
// whole publish-receive-complete cycle. Enqueue10k publishes 10,000 runs
// in batches of 500, the scheduler's worst minute.
func BenchmarkQueue(b *testing.B) {
	body := []byte(`{"tenantId":"tenant-042","runId":"run_01jnq8w3k5v7x9z2b4d6f8h0jm","attempt":1}`)
	newQueue := func(b *testing.B) *Queue {
		s, err := Open(b.Context(), filepath.Join(b.TempDir(), "herald.db"))
		require.NoError(b, err)
		q := s.Queue()
		b.Cleanup(func() { _ = q.Close(); _ = s.Close() })
		return q
	}
	messages := func(prefix string, n int) []herald.Message {
		out := make([]herald.Message, n)
		for i := range out {
			out[i] = herald.Message{ID: fmt.Sprintf("%s-%07d", prefix, i), Queue: herald.QueueGenerate, Body: body}
		}
		return out
	}
	perSecond := func(b *testing.B, n int) {
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
	}

	b.Run("Publish", func(b *testing.B) {
		q, n := newQueue(b), 0
		for b.Loop() {
			if err := q.Publish(b.Context(), messages(fmt.Sprint("p", n), 1)[0]); err != nil {
				b.Fatal(err)
			}
			n++
		}
		perSecond(b, n)
	})
	b.Run("PublishBatch100", func(b *testing.B) {
		q, n := newQueue(b), 0
		for b.Loop() {
			if err := q.PublishBatch(b.Context(), messages(fmt.Sprint("b", n), 100)); err != nil {
				b.Fatal(err)
			}
			n += 100
		}
		perSecond(b, n)
	})
	b.Run("ReceiveComplete10", func(b *testing.B) {
		q := newQueue(b)
		require.NoError(b, q.PublishBatch(b.Context(), messages("r", 200_000)))
		n := 0
		for b.Loop() {
			ds, err := q.Receive(b.Context(), herald.QueueGenerate, 10, time.Minute)
			if err != nil || len(ds) != 10 {
				b.Fatalf("Receive: %d, %v", len(ds), err)
			}
			for _, d := range ds {
				if err := q.Complete(b.Context(), d); err != nil {
					b.Fatal(err)
				}
			}
			n += 10
		}
		perSecond(b, n)
	})
	b.Run("PublishReceiveComplete", func(b *testing.B) {
		q, n := newQueue(b), 0
		for b.Loop() {
			if err := q.Publish(b.Context(), messages(fmt.Sprint("c", n), 1)[0]); err != nil {
				b.Fatal(err)
			}
			ds, err := q.Receive(b.Context(), herald.QueueGenerate, 1, time.Minute)
			if err != nil || len(ds) != 1 {
				b.Fatalf("Receive: %d, %v", len(ds), err)
			}
			if err := q.Complete(b.Context(), ds[0]); err != nil {
				b.Fatal(err)
			}
			n++
		}
		perSecond(b, n)
	})
	b.Run("PublishReceiveCompleteParallel", func(b *testing.B) {
		q := newQueue(b)
		var n atomic.Int64
		b.SetParallelism(4) // 4 x GOMAXPROCS workers on the one writer connection
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				if err := q.Publish(b.Context(), messages(fmt.Sprint("w", i), 1)[0]); err != nil {
					b.Error(err)
					return
				}
				ds, err := q.Receive(b.Context(), herald.QueueGenerate, 1, time.Minute)
				if err != nil {
					b.Error(err)
					return
				}
				for _, d := range ds {
					if err := q.Complete(b.Context(), d); err != nil {
						b.Error(err)
						return
					}
				}
			}
		})
		perSecond(b, int(n.Load()))
	})
	b.Run("Enqueue10k", func(b *testing.B) {
		q, round := newQueue(b), 0
		for b.Loop() {
			all := messages(fmt.Sprint("e", round), 10_000)
			for i := 0; i < len(all); i += 500 {
				if err := q.PublishBatch(b.Context(), all[i:i+500]); err != nil {
					b.Fatal(err)
				}
			}
			round++
		}
		perSecond(b, 10_000*round)
	})
}
