// Package generate turns a queued run into its artifacts. The generation
// job arrives through the queue (standalone workers or the GenerateReport
// function); the handler takes the run with a lease, produces the run's
// output and finishes the run with a classified reason.
package generate

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/scheduler"
)

// Lifecycle is what the handler needs of the run lifecycle.
type Lifecycle interface {
	Start(ctx context.Context, job herald.GenerateJob, lease time.Duration) (*herald.Run, error)
	Finish(ctx context.Context, r *herald.Run, status herald.RunStatus, reason string) error
}

// Handler handles generation jobs.
type Handler struct {
	runs  Lifecycle
	log   *slog.Logger
	lease time.Duration
}

// NewHandler returns a generation handler over the run lifecycle. lease is
// how long a run stays taken without renewal (0: herald.DefaultLease).
func NewHandler(runs Lifecycle, log *slog.Logger, lease time.Duration) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if lease <= 0 {
		lease = herald.DefaultLease
	}
	return &Handler{runs: runs, log: log, lease: lease}
}

// Handle processes one generation job body. A job for a run that has
// finished, was canceled or moved to another attempt is done at once
// (redelivery never runs a run twice).
func (h *Handler) Handle(ctx context.Context, body []byte) error {
	var job herald.GenerateJob
	if err := json.Unmarshal(body, &job); err != nil || job.RunID == "" || job.TenantID == "" {
		return herald.Errorf(herald.CodeInvalid, "generation job is malformed")
	}
	log := h.log.With("tenantId", job.TenantID, "runId", job.RunID, "attempt", job.Attempt)
	run, err := h.runs.Start(ctx, job, h.lease)
	if scheduler.IsStale(err) {
		log.Info("generation job no longer applies", "reason", err.Error())
		return nil
	}
	if err != nil {
		return fmt.Errorf("starting run %s: %w", job.RunID, err)
	}
	// Query, rendering and storage come with step 3 of the plan; until then
	// a run completes without artifacts and says so in its reason.
	reason := "completed without artifacts: query execution and CSV/PDF rendering are not part of this build yet"
	if err := h.runs.Finish(ctx, run, herald.RunSucceeded, reason); err != nil {
		if scheduler.IsStale(err) {
			log.Warn("run changed while generating (canceled or recovered)", "reason", err.Error())
			return nil
		}
		return fmt.Errorf("finishing run %s: %w", job.RunID, err)
	}
	log.Info("run finished", "status", herald.RunSucceeded)
	return nil
}
