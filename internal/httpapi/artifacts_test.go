package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/sqlite"
)

func TestRunListsItsArtifacts(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	run := h.must(http.StatusOK, "GET", "/api/v1/runs/"+f.artifactRun, f.viewer, nil).JSON
	arts := run["artifacts"].([]any)
	require.Len(t, arts, 2)
	csv := arts[0].(map[string]any)
	assert.Equal(t, f.artifact, csv["id"])
	for _, k := range []string{"id", "format", "name", "contentType", "size", "sha256", "rows", "createdAt"} {
		assert.Contains(t, csv, k)
	}
	assert.Equal(t, "csv", csv["format"])
	assert.Equal(t, "sales-2026-11-28.csv", csv["name"])
	assert.Regexp(t, `^2026-11-28T10:00:00\.\d{3}Z$`, csv["createdAt"])
}

func TestArtifactDownloadRedirectsToASignedLink(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	h.setNow(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	path := "/api/v1/runs/" + f.artifactRun + "/artifacts/" + f.artifact

	res := h.must(http.StatusFound, "GET", path, f.viewer, nil, "X-Request-Id", "dl-1")
	loc := res.Header.Get("Location")
	assert.True(t, strings.HasPrefix(loc, "https://blobs.example.test/artifacts/acme/"), loc)
	assert.Contains(t, loc, linkSecret)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	assert.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"))
	assert.Empty(t, res.Raw, "a redirect carries no body")

	calls := h.links.seen()
	require.Len(t, calls, 1)
	run, err := herald.GetRecord[herald.Run](t.Context(), h.store, "acme", f.artifactRun)
	require.NoError(t, err)
	assert.Equal(t, herald.ArtifactPath("acme", f.report, f.artifactRun, f.artifact), calls[0].path)
	assert.Equal(t, herald.ArtifactLinkTTL, calls[0].ttl)
	assert.Equal(t, herald.BlobLink{Filename: run.Artifacts[0].Name, ContentType: run.Artifacts[0].ContentType}, calls[0].link)

	// redirect=false: the link as JSON, for API clients and the dashboard.
	res = h.must(http.StatusOK, "GET", path+"?redirect=false", f.viewer, nil)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	assert.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"))
	assert.Empty(t, res.Header.Get("Location"))
	assert.Contains(t, res.JSON["url"], linkSecret)
	assert.NotEqual(t, loc, res.JSON["url"], "every call signs a new link")
	expires, err := herald.ParseInstant(res.JSON["expiresAt"].(string))
	require.NoError(t, err)
	assert.WithinDuration(t, time.Date(2026, 11, 28, 12, 15, 0, 0, time.UTC), expires.Time, time.Second, "valid 15 minutes")
	art := res.JSON["artifact"].(map[string]any)
	assert.Equal(t, f.artifact, art["id"])
	assert.Equal(t, "text/csv; charset=utf-8", art["contentType"])
	h.must(http.StatusFound, "GET", path+"?redirect=true", f.viewer, nil)

	// Every issued link is audited, without the link.
	audit := h.must(http.StatusOK, "GET", "/api/v1/audit?action=artifact.download", f.admin, nil)
	events := audit.items()
	require.Len(t, events, 3)
	first := events[2]
	assert.Equal(t, "run", first["resourceType"])
	assert.Equal(t, f.artifactRun, first["resourceId"])
	assert.Equal(t, "test-user", first["actor"])
	assert.Equal(t, "viewer", first["actorRole"])
	assert.Equal(t, "dl-1", first["requestId"])
	assert.Contains(t, first["summary"], "sales-2026-11-28.csv")
	changes := first["changes"].(map[string]any)
	assert.Equal(t, f.artifact, changes["artifactId"])
	assert.Equal(t, f.artifactRun, changes["runId"])
	assert.Equal(t, true, changes["redirect"])
	assert.Equal(t, false, events[1]["changes"].(map[string]any)["redirect"])

	for i, text := range []string{audit.Raw, h.logs.String()} {
		assert.NotContains(t, text, linkSecret, "place %d: the signed link is a secret", i)
		assert.NotContains(t, text, "blobs.example.test", "place %d", i)
	}
}

func TestArtifactDownloadRefusals(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	other := h.fixture("globex")
	_, secondArtifact := h.succeededRun("acme", f.report)
	tests := []struct {
		name, path, token string
		status            int
	}{
		{"unknown artifact", "/api/v1/runs/" + f.artifactRun + "/artifacts/art_0000000000000000000000000a", f.viewer, 404},
		{"malformed artifact id", "/api/v1/runs/" + f.artifactRun + "/artifacts/..%2F..%2Fsecret", f.viewer, 404},
		{"artifact of another run", "/api/v1/runs/" + f.artifactRun + "/artifacts/" + secondArtifact, f.viewer, 404},
		{"run without artifacts", "/api/v1/runs/" + f.run + "/artifacts/" + f.artifact, f.viewer, 404},
		{"unknown run", "/api/v1/runs/run_0000000000000000000000000a/artifacts/" + f.artifact, f.viewer, 404},
		{"another tenant's artifact", "/api/v1/runs/" + other.artifactRun + "/artifacts/" + other.artifact, f.admin, 404},
		{"own artifact id under another tenant's run", "/api/v1/runs/" + other.artifactRun + "/artifacts/" + f.artifact, f.admin, 404},
		{"bad redirect value", "/api/v1/runs/" + f.artifactRun + "/artifacts/" + f.artifact + "?redirect=maybe", f.viewer, 400},
		{"no token", "/api/v1/runs/" + f.artifactRun + "/artifacts/" + f.artifact, "", 401},
		{"write method", "/api/v1/runs/" + f.artifactRun + "/artifacts/" + f.artifact, f.admin, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := "GET"
			if tt.status == http.StatusMethodNotAllowed {
				method = "DELETE"
			}
			res := h.do(method, tt.path, tt.token, nil)
			require.Equal(t, tt.status, res.Code, res.Raw)
			assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
			assert.Empty(t, res.Header.Get("Location"))
			assert.NotContains(t, res.Raw, "globex")
		})
	}
	assert.Empty(t, h.links.seen(), "no link was signed")
	assert.Empty(t, h.must(http.StatusOK, "GET", "/api/v1/audit?action=artifact.download", f.admin, nil).items(), "refusals are not audited")
	assert.Empty(t, h.must(http.StatusOK, "GET", "/api/v1/audit?action=artifact.download", other.admin, nil).items())
}

func TestArtifactDownloadWithoutLinker(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	path := "/api/v1/runs/" + f.artifactRun + "/artifacts/" + f.artifact

	h.links.mu.Lock()
	h.links.err = herald.Errorf(herald.CodeUnavailable, "blob storage unreachable")
	h.links.mu.Unlock()
	res := h.must(http.StatusServiceUnavailable, "GET", path, f.viewer, nil)
	assert.Contains(t, res.JSON["detail"], "blob storage unreachable")

	h.srv.links = nil
	res = h.must(http.StatusServiceUnavailable, "GET", path, f.viewer, nil)
	assert.Equal(t, "artifact downloads are not available", res.JSON["detail"])
	assert.Empty(t, res.Header.Get("Location"))
	assert.Empty(t, h.must(http.StatusOK, "GET", "/api/v1/audit?action=artifact.download", f.admin, nil).items(), "no link, no audit event")
}

func TestExpiredArtifactAnswersGone(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	run, err := herald.GetRecord[herald.Run](t.Context(), h.store, "acme", f.artifactRun)
	require.NoError(t, err)
	run.Artifacts[0].ExpiredAt = herald.At(time.Date(2027, 2, 26, 3, 17, 0, 0, time.UTC))
	require.NoError(t, herald.ReplaceRecord(t.Context(), h.store, run))

	got := h.must(http.StatusOK, "GET", "/api/v1/runs/"+f.artifactRun, f.viewer, nil).JSON
	assert.Equal(t, "2027-02-26T03:17:00.000Z", got["artifacts"].([]any)[0].(map[string]any)["expiredAt"], "the run says when its file expired")
	res := h.must(http.StatusGone, "GET", "/api/v1/runs/"+f.artifactRun+"/artifacts/"+f.artifact, f.viewer, nil)
	assert.Equal(t, "gone", res.JSON["code"])
	assert.Contains(t, res.JSON["detail"], "retention")
	assert.Empty(t, h.links.seen(), "no link is signed for a deleted file")
}

// auditDown is a store whose audit log cannot be written.
type auditDown struct{ *sqlite.Store }

func (s auditDown) Create(ctx context.Context, it herald.Item) (string, error) {
	if it.Kind == herald.KindAudit {
		return "", herald.Errorf(herald.CodeUnavailable, "audit container unavailable")
	}
	return s.Store.Create(ctx, it)
}

func TestNoLinkLeavesUnaudited(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme")
	h.srv = New(Config{Store: auditDown{h.store}, Auth: h.tokens.Validator(), Links: h.links, Now: h.clock,
		Log: slog.New(slog.NewJSONHandler(h.logs, nil))})
	res := h.must(http.StatusServiceUnavailable, "GET", "/api/v1/runs/"+f.artifactRun+"/artifacts/"+f.artifact, f.viewer, nil)
	assert.Empty(t, res.Header.Get("Location"), "no link without an audit record")
	assert.NotContains(t, res.Raw, linkSecret)
	assert.Contains(t, res.JSON["detail"], "audit")
}
