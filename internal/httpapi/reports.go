package httpapi

import (
	"context"
	"net/http"

	"github.com/heraldreports/herald/internal/herald"
)

type reportInput struct {
	Name         string             `json:"name"`
	Description  string             `json:"description"`
	DataSourceID string             `json:"dataSourceId"`
	Query        string             `json:"query"`
	Parameters   []herald.Parameter `json:"parameters"`
	Formats      []herald.Format    `json:"formats"`
	Layout       herald.Layout      `json:"layout"`
	CSVBOM       bool               `json:"csvBom"`
}

type reportView struct {
	ID           string             `json:"id"`
	Name         string             `json:"name"`
	Description  string             `json:"description,omitempty"`
	DataSourceID string             `json:"dataSourceId"`
	Query        string             `json:"query"`
	Parameters   []herald.Parameter `json:"parameters"`
	Formats      []herald.Format    `json:"formats"`
	Layout       herald.Layout      `json:"layout"`
	CSVBOM       bool               `json:"csvBom"`
	CreatedAt    herald.Instant     `json:"createdAt"`
	CreatedBy    string             `json:"createdBy,omitempty"`
	UpdatedAt    herald.Instant     `json:"updatedAt"`
	UpdatedBy    string             `json:"updatedBy,omitempty"`
}

func viewReport(r *herald.Report) any {
	return reportView{
		ID: r.ID, Name: r.Name, Description: r.Description, DataSourceID: r.DataSourceID, Query: r.Query,
		Parameters: r.Parameters, Formats: r.Formats, Layout: r.Layout, CSVBOM: r.CSVBOM,
		CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy,
	}
}

func (s *Server) reports() *resource[herald.Report, *herald.Report] {
	return &resource[herald.Report, *herald.Report]{
		s: s, noun: "report", plural: "reports", prefix: herald.PrefixReport,
		writeMin: herald.RoleEditor, orderBy: "name",
		build: s.buildReport,
		view:  viewReport,
		filters: func(r *http.Request) ([]herald.Cond, error) {
			return queryFilters(r, []filterSpec{{param: "dataSourceId", field: "dataSourceId"}})
		},
		beforeDelete: func(ctx context.Context, p herald.Principal, cur *herald.Report) error {
			return s.refuseIfReferenced(ctx, p.TenantID, herald.KindSchedule, "reportId", cur.ID, "report", "schedules")
		},
		label: func(r *herald.Report) string { return r.Name },
	}
}

func (s *Server) buildReport(r *http.Request, p herald.Principal, _ string, _ *herald.Report) (*herald.Report, error) {
	var in reportInput
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	next := &herald.Report{
		Name: in.Name, Description: in.Description, DataSourceID: in.DataSourceID, Query: in.Query,
		Parameters: in.Parameters, Formats: in.Formats, Layout: in.Layout, CSVBOM: in.CSVBOM,
	}
	next.Normalize()
	if err := next.Validate(); err != nil {
		return nil, err
	}
	if err := s.mustExist(r.Context(), herald.KindDataSource, p.TenantID, next.DataSourceID, "dataSourceId", "data source"); err != nil {
		return nil, err
	}
	return next, nil
}

// mustExist answers a field error when the referenced record is not in the tenant.
func (s *Server) mustExist(ctx context.Context, kind herald.Kind, tenantID, id, field, noun string) error {
	_, err := s.store.Get(ctx, kind, tenantID, id)
	if herald.Is(err, herald.CodeNotFound) {
		return notInTenant(field, noun, id)
	}
	return err
}

// notInTenant is the error for a reference to a record the tenant does not have.
func notInTenant(field, noun, id string) error {
	return &herald.Error{Code: herald.CodeInvalid, Message: "no " + noun + " " + id + " in this tenant",
		Fields: []herald.FieldError{{Field: field, Message: "no " + noun + " with this id in this tenant"}}}
}
