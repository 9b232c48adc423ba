package herald

// Tenant defaults.
const (
	DefaultRetentionDays = 90
	MaxRetentionDays     = 3650
	DemoTenantID         = "demo"
)

// Tenant is an isolated customer of Herald. Its id is also its partition key.
type Tenant struct {
	Meta
	Name            string `json:"name"`
	DefaultTimezone string `json:"defaultTimezone,omitempty"`
	RetentionDays   int    `json:"retentionDays"`
}

// Kind implements Record.
func (*Tenant) Kind() Kind { return KindTenant }

// Normalize fills defaults.
func (t *Tenant) Normalize() {
	if t.RetentionDays == 0 {
		t.RetentionDays = DefaultRetentionDays
	}
}

// Validate checks the tenant's fields.
func (t *Tenant) Validate() error {
	var p Problems
	if !ValidTenantID(t.ID) {
		p.Add("id", "must be 1-64 letters, digits, '.', '_' or '-'")
	}
	checkName(&p, "name", t.Name)
	if t.DefaultTimezone != "" {
		if _, err := LoadZone(t.DefaultTimezone); err != nil {
			p.Add("defaultTimezone", "unknown time zone %q: use an IANA name such as Europe/Berlin", t.DefaultTimezone)
		}
	}
	if t.RetentionDays < 1 || t.RetentionDays > MaxRetentionDays {
		p.Add("retentionDays", "must be between 1 and %d", MaxRetentionDays)
	}
	return p.Err("tenant")
}
