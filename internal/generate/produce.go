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
	note      string // the succeeded run's reason: what the user must know (row cap, PDF cut)
	failure   *failure
}

// phaseClock adds up the time spent in each phase. Query and render
// interleave (rows stream from the database through the renderers), so
// each row's fetch counts as query and its rendering as render.
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
	res := h.produce(ctx, j)
	if res.failure != nil && ctx.Err() == nil {
		log.Debug("generation failed", "class", res.failure.class)
	}
	return res
}

// produce runs the query once and streams its rows through every output.
func (h *Handler) produce(ctx context.Context, j *job) result {
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
		return result{failure: newFailure(ClassRender, false, "%s", err.Error()), timings: clock.timings()}
	}
	n, f := stream(rows, proj, outs, &clock)
	if f == nil && rows.Err() != nil {
		f = queryFailure(rows.Err(), j.ds)
	}
	if f != nil {
		outs.abort()
		return result{failure: f, rows: n, timings: clock.timings()}
	}
	truncated := rows.Truncated()
	if err := rows.Close(); err != nil {
		outs.abort()
		return result{failure: queryFailure(err, j.ds), rows: n, timings: clock.timings()}
	}
	summary := render.Summary{Rows: n, Truncated: truncated, RowCap: int64(j.ds.RowCap)}
	arts, f := h.complete(ctx, j, proj, outs, summary, &clock)
	res := result{rows: n, truncated: truncated, timings: clock.timings(), artifacts: arts, failure: f}
	if f == nil {
		res.note = note(j, outs, summary)
	}
	return res
}

// stream feeds every row to every output.
func stream(rows Rows, proj projection, outs outputs, clock *phaseClock) (int64, *failure) {
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
				return n, o.failure(err)
			}
		}
		n++
		clock.render += time.Since(t1)
	}
}

// complete closes the renderers, waits for the files to be stored and
// stores the CSV's companion metadata.
func (h *Handler) complete(ctx context.Context, j *job, proj projection, outs outputs, s render.Summary, clock *phaseClock) ([]herald.Artifact, *failure) {
	t := time.Now()
	for _, o := range outs {
		if err := o.close(s); err != nil {
			f := o.failure(err)
			outs.abort() // every upload is still open: none has been finished yet
			return nil, f
		}
	}
	clock.render += time.Since(t)
	t = time.Now()
	defer func() { clock.store += time.Since(t) }()
	arts := make([]herald.Artifact, 0, len(outs)+1)
	var failed *failure
	for _, o := range outs {
		info, err := o.up.finish()
		if err != nil {
			if failed == nil {
				failed = storageFailure(err, o.art.Name)
			}
			continue
		}
		a := o.art
		a.Size, a.SHA256, a.Rows = info.Size, info.SHA256, o.drawn()
		arts = append(arts, a)
	}
	if failed != nil {
		return nil, failed
	}
	if csv := findArtifact(arts, herald.FormatCSV); csv != nil {
		meta, err := h.storeMetadata(ctx, j, proj, *csv, s)
		if err != nil {
			return nil, storageFailure(err, csv.Name+" metadata")
		}
		arts = append(arts, meta)
	}
	return arts, nil
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
