package azfunc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

const (
	// PortEnv is the environment variable through which the Functions host
	// passes the port the custom handler must listen on.
	PortEnv = "FUNCTIONS_CUSTOMHANDLER_PORT"

	// InvocationIDHeader carries the host's invocation id on every request it
	// sends, invocations and forwarded HTTP requests alike.
	InvocationIDHeader = "X-Azure-Functions-InvocationId"

	// DefaultMaxInvocationBytes limits the size of an invocation envelope.
	// A Standard-tier Service Bus message is at most 256 KiB; the host's
	// double JSON encoding can grow it up to about 7 times (a control byte
	// becomes \\u0001 once escaped twice), plus metadata. 16 MiB leaves room
	// for that and for Premium messages of a few MiB while bounding what a
	// broken caller can make us buffer. Forwarded HTTP requests are not
	// affected: the API applies its own limits.
	DefaultMaxInvocationBytes int64 = 16 << 20
)

// Function and binding names declared in functions/*/function.json. The
// binary registers its handlers under these names; a test checks that the
// function.json files agree.
const (
	FunctionScanSchedules  = "ScanSchedules"
	FunctionGenerateReport = "GenerateReport"
	FunctionDeliverReport  = "DeliverReport"
	// FunctionSweepArtifacts deletes artifacts past their tenant's
	// retention, daily at 03:17 UTC.
	FunctionSweepArtifacts = "SweepArtifacts"
	// FunctionAPI is the HTTP-trigger function whose requests are forwarded;
	// it is not registered with [Server].
	FunctionAPI = "Api"

	// BindingTimer is the timerTrigger binding name of ScanSchedules and
	// SweepArtifacts.
	BindingTimer = "timer"
	// BindingMessage is the serviceBusTrigger binding name of GenerateReport
	// and DeliverReport.
	BindingMessage = "msg"
)

// TimerFunc handles a timer-trigger invocation.
type TimerFunc func(ctx context.Context, t Timer) error

// MessageFunc handles one Service Bus message. Returning an error fails the
// invocation: the message is abandoned and redelivered, and dead-lettered
// after the queue's maxDeliveryCount.
type MessageFunc func(ctx context.Context, m ServiceBusMessage) error

// Response is the reply to a non-HTTP invocation. Outputs holds output
// binding values by binding name, Logs lines the host writes to the
// function's log (on success only), ReturnValue the $return binding value.
type Response struct {
	Outputs     map[string]any `json:"Outputs"`
	Logs        []string       `json:"Logs"`
	ReturnValue any            `json:"ReturnValue"`
}

// invoker decodes an invocation into a ready call plus log attributes. A
// decode error means a malformed invocation (400).
type invoker func(inv Invocation) (call func(ctx context.Context) error, attrs []any, err error)

// Server is the custom handler's http.Handler: registered non-HTTP functions
// are served at POST /<FunctionName>, everything else goes to the API
// handler. Register functions before serving; registration is not
// synchronised with ServeHTTP.
type Server struct {
	api      http.Handler
	log      *slog.Logger
	maxBytes int64
	aliases  map[string]string
	funcs    map[string]invoker
}

// Option configures a Server.
type Option func(*Server)

// WithMaxInvocationBytes sets the invocation envelope size limit (default
// [DefaultMaxInvocationBytes]); n <= 0 keeps the default.
func WithMaxInvocationBytes(n int64) Option {
	return func(s *Server) {
		if n > 0 {
			s.maxBytes = n
		}
	}
}

// WithPathAlias makes a forwarded request for path from reach the API
// handler as path to (query and everything else unchanged). NewServer
// installs /api/healthz -> /healthz and /api/readyz -> /readyz, because only
// paths under the "api" route prefix are forwarded by the host; an empty to
// removes an alias.
func WithPathAlias(from, to string) Option {
	return func(s *Server) {
		if to == "" {
			delete(s.aliases, from)
			return
		}
		s.aliases[from] = to
	}
}

// NewServer returns a Server that passes forwarded HTTP requests to api
// (http.NotFoundHandler() when nil) and logs to log (slog.Default() when nil).
func NewServer(api http.Handler, log *slog.Logger, opts ...Option) *Server {
	if api == nil {
		api = http.NotFoundHandler()
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		api:      api,
		log:      log,
		maxBytes: DefaultMaxInvocationBytes,
		aliases:  map[string]string{"/api/healthz": "/healthz", "/api/readyz": "/readyz"},
		funcs:    map[string]invoker{},
	}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Timer registers fn for the timer-trigger function name whose trigger
// binding is called binding. It panics on an invalid or duplicate name, an
// empty binding or a nil fn, like http.ServeMux does for bad patterns:
// these are wiring mistakes. Names are letters, digits, '_' and '-',
// starting with a letter, and may not be "api" (that path belongs to the
// forwarded API).
func (s *Server) Timer(name, binding string, fn TimerFunc) {
	s.register(name, binding, fn == nil, func(inv Invocation) (func(context.Context) error, []any, error) {
		t, err := DecodeTimer(inv, binding)
		if err != nil {
			return nil, nil, err
		}
		call := func(ctx context.Context) error { return fn(ctx, t) }
		return call, []any{slog.Bool("past_due", t.IsPastDue)}, nil
	})
}

// ServiceBus registers fn for the Service Bus-trigger function name whose
// trigger binding is called binding. It panics like [Server.Timer].
func (s *Server) ServiceBus(name, binding string, fn MessageFunc) {
	s.register(name, binding, fn == nil, func(inv Invocation) (func(context.Context) error, []any, error) {
		m, err := DecodeServiceBus(inv, binding)
		if err != nil {
			return nil, nil, err
		}
		call := func(ctx context.Context) error { return fn(ctx, m) }
		attrs := []any{slog.String("message_id", m.MessageID), slog.Int("delivery_count", m.DeliveryCount)}
		return call, attrs, nil
	})
}

func (s *Server) register(name, binding string, nilFn bool, inv invoker) {
	switch {
	case !validName(name):
		panic(fmt.Sprintf("azfunc: invalid function name %q", name))
	case binding == "":
		panic(fmt.Sprintf("azfunc: function %q: empty binding name", name))
	case nilFn:
		panic(fmt.Sprintf("azfunc: function %q: nil handler", name))
	}
	if _, dup := s.funcs[name]; dup {
		panic(fmt.Sprintf("azfunc: function %q registered twice", name))
	}
	s.funcs[name] = inv
}

// validName reports whether name is a usable function name: an Azure
// Functions name (letter first, then letters, digits, '_' or '-') other than
// "api", whose path /api could be reached by a forwarded request.
func validName(name string) bool {
	if name == "" || strings.EqualFold(name, "api") {
		return false
	}
	for i, c := range name {
		letter := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		other := (c >= '0' && c <= '9') || c == '_' || c == '-'
		if !letter && (i == 0 || !other) {
			return false
		}
	}
	return true
}

// ServeHTTP serves POST /<FunctionName> for registered functions and passes
// every other request to the API handler. The path must match exactly: a
// forwarded request always has a path under /api/, so it never matches.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		if name, ok := strings.CutPrefix(r.URL.Path, "/"); ok {
			if inv, ok := s.funcs[name]; ok {
				s.invoke(w, r, name, inv)
				return
			}
		}
	}
	if to, ok := s.aliases[r.URL.Path]; ok {
		r = withPath(r, to)
	}
	s.api.ServeHTTP(w, r)
}

// withPath returns a shallow copy of r whose URL path is path.
func withPath(r *http.Request, path string) *http.Request {
	r2 := r.WithContext(r.Context())
	u := *r.URL
	u.Path, u.RawPath = path, ""
	r2.URL = &u
	return r2
}

// invoke runs one non-HTTP invocation and writes the host reply:
// 200 on success, 400 for a malformed envelope or binding, 413 for an
// oversized envelope, 500 when the handler fails or panics.
func (s *Server) invoke(w http.ResponseWriter, r *http.Request, name string, inv invoker) {
	start := time.Now()
	ctx := r.Context()
	log := s.log.With(slog.String("function", name), slog.String("invocation_id", r.Header.Get(InvocationIDHeader)))

	in, status, err := s.readInvocation(w, r)
	var call func(context.Context) error
	var attrs []any
	if err == nil {
		if call, attrs, err = inv(in); err != nil {
			status = http.StatusBadRequest
		}
	}
	if err != nil {
		log.ErrorContext(ctx, "azfunc: malformed invocation", slog.Int("status", status), slog.Any("error", err))
		reply(w, status, fmt.Sprintf("%s: malformed invocation: %v", name, err))
		return
	}
	log = log.With(attrs...)

	err = safeCall(ctx, call)
	elapsed := time.Since(start)
	if err != nil {
		var p *panicError
		if errors.As(err, &p) {
			log.ErrorContext(ctx, "azfunc: function panicked", slog.Any("panic", p.value),
				slog.String("stack", string(p.stack)), slog.Duration("duration", elapsed))
		} else {
			log.ErrorContext(ctx, "azfunc: function failed", slog.Any("error", err), slog.Duration("duration", elapsed))
		}
		reply(w, http.StatusInternalServerError, fmt.Sprintf("%s failed after %s: %v", name, elapsed.Round(time.Millisecond), err))
		return
	}
	log.InfoContext(ctx, "azfunc: function succeeded", slog.Duration("duration", elapsed))
	reply(w, http.StatusOK, fmt.Sprintf("%s succeeded in %s", name, elapsed.Round(time.Millisecond)))
}

// readInvocation reads and parses the envelope, returning the status to reply
// with when it cannot.
func (s *Server) readInvocation(w http.ResponseWriter, r *http.Request) (Invocation, int, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return Invocation{}, http.StatusRequestEntityTooLarge,
				fmt.Errorf("invocation body exceeds %d bytes: %w", tooBig.Limit, err)
		}
		return Invocation{}, http.StatusBadRequest, fmt.Errorf("read invocation body: %w", err)
	}
	inv, err := ParseInvocation(body)
	if err != nil {
		return Invocation{}, http.StatusBadRequest, err
	}
	return inv, http.StatusOK, nil
}

// reply writes a Response with one log line. Outputs is always an object:
// the host maps it onto output bindings and ignores unknown names. The host
// logs a warning for every reply with empty Outputs or a null ReturnValue
// ("Outputs not set", "ReturnValue not set"); Herald's functions have no
// output bindings, so host.json raises that logger
// (Microsoft.Azure.WebJobs.Script.Workers.Http.DefaultHttpWorkerService) to
// Error rather than paying for two meaningless traces per invocation.
func reply(w http.ResponseWriter, status int, line string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	resp := Response{Outputs: map[string]any{}, Logs: []string{line}}
	// The status is already sent; a failed write means the host went away.
	_ = json.NewEncoder(w).Encode(resp)
}

// panicError carries a recovered panic and the stack where it happened.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// safeCall runs call, turning a panic into a *panicError.
func safeCall(ctx context.Context, call func(context.Context) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return call(ctx)
}

// AddrFrom returns the address to listen on in custom-handler mode:
// 127.0.0.1 (the host connects there) and the port in [PortEnv]. ok is false
// when the variable is unset or blank, meaning standalone mode; err reports a
// value that is not a port number. Pass os.Getenv in production.
func AddrFrom(getenv func(string) string) (addr string, ok bool, err error) {
	v := strings.TrimSpace(getenv(PortEnv))
	if v == "" {
		return "", false, nil
	}
	port, err := strconv.ParseUint(v, 10, 16)
	if err != nil || port == 0 {
		return "", true, fmt.Errorf("%s=%q is not a TCP port", PortEnv, v)
	}
	return net.JoinHostPort("127.0.0.1", strconv.FormatUint(port, 10)), true, nil
}
