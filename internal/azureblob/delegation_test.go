package azureblob

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/blobtest"
	"github.com/heraldreports/herald/internal/herald"
)

// The production path (Entra token, user-delegation SAS) runs against an
// Azurite of its own: HTTPS with --oauth basic (it decodes bearer tokens
// without verifying them) and the production-style host name
// devstoreaccount1.blob.localhost, from which the SDK takes the account
// name when it signs links; a dialer sends that name to 127.0.0.1.

// azuriteBinary finds azurite-blob: HERALD_TEST_AZURITE_BIN, the PATH, or
// the repository's tools/node_modules.
func azuriteBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("HERALD_TEST_AZURITE_BIN"); bin != "" {
		return bin
	}
	if bin, err := exec.LookPath("azurite-blob"); err == nil {
		return bin
	}
	bin, err := filepath.Abs(filepath.Join("..", "..", "tools", "node_modules", ".bin", "azurite-blob"))
	if err == nil {
		if _, err = os.Stat(bin); err == nil {
			return bin
		}
	}
	msg := "!!! AZURITE IS NOT INSTALLED (azurite-blob not on PATH nor in tools/node_modules): skipping the " +
		"user-delegation tests. Install it with `npm ci --prefix tools` or set HERALD_TEST_AZURITE_BIN."
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// tlsFiles writes a self-signed certificate for host and returns the cert
// and key files and a pool that trusts it.
func tlsFiles(t *testing.T, dir, host string) (string, string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: host},
		DNSNames:              []string{host},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// startOAuthAzurite starts an HTTPS Azurite with --oauth basic and returns
// its port and a client that trusts it and dials it for any host name.
func startOAuthAzurite(t *testing.T) (string, *http.Client) {
	t.Helper()
	bin := azuriteBinary(t)
	dir := t.TempDir()
	certFile, keyFile, pool := tlsFiles(t, dir, "devstoreaccount1.blob.localhost")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	require.NoError(t, l.Close())

	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", port, "--inMemoryPersistence",
		"--disableTelemetry", "--skipApiVersionCheck", "--oauth", "basic", "--cert", certFile, "--key", keyFile,
		"--silent")
	cmd.Dir = dir
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // the one process this test started, by its PID
		<-exited
		t.Logf("stopped azurite (pid %d)", pid)
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
		if err == nil {
			conn.Close()
			break
		}
		select {
		case <-exited:
			t.Fatalf("azurite (pid %d) exited: %s", pid, output.String())
		case <-time.After(100 * time.Millisecond):
		}
		require.True(t, time.Now().Before(deadline), "azurite (pid %d) did not listen on %s: %v", pid, port, err)
	}
	var dialer net.Dialer
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, "127.0.0.1:"+port)
		},
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
	}
	t.Cleanup(transport.CloseIdleConnections)
	return port, &http.Client{Transport: transport, Timeout: time.Minute}
}

// fakeToken is an unsigned Entra-looking token: Azurite checks its claims
// but not its signature.
type fakeToken struct{ calls atomic.Int64 }

func (f *fakeToken) GetToken(_ context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	f.calls.Add(1)
	now := time.Now()
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	claims := map[string]any{
		"aud": "https://storage.azure.com", "iss": "https://sts.windows.net/00000000-0000-0000-0000-000000000001/",
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
		"oid": "00000000-0000-0000-0000-0000000000aa", "tid": "00000000-0000-0000-0000-000000000001",
	}
	token := enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims) + ".c2ln"
	return azcore.AccessToken{Token: token, ExpiresOn: now.Add(time.Hour)}, nil
}

// countingTransport counts requests for user delegation keys.
type countingTransport struct {
	next     http.RoundTripper
	keyCalls atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Query().Get("comp") == "userdelegationkey" {
		c.keyCalls.Add(1)
	}
	return c.next.RoundTrip(r)
}

func TestUserDelegationConformance(t *testing.T) {
	port, client := startOAuthAzurite(t)
	counting := &countingTransport{next: client.Transport}
	cred := &fakeToken{}
	const blockSize, pageSize, largeSize = 1 << 20, 50, 16 << 20
	s := newTestStore(t, Config{
		ServiceURL: "https://devstoreaccount1.blob.localhost:" + port + "/",
		Credential: cred,
		HTTPClient: &http.Client{Transport: counting},
		BlockSize:  blockSize, ListPageSize: pageSize,
	})
	_, isDelegation := s.signer.(delegationSigner)
	require.True(t, isDelegation, "a token credential signs user-delegation SAS")
	assert.Equal(t, "https", string(s.protocol), "links are https-only")

	blobtest.Run(t, func(t *testing.T) blobtest.Harness {
		return blobtest.Harness{Store: s, Client: client, ListPageSize: pageSize, BlockSize: blockSize, LargeSize: largeSize}
	})

	u, err := s.SignedURL(t.Context(), "any/blob", time.Minute, herald.BlobLink{})
	require.NoError(t, err)
	q := must(t, u)
	for _, k := range []string{"skoid", "sktid", "skt", "ske", "sks", "skv"} {
		assert.NotEmpty(t, q.Get(k), "a user-delegation SAS carries %s", k)
	}
	assert.Equal(t, "https", q.Get("spr"))
	// The suite signs dozens of links: the key is fetched once, plus once
	// more for the link of the longest ttl.
	assert.LessOrEqual(t, counting.keyCalls.Load(), int64(2), "user delegation keys are cached")
	assert.Positive(t, counting.keyCalls.Load())
	assert.Positive(t, cred.calls.Load(), "requests carry tokens")
	t.Logf("%d user delegation key requests, %d token requests", counting.keyCalls.Load(), cred.calls.Load())
}

func must(t *testing.T, u string) url.Values {
	t.Helper()
	parsed, err := url.Parse(u)
	require.NoError(t, err)
	return parsed.Query()
}
