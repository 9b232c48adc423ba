package generate

import (
	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/render"
)

// projection maps result columns to output columns under the report's
// layout: columns the layout lists come first, in its order, with its
// labels and formats; the other result columns follow in result order;
// hidden columns are left out of every file.
type projection struct {
	idx      []int // result column index of each output column
	cols     []render.Column
	dbTypes  []string
	identity bool // the output columns are the result columns, in order
}

func project(result []Column, layout herald.Layout) projection {
	byField := make(map[string]int, len(result))
	for i, c := range result {
		if _, dup := byField[c.Name]; !dup {
			byField[c.Name] = i
		}
	}
	var p projection
	used := make([]bool, len(result))
	for _, lc := range layout.Columns {
		i, ok := byField[lc.Field]
		if !ok || used[i] {
			continue // a layout entry for a column the query no longer returns
		}
		used[i] = true
		if lc.Hidden {
			continue
		}
		p.add(i, result[i], lc)
	}
	for i, c := range result {
		if !used[i] {
			p.add(i, c, herald.Column{Field: c.Name, Format: herald.ColumnAuto})
		}
	}
	p.identity = len(p.idx) == len(result)
	for k, i := range p.idx {
		p.identity = p.identity && i == k
	}
	return p
}

func (p *projection) add(i int, c Column, lc herald.Column) {
	label := lc.Label
	if label == "" {
		label = c.Name
	}
	format := lc.Format
	if format == "" {
		format = herald.ColumnAuto
	}
	p.idx = append(p.idx, i)
	p.dbTypes = append(p.dbTypes, c.DBType)
	p.cols = append(p.cols, render.Column{
		Name: c.Name, Label: label, Type: render.Type(c.Type),
		Format: format, Decimals: lc.Decimals, Currency: lc.Currency,
	})
}

// apply returns the output row of a result row. The renderers may keep the
// slice (the PDF measures its first rows), so it is never reused.
func (p *projection) apply(vals []any) []any {
	if p.identity {
		return vals
	}
	out := make([]any, len(p.idx))
	for k, i := range p.idx {
		out[k] = vals[i]
	}
	return out
}
