package herald

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind names a kind of stored record.
type Kind string

// The kinds of records.
const (
	KindTenant     Kind = "tenant"
	KindDataSource Kind = "datasource"
	KindReport     Kind = "report"
	KindSchedule   Kind = "schedule"
	KindRun        Kind = "run"
	KindDelivery   Kind = "delivery"
	KindAudit      Kind = "audit"
)

// Kinds lists every kind of record.
func Kinds() []Kind {
	return []Kind{KindTenant, KindDataSource, KindReport, KindSchedule, KindRun, KindDelivery, KindAudit}
}

// Meta is carried by every record. ETag is the store's opaque version; it is
// not part of the stored body.
type Meta struct {
	ID        string  `json:"id"`
	TenantID  string  `json:"tenantId"`
	CreatedAt Instant `json:"createdAt"`
	CreatedBy string  `json:"createdBy,omitempty"`
	UpdatedAt Instant `json:"updatedAt"`
	UpdatedBy string  `json:"updatedBy,omitempty"`
	ETag      string  `json:"-"`
}

// Base returns the metadata itself, for code generic over record types.
func (m *Meta) Base() *Meta { return m }

// Key returns the record's tenant and id.
func (m *Meta) Key() (tenantID, id string) { return m.TenantID, m.ID }

// SetETag records the store version read or written.
func (m *Meta) SetETag(etag string) { m.ETag = etag }

// Touch stamps creation (when unset) and update by actor at now.
func (m *Meta) Touch(actor string, now Instant) {
	if m.CreatedAt.IsZero() {
		m.CreatedAt, m.CreatedBy = now, actor
	}
	m.UpdatedAt, m.UpdatedBy = now, actor
}

// Record is any stored entity.
type Record interface {
	Kind() Kind
	Key() (tenantID, id string)
	SetETag(etag string)
}

// Limits on free text.
const (
	MaxNameLen        = 200
	MaxDescriptionLen = 4000
	MaxQueryLen       = 200_000
)

func checkName(p *Problems, field, v string) {
	switch {
	case strings.TrimSpace(v) == "":
		p.Add(field, "is required")
	case utf8.RuneCountInString(v) > MaxNameLen:
		p.Add(field, "must be at most %d characters", MaxNameLen)
	case hasControl(v):
		p.Add(field, "must not contain control characters")
	case v != strings.TrimSpace(v):
		p.Add(field, "must not start or end with spaces")
	}
}

func checkText(p *Problems, field, v string, maxLen int) {
	if utf8.RuneCountInString(v) > maxLen {
		p.Add(field, "must be at most %d characters", maxLen)
	}
	if !utf8.ValidString(v) {
		p.Add(field, "must be valid UTF-8")
	}
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}
