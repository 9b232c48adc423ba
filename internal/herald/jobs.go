package herald

import (
	"encoding/json"
	"strconv"
	"time"
)

// Queue names.
const (
	QueueGenerate = "generate"
	QueueDeliver  = "deliver"
)

// GenerateJob asks for one attempt of a run to be generated.
type GenerateJob struct {
	TenantID string `json:"tenantId"`
	RunID    string `json:"runId"`
	Attempt  int    `json:"attempt"`
}

// GenerateMessage is the queue message that starts the run's current
// attempt. Its id is the run id and the attempt, so publishing it twice is
// a no-op (duplicate detection) while a later attempt is a new message.
func GenerateMessage(r *Run, notBefore time.Time) Message {
	body, _ := json.Marshal(GenerateJob{TenantID: r.TenantID, RunID: r.ID, Attempt: r.Attempt}) //nolint:errchkjson // plain strings and an int
	return Message{ID: r.ID + "." + strconv.Itoa(r.Attempt), Queue: QueueGenerate, Body: body, NotBefore: notBefore}
}

// DeliverJob asks for a finished run's deliveries to be made (the schedule's
// channels and recipients, under its send condition).
type DeliverJob struct {
	TenantID string `json:"tenantId"`
	RunID    string `json:"runId"`
}

// DeliverMessage is the queue message that starts a finished run's
// deliveries. There is one per run: publishing it again is a no-op.
func DeliverMessage(r *Run) Message {
	body, _ := json.Marshal(DeliverJob{TenantID: r.TenantID, RunID: r.ID}) //nolint:errchkjson // plain strings
	return Message{ID: r.ID + ".deliver", Queue: QueueDeliver, Body: body}
}
