// Package storetest is the conformance suite of the herald store contract.
// Every Store adapter calls Run from its own tests with a constructor of
// fresh, empty stores; a behaviour that differs between adapters fails here.
//
// Besides what internal/herald/store.go states, the suite pins down:
//   - Create and Replace refuse a malformed key (empty id or kind, invalid
//     tenant id) or a body that is not a JSON object with CodeInvalid.
//   - Every write returns a new ETag, and an ETag read before a Delete never
//     matches the record created again under the same id.
//   - A malformed ETag on Replace or Delete is stale (CodePreconditionFailed)
//     when the item exists, and CodeNotFound when it does not.
//   - A condition matches only a field of the value's JSON type: a string
//     never equals or orders against a number, a bool never against a number.
//   - Pages are full: every page but the last holds Limit items, and a page
//     that ends exactly at the last item has NextCursor "".
//   - A cursor is bound to the order (field and direction) it was made for;
//     using it with another order is CodeInvalid. Any malformed cursor is
//     CodeInvalid. Another tenant's cursor never shows that tenant's items.
//   - A canceled context fails every call with ctx.Err() in the error chain.
//
// The package imports testing and testify: only tests may import it.
package storetest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// Store is the full store contract: the documents of herald.Documents plus
// the scanner's cross-tenant lookup and a health check.
type Store interface {
	herald.Documents
	// Due returns, across all tenants, the keys of the records of kind (one
	// of herald.DueKinds, else CodeInvalid) whose body has a "dueAt" at or
	// before before (compared as InstantLayout text), ordered by dueAt, then
	// tenant, then id; at most limit, which must be 1..herald.MaxListLimit
	// (else CodeInvalid).
	Due(ctx context.Context, kind herald.Kind, before herald.Instant, limit int) ([]herald.DueKey, error)
	// WriteBatch applies independent creates and conditional replaces;
	// each has its single call's semantics and result (herald.Batcher).
	WriteBatch(ctx context.Context, writes []herald.Write) ([]herald.WriteResult, error)
	// Ping returns nil when the store can serve requests.
	Ping(ctx context.Context) error
}

// Run runs the conformance suite. newStore must return a new, empty store
// on each call and register its cleanup with t. Top-level groups run in
// parallel, each on stores of its own.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	t.Helper()
	groups := []struct {
		name string
		run  func(t *testing.T, newStore func(t *testing.T) Store)
	}{
		{"CreateGet", testCreateGet},
		{"Replace", testReplace},
		{"Delete", testDelete},
		{"Concurrency", testConcurrency},
		{"List", testList},
		{"ListPagination", testListPagination},
		{"Isolation", testIsolation},
		{"Due", testDue},
		{"Batch", testBatch},
		{"Health", testHealth},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, newStore)
		})
	}
}

// requireCode fails unless err carries code.
func requireCode(t *testing.T, err error, code herald.Code, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.Equalf(t, code, herald.CodeOf(err), "want %s, got error %q", code, err)
}

// create stores it and returns its ETag.
func create(t *testing.T, s Store, it herald.Item) string {
	t.Helper()
	etag, err := s.Create(t.Context(), it)
	require.NoErrorf(t, err, "creating %s %s/%s", it.Kind, it.TenantID, it.ID)
	require.NotEmpty(t, etag, "Create returns the new ETag")
	return etag
}

// get reads an item that must exist.
func get(t *testing.T, s Store, kind herald.Kind, tenantID, id string) herald.Item {
	t.Helper()
	it, err := s.Get(t.Context(), kind, tenantID, id)
	require.NoErrorf(t, err, "reading %s %s/%s", kind, tenantID, id)
	return it
}

// requireStored fails unless the stored item has want's key, body and ETag
// (want.ETag "" skips the ETag check).
func requireStored(t *testing.T, s Store, want herald.Item) {
	t.Helper()
	got := get(t, s, want.Kind, want.TenantID, want.ID)
	assert.Equal(t, want.Kind, got.Kind)
	assert.Equal(t, want.TenantID, got.TenantID)
	assert.Equal(t, want.ID, got.ID)
	assert.JSONEq(t, string(want.Body), string(got.Body), "stored body of %s %s/%s", want.Kind, want.TenantID, want.ID)
	if want.ETag != "" {
		assert.Equal(t, want.ETag, got.ETag, "ETag of %s %s/%s", want.Kind, want.TenantID, want.ID)
	}
}

// requireAbsent fails unless Get answers CodeNotFound.
func requireAbsent(t *testing.T, s Store, kind herald.Kind, tenantID, id string) {
	t.Helper()
	_, err := s.Get(t.Context(), kind, tenantID, id)
	requireCode(t, err, herald.CodeNotFound, "%s %s/%s must be absent", kind, tenantID, id)
}

// withField returns body with one top-level field set (value nil deletes it).
func withField(t *testing.T, body json.RawMessage, field string, value any) json.RawMessage {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m))
	if value == nil {
		delete(m, field)
	} else {
		m[field] = value
	}
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return out
}

// ids returns the ids of items, in order.
func ids(items []herald.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}
