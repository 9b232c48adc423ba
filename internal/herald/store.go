package herald

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
)

// This file is the store contract. Stores hold JSON documents keyed by
// (kind, tenant, id) and offer only what Cosmos DB offers within one
// partition: create-if-absent, point read, conditional replace, delete and
// ordered queries. There are no multi-record transactions. The conformance
// suite in internal/storetest pins the behaviour down; every adapter passes it.

// Item is a record as a store sees it: its key, its version and its JSON body.
type Item struct {
	Kind     Kind
	TenantID string
	ID       string
	ETag     string          // opaque version set by the store; on Replace and Delete, the version expected
	Body     json.RawMessage // a JSON object
}

// Op is a comparison in a list condition.
type Op string

// Comparisons. Times compare correctly as text because instants are stored
// in the fixed-width InstantLayout.
const (
	OpEq  Op = "eq"
	OpGte Op = "gte"
	OpLt  Op = "lt"
)

// Cond restricts a list to items whose top-level body field compares with
// Value. Value is a string, a bool or an int64. An item without the field
// never matches.
type Cond struct {
	Field string
	Op    Op
	Value any
}

// List limits.
const (
	DefaultListLimit = 50
	MaxListLimit     = 1000
)

// MaxItemBytes is the largest body a store accepts, Cosmos DB's item size
// limit; every store answers CodeTooLarge beyond it.
const MaxItemBytes = 2 << 20

// ListQuery selects items of one kind in one tenant.
type ListQuery struct {
	Kind     Kind
	TenantID string
	Where    []Cond
	OrderBy  string // a top-level string field present on every item; "" orders by id
	Desc     bool
	Limit    int    // 1..MaxListLimit; 0 means DefaultListLimit
	Cursor   string // from a previous Page; "" starts at the beginning
}

// Page is one page of a list. NextCursor is "" on the last page.
type Page struct {
	Items      []Item
	NextCursor string
}

// DueKey names a record whose time to be looked at has come. Records of
// the kinds in DueKinds carry a "dueAt" instant while something must happen
// to them: a schedule while it is enabled (its next fire time plus its
// spread offset), a run while it is queued or running (when recovery must
// look at it if nothing else has). A store finds them with
// Due(ctx, kind, before, limit), the one cross-tenant read of the contract:
// the records of kind whose "dueAt" is at or before before, earliest first
// (ties by tenant, then id), at most limit (1..MaxListLimit). A record
// whose dueAt is absent, null or not a timestamp is never due. The keys may
// be stale by the time they are used: the caller reads each record and
// writes it conditionally.
type DueKey struct {
	TenantID string
	ID       string
	DueAt    Instant
}

// DueKinds lists the kinds of record that have a due index.
func DueKinds() []Kind { return []Kind{KindSchedule, KindRun} }

var fieldPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,63}$`)

// ValidField reports whether name may be used as a condition or order field.
// Stores rely on it to keep field names out of query injection.
func ValidField(name string) bool { return fieldPattern.MatchString(name) }

// Validate checks a query before a store runs it.
func (q ListQuery) Validate() error {
	var p Problems
	if !slices.Contains(Kinds(), q.Kind) {
		p.Add("kind", "is not a kind of record")
	}
	if !ValidTenantID(q.TenantID) {
		p.Add("tenantId", "is not a valid tenant id")
	}
	if q.OrderBy != "" && !ValidField(q.OrderBy) {
		p.Add("orderBy", "is not a valid field name")
	}
	if q.Limit < 0 || q.Limit > MaxListLimit {
		p.Add("limit", "must be between 1 and %d (0 for the default, %d)", MaxListLimit, DefaultListLimit)
	}
	for i, c := range q.Where {
		f := fmt.Sprintf("where[%d]", i)
		if !ValidField(c.Field) {
			p.Add(f+".field", "is not a valid field name")
		}
		if c.Op != OpEq && c.Op != OpGte && c.Op != OpLt {
			p.Add(f+".op", "must be eq, gte or lt")
		}
		switch c.Value.(type) {
		case string, bool, int64:
		default:
			p.Add(f+".value", "must be a string, bool or int64")
		}
	}
	return p.Err("query")
}

// EffectiveLimit returns the limit with the default applied.
func (q ListQuery) EffectiveLimit() int {
	if q.Limit == 0 {
		return DefaultListLimit
	}
	return q.Limit
}

// Documents is the store contract as the typed helpers below consume it.
type Documents interface {
	// Create stores a new item; CodeConflict when (kind, tenant, id) exists.
	Create(ctx context.Context, it Item) (etag string, err error)
	// Get reads an item; CodeNotFound when absent (in this tenant).
	Get(ctx context.Context, kind Kind, tenantID, id string) (Item, error)
	// Replace overwrites an existing item if its version is it.ETag ("" for
	// any version); CodeNotFound when absent, CodePreconditionFailed when stale.
	Replace(ctx context.Context, it Item) (etag string, err error)
	// Delete removes an item if its version is ifETag ("" for any version).
	Delete(ctx context.Context, kind Kind, tenantID, id, ifETag string) error
	// List returns one page of a tenant's items of a kind.
	List(ctx context.Context, q ListQuery) (Page, error)
}

// Write is one write of a batch: a create-if-absent, or (Replace) a
// replace conditional on Item.ETag exactly as Documents.Replace.
type Write struct {
	Item    Item
	Replace bool
}

// WriteResult is the outcome of one write of a batch: the new ETag, or the
// error the single call would have returned.
type WriteResult struct {
	ETag string
	Err  error
}

// MaxBatch bounds the writes of one batch.
const MaxBatch = 1000

// Batcher applies many independent writes at once, for throughput. Each
// write has exactly the semantics of its single call and succeeds or fails
// alone: a batch is not a transaction, and a store may apply it as
// concurrent single writes. The error is for the batch as a whole (invalid
// size, store unreachable), in which case no result is meaningful.
type Batcher interface {
	WriteBatch(ctx context.Context, writes []Write) ([]WriteResult, error)
}

// WriteRecords creates (replace false) or conditionally replaces records in
// one batch, setting each one's new ETag; errs[i] is record i's outcome.
func WriteRecords(ctx context.Context, b Batcher, replace bool, records []Record) (errs []error, err error) {
	writes := make([]Write, len(records))
	for i, r := range records {
		etag := ""
		if v, ok := r.(versioned); ok && replace {
			etag = v.Version()
		}
		if writes[i].Item, err = toItem(r, etag); err != nil {
			return nil, err
		}
		writes[i].Replace = replace
	}
	results, err := b.WriteBatch(ctx, writes)
	if err != nil {
		return nil, err
	}
	errs = make([]error, len(records))
	for i, res := range results {
		if errs[i] = res.Err; res.Err == nil {
			records[i].SetETag(res.ETag)
		}
	}
	return errs, nil
}

// versioned is implemented by every record through Meta.
type versioned interface {
	Record
	Version() string
}

// Version returns the store version last read or written.
func (m *Meta) Version() string { return m.ETag }

// CreateRecord stores a new record and sets its ETag.
func CreateRecord(ctx context.Context, s Documents, r Record) error {
	it, err := toItem(r, "")
	if err != nil {
		return err
	}
	etag, err := s.Create(ctx, it)
	if err != nil {
		return err
	}
	r.SetETag(etag)
	return nil
}

// ReplaceRecord overwrites a record if it is still at the version it carries
// (its ETag; "" replaces any version) and sets the new ETag.
func ReplaceRecord(ctx context.Context, s Documents, r versioned) error {
	it, err := toItem(r, r.Version())
	if err != nil {
		return err
	}
	etag, err := s.Replace(ctx, it)
	if err != nil {
		return err
	}
	r.SetETag(etag)
	return nil
}

// GetRecord reads one record into a new value of type T.
func GetRecord[T any, P interface {
	*T
	Record
}](ctx context.Context, s Documents, tenantID, id string) (*T, error) {
	var zero P = new(T)
	it, err := s.Get(ctx, zero.Kind(), tenantID, id)
	if err != nil {
		return nil, err
	}
	return fromItem[T, P](it)
}

// ListRecords reads one page of records of type T. q.Kind is set from T.
func ListRecords[T any, P interface {
	*T
	Record
}](ctx context.Context, s Documents, q ListQuery) ([]*T, string, error) {
	var zero P = new(T)
	q.Kind = zero.Kind()
	page, err := s.List(ctx, q)
	if err != nil {
		return nil, "", err
	}
	out := make([]*T, 0, len(page.Items))
	for _, it := range page.Items {
		v, err := fromItem[T, P](it)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	return out, page.NextCursor, nil
}

func toItem(r Record, etag string) (Item, error) {
	tenantID, id := r.Key()
	body, err := json.Marshal(r)
	if err != nil {
		return Item{}, Wrap(err, CodeInternal, "encoding %s %s", r.Kind(), id)
	}
	return Item{Kind: r.Kind(), TenantID: tenantID, ID: id, ETag: etag, Body: body}, nil
}

func fromItem[T any, P interface {
	*T
	Record
}](it Item) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(it.Body, v); err != nil {
		return nil, Wrap(err, CodeInternal, "decoding %s %s", it.Kind, it.ID)
	}
	P(v).SetETag(it.ETag)
	return v, nil
}
