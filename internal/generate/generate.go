// Package generate turns a queued run into its artifacts. The generation
// job arrives through the queue (standalone workers or the GenerateReport
// function); the handler takes the run with a lease, runs the report's
// query once, feeds every row to the CSV and PDF renderers in the same pass,
// streams each file into blob storage, and finishes the run with its
// artifacts, row count, timings per phase and a classified reason. Failures
// that may pass (a database or storage outage) retry later with back-off;
// the others fail the run at once.
package generate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/scheduler"
)

// Lifecycle is what the handler needs of the run lifecycle.
type Lifecycle interface {
	Start(ctx context.Context, job herald.GenerateJob, lease time.Duration) (*herald.Run, error)
	Renew(ctx context.Context, r *herald.Run, lease time.Duration) error
	Finish(ctx context.Context, r *herald.Run, status herald.RunStatus, reason string) error
	RetryLater(ctx context.Context, r *herald.Run, reason string, delay time.Duration) error
	Interrupt(ctx context.Context, r *herald.Run, reason string) error
}

// Column describes one result column as the query runner reports it.
type Column struct {
	Name   string
	Type   string // a render.Type name: string, int, float, decimal, bool, date, datetime, json, bytes, unknown
	DBType string
}

// Rows streams a query's result (see datasource.Rows).
type Rows interface {
	Columns() []Column
	Next() bool
	Values() []any
	Err() error
	Truncated() bool
	Close() error
}

// Querier runs a report's query read-only against its data source, under
// the data source's statement timeout and row cap. Errors are
// *herald.Error values whose code classifies them; a statement timeout
// also matches context.DeadlineExceeded.
type Querier interface {
	Query(ctx context.Context, ds *herald.DataSource, query string, params map[string]any, types map[string]herald.ParamType) (Rows, error)
}

// BlobWriter stores artifact files. Put streams r, computes its SHA-256 and
// replaces any blob at path atomically.
type BlobWriter interface {
	Put(ctx context.Context, path string, r io.Reader, opts herald.BlobPut) (herald.BlobInfo, error)
}

// BlobStore is what generation needs of the blob store: it writes files,
// and deletes the files of attempts that did not become the run's result.
type BlobStore interface {
	BlobWriter
	BlobSweeper
}

// Config is what NewHandler needs.
type Config struct {
	Runs    Lifecycle
	Store   herald.Documents
	Querier Querier
	Blobs   BlobStore
	Log     *slog.Logger
	// Lease is how long a run stays taken without renewal (0: herald.DefaultLease).
	Lease time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// PDFMaxRows caps the rows a PDF draws (0: the renderer's default);
	// the CSV always holds every row.
	PDFMaxRows int64
	// RetryDelay is the wait before the next attempt after a failure that
	// may pass, given the attempt that failed (nil: 30 s, then 2 min).
	RetryDelay func(attempt int) time.Duration
}

// Handler handles generation jobs.
type Handler struct {
	cfg Config
	log *slog.Logger
}

// NewHandler returns a generation handler.
func NewHandler(cfg Config) *Handler {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Lease <= 0 {
		cfg.Lease = herald.DefaultLease
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RetryDelay == nil {
		cfg.RetryDelay = DefaultRetryDelay
	}
	return &Handler{cfg: cfg, log: cfg.Log}
}

// DefaultRetryDelay waits 30 seconds after a first failed attempt and four
// times longer after each further one.
func DefaultRetryDelay(attempt int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 4
	}
	return d
}

// errLeaseLost cancels a generation whose run was canceled or taken over
// by recovery while it worked.
var errLeaseLost = errors.New("the run's lease was lost")

// Handle processes one generation job body. A job for a run that has
// finished, was canceled or moved to another attempt is done at once
// (redelivery never runs a run twice). Each attempt writes its own paths
// and the files of attempts that do not become the run's result are
// deleted, so a run lists and keeps exactly one set.
func (h *Handler) Handle(ctx context.Context, body []byte) error {
	var job herald.GenerateJob
	if err := json.Unmarshal(body, &job); err != nil || job.RunID == "" || job.TenantID == "" {
		return herald.Errorf(herald.CodeInvalid, "generation job is malformed")
	}
	log := h.log.With("tenantId", job.TenantID, "runId", job.RunID, "attempt", job.Attempt)
	run, err := h.cfg.Runs.Start(ctx, job, h.cfg.Lease)
	if scheduler.IsStale(err) {
		log.Info("generation job no longer applies", "reason", err.Error())
		return nil
	}
	if err != nil {
		return fmt.Errorf("starting run %s: %w", job.RunID, err)
	}
	log = log.With("reportId", run.ReportID, "scheduleId", run.ScheduleID)

	gctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	snapshot := *run // the keeper renews run while generation reads its own copy
	stopKeeper := h.keepLease(gctx, cancel, run, log)
	res := h.generate(gctx, &snapshot, log)
	stopKeeper()

	switch {
	case errors.Is(context.Cause(gctx), errLeaseLost):
		log.Warn("run changed while generating (canceled or recovered), or its lease could not be renewed; its result is dropped")
		h.discard(ctx, res.stored, log)
		return nil
	case ctx.Err() != nil && (res.failure != nil || len(res.artifacts) == 0):
		// Shutting down mid-run: give the run back at once, without
		// counting the attempt as failed.
		h.discard(ctx, res.stored, log)
		if err := h.cfg.Runs.Interrupt(detached(ctx), run, "interrupted by a shutdown"); err != nil && !scheduler.IsStale(err) {
			return fmt.Errorf("handing back run %s: %w", run.ID, err)
		}
		log.Info("shutting down: run handed back for its next attempt")
		return nil // the next attempt's job is published
	}
	// A complete result is recorded even when shutdown began meanwhile.
	return h.finish(detached(ctx), run, res, log)
}

// finishTimeout bounds recording a result once its context has ended.
const finishTimeout = 30 * time.Second

// detached is ctx without its cancellation, bounded by finishTimeout.
func detached(ctx context.Context) context.Context {
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	context.AfterFunc(c, cancel)
	return c
}

// discard deletes files an attempt stored but that are not the run's
// result (best effort: retention deletes what is left).
func (h *Handler) discard(ctx context.Context, paths []string, log *slog.Logger) {
	ctx = detached(ctx)
	for _, p := range paths {
		if err := h.cfg.Blobs.Delete(ctx, p); err != nil {
			log.Warn("deleting a file of a dropped attempt failed; retention will", "path", p, "error", err.Error())
		}
	}
}

// tidy deletes the files under the run's folder that its record does not
// list: those of earlier attempts that outlived their lease.
func (h *Handler) tidy(ctx context.Context, run *herald.Run, log *slog.Logger) {
	keep := make(map[string]bool, len(run.Artifacts))
	for _, a := range run.Artifacts {
		keep[herald.ArtifactPath(run.TenantID, run.ReportID, run.ID, a.ID)] = true
	}
	var stale []string
	err := h.cfg.Blobs.List(ctx, herald.ArtifactPath(run.TenantID, run.ReportID, run.ID, ""), func(b herald.BlobInfo) error {
		if !keep[b.Path] {
			stale = append(stale, b.Path)
		}
		return nil
	})
	if err != nil {
		log.Warn("listing the run's files failed; retention will delete leftovers", "error", err.Error())
	}
	h.discard(ctx, stale, log)
}

// keepLease renews the run's lease at a third of its length until the
// returned stop is called. When the run changed under it, or renewals kept
// failing until the lease is about to run out (recovery may give the run
// to another worker then), it cancels ctx with errLeaseLost.
func (h *Handler) keepLease(ctx context.Context, cancel context.CancelCauseFunc, run *herald.Run, log *slog.Logger) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(h.cfg.Lease / 3)
		defer t.Stop()
		held := time.Now().Add(h.cfg.Lease) // a little before the stored lease: Start wrote it first
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			renewed := time.Now()
			err := h.cfg.Runs.Renew(ctx, run, h.cfg.Lease)
			switch {
			case err == nil:
				held = renewed.Add(h.cfg.Lease)
			case scheduler.IsStale(err):
				cancel(errLeaseLost)
				return
			case time.Until(held) < h.cfg.Lease/2: // one more failed renewal and it would expire
				log.Error("the run's lease could not be renewed and is about to expire; stopping", "error", err.Error())
				cancel(errLeaseLost)
				return
			default:
				log.Warn("renewing the run's lease failed; trying again", "error", err.Error())
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// finish records the result on the run and ends it: succeeded, failed, or
// queued again for a later attempt.
func (h *Handler) finish(ctx context.Context, run *herald.Run, res result, log *slog.Logger) error {
	run.Rows, run.Truncated, run.Timings = res.rows, res.truncated, res.timings
	run.Artifacts = res.artifacts
	if run.Artifacts == nil {
		run.Artifacts = []herald.Artifact{}
	}
	var err error
	switch {
	case res.failure == nil:
		err = h.cfg.Runs.Finish(ctx, run, herald.RunSucceeded, res.note)
	case res.failure.retryable:
		h.discard(ctx, res.stored, log)
		delay := h.cfg.RetryDelay(run.Attempt)
		log.Warn("generation failed; retrying later", "class", res.failure.class, "reason", res.failure.reason, "delay", delay.String())
		err = h.cfg.Runs.RetryLater(ctx, run, res.failure.reason, delay)
	default:
		h.discard(ctx, res.stored, log)
		log.Warn("generation failed", "class", res.failure.class, "reason", res.failure.reason)
		err = h.cfg.Runs.Finish(ctx, run, herald.RunFailed, res.failure.reason)
	}
	if scheduler.IsStale(err) {
		log.Warn("run changed while generating (canceled or recovered); its result is dropped", "reason", err.Error())
		h.discard(ctx, res.stored, log)
		return nil
	}
	if err != nil {
		return fmt.Errorf("finishing run %s: %w", run.ID, err)
	}
	if res.failure == nil && run.Attempt > 1 {
		h.tidy(ctx, run, log)
	}
	log.Info("run generated", "status", run.Status, "rows", res.rows, "truncated", res.truncated,
		"queryMs", res.timings.QueryMs, "renderMs", res.timings.RenderMs, "storeMs", res.timings.StoreMs, "artifacts", len(res.artifacts))
	return nil
}
