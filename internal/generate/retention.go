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
}

// NewRetention returns the retention sweep.
func NewRetention(store herald.Documents, blobs BlobSweeper, log *slog.Logger, now func() time.Time) *Retention {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Retention{store: store, blobs: blobs, log: log, now: now}
}

// expiredRun gathers the expired blobs of one run (they are listed together).
type expiredRun struct {
	tenantID, runID string
	artifacts       []string // artifact ids
	paths           []string
}

// maxSweepErrors ends a sweep that keeps failing (the store is down).
const maxSweepErrors = 100

// errTooManyErrors stops the listing of a sweep that keeps failing.
var errTooManyErrors = errors.New("too many errors")

// RunOnce sweeps every blob once, in one listing: a run's files are listed
// together and handled as soon as the listing moves past them (stores
// allow deleting what was listed while listing; see blobtest). The run
// record is marked before its files are deleted: a sweep that stops in
// between leaves files that the next sweep deletes, never a run listing
// files that silently vanished. A failure with one run or one tenant is
// counted and the sweep goes on.
func (r *Retention) RunOnce(ctx context.Context) (RetentionStats, error) {
	sw := sweep{r: r, now: r.now(), days: map[string]int{}}
	err := r.blobs.List(ctx, "", func(b herald.BlobInfo) error { return sw.visit(ctx, b) })
	sw.flush(ctx)
	if err != nil && !errors.Is(err, errTooManyErrors) {
		sw.errs = append(sw.errs, fmt.Errorf("listing artifacts: %w", err))
	}
	if sw.st.Deleted > 0 || len(sw.errs) > 0 {
		r.log.Info("artifact retention sweep", "scanned", sw.st.Scanned, "deleted", sw.st.Deleted, "runs", sw.st.Runs, "errors", len(sw.errs))
	}
	return sw.st, errors.Join(sw.errs...)
}

// sweep is the state of one RunOnce.
type sweep struct {
	r    *Retention
	now  time.Time
	days map[string]int // retention per tenant; -1: unknown (its lookup failed), skip
	cur  *expiredRun
	st   RetentionStats
	errs []error
}

// visit looks at one listed blob.
func (sw *sweep) visit(ctx context.Context, b herald.BlobInfo) error {
	sw.st.Scanned++
	parts := strings.Split(b.Path, "/")
	if len(parts) != 4 {
		sw.st.Foreign++
		return nil
	}
	tenantID, runID, artifactID := parts[0], parts[2], parts[3]
	if sw.cur != nil && (sw.cur.tenantID != tenantID || sw.cur.runID != runID) {
		sw.flush(ctx)
	}
	keep := sw.retentionDays(ctx, tenantID)
	if keep < 0 || !b.Modified.Before(sw.now.AddDate(0, 0, -keep)) {
		return sw.tooMany()
	}
	if sw.cur == nil {
		sw.cur = &expiredRun{tenantID: tenantID, runID: runID}
	}
	sw.cur.artifacts = append(sw.cur.artifacts, artifactID)
	sw.cur.paths = append(sw.cur.paths, b.Path)
	return sw.tooMany()
}

// flush expires the run gathered so far.
func (sw *sweep) flush(ctx context.Context) {
	if sw.cur == nil {
		return
	}
	if err := sw.r.expire(ctx, sw.cur, sw.now, &sw.st); err != nil {
		sw.errs = append(sw.errs, err)
	}
	sw.cur = nil
}

func (sw *sweep) tooMany() error {
	if len(sw.errs) >= maxSweepErrors {
		return errTooManyErrors
	}
	return nil
}

// retentionDays is a tenant's retention, read once per sweep; -1 when it
// could not be read (that tenant's files are left for the next sweep).
func (sw *sweep) retentionDays(ctx context.Context, tenantID string) int {
	if d, ok := sw.days[tenantID]; ok {
		return d
	}
	d, err := sw.r.retentionDays(ctx, tenantID)
	if err != nil {
		sw.errs = append(sw.errs, err)
		d = -1
	}
	sw.days[tenantID] = d
	return d
}

// retentionDays reads a tenant's retention (the default when the tenant
// has no record).
func (r *Retention) retentionDays(ctx context.Context, tenantID string) (int, error) {
	t, err := herald.GetRecord[herald.Tenant](ctx, r.store, tenantID, tenantID)
	switch {
	case err == nil && t.RetentionDays > 0:
		return t.RetentionDays, nil
	case err != nil && !herald.Is(err, herald.CodeNotFound):
		return 0, fmt.Errorf("reading tenant %s: %w", tenantID, err)
	}
	return herald.DefaultRetentionDays, nil
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
