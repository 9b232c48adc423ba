package generate

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/render"
)

// result is what one generation produced.
type result struct {
	rows      int64
	truncated bool
	timings   herald.PhaseTimings
	artifacts []herald.Artifact
	stored    []string // paths this attempt committed, recorded in artifacts or not
	note      string   // the succeeded run's reason: what the user must know (row cap, PDF cut)
	failure   *failure
}

// phaseClock adds up the time spent in each phase. Query, render and store
// interleave (rows stream from the database through the renderers into
// storage): each row's fetch counts as query, its rendering as render, and
// the time writers waited for storage to take data as store.
type phaseClock struct{ query, render, store time.Duration }

func (c phaseClock) timings() herald.PhaseTimings {
	return herald.PhaseTimings{QueryMs: c.query.Milliseconds(), RenderMs: c.render.Milliseconds(), StoreMs: c.store.Milliseconds()}
}

// generate loads what the run needs and produces its artifacts.
func (h *Handler) generate(ctx context.Context, run *herald.Run, log *slog.Logger) result {
	j, f := h.load(ctx, run)
	if f != nil {
		return result{failure: f}
	}
	return h.produce(ctx, j, log)
}

// produce runs the query once and streams its rows through every output.
func (h *Handler) produce(ctx context.Context, j *job, log *slog.Logger) result {
	var clock phaseClock
	start := time.Now()
	rows, err := h.cfg.Querier.Query(ctx, j.ds, j.report.Query, j.params, j.types)
	clock.query = time.Since(start)
	if err != nil {
		return result{failure: queryFailure(err, j.ds), timings: clock.timings()}
	}
	defer func() { _ = rows.Close() }()

	proj := project(rows.Columns(), j.report.Layout)
	outs, err := h.openOutputs(ctx, j, proj)
	if err != nil {
		log.Error("starting the renderers failed", "error", err.Error())
		return result{failure: newFailure(ClassRender, false, "the files could not be started"), timings: clock.timings()}
	}
	defer outs.abort() // a no-op for finished uploads; ends the others on every early return
	n, f := stream(rows, proj, outs, &clock, log)
	if f == nil && rows.Err() != nil {
		f = streamFailure(rows.Err(), j.ds, outs)
	}
	if f == nil {
		if err := rows.Close(); err != nil {
			f = queryFailure(err, j.ds)
		}
	}
	if f != nil {
		outs.abort()
		outs.account(&clock)
		return result{failure: f, rows: n, timings: clock.timings()}
	}
	summary := render.Summary{Rows: n, Truncated: rows.Truncated(), RowCap: int64(j.ds.RowCap)}
	arts, stored, f := h.complete(ctx, j, proj, outs, summary, &clock, log)
	res := result{rows: n, truncated: summary.Truncated, timings: clock.timings(), artifacts: arts, stored: stored, failure: f}
	if f == nil {
		res.note = note(j, outs, summary)
	}
	return res
}

// streamFailure classifies an error that stopped the rows. A statement
// timeout that ran out while the renderers waited for storage most of the
// time is a storage problem, and may pass.
func streamFailure(err error, ds *herald.DataSource, outs outputs) *failure {
	f := queryFailure(err, ds)
	if f.class == ClassTimeout && outs.blocked() > time.Duration(ds.StatementTimeout)/2 {
		return newFailure(ClassStorage, true, "storing the files was too slow: the query's statement timeout (%s) ran out while waiting for storage",
			time.Duration(ds.StatementTimeout))
	}
	return f
}

// stream feeds every row to every output.
func stream(rows Rows, proj projection, outs outputs, clock *phaseClock, log *slog.Logger) (int64, *failure) {
	var n int64
	for {
		t0 := time.Now()
		more := rows.Next()
		t1 := time.Now()
		clock.query += t1.Sub(t0)
		if !more {
			return n, nil
		}
		vals := proj.apply(rows.Values())
		for _, o := range outs {
			if err := o.write(vals); err != nil {
				return n, o.failure(err, log)
			}
		}
		n++
		clock.render += time.Since(t1)
	}
}

// complete closes the renderers, waits for the files to be stored and
// stores the CSV's companion metadata. On a failure every file not yet
// stored is abandoned; the ones stored are returned for the caller to
// delete.
func (h *Handler) complete(ctx context.Context, j *job, proj projection, outs outputs, s render.Summary, clock *phaseClock, log *slog.Logger) ([]herald.Artifact, []string, *failure) {
	t := time.Now()
	for _, o := range outs {
		if err := o.close(s); err != nil {
			f := o.failure(err, log)
			outs.abort()
			outs.account(clock)
			clock.render += time.Since(t)
			return nil, nil, f
		}
	}
	clock.render += time.Since(t)
	t = time.Now()
	defer func() { clock.store += time.Since(t) }()
	arts := make([]herald.Artifact, 0, len(outs)+1)
	var stored []string
	for _, o := range outs {
		info, err := o.up.finish()
		if err != nil {
			outs.abort() // the rest are not committed
			outs.account(clock)
			return nil, stored, storageFailure(err, o.art.Name)
		}
		stored = append(stored, o.path)
		a := o.art
		a.Size, a.SHA256, a.Rows = info.Size, info.SHA256, o.drawn()
		arts = append(arts, a)
	}
	outs.account(clock)
	if csv := findArtifact(arts, herald.FormatCSV); csv != nil {
		meta, err := h.storeMetadata(ctx, j, proj, *csv, s)
		if err != nil {
			return nil, stored, storageFailure(err, csv.Name+" metadata")
		}
		stored = append(stored, herald.ArtifactPath(j.run.TenantID, j.run.ReportID, j.run.ID, meta.ID))
		arts = append(arts, meta)
	}
	return arts, stored, nil
}

func findArtifact(arts []herald.Artifact, f herald.Format) *herald.Artifact {
	for i := range arts {
		if arts[i].Format == f {
			return &arts[i]
		}
	}
	return nil
}

// note tells what a user must know about a succeeded run's files.
func note(j *job, outs outputs, s render.Summary) string {
	var parts []string
	if s.Truncated {
		parts = append(parts, fmt.Sprintf("row cap: the query returned more than %d rows; the files hold the first %d", j.ds.RowCap, s.Rows))
	}
	hasCSV := slices.ContainsFunc(outs, func(o *output) bool { return o.art.Format == herald.FormatCSV })
	for _, o := range outs {
		if o.art.Format != herald.FormatPDF || o.drawn() >= s.Rows {
			continue
		}
		if hasCSV {
			parts = append(parts, fmt.Sprintf("the PDF shows the first %d of %d rows; the CSV holds all of them", o.drawn(), s.Rows))
		} else {
			parts = append(parts, fmt.Sprintf("the PDF shows the first %d of %d rows; add CSV to the report's formats to receive all of them", o.drawn(), s.Rows))
		}
	}
	return strings.Join(parts, "; ")
}
