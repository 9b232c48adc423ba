package blobtest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

func testInvalidPaths(t *testing.T, h Harness) {
	pre := prefix(t)
	bad := []struct{ name, path string }{
		{"empty", ""},
		{"leading slash", "/" + pre + "a"},
		{"trailing slash", pre + "a/"},
		{"empty segment", pre + "a//b"},
		{"dot-dot segment", pre + "a/../b"},
		{"dot-dot escape", "../" + pre + "a"},
		{"only dot-dot", ".."},
		{"dot segment", pre + "./a"},
		{"space", pre + "a b.csv"},
		{"unicode", pre + "Łódź.pdf"},
		{"backslash", pre + `a\b`},
		{"question mark", pre + "a?b"},
		{"hash", pre + "a#b"},
		{"percent", pre + "a%2e"},
		{"colon", pre + "c:a"},
		{"newline", pre + "a\nb"},
		{"NUL", pre + "a\x00b"},
		{"too long", pre + strings.Repeat("a", 1025-len(pre))},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			_, err := h.Store.Put(ctx, c.path, strings.NewReader("x"), herald.BlobPut{})
			requireCode(t, err, herald.CodeInvalid, "Put")
			rc, _, err := h.Store.Get(ctx, c.path)
			if rc != nil {
				rc.Close()
			}
			requireCode(t, err, herald.CodeInvalid, "Get")
			_, err = h.Store.Stat(ctx, c.path)
			requireCode(t, err, herald.CodeInvalid, "Stat")
			requireCode(t, h.Store.Delete(ctx, c.path), herald.CodeInvalid, "Delete")
			_, err = h.Store.SignedURL(ctx, c.path, time.Minute, herald.BlobLink{})
			requireCode(t, err, herald.CodeInvalid, "SignedURL")
		})
	}
	t.Run("the longest valid path", func(t *testing.T) {
		t.Parallel()
		// Segments of 200 bytes: file systems limit a name to 255.
		long := []byte(strings.Repeat(strings.Repeat("a", 199)+"/", 6)[:1024-len(pre)])
		if long[len(long)-1] == '/' {
			long[len(long)-1] = 'a'
		}
		p := pre + string(long)
		require.Len(t, p, 1024)
		put(t, h.Store, p, []byte("long"), "")
		b, _ := get(t, h.Store, p)
		assert.Equal(t, "long", string(b))
	})
	t.Run("a long segment is stored or refused as invalid", func(t *testing.T) {
		t.Parallel()
		p := pre + strings.Repeat("s", 300)
		_, err := h.Store.Put(t.Context(), p, strings.NewReader("x"), herald.BlobPut{})
		if err != nil {
			requireCode(t, err, herald.CodeInvalid)
			return
		}
		b, _ := get(t, h.Store, p)
		assert.Equal(t, "x", string(b))
	})
	t.Run("odd but valid segments", func(t *testing.T) {
		t.Parallel()
		for _, seg := range []string{".hidden", "...", "-dash", "_under", "a.b.c", "UPPER"} {
			p := pre + "odd/" + seg
			put(t, h.Store, p, []byte(seg), "")
			b, _ := get(t, h.Store, p)
			assert.Equal(t, seg, string(b))
		}
		assert.Len(t, listAll(t, h.Store, pre+"odd/"), 6)
	})
	t.Run("list prefixes", func(t *testing.T) {
		t.Parallel()
		for _, p := range []string{"/", "/" + pre, pre + "a//", pre + "a b", pre + "Ł", "../", pre + "../", pre + "?", strings.Repeat("a", 1025)} {
			err := h.Store.List(t.Context(), p, func(herald.BlobInfo) error { return nil })
			requireCode(t, err, herald.CodeInvalid, "List %q", p)
		}
		for _, p := range []string{pre + ".", pre + "..", pre + "a.", pre + "x/.."} {
			// A beginning of a valid path ("./.x", "..x", "a.b", "x/..y").
			require.NoError(t, h.Store.List(t.Context(), p, func(herald.BlobInfo) error { return nil }), "List %q", p)
		}
	})
}

func testList(t *testing.T, h Harness) {
	pre := prefix(t)
	// In byte order: '-' < '.' < '/' < '0' < 'A' < '_' < 'a'.
	names := []string{
		"a-b", "a.c", "a/1", "a/2", "a/sub/deep.txt", "a0", "aB", "a_", "ab/1", "b", "b/c",
	}
	want := map[string]herald.BlobInfo{}
	shuffled := slices.Clone(names)
	slices.Reverse(shuffled) // stored out of order
	for i, n := range shuffled {
		content := []byte(fmt.Sprintf("content of %s: %s", n, strings.Repeat("x", i)))
		ct := "text/plain"
		if i%2 == 0 {
			ct = "text/csv"
		}
		want[pre+n] = put(t, h.Store, pre+n, content, ct)
	}
	with := func(ns ...string) []string {
		out := make([]string, len(ns))
		for i, n := range ns {
			out[i] = pre + n
		}
		return out
	}
	cases := []struct {
		name, prefix string
		want         []string
	}{
		{"the test's folder", pre, with(names...)},
		{"a folder", pre + "a/", with("a/1", "a/2", "a/sub/deep.txt")},
		{"a partial name", pre + "a", with("a-b", "a.c", "a/1", "a/2", "a/sub/deep.txt", "a0", "aB", "a_", "ab/1")},
		{"a partial name matching a folder's blobs", pre + "a/s", with("a/sub/deep.txt")},
		{"an exact blob name", pre + "a-b", with("a-b")},
		{"a blob and a folder of one name", pre + "b", with("b", "b/c")},
		{"a blob's name as a folder", pre + "b/", with("b/c")},
		{"nothing", pre + "zzz", nil},
		{"a missing folder", pre + "nope/", nil},
		{"a deep missing folder", pre + "a/sub/deeper/", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := listAll(t, h.Store, c.prefix)
			require.Equal(t, c.want, paths(got))
			for _, info := range got {
				sameInfo(t, want[info.Path], info, "listed "+info.Path)
			}
		})
	}
	t.Run("everything", func(t *testing.T) {
		t.Parallel()
		all := paths(listAll(t, h.Store, ""))
		assert.True(t, slices.IsSorted(all), "List(\"\") is in path order")
		var mine []string
		for _, p := range all {
			if strings.HasPrefix(p, pre) {
				mine = append(mine, p)
			}
		}
		assert.Equal(t, with(names...), mine)
	})
	t.Run("fn's error stops the listing", func(t *testing.T) {
		t.Parallel()
		stop := errors.New("enough")
		calls := 0
		err := h.Store.List(t.Context(), pre, func(herald.BlobInfo) error {
			calls++
			if calls == 3 {
				return stop
			}
			return nil
		})
		require.ErrorIs(t, err, stop)
		assert.Equal(t, 3, calls)
	})
	t.Run("a folder emptied by deletes lists nothing", func(t *testing.T) {
		t.Parallel()
		p := prefix(t) + "tmp/only.txt"
		put(t, h.Store, p, []byte("x"), "")
		require.NoError(t, h.Store.Delete(t.Context(), p))
		assert.Empty(t, listAll(t, h.Store, strings.TrimSuffix(p, "only.txt")))
		assert.Empty(t, listAll(t, h.Store, strings.TrimSuffix(p, "tmp/only.txt")))
	})
}

// testListPages lists more blobs than two pages hold.
func testListPages(t *testing.T, h Harness) {
	pre := prefix(t)
	n := 2*h.ListPageSize + 7
	if h.ListPageSize <= 0 {
		n = 150
	}
	var want []string
	for i := range n {
		// Two folders levels so a walk has to merge them in order.
		want = append(want, fmt.Sprintf("%sp%02d/%04d", pre, i%13, i))
	}
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, p := range want {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_, err := h.Store.Put(t.Context(), p, strings.NewReader(p), herald.BlobPut{})
			if err != nil {
				t.Errorf("Put %s: %v", p, err)
			}
		})
	}
	wg.Wait()
	require.False(t, t.Failed())
	slices.Sort(want)
	got := listAll(t, h.Store, pre)
	require.Equal(t, want, paths(got))
	for _, info := range got {
		require.Equal(t, sum([]byte(info.Path)), info.SHA256, "metadata comes with every page")
	}
	testListStops(t, h, pre)

	t.Run("deleting while listing", func(t *testing.T) {
		// A retention sweep deletes what it lists: every blob is still seen
		// once, across pages and folders emptied on the way.
		var seen []string
		err := h.Store.List(t.Context(), pre, func(info herald.BlobInfo) error {
			seen = append(seen, info.Path)
			if strings.HasSuffix(info.Path, "0") || strings.HasSuffix(info.Path, "5") {
				return nil // keep some
			}
			return h.Store.Delete(t.Context(), info.Path)
		})
		require.NoError(t, err)
		require.Equal(t, want, seen)
		var kept []string
		for _, p := range want {
			if strings.HasSuffix(p, "0") || strings.HasSuffix(p, "5") {
				kept = append(kept, p)
			}
		}
		require.Equal(t, kept, paths(listAll(t, h.Store, pre)))
	})
}

// testListStops stops a listing in its second page.
func testListStops(t *testing.T, h Harness, pre string) {
	stop := errors.New("stop after the first page")
	seen := 0
	err := h.Store.List(t.Context(), pre, func(herald.BlobInfo) error {
		seen++
		if seen == max(h.ListPageSize, 1)+1 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop, "stopping in the second page")
	assert.Equal(t, max(h.ListPageSize, 1)+1, seen)
}
