package azureblob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/blobtest"
)

var _ blobtest.Store = (*Store)(nil)

// azuriteConnectionString is Azurite's default account (TESTING.md).
const azuriteConnectionString = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
	"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
	"BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"

// azurite returns the connection string of the Azurite (or account) to
// test against, skipping the test when nothing listens there, or failing
// it when CI=true.
func azurite(t *testing.T) string {
	t.Helper()
	cs := os.Getenv("HERALD_TEST_AZURITE_CONNECTION_STRING")
	if cs == "" {
		cs = azuriteConnectionString
	}
	parsed, err := parseConnectionString(cs)
	require.NoError(t, err, "HERALD_TEST_AZURITE_CONNECTION_STRING")
	u, err := url.Parse(parsed.blobEndpoint)
	require.NoError(t, err)
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
	}
	conn, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		msg := "!!! AZURITE IS NOT RUNNING on " + host + ": skipping the Azure Blob tests. Start it with " +
			"`azurite-blob --blobHost 127.0.0.1 --blobPort 10000 --inMemoryPersistence --disableTelemetry --skipApiVersionCheck` " +
			"or set HERALD_TEST_AZURITE_CONNECTION_STRING. (" + err.Error() + ")"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	conn.Close()
	return cs
}

// testContainer is a new container name, unique to this run.
func testContainer() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "herald-test-" + hex.EncodeToString(b[:])
}

// newTestStore returns a store on a new container that is deleted when
// the test ends.
func newTestStore(t *testing.T, cfg Config) *Store {
	t.Helper()
	if cfg.ConnectionString == "" && cfg.ServiceURL == "" {
		cfg.ConnectionString = azurite(t)
	}
	if cfg.Container == "" {
		cfg.Container = testContainer()
	}
	s, err := New(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := s.container.Delete(ctx, nil)
		require.NoError(t, err)
	})
	return s
}

func TestConformance(t *testing.T) {
	const blockSize, pageSize, largeSize = 1 << 20, 50, 16 << 20
	// One container for the whole suite: each test has a prefix of its own.
	s := newTestStore(t, Config{BlockSize: blockSize, ListPageSize: pageSize})
	blobtest.Run(t, func(t *testing.T) blobtest.Harness {
		return blobtest.Harness{Store: s, ListPageSize: pageSize, BlockSize: blockSize, LargeSize: largeSize}
	})
}
