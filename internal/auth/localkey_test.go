package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/auth"
)

func TestLoadOrCreateLocalKeyCreatesOnceAndReuses(t *testing.T) {
	dir := t.TempDir()
	k1, err := auth.LoadOrCreateLocalKey(dir)
	require.NoError(t, err)
	path := auth.LocalKeyPath(dir)
	assert.Equal(t, filepath.Join(dir, "keys", "signing-ed25519.pem"), path)

	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	dinfo, err := os.Stat(filepath.Dir(path))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), dinfo.Mode().Perm())

	before, err := os.ReadFile(path)
	require.NoError(t, err)
	block, _ := pem.Decode(before)
	require.NotNil(t, block)
	assert.Equal(t, "PRIVATE KEY", block.Type, "PKCS#8 PEM")

	k2, err := auth.LoadOrCreateLocalKey(dir)
	require.NoError(t, err)
	assert.Equal(t, k1.KeyID(), k2.KeyID())
	assert.Equal(t, k1.PublicKey(), k2.PublicKey())
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after, "the file is not rewritten")
	assert.Len(t, k1.KeyID(), 22, "base64url of 16 bytes")

	other, err := auth.LoadOrCreateLocalKey(t.TempDir())
	require.NoError(t, err)
	assert.NotEqual(t, k1.KeyID(), other.KeyID())
}

func TestLoadOrCreateLocalKeyTightensLoosePermissions(t *testing.T) {
	dir := t.TempDir()
	_, err := auth.LoadOrCreateLocalKey(dir)
	require.NoError(t, err)
	path := auth.LocalKeyPath(dir)
	require.NoError(t, os.Chmod(path, 0o644))
	_, err = auth.LoadOrCreateLocalKey(dir)
	require.NoError(t, err)
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

func TestLoadOrCreateLocalKeyCorrupt(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ecDER, err := x509.MarshalPKCS8PrivateKey(ecKey)
	require.NoError(t, err)

	tests := []struct {
		name    string
		content []byte
	}{
		{"empty file", []byte{}},
		{"not PEM", []byte("hello")},
		{"wrong PEM type", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}})},
		{"garbage DER", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}})},
		{"not Ed25519", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})},
		{"truncated", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})[:40]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := auth.LocalKeyPath(dir)
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
			require.NoError(t, os.WriteFile(path, tt.content, 0o600))

			k, err := auth.LoadOrCreateLocalKey(dir)
			require.Error(t, err)
			assert.Nil(t, k)
			assert.Contains(t, err.Error(), "corrupt")
			assert.Contains(t, err.Error(), path)

			got, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tt.content, got, "a corrupt key is never replaced")
		})
	}
}

func TestLoadOrCreateLocalKeyConcurrent(t *testing.T) {
	dir := t.TempDir()
	const n = 16
	kids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			k, err := auth.LoadOrCreateLocalKey(dir)
			errs[i] = err
			if err == nil {
				kids[i] = k.KeyID()
			}
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, kids[0], kids[i])
	}
	entries, err := os.ReadDir(filepath.Join(dir, "keys"))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary files are left behind")
	assert.Equal(t, "signing-ed25519.pem", entries[0].Name())

	k, err := auth.LoadOrCreateLocalKey(dir)
	require.NoError(t, err)
	assert.Equal(t, kids[0], k.KeyID())
}

func TestLoadOrCreateLocalKeyEmptyDir(t *testing.T) {
	_, err := auth.LoadOrCreateLocalKey("")
	assert.Error(t, err)
}
