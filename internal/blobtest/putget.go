package blobtest

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// testStreaming puts a large generated blob and checks that the heap never
// grew by anything near its size: the adapter streams, it does not buffer.
func testStreaming(t *testing.T, h Harness) {
	p := prefix(t) + "large.bin"
	size := h.LargeSize
	want := genSum(t, size, 42)

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
			}
		}
	})
	start := time.Now()
	info, err := h.Store.Put(t.Context(), p, newGen(size, 42), herald.BlobPut{ContentType: "application/pdf"})
	took := time.Since(start)
	close(stop)
	wg.Wait()
	require.NoError(t, err)
	requireInfo(t, herald.BlobInfo{Path: p, Size: size, ContentType: "application/pdf", SHA256: want}, info, "Put's info")
	grew := float64(peak.Load()) - float64(base.HeapAlloc)
	t.Logf("put %d MiB in %v; heap grew by at most %.1f MiB", size>>20, took.Round(time.Millisecond), grew/(1<<20))
	assert.Less(t, grew, float64(size)/2, "Put must stream, not hold the content in memory")

	got, n, ginfo := streamSum(t, h.Store, p)
	assert.Equal(t, size, n)
	assert.Equal(t, want, got, "content read back")
	sameInfo(t, info, ginfo, "Get's info")
	require.NoError(t, h.Store.Delete(t.Context(), p))
}

func testPutGet(t *testing.T, h Harness) {
	pre := prefix(t)
	cases := []struct {
		name    string
		size    int64
		chunked bool // read in small, uneven chunks
	}{
		{"empty", 0, false},
		{"one byte", 1, false},
		{"small", 1000, false},
		{"64 KiB uneven reads", 64<<10 + 3, true},
		{"several parts", h.multiPartSize(), false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := fmt.Sprintf("%sblob-%d.bin", pre, i)
			want := genSum(t, c.size, i)
			var r interface{ Read([]byte) (int, error) } = newGen(c.size, i)
			if c.chunked {
				r = &unevenReader{r: r}
			}
			info, err := h.Store.Put(t.Context(), p, r, herald.BlobPut{ContentType: "application/octet-stream"})
			require.NoError(t, err)
			requireInfo(t, herald.BlobInfo{Path: p, Size: c.size, ContentType: "application/octet-stream", SHA256: want}, info, "Put's info")

			got, n, ginfo := streamSum(t, h.Store, p)
			assert.Equal(t, c.size, n, "size read back")
			assert.Equal(t, want, got, "content read back")
			sameInfo(t, info, ginfo, "Get's info")
			sinfo, err := h.Store.Stat(t.Context(), p)
			require.NoError(t, err)
			sameInfo(t, info, sinfo, "Stat's info")
		})
	}
	t.Run("the reader is read to its end exactly once", func(t *testing.T) {
		t.Parallel()
		p := pre + "once.txt"
		r := &countingReader{r: strings.NewReader("hello, world")}
		put(t, h.Store, p, nil, "") // an existing blob changes nothing
		_, err := h.Store.Put(t.Context(), p, r, herald.BlobPut{})
		require.NoError(t, err)
		assert.Equal(t, int64(len("hello, world")), r.n.Load())
		b, _ := get(t, h.Store, p)
		assert.Equal(t, "hello, world", string(b))
	})
}

// unevenReader returns at most 1..7919 bytes per Read.
type unevenReader struct {
	r interface{ Read([]byte) (int, error) }
	i int
}

func (u *unevenReader) Read(p []byte) (int, error) {
	u.i++
	n := 1 + (u.i*7907)%7919
	if len(p) > n {
		p = p[:n]
	}
	return u.r.Read(p)
}

type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func testContentType(t *testing.T, h Harness) {
	pre := prefix(t)
	cases := []struct {
		name, given, want string
	}{
		{"kept", "text/csv; charset=utf-8", "text/csv; charset=utf-8"},
		{"pdf", "application/pdf", "application/pdf"},
		{"defaulted", "", "application/octet-stream"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := fmt.Sprintf("%styped-%d", pre, i)
			info := put(t, h.Store, p, []byte("a,b\n1,2\n"), c.given)
			assert.Equal(t, c.want, info.ContentType)
			_, ginfo := get(t, h.Store, p)
			assert.Equal(t, c.want, ginfo.ContentType)
			sinfo, err := h.Store.Stat(t.Context(), p)
			require.NoError(t, err)
			assert.Equal(t, c.want, sinfo.ContentType)
			listed := listAll(t, h.Store, p)
			require.Len(t, listed, 1)
			assert.Equal(t, c.want, listed[0].ContentType)
		})
	}
	invalid := []struct{ name, ct string }{
		{"header injection", "text/plain\r\nX-Injected: 1"},
		{"not a media type", "not a type"},
		{"no subtype", "text"},
		{"too long", "application/" + strings.Repeat("x", MaxContentTypeBytes)},
	}
	for _, c := range invalid {
		t.Run("refused: "+c.name, func(t *testing.T) {
			t.Parallel()
			p := pre + "refused"
			_, err := h.Store.Put(t.Context(), p, strings.NewReader("x"), herald.BlobPut{ContentType: c.ct})
			requireCode(t, err, herald.CodeInvalid)
			requireAbsent(t, h.Store, p)
		})
	}
}

func testOverwrite(t *testing.T, h Harness) {
	pre := prefix(t)
	t.Run("replaces content, type and hash", func(t *testing.T) {
		t.Parallel()
		p := pre + "report.csv"
		first := put(t, h.Store, p, []byte("old content, longer than the new one"), "text/plain")
		second := put(t, h.Store, p, []byte("new"), "text/csv")
		assert.NotEqual(t, first.SHA256, second.SHA256)
		b, info := get(t, h.Store, p)
		assert.Equal(t, "new", string(b))
		sameInfo(t, second, info, "Get after overwrite")
		listed := listAll(t, h.Store, p)
		require.Len(t, listed, 1, "one blob, not two")
		sameInfo(t, second, listed[0], "List after overwrite")
	})
	t.Run("a large blob by a small one and back", func(t *testing.T) {
		t.Parallel()
		p := pre + "sizes.bin"
		size := h.multiPartSize()
		_, err := h.Store.Put(t.Context(), p, newGen(size, 7), herald.BlobPut{})
		require.NoError(t, err)
		put(t, h.Store, p, []byte("tiny"), "")
		b, _ := get(t, h.Store, p)
		assert.Equal(t, "tiny", string(b))
		_, err = h.Store.Put(t.Context(), p, newGen(size, 8), herald.BlobPut{})
		require.NoError(t, err)
		got, n, info := streamSum(t, h.Store, p)
		assert.Equal(t, size, n)
		assert.Equal(t, genSum(t, size, 8), got)
		assert.Equal(t, got, info.SHA256)
	})
	t.Run("readers see the old or the new blob, never a mix", func(t *testing.T) {
		t.Parallel()
		p := pre + "flip.bin"
		a, b := bytes.Repeat([]byte("A"), 200<<10), bytes.Repeat([]byte("B"), 100<<10)
		put(t, h.Store, p, a, "")
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var reads atomic.Int64
		for range 2 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					got, info, err := tryGet(t.Context(), h.Store, p)
					if err != nil {
						t.Errorf("Get during overwrites: %v", err)
						return
					}
					reads.Add(1)
					if !bytes.Equal(got, a) && !bytes.Equal(got, b) {
						t.Errorf("read %d bytes that are neither version", len(got))
						return
					}
					if info.SHA256 != sum(got) || info.Size != int64(len(got)) {
						t.Errorf("Get's info does not describe the content it returned")
						return
					}
				}
			})
		}
		for i := range 10 {
			next := a
			if i%2 == 0 {
				next = b
			}
			put(t, h.Store, p, next, "")
		}
		close(stop)
		wg.Wait()
		t.Logf("%d reads during 10 overwrites", reads.Load())
	})
}

func testFailedPut(t *testing.T, h Harness) {
	pre := prefix(t)
	cases := []struct {
		name   string
		failAt int64
		old    bool
	}{
		{"at once, nothing before", 0, false},
		{"after a few bytes, nothing before", 10, false},
		{"after a few bytes, old blob kept", 10, true},
		{"after several parts, nothing before", h.multiPartSize() - 5, false},
		{"after several parts, old blob kept", h.multiPartSize() - 5, true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := fmt.Sprintf("%sfailed-%d", pre, i)
			var old herald.BlobInfo
			if c.old {
				old = put(t, h.Store, p, []byte("the old, good content"), "text/plain")
			}
			r := newGen(h.multiPartSize(), 1)
			r.failAt, r.fail = c.failAt, errBoom
			_, err := h.Store.Put(t.Context(), p, r, herald.BlobPut{ContentType: "text/csv"})
			require.Error(t, err)
			require.ErrorIs(t, err, errBoom, "the reader's error is in the chain")
			if !c.old {
				requireAbsent(t, h.Store, p, "a failed Put stores nothing")
				assert.Empty(t, listAll(t, h.Store, p), "nor lists anything")
				return
			}
			b, info := get(t, h.Store, p)
			assert.Equal(t, "the old, good content", string(b))
			sameInfo(t, old, info, "the old blob's info")
		})
	}
}

func testStatDelete(t *testing.T, h Harness) {
	pre := prefix(t)
	t.Run("missing blobs are not found", func(t *testing.T) {
		t.Parallel()
		requireAbsent(t, h.Store, pre+"never/stored.csv")
		requireAbsent(t, h.Store, pre+"never", "a folder of nothing")
	})
	t.Run("a folder is not a blob", func(t *testing.T) {
		t.Parallel()
		put(t, h.Store, pre+"folder/inside.txt", []byte("x"), "")
		requireAbsent(t, h.Store, pre+"folder")
		require.NoError(t, h.Store.Delete(t.Context(), pre+"folder"), "deleting a folder path deletes nothing")
		b, _ := get(t, h.Store, pre+"folder/inside.txt")
		assert.Equal(t, "x", string(b))
	})
	t.Run("stat", func(t *testing.T) {
		t.Parallel()
		p := pre + "stat.txt"
		info := put(t, h.Store, p, []byte("stat me"), "text/plain; charset=utf-8")
		got, err := h.Store.Stat(t.Context(), p)
		require.NoError(t, err)
		sameInfo(t, info, got, "Stat")
	})
	t.Run("delete is idempotent", func(t *testing.T) {
		t.Parallel()
		p := pre + "gone/soon.txt"
		sibling := pre + "gone/stays.txt"
		put(t, h.Store, p, []byte("bye"), "")
		put(t, h.Store, sibling, []byte("hi"), "")
		require.NoError(t, h.Store.Delete(t.Context(), p))
		requireAbsent(t, h.Store, p)
		require.NoError(t, h.Store.Delete(t.Context(), p), "a second delete")
		require.NoError(t, h.Store.Delete(t.Context(), pre+"never/was.txt"), "a blob that never was")
		b, _ := get(t, h.Store, sibling)
		assert.Equal(t, "hi", string(b), "the sibling stays")
		assert.Equal(t, []string{sibling}, paths(listAll(t, h.Store, pre+"gone/")))
		put(t, h.Store, p, []byte("back"), "")
		b, _ = get(t, h.Store, p)
		assert.Equal(t, "back", string(b), "a deleted path can be written again")
	})
}
