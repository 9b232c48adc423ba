// Package httpapi is Herald's HTTP API: a chi router with authentication,
// role checks, tenant scoping, problem+json errors, cursor pagination, ETags
// and an audit record of every change.
package httpapi

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/heraldreports/herald/internal/herald"
)

// Store is what the API needs of the record store.
type Store interface {
	herald.Documents
	Ping(ctx context.Context) error
}

// Authenticator validates a bearer token.
type Authenticator interface {
	Validate(ctx context.Context, raw string) (herald.Principal, error)
}

// Sealer encrypts secrets (data-source DSNs) before they are stored.
type Sealer interface {
	Seal(plaintext []byte, associated string) ([]byte, error)
}

// ConnTester checks that a data source answers a trivial read-only query.
// It unseals the DSN itself: the API never sees it in the clear after storage.
type ConnTester interface {
	TestConnection(ctx context.Context, ds *herald.DataSource) error
}

// Config is what New needs.
type Config struct {
	Store  Store
	Auth   Authenticator
	Sealer Sealer
	Tester ConnTester
	Runs   RunService
	// Preview runs report queries for POST /reports/{id}/preview; nil
	// answers 503 there.
	Preview Previewer
	// Links signs artifact download links for GET
	// /runs/{id}/artifacts/{artifactId}; nil answers 503 there.
	Links ArtifactLinker
	Log   *slog.Logger
	Now   func() time.Time
	// AllowLocalPaths permits data sources of kind sqlite (files on the
	// server's disk). Off by default: a tenant must not read the server's files.
	AllowLocalPaths bool
	// Version is reported by /healthz.
	Version string
	// Home serves "/" and static files (the dashboard); nil serves a short page.
	Home http.Handler
}

// Server is the HTTP API. It implements http.Handler.
type Server struct {
	store      Store
	auth       Authenticator
	sealer     Sealer
	tester     ConnTester
	runsSvc    RunService
	previewer  Previewer
	links      ArtifactLinker
	log        *slog.Logger
	now        func() time.Time
	localPaths bool
	version    string
	router     chi.Router
}

//go:embed openapi.json
var openAPIDocument []byte

// New builds the API server.
func New(cfg Config) *Server {
	s := &Server{
		store: cfg.Store, auth: cfg.Auth, sealer: cfg.Sealer, tester: cfg.Tester, runsSvc: cfg.Runs,
		previewer: cfg.Preview, links: cfg.Links,
		log: cfg.Log, now: cfg.Now, localPaths: cfg.AllowLocalPaths, version: cfg.Version,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.router = s.routes(cfg.Home)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// Router exposes the route tree (for route walking in tests and docs).
func (s *Server) Router() chi.Routes { return s.router }

func (s *Server) routes(home http.Handler) chi.Router {
	r := chi.NewRouter()
	r.Use(s.observe, secure)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, herald.Errorf(herald.CodeNotFound, "no such path: %s", r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, herald.Errorf(codeMethodNotAllowed, "method %s is not allowed on %s", r.Method, r.URL.Path))
	})
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Get("/api/openapi.json", serveOpenAPI)
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(limitBody, withTimeout(60*time.Second), s.authenticate, requireRole(herald.RoleViewer))
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, r, herald.Errorf(herald.CodeNotFound, "no such path: %s", r.URL.Path))
		})
		r.Get("/me", s.me)
		r.Get("/tenant", s.getTenant)
		r.With(requireRole(herald.RoleAdmin)).Put("/tenant", s.putTenant)
		r.Route("/datasources", func(r chi.Router) {
			ds := s.dataSources()
			ds.routes(r)
			r.With(requireRole(herald.RoleAdmin)).Post("/{id}/test", s.testDataSource)
		})
		r.Route("/reports", func(r chi.Router) {
			s.reports().routes(r)
			r.With(requireRole(herald.RoleEditor)).Post("/{id}/runs", s.runReport)
			r.With(requireRole(herald.RoleEditor)).Post("/{id}/preview", s.previewReport)
		})
		r.Route("/schedules", func(r chi.Router) {
			s.schedules().routes(r)
			r.With(requireRole(herald.RoleEditor)).Post("/{id}/pause", s.pauseSchedule)
			r.With(requireRole(herald.RoleEditor)).Post("/{id}/resume", s.resumeSchedule)
			r.With(requireRole(herald.RoleEditor)).Post("/{id}/backfill", s.backfillSchedule)
			r.Get("/{id}/next", s.nextRuns)
		})
		r.Route("/runs", s.runRoutes)
		r.Post("/cron/preview", s.previewCron)
		r.With(requireRole(herald.RoleAdmin)).Get("/audit", s.listAudit)
	})
	if home == nil {
		home = http.HandlerFunc(serveIndex)
	}
	r.Handle("/*", home)
	return r
}

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPIDocument)
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.version})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		writeError(w, r, herald.Wrap(err, herald.CodeUnavailable, "store unreachable"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
