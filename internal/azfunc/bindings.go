package azfunc

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// Timer is the value of a timerTrigger binding.
type Timer struct {
	// ScheduleStatus is nil when the function.json sets useMonitor false.
	// Times the host never recorded (first run) are the zero time.
	ScheduleStatus *ScheduleStatus
	// IsPastDue reports that the invocation fires later than scheduled (the
	// app was down or scaled to zero).
	IsPastDue bool
}

// ScheduleStatus is the timer's persisted schedule state, in UTC.
type ScheduleStatus struct {
	Last        time.Time
	Next        time.Time
	LastUpdated time.Time
}

// timerWire mirrors the host's TimerInfo serialisation.
type timerWire struct {
	ScheduleStatus *struct {
		Last        hostTime `json:"Last"`
		Next        hostTime `json:"Next"`
		LastUpdated hostTime `json:"LastUpdated"`
	} `json:"ScheduleStatus"`
	IsPastDue bool `json:"IsPastDue"`
}

// hostTime decodes the host's timestamp formats (see ParseHostTime).
type hostTime time.Time

// UnmarshalJSON implements json.Unmarshaler; null and "" decode to the zero time.
func (t *hostTime) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*t = hostTime{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	if s == "" {
		*t = hostTime{}
		return nil
	}
	parsed, err := ParseHostTime(s)
	if err != nil {
		return err
	}
	*t = hostTime(parsed)
	return nil
}

// DecodeTimer decodes the timer trigger value of binding (the "name" of the
// timerTrigger in function.json).
func DecodeTimer(inv Invocation, binding string) (Timer, error) {
	var w timerWire
	if err := inv.JSON(binding, &w); err != nil {
		return Timer{}, fmt.Errorf("decode timer: %w", err)
	}
	t := Timer{IsPastDue: w.IsPastDue}
	if s := w.ScheduleStatus; s != nil {
		t.ScheduleStatus = &ScheduleStatus{
			Last:        time.Time(s.Last),
			Next:        time.Time(s.Next),
			LastUpdated: time.Time(s.LastUpdated),
		}
	}
	return t, nil
}

// ServiceBusMessage is one message of a serviceBusTrigger (cardinality one).
type ServiceBusMessage struct {
	// Body is the message body as JSON: the body itself when it is JSON
	// (after peeling the host's string encodings), or a JSON string holding
	// the text otherwise. It is always valid JSON.
	Body json.RawMessage
	// MessageID is the broker message id; Herald sets it to the run or
	// delivery id, so it doubles as the idempotency key.
	MessageID string
	// DeliveryCount counts deliveries including this one (1 on the first);
	// 0 when the host did not send it.
	DeliveryCount int
	// EnqueuedTime is when the broker accepted the message, in UTC; zero
	// when unknown.
	EnqueuedTime time.Time
	// SequenceNumber is the broker-assigned sequence number; 0 when unknown.
	SequenceNumber int64
	// CorrelationID and ContentType are the broker properties of the same name.
	CorrelationID string
	ContentType   string
}

// Decode unmarshals the message body into v.
func (m ServiceBusMessage) Decode(v any) error {
	if err := json.Unmarshal(m.Body, v); err != nil {
		return fmt.Errorf("decode body of message %q: %w", m.MessageID, err)
	}
	return nil
}

// DecodeServiceBus decodes the Service Bus trigger value of binding (the
// "name" of the serviceBusTrigger in function.json) and the message metadata.
//
// The body may arrive as JSON, as a JSON string holding JSON (once or twice
// encoded), or, when the binding delivers bytes (dataType binary), as base64;
// a base64 string is decoded only when it yields a JSON object or array, so
// plain-text bodies stay text. Missing or malformed metadata leaves the
// corresponding field at its zero value: only the body is required.
func DecodeServiceBus(inv Invocation, binding string) (ServiceBusMessage, error) {
	raw, ok := lookup(inv.Data, binding)
	if !ok {
		return ServiceBusMessage{}, fmt.Errorf("decode service bus message: binding %q: %w", binding, ErrMissing)
	}
	body, err := messageBody(raw)
	if err != nil {
		return ServiceBusMessage{}, fmt.Errorf("decode service bus message: binding %q: %w", binding, err)
	}
	m := ServiceBusMessage{Body: body}
	m.MessageID, _ = inv.MetaString("MessageId")
	m.DeliveryCount, _ = inv.MetaInt("DeliveryCount")
	if t, ok := inv.MetaTime("EnqueuedTimeUtc"); ok {
		m.EnqueuedTime = t
	} else if t, ok := inv.MetaTime("EnqueuedTime"); ok {
		m.EnqueuedTime = t
	}
	if n, ok := inv.MetaInt("SequenceNumber"); ok {
		m.SequenceNumber = int64(n)
	}
	m.CorrelationID, _ = inv.MetaString("CorrelationId")
	m.ContentType, _ = inv.MetaString("ContentType")
	return m, nil
}

// messageBody returns the innermost JSON of a message body binding value.
func messageBody(raw json.RawMessage) (json.RawMessage, error) {
	v, err := unwrap(raw)
	if err != nil {
		return nil, err
	}
	if v[0] != '"' {
		return v, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, fmt.Errorf("decode JSON string: %w", err)
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		b = bytes.TrimSpace(b)
		if len(b) > 0 && (b[0] == '{' || b[0] == '[') && json.Valid(b) {
			return unwrap(b)
		}
	}
	return v, nil
}
