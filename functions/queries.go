package main

import (
	"context"
	"fmt"

	"github.com/heraldreports/herald/internal/datasource"
	"github.com/heraldreports/herald/internal/generate"
	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/httpapi"
)

// queries adapts the data-source runner to what generation (a streamed
// result) and the API's preview (the first rows) consume.
type queries struct{ runner *datasource.Runner }

// Query implements generate.Querier.
func (q queries) Query(ctx context.Context, ds *herald.DataSource, query string, params map[string]any, types map[string]herald.ParamType) (generate.Rows, error) {
	rows, err := q.runner.Query(ctx, datasource.Request{DataSource: ds, Query: query, Params: params, ParamTypes: types})
	if err != nil {
		return nil, err //nolint:wrapcheck // already a classified *herald.Error
	}
	cols := make([]generate.Column, len(rows.Columns()))
	for i, c := range rows.Columns() {
		cols[i] = generate.Column{Name: c.Name, Type: string(c.Type), DBType: c.DBType}
	}
	return resultRows{Rows: rows, cols: cols}, nil
}

// resultRows is a datasource.Rows with generation's column descriptions.
type resultRows struct {
	datasource.Rows
	cols []generate.Column
}

func (r resultRows) Columns() []generate.Column { return r.cols }

// Preview implements httpapi.Previewer.
func (q queries) Preview(ctx context.Context, ds *herald.DataSource, query string, params map[string]any, types map[string]herald.ParamType, maxRows int) (httpapi.Preview, error) {
	rows, err := q.runner.Query(ctx, datasource.Request{DataSource: ds, Query: query, Params: params, ParamTypes: types, MaxRows: maxRows})
	if err != nil {
		return httpapi.Preview{}, err //nolint:wrapcheck // already a classified *herald.Error
	}
	defer func() { _ = rows.Close() }()
	var p httpapi.Preview
	for _, c := range rows.Columns() {
		p.Columns = append(p.Columns, httpapi.PreviewColumn{Name: c.Name, Type: string(c.Type), DBType: c.DBType})
	}
	p.Rows = [][]any{}
	for rows.Next() {
		p.Rows = append(p.Rows, rows.Values())
	}
	if err := rows.Err(); err != nil {
		return httpapi.Preview{}, err //nolint:wrapcheck // already a classified *herald.Error
	}
	p.More = rows.Truncated()
	if err := rows.Close(); err != nil {
		return httpapi.Preview{}, fmt.Errorf("closing the preview query: %w", err)
	}
	return p, nil
}
