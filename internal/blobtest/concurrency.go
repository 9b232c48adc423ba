package blobtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

func testConcurrency(t *testing.T, h Harness) {
	pre := prefix(t)
	t.Run("puts to different paths", func(t *testing.T) {
		t.Parallel()
		const n = 16
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				p := fmt.Sprintf("%sdistinct/%02d", pre, i)
				if _, err := h.Store.Put(t.Context(), p, newGen(int64(20_000+i), i), herald.BlobPut{}); err != nil {
					t.Errorf("Put %s: %v", p, err)
				}
			})
		}
		wg.Wait()
		require.False(t, t.Failed())
		for i := range n {
			p := fmt.Sprintf("%sdistinct/%02d", pre, i)
			got, size, info := streamSum(t, h.Store, p)
			assert.Equal(t, int64(20_000+i), size)
			assert.Equal(t, genSum(t, int64(20_000+i), i), got)
			assert.Equal(t, got, info.SHA256)
		}
		assert.Len(t, listAll(t, h.Store, pre+"distinct/"), n)
	})
	t.Run("small puts to one path", func(t *testing.T) {
		t.Parallel()
		samePath(t, h, pre+"same-small", 8, 64<<10)
	})
	t.Run("puts of several parts to one path", func(t *testing.T) {
		t.Parallel()
		samePath(t, h, pre+"same-large", 3, h.multiPartSize())
	})
}

// writerBytes are the bytes samePath's writers repeat.
const writerBytes = "abcdefghijklmnop"

// samePath races writers (at most len(writerBytes)) Puts of distinct contents of size bytes to p.
func samePath(t *testing.T, h Harness, p string, writers int, size int64) {
	type result struct {
		info herald.BlobInfo
		err  error
	}
	results := make([]result, writers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			<-start
			// Each writer's content is one repeated byte: a mix would show.
			r := io.LimitReader(repeatReader(writerBytes[i]), size)
			info, err := h.Store.Put(t.Context(), p, r, herald.BlobPut{ContentType: fmt.Sprintf("text/x-writer-%d", i)})
			results[i] = result{info, err}
		})
	}
	close(start)
	wg.Wait()

	won := map[string]int{} // sha256 -> writer
	for i, r := range results {
		if r.err != nil {
			requireCode(t, r.err, herald.CodeConflict, "writer %d: a losing Put may only fail with a conflict", i)
			continue
		}
		assert.Equal(t, size, r.info.Size)
		won[r.info.SHA256] = i
	}
	require.NotEmpty(t, won, "at least one Put succeeds")
	rc, info, err := h.Store.Get(t.Context(), p)
	require.NoError(t, err)
	defer rc.Close()
	head := make([]byte, 1)
	_, err = io.ReadFull(rc, head)
	require.NoError(t, err)
	writer, ok := won[info.SHA256]
	require.True(t, ok, "the blob is one successful Put's")
	assert.Equal(t, fmt.Sprintf("text/x-writer-%d", writer), info.ContentType)
	require.Equal(t, writerBytes[writer], head[0])
	rest, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.Equal(t, size-1, int64(len(rest)))
	require.True(t, len(bytes.Trim(rest, string(head))) == 0, "the content is never mixed")
	t.Logf("%d of %d Puts succeeded", len(won), writers)
}

// repeatReader is an endless stream of b.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func testContext(t *testing.T, h Harness) {
	pre := prefix(t)
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	t.Run("a canceled context fails every call", func(t *testing.T) {
		t.Parallel()
		p := pre + "canceled.txt"
		_, err := h.Store.Put(canceled, p, strings.NewReader("x"), herald.BlobPut{})
		require.ErrorIs(t, err, context.Canceled, "Put")
		requireAbsent(t, h.Store, p, "a canceled Put stores nothing")

		put(t, h.Store, p, []byte("there"), "")
		rc, _, err := h.Store.Get(canceled, p)
		if rc != nil {
			rc.Close()
		}
		require.ErrorIs(t, err, context.Canceled, "Get")
		_, err = h.Store.Stat(canceled, p)
		require.ErrorIs(t, err, context.Canceled, "Stat")
		require.ErrorIs(t, h.Store.Delete(canceled, p), context.Canceled, "Delete")
		err = h.Store.List(canceled, pre, func(herald.BlobInfo) error { return nil })
		require.ErrorIs(t, err, context.Canceled, "List")
		b, _ := get(t, h.Store, p)
		assert.Equal(t, "there", string(b), "a canceled Delete deletes nothing")
	})
	t.Run("canceled in the middle of a Put", func(t *testing.T) {
		t.Parallel()
		for _, old := range []bool{false, true} {
			p := fmt.Sprintf("%smid-put-%v", pre, old)
			if old {
				put(t, h.Store, p, []byte("old"), "")
			}
			ctx, cancel := context.WithCancel(t.Context())
			size := h.multiPartSize()
			r := newGen(size, 3)
			r.onRead = func(read int64) {
				if read > size*2/3 {
					cancel()
				}
			}
			_, err := h.Store.Put(ctx, p, r, herald.BlobPut{})
			cancel()
			require.ErrorIs(t, err, context.Canceled)
			if old {
				b, _ := get(t, h.Store, p)
				assert.Equal(t, "old", string(b))
			} else {
				requireAbsent(t, h.Store, p)
			}
		}
	})
	t.Run("canceled while reading a Get", func(t *testing.T) {
		t.Parallel()
		p := pre + "mid-get.bin"
		size := h.multiPartSize()
		_, err := h.Store.Put(t.Context(), p, newGen(size, 4), herald.BlobPut{})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		rc, _, err := h.Store.Get(ctx, p)
		require.NoError(t, err)
		defer rc.Close()
		_, err = io.ReadFull(rc, make([]byte, 1000))
		require.NoError(t, err)
		cancel()
		n, err := io.Copy(io.Discard, rc)
		require.Error(t, err, "the rest of the read fails (after %d more bytes)", n)
		assert.Less(t, n+1000, size, "the read stopped before the end")
	})
}
