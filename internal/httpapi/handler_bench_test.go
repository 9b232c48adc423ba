package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/heraldreports/herald/internal/auth/authtest"
	"github.com/heraldreports/herald/internal/sqlite"
)

// BenchmarkHandler measures one request through the whole handler chain
// (auth, store, JSON) without HTTP transport, one tenant of 1,000 reports.
func BenchmarkHandler(b *testing.B) {
	store, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "herald.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	ids := seedReports(b, store, 1, 1000)[0]
	tokens := authtest.New(b)
	srv := New(Config{Store: store, Auth: tokens.Validator(), Log: slog.New(slog.DiscardHandler)})
	token := tokens.Token(tenantName(0), "viewer")
	for _, bc := range []struct{ name, path string }{
		{"list50", "/api/v1/reports?limit=50"},
		{"get", "/api/v1/reports/" + ids[500]},
		{"healthz", "/healthz"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, bc.path, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
