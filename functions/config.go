package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/heraldreports/herald/internal/azfunc"
	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/render"
)

// config is the server configuration, from HERALD_* variables and flags.
type config struct {
	Addr            string
	DataDir         string
	LogLevel        slog.Level
	SecretKey       string // HERALD_SECRET_KEY; empty: a key file in the data dir
	AllowLocalPaths bool
	Issuer          string
	Audience        string
	OIDCJWKSURL     string
	OIDCIssuers     []string
	DisableLocalKey bool
	ShutdownTimeout time.Duration
	ScanInterval    time.Duration // standalone scans and recovery passes
	Workers         int           // generation jobs handled at once
	RunLease        time.Duration // how long a worker holds a run without renewing it
	QueueLock       time.Duration // how long a received message stays locked without renewal
	CustomHandler   string        // listen address in custom-handler mode, "" standalone
	Artifacts       artifactConfig
}

// Blob backends.
const (
	blobFile  = "file"
	blobAzure = "azure"
)

// artifactConfig says where artifacts are stored and how they are served.
type artifactConfig struct {
	Backend          string        // HERALD_BLOB_BACKEND: file (default) or azure
	ConnectionString string        // HERALD_BLOB_CONNECTION_STRING: account key (Azurite, or keys in Key Vault)
	AccountURL       string        // HERALD_BLOB_ACCOUNT_URL: managed identity, user-delegation SAS links
	Container        string        // HERALD_BLOB_CONTAINER
	PublicURL        string        // HERALD_PUBLIC_URL: where file links point (default http://<addr>)
	PDFMaxRows       int64         // HERALD_PDF_MAX_ROWS
	RetentionEvery   time.Duration // HERALD_RETENTION_INTERVAL: standalone sweeps
}

func (c config) dbPath() string   { return filepath.Join(c.DataDir, "herald.db") }
func (c config) demoPath() string { return filepath.Join(c.DataDir, "demo.db") }
func (c config) keyPath() string  { return filepath.Join(c.DataDir, "keys", "secret.key") }
func (c config) filesDir() string { return filepath.Join(c.DataDir, "artifacts") }

// publicURL is the base of the links Herald serves itself. Behind the
// Functions host they are under the API's route prefix, on the host's
// port (7071 with func start).
func (c config) publicURL() string {
	base := "http://" + c.Addr
	if c.CustomHandler != "" {
		base = "http://localhost:7071"
	}
	if c.Artifacts.PublicURL != "" {
		base = strings.TrimRight(c.Artifacts.PublicURL, "/")
	}
	if c.CustomHandler != "" {
		base += "/api"
	}
	return base
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if s == "" {
		return slog.LevelInfo, nil
	}
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("HERALD_LOG_LEVEL must be debug, info, warn or error, not %q", s)
	}
	return l, nil
}

func parseBool(name, s string) (bool, error) {
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("%s must be true or false, not %q", name, s)
	}
	return b, nil
}

func positiveDuration(name, v string, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s must be a positive duration such as 5s, not %q", name, v)
	}
	return d, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// configFromEnv reads the HERALD_* variables (and the Functions host's port).
func configFromEnv(getenv func(string) string) (config, error) {
	c := config{
		Addr:        orDefault(getenv("HERALD_ADDR"), "127.0.0.1:8080"),
		DataDir:     orDefault(getenv("HERALD_DATA_DIR"), "./data"),
		SecretKey:   getenv("HERALD_SECRET_KEY"),
		Issuer:      orDefault(getenv("HERALD_TOKEN_ISSUER"), "herald-local"),
		Audience:    orDefault(getenv("HERALD_TOKEN_AUDIENCE"), "herald"),
		OIDCJWKSURL: getenv("HERALD_OIDC_JWKS_URL"),
		OIDCIssuers: splitList(getenv("HERALD_OIDC_ISSUERS")),
	}
	var err error
	if c.LogLevel, err = parseLevel(getenv("HERALD_LOG_LEVEL")); err != nil {
		return c, err
	}
	if c.AllowLocalPaths, err = parseBool("HERALD_ALLOW_LOCAL_DATASOURCES", getenv("HERALD_ALLOW_LOCAL_DATASOURCES")); err != nil {
		return c, err
	}
	if c.DisableLocalKey, err = parseBool("HERALD_DISABLE_LOCAL_TOKENS", getenv("HERALD_DISABLE_LOCAL_TOKENS")); err != nil {
		return c, err
	}
	if err = durationsFromEnv(getenv, &c); err != nil {
		return c, err
	}
	c.Workers = 4
	if v := getenv("HERALD_WORKERS"); v != "" {
		n, convErr := strconv.Atoi(v)
		if convErr != nil || n < 1 || n > 256 {
			return c, fmt.Errorf("HERALD_WORKERS must be an integer from 1 to 256, not %q", v)
		}
		c.Workers = n
	}
	if c.Artifacts, err = artifactsFromEnv(getenv); err != nil {
		return c, err
	}
	if addr, ok, portErr := azfunc.AddrFrom(getenv); portErr != nil {
		return c, portErr
	} else if ok {
		c.CustomHandler = addr
	}
	return c, nil
}

// durationsFromEnv reads the timing variables.
func durationsFromEnv(getenv func(string) string, c *config) error {
	var err error
	if c.ShutdownTimeout, err = positiveDuration("HERALD_SHUTDOWN_TIMEOUT", getenv("HERALD_SHUTDOWN_TIMEOUT"), 20*time.Second); err != nil {
		return err
	}
	if c.ScanInterval, err = positiveDuration("HERALD_SCAN_INTERVAL", getenv("HERALD_SCAN_INTERVAL"), 5*time.Second); err != nil {
		return err
	}
	if c.RunLease, err = positiveDuration("HERALD_RUN_LEASE", getenv("HERALD_RUN_LEASE"), herald.DefaultLease); err != nil {
		return err
	}
	if c.RunLease < time.Second {
		return fmt.Errorf("HERALD_RUN_LEASE must be at least 1s (a worker renews it every third of it), not %s", c.RunLease)
	}
	if c.QueueLock, err = positiveDuration("HERALD_QUEUE_LOCK", getenv("HERALD_QUEUE_LOCK"), time.Minute); err != nil {
		return err
	}
	return nil
}

// artifactsFromEnv reads the artifact storage variables.
func artifactsFromEnv(getenv func(string) string) (artifactConfig, error) {
	a := artifactConfig{
		Backend:          orDefault(getenv("HERALD_BLOB_BACKEND"), blobFile),
		ConnectionString: getenv("HERALD_BLOB_CONNECTION_STRING"),
		AccountURL:       getenv("HERALD_BLOB_ACCOUNT_URL"),
		Container:        orDefault(getenv("HERALD_BLOB_CONTAINER"), "artifacts"),
		PublicURL:        getenv("HERALD_PUBLIC_URL"),
		PDFMaxRows:       render.DefaultPDFMaxRows,
	}
	switch a.Backend {
	case blobFile:
	case blobAzure:
		if (a.ConnectionString == "") == (a.AccountURL == "") {
			return a, fmt.Errorf("HERALD_BLOB_BACKEND=azure needs exactly one of HERALD_BLOB_CONNECTION_STRING and HERALD_BLOB_ACCOUNT_URL")
		}
	default:
		return a, fmt.Errorf("HERALD_BLOB_BACKEND must be file or azure, not %q", a.Backend)
	}
	if a.PublicURL != "" {
		if u, err := url.Parse(a.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return a, fmt.Errorf("HERALD_PUBLIC_URL must be an absolute http(s) URL such as https://herald.example.com, not %q", a.PublicURL)
		}
	}
	if v := getenv("HERALD_PDF_MAX_ROWS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > 1_000_000 {
			return a, fmt.Errorf("HERALD_PDF_MAX_ROWS must be an integer from 1 to 1000000, not %q", v)
		}
		a.PDFMaxRows = n
	}
	var err error
	a.RetentionEvery, err = positiveDuration("HERALD_RETENTION_INTERVAL", getenv("HERALD_RETENTION_INTERVAL"), 24*time.Hour)
	return a, err
}

// loadConfig reads the environment, then the flags of `herald serve`.
func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	c, err := configFromEnv(getenv)
	if err != nil {
		return c, err
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (HERALD_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory (HERALD_DATA_DIR)")
	if err := fs.Parse(args); err != nil {
		return c, errUsage
	}
	if fs.NArg() > 0 {
		_, _ = fmt.Fprintf(stderr, "herald serve: unexpected argument %q\n", fs.Arg(0))
		return c, errUsage
	}
	if c.DisableLocalKey && c.OIDCJWKSURL == "" {
		return c, fmt.Errorf("HERALD_DISABLE_LOCAL_TOKENS needs HERALD_OIDC_JWKS_URL: otherwise no token could ever be accepted")
	}
	if c.OIDCJWKSURL != "" && len(c.OIDCIssuers) == 0 {
		return c, fmt.Errorf("HERALD_OIDC_JWKS_URL needs HERALD_OIDC_ISSUERS (e.g. https://login.microsoftonline.com/<tenant>/v2.0)")
	}
	return c, nil
}
