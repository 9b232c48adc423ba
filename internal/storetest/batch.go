package storetest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

func testBatch(t *testing.T, newStore func(t *testing.T) Store) {
	t.Run("each write keeps its single-call semantics", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		existing := itemOf(t, sampleRecord(t, herald.KindReport, acme, newID(herald.PrefixReport, 1), 1))
		existing.ETag = create(t, s, existing)
		stale := itemOf(t, sampleRecord(t, herald.KindReport, acme, newID(herald.PrefixReport, 2), 2))
		staleETag := create(t, s, stale)
		stale.ETag = staleETag
		_, err := s.Replace(ctx, stale) // moves it on: staleETag is now stale
		require.NoError(t, err)
		stale.ETag = staleETag

		fresh := itemOf(t, sampleRecord(t, herald.KindReport, acme, newID(herald.PrefixReport, 3), 3))
		other := itemOf(t, sampleRecord(t, herald.KindReport, "globex", existing.ID, 4)) // same id, other tenant
		updated := existing
		updated.Body = withField(t, existing.Body, "name", "renamed in a batch")
		missing := itemOf(t, sampleRecord(t, herald.KindReport, acme, newID(herald.PrefixReport, 5), 5))
		missing.ETag = "1"
		invalid := fresh
		invalid.TenantID = "not a tenant!"

		writes := []herald.Write{
			{Item: fresh},                  // 0: created
			{Item: fresh},                  // 1: the same id again: conflict
			{Item: existing},               // 2: exists: conflict
			{Item: other},                  // 3: another tenant: created
			{Item: updated, Replace: true}, // 4: current ETag: replaced
			{Item: stale, Replace: true},   // 5: stale ETag: precondition failed
			{Item: missing, Replace: true}, // 6: absent: not found
			{Item: invalid},                // 7: invalid key
		}
		results, err := s.WriteBatch(ctx, writes)
		require.NoError(t, err)
		require.Len(t, results, len(writes))
		want := []herald.Code{"", herald.CodeConflict, herald.CodeConflict, "", "", herald.CodePreconditionFailed, herald.CodeNotFound, herald.CodeInvalid}
		for i, res := range results {
			assert.Equal(t, want[i], herald.CodeOf(res.Err), "write %d: %v", i, res.Err)
			assert.Equal(t, res.Err == nil, res.ETag != "", "write %d: an ETag exactly on success", i)
		}

		got, err := s.Get(ctx, herald.KindReport, acme, existing.ID)
		require.NoError(t, err)
		assert.Equal(t, results[4].ETag, got.ETag)
		var body map[string]any
		require.NoError(t, json.Unmarshal(got.Body, &body))
		assert.Equal(t, "renamed in a batch", body["name"])
		for _, it := range []herald.Item{fresh, other} {
			_, err := s.Get(ctx, it.Kind, it.TenantID, it.ID)
			assert.NoError(t, err, "created despite failures beside it: a batch is not a transaction")
		}
		_, err = s.Get(ctx, herald.KindReport, acme, missing.ID)
		requireCode(t, err, herald.CodeNotFound, "a failed replace creates nothing")
	})

	t.Run("limits", func(t *testing.T) {
		s := newStore(t)
		results, err := s.WriteBatch(t.Context(), nil)
		require.NoError(t, err)
		assert.Empty(t, results)
		_, err = s.WriteBatch(t.Context(), make([]herald.Write, herald.MaxBatch+1))
		requireCode(t, err, herald.CodeInvalid, "over MaxBatch")
	})
}
