package generate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// BlobSweeper is what the retention sweep needs of the blob store.
type BlobSweeper interface {
	List(ctx context.Context, prefix string, fn func(herald.BlobInfo) error) error
	Delete(ctx context.Context, path string) error
}

// RetentionStats counts what one sweep did.
type RetentionStats struct {
	Scanned int // blobs looked at
	Deleted int // blobs deleted
	Runs    int // run records whose artifacts were marked expired
	Foreign int // blobs whose path is not an artifact path (left alone)
}

// Retention deletes artifact files older than their tenant's retention
// (Tenant.RetentionDays, default 90) and marks them expired on their run,
// so the run keeps its history and a download answers that the file
// expired. It walks the blob store (paths are tenant/report/run/artifact),
// so it needs no cross-tenant query of the record store.
type Retention struct {
	store herald.Documents
	blobs BlobSweeper
	log   *slog.Logger
	now   func() time.Time
	batch int // expired runs gathered per listing
}

// NewRetention returns the retention sweep.
func NewRetention(store herald.Documents, blobs BlobSweeper, log *slog.Logger, now func() time.Time) *Retention {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Retention{store: store, blobs: blobs, log: log, now: now, batch: sweepBatch}
}

// expiredRun gathers the expired blobs of one run (they are listed together).
type expiredRun struct {
	tenantID, runID string
	artifacts       []string // artifact ids
	paths           []string
}

// sweepBatch bounds the expired runs gathered before they are processed;
// the listing then starts again (what was deleted is not listed again).
const sweepBatch = 500

// errBatchFull stops a listing whose batch is full.
var errBatchFull = errors.New("sweep batch full")

// RunOnce sweeps every blob once. The run record is marked before its
// files are deleted: a sweep that stops in between leaves files that the
// next sweep deletes, never a run listing files that silently vanished.
// Files are deleted between listings, not while one is in progress.
func (r *Retention) RunOnce(ctx context.Context) (RetentionStats, error) {
	var st RetentionStats
	now := r.now()
	days := map[string]int{}
	var errs []error
	for {
		batch, err := r.gather(ctx, now, days, &st)
		full := errors.Is(err, errBatchFull)
		if err != nil && !full {
			errs = append(errs, fmt.Errorf("listing artifacts: %w", err))
		}
		for _, e := range batch {
			if err := r.expire(ctx, e, now, &st); err != nil {
				errs = append(errs, err)
			}
		}
		if !full || len(errs) > 0 || ctx.Err() != nil {
			break
		}
	}
	if st.Deleted > 0 || len(errs) > 0 {
		r.log.Info("artifact retention sweep", "scanned", st.Scanned, "deleted", st.Deleted, "runs", st.Runs, "errors", len(errs))
	}
	return st, errors.Join(errs...)
}

// gather lists blobs and groups the expired ones by run (a run's files
// are listed together), up to r.batch runs.
func (r *Retention) gather(ctx context.Context, now time.Time, days map[string]int, st *RetentionStats) ([]*expiredRun, error) {
	var batch []*expiredRun
	var cur *expiredRun
	err := r.blobs.List(ctx, "", func(b herald.BlobInfo) error {
		st.Scanned++
		parts := strings.Split(b.Path, "/")
		if len(parts) != 4 {
			st.Foreign++
			return nil
		}
		tenantID, runID, artifactID := parts[0], parts[2], parts[3]
		keep, err := r.retentionDays(ctx, days, tenantID)
		if err != nil {
			return err
		}
		if !b.Modified.Before(now.AddDate(0, 0, -keep)) {
			return nil
		}
		if cur == nil || cur.tenantID != tenantID || cur.runID != runID {
			if len(batch) == r.batch {
				return errBatchFull
			}
			cur = &expiredRun{tenantID: tenantID, runID: runID}
			batch = append(batch, cur)
		}
		cur.artifacts = append(cur.artifacts, artifactID)
		cur.paths = append(cur.paths, b.Path)
		return nil
	})
	return batch, err
}

// retentionDays is a tenant's retention, read once per sweep.
func (r *Retention) retentionDays(ctx context.Context, cache map[string]int, tenantID string) (int, error) {
	if d, ok := cache[tenantID]; ok {
		return d, nil
	}
	d := herald.DefaultRetentionDays
	t, err := herald.GetRecord[herald.Tenant](ctx, r.store, tenantID, tenantID)
	switch {
	case err == nil && t.RetentionDays > 0:
		d = t.RetentionDays
	case err != nil && !herald.Is(err, herald.CodeNotFound):
		return 0, fmt.Errorf("reading tenant %s: %w", tenantID, err)
	}
	cache[tenantID] = d
	return d, nil
}

// expire marks a run's artifacts expired, then deletes their files.
func (r *Retention) expire(ctx context.Context, e *expiredRun, now time.Time, st *RetentionStats) error {
	marked, err := r.markExpired(ctx, e, now)
	if err != nil {
		return err
	}
	if marked {
		st.Runs++
	}
	for _, p := range e.paths {
		if err := r.blobs.Delete(ctx, p); err != nil {
			return fmt.Errorf("deleting %s: %w", p, err)
		}
		st.Deleted++
	}
	return nil
}

// markExpired sets ExpiredAt on the run's artifacts, retrying when the run
// changed concurrently. A run that no longer exists needs no mark.
func (r *Retention) markExpired(ctx context.Context, e *expiredRun, now time.Time) (bool, error) {
	for range 5 {
		run, err := herald.GetRecord[herald.Run](ctx, r.store, e.tenantID, e.runID)
		if herald.Is(err, herald.CodeNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("reading run %s: %w", e.runID, err)
		}
		changed := false
		for i := range run.Artifacts {
			a := &run.Artifacts[i]
			if a.ExpiredAt.IsZero() && slices.Contains(e.artifacts, a.ID) {
				a.ExpiredAt = herald.At(now)
				changed = true
			}
		}
		if !changed {
			return false, nil
		}
		run.Touch("retention", herald.At(now))
		err = herald.ReplaceRecord(ctx, r.store, run)
		if herald.Is(err, herald.CodePreconditionFailed) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("marking run %s: %w", e.runID, err)
		}
		return true, nil
	}
	return false, fmt.Errorf("marking run %s: it kept changing", e.runID)
}

// Run sweeps once at start and then every interval until ctx ends.
func (r *Retention) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("artifact retention sweep failed; trying again at the next sweep", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
