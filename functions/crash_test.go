package main

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/fileblob"
	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/sqlite"
)

const crashTenant = "crash-test"

// TestCrashRecovery kills the standalone binary with SIGKILL at random
// moments while 500 runs are due, restarts it, and checks that every run
// exists exactly once and reaches a terminal state.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary repeatedly")
	}
	bin := filepath.Join(t.TempDir(), "herald")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	dir := t.TempDir()
	due := time.Now().Add(-5 * time.Second)
	schedules := seedDueSchedules(t, filepath.Join(dir, "herald.db"), 500, due)
	env := append(os.Environ(), "HERALD_DATA_DIR="+dir, "HERALD_ADDR=127.0.0.1:0", "HERALD_LOG_LEVEL=warn",
		"HERALD_SCAN_INTERVAL=100ms", "HERALD_RUN_LEASE=2s", "HERALD_QUEUE_LOCK=2s")

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)) //nolint:gosec // kill timing, not security
	for i := range 6 {
		cmd := exec.Command(bin, "serve")
		cmd.Env = env
		require.NoError(t, cmd.Start())
		wait := time.Duration(50+rng.IntN(700)) * time.Millisecond
		time.Sleep(wait)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		t.Logf("kill %d after %s", i+1, wait)
	}

	cmd := exec.Command(bin, "serve")
	cmd.Env = append(slices.Clone(env), "HERALD_LOG_LEVEL=info")
	var output lockedBuffer
	cmd.Stdout, cmd.Stderr = &output, &output
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool { return strings.Contains(output.String(), `"msg":"herald started"`) },
		30*time.Second, 20*time.Millisecond, "the last start comes up: %s", &output)
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "herald.db"))
	require.NoError(t, err)
	defer store.Close()
	var runs []*herald.Run
	require.Eventually(t, func() bool {
		runs = listAllRuns(t, store)
		if len(runs) < len(schedules) {
			return false
		}
		for _, r := range runs {
			if !r.Status.Terminal() || r.DeliveryQueuedAt.IsZero() {
				return false
			}
		}
		return true
	}, 90*time.Second, 200*time.Millisecond, "every run reaches a terminal state and has its delivery queued (by recovery when a kill came in between)")
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "graceful stop: %s", output.String())

	runs = listAllRuns(t, store)
	require.Len(t, runs, len(schedules), "one run per due schedule, none twice")
	perSchedule := map[string]int{}
	attempts := 0
	for _, r := range runs {
		perSchedule[r.ScheduleID]++
		assert.Equal(t, herald.ScheduledRunID(crashTenant, r.ScheduleID, r.ScheduledFor), r.ID)
		assert.Equal(t, herald.RunSucceeded, r.Status, "run %s: %s", r.ID, r.Reason)
		attempts += r.Attempt
	}
	for _, s := range schedules {
		assert.Equal(t, 1, perSchedule[s.ID], "schedule %s", s.ID)
		got, err := herald.GetRecord[herald.Schedule](context.Background(), store, crashTenant, s.ID)
		require.NoError(t, err)
		assert.True(t, got.NextRunAt.After(time.Now()), "advanced past the fire time")
	}
	stats, err := store.Queue().Stats(context.Background(), herald.QueueGenerate)
	require.NoError(t, err)
	assert.Zero(t, stats.DeadLettered, "no job dead-lettered")

	// One set of files per run, whatever attempt wrote it, and nothing else.
	files, err := fileblob.New(fileblob.Config{Dir: filepath.Join(dir, "artifacts"), BaseURL: "http://127.0.0.1:1", Key: make([]byte, fileblob.MinKeyBytes)})
	require.NoError(t, err)
	defer files.Close()
	stored := map[string]bool{}
	require.NoError(t, files.List(context.Background(), crashTenant+"/", func(b herald.BlobInfo) error {
		stored[b.Path] = true
		return nil
	}))
	want := 0
	for _, r := range runs {
		require.Len(t, r.Artifacts, 2, "a CSV and its metadata: %+v", r.Artifacts)
		for _, a := range r.Artifacts {
			want++
			assert.True(t, stored[herald.ArtifactPath(crashTenant, r.ReportID, r.ID, a.ID)], "run %s's %s is stored", r.ID, a.Name)
		}
	}
	assert.Len(t, stored, want, "no file beyond the runs' artifacts")
	deliver, err := store.Queue().Stats(context.Background(), herald.QueueDeliver)
	require.NoError(t, err)
	assert.Equal(t, len(runs), deliver.Visible+deliver.Scheduled, "one delivery job per run")
	t.Logf("%d runs, %d attempts in all after 6 kills", len(runs), attempts)
}

// seedDueSchedules stores n yearly schedules whose stored next run is due.
func seedDueSchedules(t *testing.T, path string, n int, due time.Time) []*herald.Schedule {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, path)
	require.NoError(t, err)
	defer store.Close()
	now := herald.At(time.Now())
	ds := &herald.DataSource{Meta: herald.Meta{ID: herald.NewID(herald.PrefixDataSource, now.Time), TenantID: crashTenant},
		Name: "demo", SourceKind: herald.DataSourceDemo}
	ds.Normalize()
	report := &herald.Report{Meta: herald.Meta{ID: herald.NewID(herald.PrefixReport, now.Time), TenantID: crashTenant},
		Name: "crash", DataSourceID: ds.ID, Query: "SELECT region, COUNT(*) AS orders FROM orders GROUP BY region", Formats: []herald.Format{herald.FormatCSV}}
	report.Normalize()
	for _, r := range []interface {
		herald.Record
		Touch(string, herald.Instant)
	}{ds, report} {
		r.Touch("test", now)
		require.NoError(t, herald.CreateRecord(ctx, store, r))
	}
	reportID := report.ID
	out := make([]*herald.Schedule, 0, n)
	for range n {
		s := &herald.Schedule{
			Meta:     herald.Meta{ID: herald.NewID(herald.PrefixSchedule, now.Time), TenantID: crashTenant},
			ReportID: reportID, Name: "yearly", Cron: "0 0 1 1 *", Timezone: "UTC", Enabled: true,
			NextRunAt: herald.At(due), DueAt: herald.At(due),
		}
		s.Normalize()
		s.Touch("test", now)
		require.NoError(t, herald.CreateRecord(ctx, store, s))
		out = append(out, s)
	}
	return out
}

func listAllRuns(t *testing.T, store *sqlite.Store) []*herald.Run {
	t.Helper()
	var all []*herald.Run
	cursor := ""
	for {
		page, next, err := herald.ListRecords[herald.Run](context.Background(), store, herald.ListQuery{TenantID: crashTenant, Limit: herald.MaxListLimit, Cursor: cursor})
		require.NoError(t, err)
		all = append(all, page...)
		if next == "" {
			return all
		}
		cursor = next
	}
}
