package cronexpr

import (
	"strings"
	"testing"
	"time"
)

// benchExprs are the expressions of BenchmarkNext; the names are used in
// benchmark names.
var benchExprs = []struct{ name, expr string }{
	{"daily", "30 2 * * *"},
	{"hourly", "0 * * * *"},
	{"every15", "*/15 * * * *"},
	{"business", "0 9-17 * * MON-FRI"},
	{"seconds6", "30 */30 * * * *"},
	{"monthly", "0 0 1 * *"},
	{"lastday", "0 0 L * *"},
}

var benchZones = []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"}

// benchStarts returns instants spread over 2026 (including both DST
// transitions of each zone), so that benchmarks do not measure one lucky
// spot of the calendar.
func benchStarts() []time.Time {
	starts := make([]time.Time, 64)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range starts {
		starts[i] = base.Add(time.Duration(i) * (137*time.Hour + 17*time.Minute + 23*time.Second))
	}
	return starts
}

func benchName(zone string) string { return strings.ReplaceAll(zone, "/", "_") }

var sinkTime time.Time

func BenchmarkNext(b *testing.B) {
	starts := benchStarts()
	for _, e := range benchExprs {
		s := MustParse(e.expr)
		for _, zone := range benchZones {
			loc := mustLoad(b, zone)
			b.Run(e.name+"/"+benchName(zone), func(b *testing.B) {
				b.ReportAllocs()
				var i int
				for b.Loop() {
					sinkTime = s.Next(starts[i&63], loc)
					i++
				}
			})
		}
	}
}

func BenchmarkPrev(b *testing.B) {
	starts := benchStarts()
	for _, e := range benchExprs {
		s := MustParse(e.expr)
		loc := mustLoad(b, "Europe/Berlin")
		b.Run(e.name, func(b *testing.B) {
			b.ReportAllocs()
			var i int
			for b.Loop() {
				sinkTime = s.Prev(starts[i&63], loc)
				i++
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("*/15 9-17 1,15,L JAN-JUN MON-FRI"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestNextDoesNotAllocate guards the 0 allocs/op property of Next.
func TestNextDoesNotAllocate(t *testing.T) {
	starts := benchStarts()
	for _, e := range benchExprs {
		s := MustParse(e.expr)
		for _, zone := range benchZones {
			loc := mustLoad(t, zone)
			allocs := testing.AllocsPerRun(100, func() {
				for _, st := range starts {
					sinkTime = s.Next(st, loc)
					sinkTime = s.Prev(st, loc)
				}
			})
			if allocs != 0 {
				t.Errorf("%s in %s: %v allocations per run", e.expr, zone, allocs)
			}
		}
	}
}
