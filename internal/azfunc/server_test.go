package azfunc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a log sink safe for the server goroutines of httptest.Server.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records decodes the JSON log lines written so far.
func (b *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		out = append(out, rec)
	}
	return out
}

// seenRequest is what the fake API handler observed.
type seenRequest struct {
	method, path, rawQuery, body string
	header                       http.Header
}

// harness wires a Server with recording handlers.
type harness struct {
	srv      *Server
	logs     *syncBuffer
	mu       sync.Mutex
	api      []seenRequest
	timers   []Timer
	messages []ServiceBusMessage
	fail     error
	panicMsg string
}

func newHarness(t *testing.T, opts ...Option) *harness {
	t.Helper()
	h := &harness{logs: &syncBuffer{}}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		h.mu.Lock()
		h.api = append(h.api, seenRequest{r.Method, r.URL.Path, r.URL.RawQuery, string(body), r.Header.Clone()})
		h.mu.Unlock()
		w.Header().Set("X-From", "api")
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "api:"+r.URL.Path)
	})
	log := slog.New(slog.NewJSONHandler(h.logs, nil))
	h.srv = NewServer(api, log, opts...)
	h.srv.Timer(FunctionScanSchedules, BindingTimer, func(ctx context.Context, tm Timer) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.timers = append(h.timers, tm)
		return h.fail
	})
	handle := func(ctx context.Context, m ServiceBusMessage) error {
		h.mu.Lock()
		h.messages = append(h.messages, m)
		fail, p := h.fail, h.panicMsg
		h.mu.Unlock()
		if p != "" {
			panic(p)
		}
		return fail
	}
	h.srv.ServiceBus(FunctionGenerateReport, BindingMessage, handle)
	h.srv.ServiceBus(FunctionDeliverReport, BindingMessage, handle)
	return h
}

func testdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return string(b)
}

// invoke sends an invocation the way the host does and decodes the reply.
func (h *harness) invoke(t *testing.T, function, body string) (int, Response) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/"+function, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(InvocationIDHeader, "inv-123")
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	assert.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
	var resp Response
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp), rec.Body.String())
	return rec.Code, resp
}

func TestServerInvocations(t *testing.T) {
	tests := []struct {
		name       string
		function   string
		file       string
		wantStatus int
		wantLog    string
	}{
		{name: "timer", function: FunctionScanSchedules, file: "timer.json", wantStatus: 200, wantLog: "ScanSchedules succeeded"},
		{name: "timer first run", function: FunctionScanSchedules, file: "timer_first_run.json", wantStatus: 200},
		{name: "service bus double-encoded", function: FunctionGenerateReport, file: "servicebus_double.json", wantStatus: 200, wantLog: "GenerateReport succeeded"},
		{name: "service bus single-encoded", function: FunctionDeliverReport, file: "servicebus_single.json", wantStatus: 200},
		{name: "service bus numbers", function: FunctionDeliverReport, file: "servicebus_numbers.json", wantStatus: 200},
		{name: "service bus base64", function: FunctionGenerateReport, file: "servicebus_base64.json", wantStatus: 200},
		{name: "truncated JSON", function: FunctionGenerateReport, file: "malformed_truncated.json", wantStatus: 400, wantLog: "malformed invocation"},
		{name: "timer payload to a message function", function: FunctionGenerateReport, file: "timer.json", wantStatus: 400, wantLog: `binding "msg": value missing`},
		{name: "message payload to the timer", function: FunctionScanSchedules, file: "servicebus_double.json", wantStatus: 400, wantLog: "decode timer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			status, resp := h.invoke(t, tt.function, testdata(t, tt.file))
			assert.Equal(t, tt.wantStatus, status)
			assert.NotNil(t, resp.Outputs, `"Outputs" must be an object`)
			assert.Nil(t, resp.ReturnValue)
			require.Len(t, resp.Logs, 1)
			assert.Contains(t, resp.Logs[0], tt.wantLog)
			assert.Empty(t, h.api, "invocations never reach the API")

			recs := h.logs.records(t)
			require.Len(t, recs, 1)
			assert.Equal(t, tt.function, recs[0]["function"])
			assert.Equal(t, "inv-123", recs[0]["invocation_id"])
		})
	}
}

func TestServerPassesDecodedValues(t *testing.T) {
	h := newHarness(t)
	status, _ := h.invoke(t, FunctionGenerateReport, testdata(t, "servicebus_double.json"))
	require.Equal(t, http.StatusOK, status)
	require.Len(t, h.messages, 1)
	m := h.messages[0]
	assert.JSONEq(t, `{"runId":"run_1","tenantId":"t_1"}`, string(m.Body))
	assert.Equal(t, "run_1", m.MessageID)
	assert.Equal(t, 1, m.DeliveryCount)

	recs := h.logs.records(t)
	require.Len(t, recs, 1)
	assert.Equal(t, "INFO", recs[0]["level"])
	assert.Equal(t, "run_1", recs[0]["message_id"])
	assert.EqualValues(t, 1, recs[0]["delivery_count"])

	status, _ = h.invoke(t, FunctionScanSchedules, testdata(t, "timer_first_run.json"))
	require.Equal(t, http.StatusOK, status)
	require.Len(t, h.timers, 1)
	assert.True(t, h.timers[0].IsPastDue)
}

func TestServerHandlerFailures(t *testing.T) {
	t.Run("error", func(t *testing.T) {
		h := newHarness(t)
		h.fail = errors.New("query timed out")
		status, resp := h.invoke(t, FunctionGenerateReport, testdata(t, "servicebus_double.json"))
		assert.Equal(t, http.StatusInternalServerError, status)
		require.Len(t, resp.Logs, 1)
		assert.Contains(t, resp.Logs[0], "GenerateReport failed")
		assert.Contains(t, resp.Logs[0], "query timed out")

		recs := h.logs.records(t)
		require.Len(t, recs, 1)
		assert.Equal(t, "ERROR", recs[0]["level"])
		assert.Equal(t, "azfunc: function failed", recs[0]["msg"])
		assert.Equal(t, "query timed out", recs[0]["error"])
		assert.Equal(t, "run_1", recs[0]["message_id"])
	})
	t.Run("panic", func(t *testing.T) {
		h := newHarness(t)
		h.panicMsg = "nil map write"
		status, resp := h.invoke(t, FunctionDeliverReport, testdata(t, "servicebus_double.json"))
		assert.Equal(t, http.StatusInternalServerError, status)
		require.Len(t, resp.Logs, 1)
		assert.Contains(t, resp.Logs[0], "panic: nil map write")

		recs := h.logs.records(t)
		require.Len(t, recs, 1)
		assert.Equal(t, "azfunc: function panicked", recs[0]["msg"])
		assert.Equal(t, FunctionDeliverReport, recs[0]["function"])
		assert.Equal(t, "nil map write", recs[0]["panic"])
		assert.Contains(t, recs[0]["stack"], "server_test.go")
	})
	t.Run("timer error", func(t *testing.T) {
		h := newHarness(t)
		h.fail = errors.New("store down")
		status, _ := h.invoke(t, FunctionScanSchedules, testdata(t, "timer.json"))
		assert.Equal(t, http.StatusInternalServerError, status)
	})
}

func TestServerBodyLimit(t *testing.T) {
	h := newHarness(t, WithMaxInvocationBytes(64))
	status, resp := h.invoke(t, FunctionGenerateReport, testdata(t, "servicebus_double.json"))
	assert.Equal(t, http.StatusRequestEntityTooLarge, status)
	assert.Contains(t, resp.Logs[0], "exceeds 64 bytes")
	assert.Empty(t, h.messages)
}

func TestServerRoutesToAPI(t *testing.T) {
	timer := testdata(t, "timer.json")
	tests := []struct {
		name, method, target, body string
		wantPath                   string
	}{
		{name: "unknown function", method: "POST", target: "/SomethingElse", body: timer, wantPath: "/SomethingElse"},
		{name: "function name in another case", method: "POST", target: "/scanschedules", body: timer, wantPath: "/scanschedules"},
		{name: "GET on a function path", method: "GET", target: "/ScanSchedules", wantPath: "/ScanSchedules"},
		{name: "forwarded POST under /api", method: "POST", target: "/api/GenerateReport", body: testdata(t, "servicebus_double.json"), wantPath: "/api/GenerateReport"},
		{name: "trailing slash", method: "POST", target: "/ScanSchedules/", body: timer, wantPath: "/ScanSchedules/"},
		{name: "host start-up ping", method: "GET", target: "/", wantPath: "/"},
		{name: "health alias", method: "GET", target: "/api/healthz?verbose=1", wantPath: "/healthz"},
		{name: "readiness alias", method: "HEAD", target: "/api/readyz", wantPath: "/readyz"},
		{name: "health in standalone shape", method: "GET", target: "/healthz", wantPath: "/healthz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			rec := httptest.NewRecorder()
			h.srv.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body)))
			assert.Equal(t, http.StatusTeapot, rec.Code)
			require.Len(t, h.api, 1)
			assert.Equal(t, tt.wantPath, h.api[0].path)
			assert.Equal(t, tt.body, h.api[0].body)
			assert.Empty(t, h.timers)
			assert.Empty(t, h.messages)
		})
	}
}

// TestServerForwardedRequest sends a request over a real connection, as the
// host does with enableForwardingHttpRequest, and checks that the API sees it
// unchanged and that its response comes back unchanged.
func TestServerForwardedRequest(t *testing.T) {
	h := newHarness(t)
	ts := httptest.NewServer(h.srv)
	defer ts.Close()

	body := `{"name":"Weekly sales","query":"select 1"}`
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, ts.URL+"/api/v1/reports/rep_1?dryRun=true&x=%2F", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer abc.def.ghi")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("If-Match", `"etag-1"`)
	req.Header.Add("X-Multi", "a")
	req.Header.Add("X-Multi", "b")
	req.Header.Set(InvocationIDHeader, "inv-http")

	resp, err := ts.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusTeapot, resp.StatusCode)
	assert.Equal(t, "api", resp.Header.Get("X-From"))
	assert.Equal(t, "api:/api/v1/reports/rep_1", string(got))

	require.Len(t, h.api, 1)
	seen := h.api[0]
	assert.Equal(t, http.MethodPatch, seen.method)
	assert.Equal(t, "/api/v1/reports/rep_1", seen.path)
	assert.Equal(t, "dryRun=true&x=%2F", seen.rawQuery)
	assert.Equal(t, body, seen.body)
	assert.Equal(t, "Bearer abc.def.ghi", seen.header.Get("Authorization"))
	assert.Equal(t, `"etag-1"`, seen.header.Get("If-Match"))
	assert.Equal(t, []string{"a", "b"}, seen.header.Values("X-Multi"))
	assert.Equal(t, "inv-http", seen.header.Get(InvocationIDHeader))
	assert.Empty(t, h.logs.String(), "forwarded requests are the API's to log")
}

// TestServerOverHTTP replays the recorded payloads over a real connection,
// concurrently, as the host does under load.
func TestServerOverHTTP(t *testing.T) {
	h := newHarness(t)
	ts := httptest.NewServer(h.srv)
	defer ts.Close()

	files := []struct{ function, file string }{
		{FunctionScanSchedules, "timer.json"},
		{FunctionGenerateReport, "servicebus_double.json"},
		{FunctionDeliverReport, "servicebus_single.json"},
		{FunctionGenerateReport, "servicebus_base64.json"},
	}
	var wg sync.WaitGroup
	for _, f := range files {
		body := testdata(t, f.file)
		wg.Go(func() {
			resp, err := ts.Client().Post(ts.URL+"/"+f.function, "application/json", strings.NewReader(body))
			if !assert.NoError(t, err) {
				return
			}
			defer resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode, f.file)
			var r Response
			assert.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
		})
	}
	wg.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	assert.Len(t, h.timers, 1)
	assert.Len(t, h.messages, 3)
}

func TestServerCancellation(t *testing.T) {
	srv := NewServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	srv.ServiceBus("Slow", "msg", func(ctx context.Context, m ServiceBusMessage) error {
		<-ctx.Done()
		return ctx.Err()
	})
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/Slow", strings.NewReader(testdata(t, "servicebus_double.json")))
	cancel()
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusInternalServerError, rec.Code, "the host gave up: the handler sees the cancellation")
}

func TestServerRegistrationPanics(t *testing.T) {
	noop := func(context.Context, Timer) error { return nil }
	tests := []struct {
		name    string
		fn      func(s *Server)
		wantMsg string
	}{
		{name: "empty name", fn: func(s *Server) { s.Timer("", "timer", noop) }, wantMsg: "invalid function name"},
		{name: "api", fn: func(s *Server) { s.Timer("Api", "timer", noop) }, wantMsg: "invalid function name"},
		{name: "slash", fn: func(s *Server) { s.Timer("a/b", "timer", noop) }, wantMsg: "invalid function name"},
		{name: "leading digit", fn: func(s *Server) { s.Timer("1x", "timer", noop) }, wantMsg: "invalid function name"},
		{name: "empty binding", fn: func(s *Server) { s.Timer("X", "", noop) }, wantMsg: "empty binding"},
		{name: "nil timer", fn: func(s *Server) { s.Timer("X", "timer", nil) }, wantMsg: "nil handler"},
		{name: "nil message", fn: func(s *Server) { s.ServiceBus("X", "msg", nil) }, wantMsg: "nil handler"},
		{name: "duplicate", fn: func(s *Server) { s.Timer("X", "timer", noop); s.Timer("X", "timer", noop) }, wantMsg: "registered twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(http.NotFoundHandler(), nil)
			defer func() {
				v := recover()
				require.NotNil(t, v, "want a panic")
				assert.Contains(t, fmt.Sprint(v), tt.wantMsg)
			}()
			tt.fn(s)
		})
	}
	s := NewServer(http.NotFoundHandler(), nil)
	assert.NotPanics(t, func() { s.Timer("Scan_Schedules-2", "timer", noop) })
}
