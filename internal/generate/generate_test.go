package generate

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/scheduler"
	"github.com/heraldreports/herald/internal/sqlite"
)

func TestHandle(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "herald.db"))
	require.NoError(t, err)
	defer store.Close()
	runs := scheduler.NewRuns(store, store.Queue(), nil, time.Now)
	h := NewHandler(runs, nil, time.Minute)
	report := &herald.Report{Meta: herald.Meta{ID: herald.NewID(herald.PrefixReport, time.Now()), TenantID: "acme"}, Name: "r"}
	run, err := runs.RunNow(t.Context(), report, nil, "ana")
	require.NoError(t, err)
	job, err := json.Marshal(herald.GenerateJob{TenantID: "acme", RunID: run.ID, Attempt: 1})
	require.NoError(t, err)

	require.NoError(t, h.Handle(t.Context(), job))
	got, err := herald.GetRecord[herald.Run](t.Context(), store, "acme", run.ID)
	require.NoError(t, err)
	assert.Equal(t, herald.RunSucceeded, got.Status)
	assert.NotEmpty(t, got.Reason, "a run without artifacts says why")
	assert.False(t, got.StartedAt.IsZero())
	assert.False(t, got.FinishedAt.IsZero())
	assert.True(t, got.DueAt.IsZero())

	require.NoError(t, h.Handle(t.Context(), job), "a redelivered job is done without running again")
	again, err := herald.GetRecord[herald.Run](t.Context(), store, "acme", run.ID)
	require.NoError(t, err)
	assert.Equal(t, got.Version(), again.Version(), "untouched")

	gone, _ := json.Marshal(herald.GenerateJob{TenantID: "acme", RunID: herald.NewID(herald.PrefixRun, time.Now()), Attempt: 1})
	require.NoError(t, h.Handle(t.Context(), gone), "a job for a deleted run is done")
	for _, bad := range []string{`{`, `{}`, `{"tenantId":"acme"}`} {
		assert.Equal(t, herald.CodeInvalid, herald.CodeOf(h.Handle(t.Context(), []byte(bad))), bad)
	}
}
