package sqlite

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// BenchmarkList measures the load test's hot paths on its data set: 100
// tenants with 1,000 reports each.
func BenchmarkList(b *testing.B) {
	const tenants, reports = 100, 1000
	ctx := b.Context()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "herald.db"))
	require.NoError(b, err)
	b.Cleanup(func() { _ = s.Close() })

	// Seed in one transaction: the benchmark is about reads.
	ids := make([][]string, tenants)
	tx, err := s.write.BeginTx(ctx, nil)
	require.NoError(b, err)
	insert, err := tx.PrepareContext(ctx, `INSERT INTO items (kind, tenant_id, id, version, body) VALUES (?, ?, ?, ?, ?)`)
	require.NoError(b, err)
	defer insert.Close()
	bodyBytes := 0
	for t := range tenants {
		tenantID := fmt.Sprintf("tenant-%03d", t)
		for n := range reports {
			it := reportItem(b, tenantID, n)
			bodyBytes += len(it.Body)
			_, err := insert.ExecContext(ctx, string(it.Kind), it.TenantID, it.ID, n+1, string(it.Body))
			require.NoError(b, err)
			ids[t] = append(ids[t], it.ID)
		}
	}
	require.NoError(b, tx.Commit())
	b.Logf("seeded %d reports, %d bytes of JSON each on average", tenants*reports, bodyBytes/(tenants*reports))

	firstPage := func(b *testing.B, q herald.ListQuery) {
		for b.Loop() {
			page, err := s.List(ctx, q)
			if err != nil || len(page.Items) != 50 || page.NextCursor == "" {
				b.Fatalf("List: %d items, %v", len(page.Items), err)
			}
		}
	}
	b.Run("ListFirstPage50", func(b *testing.B) {
		firstPage(b, herald.ListQuery{Kind: herald.KindReport, TenantID: "tenant-042", Limit: 50})
	})
	b.Run("ListFirstPage50ByNameDesc", func(b *testing.B) {
		firstPage(b, herald.ListQuery{Kind: herald.KindReport, TenantID: "tenant-042", Limit: 50, OrderBy: "name", Desc: true})
	})
	b.Run("ListPage10ByName", func(b *testing.B) {
		q := herald.ListQuery{Kind: herald.KindReport, TenantID: "tenant-042", Limit: 50, OrderBy: "name"}
		for range 9 {
			page, err := s.List(ctx, q)
			require.NoError(b, err)
			q.Cursor = page.NextCursor
		}
		firstPage(b, q)
	})
	b.Run("Get", func(b *testing.B) {
		i := 0
		for b.Loop() {
			t := i % tenants
			if _, err := s.Get(ctx, herald.KindReport, fmt.Sprintf("tenant-%03d", t), ids[t][(i*7919)%reports]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("GetParallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				t := rand.IntN(tenants)                                                                                             //nolint:gosec // test data
				if _, err := s.Get(ctx, herald.KindReport, fmt.Sprintf("tenant-%03d", t), ids[t][rand.IntN(reports)]); err != nil { //nolint:gosec // test data
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("ListFirstPage50Parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				q := herald.ListQuery{Kind: herald.KindReport, TenantID: fmt.Sprintf("tenant-%03d", rand.IntN(tenants)), Limit: 50} //nolint:gosec // test data
				if page, err := s.List(ctx, q); err != nil || len(page.Items) != 50 {
					b.Errorf("List: %d items, %v", len(page.Items), err)
					return
				}
			}
		})
	})
	b.Run("Replace", func(b *testing.B) {
		it, err := s.Get(ctx, herald.KindReport, "tenant-007", ids[7][0])
		require.NoError(b, err)
		for b.Loop() {
			if it.ETag, err = s.Replace(ctx, it); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Create", func(b *testing.B) {
		n := 0
		for b.Loop() {
			it := reportItem(b, "tenant-bench", n)
			if _, err := s.Create(ctx, it); err != nil {
				b.Fatal(err)
			}
			n++
		}
	})
}
