package generate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/render"
)

// metadata is the JSON companion of a run's CSV: what the file holds, with
// which types, for which parameters, and whether the row cap cut it.
type metadata struct {
	Report      metaReport     `json:"report"`
	Run         metaRun        `json:"run"`
	GeneratedAt herald.Instant `json:"generatedAt"`
	Parameters  map[string]any `json:"parameters"`
	Columns     []metaColumn   `json:"columns"`
	Rows        int64          `json:"rows"`
	Truncated   bool           `json:"truncated"`
	RowCap      int64          `json:"rowCap"`
	CSV         metaFile       `json:"csv"`
}

type metaReport struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type metaRun struct {
	ID           string         `json:"id"`
	Trigger      herald.Trigger `json:"trigger"`
	ScheduleID   string         `json:"scheduleId,omitempty"`
	ScheduledFor string         `json:"scheduledFor"` // RFC 3339 in the run's zone
	Timezone     string         `json:"timezone"`
	Attempt      int            `json:"attempt"`
}

type metaColumn struct {
	Name   string      `json:"name"`
	Label  string      `json:"label"`
	Type   render.Type `json:"type"`
	DBType string      `json:"dbType,omitempty"`
}

type metaFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	BOM    bool   `json:"bom"`
}

// storeMetadata writes the CSV's companion file and returns its artifact.
func (h *Handler) storeMetadata(ctx context.Context, j *job, proj projection, csv herald.Artifact, s render.Summary) (herald.Artifact, error) {
	m := metadata{
		Report: metaReport{ID: j.report.ID, Name: j.report.Name},
		Run: metaRun{
			ID: j.run.ID, Trigger: j.run.Trigger, ScheduleID: j.run.ScheduleID,
			ScheduledFor: j.run.ScheduledFor.In(j.zone).Format(time.RFC3339), Timezone: j.zone.String(), Attempt: j.run.Attempt,
		},
		GeneratedAt: herald.At(h.cfg.Now()),
		Parameters:  make(map[string]any, len(j.params)),
		Rows:        s.Rows, Truncated: s.Truncated, RowCap: s.RowCap,
		CSV: metaFile{Name: csv.Name, Size: csv.Size, SHA256: csv.SHA256, BOM: j.report.CSVBOM},
	}
	for _, p := range j.report.Parameters {
		if v, ok := j.params[p.Name]; ok {
			m.Parameters[p.Name] = herald.FormatParameterValue(v, p.Type, j.zone)
		}
	}
	for i, c := range proj.cols {
		m.Columns = append(m.Columns, metaColumn{Name: c.Name, Label: c.Label, Type: c.Type, DBType: proj.dbTypes[i]})
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return herald.Artifact{}, fmt.Errorf("encoding the metadata: %w", err)
	}
	a := h.artifact(j, herald.FormatMetadata, csv.Name[:len(csv.Name)-len(".csv")])
	info, err := h.cfg.Blobs.Put(ctx, herald.ArtifactPath(j.run.TenantID, j.run.ReportID, j.run.ID, a.ID), bytes.NewReader(body), herald.BlobPut{ContentType: a.ContentType})
	if err != nil {
		return herald.Artifact{}, err
	}
	a.Size, a.SHA256, a.Rows = info.Size, info.SHA256, s.Rows
	return a, nil
}
