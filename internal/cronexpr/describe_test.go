package cronexpr

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDescribe(t *testing.T) {
	tests := []struct {
		expr, want string
	}{
		{"0 9 * * MON-FRI", "At 09:00, Monday through Friday"},
		{"*/15 * * * *", "Every 15 minutes"},
		{"5 * * * *", "At minute 5 past every hour"},
		{"30 2 1 * *", "At 02:30 on day 1 of the month"},
		{"0 0 * * SUN", "At 00:00 on Sunday"},
		{"0 0 * * 7", "At 00:00 on Sunday"},
		{"0 8,17 * * MON,WED,FRI", "At 08:00 and 17:00, on Monday, Wednesday and Friday"},
		{"* * * * * *", "Every second"},
		{"* * * * *", "Every minute"},
		{"0 * * * *", "Every hour"},
		{"@hourly", "Every hour"},
		{"@daily", "At 00:00"},
		{"@weekly", "At 00:00 on Sunday"},
		{"@monthly", "At 00:00 on day 1 of the month"},
		{"@yearly", "At 00:00 on day 1 of the month in January"},
		{"30 2 * * *", "At 02:30"},
		{"*/15 2 * * *", "At 02:00, 02:15, 02:30 and 02:45"},
		{"0 */2 * * *", "At minute 0 past every 2nd hour"},
		{"0 9-17 * * *", "At minute 0 past every hour from 9 through 17"},
		{"*/15 9-17 * * 1-5", "Every 15 minutes, between 09:00 and 17:59, Monday through Friday"},
		{"* 9 * * *", "Every minute, between 09:00 and 09:59"},
		{"*/5 9,12,15 * * *", "Every 5 minutes, during hours 9, 12 and 15"},
		{"0 */30 * * * *", "Every 30 minutes"},
		{"*/30 * * * * *", "Every 30 seconds"},
		{"15 * * * * *", "At second 15 past every minute"},
		{"15 */30 * * * *", "At second 15 past every 30th minute"},
		{"*/10 * 9 * * *", "Every 10 seconds, between 09:00 and 09:59"},
		{"* 5 * * * *", "Every second, during minute 5 past every hour"},
		{"1-5 * * * * *", "At every second from 1 through 5 past every minute"},
		{"15 30 9 * * *", "At 09:30:15"},
		{"0 30 9 * * *", "At 09:30"},
		{"0-29 * * * *", "At every minute from 0 through 29 past every hour"},
		{"0,30 9-17 * * *", "Every 30 minutes, between 09:00 and 17:59"},
		{"0,20 9-17 * * *", "At minutes 0 and 20 past every hour from 9 through 17"},
		{"*/7 * * * *", "At every 7th minute from 0 through 56 past every hour"},
		{"5/15 * * * *", "At every 15th minute from 5 through 50 past every hour"},
		{"0,1,2,10 * * * *", "At minutes 0 through 2 and 10 past every hour"},
		{"0 0 1,15 * *", "At 00:00, on days 1 and 15 of the month"},
		{"0 0 L * *", "At 00:00 on the last day of the month"},
		{"0 0 1,L * *", "At 00:00, on day 1 and the last day of the month"},
		{"0 0 15W * *", "At 00:00 on the weekday nearest day 15 of the month"},
		{"0 0 LW * *", "At 00:00 on the last weekday of the month"},
		{"0 0 * * 5L", "At 00:00 on the last Friday of the month"},
		{"0 0 * * 1#2", "At 00:00 on the second Monday of the month"},
		{"0 0 1 * MON", "At 00:00, on day 1 of the month and on Monday"},
		{"0 0 */2 * MON", "At 00:00, on every 2nd day from 1 through 31 of the month, if it is Monday"},
		{"0 0 1-7 * 1", "At 00:00, on every day from 1 through 7 of the month and on Monday"},
		{"0 0 1 1,4,7,10 *", "At 00:00 on day 1 of the month, in January, April, July and October"},
		{"0 0 1 1-3 *", "At 00:00 on day 1 of the month, in January through March"},
		{"0 12 * 6-8 6,0", "At 12:00, on Saturday and Sunday, in June through August"},
		{"0 22 * * FRI-SUN", "At 22:00, Friday through Sunday"},
		{"0 0 * * 0-6", "At 00:00"},
		{"0 0 1-31 * MON", "At 00:00"},
		{"0 0 30 2 *", "At 00:00 on day 30 of the month in February"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			s, err := Parse(tc.expr)
			require.NoError(t, err)
			assert.Equal(t, tc.want, s.Describe())
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		mask     uint64
		lo, hi   int
		wantKind setKind
		wantStep int
	}{
		{rangeMask(0, 59), 0, 59, setAll, 1},
		{1 << 5, 0, 59, setSingle, 0},
		{rangeMask(10, 20), 0, 59, setRange, 1},
		{1<<0 | 1<<30, 0, 59, setEvery, 30},
		{1<<0 | 1<<20 | 1<<40, 0, 59, setEvery, 20},
		{1<<5 | 1<<35, 0, 59, setList, 0},
		{1<<5 | 1<<20 | 1<<35 | 1<<50, 0, 59, setStepped, 15},
		{1<<0 | 1<<7 | 1<<14, 0, 59, setList, 0},
		{1<<0 | 1<<7 | 1<<14 | 1<<21, 0, 59, setStepped, 7},
		{1<<0 | 1<<7 | 1<<15, 0, 59, setList, 0},
	}
	for _, tc := range tests {
		kind, step := classify(tc.mask, tc.lo, tc.hi)
		assert.Equal(t, tc.wantKind, kind, "mask %b", tc.mask)
		assert.Equal(t, tc.wantStep, step, "mask %b", tc.mask)
	}
	assert.Equal(t, "1st", ordinal(1))
	assert.Equal(t, "2nd", ordinal(2))
	assert.Equal(t, "3rd", ordinal(3))
	assert.Equal(t, "11th", ordinal(11))
	assert.Equal(t, "12th", ordinal(12))
	assert.Equal(t, "22nd", ordinal(22))
}
