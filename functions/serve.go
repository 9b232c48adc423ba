package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/heraldreports/herald/internal/auth"
	"github.com/heraldreports/herald/internal/azfunc"
	"github.com/heraldreports/herald/internal/datasource"
	"github.com/heraldreports/herald/internal/generate"
	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/httpapi"
	"github.com/heraldreports/herald/internal/scheduler"
	"github.com/heraldreports/herald/internal/seal"
	"github.com/heraldreports/herald/internal/sqlite"
	"github.com/heraldreports/herald/internal/worker"
)

// app is everything serve wires together; close releases it.
type app struct {
	handler   http.Handler
	store     *sqlite.Store
	runner    *datasource.Runner
	queue     *sqlite.Queue
	blobs     *blobs
	scanner   *scheduler.Scanner
	runs      *scheduler.Runs
	generate  *worker.Pool
	retention *generate.Retention
}

func (a *app) close() {
	if a.runner != nil {
		_ = a.runner.Close()
	}
	if a.blobs != nil {
		_ = a.blobs.close()
	}
	if a.store != nil {
		_ = a.store.Close()
	}
}

// wire builds the adapters and services for cfg. It is the only place that
// chooses adapters.
func wire(ctx context.Context, cfg config, log *slog.Logger) (*app, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("creating data dir %s: %w", cfg.DataDir, err)
	}
	a := &app{}
	ok := false
	defer func() {
		if !ok {
			a.close()
		}
	}()
	var err error
	if a.store, err = sqlite.Open(ctx, cfg.dbPath()); err != nil {
		return nil, fmt.Errorf("opening store: %w", err)
	}
	secret, err := secretKey(cfg)
	if err != nil {
		return nil, err
	}
	box, err := seal.New(secret)
	if err != nil {
		return nil, fmt.Errorf("HERALD_SECRET_KEY: %w", err)
	}
	if a.blobs, err = openBlobs(ctx, cfg, secret); err != nil {
		return nil, err
	}
	validator, err := newValidator(cfg)
	if err != nil {
		return nil, err
	}
	if err := datasource.EnsureDemo(ctx, cfg.demoPath(), time.Now()); err != nil {
		return nil, fmt.Errorf("preparing the demo dataset: %w", err)
	}
	a.runner = datasource.NewRunner(datasource.Config{
		Unsealer: box, DemoPath: cfg.demoPath(),
		AllowLocalPaths: cfg.AllowLocalPaths, Now: time.Now,
	})
	if err := seedDemo(ctx, a.store, time.Now()); err != nil {
		return nil, err
	}
	a.queue = a.store.Queue()
	a.runs = scheduler.NewRuns(a.store, a.queue, log, time.Now)
	a.scanner = scheduler.NewScanner(a.store, a.queue, log)
	gen := generate.NewHandler(generate.Config{
		Runs: a.runs, Store: a.store, Querier: queries{a.runner}, Blobs: a.blobs.store, Log: log,
		Lease: cfg.RunLease, PDFMaxRows: cfg.Artifacts.PDFMaxRows,
	})
	a.retention = generate.NewRetention(a.store, a.blobs.store, log, time.Now)
	a.generate = worker.New(a.queue, func(ctx context.Context, d herald.QueueDelivery) error {
		return gen.Handle(ctx, d.Body)
	}, worker.Config{Queue: herald.QueueGenerate, Concurrency: cfg.Workers, LockFor: cfg.QueueLock}, log)
	api := httpapi.New(httpapi.Config{
		Store: a.store, Auth: validator, Sealer: box, Tester: a.runner, Runs: a.runs, Log: log, Now: time.Now,
		AllowLocalPaths: cfg.AllowLocalPaths, Version: version,
		Preview: queries{a.runner}, Links: a.blobs.store,
	})
	a.handler = withFiles(api, a.blobs.files)
	if cfg.CustomHandler != "" {
		fn := azfunc.NewServer(a.handler, log)
		fn.Timer(azfunc.FunctionScanSchedules, azfunc.BindingTimer, func(ctx context.Context, _ azfunc.Timer) error {
			now := time.Now()
			if _, err := a.scanner.RunOnce(ctx, now); err != nil {
				return err
			}
			_, err := a.runs.Recover(ctx, now)
			return err
		})
		fn.Timer(azfunc.FunctionSweepArtifacts, azfunc.BindingTimer, func(ctx context.Context, _ azfunc.Timer) error {
			_, err := a.retention.RunOnce(ctx)
			return err
		})
		fn.ServiceBus(azfunc.FunctionGenerateReport, azfunc.BindingMessage, func(ctx context.Context, m azfunc.ServiceBusMessage) error {
			return gen.Handle(ctx, m.Body)
		})
		a.handler = fn
	}
	ok = true
	return a, nil
}

// secretKey is HERALD_SECRET_KEY, or the key generated into the data dir.
func secretKey(cfg config) ([]byte, error) {
	var key []byte
	var err error
	if cfg.SecretKey != "" {
		key, err = seal.ParseKey(cfg.SecretKey)
	} else {
		key, err = seal.LoadOrCreateKey(cfg.keyPath())
	}
	if err != nil {
		return nil, fmt.Errorf("HERALD_SECRET_KEY: %w", err)
	}
	return key, nil
}

// linkBase is where the links Herald serves itself point when
// HERALD_PUBLIC_URL is not set: the address it listens on.
func linkBase(addr net.Addr, log *slog.Logger) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	if tcp.IP.IsUnspecified() {
		log.Warn("listening on all interfaces without HERALD_PUBLIC_URL: download links point at localhost; set HERALD_PUBLIC_URL to the address users reach Herald at")
		return "http://" + net.JoinHostPort("localhost", strconv.Itoa(tcp.Port))
	}
	return "http://" + tcp.String()
}

// withFiles serves the file backend's signed links under /files/ beside
// the API; files is nil for backends that serve their own links.
func withFiles(api http.Handler, files http.Handler) http.Handler {
	if files == nil {
		return api
	}
	mux := http.NewServeMux()
	mux.Handle("/files/", files)
	// Behind the Functions host every request arrives under the API's
	// route prefix.
	mux.Handle("/api/files/", http.StripPrefix("/api", files))
	mux.Handle("/", api)
	return mux
}

func newValidator(cfg config) (*auth.Validator, error) {
	ac := auth.Config{Audience: cfg.Audience, JWKSURL: cfg.OIDCJWKSURL, Issuers: cfg.OIDCIssuers}
	if !cfg.DisableLocalKey {
		key, err := auth.LoadOrCreateLocalKey(cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("loading the local signing key: %w", err)
		}
		ac.Local = key
		ac.Issuers = append(ac.Issuers, cfg.Issuer)
	}
	v, err := auth.NewValidator(ac)
	if err != nil {
		return nil, fmt.Errorf("configuring token validation: %w", err)
	}
	return v, nil
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})).With("service", "herald")
}

// serve runs the server until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stdout, cfg.LogLevel)
	addr, mode := cfg.Addr, "standalone"
	if cfg.CustomHandler != "" {
		addr, mode = cfg.CustomHandler, "azure-functions"
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	defer func() { _ = ln.Close() }()
	if cfg.Artifacts.PublicURL == "" && cfg.CustomHandler == "" {
		cfg.Artifacts.PublicURL = linkBase(ln.Addr(), log)
	}
	a, err := wire(ctx, cfg, log)
	if err != nil {
		if ctx.Err() != nil { // asked to stop while starting: a clean stop
			log.Info("stopped during start-up")
			return nil
		}
		return err
	}
	defer a.close()
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	bg, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var background sync.WaitGroup
	background.Go(func() { a.generate.Run(bg) })
	background.Go(func() { a.runs.RunRecovery(bg, cfg.ScanInterval) })
	if cfg.CustomHandler == "" { // in Azure the ScanSchedules and SweepArtifacts timers drive these
		background.Go(func() { a.scanner.Run(bg, cfg.ScanInterval, time.Now) })
		background.Go(func() { a.retention.Run(bg, cfg.Artifacts.RetentionEvery) })
	}
	defer func() {
		stopBackground()
		background.Wait()
	}()
	log.Info("herald started", "mode", mode, "url", "http://"+ln.Addr().String()+"/", "dataDir", cfg.DataDir, "version", version)

	select {
	case err := <-errc:
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("herald stopped")
	return nil
}
