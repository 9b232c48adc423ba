package httpapi

import (
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// route is one method and pattern the router serves.
type route struct{ method, pattern string }

// apiRoutes lists every authenticated route of the router.
func apiRoutes(t *testing.T, s *Server) []route {
	t.Helper()
	var out []route
	require.NoError(t, chi.Walk(s.Router(), func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasPrefix(pattern, "/api/v1/") {
			out = append(out, route{method, strings.TrimSuffix(pattern, "/")})
		}
		return nil
	}))
	sort.Slice(out, func(i, j int) bool { return out[i].pattern+out[i].method < out[j].pattern+out[j].method })
	require.NotEmpty(t, out)
	return out
}

// path fills a pattern's {id} with the fixture's record of that collection.
func (f fixture) path(pattern string) string {
	if !strings.Contains(pattern, "{id}") {
		return pattern
	}
	var id string
	switch {
	case strings.Contains(pattern, "/artifacts/"):
		id = f.artifactRun
		pattern = strings.Replace(pattern, "{artifactId}", f.artifact, 1)
	case strings.HasPrefix(pattern, "/api/v1/datasources/"):
		id = f.dataSource
	case strings.HasPrefix(pattern, "/api/v1/reports/"):
		id = f.report
	case strings.HasPrefix(pattern, "/api/v1/schedules/"):
		id = f.schedule
	case strings.HasPrefix(pattern, "/api/v1/runs/"):
		id = f.run
	}
	return strings.Replace(pattern, "{id}", id, 1)
}

// bodyFor is a valid body for writes on a pattern, so that a refusal comes
// from authorization or lookup, not from validation.
func (f fixture) bodyFor(method, pattern string) any {
	if method != http.MethodPost && method != http.MethodPut {
		return nil
	}
	switch {
	case strings.HasSuffix(pattern, "/test"), strings.HasSuffix(pattern, "/pause"), strings.HasSuffix(pattern, "/resume"),
		strings.HasSuffix(pattern, "/retry"), strings.HasSuffix(pattern, "/cancel"):
		return nil
	case strings.HasSuffix(pattern, "/backfill"):
		return map[string]any{"from": "2026-11-01T00:00:00Z", "to": "2026-11-15T00:00:00Z"}
	case strings.HasSuffix(pattern, "/runs"), strings.HasSuffix(pattern, "/preview") && pattern != "/api/v1/cron/preview":
		return map[string]any{"parameters": map[string]any{"since": "2026-11-01"}}
	case pattern == "/api/v1/cron/preview":
		return map[string]any{"cron": "0 9 * * MON", "timezone": "Europe/Berlin"}
	case strings.HasPrefix(pattern, "/api/v1/datasources"):
		return map[string]any{"name": "Other", "kind": "demo"}
	case strings.HasPrefix(pattern, "/api/v1/reports"):
		return reportBody(f.dataSource, "Other report")
	case strings.HasPrefix(pattern, "/api/v1/schedules"):
		return scheduleBody(f.report, "Other schedule")
	case pattern == "/api/v1/tenant":
		return map[string]any{"name": "Renamed", "retentionDays": 30}
	}
	return nil
}

func TestIsolationEveryRouteAnswers404ToAnotherTenant(t *testing.T) {
	h := newHarness(t)
	a := h.fixture("acme")
	b := h.fixture("globex")
	before := h.snapshot(a)

	for _, rt := range apiRoutes(t, h.srv) {
		if !strings.Contains(rt.pattern, "{id}") {
			continue
		}
		t.Run(rt.method+" "+rt.pattern, func(t *testing.T) {
			// b's admin and editor hold every role a route needs, so only the tenant differs.
			res := h.do(rt.method, a.path(rt.pattern), b.admin, b.bodyFor(rt.method, rt.pattern))
			assert.Contains(t, []int{http.StatusNotFound, http.StatusMethodNotAllowed}, res.Code, res.Raw)
			assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
			assert.NotContains(t, res.Raw, "acme", "the answer reveals nothing of the other tenant")
		})
	}
	// Lists and singletons show b only its own records.
	for _, path := range []string{"/api/v1/datasources", "/api/v1/reports", "/api/v1/schedules", "/api/v1/runs", "/api/v1/audit", "/api/v1/me", "/api/v1/tenant"} {
		res := h.must(http.StatusOK, "GET", path, b.admin, nil)
		for _, id := range []string{a.dataSource, a.report, a.schedule, a.run, a.artifactRun, a.artifact, "acme"} {
			assert.NotContains(t, res.Raw, id, "GET %s as globex", path)
		}
	}
	assert.Equal(t, before, h.snapshot(a), "nothing of acme changed")
	assert.Empty(t, h.links.seen(), "no download link was signed for another tenant's artifact")
}

// snapshot reads a fixture's records (with ETags) as their owner sees them.
func (h *harness) snapshot(f fixture) map[string]string {
	h.t.Helper()
	out := map[string]string{}
	for _, p := range []string{"/api/v1/datasources/" + f.dataSource, "/api/v1/reports/" + f.report, "/api/v1/schedules/" + f.schedule,
		"/api/v1/runs/" + f.run, "/api/v1/runs/" + f.artifactRun} {
		res := h.must(http.StatusOK, "GET", p, f.admin, nil)
		out[p] = res.Header.Get("ETag") + " " + res.Raw
	}
	return out
}

func TestRolesEveryWriteNeedsMoreThanViewer(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	before := h.snapshot(f)
	readOnlyPosts := map[string]bool{"POST /api/v1/cron/preview": true}
	adminOnly := map[string]bool{
		"POST /api/v1/datasources": true, "PUT /api/v1/datasources/{id}": true, "DELETE /api/v1/datasources/{id}": true,
		"POST /api/v1/datasources/{id}/test": true, "PUT /api/v1/tenant": true, "GET /api/v1/audit": true,
	}
	writes, reads := 0, 0
	for _, rt := range apiRoutes(t, h.srv) {
		key := rt.method + " " + rt.pattern
		if (rt.method == http.MethodGet || readOnlyPosts[key]) && !adminOnly[key] {
			reads++
			res := h.do(rt.method, f.path(rt.pattern), f.viewer, f.bodyFor(rt.method, rt.pattern))
			assert.NotEqual(t, http.StatusForbidden, res.Code, "viewer %s is a read: %s", key, res.Raw)
			assert.Less(t, res.Code, 400, "viewer %s: %s", key, res.Raw)
		}
		if rt.method != http.MethodGet && !readOnlyPosts[key] {
			writes++
			res := h.do(rt.method, f.path(rt.pattern), f.viewer, f.bodyFor(rt.method, rt.pattern))
			assert.Equal(t, http.StatusForbidden, res.Code, "viewer %s: %s", key, res.Raw)
		}
		if adminOnly[key] {
			res := h.do(rt.method, f.path(rt.pattern), f.editor, f.bodyFor(rt.method, rt.pattern))
			assert.Equal(t, http.StatusForbidden, res.Code, "editor %s: %s", key, res.Raw)
		}
	}
	assert.GreaterOrEqual(t, writes, 13, "the walk saw the write routes")
	assert.GreaterOrEqual(t, reads, 12, "the walk saw the read routes")
	assert.Equal(t, before, h.snapshot(f), "refused writes and reads change nothing")
	audit := h.must(http.StatusOK, "GET", "/api/v1/audit?limit=200", f.admin, nil).items()
	var actions []any
	for _, e := range audit {
		actions = append(actions, e["action"])
	}
	assert.Equal(t, []any{"artifact.download", "run.create", "schedule.create", "report.create", "datasource.create"}, actions,
		"the fixture's four creations and the viewer's one download link are audited; refused writes are not")
}

func TestAuthenticationFailuresAnswer401(t *testing.T) {
	h := newHarness(t)
	iss := h.tokens
	expired := iss.Claims("acme", "admin")
	expired["exp"] = time.Now().Add(-10 * time.Minute).Unix()
	expired["iat"] = time.Now().Add(-time.Hour).Unix()
	expired["nbf"] = time.Now().Add(-time.Hour).Unix()
	wrongAud := iss.Claims("acme", "admin")
	wrongAud["aud"] = []string{"someone-else"}
	wrongIss := iss.Claims("acme", "admin")
	wrongIss["iss"] = "https://evil.example.com"
	future := iss.Claims("acme", "admin")
	future["nbf"] = time.Now().Add(time.Hour).Unix()
	valid := iss.Token("acme", "admin")
	parts := strings.Split(valid, ".")

	tests := []struct {
		name   string
		header string
	}{
		{"no token", ""},
		{"empty bearer", "Bearer "},
		{"basic scheme", "Basic YWRtaW46YWRtaW4="},
		{"malformed", "Bearer not.a.jwt"},
		{"garbage", "Bearer " + strings.Repeat("x", 40)},
		{"bad signature", "Bearer " + parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))},
		{"alg none", "Bearer " + unsignedToken(t, iss.Claims("acme", "admin"))},
		{"HS256 signed with the public key", "Bearer " + hmacWithPublicKey(t, iss.Key().PublicKey(), iss.Key().KeyID(), iss.Claims("acme", "admin"))},
		{"expired", "Bearer " + iss.Sign(expired)},
		{"not yet valid", "Bearer " + iss.Sign(future)},
		{"wrong audience", "Bearer " + iss.Sign(wrongAud)},
		{"wrong issuer", "Bearer " + iss.Sign(wrongIss)},
		{"unknown kid", "Bearer " + iss.SignWith(iss.Claims("acme", "admin"), map[string]any{"kid": "no-such-key"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.header != "" {
				hdr = []string{"Authorization", tt.header}
			}
			res := h.do("GET", "/api/v1/me", "", nil, hdr...)
			require.Equal(t, http.StatusUnauthorized, res.Code, res.Raw)
			assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
			assert.Contains(t, res.Header.Get("WWW-Authenticate"), "Bearer")
			assert.Equal(t, "unauthenticated", res.JSON["code"])
			if len(tt.header) >= 27 {
				assert.NotContains(t, res.Raw, tt.header[7:27], "the token is never echoed")
			}
		})
	}
	h.must(http.StatusOK, "GET", "/api/v1/me", valid, nil)
}

func unsignedToken(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	return tok
}

func hmacWithPublicKey(t *testing.T, pub []byte, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(pub)
	require.NoError(t, err)
	return s
}

func TestPublicEndpoints(t *testing.T) {
	h := newHarness(t)
	res := h.must(http.StatusOK, "GET", "/healthz", "", nil)
	assert.Equal(t, "ok", res.JSON["status"])
	h.must(http.StatusOK, "GET", "/readyz", "", nil)
	doc := h.must(http.StatusOK, "GET", "/api/openapi.json", "", nil)
	assert.Equal(t, "3.1.0", doc.JSON["openapi"])
	home := h.must(http.StatusOK, "GET", "/", "", nil)
	assert.Contains(t, home.Raw, "/api/openapi.json")
	h.must(http.StatusNotFound, "GET", "/api/v1/nothing-here", h.tokens.Token("acme", "viewer"), nil)
	h.must(http.StatusUnauthorized, "GET", "/api/v1/reports", "", nil)
}
