package cronexpr

// Side-by-side comparison with github.com/robfig/cron/v3 (test-only
// dependency): same expressions, zones and start instants as BenchmarkNext.
//
//	go test -run='^$' -bench=BenchmarkCompare -benchmem ./internal/cronexpr/

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/stretchr/testify/require"
)

// compareExprs are the benchmark expressions robfig/cron also supports.
var compareExprs = []struct{ name, expr string }{
	{"daily", "30 2 * * *"},
	{"hourly", "0 * * * *"},
	{"every15", "*/15 * * * *"},
	{"business", "0 9-17 * * MON-FRI"},
	{"seconds6", "30 */30 * * * *"},
	{"monthly", "0 0 1 * *"},
}

var robfigParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func robfigSchedule(tb testing.TB, zone, expr string) cron.Schedule {
	tb.Helper()
	s, err := robfigParser.Parse("CRON_TZ=" + zone + " " + expr)
	require.NoError(tb, err)
	return s
}

func BenchmarkCompare(b *testing.B) {
	starts := benchStarts()
	for _, e := range compareExprs {
		ours := MustParse(e.expr)
		for _, zone := range benchZones {
			loc := mustLoad(b, zone)
			theirs := robfigSchedule(b, zone, e.expr)
			b.Run("herald/"+e.name+"/"+benchName(zone), func(b *testing.B) {
				b.ReportAllocs()
				var i int
				for b.Loop() {
					sinkTime = ours.Next(starts[i&63], loc)
					i++
				}
			})
			b.Run("robfig/"+e.name+"/"+benchName(zone), func(b *testing.B) {
				b.ReportAllocs()
				var i int
				for b.Loop() {
					sinkTime = theirs.Next(starts[i&63])
					i++
				}
			})
		}
	}
}

// TestAgreesWithRobfig cross-checks Next with robfig/cron where their rules
// coincide: zones without DST and expressions without Vixie-rule
// differences.
func TestAgreesWithRobfig(t *testing.T) {
	exprs := []string{
		"30 2 * * *", "0 * * * *", "*/15 * * * *", "0 9-17 * * MON-FRI", "30 */30 * * * *", "0 0 1 * *",
		"0 0 13 * FRI", "5 4 * * SUN", "0 0 1 */3 *", "15 10 * * 1,3,5", "0 22 * 1-6 *", "0 0 29 2 *", "7/13 1-23/5 * * *",
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, zone := range []string{"UTC", "Asia/Kolkata", "Asia/Tokyo"} {
		loc := mustLoad(t, zone)
		for _, expr := range exprs {
			ours, theirs := MustParse(expr), robfigSchedule(t, zone, expr)
			for range 50 {
				at := time.Unix(1577836800+r.Int64N(10*365*86400), 0)
				require.True(t, theirs.Next(at).Equal(ours.Next(at, loc)), "%s in %s after %s", expr, zone, at)
			}
		}
	}
}
