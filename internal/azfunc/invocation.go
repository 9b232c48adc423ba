package azfunc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrMissing reports that a binding or metadata entry is absent or null.
var ErrMissing = errors.New("value missing")

// maxUnwrap bounds how many JSON string layers are peeled off a value. The host
// adds at most two; the bound only keeps hostile input cheap.
const maxUnwrap = 8

// Invocation is the request envelope the Functions host sends for a non-HTTP
// function: the trigger and input binding values by binding name, and the
// trigger metadata (MessageId, DeliveryCount, sys, ...).
//
// The host serialises string values with Json.NET before putting them in the
// envelope, so a string arrives JSON-encoded a second time: a Service Bus body
// {"runId":"run_1"} arrives as "\"{\\\"runId\\\":...}\"" or, from other
// producers, as "{\"runId\":...}"; DeliveryCount arrives as "1" or 1. The
// accessors peel those layers: while a value is a JSON string whose content is
// itself valid JSON, the content replaces it.
type Invocation struct {
	Data     map[string]json.RawMessage `json:"Data"`
	Metadata map[string]json.RawMessage `json:"Metadata"`
}

// ParseInvocation decodes an invocation envelope. The body must be a JSON
// object with a "Data" object; "Metadata" is optional.
func ParseInvocation(body []byte) (Invocation, error) {
	var inv Invocation
	if err := json.Unmarshal(body, &inv); err != nil {
		return Invocation{}, fmt.Errorf("parse invocation: %w", err)
	}
	if inv.Data == nil {
		return Invocation{}, errors.New(`parse invocation: no "Data" object`)
	}
	return inv, nil
}

// String returns the binding's value as text: a string binding decoded from
// its single or double JSON encoding, or the JSON text of any other value.
func (inv Invocation) String(name string) (string, error) {
	raw, ok := lookup(inv.Data, name)
	if !ok {
		return "", fmt.Errorf("binding %q: %w", name, ErrMissing)
	}
	s, err := text(raw)
	if err != nil {
		return "", fmt.Errorf("binding %q: %w", name, err)
	}
	return s, nil
}

// JSON decodes the binding's value into v. The value may be JSON itself or a
// JSON string (once or twice encoded) holding JSON.
func (inv Invocation) JSON(name string, v any) error {
	raw, ok := lookup(inv.Data, name)
	if !ok {
		return fmt.Errorf("binding %q: %w", name, ErrMissing)
	}
	val, err := unwrap(raw)
	if err != nil {
		return fmt.Errorf("binding %q: %w", name, err)
	}
	if err := json.Unmarshal(val, v); err != nil {
		return fmt.Errorf("binding %q: decode: %w", name, err)
	}
	return nil
}

// MetaString returns a metadata entry as text (see [Invocation.String]).
// Names match exactly first, then case-insensitively. ok is false when the
// entry is missing, null or undecodable.
func (inv Invocation) MetaString(name string) (string, bool) {
	raw, ok := lookup(inv.Metadata, name)
	if !ok {
		return "", false
	}
	s, err := text(raw)
	if err != nil {
		return "", false
	}
	return s, true
}

// MetaInt returns a metadata entry holding a base-10 integer, whether sent as
// a number (1), a string ("1") or a double-encoded string ("\"1\"").
func (inv Invocation) MetaInt(name string) (int, bool) {
	s, ok := inv.MetaString(name)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, false
	}
	return n, true
}

// MetaTime returns a metadata entry holding a timestamp, in UTC. The host
// formats times inconsistently (RFC 3339 with up to 7 fractional digits, or
// without any zone, which means UTC); see [ParseHostTime].
func (inv Invocation) MetaTime(name string) (time.Time, bool) {
	s, ok := inv.MetaString(name)
	if !ok {
		return time.Time{}, false
	}
	t, err := ParseHostTime(s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// ParseHostTime parses a timestamp as the Functions host and its extensions
// write it: RFC 3339 (any number of fractional digits, "Z" or an offset), the
// same without a zone (taken as UTC, e.g. "0001-01-01T00:00:00" for a timer
// that never ran), with a space instead of "T", or the .NET invariant
// "1/2/2006 3:04:05 PM" form. The result is in UTC.
func ParseHostTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	layouts := [...]string{
		time.RFC3339,
		"2006-01-02T15:04:05",
		"2006-01-02 15:04:05Z07:00",
		"2006-01-02 15:04:05",
		"1/2/2006 3:04:05 PM",
		"1/2/2006 15:04:05",
	}
	for _, layout := range layouts {
		// Fractional seconds after the seconds field are accepted by
		// time.Parse even when the layout does not mention them.
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("parse host time %q: unrecognised format", s)
}

// lookup finds name in m, exactly or else case-insensitively (the smallest
// matching key wins, so the result is deterministic). A null value counts as
// missing.
func lookup(m map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	raw, ok := m[name]
	if !ok {
		best := ""
		for k, v := range m {
			if strings.EqualFold(k, name) && (!ok || k < best) {
				best, raw, ok = k, v, true
			}
		}
	}
	raw = bytes.TrimSpace(raw)
	if !ok || len(raw) == 0 || string(raw) == "null" {
		return nil, false
	}
	return raw, true
}

// unwrap peels JSON string layers: while raw is a JSON string whose content is
// itself valid JSON, the content replaces it. The result is either JSON that
// is not a string or a JSON string whose content is not JSON (the final text).
func unwrap(raw json.RawMessage) (json.RawMessage, error) {
	v := bytes.TrimSpace(raw)
	if !json.Valid(v) {
		return nil, errors.New("invalid JSON value")
	}
	for range maxUnwrap {
		if len(v) == 0 || v[0] != '"' {
			break
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("decode JSON string: %w", err)
		}
		inner := bytes.TrimSpace([]byte(s))
		if len(inner) == 0 || !json.Valid(inner) {
			break
		}
		v = inner
	}
	return v, nil
}

// text returns the final text of a value: the decoded string when the
// innermost value is a string, else its JSON text.
func text(raw json.RawMessage) (string, error) {
	v, err := unwrap(raw)
	if err != nil {
		return "", err
	}
	if v[0] != '"' {
		return string(v), nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fmt.Errorf("decode JSON string: %w", err)
	}
	return s, nil
}
