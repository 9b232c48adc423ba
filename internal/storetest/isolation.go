package storetest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

type itemKey struct {
	kind herald.Kind
	id   string
}

// isolationIDs are the ids seeded for one kind: shared exists in both
// tenants, aOnly in tenant A and bOnly in tenant B.
type isolationIDs struct{ shared, aOnly, bOnly string }

// testIsolation seeds two tenants with records of every kind, then makes
// every kind of call for tenant A and checks after each that tenant B's
// records are exactly as they were.
func testIsolation(t *testing.T, newStore func(t *testing.T) Store) {
	const a, b = "tenant-a", "tenant-b"
	s := newStore(t)
	ctx := t.Context()
	stored := map[string]map[itemKey]herald.Item{a: {}, b: {}}
	keys := map[herald.Kind]isolationIDs{}
	seed := func(tenantID string, kind herald.Kind, id string, n int) {
		it := itemOf(t, sampleRecord(t, kind, tenantID, id, n))
		it.ETag = create(t, s, it)
		stored[tenantID][itemKey{kind, id}] = it
	}
	for n, kind := range herald.Kinds() {
		k := isolationIDs{shared: newID("iso", n, "shared"), aOnly: newID("iso", n, "a"), bOnly: newID("iso", n, "b")}
		keys[kind] = k
		seed(a, kind, k.shared, n)
		seed(a, kind, k.aOnly, n)
		seed(b, kind, k.shared, n)
		seed(b, kind, k.bOnly, n)
	}

	// snapshot lists everything tenant B holds.
	snapshot := func(t *testing.T, tenantID string) map[itemKey]herald.Item {
		t.Helper()
		out := map[itemKey]herald.Item{}
		for _, kind := range herald.Kinds() {
			for _, it := range listAll(t, s, herald.ListQuery{Kind: kind, TenantID: tenantID, Limit: 1}) {
				out[itemKey{kind, it.ID}] = it
			}
		}
		return out
	}
	wantB := stored[b]

	ops := []struct {
		name string
		do   func(t *testing.T, kind herald.Kind, k isolationIDs)
	}{
		{"Get of an id both tenants use returns A's record", func(t *testing.T, kind herald.Kind, k isolationIDs) {
			requireStored(t, s, stored[a][itemKey{kind, k.shared}])
		}},
		{"Get of B's id is not found", func(t *testing.T, kind herald.Kind, k isolationIDs) {
			requireAbsent(t, s, kind, a, k.bOnly)
		}},
		{"List returns A's records only", func(t *testing.T, kind herald.Kind, k isolationIDs) {
			for _, q := range []herald.ListQuery{
				{Kind: kind, TenantID: a, Limit: 1},
				{Kind: kind, TenantID: a, OrderBy: "createdAt", Desc: true},
				{Kind: kind, TenantID: a, Where: []herald.Cond{{Field: "tenantId", Op: herald.OpEq, Value: b}}},
			} {
				for _, it := range listAll(t, s, q) {
					assert.Equal(t, a, it.TenantID)
					assert.Contains(t, []string{k.shared, k.aOnly}, it.ID)
					var m herald.Meta
					require.NoError(t, json.Unmarshal(it.Body, &m))
					assert.Equal(t, a, m.TenantID, "body of %s %s", kind, it.ID)
				}
			}
		}},
		{"Replace of B's id is not found", func(t *testing.T, kind herald.Kind, k isolationIDs) {
			theirs := stored[b][itemKey{kind, k.bOnly}]
			for _, etag := range []string{"", theirs.ETag} {
				it := theirs
				it.TenantID, it.ETag = a, etag
				_, err := s.Replace(ctx, it)
				requireCode(t, err, herald.CodeNotFound)
			}
		}},
		{"Delete of B's id is not found", func(t *testing.T, kind herald.Kind, k isolationIDs) {
			theirs := stored[b][itemKey{kind, k.bOnly}]
			requireCode(t, s.Delete(ctx, kind, a, k.bOnly, ""), herald.CodeNotFound)
			requireCode(t, s.Delete(ctx, kind, a, k.bOnly, theirs.ETag), herald.CodeNotFound)
		}},
		{"Create of B's id in A makes A's own record", func(t *testing.T, kind herald.Kind, k isolationIDs) {
			it := itemOf(t, sampleRecord(t, kind, a, k.bOnly, 99))
			it.ETag = create(t, s, it)
			requireStored(t, s, it)
		}},
		{"Replace of the shared id changes A's record only", func(t *testing.T, kind herald.Kind, k isolationIDs) {
			mine := stored[a][itemKey{kind, k.shared}]
			mine.Body = withField(t, mine.Body, "updatedBy", "bob@example.com")
			var err error
			mine.ETag, err = s.Replace(ctx, mine)
			require.NoError(t, err)
			requireStored(t, s, mine)
		}},
		{"Delete of the shared id removes A's record only", func(t *testing.T, kind herald.Kind, k isolationIDs) {
			require.NoError(t, s.Delete(ctx, kind, a, k.shared, ""))
			requireAbsent(t, s, kind, a, k.shared)
		}},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			for _, kind := range herald.Kinds() {
				op.do(t, kind, keys[kind])
			}
			gotB := snapshot(t, b)
			require.Len(t, gotB, len(wantB), "tenant B's records")
			for key, want := range wantB {
				got, ok := gotB[key]
				if assert.True(t, ok, "tenant B lost %s %s", key.kind, key.id) {
					assert.Equal(t, want.ETag, got.ETag, "ETag of B's %s %s", key.kind, key.id)
					assert.JSONEq(t, string(want.Body), string(got.Body), "body of B's %s %s", key.kind, key.id)
				}
			}
		})
	}
}
