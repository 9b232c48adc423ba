package cronexpr

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		expr, want string
	}{
		{"* * * * *", "* * * * *"},
		{"  0   9 *\t* MON-FRI ", "0 9 * * 1-5"},
		{"0 9 * * mon-fri", "0 9 * * 1-5"},
		{"30 2 * * *", "30 2 * * *"},
		{"*/15 * * * *", "*/15 * * * *"},
		{"*/1 * * * *", "* * * * *"},
		{"0-59/1 * * * *", "0-59 * * * *"},
		{"5/15 * * * *", "5/15 * * * *"},
		{"5/1 * * * *", "5-59 * * * *"},
		{"0-30/10 9-17/2 * * *", "0-30/10 9-17/2 * * *"},
		{"0,15,30-40,50/5 * * * *", "0,15,30-40,50/5 * * * *"},
		{"0 0 ? * 1", "0 0 * * 1"},
		{"0 0 1 * ?", "0 0 1 * *"},
		{"0 0 1 jan,Jul *", "0 0 1 1,7 *"},
		{"0 0 1 JAN-MAR/2 *", "0 0 1 1-3/2 *"},
		{"0 0 * * 7", "0 0 * * 0"},
		{"0 0 * * 0-7", "0 0 * * 0-7"},
		{"0 0 * * FRI-SUN", "0 0 * * 5-7"},
		{"0 0 * * sun,sat", "0 0 * * 0,6"},
		{"0 0 * * */2", "0 0 * * */2"},
		{"0 0 * * 7/2", "0 0 * * 7/2"},
		{"0 0 L * *", "0 0 L * *"},
		{"0 0 lw * *", "0 0 LW * *"},
		{"0 0 15w * *", "0 0 15W * *"},
		{"0 0 1,15,L * *", "0 0 1,15,L * *"},
		{"0 0 * * 5L", "0 0 * * 5L"},
		{"0 0 * * friL", "0 0 * * 5L"},
		{"0 0 * * 7L", "0 0 * * 0L"},
		{"0 0 * * MON#2", "0 0 * * 1#2"},
		{"0 0 * * 1#1,5#5", "0 0 * * 1#1,5#5"},
		{"0 0 30 2 *", "0 0 30 2 *"},
		{"0 */30 * * * *", "0 */30 * * * *"},
		{"*/10 * * * * *", "*/10 * * * * *"},
		{"59 59 23 31 12 6", "59 59 23 31 12 6"},
		{"@yearly", "0 0 1 1 *"},
		{"@annually", "0 0 1 1 *"},
		{"@monthly", "0 0 1 * *"},
		{"@weekly", "0 0 * * 0"},
		{"@daily", "0 0 * * *"},
		{"@midnight", "0 0 * * *"},
		{"@HOURLY", "0 * * * *"},
		{"0 0 01 * *", "0 0 1 * *"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			s, err := Parse(tc.expr)
			require.NoError(t, err)
			assert.Equal(t, tc.want, s.String())
			again, err := Parse(s.String())
			require.NoError(t, err, "String() must parse")
			assert.Equal(t, s.String(), again.String(), "normalisation is stable")
			assert.Equal(t, *s, *again, "String() parses to the same schedule")
		})
	}
}

func TestParseFlags(t *testing.T) {
	assert.True(t, MustParse("*/15 * * * *").EveryHour())
	assert.True(t, MustParse("0 */30 * * * *").EveryHour())
	assert.True(t, MustParse("5 0-23 * * *").EveryHour())
	assert.False(t, MustParse("0 */2 * * *").EveryHour())
	assert.False(t, MustParse("30 2 * * *").EveryHour())
	assert.True(t, MustParse("0 * * * * *").HasSeconds())
	assert.False(t, MustParse("@hourly").HasSeconds())
	assert.Panics(t, func() { MustParse("bad") })
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		expr     string
		field    string
		position int
		msg      string // substring of the message
	}{
		{"", "", 0, "empty expression"},
		{"   ", "", 0, "empty expression"},
		{"* * * *", "", 0, "got 4"},
		{"* * * * * * *", "", 0, "got 7"},
		{"0 0 * * * extra garbage", "", 0, "got 7"},
		{"60 * * * *", "minute", 1, "value 60 out of range 0-59"},
		{"0 25 * * *", "hour", 2, "value 25 out of range 0-23"},
		{"0 0 0 * *", "day-of-month", 3, "value 0 out of range 1-31"},
		{"0 0 32 * *", "day-of-month", 3, "value 32 out of range 1-31"},
		{"0 0 * 13 *", "month", 4, "value 13 out of range 1-12"},
		{"0 0 * 0 *", "month", 4, "value 0 out of range 1-12"},
		{"0 0 * * 8", "day-of-week", 5, "value 8 out of range 0-7"},
		{"60 0 0 * * *", "second", 1, "value 60 out of range 0-59"},
		{"0 0 24 * * *", "hour", 3, "value 24 out of range 0-23"},
		{"0 99999999999999999999 * * *", "hour", 2, "out of range 0-23"},
		{"*/0 * * * *", "minute", 1, "step 0 out of range 1-59"},
		{"*/60 * * * *", "minute", 1, "step 60 out of range 1-59"},
		{"0 */24 * * *", "hour", 2, "step 24 out of range 1-23"},
		{"0 0 * * */7", "day-of-week", 5, "step 7 out of range 1-6"},
		{"*/ * * * *", "minute", 1, "missing step"},
		{"*/x * * * *", "minute", 1, `invalid step "x"`},
		{"*/2/3 * * * *", "minute", 1, "invalid step"},
		{"5-2 * * * *", "minute", 1, "reversed range 5-2"},
		{"0 0 * DEC-JAN *", "month", 4, "reversed range DEC-JAN"},
		{"0 0 * * 5-1", "day-of-week", 5, "reversed range 5-1"},
		{"1-2-3 * * * *", "minute", 1, "invalid value"},
		{"-5 * * * *", "minute", 1, "missing value"},
		{"5- * * * *", "minute", 1, "missing value"},
		{"0 0 * FOO *", "month", 4, `unknown name "FOO"`},
		{"0 0 * * FOO", "day-of-week", 5, `unknown name "FOO"`},
		{"0 0 * MON *", "month", 4, `unknown name "MON"`},
		{"0 0 * * JAN", "day-of-week", 5, `unknown name "JAN"`},
		{"0 0 * * MONDAY", "day-of-week", 5, `unknown name "MONDAY"`},
		{"0 JAN * * *", "hour", 2, `invalid value "JAN"`},
		{"5x * * * *", "minute", 1, `invalid value "5x"`},
		{"+5 * * * *", "minute", 1, `invalid value "+5"`},
		{"1,,2 * * * *", "minute", 1, "empty list item"},
		{"1, * * * *", "minute", 1, "empty list item"},
		{", * * * *", "minute", 1, "empty list item"},
		{"? * * * *", "minute", 1, "? is only allowed"},
		{"0 0 * ? *", "month", 4, "? is only allowed"},
		{"L * * * *", "minute", 1, "only allowed in the day fields"},
		{"0 0 L-2 * *", "day-of-month", 3, "unsupported value"},
		{"0 0 L/2 * *", "day-of-month", 3, "unsupported value"},
		{"0 0 W * *", "day-of-month", 3, "W needs a single day"},
		{"0 0 1-5W * *", "day-of-month", 3, "W needs a single day"},
		{"0 0 32W * *", "day-of-month", 3, "out of range 1-31"},
		{"0 0 1#2 * *", "day-of-month", 3, "invalid value"},
		{"0 0 * * L", "day-of-week", 5, "a lone L is not supported"},
		{"0 0 * * 1#6", "day-of-week", 5, "occurrence 6 out of range 1-5"},
		{"0 0 * * 1#0", "day-of-week", 5, "occurrence 0 out of range 1-5"},
		{"0 0 * * 1#", "day-of-week", 5, "invalid occurrence"},
		{"0 0 * * #2", "day-of-week", 5, "missing value"},
		{"0 0 * * 9L", "day-of-week", 5, "value 9 out of range 0-7"},
		{"0 0 * * 1-5L", "day-of-week", 5, "invalid value"},
		{"@every 5m", "", 0, "@every is not supported"},
		{"@reboot", "", 0, `unknown macro "@reboot"`},
		{"@daily now", "", 2, `unexpected "now" after @daily`},
		{"0 0 * * * \x00", "day-of-week", 6, `invalid value "\x00"`},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			s, err := Parse(tc.expr)
			require.Error(t, err)
			assert.Nil(t, s)
			var pe *ParseError
			require.True(t, errors.As(err, &pe), "error is a *ParseError")
			assert.Equal(t, tc.expr, pe.Expr)
			assert.Equal(t, tc.field, pe.Field)
			assert.Equal(t, tc.position, pe.Position)
			assert.Contains(t, pe.Msg, tc.msg)
			assert.Contains(t, err.Error(), "cron: ")
		})
	}
}

func TestParseErrorFormat(t *testing.T) {
	_, err := Parse("0 25 * * *")
	assert.EqualError(t, err, "cron: hour field (position 2): value 25 out of range 0-23")
	_, err = Parse("* * *")
	assert.EqualError(t, err,
		"cron: expected 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got 3")
}
