package azfunc

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadInvocation parses a recorded payload from testdata.
func loadInvocation(t *testing.T, name string) Invocation {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	inv, err := ParseInvocation(body)
	require.NoError(t, err)
	return inv
}

func TestParseInvocation(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr string
	}{
		{name: "data and metadata", body: `{"Data":{"x":1},"Metadata":{"y":"2"}}`},
		{name: "data only", body: `{"Data":{}}`},
		{name: "lower-case envelope keys", body: `{"data":{"x":1}}`},
		{name: "empty body", body: ``, wantErr: "parse invocation"},
		{name: "truncated", body: `{"Data":{"msg":"{\"runId\"`, wantErr: "parse invocation"},
		{name: "not an object", body: `[1,2]`, wantErr: "parse invocation"},
		{name: "null", body: `null`, wantErr: `no "Data" object`},
		{name: "no data", body: `{"Metadata":{}}`, wantErr: `no "Data" object`},
		{name: "data null", body: `{"Data":null}`, wantErr: `no "Data" object`},
		{name: "data not an object", body: `{"Data":"x"}`, wantErr: "parse invocation"},
		{name: "trailing garbage", body: `{"Data":{}} x`, wantErr: "parse invocation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseInvocation([]byte(tt.body))
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			assert.NoError(t, err)
		})
	}
}

func TestInvocationString(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    string
		wantErr error
	}{
		{name: "plain string", raw: `"run_1"`, want: "run_1"},
		{name: "double-encoded string", raw: `"\"run_1\""`, want: "run_1"},
		{name: "triple-encoded string", raw: `"\"\\\"run_1\\\"\""`, want: "run_1"},
		{name: "single-encoded JSON", raw: `"{\"runId\":\"run_1\"}"`, want: `{"runId":"run_1"}`},
		{name: "double-encoded JSON", raw: `"\"{\\\"runId\\\":\\\"run_1\\\"}\""`, want: `{"runId":"run_1"}`},
		{name: "JSON object", raw: `{"runId":"run_1"}`, want: `{"runId":"run_1"}`},
		{name: "number", raw: `42`, want: "42"},
		{name: "string holding a number", raw: `"42"`, want: "42"},
		{name: "empty string", raw: `""`, want: ""},
		{name: "text that looks quoted", raw: `"say \"hi\""`, want: `say "hi"`},
		{name: "unicode escapes", raw: `"caf\u00e9"`, want: "café"},
		{name: "null is missing", raw: `null`, wantErr: ErrMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := Invocation{Data: map[string]json.RawMessage{"v": json.RawMessage(tt.raw)}}
			got, err := inv.String("v")
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}

	_, err := Invocation{Data: map[string]json.RawMessage{}}.String("absent")
	assert.ErrorIs(t, err, ErrMissing)
	assert.ErrorContains(t, err, `binding "absent"`)
}

func TestInvocationJSON(t *testing.T) {
	type job struct {
		RunID string `json:"runId"`
	}
	tests := []struct {
		name    string
		raw     string
		want    job
		wantErr string
	}{
		{name: "object", raw: `{"runId":"run_1"}`, want: job{RunID: "run_1"}},
		{name: "single-encoded", raw: `"{\"runId\":\"run_1\"}"`, want: job{RunID: "run_1"}},
		{name: "double-encoded", raw: `"\"{\\\"runId\\\":\\\"run_1\\\"}\""`, want: job{RunID: "run_1"}},
		{name: "whitespace around inner JSON", raw: `" {\"runId\":\"run_1\"} "`, want: job{RunID: "run_1"}},
		{name: "text is not an object", raw: `"hello"`, wantErr: `binding "v": decode`},
		{name: "wrong type", raw: `[1]`, wantErr: `binding "v": decode`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := Invocation{Data: map[string]json.RawMessage{"v": json.RawMessage(tt.raw)}}
			var got job
			err := inv.JSON("v", &got)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}

	var s string
	inv := Invocation{Data: map[string]json.RawMessage{"v": json.RawMessage(`"\"plain text\""`)}}
	require.NoError(t, inv.JSON("v", &s), "a string target receives the final text")
	assert.Equal(t, "plain text", s)
}

func TestMetadata(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		wantStr string
		wantInt int
		intOK   bool
	}{
		{name: "DeliveryCount as string", raw: `"1"`, wantStr: "1", wantInt: 1, intOK: true},
		{name: "DeliveryCount as number", raw: `1`, wantStr: "1", wantInt: 1, intOK: true},
		{name: "DeliveryCount double-encoded", raw: `"\"1\""`, wantStr: "1", wantInt: 1, intOK: true},
		{name: "large sequence number", raw: `"\"9223372036854775807\""`, wantStr: "9223372036854775807", wantInt: 9223372036854775807, intOK: true},
		{name: "MessageId single-encoded", raw: `"run_1"`, wantStr: "run_1"},
		{name: "MessageId double-encoded", raw: `"\"run_1\""`, wantStr: "run_1"},
		{name: "not an integer", raw: `"1.5"`, wantStr: "1.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := Invocation{Metadata: map[string]json.RawMessage{"Key": json.RawMessage(tt.raw)}}
			s, ok := inv.MetaString("Key")
			require.True(t, ok)
			assert.Equal(t, tt.wantStr, s)
			n, ok := inv.MetaInt("Key")
			assert.Equal(t, tt.intOK, ok)
			assert.Equal(t, tt.wantInt, n)
		})
	}

	inv := Invocation{Metadata: map[string]json.RawMessage{
		"deliverycount": json.RawMessage(`"7"`),
		"Nothing":       json.RawMessage(`null`),
	}}
	n, ok := inv.MetaInt("DeliveryCount")
	assert.True(t, ok, "names fall back to a case-insensitive match")
	assert.Equal(t, 7, n)
	_, ok = inv.MetaString("Nothing")
	assert.False(t, ok, "null is missing")
	_, ok = inv.MetaString("Absent")
	assert.False(t, ok)
	_, ok = Invocation{}.MetaTime("EnqueuedTimeUtc")
	assert.False(t, ok, "nil metadata")
}

func TestParseHostTime(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return v.UTC()
	}
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "2025-03-14T09:26:01Z", want: utc("2025-03-14T09:26:01Z")},
		{in: "2025-03-14T09:25:00.0009346+00:00", want: utc("2025-03-14T09:25:00.0009346Z")},
		{in: "2025-03-14T11:26:01.123+02:00", want: utc("2025-03-14T09:26:01.123Z")},
		{in: "2025-03-14T09:26:01.123", want: utc("2025-03-14T09:26:01.123Z")},
		{in: "2025-03-14T09:26:01", want: utc("2025-03-14T09:26:01Z")},
		{in: "2025-03-14 09:26:01.5", want: utc("2025-03-14T09:26:01.5Z")},
		{in: "2025-03-14 09:26:01+01:00", want: utc("2025-03-14T08:26:01Z")},
		{in: "3/14/2025 9:26:01 AM", want: utc("2025-03-14T09:26:01Z")},
		{in: "3/14/2025 21:26:01", want: utc("2025-03-14T21:26:01Z")},
		{in: " 2025-03-14T09:26:01Z ", want: utc("2025-03-14T09:26:01Z")},
		{in: "0001-01-01T00:00:00", want: time.Time{}},
		{in: "yesterday", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseHostTime(tt.in)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got), "got %s, want %s", got, tt.want)
			assert.Equal(t, time.UTC, got.Location())
		})
	}
}

func TestDecodeTimer(t *testing.T) {
	tests := []struct {
		file       string
		wantStatus *ScheduleStatus
		wantPast   bool
	}{
		{
			file: "timer.json",
			wantStatus: &ScheduleStatus{
				Last:        time.Date(2025, 3, 14, 9, 25, 0, 934600, time.UTC),
				Next:        time.Date(2025, 3, 14, 9, 26, 0, 0, time.UTC),
				LastUpdated: time.Date(2025, 3, 14, 9, 25, 0, 934600, time.UTC),
			},
		},
		{
			file:       "timer_first_run.json",
			wantStatus: &ScheduleStatus{Next: time.Date(2025, 3, 14, 9, 26, 0, 0, time.UTC)},
			wantPast:   true,
		},
		{file: "timer_no_monitor.json"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			inv := loadInvocation(t, tt.file)
			got, err := DecodeTimer(inv, BindingTimer)
			require.NoError(t, err)
			assert.Equal(t, tt.wantPast, got.IsPastDue)
			if tt.wantStatus == nil {
				assert.Nil(t, got.ScheduleStatus)
				return
			}
			require.NotNil(t, got.ScheduleStatus)
			assert.True(t, tt.wantStatus.Last.Equal(got.ScheduleStatus.Last), "Last %s", got.ScheduleStatus.Last)
			assert.True(t, tt.wantStatus.Next.Equal(got.ScheduleStatus.Next), "Next %s", got.ScheduleStatus.Next)
			assert.True(t, tt.wantStatus.LastUpdated.Equal(got.ScheduleStatus.LastUpdated))
			assert.Equal(t, tt.wantStatus.Last.IsZero(), got.ScheduleStatus.Last.IsZero())
		})
	}

	t.Run("string-encoded timer", func(t *testing.T) {
		inv := Invocation{Data: map[string]json.RawMessage{
			"timer": json.RawMessage(`"{\"ScheduleStatus\":{\"Next\":\"2025-03-14T09:26:00Z\"},\"IsPastDue\":true}"`),
		}}
		got, err := DecodeTimer(inv, "timer")
		require.NoError(t, err)
		assert.True(t, got.IsPastDue)
		require.NotNil(t, got.ScheduleStatus)
		assert.True(t, got.ScheduleStatus.Last.IsZero())
	})
	t.Run("errors", func(t *testing.T) {
		_, err := DecodeTimer(Invocation{Data: map[string]json.RawMessage{}}, "timer")
		assert.ErrorIs(t, err, ErrMissing)
		bad := Invocation{Data: map[string]json.RawMessage{
			"timer": json.RawMessage(`{"ScheduleStatus":{"Last":"not a time"}}`),
		}}
		_, err = DecodeTimer(bad, "timer")
		assert.ErrorContains(t, err, "decode timer")
	})
}

func TestDecodeServiceBus(t *testing.T) {
	enqueued := time.Date(2025, 3, 14, 9, 26, 1, 123e6, time.UTC)
	tests := []struct {
		file string
		want ServiceBusMessage
	}{
		{
			file: "servicebus_double.json",
			want: ServiceBusMessage{
				Body: json.RawMessage(`{"runId":"run_1","tenantId":"t_1"}`), MessageID: "run_1", DeliveryCount: 1,
				EnqueuedTime: enqueued, SequenceNumber: 42, CorrelationID: "corr-9", ContentType: "application/json",
			},
		},
		{
			file: "servicebus_single.json",
			want: ServiceBusMessage{
				Body: json.RawMessage(`{"runId":"run_1","tenantId":"t_1"}`), MessageID: "run_1", DeliveryCount: 1,
				EnqueuedTime: enqueued, SequenceNumber: 42, CorrelationID: "corr-9", ContentType: "application/json",
			},
		},
		{
			file: "servicebus_numbers.json",
			want: ServiceBusMessage{
				Body: json.RawMessage(`{"runId":"run_1","tenantId":"t_1"}`), MessageID: "run_1", DeliveryCount: 3,
				EnqueuedTime: enqueued, SequenceNumber: 42,
			},
		},
		{
			file: "servicebus_base64.json",
			want: ServiceBusMessage{Body: json.RawMessage(`{"runId":"run_1","tenantId":"t_1"}`), MessageID: "run_1", DeliveryCount: 2},
		},
		{
			file: "servicebus_text.json",
			want: ServiceBusMessage{Body: json.RawMessage(`"hello world"`), MessageID: "m_text", DeliveryCount: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := DecodeServiceBus(loadInvocation(t, tt.file), BindingMessage)
			require.NoError(t, err)
			assert.JSONEq(t, string(tt.want.Body), string(got.Body))
			assert.True(t, tt.want.EnqueuedTime.Equal(got.EnqueuedTime), "EnqueuedTime %s", got.EnqueuedTime)
			got.Body, got.EnqueuedTime = tt.want.Body, tt.want.EnqueuedTime
			assert.Equal(t, tt.want, got)
		})
	}

	t.Run("Decode", func(t *testing.T) {
		m, err := DecodeServiceBus(loadInvocation(t, "servicebus_double.json"), BindingMessage)
		require.NoError(t, err)
		var job struct {
			RunID    string `json:"runId"`
			TenantID string `json:"tenantId"`
		}
		require.NoError(t, m.Decode(&job))
		assert.Equal(t, "run_1", job.RunID)
		assert.Equal(t, "t_1", job.TenantID)

		var n int
		assert.ErrorContains(t, m.Decode(&n), `decode body of message "run_1"`)
	})
	t.Run("base64 of non-JSON stays text", func(t *testing.T) {
		// "aGVsbG8=" is base64 for "hello": not JSON, so the text is kept.
		inv := Invocation{Data: map[string]json.RawMessage{"msg": json.RawMessage(`"aGVsbG8="`)}}
		m, err := DecodeServiceBus(inv, "msg")
		require.NoError(t, err)
		assert.Equal(t, `"aGVsbG8="`, string(m.Body))
	})
	t.Run("missing binding", func(t *testing.T) {
		_, err := DecodeServiceBus(loadInvocation(t, "servicebus_double.json"), "other")
		assert.ErrorIs(t, err, ErrMissing)
	})
	t.Run("bad metadata is ignored", func(t *testing.T) {
		inv := Invocation{
			Data:     map[string]json.RawMessage{"msg": json.RawMessage(`{}`)},
			Metadata: map[string]json.RawMessage{"DeliveryCount": json.RawMessage(`"many"`), "EnqueuedTimeUtc": json.RawMessage(`"soon"`)},
		}
		m, err := DecodeServiceBus(inv, "msg")
		require.NoError(t, err)
		assert.Zero(t, m.DeliveryCount)
		assert.True(t, m.EnqueuedTime.IsZero())
	})
}
