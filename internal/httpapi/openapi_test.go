package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"

	"github.com/heraldreports/herald/internal/cronexpr"
	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/scheduler"
)

// This file keeps openapi.json honest: the document must describe exactly
// the routes the router serves, with the roles, errors and shapes the code
// implements.

// openAPIDoc is the part of the document the checks read; the raw tree is
// kept for $ref resolution.
type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Info       map[string]any                        `json:"info"`
	Security   []map[string][]string                 `json:"security"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas         map[string]openAPISchema  `json:"schemas"`
		SecuritySchemes map[string]map[string]any `json:"securitySchemes"`
	} `json:"components"`
	raw any
}

type openAPISchema struct {
	Type                 any                        `json:"type"`
	Required             []string                   `json:"required"`
	Properties           map[string]json.RawMessage `json:"properties"`
	AdditionalProperties any                        `json:"additionalProperties"`
}

type openAPIOperation struct {
	OperationID  string                     `json:"operationId"`
	Summary      string                     `json:"summary"`
	Tags         []string                   `json:"tags"`
	Security     *[]map[string][]string     `json:"security"`
	RequiredRole string                     `json:"x-required-role"`
	Parameters   []map[string]any           `json:"parameters"`
	RequestBody  *openAPIBody               `json:"requestBody"`
	Responses    map[string]openAPIResponse `json:"responses"`
}

type openAPIBody struct {
	Content map[string]openAPIMedia `json:"content"`
}

type openAPIResponse struct {
	Ref     string                     `json:"$ref"`
	Headers map[string]json.RawMessage `json:"headers"`
	Content map[string]openAPIMedia    `json:"content"`
}

type openAPIMedia struct {
	Schema   map[string]any `json:"schema"`
	Examples map[string]struct {
		Value json.RawMessage `json:"value"`
	} `json:"examples"`
}

// openAPIOp is one (method, path) of the document.
type openAPIOp struct {
	method, path string
	op           openAPIOperation
}

func (o openAPIOp) String() string { return o.method + " " + o.path }

var openAPIMethods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// openAPIPublic are the operations that need no token.
var openAPIPublic = map[string]bool{
	"GET /healthz":          true,
	"GET /readyz":           true,
	"GET /api/openapi.json": true,
}

// The package has a func named require, so testify's require is not
// imported here; these stop the test the way it would.

func oaNoError(t *testing.T, err error, msgAndArgs ...any) {
	t.Helper()
	if !assert.NoError(t, err, msgAndArgs...) {
		t.FailNow()
	}
}

func oaNotEmpty(t *testing.T, v any, msgAndArgs ...any) {
	t.Helper()
	if !assert.NotEmpty(t, v, msgAndArgs...) {
		t.FailNow()
	}
}

func oaContains(t *testing.T, list, v any, msgAndArgs ...any) {
	t.Helper()
	if !assert.Contains(t, list, v, msgAndArgs...) {
		t.FailNow()
	}
}

func loadOpenAPI(t *testing.T) *openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	oaNoError(t, json.Unmarshal(openAPIDocument, &doc), "openapi.json is not valid JSON")
	oaNoError(t, json.Unmarshal(openAPIDocument, &doc.raw))
	return &doc
}

func (d *openAPIDoc) operations(t *testing.T) []openAPIOp {
	t.Helper()
	var out []openAPIOp
	for path, item := range d.Paths {
		for key, raw := range item {
			if !slices.Contains(openAPIMethods, key) {
				continue
			}
			var op openAPIOperation
			oaNoError(t, json.Unmarshal(raw, &op), "%s %s", key, path)
			out = append(out, openAPIOp{method: strings.ToUpper(key), path: path, op: op})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	oaNotEmpty(t, out)
	return out
}

func TestOpenAPIDocumentIsWellFormed(t *testing.T) {
	doc := loadOpenAPI(t)
	assert.Equal(t, "3.1.0", doc.OpenAPI)
	assert.Equal(t, "Herald", doc.Info["title"])
	assert.Equal(t, "1.0.0", doc.Info["version"])
	assert.Equal(t, []map[string][]string{{"bearerAuth": {}}}, doc.Security, "global security")
	bearer := doc.Components.SecuritySchemes["bearerAuth"]
	assert.Equal(t, "http", bearer["type"])
	assert.Equal(t, "bearer", bearer["scheme"])
	assert.Equal(t, "JWT", bearer["bearerFormat"])

	seen := map[string]string{}
	for _, o := range doc.operations(t) {
		id := o.op.OperationID
		if assert.NotEmpty(t, id, "%s has no operationId", o) {
			if prev, dup := seen[id]; dup {
				t.Errorf("operationId %q is used by %s and %s", id, prev, o)
			}
			seen[id] = o.String()
		}
		assert.NotEmpty(t, o.op.Summary, "%s has no summary", o)
		assert.NotEmpty(t, o.op.Tags, "%s has no tags", o)
		if openAPIPublic[o.String()] {
			assert.True(t, o.op.Security != nil && len(*o.op.Security) == 0, "%s is public: it needs `security: []`", o)
		} else {
			assert.Nil(t, o.op.Security, "%s should use the global security", o)
		}
	}

	var refs []string
	collectOpenAPIRefs(doc.raw, &refs)
	oaNotEmpty(t, refs)
	for _, ref := range refs {
		if !strings.HasPrefix(ref, "#/components/") {
			t.Errorf("$ref %q does not point into #/components", ref)
			continue
		}
		if _, ok := resolveOpenAPIPointer(doc.raw, strings.TrimPrefix(ref, "#")); !ok {
			t.Errorf("$ref %q does not resolve", ref)
		}
	}

	// The nullable instants are JSON Schema 2020-12 type unions, never the 3.0 keyword.
	assert.NotContains(t, string(openAPIDocument), `"nullable"`, "OpenAPI 3.1 uses type unions, not nullable")
}

func collectOpenAPIRefs(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && k == "$ref" {
				*out = append(*out, s)
				continue
			}
			collectOpenAPIRefs(val, out)
		}
	case []any:
		for _, val := range x {
			collectOpenAPIRefs(val, out)
		}
	}
}

// resolveOpenAPIPointer follows a JSON pointer (RFC 6901) in the document.
func resolveOpenAPIPointer(root any, pointer string) (any, bool) {
	cur := root
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// servedRoutes lists (method, path) of every route the router serves, in the
// document's notation: chi's subrouter roots ("/api/v1/reports/") lose the
// trailing slash; the catch-all that serves the dashboard is left out.
func servedRoutes(t *testing.T, s *Server) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	oaNoError(t, chi.Walk(s.Router(), func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.Contains(pattern, "*") { // the catch-all and chi's mount patterns
			return nil
		}
		if len(pattern) > 1 {
			pattern = strings.TrimSuffix(pattern, "/")
		}
		out[method+" "+pattern] = true
		return nil
	}))
	oaNotEmpty(t, out)
	return out
}

func TestOpenAPIPathsMatchRouter(t *testing.T) {
	doc := loadOpenAPI(t)
	served := servedRoutes(t, New(Config{}))
	documented := map[string]bool{}
	for _, o := range doc.operations(t) {
		documented[o.String()] = true
	}
	var missing, extra []string
	for r := range served {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for r := range documented {
		if !served[r] {
			extra = append(extra, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	assert.Empty(t, missing, "served by the router but missing from openapi.json")
	assert.Empty(t, extra, "in openapi.json but not served by the router")
}

func TestOpenAPIErrorResponses(t *testing.T) {
	doc := loadOpenAPI(t)
	for _, o := range doc.operations(t) {
		has := func(code string) bool { _, ok := o.op.Responses[code]; return ok }
		if !openAPIPublic[o.String()] {
			assert.True(t, has("401"), "%s must declare 401", o)
			assert.NotEmpty(t, o.op.RequiredRole, "%s must name its role in x-required-role", o)
		}
		switch o.method {
		case http.MethodPost, http.MethodPut, http.MethodDelete:
			assert.True(t, has("403"), "%s must declare 403", o)
		}
		if strings.Contains(o.path, "{id}") {
			assert.True(t, has("404"), "%s must declare 404", o)
		}
		if o.op.RequestBody != nil {
			for _, code := range []string{"400", "413", "415"} {
				assert.True(t, has(code), "%s takes a body: it must declare %s", o, code)
			}
		}
		for _, p := range o.op.Parameters {
			if p["$ref"] == "#/components/parameters/IfMatch" {
				assert.True(t, has("412"), "%s takes If-Match: it must declare 412", o)
			}
			if p["$ref"] == "#/components/parameters/IfNoneMatch" {
				assert.True(t, has("304"), "%s takes If-None-Match: it must declare 304", o)
			}
		}
		for code, r := range o.op.Responses {
			if r.Ref != "" {
				raw, _ := resolveOpenAPIPointer(doc.raw, strings.TrimPrefix(r.Ref, "#"))
				oaNoError(t, json.Unmarshal(mustJSON(t, raw), &r), "%s %s: %s", o, code, r.Ref)
			}
			assert.Contains(t, r.Headers, "X-Request-Id", "%s %s must declare X-Request-Id", o, code)
			if code == "201" {
				assert.Contains(t, r.Headers, "Location", "%s: 201 must declare Location", o)
			}
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	oaNoError(t, err)
	return b
}

// openAPIFakeStore answers like an empty store.
type openAPIFakeStore struct{}

func (openAPIFakeStore) Create(context.Context, herald.Item) (string, error) { return "1", nil }
func (openAPIFakeStore) Get(context.Context, herald.Kind, string, string) (herald.Item, error) {
	return herald.Item{}, herald.Errorf(herald.CodeNotFound, "not found")
}
func (openAPIFakeStore) Replace(context.Context, herald.Item) (string, error) {
	return "", herald.Errorf(herald.CodeNotFound, "not found")
}
func (openAPIFakeStore) Delete(context.Context, herald.Kind, string, string, string) error {
	return herald.Errorf(herald.CodeNotFound, "not found")
}
func (openAPIFakeStore) List(context.Context, herald.ListQuery) (herald.Page, error) {
	return herald.Page{}, nil
}
func (openAPIFakeStore) Ping(context.Context) error { return nil }

// openAPIFakeAuth accepts the tokens "viewer", "editor" and "admin".
type openAPIFakeAuth struct{}

func (openAPIFakeAuth) Validate(_ context.Context, raw string) (herald.Principal, error) {
	role, err := herald.ParseRole(raw)
	if err != nil {
		return herald.Principal{}, herald.Errorf(herald.CodeUnauthenticated, "bad token")
	}
	return herald.Principal{TenantID: "acme", Subject: "tester", Roles: []herald.Role{role}}, nil
}

// TestOpenAPIRolesMatchRouter calls every documented operation with no token,
// with the role just below the documented one and with the documented one,
// and checks that the router refuses and admits exactly as documented, with
// statuses the operation declares.
func TestOpenAPIRolesMatchRouter(t *testing.T) {
	doc := loadOpenAPI(t)
	srv := New(Config{Store: openAPIFakeStore{}, Auth: openAPIFakeAuth{}, Now: func() time.Time {
		return time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	}})
	below := map[string]string{"editor": "viewer", "admin": "editor"}
	call := func(o openAPIOp, token string) int {
		path := strings.ReplaceAll(o.path, "{id}", "xx_0123456789abcdefghjkmnpqrs")
		req := httptest.NewRequest(o.method, path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		assert.NotEmpty(t, rec.Header().Get("X-Request-Id"), "%s answers without X-Request-Id", o)
		return rec.Code
	}
	declared := func(o openAPIOp, code int) {
		t.Helper()
		_, ok := o.op.Responses[fmt.Sprint(code)]
		assert.True(t, ok, "%s answered %d, which it does not declare", o, code)
	}
	for _, o := range doc.operations(t) {
		if openAPIPublic[o.String()] {
			code := call(o, "")
			assert.Equal(t, http.StatusOK, code, "%s needs no token", o)
			declared(o, code)
			continue
		}
		assert.Equal(t, http.StatusUnauthorized, call(o, ""), "%s without a token", o)
		role := o.op.RequiredRole
		oaContains(t, []string{"viewer", "editor", "admin"}, role, "%s: x-required-role", o)
		if lower, ok := below[role]; ok {
			code := call(o, lower)
			assert.Equal(t, http.StatusForbidden, code, "%s is documented to need %s: %s must be refused", o, role, lower)
		}
		code := call(o, role)
		assert.NotContains(t, []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusMethodNotAllowed}, code,
			"%s is documented to admit %s", o, role)
		declared(o, code)
	}
}

// openAPIGoTypes pairs component schemas with the Go types the API decodes
// (inputs, strictly: unknown fields are refused) or encodes (outputs).
var openAPIGoTypes = map[string]struct {
	typ   reflect.Type
	input bool // decoded with unknown fields refused
}{
	"DataSourceInput":    {reflect.TypeFor[dataSourceInput](), true},
	"ReportInput":        {reflect.TypeFor[reportInput](), true},
	"ScheduleInput":      {reflect.TypeFor[scheduleInput](), true},
	"TenantInput":        {reflect.TypeFor[tenantInput](), true},
	"Parameter":          {reflect.TypeFor[herald.Parameter](), true},
	"Layout":             {reflect.TypeFor[herald.Layout](), true},
	"Column":             {reflect.TypeFor[herald.Column](), true},
	"DeliveryTarget":     {reflect.TypeFor[herald.DeliveryTarget](), true},
	"DataSource":         {reflect.TypeFor[dataSourceView](), false},
	"Report":             {reflect.TypeFor[reportView](), false},
	"Schedule":           {reflect.TypeFor[scheduleView](), false},
	"Tenant":             {reflect.TypeFor[tenantView](), false},
	"Me":                 {reflect.TypeFor[meView](), false},
	"AuditEvent":         {reflect.TypeFor[auditView](), false},
	"ConnectionResult":   {reflect.TypeFor[connectionResult](), false},
	"Problem":            {reflect.TypeFor[problem](), false},
	"FieldError":         {reflect.TypeFor[herald.FieldError](), false},
	"DataSourceList":     {reflect.TypeFor[listResponse[any]](), false},
	"ReportList":         {reflect.TypeFor[listResponse[any]](), false},
	"ScheduleList":       {reflect.TypeFor[listResponse[any]](), false},
	"AuditEventList":     {reflect.TypeFor[listResponse[any]](), false},
	"RunNowInput":        {reflect.TypeFor[runNowInput](), true},
	"BackfillInput":      {reflect.TypeFor[backfillInput](), true},
	"CronPreviewInput":   {reflect.TypeFor[previewInput](), true},
	"Run":                {reflect.TypeFor[runView](), false},
	"Artifact":           {reflect.TypeFor[artifactView](), false},
	"Delivery":           {reflect.TypeFor[deliveryView](), false},
	"PhaseTimings":       {reflect.TypeFor[herald.PhaseTimings](), false},
	"RunList":            {reflect.TypeFor[listResponse[any]](), false},
	"BackfillResult":     {reflect.TypeFor[backfillView](), false},
	"CronPreview":        {reflect.TypeFor[scheduler.Preview](), false},
	"CronPreviewTime":    {reflect.TypeFor[scheduler.PreviewTime](), false},
	"ReportPreviewInput": {reflect.TypeFor[reportPreviewInput](), true},
	"ReportPreview":      {reflect.TypeFor[reportPreviewView](), false},
	"PreviewColumn":      {reflect.TypeFor[previewColumnView](), false},
	"ArtifactLink":       {reflect.TypeFor[artifactLinkView](), false},
}

// jsonFields returns the JSON names of a struct's fields and which of them
// are always present (neither omitempty nor omitzero).
func jsonFields(typ reflect.Type) (all []string, always []string) {
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !strings.Contains(","+opts+",", ",omitempty,") && !strings.Contains(","+opts+",", ",omitzero,") {
			always = append(always, name)
		}
	}
	sort.Strings(all)
	sort.Strings(always)
	return all, always
}

func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	for name, gt := range openAPIGoTypes {
		s, ok := doc.Components.Schemas[name]
		if !assert.True(t, ok, "components.schemas.%s is missing", name) {
			continue
		}
		all, always := jsonFields(gt.typ)
		props := make([]string, 0, len(s.Properties))
		for p := range s.Properties {
			props = append(props, p)
		}
		sort.Strings(props)
		assert.Equal(t, all, props, "%s: properties must be the JSON fields of %s", name, gt.typ)
		req := slices.Clone(s.Required)
		sort.Strings(req)
		switch {
		case gt.input:
			assert.Equal(t, false, s.AdditionalProperties, "%s is decoded with unknown fields refused: additionalProperties must be false", name)
			for _, r := range req {
				assert.Contains(t, all, r, "%s requires unknown field %s", name, r)
			}
		default:
			assert.Equal(t, always, req, "%s: required must be the fields %s always writes", name, gt.typ)
		}
	}
	// Parameter, Layout, Column and DeliveryTarget are inputs and outputs:
	// what they require must also be what they always write.
	for _, name := range []string{"Parameter", "Layout", "Column", "DeliveryTarget"} {
		_, always := jsonFields(openAPIGoTypes[name].typ)
		req := slices.Clone(doc.Components.Schemas[name].Required)
		sort.Strings(req)
		if len(req) == 0 {
			req = nil
		}
		assert.Equal(t, always, req, "%s: required must be the fields always written", name)
	}
	// The DSN is write-only.
	assert.Contains(t, doc.Components.Schemas["DataSourceInput"].Properties, "dsn")
	assert.NotContains(t, doc.Components.Schemas["DataSource"].Properties, "dsn")
	assert.Contains(t, string(doc.Components.Schemas["DataSourceInput"].Properties["dsn"]), `"writeOnly": true`)
}

// decodeStrict decodes raw into a new value of typ, refusing unknown fields
// as the API does.
func decodeStrict(raw []byte, typ reflect.Type) (any, error) {
	v := reflect.New(typ)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v.Interface()); err != nil {
		return nil, err
	}
	return v.Interface(), nil
}

// TestOpenAPIExamplesAreReal decodes every example of a body whose schema
// has a Go type into that type, refusing unknown fields, and runs the
// domain validation on the create examples.
func TestOpenAPIExamplesAreReal(t *testing.T) {
	doc := loadOpenAPI(t)
	type example struct {
		where, schema string
		value         json.RawMessage
	}
	var examples []example
	add := func(where string, media map[string]openAPIMedia) {
		for mt, m := range media {
			ref, _ := m.Schema["$ref"].(string)
			name := strings.TrimPrefix(ref, "#/components/schemas/")
			for key, ex := range m.Examples {
				examples = append(examples, example{where + " " + mt + " " + key, name, ex.Value})
			}
		}
	}
	for _, o := range doc.operations(t) {
		if o.op.RequestBody != nil {
			add(o.String()+" request", o.op.RequestBody.Content)
		}
		for code, r := range o.op.Responses {
			add(o.String()+" "+code, r.Content)
		}
	}
	for name := range doc.Components.Schemas {
		raw, _ := resolveOpenAPIPointer(doc.raw, "/components/schemas/"+name+"/examples")
		list, _ := raw.([]any)
		for i, v := range list {
			examples = append(examples, example{fmt.Sprintf("schema %s example %d", name, i), name, mustJSON(t, v)})
		}
	}
	oaNotEmpty(t, examples)

	byKind := map[string][]any{}
	for _, ex := range examples {
		gt, ok := openAPIGoTypes[ex.schema]
		if !ok {
			continue
		}
		v, err := decodeStrict(ex.value, gt.typ)
		if !assert.NoError(t, err, "%s does not decode into %s", ex.where, gt.typ) {
			continue
		}
		byKind[ex.schema] = append(byKind[ex.schema], v)
		if !gt.input {
			// An output example is exactly what the server writes: canonical
			// durations, fixed-width instants, omitted empty fields.
			assert.JSONEq(t, string(ex.value), string(mustJSON(t, v)), "%s is not what the server would write", ex.where)
		}
	}

	idPattern := regexp.MustCompile(`^[a-z]{2,4}_[0-9a-z]{26}$`)
	oaNotEmpty(t, byKind["DataSourceInput"])
	for _, v := range byKind["DataSourceInput"] {
		in := v.(*dataSourceInput)
		ds := &herald.DataSource{Name: in.Name, Description: in.Description, SourceKind: in.Kind,
			StatementTimeout: in.StatementTimeout, RowCap: in.RowCap}
		ds.Normalize()
		assert.NoError(t, ds.Validate(in.DSN, false), "data source example %q", in.Name)
	}
	var report *herald.Report
	oaNotEmpty(t, byKind["ReportInput"])
	for _, v := range byKind["ReportInput"] {
		in := v.(*reportInput)
		report = &herald.Report{Name: in.Name, Description: in.Description, DataSourceID: in.DataSourceID, Query: in.Query,
			Parameters: in.Parameters, Formats: in.Formats, Layout: in.Layout, CSVBOM: in.CSVBOM}
		report.Normalize()
		assert.NoError(t, report.Validate(), "report example %q", in.Name)
		assert.Contains(t, herald.QueryParameterNames(in.Query), "region", "the report example binds :region")
	}
	oaNotEmpty(t, byKind["ScheduleInput"])
	for _, v := range byKind["ScheduleInput"] {
		in := v.(*scheduleInput)
		sc := &herald.Schedule{ReportID: in.ReportID, Name: in.Name, Description: in.Description, Cron: in.Cron,
			Timezone: in.Timezone, Enabled: in.Enabled == nil || *in.Enabled, MisfirePolicy: in.MisfirePolicy,
			OverlapPolicy: in.OverlapPolicy, CatchUpWindow: in.CatchUpWindow, Spread: in.Spread,
			Parameters: in.Parameters, Deliveries: in.Deliveries, SendCondition: in.SendCondition}
		sc.Normalize()
		assert.NoError(t, sc.Validate(checkCron, report), "schedule example %q", in.Name)
	}
	oaNotEmpty(t, byKind["Schedule"])
	for _, v := range byKind["Schedule"] {
		sv := v.(*scheduleView)
		expr, err := cronexpr.Parse(sv.Cron)
		if assert.NoError(t, err, "schedule example cron %q", sv.Cron) {
			assert.Equal(t, expr.Describe()+", "+sv.Timezone, sv.CronDescription, "schedule example cronDescription")
			if sv.NextRunAt != nil {
				loc, err := time.LoadLocation(sv.Timezone)
				oaNoError(t, err)
				next := expr.Next(sv.CreatedAt.Time, loc)
				assert.Equal(t, herald.At(next).String(), sv.NextRunAt.String(), "schedule example nextRunAt follows createdAt")
			}
		}
	}
	for _, kind := range []string{"DataSource", "Report", "Schedule", "Run"} {
		for _, v := range byKind[kind] {
			id := reflect.ValueOf(v).Elem().FieldByName("ID").String()
			assert.Regexp(t, idPattern, id, "%s example id", kind)
		}
	}
}

// TestOpenAPICronPreviewExamplesAreReal answers each request example of
// POST /cron/preview with the real preview and compares it with the 200
// example of the same name: the daylight-saving figures must be computed,
// not hand-made.
func TestOpenAPICronPreviewExamplesAreReal(t *testing.T) {
	doc := loadOpenAPI(t)
	var preview *openAPIOperation
	for _, o := range doc.operations(t) {
		if o.String() == "POST /api/v1/cron/preview" {
			preview = &o.op
		}
	}
	if preview == nil || preview.RequestBody == nil {
		t.Fatal("POST /api/v1/cron/preview with a request body is not documented")
	}
	requests := preview.RequestBody.Content["application/json"].Examples
	responses := preview.Responses["200"].Content["application/json"].Examples
	oaNotEmpty(t, requests)
	for key, req := range requests {
		v, err := decodeStrict(req.Value, reflect.TypeFor[previewInput]())
		if !assert.NoError(t, err, "request example %s", key) {
			continue
		}
		in := v.(*previewInput)
		if !assert.False(t, in.From.IsZero(), "request example %s needs a fixed from", key) {
			continue
		}
		if in.Count == 0 {
			in.Count = 5
		}
		got, err := scheduler.PreviewCron(in.Cron, in.Timezone, in.From.Time, in.Count)
		if !assert.NoError(t, err, "request example %s", key) {
			continue
		}
		resp, ok := responses[key]
		if assert.True(t, ok, "request example %s has no 200 example of the same name", key) {
			assert.JSONEq(t, string(mustJSON(t, got)), string(resp.Value), "200 example %s is not what the preview gives", key)
		}
	}
}
