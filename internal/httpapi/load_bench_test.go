package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldreports/herald/internal/auth/authtest"
	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/sqlite"
)

// BenchmarkAPILoad is the API load test behind `make bench-api`: 100
// concurrent clients against 100 tenants x 1,000 reports over real HTTP on
// loopback, half list (first page of 50) and half get, then the same
// clients on /healthz. Each workload runs twice:
//
//   - paced: every client sends on a fixed schedule so that together they
//     offer HERALD_BENCH_RATE requests per second (default 1,000); latency
//     counts from the scheduled send time, so a slow server cannot hide its
//     queueing (no coordinated omission);
//   - saturated: every client sends its next request as soon as the last
//     answer arrives: the most the server does on these cores, and the
//     latency at that point (100 queued requests at all times).
//
// It prints p50/p95/p99 latency, requests per second and process CPU for
// each. The load generator shares the machine's cores with the server.
//
// HERALD_BENCH_TENANTS, HERALD_BENCH_REPORTS, HERALD_BENCH_CLIENTS,
// HERALD_BENCH_RATE and HERALD_BENCH_DURATION scale it for quick runs.
func BenchmarkAPILoad(b *testing.B) {
	tenants := envInt(b, "HERALD_BENCH_TENANTS", 100)
	reports := envInt(b, "HERALD_BENCH_REPORTS", 1000)
	clients := envInt(b, "HERALD_BENCH_CLIENTS", 100)
	rate := envInt(b, "HERALD_BENCH_RATE", 1000)
	duration := 15 * time.Second
	if v := os.Getenv("HERALD_BENCH_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("HERALD_BENCH_DURATION: %v", err)
		}
		duration = d
	}
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "herald.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })

	start := time.Now()
	ids := seedReports(b, store, tenants, reports)
	b.Logf("seeded %d tenants x %d reports in %s", tenants, reports, time.Since(start).Round(time.Millisecond))

	tokens := authtest.New(b)
	srv := httptest.NewServer(New(Config{Store: store, Auth: tokens.Validator(), Log: slog.New(slog.DiscardHandler)}))
	b.Cleanup(srv.Close)
	tenantTokens := make([]string, tenants)
	for i := range tenantTokens {
		tenantTokens[i] = tokens.Token(tenantName(i), "viewer")
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: clients * 2, MaxIdleConnsPerHost: clients * 2, IdleConnTimeout: time.Minute}}

	b.ResetTimer()
	for range b.N {
		apiReq := func(rng *rand.Rand) (string, string) {
			t := rng.IntN(tenants)
			if rng.IntN(2) == 0 {
				return srv.URL + "/api/v1/reports?limit=50", tenantTokens[t]
			}
			return srv.URL + "/api/v1/reports/" + ids[t][rng.IntN(len(ids[t]))], tenantTokens[t]
		}
		healthReq := func(*rand.Rand) (string, string) { return srv.URL + "/healthz", "" }
		api := runLoad(b, client, clients, rate, duration, apiReq)
		apiMax := runLoad(b, client, clients, 0, duration, apiReq)
		health := runLoad(b, client, clients, rate, duration/2, healthReq)
		healthMax := runLoad(b, client, clients, 0, duration/2, healthReq)
		fmt.Printf("\nAPI load: %d clients, %d tenants x %d reports, SQLite store, loopback HTTP, GOMAXPROCS=%d\n", clients, tenants, reports, runtime.GOMAXPROCS(0))
		fmt.Printf("%-40s %9s %8s %8s %8s %9s %7s %5s\n", "workload", "requests", "p50 ms", "p95 ms", "p99 ms", "req/s", "errors", "cpu")
		api.print(fmt.Sprintf("reports list+get, paced %d req/s", rate))
		apiMax.print("reports list+get, saturated")
		health.print(fmt.Sprintf("/healthz, paced %d req/s", rate))
		healthMax.print("/healthz, saturated")
		b.ReportMetric(api.quantile(0.50), "api-p50-ms")
		b.ReportMetric(api.quantile(0.95), "api-p95-ms")
		b.ReportMetric(api.quantile(0.99), "api-p99-ms")
		b.ReportMetric(apiMax.rate(), "api-max-req/s")
		b.ReportMetric(apiMax.quantile(0.95), "api-max-p95-ms")
		b.ReportMetric(health.quantile(0.95), "healthz-p95-ms")
		b.ReportMetric(healthMax.rate(), "healthz-max-req/s")
		for _, r := range []*loadResult{api, apiMax, health, healthMax} {
			if r.errors > 0 {
				b.Errorf("%d requests failed", r.errors)
			}
		}
	}
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s must be a positive integer", name)
	}
	return n
}

func tenantName(i int) string { return fmt.Sprintf("tenant-%03d", i) }

// seedReports writes tenants x perTenant reports straight into the store.
func seedReports(b *testing.B, store *sqlite.Store, tenants, perTenant int) [][]string {
	ctx := context.Background()
	ids := make([][]string, tenants)
	now := herald.At(time.Now())
	var wg sync.WaitGroup
	errs := make(chan error, tenants)
	sem := make(chan struct{}, 4)
	for t := range tenants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ds := herald.NewID(herald.PrefixDataSource, now.Time)
			for i := range perTenant {
				r := &herald.Report{
					Meta: herald.Meta{ID: herald.NewID(herald.PrefixReport, now.Time), TenantID: tenantName(t)},
					Name: fmt.Sprintf("Report %04d", i), DataSourceID: ds,
					Query:      "select region, sum(total) from orders where ordered_at >= :since group by region",
					Formats:    []herald.Format{herald.FormatCSV, herald.FormatPDF},
					Parameters: []herald.Parameter{{Name: "since", Type: herald.ParamDate, Default: json.RawMessage(`"-7d"`)}},
				}
				r.Normalize()
				r.Touch("bench", now)
				if err := herald.CreateRecord(ctx, store, r); err != nil {
					errs <- err
					return
				}
				ids[t] = append(ids[t], r.ID)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return ids
}

// loadResult holds the latencies of one load phase.
type loadResult struct {
	latencies []time.Duration
	errors    int
	elapsed   time.Duration
	cpu       time.Duration // process CPU time (server and clients) during the phase
}

func (r *loadResult) quantile(q float64) float64 {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(q * float64(len(r.latencies)-1))
	return float64(r.latencies[i].Microseconds()) / 1000
}

func (r *loadResult) rate() float64 { return float64(len(r.latencies)) / r.elapsed.Seconds() }

func (r *loadResult) print(name string) {
	fmt.Printf("%-40s %9d %8.2f %8.2f %8.2f %9.0f %7d %4.0f%%\n", name, len(r.latencies), r.quantile(0.5), r.quantile(0.95), r.quantile(0.99), r.rate(), r.errors,
		100*r.cpu.Seconds()/r.elapsed.Seconds()/float64(runtime.GOMAXPROCS(0)))
}

// runLoad runs clients goroutines sending requests built by next for the
// given duration and collects every latency. With rate > 0 the clients
// together send rate requests per second on a fixed schedule and latency
// counts from each scheduled time; with rate 0 each client sends as soon as
// its previous answer arrives.
func runLoad(b *testing.B, client *http.Client, clients, rate int, d time.Duration, next func(*rand.Rand) (url, token string)) *loadResult {
	var mu sync.Mutex
	res := &loadResult{}
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	cpu0 := processCPU()
	var interval time.Duration
	if rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(clients) / float64(rate))
	}
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 42)) //nolint:gosec // load pattern, not security
			var local []time.Duration
			failed := 0
			// Paced clients start spread over one interval, not all at once.
			due := start.Add(time.Duration(c) * interval / time.Duration(clients))
			for {
				now := time.Now()
				if rate > 0 {
					if due.After(deadline) {
						break
					}
					if wait := due.Sub(now); wait > 0 {
						time.Sleep(wait)
					}
				} else if now.After(deadline) {
					break
				}
				t0 := time.Now()
				if rate > 0 {
					t0 = due
					due = due.Add(interval)
				}
				if url, token := next(rng); !send(client, url, token) {
					failed++
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			res.latencies = append(res.latencies, local...)
			res.errors += failed
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.cpu = processCPU() - cpu0
	slices.Sort(res.latencies)
	if len(res.latencies) == 0 {
		b.Fatal("no request completed")
	}
	return res
}

// send makes one GET and reports whether it answered 200.
func send(client *http.Client, url, token string) bool {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
