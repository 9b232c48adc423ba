package storetest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

const (
	acme   = "acme"
	globex = "globex-eu.1"
)

func testCreateGet(t *testing.T, newStore func(t *testing.T) Store) {
	s := newStore(t)
	ctx := t.Context()

	t.Run("round trip keeps the body and the ETag", func(t *testing.T) {
		it := itemOf(t, newReport(acme, newID(herald.PrefixReport, 1), "Weekly sales", at(0)))
		etag := create(t, s, it)
		got := get(t, s, it.Kind, it.TenantID, it.ID)
		assert.Equal(t, herald.KindReport, got.Kind)
		assert.Equal(t, acme, got.TenantID)
		assert.Equal(t, it.ID, got.ID)
		assert.Equal(t, etag, got.ETag, "Get returns the ETag Create returned")
		assert.JSONEq(t, string(it.Body), string(got.Body))

		var back herald.Report
		require.NoError(t, json.Unmarshal(got.Body, &back))
		assert.Equal(t, "Weekly sales", back.Name)
		assert.Equal(t, at(0), back.CreatedAt)
	})

	t.Run("round trip of a large body with unicode", func(t *testing.T) {
		r := newReport(acme, newID(herald.PrefixReport, 2), "Umsätze – Q1 ✓ 売上 \"quoted\" \\ <tag>", at(0))
		r.Query = "SELECT 1 -- " + strings.Repeat("é", 50_000)
		it := itemOf(t, r)
		create(t, s, it)
		requireStored(t, s, it)
	})

	t.Run("existing id conflicts and keeps the stored record", func(t *testing.T) {
		id := newID(herald.PrefixReport, 3)
		first := itemOf(t, newReport(acme, id, "First", at(0)))
		first.ETag = create(t, s, first)
		_, err := s.Create(ctx, itemOf(t, newReport(acme, id, "Second", at(time.Hour))))
		requireCode(t, err, herald.CodeConflict)
		requireStored(t, s, first)
	})

	t.Run("same id in another tenant or kind is an independent record", func(t *testing.T) {
		id := newID(herald.PrefixReport, 4)
		mine := itemOf(t, newReport(acme, id, "Mine", at(0)))
		theirs := itemOf(t, newReport(globex, id, "Theirs", at(0)))
		sched := itemOf(t, newSchedule(acme, id, true, at(time.Hour)))
		mine.ETag = create(t, s, mine)
		theirs.ETag = create(t, s, theirs)
		sched.ETag = create(t, s, sched)
		requireStored(t, s, mine)
		requireStored(t, s, theirs)
		requireStored(t, s, sched)
	})

	t.Run("missing id is not found", func(t *testing.T) {
		requireAbsent(t, s, herald.KindReport, acme, newID(herald.PrefixReport, 999))
	})

	t.Run("another tenant's id is not found", func(t *testing.T) {
		it := itemOf(t, newReport(globex, newID(herald.PrefixReport, 5), "Theirs", at(0)))
		create(t, s, it)
		requireAbsent(t, s, herald.KindReport, acme, it.ID)
		requireAbsent(t, s, herald.KindSchedule, globex, it.ID)
	})

	t.Run("invalid items are refused", func(t *testing.T) {
		valid := itemOf(t, newReport(acme, newID(herald.PrefixReport, 6), "Valid", at(0)))
		cases := []struct {
			name   string
			change func(*herald.Item)
		}{
			{"empty id", func(it *herald.Item) { it.ID = "" }},
			{"empty tenant", func(it *herald.Item) { it.TenantID = "" }},
			{"malformed tenant", func(it *herald.Item) { it.TenantID = "acme corp/../x" }},
			{"empty kind", func(it *herald.Item) { it.Kind = "" }},
			{"empty body", func(it *herald.Item) { it.Body = nil }},
			{"body not JSON", func(it *herald.Item) { it.Body = json.RawMessage(`{"name": `) }},
			{"body an array", func(it *herald.Item) { it.Body = json.RawMessage(`[{"name": "x"}]`) }},
			{"body a string", func(it *herald.Item) { it.Body = json.RawMessage(`"x"`) }},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				it := valid
				tc.change(&it)
				_, err := s.Create(ctx, it)
				requireCode(t, err, herald.CodeInvalid)
			})
		}
		requireAbsent(t, s, valid.Kind, valid.TenantID, valid.ID)
	})

	t.Run("an ETag from before a delete does not match the record created again", func(t *testing.T) {
		it := itemOf(t, newReport(acme, newID(herald.PrefixReport, 7), "Phoenix", at(0)))
		old := create(t, s, it)
		require.NoError(t, s.Delete(ctx, it.Kind, it.TenantID, it.ID, old))
		it.ETag = create(t, s, it)
		assert.NotEqual(t, old, it.ETag)

		stale := it
		stale.ETag, stale.Body = old, withField(t, it.Body, "name", "Overwritten")
		_, err := s.Replace(ctx, stale)
		requireCode(t, err, herald.CodePreconditionFailed)
		requireCode(t, s.Delete(ctx, it.Kind, it.TenantID, it.ID, old), herald.CodePreconditionFailed)
		requireStored(t, s, it)
	})
}

func testReplace(t *testing.T, newStore func(t *testing.T) Store) {
	s := newStore(t)
	ctx := t.Context()
	seed := func(t *testing.T, tenantID string, n int) herald.Item {
		t.Helper()
		it := itemOf(t, newReport(tenantID, newID(herald.PrefixReport, n), "Original", at(0)))
		it.ETag = create(t, s, it)
		return it
	}
	replace := func(t *testing.T, it herald.Item, etag, name string) (herald.Item, error) {
		t.Helper()
		next := it
		next.ETag, next.Body = etag, withField(t, it.Body, "name", name)
		var err error
		next.ETag, err = s.Replace(ctx, next)
		return next, err
	}

	t.Run("current ETag succeeds and returns a new ETag", func(t *testing.T) {
		it := seed(t, acme, 1)
		next, err := replace(t, it, it.ETag, "Renamed")
		require.NoError(t, err)
		require.NotEmpty(t, next.ETag)
		assert.NotEqual(t, it.ETag, next.ETag)
		requireStored(t, s, next)

		again, err := replace(t, next, next.ETag, "Renamed twice")
		require.NoError(t, err)
		assert.NotEqual(t, next.ETag, again.ETag)
		requireStored(t, s, again)
	})

	t.Run("stale ETag fails and keeps the body", func(t *testing.T) {
		it := seed(t, acme, 2)
		next, err := replace(t, it, it.ETag, "Renamed")
		require.NoError(t, err)
		_, err = replace(t, it, it.ETag, "Lost update")
		requireCode(t, err, herald.CodePreconditionFailed)
		requireStored(t, s, next)
	})

	t.Run("malformed ETag fails as stale", func(t *testing.T) {
		it := seed(t, acme, 3)
		_, err := replace(t, it, `W/"not-an-etag"`, "Lost update")
		requireCode(t, err, herald.CodePreconditionFailed)
		requireStored(t, s, it)
	})

	t.Run("empty ETag replaces any version", func(t *testing.T) {
		it := seed(t, acme, 4)
		_, err := replace(t, it, it.ETag, "Renamed")
		require.NoError(t, err)
		forced, err := replace(t, it, "", "Forced")
		require.NoError(t, err)
		requireStored(t, s, forced)
	})

	t.Run("missing item is not found and not created", func(t *testing.T) {
		it := itemOf(t, newReport(acme, newID(herald.PrefixReport, 5), "Ghost", at(0)))
		for _, etag := range []string{"", "1", "12345"} {
			_, err := replace(t, it, etag, "Ghost")
			requireCode(t, err, herald.CodeNotFound, "ETag %q", etag)
		}
		requireAbsent(t, s, it.Kind, it.TenantID, it.ID)
	})

	t.Run("another tenant's item is not found and unchanged", func(t *testing.T) {
		theirs := seed(t, globex, 6)
		mine := theirs
		mine.TenantID = acme
		for _, etag := range []string{"", theirs.ETag} {
			_, err := replace(t, mine, etag, "Hijacked")
			requireCode(t, err, herald.CodeNotFound, "ETag %q", etag)
		}
		requireStored(t, s, theirs)
		requireAbsent(t, s, herald.KindReport, acme, theirs.ID)
	})

	t.Run("another kind's item is not found", func(t *testing.T) {
		it := seed(t, acme, 7)
		other := it
		other.Kind = herald.KindSchedule
		_, err := s.Replace(ctx, other)
		requireCode(t, err, herald.CodeNotFound)
		requireStored(t, s, it)
	})

	t.Run("invalid body is refused and the record kept", func(t *testing.T) {
		it := seed(t, acme, 8)
		bad := it
		bad.Body = json.RawMessage(`["not", "an", "object"]`)
		_, err := s.Replace(ctx, bad)
		requireCode(t, err, herald.CodeInvalid)
		requireStored(t, s, it)
	})
}

func testDelete(t *testing.T, newStore func(t *testing.T) Store) {
	s := newStore(t)
	ctx := t.Context()
	seed := func(t *testing.T, tenantID string, n int) herald.Item {
		t.Helper()
		it := itemOf(t, newSchedule(tenantID, newID(herald.PrefixSchedule, n), true, at(time.Hour)))
		it.ETag = create(t, s, it)
		return it
	}

	t.Run("matching ETag deletes", func(t *testing.T) {
		it := seed(t, acme, 1)
		require.NoError(t, s.Delete(ctx, it.Kind, it.TenantID, it.ID, it.ETag))
		requireAbsent(t, s, it.Kind, it.TenantID, it.ID)
	})

	t.Run("empty ETag deletes any version", func(t *testing.T) {
		it := seed(t, acme, 2)
		_, err := s.Replace(ctx, herald.Item{Kind: it.Kind, TenantID: it.TenantID, ID: it.ID, Body: it.Body})
		require.NoError(t, err)
		require.NoError(t, s.Delete(ctx, it.Kind, it.TenantID, it.ID, ""))
		requireAbsent(t, s, it.Kind, it.TenantID, it.ID)
	})

	t.Run("stale ETag fails and keeps the record", func(t *testing.T) {
		it := seed(t, acme, 3)
		next := it
		next.Body = withField(t, it.Body, "enabled", false)
		var err error
		next.ETag, err = s.Replace(ctx, next)
		require.NoError(t, err)
		requireCode(t, s.Delete(ctx, it.Kind, it.TenantID, it.ID, it.ETag), herald.CodePreconditionFailed)
		requireStored(t, s, next)
	})

	t.Run("missing item is not found", func(t *testing.T) {
		id := newID(herald.PrefixSchedule, 4)
		requireCode(t, s.Delete(ctx, herald.KindSchedule, acme, id, ""), herald.CodeNotFound)
		requireCode(t, s.Delete(ctx, herald.KindSchedule, acme, id, "1"), herald.CodeNotFound)
	})

	t.Run("second delete is not found", func(t *testing.T) {
		it := seed(t, acme, 5)
		require.NoError(t, s.Delete(ctx, it.Kind, it.TenantID, it.ID, ""))
		requireCode(t, s.Delete(ctx, it.Kind, it.TenantID, it.ID, ""), herald.CodeNotFound)
	})

	t.Run("another tenant's item is not found and kept", func(t *testing.T) {
		theirs := seed(t, globex, 6)
		for _, etag := range []string{"", theirs.ETag} {
			requireCode(t, s.Delete(ctx, theirs.Kind, acme, theirs.ID, etag), herald.CodeNotFound, "ETag %q", etag)
		}
		requireStored(t, s, theirs)
	})

	t.Run("another kind's item is not found and kept", func(t *testing.T) {
		it := seed(t, acme, 7)
		requireCode(t, s.Delete(ctx, herald.KindReport, acme, it.ID, ""), herald.CodeNotFound)
		requireStored(t, s, it)
	})
}

func testHealth(t *testing.T, newStore func(t *testing.T) Store) {
	s := newStore(t)

	t.Run("ping", func(t *testing.T) {
		require.NoError(t, s.Ping(t.Context()))
	})

	t.Run("canceled context keeps ctx.Err in the chain", func(t *testing.T) {
		it := itemOf(t, newReport(acme, newID(herald.PrefixReport, 1), "Weekly", at(0)))
		it.ETag = create(t, s, it)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		calls := map[string]func() error{
			"Create": func() error {
				_, err := s.Create(ctx, itemOf(t, newReport(acme, newID(herald.PrefixReport, 2), "New", at(0))))
				return err
			},
			"Get": func() error { _, err := s.Get(ctx, it.Kind, it.TenantID, it.ID); return err },
			"Replace": func() error {
				_, err := s.Replace(ctx, it)
				return err
			},
			"Delete": func() error { return s.Delete(ctx, it.Kind, it.TenantID, it.ID, "") },
			"List": func() error {
				_, err := s.List(ctx, herald.ListQuery{Kind: herald.KindReport, TenantID: acme})
				return err
			},
			"Due": func() error { _, err := s.Due(ctx, herald.KindSchedule, at(0), 10); return err },
		}
		for name, call := range calls {
			err := call()
			require.Errorf(t, err, "%s with a canceled context", name)
			assert.ErrorIsf(t, err, context.Canceled, "%s: %v", name, err)
		}
		requireStored(t, s, it)
	})
}
