package herald

import (
	"encoding/json"
	"time"
	"unicode/utf8"
)

// This file is the queue contract, modelled on Azure Service Bus queues so
// that the embedded queue (internal/sqlite) and Service Bus behave alike:
// peek-lock delivery with lock tokens, duplicate detection by message id,
// scheduled messages, a delivery count and a dead-letter list. The
// conformance suite in internal/queuetest pins the behaviour down.
//
// The queue names in use (QueueGenerate, QueueDeliver) are in jobs.go.

// Queue limits and defaults.
const (
	// MaxMessageBytes is the largest body a queue accepts, the Service Bus
	// standard tier's message size; larger bodies are CodeTooLarge.
	MaxMessageBytes = 256 << 10
	// MaxMessageIDLen is the longest message id, Service Bus's MessageId limit.
	MaxMessageIDLen = 128
	// DefaultDuplicateWindow is how long a published id is remembered:
	// publishing it again to the same queue within the window is a no-op.
	DefaultDuplicateWindow = 10 * time.Minute
	// DefaultMaxDeliveryCount is how many times a message is delivered
	// before it is dead-lettered instead (Service Bus's default).
	DefaultMaxDeliveryCount = 10
	// MaxReceive is the most messages one Receive may ask for.
	MaxReceive = 1000
	// MaxLockDuration is the longest lock one Receive or Renew may ask for.
	MaxLockDuration = time.Hour
	// MaxRetryAfter is the longest delay Abandon may ask for.
	MaxRetryAfter = 24 * time.Hour
	// MaxDeadLetterReasonBytes bounds a dead-letter reason; longer reasons
	// are cut (see ClipReason), never refused.
	MaxDeadLetterReasonBytes = 1024
)

// ReasonMaxDeliveryCount is the dead-letter reason of a message that was
// delivered MaxDeliveryCount times without being completed.
const ReasonMaxDeliveryCount = "max delivery count exceeded"

// LockLostMessage is the message of the CodeConflict error that Complete,
// Abandon, Renew and DeadLetter return when the delivery's lock no longer
// holds: it expired (even if nobody received the message since), or the
// message was settled already.
const LockLostMessage = "lock lost"

// Message is a unit of work on a named queue.
type Message struct {
	ID        string    // the idempotency key: a run id or a delivery id
	Queue     string    // "generate" or "deliver" (any [a-z][a-z0-9-]{0,62})
	Body      []byte    // JSON
	NotBefore time.Time // scheduled delivery: not visible before (zero = now)
}

// QueueDelivery is a received, locked message. (The contract calls it a
// delivery; the name Delivery belongs to the delivery ledger record.)
type QueueDelivery struct {
	Message
	LockToken     string    // proves the lock; needed to complete/abandon/renew/dead-letter
	LockedUntil   time.Time // the lock holds while now is before LockedUntil
	DeliveryCount int       // 1 on first delivery
	EnqueuedAt    time.Time
}

// DeadLetter is a message set aside: delivered too often, or dead-lettered
// explicitly by its receiver. Operators list and requeue them.
type DeadLetter struct {
	Message
	DeliveryCount  int
	Reason         string
	DeadLetteredAt time.Time
	EnqueuedAt     time.Time
}

// QueueStats counts the messages of one queue, for monitoring. A message
// whose lock expired counts as Visible.
type QueueStats struct {
	Visible      int // receivable now
	Scheduled    int // not before a future time (NotBefore, or Abandon's retryAfter)
	Locked       int // received, lock still held
	DeadLettered int
}

// ValidQueueName reports whether name is a queue name: [a-z][a-z0-9-]{0,62}.
func ValidQueueName(name string) bool {
	if name == "" || len(name) > 63 || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for _, c := range []byte(name) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// Validate checks a message before it is published: CodeTooLarge when the
// body is over MaxMessageBytes, CodeInvalid for a malformed id, queue name
// or body (which must be JSON).
func (m Message) Validate() error {
	if len(m.Body) > MaxMessageBytes {
		return Errorf(CodeTooLarge, "message %q is larger than %d bytes", clipID(m.ID), MaxMessageBytes)
	}
	var p Problems
	checkQueueName(&p, "queue", m.Queue)
	switch {
	case m.ID == "":
		p.Add("id", "is required")
	case len(m.ID) > MaxMessageIDLen:
		p.Add("id", "must be at most %d bytes", MaxMessageIDLen)
	case !utf8.ValidString(m.ID) || hasControl(m.ID):
		p.Add("id", "must be UTF-8 without control characters")
	}
	if !json.Valid(m.Body) {
		p.Add("body", "must be JSON")
	}
	return p.Err("message")
}

// CheckReceive validates the arguments of a Receive.
func CheckReceive(queue string, maxMessages int, lockFor time.Duration) error {
	var p Problems
	checkQueueName(&p, "queue", queue)
	if maxMessages < 1 || maxMessages > MaxReceive {
		p.Add("max", "must be between 1 and %d", MaxReceive)
	}
	checkLock(&p, lockFor)
	return p.Err("receive")
}

// CheckSettle validates a delivery handed back to Complete, Abandon, Renew
// or DeadLetter: it must name a queue and carry a lock token. Whether the
// lock still holds is the queue's business (CodeConflict).
func CheckSettle(d *QueueDelivery) error {
	var p Problems
	checkQueueName(&p, "queue", d.Queue)
	if d.ID == "" {
		p.Add("id", "is required")
	}
	if d.LockToken == "" {
		p.Add("lockToken", "is required")
	}
	return p.Err("delivery")
}

// CheckLock validates a lock duration (Renew).
func CheckLock(lockFor time.Duration) error {
	var p Problems
	checkLock(&p, lockFor)
	return p.Err("lock")
}

// CheckRetryAfter validates Abandon's delay: 0 (visible again at once) up
// to MaxRetryAfter.
func CheckRetryAfter(retryAfter time.Duration) error {
	var p Problems
	if retryAfter < 0 || retryAfter > MaxRetryAfter {
		p.Add("retryAfter", "must be between 0 and %s", MaxRetryAfter)
	}
	return p.Err("abandon")
}

// CheckQueueName validates a queue name argument.
func CheckQueueName(queue string) error {
	var p Problems
	checkQueueName(&p, "queue", queue)
	return p.Err("queue")
}

// ClipReason cuts a dead-letter reason to MaxDeadLetterReasonBytes at a
// character boundary, so that a long error text never stops a message from
// being dead-lettered.
func ClipReason(reason string) string { return clipBytes(reason, MaxDeadLetterReasonBytes) }

// clipBytes cuts s to at most n bytes at a character boundary.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func checkQueueName(p *Problems, field, name string) {
	if !ValidQueueName(name) {
		p.Add(field, "must be 1-63 lowercase letters, digits or '-', starting with a letter")
	}
}

func checkLock(p *Problems, lockFor time.Duration) {
	if lockFor <= 0 || lockFor > MaxLockDuration {
		p.Add("lockFor", "must be positive and at most %s", MaxLockDuration)
	}
}

// clipID keeps error messages short when an id is absurdly long.
func clipID(id string) string {
	if len(id) > MaxMessageIDLen {
		return clipBytes(id, MaxMessageIDLen) + "..."
	}
	return id
}
