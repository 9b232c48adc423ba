package cronexpr

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"* * * * *", "0 9 * * MON-FRI", "*/15 * * * *", "30 2 * * *", "0 0 L * *", "0 0 LW * *", "0 0 15W * *",
		"0 0 * * 5L", "0 0 * * MON#2", "0 */30 * * * *", "59 59 23 31 12 7", "0 0 30 2 *", "@daily", "@every 1h",
		"0 0 ? * 1", "5-2 * * * *", "*/0 * * * *", "1,,2 * * * *", "0 25 * * *", "0 0 * * FRI-SUN", "0 0 1 jan-mar/2 *",
		"", "@", "*/", "-", "#", "L", "0 0 * * 1#", "0 0 99999999999999999999W * *", "\x00 \xff * * *",
	} {
		f.Add(seed)
	}
	start := time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := Parse(expr)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Msg == "" || !strings.HasPrefix(err.Error(), "cron: ") {
				t.Fatalf("Parse(%q): bad error %#v", expr, err)
			}
			return
		}
		if s.Describe() == "" {
			t.Fatalf("Parse(%q): empty description", expr)
		}
		again, err := Parse(s.String())
		if err != nil || again.String() != s.String() {
			t.Fatalf("Parse(%q): String %q does not round-trip: %v", expr, s.String(), err)
		}
		for _, loc := range []*time.Location{time.UTC, berlin} {
			if next := s.Next(start, loc); !next.IsZero() && !next.After(start) {
				t.Fatalf("Parse(%q): Next(%s) = %s", expr, start, next)
			}
			if prev := s.Prev(start, loc); !prev.IsZero() && !prev.Before(start) {
				t.Fatalf("Parse(%q): Prev(%s) = %s", expr, start, prev)
			}
		}
	})
}
