package herald

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// InstantLayout is how every instant is stored and sent: UTC, RFC 3339 with
// exactly three fractional digits. The fixed width makes the text order equal
// to the time order, which range filters in every store rely on.
const InstantLayout = "2006-01-02T15:04:05.000Z"

// Instant is a point in time kept in UTC with millisecond precision.
type Instant struct{ time.Time }

// At normalises t to an Instant (UTC, truncated to milliseconds).
func At(t time.Time) Instant {
	if t.IsZero() {
		return Instant{}
	}
	return Instant{t.UTC().Truncate(time.Millisecond)}
}

// ParseInstant parses an RFC 3339 timestamp (any offset, any precision).
func ParseInstant(s string) (Instant, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return Instant{}, fmt.Errorf("not an RFC 3339 timestamp (like 2026-01-31T09:00:00Z): %q", s)
	}
	return At(t), nil
}

// String formats the instant in InstantLayout ("" for the zero instant).
func (i Instant) String() string {
	if i.IsZero() {
		return ""
	}
	return i.UTC().Format(InstantLayout)
}

// MarshalJSON writes the fixed-width form, or null for the zero instant.
func (i Instant) MarshalJSON() ([]byte, error) {
	if i.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + i.String() + `"`), nil
}

// UnmarshalJSON accepts null or an RFC 3339 string.
func (i *Instant) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*i = Instant{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp must be an RFC 3339 string")
	}
	v, err := ParseInstant(s)
	if err != nil {
		return err
	}
	*i = v
	return nil
}

// Duration is a time.Duration written in JSON as Go duration text ("15m", "36h").
type Duration time.Duration

// Std returns the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads duration text such as "90s", "15m" or "36h".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf(`duration must be a string such as "15m" or "36h"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf(`not a duration (use units s, m, h, like "15m" or "36h"): %q`, s)
	}
	*d = Duration(v)
	return nil
}
