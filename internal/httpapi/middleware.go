package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/heraldreports/herald/internal/auth"
	"github.com/heraldreports/herald/internal/herald"
)

type (
	ctxLogger    struct{}
	ctxRequestID struct{}
	ctxPrincipal struct{}
	ctxAccess    struct{}
)

// access carries what inner handlers learn about a request (who made it)
// back to the access log written by observe.
type access struct{ principal *herald.Principal }

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(ctxRequestID{}).(string)
	return id
}

func principalFrom(ctx context.Context) (herald.Principal, bool) {
	p, ok := ctx.Value(ctxPrincipal{}).(herald.Principal)
	return p, ok
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// observe gives every request an id (the caller's X-Request-Id when it is
// sane), a logger carrying it, an access log line and panic recovery.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		id := r.Header.Get("X-Request-Id")
		if !requestIDPattern.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		log := s.log.With("requestId", id)
		ctx := context.WithValue(r.Context(), ctxRequestID{}, id)
		ctx = context.WithValue(ctx, ctxLogger{}, log)
		acc := &access{}
		ctx = context.WithValue(ctx, ctxAccess{}, acc)
		r = r.WithContext(ctx)
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		defer func() {
			if rec := recover(); rec != nil {
				if rec == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as the net/http docs do
					panic(rec)
				}
				log.Error("panic serving request", "panic", fmt.Sprint(rec), "stack", string(debug.Stack()))
				if ww.Status() == 0 {
					writeError(ww, r, herald.Errorf(herald.CodeInternal, "internal error"))
				}
			}
			attrs := []any{
				"method", r.Method, "path", r.URL.Path, "status", ww.Status(),
				"bytes", ww.BytesWritten(), "durationMs", float64(s.now().Sub(start).Microseconds()) / 1000,
			}
			if p := acc.principal; p != nil {
				attrs = append(attrs, "tenantId", p.TenantID, "subject", p.Subject)
			}
			level := slog.LevelInfo
			if ww.Status() >= 500 {
				level = slog.LevelError
			}
			log.Log(r.Context(), level, "request", attrs...)
		}()
		next.ServeHTTP(ww, r)
	})
}

// secure sets headers every response carries.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// limitBody caps every request body at MaxBodyBytes; a declared larger
// length is refused before anything is read.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBodyBytes {
			writeError(w, r, herald.Errorf(herald.CodeTooLarge, "request body is larger than %d bytes", MaxBodyBytes))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// authenticate requires a valid bearer token and puts the principal in the context.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		raw, ok := auth.BearerToken(r)
		if !ok {
			writeError(w, r, herald.Errorf(herald.CodeUnauthenticated, "missing bearer token: send Authorization: Bearer <token>"))
			return
		}
		p, err := s.auth.Validate(r.Context(), raw)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if acc, ok := r.Context().Value(ctxAccess{}).(*access); ok {
			acc.principal = &p
		}
		logFrom(r.Context()).Debug("authenticated", "tenantId", p.TenantID, "subject", p.Subject, "role", p.Role())
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxPrincipal{}, p)))
	})
}

// requireRole allows the request only for principals holding at least role.
func requireRole(role herald.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := principalFrom(r.Context())
			if !ok || !p.Can(role) {
				writeError(w, r, herald.Errorf(herald.CodeForbidden, "this action needs the %s role", role))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// withTimeout bounds the time a request may take.
func withTimeout(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}
