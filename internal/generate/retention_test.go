package generate

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

func TestRetentionSweep(t *testing.T) {
	e := newEnv(t, nil)
	acme := e.runNow(e.report(`SELECT id, name FROM customers ORDER BY id LIMIT 5`, nil), nil)
	require.Equal(t, herald.RunSucceeded, acme.Status)

	// Tenant globex keeps artifacts 30 days; acme has no tenant record (default 90).
	globex := &herald.Tenant{Meta: herald.Meta{ID: "globex", TenantID: "globex"}, Name: "Globex", RetentionDays: 30}
	e.create(globex)
	gRun := &herald.Run{
		Meta: herald.Meta{ID: herald.NewID(herald.PrefixRun, time.Now()), TenantID: "globex"}, ReportID: herald.NewID(herald.PrefixReport, time.Now()),
		Trigger: herald.TriggerManual, Status: herald.RunSucceeded, Attempt: 1,
		Artifacts: []herald.Artifact{{ID: herald.NewID(herald.PrefixArtifact, time.Now()), Format: herald.FormatCSV, Name: "a.csv"}},
	}
	e.create(gRun)
	_, err := e.blobs.Put(t.Context(), herald.ArtifactPath("globex", gRun.ReportID, gRun.ID, gRun.Artifacts[0].ID), bytes.NewReader([]byte("x\r\n")), herald.BlobPut{})
	require.NoError(t, err)
	// An orphan: a file whose run record does not exist (an attempt that died).
	orphan := herald.ArtifactPath("globex", gRun.ReportID, herald.NewID(herald.PrefixRun, time.Now()), herald.NewID(herald.PrefixArtifact, time.Now()))
	_, err = e.blobs.Put(t.Context(), orphan, bytes.NewReader([]byte("y")), herald.BlobPut{})
	require.NoError(t, err)

	sweep := func(after time.Duration) RetentionStats {
		t.Helper()
		r := NewRetention(e.store, e.blobs, nil, func() time.Time { return time.Now().Add(after) })
		st, err := r.RunOnce(t.Context())
		require.NoError(t, err)
		return st
	}
	st := sweep(29 * 24 * time.Hour)
	assert.Zero(t, st.Deleted, "nothing is older than 29 days")
	assert.Equal(t, 5, st.Scanned)

	st = sweep(31 * 24 * time.Hour)
	assert.Equal(t, 2, st.Deleted, "globex's two files; acme keeps its files for 90 days")
	assert.Equal(t, 1, st.Runs)
	assert.Len(t, e.stored(acme), 3)
	got := e.reload(gRun)
	assert.False(t, got.Artifacts[0].ExpiredAt.IsZero(), "the run says its file expired")

	st = sweep(91 * 24 * time.Hour)
	assert.Equal(t, 3, st.Deleted)
	assert.Empty(t, e.stored(acme))
	for _, a := range e.reload(acme).Artifacts {
		assert.False(t, a.ExpiredAt.IsZero())
	}
	assert.Zero(t, sweep(200*24*time.Hour).Scanned, "nothing left")
}

func TestRetentionSweepGoesOnPastAFailingTenant(t *testing.T) {
	e := newEnv(t, nil)
	for _, tenant := range []string{"aaa", "bbb", "ccc"} {
		for i := range 3 {
			p := herald.ArtifactPath(tenant, "rpt_x", herald.DerivedID(herald.PrefixRun, time.Now(), tenant, strconv.Itoa(i)), "art_x")
			_, err := e.blobs.Put(context.Background(), p, bytes.NewReader(nil), herald.BlobPut{})
			require.NoError(t, err)
		}
	}
	// Tenant bbb's record cannot be read (it is not valid JSON for a tenant).
	_, err := e.store.Create(t.Context(), herald.Item{Kind: herald.KindTenant, TenantID: "bbb", ID: "bbb", Body: []byte(`{"retentionDays": "ninety"}`)})
	require.NoError(t, err)
	r := NewRetention(e.store, e.blobs, nil, func() time.Time { return time.Now().Add(100 * 24 * time.Hour) })
	st, err := r.RunOnce(t.Context())
	require.Error(t, err, "the failure is reported")
	assert.Contains(t, err.Error(), "tenant bbb")
	assert.Equal(t, 6, st.Deleted, "tenants aaa and ccc are swept all the same")
	assert.Equal(t, 9, st.Scanned)
	st, _ = r.RunOnce(t.Context())
	assert.Equal(t, 3, st.Scanned, "bbb's files wait for a sweep that can read its retention")
}
