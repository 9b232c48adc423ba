package herald

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Format is an output format of a report.
type Format string

// Output formats.
const (
	FormatCSV Format = "csv"
	FormatPDF Format = "pdf"
	// FormatMetadata is the JSON companion of a run's CSV: columns and
	// their types, parameters, row count and whether the row cap cut the
	// result. Every run with a CSV has one; a report cannot ask for it alone.
	FormatMetadata Format = "metadata"
)

// Orientation of PDF pages.
type Orientation string

// Orientations; auto picks landscape when the table is too wide for portrait.
const (
	OrientationAuto      Orientation = "auto"
	OrientationPortrait  Orientation = "portrait"
	OrientationLandscape Orientation = "landscape"
)

// ColumnFormat says how a column's values are shown.
type ColumnFormat string

// Column formats.
const (
	ColumnAuto     ColumnFormat = "auto"
	ColumnText     ColumnFormat = "text"
	ColumnInteger  ColumnFormat = "integer"
	ColumnNumber   ColumnFormat = "number"
	ColumnPercent  ColumnFormat = "percent"
	ColumnCurrency ColumnFormat = "currency"
	ColumnDate     ColumnFormat = "date"
	ColumnDatetime ColumnFormat = "datetime"
	ColumnBool     ColumnFormat = "bool"
)

var (
	columnFormats   = []ColumnFormat{ColumnAuto, ColumnText, ColumnInteger, ColumnNumber, ColumnPercent, ColumnCurrency, ColumnDate, ColumnDatetime, ColumnBool}
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// Column describes how one result column is labelled and formatted.
type Column struct {
	Field    string       `json:"field"`
	Label    string       `json:"label,omitempty"`
	Format   ColumnFormat `json:"format,omitempty"`
	Decimals *int         `json:"decimals,omitempty"`
	Currency string       `json:"currency,omitempty"`
	Hidden   bool         `json:"hidden,omitempty"`
}

// Layout is the presentation of a report's output.
type Layout struct {
	Title       string      `json:"title,omitempty"`
	Orientation Orientation `json:"orientation,omitempty"`
	Columns     []Column    `json:"columns,omitempty"`
}

// Report is a query against one data source, with parameters and layout.
type Report struct {
	Meta
	Name         string      `json:"name"`
	Description  string      `json:"description,omitempty"`
	DataSourceID string      `json:"dataSourceId"`
	Query        string      `json:"query"`
	Parameters   []Parameter `json:"parameters"`
	Formats      []Format    `json:"formats"`
	Layout       Layout      `json:"layout"`
	CSVBOM       bool        `json:"csvBom,omitempty"`
}

// Kind implements Record.
func (*Report) Kind() Kind { return KindReport }

// Normalize fills defaults.
func (r *Report) Normalize() {
	if r.Parameters == nil {
		r.Parameters = []Parameter{}
	}
	for i := range r.Parameters {
		if IsNull(r.Parameters[i].Default) {
			r.Parameters[i].Default = nil // an explicit null means no default
		}
	}
	if len(r.Formats) == 0 {
		r.Formats = []Format{FormatCSV, FormatPDF}
	}
	if r.Layout.Orientation == "" {
		r.Layout.Orientation = OrientationAuto
	}
	for i := range r.Layout.Columns {
		if r.Layout.Columns[i].Format == "" {
			r.Layout.Columns[i].Format = ColumnAuto
		}
	}
}

// Validate checks the report's fields.
func (r *Report) Validate() error {
	var p Problems
	checkName(&p, "name", r.Name)
	checkText(&p, "description", r.Description, MaxDescriptionLen)
	if !ValidID(r.DataSourceID) {
		p.Add("dataSourceId", "must be the id of a data source of this tenant")
	}
	switch q := strings.TrimSpace(r.Query); {
	case q == "":
		p.Add("query", "is required")
	case len(r.Query) > MaxQueryLen:
		p.Add("query", "must be at most %d bytes", MaxQueryLen)
	}
	declared := validateParameters(&p, r.Parameters)
	for _, name := range QueryParameterNames(r.Query) {
		if _, ok := declared[name]; !ok {
			p.Add("query", "uses :%s, which is not a declared parameter", name)
		}
	}
	validateFormats(&p, r.Formats)
	validateLayout(&p, r.Layout)
	return p.Err("report")
}

func validateFormats(p *Problems, formats []Format) {
	if len(formats) == 0 {
		p.Add("formats", "must list at least one of csv, pdf")
	}
	for i, f := range formats {
		if f != FormatCSV && f != FormatPDF {
			p.Add(fmt.Sprintf("formats[%d]", i), "must be csv or pdf")
		} else if slices.Index(formats, f) != i {
			p.Add(fmt.Sprintf("formats[%d]", i), "duplicates %s", f)
		}
	}
}

func validateLayout(p *Problems, l Layout) {
	checkText(p, "layout.title", l.Title, MaxNameLen)
	switch l.Orientation {
	case OrientationAuto, OrientationPortrait, OrientationLandscape:
	default:
		p.Add("layout.orientation", "must be auto, portrait or landscape")
	}
	if len(l.Columns) > 500 {
		p.Add("layout.columns", "must have at most 500 entries")
	}
	seen := map[string]bool{}
	for i, c := range l.Columns {
		field := fmt.Sprintf("layout.columns[%d]", i)
		switch {
		case strings.TrimSpace(c.Field) == "":
			p.Add(field+".field", "is required")
		case seen[c.Field]:
			p.Add(field+".field", "duplicates column %q", c.Field)
		}
		seen[c.Field] = true
		checkText(p, field+".label", c.Label, MaxNameLen)
		if !slices.Contains(columnFormats, c.Format) {
			p.Add(field+".format", "must be one of auto, text, integer, number, percent, currency, date, datetime, bool")
		}
		if c.Decimals != nil && (*c.Decimals < 0 || *c.Decimals > 10) {
			p.Add(field+".decimals", "must be between 0 and 10")
		}
		if c.Format == ColumnCurrency && !currencyPattern.MatchString(c.Currency) {
			p.Add(field+".currency", "must be an ISO 4217 code such as EUR when format is currency")
		}
	}
}
