package storetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

func testConcurrency(t *testing.T, newStore func(t *testing.T) Store) {
	t.Run("read-modify-replace loses no update", func(t *testing.T) {
		testNoLostUpdate(t, newStore(t))
	})
	t.Run("concurrent creates of one id: exactly one wins", func(t *testing.T) {
		testCreateRace(t, newStore(t))
	})
	t.Run("concurrent creates of distinct ids all succeed", func(t *testing.T) {
		testParallelCreates(t, newStore(t))
	})
}

// testNoLostUpdate has workers increment a counter with optimistic
// concurrency while a reader checks that an ETag always comes with the
// same body.
func testNoLostUpdate(t *testing.T, s Store) {
	const workers, increments = 16, 5
	ctx := t.Context()
	counter := itemOf(t, newRun(acme, newID(herald.PrefixRun, 1), "", herald.RunRunning, at(0)))
	create(t, s, counter)

	// increment adds one to the run's row count, retrying on conflicts.
	increment := func() error {
		for range 10_000 {
			it, err := s.Get(ctx, counter.Kind, counter.TenantID, counter.ID)
			if err != nil {
				return err
			}
			var run herald.Run
			if err := json.Unmarshal(it.Body, &run); err != nil {
				return err
			}
			run.Rows++
			if it.Body, err = json.Marshal(&run); err != nil {
				return err
			}
			if _, err = s.Replace(ctx, it); !herald.Is(err, herald.CodePreconditionFailed) {
				return err
			}
		}
		return fmt.Errorf("gave up after 10000 conflicts")
	}

	// A reader checks that an ETag always comes with the same body.
	stop := make(chan struct{})
	seen := map[string]int64{}
	var reader sync.WaitGroup
	reader.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			it, err := s.Get(ctx, counter.Kind, counter.TenantID, counter.ID)
			if !assert.NoError(t, err) {
				return
			}
			var run herald.Run
			if !assert.NoError(t, json.Unmarshal(it.Body, &run)) {
				return
			}
			if prev, ok := seen[it.ETag]; ok {
				assert.Equal(t, prev, run.Rows, "ETag %s came with two different bodies", it.ETag)
			}
			seen[it.ETag] = run.Rows
		}
	})

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range increments {
				if err := increment(); !assert.NoError(t, err) {
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	reader.Wait()

	var run herald.Run
	require.NoError(t, json.Unmarshal(get(t, s, counter.Kind, counter.TenantID, counter.ID).Body, &run))
	assert.Equal(t, int64(workers*increments), run.Rows)
}

func testCreateRace(t *testing.T, s Store) {
	const workers = 16
	id := newID(herald.PrefixReport, 2)
	var wins, conflicts atomic.Int32
	var winner atomic.Value
	items := make([]herald.Item, workers)
	for w := range items {
		items[w] = itemOf(t, newReport(acme, id, fmt.Sprintf("Writer %d", w), at(0)))
	}
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Go(func() {
			etag, err := s.Create(t.Context(), it)
			switch {
			case err == nil:
				wins.Add(1)
				it.ETag = etag
				winner.Store(it)
			case herald.Is(err, herald.CodeConflict):
				conflicts.Add(1)
			default:
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int32(1), wins.Load(), "successful creates")
	require.Equal(t, int32(workers-1), conflicts.Load(), "conflicts")
	requireStored(t, s, winner.Load().(herald.Item))
}

func testParallelCreates(t *testing.T, s Store) {
	const workers = 16
	var wg sync.WaitGroup
	for w := range workers {
		it := itemOf(t, newReport(acme, newID(herald.PrefixReport, 100+w), "Parallel", at(0)))
		wg.Go(func() {
			_, err := s.Create(t.Context(), it)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	page, err := s.List(t.Context(), herald.ListQuery{Kind: herald.KindReport, TenantID: acme, Limit: 100})
	require.NoError(t, err)
	assert.Len(t, page.Items, workers)
}
