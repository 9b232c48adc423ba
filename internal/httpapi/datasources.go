package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

type dataSourceInput struct {
	Name             string                `json:"name"`
	Description      string                `json:"description"`
	Kind             herald.DataSourceKind `json:"kind"`
	DSN              string                `json:"dsn"`
	StatementTimeout herald.Duration       `json:"statementTimeout"`
	RowCap           int                   `json:"rowCap"`
}

type dataSourceView struct {
	ID               string                `json:"id"`
	Name             string                `json:"name"`
	Description      string                `json:"description,omitempty"`
	Kind             herald.DataSourceKind `json:"kind"`
	HasDSN           bool                  `json:"hasDsn"`
	StatementTimeout herald.Duration       `json:"statementTimeout"`
	RowCap           int                   `json:"rowCap"`
	CreatedAt        herald.Instant        `json:"createdAt"`
	CreatedBy        string                `json:"createdBy,omitempty"`
	UpdatedAt        herald.Instant        `json:"updatedAt"`
	UpdatedBy        string                `json:"updatedBy,omitempty"`
}

// viewDataSource never includes the DSN, sealed or not.
func viewDataSource(d *herald.DataSource) any {
	return dataSourceView{
		ID: d.ID, Name: d.Name, Description: d.Description, Kind: d.SourceKind, HasDSN: len(d.SealedDSN) > 0,
		StatementTimeout: d.StatementTimeout, RowCap: d.RowCap,
		CreatedAt: d.CreatedAt, CreatedBy: d.CreatedBy, UpdatedAt: d.UpdatedAt, UpdatedBy: d.UpdatedBy,
	}
}

func (s *Server) dataSources() *resource[herald.DataSource, *herald.DataSource] {
	return &resource[herald.DataSource, *herald.DataSource]{
		s: s, noun: "datasource", plural: "datasources", prefix: herald.PrefixDataSource,
		writeMin: herald.RoleAdmin, orderBy: "name",
		build: s.buildDataSource,
		view:  viewDataSource,
		filters: func(r *http.Request) ([]herald.Cond, error) {
			return queryFilters(r, []filterSpec{{param: "kind", field: "kind", oneOf: []string{"demo", "sqlite", "postgres", "mysql"}}})
		},
		beforeDelete: func(ctx context.Context, p herald.Principal, cur *herald.DataSource) error {
			return s.refuseIfReferenced(ctx, p.TenantID, herald.KindReport, "dataSourceId", cur.ID, "data source", "reports")
		},
		label: func(d *herald.DataSource) string { return d.Name },
	}
}

func (s *Server) buildDataSource(r *http.Request, p herald.Principal, id string, cur *herald.DataSource) (*herald.DataSource, error) {
	var in dataSourceInput
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	next := &herald.DataSource{
		Name: in.Name, Description: in.Description, SourceKind: in.Kind,
		StatementTimeout: in.StatementTimeout, RowCap: in.RowCap,
	}
	next.Normalize()
	keep := cur != nil && cur.SourceKind == in.Kind && len(cur.SealedDSN) > 0 && in.DSN == ""
	if err := next.Validate(in.DSN, keep); err != nil {
		return nil, err
	}
	if next.SourceKind == herald.DataSourceSQLite && !s.localPaths {
		return nil, &herald.Error{Code: herald.CodeInvalid, Message: "data sources of kind sqlite are disabled on this server",
			Fields: []herald.FieldError{{Field: "kind", Message: "sqlite (local files) is disabled by the operator"}}}
	}
	switch {
	case keep:
		next.SealedDSN = cur.SealedDSN
	case in.DSN != "":
		sealed, err := s.sealer.Seal([]byte(in.DSN), herald.DSNSealContext(p.TenantID, id))
		if err != nil {
			return nil, herald.Wrap(err, herald.CodeInternal, "could not protect the connection string")
		}
		next.SealedDSN = sealed
	}
	return next, nil
}

// refuseIfReferenced answers CodeConflict when a record of kind refers to id through field.
func (s *Server) refuseIfReferenced(ctx context.Context, tenantID string, kind herald.Kind, field, id, noun, users string) error {
	page, err := s.store.List(ctx, herald.ListQuery{
		Kind: kind, TenantID: tenantID, Limit: 1,
		Where: []herald.Cond{{Field: field, Op: herald.OpEq, Value: id}},
	})
	if err != nil {
		return err
	}
	if len(page.Items) > 0 {
		return herald.Errorf(herald.CodeConflict, "%s %s is still used by %s (for example %s): change or delete those first", noun, id, users, page.Items[0].ID)
	}
	return nil
}

type connectionResult struct {
	OK        bool   `json:"ok"`
	Message   string `json:"message"`
	LatencyMs int64  `json:"latencyMs"`
}

// testDataSource serves POST /datasources/{id}/test: connect and run a trivial query.
func (s *Server) testDataSource(w http.ResponseWriter, r *http.Request) {
	ds := s.dataSources()
	_, cur, err := ds.load(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	start := time.Now()
	err = s.tester.TestConnection(ctx, cur)
	res := connectionResult{OK: err == nil, Message: "connected; a read-only test query succeeded", LatencyMs: time.Since(start).Milliseconds()}
	if err != nil {
		res.Message = safeMessage(err)
		logFrom(r.Context()).Info("data source test failed", "dataSourceId", cur.ID, "err", err.Error())
	}
	writeJSON(w, http.StatusOK, res)
}

// safeMessage is the caller-facing text of err: the message of a
// *herald.Error (never its cause), or a generic text.
func safeMessage(err error) string {
	var he *herald.Error
	if errors.As(err, &he) {
		return he.Message
	}
	return fmt.Sprintf("connection failed (%s)", herald.CodeOf(err))
}
