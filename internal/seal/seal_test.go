package seal

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newBox(t *testing.T) *Box {
	t.Helper()
	b, err := New(make([]byte, KeySize))
	require.NoError(t, err)
	return b
}

func TestSealOpen(t *testing.T) {
	b := newBox(t)
	sealed, err := b.Seal([]byte("postgres://u:p@h/db"), "t1/ds1")
	require.NoError(t, err)
	assert.NotContains(t, string(sealed), "postgres")
	plain, err := b.Open(sealed, "t1/ds1")
	require.NoError(t, err)
	assert.Equal(t, "postgres://u:p@h/db", string(plain))

	again, err := b.Seal([]byte("postgres://u:p@h/db"), "t1/ds1")
	require.NoError(t, err)
	assert.NotEqual(t, sealed, again, "a fresh nonce every time")
}

func TestOpenRefuses(t *testing.T) {
	b := newBox(t)
	sealed, err := b.Seal([]byte("secret"), "t1/ds1")
	require.NoError(t, err)
	other, err := New([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	flipped := append([]byte{}, sealed...)
	flipped[len(flipped)-1] ^= 1

	tests := []struct {
		name  string
		box   *Box
		value []byte
		ad    string
	}{
		{"other record", b, sealed, "t2/ds1"},
		{"other key", other, sealed, "t1/ds1"},
		{"tampered", b, flipped, "t1/ds1"},
		{"truncated", b, sealed[:10], "t1/ds1"},
		{"empty", b, nil, "t1/ds1"},
		{"unknown version", b, append([]byte{9}, sealed[1:]...), "t1/ds1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.box.Open(tt.value, tt.ad)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "secret")
		})
	}
}

func TestParseKey(t *testing.T) {
	raw := []byte("0123456789abcdef0123456789abcdef")
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"std base64", base64.StdEncoding.EncodeToString(raw), true},
		{"raw url base64", base64.RawURLEncoding.EncodeToString(raw), true},
		{"hex", hex.EncodeToString(raw), true},
		{"with newline", base64.StdEncoding.EncodeToString(raw) + "\n", true},
		{"too short", base64.StdEncoding.EncodeToString(raw[:16]), false},
		{"garbage", "not a key", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKey(tt.in)
			if !tt.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, raw, k)
		})
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "secret.key")
	var wg sync.WaitGroup
	keys := make([][]byte, 8)
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := LoadOrCreateKey(path)
			assert.NoError(t, err)
			keys[i] = k
		}()
	}
	wg.Wait()
	for _, k := range keys[1:] {
		assert.Equal(t, keys[0], k, "concurrent first starts agree on one key")
	}
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	again, err := LoadOrCreateKey(path)
	require.NoError(t, err)
	assert.Equal(t, keys[0], again)

	require.NoError(t, os.WriteFile(path, []byte("corrupt"), 0o600))
	_, err = LoadOrCreateKey(path)
	require.Error(t, err, "a corrupt key file is an error, never replaced")
}
