package generate

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/render"
)

// output is one file being rendered and stored.
type output struct {
	art   herald.Artifact // without size, hash and rows until stored
	path  string
	up    *upload
	write func(vals []any) error
	close func(s render.Summary) error
	drawn func() int64
}

// failure classifies an error of the output's renderer: when the store
// ended the upload, the store's error is the cause. The renderer's own
// error is logged; the run's reason stays free of internals.
func (o *output) failure(err error, log *slog.Logger) *failure {
	if serr := o.up.storeErr(); serr != nil {
		return storageFailure(serr, o.art.Name)
	}
	log.Error("rendering failed", "artifact", o.art.Name, "error", err.Error())
	return newFailure(ClassRender, false, "rendering %s failed", o.art.Name)
}

type outputs []*output

// abort abandons every upload not finished yet.
func (os outputs) abort() {
	for _, o := range os {
		o.up.abort()
	}
}

// blocked is the time the renderers waited for storage.
func (os outputs) blocked() time.Duration {
	var d time.Duration
	for _, o := range os {
		d += o.up.blocked
	}
	return d
}

// account moves the time writers waited for storage from render to store.
func (os outputs) account(c *phaseClock) {
	d := os.blocked()
	c.render = max(c.render-d, 0)
	c.store += d
}

// openOutputs starts one output per format of the report.
func (h *Handler) openOutputs(ctx context.Context, j *job, proj projection) (outputs, error) {
	meta := renderMeta(j, h.cfg.Now())
	base := fileBase(j)
	var outs outputs
	for _, f := range j.report.Formats {
		o := &output{art: h.artifact(j, f, base)}
		o.path = herald.ArtifactPath(j.run.TenantID, j.run.ReportID, j.run.ID, o.art.ID)
		o.up = startUpload(ctx, h.cfg.Blobs, o.path, o.art.ContentType)
		outs = append(outs, o)
		var err error
		switch f {
		case herald.FormatCSV:
			err = openCSV(o, proj, meta, j.report.CSVBOM)
		case herald.FormatPDF:
			err = openPDF(o, proj, meta, h.cfg.PDFMaxRows)
		default:
			err = fmt.Errorf("unknown output format %q", f)
		}
		if err != nil {
			outs.abort()
			return nil, err
		}
	}
	return outs, nil
}

func openCSV(o *output, proj projection, meta render.Meta, bom bool) error {
	w, err := render.NewCSV(o.up, proj.cols, meta, render.CSVOptions{BOM: bom})
	if err != nil {
		return fmt.Errorf("starting the CSV: %w", err)
	}
	o.write, o.close, o.drawn = w.WriteRow, w.Close, w.Rows
	return nil
}

func openPDF(o *output, proj projection, meta render.Meta, maxRows int64) error {
	w, err := render.NewPDF(o.up, proj.cols, meta, render.PDFOptions{MaxRows: maxRows})
	if err != nil {
		return fmt.Errorf("starting the PDF: %w", err)
	}
	o.write, o.close, o.drawn = w.WriteRow, w.Close, w.Rows
	return nil
}

// artifact describes the file of one format. Its id depends on the run,
// the attempt and the format: an attempt that outlived its lease can never
// overwrite the files of the attempt that took over, and redelivering a
// job writes nothing (the attempt no longer applies).
func (h *Handler) artifact(j *job, f herald.Format, base string) herald.Artifact {
	a := herald.Artifact{
		ID:        herald.DerivedID(herald.PrefixArtifact, j.run.ScheduledFor.Time, j.run.TenantID, j.run.ID, strconv.Itoa(j.run.Attempt), string(f)),
		Format:    f,
		CreatedAt: herald.At(h.cfg.Now()),
	}
	switch f {
	case herald.FormatCSV:
		a.Name, a.ContentType = base+".csv", render.ContentTypeCSV
	case herald.FormatPDF:
		a.Name, a.ContentType = base+".pdf", render.ContentTypePDF
	case herald.FormatMetadata:
		a.Name, a.ContentType = base+".metadata.json", "application/json"
	}
	return a
}

// fileBase is the artifacts' file name without extension: the report's
// name (letters and digits kept, anything else a dash) and the scheduled
// time in the run's zone, e.g. "Weekly-revenue_2026-03-02_0900".
func fileBase(j *job) string {
	var b strings.Builder
	dash := false
	for _, r := range j.report.Name {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	name := b.String()
	if name == "" {
		name = "report"
	}
	if r := []rune(name); len(r) > 80 {
		name = string(r[:80])
	}
	return name + "_" + j.run.ScheduledFor.In(j.zone).Format("2006-01-02_1504")
}

// renderMeta is the title block of the files.
func renderMeta(j *job, now time.Time) render.Meta {
	title := j.report.Layout.Title
	if title == "" {
		title = j.report.Name
	}
	return render.Meta{
		Title: title, ReportName: j.report.Name, Parameters: displayParams(j),
		ScheduledFor: j.run.ScheduledFor.Time, Location: j.zone, GeneratedAt: now,
		RunID: j.run.ID, Orientation: j.report.Layout.Orientation,
	}
}

// displayParams shows the resolved parameter values in declaration order.
func displayParams(j *job) []render.Param {
	out := make([]render.Param, 0, len(j.report.Parameters))
	for _, p := range j.report.Parameters {
		v, ok := j.params[p.Name]
		if !ok {
			continue
		}
		out = append(out, render.Param{Name: p.Name, Value: herald.FormatParameterValue(v, p.Type, j.zone)})
	}
	return out
}
