package cronexpr

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Expected instants below were written by hand from the published
// transition rules (not computed by the engine or by time.Date):
//
//	America/New_York    2026-03-08 02:00 EST -> 03:00 EDT (07:00Z); 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z)
//	Europe/Berlin       2026-03-29 02:00 CET -> 03:00 CEST (01:00Z); 2026-10-25 03:00 CEST -> 02:00 CET (01:00Z)
//	Australia/Lord_Howe 2026-04-05 02:00 +11 -> 01:30 +10:30 (04-04 15:00Z); 2026-10-04 02:00 +10:30 -> 02:30 +11 (10-03 15:30Z)
//	Asia/Kolkata        +05:30 all year
//	America/Sao_Paulo   2018-02-18 00:00 -02 -> 02-17 23:00 -03 (02:00Z); 2018-11-04 00:00 -03 -> 01:00 -02 (03:00Z); no DST since 2019
//	Pacific/Chatham     2026-04-05 03:45 +13:45 -> 02:45 +12:45 (04-04 14:00Z); 2026-09-27 02:45 +12:45 -> 03:45 +13:45 (09-26 14:00Z)
type dstCase struct {
	name  string
	zone  string
	expr  string
	after string   // RFC 3339
	want  []string // consecutive Next results, UTC RFC 3339
}

var dstCases = []dstCase{
	// America/New_York, spring forward 2026-03-08.
	{"NY spring daily in gap", "America/New_York", "30 2 * * *", "2026-03-07T00:00:00Z",
		[]string{"2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}},
	{"NY spring */15 in gap hour coalesces", "America/New_York", "*/15 2 * * *", "2026-03-07T12:00:00Z",
		[]string{"2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z", "2026-03-09T06:15:00Z"}},
	{"NY spring hourly", "America/New_York", "0 * * * *", "2026-03-08T05:30:00Z",
		[]string{"2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"}},
	{"NY spring every 15", "America/New_York", "*/15 * * * *", "2026-03-08T06:40:00Z",
		[]string{"2026-03-08T06:45:00Z", "2026-03-08T07:00:00Z", "2026-03-08T07:15:00Z"}},
	{"NY spring 6-field", "America/New_York", "30 */30 * * * *", "2026-03-08T06:30:00Z",
		[]string{"2026-03-08T06:30:30Z", "2026-03-08T07:00:30Z", "2026-03-08T07:30:30Z"}},
	{"NY spring 6-field fixed", "America/New_York", "0 0,30 2 * * *", "2026-03-07T12:00:00Z",
		[]string{"2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z", "2026-03-09T06:30:00Z"}},
	// America/New_York, fall back 2026-11-01.
	{"NY fall daily after repeat", "America/New_York", "30 2 * * *", "2026-10-31T00:00:00Z",
		[]string{"2026-10-31T06:30:00Z", "2026-11-01T07:30:00Z", "2026-11-02T07:30:00Z"}},
	{"NY fall daily in repeat", "America/New_York", "30 1 * * *", "2026-10-31T00:00:00Z",
		[]string{"2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}},
	{"NY fall */15 in repeated hour fires once", "America/New_York", "*/15 1 * * *", "2026-11-01T04:00:00Z",
		[]string{"2026-11-01T05:00:00Z", "2026-11-01T05:15:00Z", "2026-11-01T05:30:00Z", "2026-11-01T05:45:00Z", "2026-11-02T06:00:00Z"}},
	{"NY fall daily from inside the second 01:xx", "America/New_York", "30 1 * * *", "2026-11-01T06:15:00Z",
		[]string{"2026-11-02T06:30:00Z"}},
	{"NY fall daily from inside the first 01:xx", "America/New_York", "30 1 * * *", "2026-11-01T05:15:00Z",
		[]string{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}},
	{"NY fall hourly", "America/New_York", "0 * * * *", "2026-11-01T04:30:00Z",
		[]string{"2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z", "2026-11-01T08:00:00Z"}},
	{"NY fall every 15", "America/New_York", "*/15 * * * *", "2026-11-01T05:40:00Z",
		[]string{"2026-11-01T05:45:00Z", "2026-11-01T06:00:00Z", "2026-11-01T06:15:00Z"}},
	{"NY fall 6-field", "America/New_York", "30 */30 * * * *", "2026-11-01T05:20:00Z",
		[]string{"2026-11-01T05:30:30Z", "2026-11-01T06:00:30Z", "2026-11-01T06:30:30Z", "2026-11-01T07:00:30Z"}},
	{"NY weekday 9am across both", "America/New_York", "0 9 * * MON-FRI", "2026-03-06T00:00:00Z",
		[]string{"2026-03-06T14:00:00Z", "2026-03-09T13:00:00Z"}},

	// Europe/Berlin, spring forward 2026-03-29.
	{"Berlin spring daily in gap", "Europe/Berlin", "30 2 * * *", "2026-03-28T00:00:00Z",
		[]string{"2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}},
	{"Berlin spring */15 in gap hour coalesces", "Europe/Berlin", "*/15 2 * * *", "2026-03-28T12:00:00Z",
		[]string{"2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z", "2026-03-30T00:15:00Z"}},
	{"Berlin spring hourly", "Europe/Berlin", "0 * * * *", "2026-03-28T23:30:00Z",
		[]string{"2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"}},
	{"Berlin spring every 15", "Europe/Berlin", "*/15 * * * *", "2026-03-29T00:40:00Z",
		[]string{"2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z"}},
	{"Berlin spring 6-field", "Europe/Berlin", "30 */30 * * * *", "2026-03-29T00:30:00Z",
		[]string{"2026-03-29T00:30:30Z", "2026-03-29T01:00:30Z", "2026-03-29T01:30:30Z"}},
	// Europe/Berlin, fall back 2026-10-25.
	{"Berlin fall daily in repeat", "Europe/Berlin", "30 2 * * *", "2026-10-24T00:00:00Z",
		[]string{"2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
	{"Berlin fall */15 in repeated hour fires once", "Europe/Berlin", "*/15 2 * * *", "2026-10-24T23:50:00Z",
		[]string{"2026-10-25T00:00:00Z", "2026-10-25T00:15:00Z", "2026-10-25T00:30:00Z", "2026-10-25T00:45:00Z", "2026-10-26T01:00:00Z"}},
	{"Berlin fall */15 from inside the second 02:xx", "Europe/Berlin", "*/15 2 * * *", "2026-10-25T01:20:00Z",
		[]string{"2026-10-26T01:00:00Z"}},
	{"Berlin fall hourly", "Europe/Berlin", "0 * * * *", "2026-10-24T23:30:00Z",
		[]string{"2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"}},
	{"Berlin fall every 15", "Europe/Berlin", "*/15 * * * *", "2026-10-25T00:40:00Z",
		[]string{"2026-10-25T00:45:00Z", "2026-10-25T01:00:00Z", "2026-10-25T01:15:00Z"}},
	{"Berlin fall 6-field", "Europe/Berlin", "30 */30 * * * *", "2026-10-25T00:20:00Z",
		[]string{"2026-10-25T00:30:30Z", "2026-10-25T01:00:30Z", "2026-10-25T01:30:30Z", "2026-10-25T02:00:30Z"}},
	{"Berlin fall 6-field fixed", "Europe/Berlin", "0 0,30 2 * * *", "2026-10-24T23:50:00Z",
		[]string{"2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:00:00Z"}},
	{"Berlin fixed every 2 hours", "Europe/Berlin", "0 */2 * * *", "2026-03-28T22:30:00Z",
		[]string{"2026-03-28T23:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"}},

	// Australia/Lord_Howe, 30-minute shifts. Fall back 2026-04-05 02:00 -> 01:30.
	{"Lord Howe fall daily in repeat", "Australia/Lord_Howe", "45 1 * * *", "2026-04-03T00:00:00Z",
		[]string{"2026-04-03T14:45:00Z", "2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"}},
	{"Lord Howe fall hourly :30", "Australia/Lord_Howe", "30 * * * *", "2026-04-04T14:00:00Z",
		[]string{"2026-04-04T14:30:00Z", "2026-04-04T15:00:00Z", "2026-04-04T16:00:00Z"}},
	{"Lord Howe fall hourly :00", "Australia/Lord_Howe", "0 * * * *", "2026-04-04T13:30:00Z",
		[]string{"2026-04-04T14:00:00Z", "2026-04-04T15:30:00Z", "2026-04-04T16:30:00Z"}},
	{"Lord Howe fall every 15", "Australia/Lord_Howe", "*/15 * * * *", "2026-04-04T14:40:00Z",
		[]string{"2026-04-04T14:45:00Z", "2026-04-04T15:00:00Z", "2026-04-04T15:15:00Z", "2026-04-04T15:30:00Z"}},
	{"Lord Howe fall 6-field", "Australia/Lord_Howe", "30 */30 * * * *", "2026-04-04T14:20:00Z",
		[]string{"2026-04-04T14:30:30Z", "2026-04-04T15:00:30Z", "2026-04-04T15:30:30Z"}},
	// Australia/Lord_Howe, spring forward 2026-10-04 02:00 -> 02:30.
	{"Lord Howe spring daily in gap", "Australia/Lord_Howe", "15 2 * * *", "2026-10-02T00:00:00Z",
		[]string{"2026-10-02T15:45:00Z", "2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"}},
	{"Lord Howe spring */15 coalesces with 02:30", "Australia/Lord_Howe", "*/15 2 * * *", "2026-10-03T00:00:00Z",
		[]string{"2026-10-03T15:30:00Z", "2026-10-03T15:45:00Z", "2026-10-04T15:00:00Z"}},
	{"Lord Howe spring hourly :30", "Australia/Lord_Howe", "30 * * * *", "2026-10-03T14:30:00Z",
		[]string{"2026-10-03T15:00:00Z", "2026-10-03T15:30:00Z", "2026-10-03T16:30:00Z"}},
	{"Lord Howe spring hourly :00", "Australia/Lord_Howe", "0 * * * *", "2026-10-03T14:00:00Z",
		[]string{"2026-10-03T14:30:00Z", "2026-10-03T16:00:00Z"}},
	{"Lord Howe spring every 15", "Australia/Lord_Howe", "*/15 * * * *", "2026-10-03T15:10:00Z",
		[]string{"2026-10-03T15:15:00Z", "2026-10-03T15:30:00Z", "2026-10-03T15:45:00Z"}},
	{"Lord Howe spring 6-field", "Australia/Lord_Howe", "30 */30 * * * *", "2026-10-03T15:00:00Z",
		[]string{"2026-10-03T15:00:30Z", "2026-10-03T15:30:30Z", "2026-10-03T16:00:30Z"}},

	// Asia/Kolkata, +05:30 without DST.
	{"Kolkata daily", "Asia/Kolkata", "30 2 * * *", "2026-03-28T00:00:00Z",
		[]string{"2026-03-28T21:00:00Z", "2026-03-29T21:00:00Z"}},
	{"Kolkata hourly", "Asia/Kolkata", "0 * * * *", "2026-03-29T00:00:00Z",
		[]string{"2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z"}},
	{"Kolkata every 15", "Asia/Kolkata", "*/15 * * * *", "2026-10-25T00:00:00Z",
		[]string{"2026-10-25T00:15:00Z", "2026-10-25T00:30:00Z"}},
	{"Kolkata 6-field", "Asia/Kolkata", "30 */30 * * * *", "2026-10-25T00:00:00Z",
		[]string{"2026-10-25T00:00:30Z", "2026-10-25T00:30:30Z"}},

	// America/Sao_Paulo, 2018: DST ended 2018-02-18 and started 2018-11-04 at midnight.
	{"Sao Paulo 2018 spring midnight in gap", "America/Sao_Paulo", "0 0 * * *", "2018-11-02T12:00:00Z",
		[]string{"2018-11-03T03:00:00Z", "2018-11-04T03:00:00Z", "2018-11-05T02:00:00Z"}},
	{"Sao Paulo 2018 spring hourly", "America/Sao_Paulo", "0 * * * *", "2018-11-04T02:30:00Z",
		[]string{"2018-11-04T03:00:00Z", "2018-11-04T04:00:00Z"}},
	{"Sao Paulo 2018 spring every 15", "America/Sao_Paulo", "*/15 * * * *", "2018-11-04T02:40:00Z",
		[]string{"2018-11-04T02:45:00Z", "2018-11-04T03:00:00Z", "2018-11-04T03:15:00Z"}},
	{"Sao Paulo 2018 spring 6-field", "America/Sao_Paulo", "30 */30 * * * *", "2018-11-04T02:30:00Z",
		[]string{"2018-11-04T02:30:30Z", "2018-11-04T03:00:30Z", "2018-11-04T03:30:30Z"}},
	{"Sao Paulo 2018 fall daily in repeat", "America/Sao_Paulo", "30 23 * * *", "2018-02-16T12:00:00Z",
		[]string{"2018-02-17T01:30:00Z", "2018-02-18T01:30:00Z", "2018-02-19T02:30:00Z"}},
	{"Sao Paulo 2018 fall hourly", "America/Sao_Paulo", "0 * * * *", "2018-02-18T00:30:00Z",
		[]string{"2018-02-18T01:00:00Z", "2018-02-18T02:00:00Z", "2018-02-18T03:00:00Z"}},
	{"Sao Paulo 2018 fall every 15", "America/Sao_Paulo", "*/15 * * * *", "2018-02-18T01:40:00Z",
		[]string{"2018-02-18T01:45:00Z", "2018-02-18T02:00:00Z", "2018-02-18T02:15:00Z"}},
	{"Sao Paulo 2018 fall 6-field", "America/Sao_Paulo", "30 */30 * * * *", "2018-02-18T01:20:00Z",
		[]string{"2018-02-18T01:30:30Z", "2018-02-18T02:00:30Z", "2018-02-18T02:30:30Z"}},
	{"Sao Paulo 2026 no DST", "America/Sao_Paulo", "0 0 * * *", "2026-11-01T00:00:00Z",
		[]string{"2026-11-01T03:00:00Z", "2026-11-02T03:00:00Z"}},

	// Pacific/Chatham, +12:45/+13:45. Fall back 2026-04-05 03:45 -> 02:45.
	{"Chatham fall daily in repeat", "Pacific/Chatham", "0 3 * * *", "2026-04-03T00:00:00Z",
		[]string{"2026-04-03T13:15:00Z", "2026-04-04T13:15:00Z", "2026-04-05T14:15:00Z"}},
	{"Chatham fall hourly", "Pacific/Chatham", "0 * * * *", "2026-04-04T12:30:00Z",
		[]string{"2026-04-04T13:15:00Z", "2026-04-04T14:15:00Z", "2026-04-04T15:15:00Z"}},
	{"Chatham fall every 15", "Pacific/Chatham", "*/15 * * * *", "2026-04-04T13:40:00Z",
		[]string{"2026-04-04T13:45:00Z", "2026-04-04T14:00:00Z", "2026-04-04T14:15:00Z"}},
	{"Chatham fall 6-field", "Pacific/Chatham", "30 */30 * * * *", "2026-04-04T13:00:00Z",
		[]string{"2026-04-04T13:15:30Z", "2026-04-04T13:45:30Z", "2026-04-04T14:15:30Z", "2026-04-04T14:45:30Z"}},
	// Pacific/Chatham, spring forward 2026-09-27 02:45 -> 03:45.
	{"Chatham spring daily in gap", "Pacific/Chatham", "0 3 * * *", "2026-09-25T00:00:00Z",
		[]string{"2026-09-25T14:15:00Z", "2026-09-26T14:00:00Z", "2026-09-27T13:15:00Z"}},
	{"Chatham spring hourly", "Pacific/Chatham", "0 * * * *", "2026-09-26T13:00:00Z",
		[]string{"2026-09-26T13:15:00Z", "2026-09-26T14:15:00Z"}},
	{"Chatham spring every 15", "Pacific/Chatham", "*/15 * * * *", "2026-09-26T13:40:00Z",
		[]string{"2026-09-26T13:45:00Z", "2026-09-26T14:00:00Z", "2026-09-26T14:15:00Z"}},
	{"Chatham spring 6-field", "Pacific/Chatham", "30 */30 * * * *", "2026-09-26T13:00:00Z",
		[]string{"2026-09-26T13:15:30Z", "2026-09-26T13:45:30Z", "2026-09-26T14:15:30Z"}},
}

func mustLoad(t testing.TB, zone string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	require.NoError(t, err)
	return loc
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

func TestDSTTable(t *testing.T) {
	for _, tc := range dstCases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.expr)
			require.NoError(t, err)
			loc := mustLoad(t, tc.zone)
			after := mustTime(t, tc.after)

			// Forwards.
			got := make([]string, 0, len(tc.want))
			cur := after
			for range tc.want {
				cur = s.Next(cur, loc)
				require.Equal(t, loc, cur.Location(), "result is in the schedule's zone")
				got = append(got, cur.UTC().Format(time.RFC3339))
			}
			assert.Equal(t, tc.want, got, "Next")

			// Backwards over the same fires.
			for i := len(tc.want) - 1; i > 0; i-- {
				prev := s.Prev(mustTime(t, tc.want[i]), loc)
				assert.Equal(t, tc.want[i-1], prev.UTC().Format(time.RFC3339), "Prev(%s)", tc.want[i])
			}
			first := s.Prev(mustTime(t, tc.want[0]), loc)
			assert.False(t, first.After(after), "Prev(first) = %s must not be after %s", first, after)
		})
	}
}

func TestFireAnnotations(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	newYork := mustLoad(t, "America/New_York")
	tests := []struct {
		name          string
		expr          string
		loc           *time.Location
		after         string
		wantTime      string
		wantNominal   string
		wantShifted   bool
		wantAmbiguous bool
	}{
		{"plain", "30 2 * * *", berlin, "2026-03-27T12:00:00Z", "2026-03-28T01:30:00Z", "2026-03-28 02:30:00", false, false},
		{"shifted by gap", "30 2 * * *", berlin, "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29 02:30:00", true, false},
		{"coalesced keeps earliest nominal", "*/15 2 * * *", berlin, "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29 02:00:00", true, false},
		{"post-gap time itself", "0 3 * * *", berlin, "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29 03:00:00", false, false},
		{"every-hour is never shifted", "0 * * * *", berlin, "2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z", "2026-03-29 03:00:00", false, false},
		{"fixed repeated time, first occurrence", "30 1 * * *", newYork, "2026-10-31T12:00:00Z", "2026-11-01T05:30:00Z", "2026-11-01 01:30:00", false, true},
		{"every-hour repeated time, second occurrence", "30 * * * *", newYork, "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z", "2026-11-01 01:30:00", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.expr)
			require.NoError(t, err)
			f := s.NextFire(mustTime(t, tc.after), tc.loc)
			assert.Equal(t, tc.wantTime, f.Time.UTC().Format(time.RFC3339))
			assert.Equal(t, tc.wantNominal, f.Nominal.String())
			assert.Equal(t, tc.wantShifted, f.Shifted, "Shifted")
			assert.Equal(t, tc.wantAmbiguous, f.Ambiguous, "Ambiguous")
			p := s.PrevFire(f.Time.Add(time.Second), tc.loc)
			assert.Equal(t, f, p, "PrevFire agrees with NextFire")
		})
	}

	s := MustParse("30 2 * * *")
	fires := s.NextFires(mustTime(t, "2026-03-27T12:00:00Z"), berlin, 3)
	require.Len(t, fires, 3)
	assert.Equal(t, []bool{false, true, false}, []bool{fires[0].Shifted, fires[1].Shifted, fires[2].Shifted})
	assert.Empty(t, MustParse("0 0 30 2 *").NextFires(mustTime(t, "2026-01-01T00:00:00Z"), time.UTC, 3))
	assert.Equal(t, Fire{}, MustParse("0 0 30 2 *").NextFire(mustTime(t, "2026-01-01T00:00:00Z"), time.UTC))
}
