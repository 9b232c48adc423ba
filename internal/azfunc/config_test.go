package azfunc

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// functionsDir is the function app root, relative to this package.
const functionsDir = "../../functions"

// binding is the subset of function.json binding fields Herald uses.
type binding struct {
	Type         string   `json:"type"`
	Direction    string   `json:"direction"`
	Name         string   `json:"name"`
	Schedule     string   `json:"schedule"`
	UseMonitor   *bool    `json:"useMonitor"`
	RunOnStartup *bool    `json:"runOnStartup"`
	QueueName    string   `json:"queueName"`
	Connection   string   `json:"connection"`
	Cardinality  string   `json:"cardinality"`
	AuthLevel    string   `json:"authLevel"`
	Route        string   `json:"route"`
	Methods      []string `json:"methods"`
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path) // #nosec G304 -- test fixture path
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v), path)
}

func ptr[T any](v T) *T { return &v }

// TestFunctionJSON checks every function folder against the names the binary
// registers: renaming a folder or a binding breaks this test.
func TestFunctionJSON(t *testing.T) {
	want := map[string][]binding{
		FunctionScanSchedules: {{
			Type: "timerTrigger", Direction: "in", Name: BindingTimer,
			Schedule: "0 */1 * * * *", UseMonitor: ptr(true), RunOnStartup: ptr(false),
		}},
		FunctionSweepArtifacts: {{
			Type: "timerTrigger", Direction: "in", Name: BindingTimer,
			Schedule: "0 17 3 * * *", UseMonitor: ptr(true), RunOnStartup: ptr(false),
		}},
		FunctionGenerateReport: {{
			Type: "serviceBusTrigger", Direction: "in", Name: BindingMessage,
			QueueName: "%HERALD_GENERATE_QUEUE%", Connection: "ServiceBusConnection", Cardinality: "one",
		}},
		FunctionDeliverReport: {{
			Type: "serviceBusTrigger", Direction: "in", Name: BindingMessage,
			QueueName: "%HERALD_DELIVER_QUEUE%", Connection: "ServiceBusConnection", Cardinality: "one",
		}},
		FunctionAPI: {
			{
				Type: "httpTrigger", Direction: "in", Name: "req", AuthLevel: "anonymous", Route: "{*path}",
				Methods: []string{"get", "post", "put", "patch", "delete", "head", "options"},
			},
			{Type: "http", Direction: "out", Name: "res"},
		},
	}

	entries, err := os.ReadDir(functionsDir)
	require.NoError(t, err)
	found := map[string]bool{}
	for _, e := range entries {
		path := filepath.Join(functionsDir, e.Name(), "function.json")
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			continue // not a function folder
		}
		found[e.Name()] = true
		t.Run(e.Name(), func(t *testing.T) {
			wantBindings, ok := want[e.Name()]
			require.True(t, ok, "function folder %q is not one the binary serves", e.Name())
			var fj struct {
				Bindings []binding `json:"bindings"`
				Disabled bool      `json:"disabled"`
			}
			readJSONFile(t, path, &fj)
			assert.False(t, fj.Disabled)
			assert.Equal(t, wantBindings, fj.Bindings)
			if e.Name() != FunctionAPI {
				assert.True(t, validName(e.Name()), "non-HTTP functions must be registrable with Server")
			}
		})
	}
	for name := range want {
		assert.True(t, found[name], "functions/%s/function.json is missing", name)
	}
}

func TestScanScheduleIsSixFieldNCRONTAB(t *testing.T) {
	var fj struct {
		Bindings []binding `json:"bindings"`
	}
	readJSONFile(t, filepath.Join(functionsDir, FunctionScanSchedules, "function.json"), &fj)
	require.Len(t, fj.Bindings, 1)
	assert.Len(t, strings.Fields(fj.Bindings[0].Schedule), 6, "NCRONTAB has a seconds field")
}

func TestHostJSON(t *testing.T) {
	var host struct {
		Version         string `json:"version"`
		FunctionTimeout string `json:"functionTimeout"`
		ExtensionBundle struct {
			ID      string `json:"id"`
			Version string `json:"version"`
		} `json:"extensionBundle"`
		CustomHandler struct {
			Description struct {
				DefaultExecutablePath string   `json:"defaultExecutablePath"`
				Arguments             []string `json:"arguments"`
			} `json:"description"`
			EnableForwardingHTTPRequest bool `json:"enableForwardingHttpRequest"`
		} `json:"customHandler"`
		Extensions struct {
			HTTP struct {
				RoutePrefix *string `json:"routePrefix"`
			} `json:"http"`
			ServiceBus struct {
				MaxConcurrentCalls         int    `json:"maxConcurrentCalls"`
				AutoCompleteMessages       *bool  `json:"autoCompleteMessages"`
				MaxAutoLockRenewalDuration string `json:"maxAutoLockRenewalDuration"`
			} `json:"serviceBus"`
		} `json:"extensions"`
		Logging struct {
			ApplicationInsights struct {
				SamplingSettings struct {
					IsEnabled     bool   `json:"isEnabled"`
					ExcludedTypes string `json:"excludedTypes"`
				} `json:"samplingSettings"`
			} `json:"applicationInsights"`
		} `json:"logging"`
	}
	readJSONFile(t, "../../host.json", &host)

	assert.Equal(t, "2.0", host.Version)
	assert.Equal(t, "Microsoft.Azure.Functions.ExtensionBundle", host.ExtensionBundle.ID)
	assert.Equal(t, "[4.*, 5.0.0)", host.ExtensionBundle.Version)
	assert.Equal(t, "herald", host.CustomHandler.Description.DefaultExecutablePath)
	assert.Empty(t, host.CustomHandler.Description.Arguments, "the binary detects "+PortEnv+" itself")
	assert.True(t, host.CustomHandler.EnableForwardingHTTPRequest)

	// The route prefix keeps forwarded paths under /api/, away from the
	// POST /<FunctionName> invocation paths (see the package doc), and
	// matches the aliases NewServer installs for the health endpoints.
	require.NotNil(t, host.Extensions.HTTP.RoutePrefix)
	assert.Equal(t, "api", *host.Extensions.HTTP.RoutePrefix)
	s := NewServer(nil, nil)
	assert.Equal(t, "/healthz", s.aliases["/"+*host.Extensions.HTTP.RoutePrefix+"/healthz"])

	sb := host.Extensions.ServiceBus
	assert.Positive(t, sb.MaxConcurrentCalls)
	require.NotNil(t, sb.AutoCompleteMessages)
	assert.True(t, *sb.AutoCompleteMessages, "a 2xx reply completes the message, a non-2xx abandons it")

	timeout := parseTimeSpan(t, host.FunctionTimeout)
	lockRenewal := parseTimeSpan(t, sb.MaxAutoLockRenewalDuration)
	assert.GreaterOrEqual(t, lockRenewal, timeout, "the message lock must outlive the longest invocation")

	assert.True(t, host.Logging.ApplicationInsights.SamplingSettings.IsEnabled)
	assert.Contains(t, host.Logging.ApplicationInsights.SamplingSettings.ExcludedTypes, "Request")
}

// parseTimeSpan parses a .NET TimeSpan of the form hh:mm:ss.
func parseTimeSpan(t *testing.T, s string) time.Duration {
	t.Helper()
	parts := strings.Split(s, ":")
	require.Len(t, parts, 3, "TimeSpan %q", s)
	d, err := time.ParseDuration(parts[0] + "h" + parts[1] + "m" + parts[2] + "s")
	require.NoError(t, err)
	return d
}

func TestAddrFrom(t *testing.T) {
	tests := []struct {
		name, port string
		wantAddr   string
		wantOK     bool
		wantErr    bool
	}{
		{name: "unset", port: "", wantOK: false},
		{name: "blank", port: "  ", wantOK: false},
		{name: "port", port: "7071", wantAddr: "127.0.0.1:7071", wantOK: true},
		{name: "spaces", port: " 40123 ", wantAddr: "127.0.0.1:40123", wantOK: true},
		{name: "not a number", port: "http", wantOK: true, wantErr: true},
		{name: "zero", port: "0", wantOK: true, wantErr: true},
		{name: "too large", port: "65536", wantOK: true, wantErr: true},
		{name: "negative", port: "-1", wantOK: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == PortEnv {
					return tt.port
				}
				return ""
			}
			addr, ok, err := AddrFrom(getenv)
			assert.Equal(t, tt.wantOK, ok)
			if tt.wantErr {
				assert.ErrorContains(t, err, PortEnv)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantAddr, addr)
		})
	}
}
