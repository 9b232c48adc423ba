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
