package datasource

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/heraldreports/herald/internal/herald"
)

func TestSecretsOf(t *testing.T) {
	tests := []struct {
		dsn  string
		want []string
	}{
		{"postgres://alice:s%40cret!@db:5432/x", []string{"s%40cret!", "s@cret!"}},
		{"postgresql://bob:pw:with:colons@db/x", []string{"pw:with:colons"}},
		{"host=db user=carol password=hunter22 dbname=x", []string{"hunter22"}},
		{"host=db password='it\\'s secret' dbname=x", []string{`it\'s secret`, "it's secret"}},
		{"dave:tr0ub4dor@tcp(db:3306)/x", []string{"tr0ub4dor"}},
		{"mysql://erin:p4ss@db/x", []string{"p4ss"}},
		{"postgres://db/x?password=qu3ry", []string{"qu3ry"}},
	}
	for _, tc := range tests {
		got := secretsOf(tc.dsn)
		assert.Contains(t, got, tc.dsn, "the DSN itself")
		for _, w := range tc.want {
			assert.Contains(t, got, w, tc.dsn)
		}
		msg := scrub("failed for "+tc.dsn+" with "+tc.want[0], got)
		for _, w := range tc.want {
			assert.NotContains(t, msg, w, tc.dsn)
		}
	}
	assert.Equal(t, "x [redacted] y", scrub("x abc y", []string{"abc"}))
}

func TestClassify(t *testing.T) {
	assert.Equal(t, Reason(""), Classify(nil))
	assert.Equal(t, ReasonTimeout, Classify(fmt.Errorf("x: %w", context.DeadlineExceeded)))
	assert.Equal(t, ReasonCanceled, Classify(context.Canceled))
	assert.Equal(t, ReasonQuery, Classify(herald.Errorf(herald.CodeInvalid, "bad")))
	assert.Equal(t, ReasonPermission, Classify(herald.Errorf(herald.CodeForbidden, "no")))
	assert.Equal(t, ReasonConnection, Classify(herald.Errorf(herald.CodeUnavailable, "down")))
	assert.Equal(t, ReasonInternal, Classify(errors.New("boom")))

	m := &errorMapper{dialect: &sqliteDialect{}, secrets: []string{"s3cret"}, timeout: 90 * time.Second}
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	err := m.mapErr(context.Background(), expired, stageQuery, errors.New("interrupted near s3cret"))
	assert.Equal(t, ReasonTimeout, Classify(err))
	assert.Equal(t, herald.CodeUnavailable, herald.CodeOf(err))
	assert.Contains(t, err.Error(), "query timed out after 1m30s")
	assert.NotContains(t, err.Error(), "s3cret")
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	err = m.mapErr(context.Background(), expired, stageConnect, errors.New("dial"))
	assert.Contains(t, err.Error(), "could not connect to the data source: timed out after 1m30s")
	assert.Equal(t, ReasonTimeout, Classify(err))

	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	err = m.mapErr(canceled, canceled, stageQuery, errors.New("x"))
	assert.Equal(t, ReasonCanceled, Classify(err))
	assert.ErrorIs(t, err, context.Canceled)

	err = m.mapErr(context.Background(), context.Background(), stageQuery, errors.New("odd failure"))
	assert.Equal(t, herald.CodeInternal, herald.CodeOf(err))
	assert.Equal(t, ReasonInternal, Classify(err))
}

func TestSQLiteType(t *testing.T) {
	for decl, want := range map[string]ColumnType{
		"INTEGER": TypeInt, "bigint": TypeInt, "UNSIGNED BIG INT": TypeInt, "VARCHAR(20)": TypeString, "TEXT": TypeString,
		"CLOB": TypeString, "BLOB": TypeBytes, "REAL": TypeFloat, "DOUBLE PRECISION": TypeFloat, "FLOAT": TypeFloat,
		"DECIMAL(10,2)": TypeDecimal, "NUMERIC": TypeDecimal, "BOOLEAN": TypeBool, "DATE": TypeDate, "DATETIME": TypeDatetime,
		"TIMESTAMP": TypeDatetime, "JSON": TypeJSON, "": TypeUnknown, "WHATEVER": TypeUnknown,
	} {
		assert.Equal(t, want, sqliteType(decl), decl)
	}
}

func TestConverters(t *testing.T) {
	assert.Equal(t, "1.5", toDecimal(1.5))
	assert.Equal(t, "12.30", toDecimal([]byte("12.30")))
	assert.Equal(t, "18446744073709551615", toDecimal(uint64(18446744073709551615)))
	assert.Equal(t, int64(5), toInt([]byte("5")))
	assert.Equal(t, int64(5), toInt(5.0))
	assert.Equal(t, 5.5, toInt(5.5), "a fraction is not cut")
	assert.Equal(t, true, toBool([]byte("1")))
	assert.Equal(t, false, toBool(int64(0)))
	assert.Equal(t, 0.1, toFloat32(float64(float32(0.1))))
	assert.Equal(t, 0.1, toDynamic(float32(0.1)))
	assert.Equal(t, "not json", toJSON([]byte("not json")), "invalid JSON stays text")
	assert.Equal(t, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), toDate(time.Date(2026, 1, 2, 0, 0, 0, 0, time.FixedZone("X", 3600))))
	assert.Equal(t, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), toDatetime("2026-01-02 03:04:05"))
	assert.Equal(t, time.Date(2026, 1, 2, 2, 4, 5, 0, time.UTC), toDatetime("2026-01-02T03:04:05+01:00"))
	assert.Equal(t, "infinity", toDatetime("infinity"))
	assert.Equal(t, int64(7), toDynamic(uint8(7)))
	assert.Equal(t, "18446744073709551615", toDynamic(uint64(18446744073709551615)))
	for _, c := range []converter{toString, toInt, toFloat, toFloat32, toDecimal, toBool, toDate, toDatetime, toJSON, toBytes, toDynamic} {
		assert.Nil(t, c(nil))
	}
}
