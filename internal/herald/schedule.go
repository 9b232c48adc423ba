package herald

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// MisfirePolicy says what happens to fire times missed while Herald was down or behind.
type MisfirePolicy string

// Misfire policies.
const (
	MisfireSkip   MisfirePolicy = "skip"   // run none of the missed times
	MisfireLatest MisfirePolicy = "latest" // run once, for the most recent missed time (default)
	MisfireAll    MisfirePolicy = "all"    // run every missed time within the catch-up window
)

// OverlapPolicy says what happens when a fire time comes while the previous run still goes.
type OverlapPolicy string

// Overlap policies.
const (
	OverlapSkip      OverlapPolicy = "skip"      // record the new run as skipped
	OverlapBufferOne OverlapPolicy = "bufferOne" // keep one waiting run; start it when the previous ends (default)
	OverlapAllow     OverlapPolicy = "allow"     // run concurrently
)

// SendCondition says when deliveries are sent.
type SendCondition string

// Send conditions.
const (
	SendAlways   SendCondition = "always"   // every successful run (default)
	SendNonEmpty SendCondition = "nonEmpty" // only when the query returned rows
)

// Channel is a delivery channel.
type Channel string

// Delivery channels.
const (
	ChannelEmail Channel = "email"
)

// Schedule limits and defaults.
const (
	DefaultCatchUpWindow = 24 * time.Hour
	MaxCatchUpWindow     = 31 * 24 * time.Hour
	MaxSpread            = time.Hour
	MaxDeliveries        = 20
	MaxRecipients        = 100
	MaxCronLen           = 256
)

// DeliveryTarget is where a schedule's artifacts go.
type DeliveryTarget struct {
	Channel Channel  `json:"channel"`
	To      []string `json:"to"`
	Subject string   `json:"subject,omitempty"`
	Formats []Format `json:"formats,omitempty"`
}

// Schedule fires a report by cron in an IANA time zone.
type Schedule struct {
	Meta
	ReportID      string                     `json:"reportId"`
	Name          string                     `json:"name"`
	Description   string                     `json:"description,omitempty"`
	Cron          string                     `json:"cron"`
	Timezone      string                     `json:"timezone"`
	Enabled       bool                       `json:"enabled"`
	MisfirePolicy MisfirePolicy              `json:"misfirePolicy"`
	OverlapPolicy OverlapPolicy              `json:"overlapPolicy"`
	CatchUpWindow Duration                   `json:"catchUpWindow"`
	Spread        Duration                   `json:"spread"`
	Parameters    map[string]json.RawMessage `json:"parameters"`
	Deliveries    []DeliveryTarget           `json:"deliveries"`
	SendCondition SendCondition              `json:"sendCondition"`
	NextRunAt     Instant                    `json:"nextRunAt,omitzero"`
	DueAt         Instant                    `json:"dueAt,omitzero"`      // NextRunAt plus the spread offset while enabled: the scanner's index
	LastRunAt     Instant                    `json:"lastRunAt,omitzero"`  // fire time of LastRunID
	LastRunID     string                     `json:"lastRunId,omitempty"` // the newest run the scanner queued (skipped runs excluded)
}

// Kind implements Record.
func (*Schedule) Kind() Kind { return KindSchedule }

// Normalize fills defaults.
func (s *Schedule) Normalize() {
	if s.MisfirePolicy == "" {
		s.MisfirePolicy = MisfireLatest
	}
	if s.OverlapPolicy == "" {
		s.OverlapPolicy = OverlapBufferOne
	}
	if s.CatchUpWindow == 0 {
		s.CatchUpWindow = Duration(DefaultCatchUpWindow)
	}
	if s.SendCondition == "" {
		s.SendCondition = SendAlways
	}
	if s.Parameters == nil {
		s.Parameters = map[string]json.RawMessage{}
	}
	if s.Deliveries == nil {
		s.Deliveries = []DeliveryTarget{}
	}
	s.Cron = strings.TrimSpace(s.Cron)
}

// SpreadOffset is the schedule's fixed delay after each fire time, in
// [0, Spread): derived from its key, so it is the same on every scan and
// different schedules of the same minute start at different moments.
func (s *Schedule) SpreadOffset() time.Duration {
	ms := s.Spread.Std().Milliseconds()
	if ms <= 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(s.TenantID + "/" + s.ID))
	return time.Duration(h.Sum64()%uint64(ms)) * time.Millisecond //nolint:gosec // below an hour of milliseconds
}

// Location returns the schedule's time zone.
func (s *Schedule) Location() (*time.Location, error) { return LoadZone(s.Timezone) }

// LoadZone loads an IANA time zone by name. "Local" (the server's zone,
// which differs between machines) and "" are refused.
func LoadZone(name string) (*time.Location, error) {
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" || strings.EqualFold(name, "local") {
		return nil, Errorf(CodeInvalid, "unknown time zone %q: use an IANA name such as Europe/Berlin", name)
	}
	return loc, nil
}

// Validate checks the schedule. checkCron validates the cron expression;
// report, when known, is used to check parameter values.
func (s *Schedule) Validate(checkCron func(string) error, report *Report) error {
	var p Problems
	checkName(&p, "name", s.Name)
	checkText(&p, "description", s.Description, MaxDescriptionLen)
	if !ValidID(s.ReportID) {
		p.Add("reportId", "must be the id of a report of this tenant")
	}
	switch {
	case s.Cron == "":
		p.Add("cron", "is required")
	case len(s.Cron) > MaxCronLen:
		p.Add("cron", "must be at most %d characters", MaxCronLen)
	default:
		if err := checkCron(s.Cron); err != nil {
			p.Add("cron", "%s", err.Error())
		}
	}
	if s.Timezone == "" {
		p.Add("timezone", "is required (an IANA name such as Europe/Berlin)")
	} else if _, err := s.Location(); err != nil {
		p.Add("timezone", "unknown time zone %q: use an IANA name such as Europe/Berlin", s.Timezone)
	}
	s.validatePolicies(&p)
	if report != nil {
		CheckParameterValues(&p, "parameters", report.Parameters, s.Parameters)
	}
	validateDeliveries(&p, s.Deliveries)
	return p.Err("schedule")
}

func (s *Schedule) validatePolicies(p *Problems) {
	if !slices.Contains([]MisfirePolicy{MisfireSkip, MisfireLatest, MisfireAll}, s.MisfirePolicy) {
		p.Add("misfirePolicy", "must be skip, latest or all")
	}
	if !slices.Contains([]OverlapPolicy{OverlapSkip, OverlapBufferOne, OverlapAllow}, s.OverlapPolicy) {
		p.Add("overlapPolicy", "must be skip, bufferOne or allow")
	}
	if w := s.CatchUpWindow.Std(); w < time.Minute || w > MaxCatchUpWindow {
		p.Add("catchUpWindow", "must be between 1m and %s", MaxCatchUpWindow)
	}
	if sp := s.Spread.Std(); sp < 0 || sp > MaxSpread {
		p.Add("spread", "must be between 0s and %s", MaxSpread)
	}
	if !slices.Contains([]SendCondition{SendAlways, SendNonEmpty}, s.SendCondition) {
		p.Add("sendCondition", "must be always or nonEmpty")
	}
}

func validateDeliveries(p *Problems, targets []DeliveryTarget) {
	if len(targets) > MaxDeliveries {
		p.Add("deliveries", "must have at most %d entries", MaxDeliveries)
	}
	for i, d := range targets {
		field := fmt.Sprintf("deliveries[%d]", i)
		if d.Channel != ChannelEmail {
			p.Add(field+".channel", "must be email")
			continue
		}
		if len(d.To) == 0 {
			p.Add(field+".to", "must list at least one recipient")
		}
		if len(d.To) > MaxRecipients {
			p.Add(field+".to", "must list at most %d recipients", MaxRecipients)
		}
		for j, addr := range d.To {
			a, err := mail.ParseAddress(addr)
			if err != nil || a.Name != "" || a.Address != addr {
				p.Add(fmt.Sprintf("%s.to[%d]", field, j), "must be a plain email address such as ana@example.com")
			}
		}
		checkText(p, field+".subject", d.Subject, MaxNameLen)
		if hasControl(d.Subject) {
			p.Add(field+".subject", "must not contain control characters")
		}
		if len(d.Formats) > 0 {
			validateFormats(p, d.Formats)
		}
	}
}
