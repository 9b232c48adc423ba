package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/auth"

	"github.com/heraldreports/herald/internal/render"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		check func(t *testing.T, c config)
		err   string
	}{
		{name: "defaults", check: func(t *testing.T, c config) {
			assert.Equal(t, "127.0.0.1:8080", c.Addr)
			assert.Equal(t, "./data", c.DataDir)
			assert.Equal(t, slog.LevelInfo, c.LogLevel)
			assert.Empty(t, c.CustomHandler)
		}},
		{name: "environment", env: map[string]string{"HERALD_ADDR": ":9000", "HERALD_DATA_DIR": "/var/lib/herald", "HERALD_LOG_LEVEL": "debug"}, check: func(t *testing.T, c config) {
			assert.Equal(t, ":9000", c.Addr)
			assert.Equal(t, "/var/lib/herald/herald.db", c.dbPath())
			assert.Equal(t, slog.LevelDebug, c.LogLevel)
		}},
		{name: "flags win", env: map[string]string{"HERALD_ADDR": ":9000"}, args: []string{"--addr", "127.0.0.1:7000", "--data-dir", "/tmp/x"}, check: func(t *testing.T, c config) {
			assert.Equal(t, "127.0.0.1:7000", c.Addr)
			assert.Equal(t, "/tmp/x", c.DataDir)
		}},
		{name: "custom handler", env: map[string]string{"FUNCTIONS_CUSTOMHANDLER_PORT": "7071"}, check: func(t *testing.T, c config) {
			assert.Equal(t, "127.0.0.1:7071", c.CustomHandler)
		}},
		{name: "bad port", env: map[string]string{"FUNCTIONS_CUSTOMHANDLER_PORT": "http"}, err: "FUNCTIONS_CUSTOMHANDLER_PORT"},
		{name: "bad level", env: map[string]string{"HERALD_LOG_LEVEL": "loud"}, err: "HERALD_LOG_LEVEL"},
		{name: "bad bool", env: map[string]string{"HERALD_ALLOW_LOCAL_DATASOURCES": "sure"}, err: "HERALD_ALLOW_LOCAL_DATASOURCES"},
		{name: "no token source", env: map[string]string{"HERALD_DISABLE_LOCAL_TOKENS": "true"}, err: "HERALD_OIDC_JWKS_URL"},
		{name: "jwks without issuers", env: map[string]string{"HERALD_OIDC_JWKS_URL": "https://login.example.com/keys"}, err: "HERALD_OIDC_ISSUERS"},
		{name: "bad shutdown timeout", env: map[string]string{"HERALD_SHUTDOWN_TIMEOUT": "soon"}, err: "HERALD_SHUTDOWN_TIMEOUT"},
		{name: "artifact defaults", check: func(t *testing.T, c config) {
			assert.Equal(t, blobFile, c.Artifacts.Backend)
			assert.Equal(t, "http://127.0.0.1:8080", c.publicURL())
			assert.Equal(t, int64(render.DefaultPDFMaxRows), c.Artifacts.PDFMaxRows)
			assert.Equal(t, 24*time.Hour, c.Artifacts.RetentionEvery)
			assert.Equal(t, "data/artifacts", c.filesDir())
		}},
		{name: "azure blobs", env: map[string]string{
			"HERALD_BLOB_BACKEND": "azure", "HERALD_BLOB_ACCOUNT_URL": "https://acct.blob.core.windows.net", "HERALD_BLOB_CONTAINER": "files",
			"HERALD_PUBLIC_URL": "https://herald.example.com/", "HERALD_PDF_MAX_ROWS": "1000", "HERALD_RETENTION_INTERVAL": "6h",
		}, check: func(t *testing.T, c config) {
			assert.Equal(t, blobAzure, c.Artifacts.Backend)
			assert.Equal(t, "files", c.Artifacts.Container)
			assert.Equal(t, "https://herald.example.com", c.publicURL())
			assert.Equal(t, int64(1000), c.Artifacts.PDFMaxRows)
			assert.Equal(t, 6*time.Hour, c.Artifacts.RetentionEvery)
		}},
		{name: "lease too short", env: map[string]string{"HERALD_RUN_LEASE": "500ms"}, err: "HERALD_RUN_LEASE must be at least 1s"},
		{name: "file links behind the Functions host", env: map[string]string{"FUNCTIONS_CUSTOMHANDLER_PORT": "7072"}, check: func(t *testing.T, c config) {
			assert.Equal(t, "http://localhost:7071/api", c.publicURL(), "under the API route prefix, on the host's port")
		}},
		{name: "public file links behind the Functions host", env: map[string]string{"FUNCTIONS_CUSTOMHANDLER_PORT": "7072", "HERALD_PUBLIC_URL": "https://herald.azurewebsites.net"}, check: func(t *testing.T, c config) {
			assert.Equal(t, "https://herald.azurewebsites.net/api", c.publicURL())
		}},
		{name: "unknown blob backend", env: map[string]string{"HERALD_BLOB_BACKEND": "s3"}, err: "HERALD_BLOB_BACKEND must be file or azure"},
		{name: "azure without account", env: map[string]string{"HERALD_BLOB_BACKEND": "azure"}, err: "exactly one of"},
		{name: "azure with both", env: map[string]string{"HERALD_BLOB_BACKEND": "azure", "HERALD_BLOB_ACCOUNT_URL": "https://a", "HERALD_BLOB_CONNECTION_STRING": "x"}, err: "exactly one of"},
		{name: "relative public url", env: map[string]string{"HERALD_PUBLIC_URL": "herald.example.com"}, err: "HERALD_PUBLIC_URL"},
		{name: "bad pdf rows", env: map[string]string{"HERALD_PDF_MAX_ROWS": "0"}, err: "HERALD_PDF_MAX_ROWS"},
		{name: "bad retention interval", env: map[string]string{"HERALD_RETENTION_INTERVAL": "daily"}, err: "HERALD_RETENTION_INTERVAL"},
		{name: "unknown flag", args: []string{"--port", "1"}, err: "usage"},
		{name: "stray argument", args: []string{"now"}, err: "usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(tt.args, env(tt.env), io.Discard)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestTokenCommand(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"token", "--tenant", "acme", "--role", "editor", "--data-dir", dir, "--ttl", "2h"}, env(nil), &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	key, err := auth.LoadOrCreateLocalKey(dir)
	require.NoError(t, err)
	v, err := auth.NewValidator(auth.Config{Local: key})
	require.NoError(t, err)
	p, err := v.Validate(context.Background(), strings.TrimSpace(out.String()))
	require.NoError(t, err)
	assert.Equal(t, "acme", p.TenantID)
	assert.Equal(t, "local-editor", p.Subject)

	for _, args := range [][]string{
		{"token"},
		{"token", "--tenant", "acme"},
		{"token", "--tenant", "acme", "--role", "editor", "extra"},
		{"nonsense"},
	} {
		assert.Equal(t, 2, run(context.Background(), args, env(nil), io.Discard, io.Discard), "%v", args)
	}
	assert.Equal(t, 1, run(context.Background(), []string{"token", "--tenant", "acme", "--role", "owner", "--data-dir", dir}, env(nil), io.Discard, io.Discard))
	assert.Equal(t, 1, run(context.Background(), []string{"token", "--tenant", "../etc", "--role", "admin", "--data-dir", dir}, env(nil), io.Discard, io.Discard))
}

// lockedBuffer is an io.Writer safe for the server's concurrent log writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var startedURL = regexp.MustCompile(`"url":"(http://[^"]+)/"`)

// startServe runs `herald serve` until the returned stop is called.
func startServe(t *testing.T, vars map[string]string, args ...string) (base string, logs *lockedBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs = &lockedBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"serve"}, args...), env(vars), logs, logs) }()
	require.Eventually(t, func() bool { return startedURL.MatchString(logs.String()) }, 20*time.Second, 20*time.Millisecond, "server did not start: %s", logs.String())
	base = startedURL.FindStringSubmatch(logs.String())[1]
	stopped := false
	stop = func() int {
		if stopped {
			return 0
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(30 * time.Second):
			t.Fatal("server did not stop")
			return -1
		}
	}
	t.Cleanup(func() { stop() })
	return base, logs, stop
}

func get(t *testing.T, url, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func tokenFor(t *testing.T, dir, tenant, role string) string {
	t.Helper()
	var out bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"token", "--tenant", tenant, "--role", role, "--data-dir", dir}, env(nil), &out, io.Discard))
	return strings.TrimSpace(out.String())
}

func TestServeStandalone(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"HERALD_DATA_DIR": dir}
	base, logs, stop := startServe(t, vars, "--addr", "127.0.0.1:0")
	code, health := get(t, base+"/healthz", "")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok", health["status"])
	code, _ = get(t, base+"/readyz", "")
	assert.Equal(t, http.StatusOK, code)

	token := tokenFor(t, dir, "demo", "admin")
	code, me := get(t, base+"/api/v1/me", token)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "Demo", me["tenant"].(map[string]any)["name"])
	code, sources := get(t, base+"/api/v1/datasources", token)
	require.Equal(t, http.StatusOK, code)
	require.Len(t, sources["items"], 1, "the demo data source is seeded")
	code, _ = get(t, base+"/api/v1/me", "")
	assert.Equal(t, http.StatusUnauthorized, code)

	// Run now: the in-process worker takes the job and finishes the run.
	_, reports := get(t, base+"/api/v1/reports", token)
	reportID := reports["items"].([]any)[0].(map[string]any)["id"].(string)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/api/v1/reports/"+reportID+"/runs", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var run map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&run))
	_ = resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%v", run)
	require.Eventually(t, func() bool {
		_, got := get(t, base+"/api/v1/runs/"+run["id"].(string), token)
		return got["status"] == "succeeded"
	}, 15*time.Second, 50*time.Millisecond, "the run finishes")

	assert.Equal(t, 0, stop(), "graceful shutdown exits 0")
	assert.Contains(t, logs.String(), `"msg":"herald stopped"`)
	assert.Contains(t, logs.String(), `"tenantId":"demo"`, "access log lines name the tenant")

	// A restart keeps the data and seeds nothing twice.
	base, _, stop = startServe(t, vars, "--addr", "127.0.0.1:0")
	_, sources = get(t, base+"/api/v1/datasources", token)
	assert.Len(t, sources["items"], 1)
	_, reports = get(t, base+"/api/v1/reports", token)
	assert.Len(t, reports["items"], 2)
	assert.Equal(t, 0, stop())
}

func TestServeAsCustomHandler(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	dir := t.TempDir()
	base, logs, stop := startServe(t, map[string]string{"HERALD_DATA_DIR": dir, "FUNCTIONS_CUSTOMHANDLER_PORT": fmt.Sprint(port)})
	assert.Equal(t, fmt.Sprintf("http://127.0.0.1:%d", port), base)
	assert.Contains(t, logs.String(), `"mode":"azure-functions"`)
	code, _ := get(t, base+"/api/healthz", "") // the host forwards only /api/...
	assert.Equal(t, http.StatusOK, code)
	code, me := get(t, base+"/api/v1/me", tokenFor(t, dir, "demo", "viewer"))
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "viewer", me["role"])
	assert.Equal(t, 0, stop())
}

func TestServeRefusesBadConfiguration(t *testing.T) {
	var errOut bytes.Buffer
	code := run(context.Background(), []string{"serve"}, env(map[string]string{"HERALD_DATA_DIR": t.TempDir(), "HERALD_SECRET_KEY": "short"}), io.Discard, &errOut)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut.String(), "HERALD_SECRET_KEY")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	errOut.Reset()
	code = run(context.Background(), []string{"serve", "--addr", ln.Addr().String(), "--data-dir", t.TempDir()}, env(nil), io.Discard, &errOut)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut.String(), "listening on")
}

func TestCronCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"cron", "30 2 * * *", "--tz", "Europe/Berlin", "-n", "3", "--from", "2026-03-28T00:00:00Z"}, env(nil), &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	assert.Equal(t, "# At 02:30, Europe/Berlin\n"+
		"2026-03-28T01:30:00Z  2026-03-28T02:30:00+01:00 CET\n"+
		"2026-03-29T01:00:00Z  2026-03-29T03:00:00+02:00 CEST  (DST: 2026-03-29 02:30:00 does not exist)\n"+
		"2026-03-30T00:30:00Z  2026-03-30T02:30:00+02:00 CEST\n", out.String())

	out.Reset()
	require.Equal(t, 0, run(context.Background(), []string{"cron", "--tz", "America/New_York", "-n", "2", "--from", "2026-11-01T04:00:00Z", "30 1 * * *"}, env(nil), &out, io.Discard))
	assert.Contains(t, out.String(), "2026-11-01T05:30:00Z  2026-11-01T01:30:00-04:00 EDT", "flags before the expression; the repeated 01:30 fires once")

	for _, args := range [][]string{{"cron"}, {"cron", "a", "b"}, {"cron", "--nope", "x"}} {
		assert.Equal(t, 2, run(context.Background(), args, env(nil), io.Discard, io.Discard), "%v", args)
	}
	errOut.Reset()
	assert.Equal(t, 1, run(context.Background(), []string{"cron", "0 25 * * *", "--tz", "Mars/Base"}, env(nil), io.Discard, &errOut))
	assert.Contains(t, errOut.String(), "hour field")
	assert.Contains(t, errOut.String(), "Mars/Base")
}
