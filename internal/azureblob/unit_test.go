package azureblob

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fetchCall is one request for a user delegation key.
type fetchCall struct{ start, expiry time.Time }

// fakeKeys is a key source that records its calls and returns their index.
type fakeKeys struct {
	mu    sync.Mutex
	calls []fetchCall
	fail  error
	delay time.Duration
}

func (f *fakeKeys) fetch(_ context.Context, start, expiry time.Time) (int, error) {
	time.Sleep(f.delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return 0, f.fail
	}
	f.calls = append(f.calls, fetchCall{start, expiry})
	return len(f.calls), nil
}

func (f *fakeKeys) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func TestKeyCache(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clk := &fakeClock{t: t0}
	keys := &fakeKeys{}
	c := newKeyCache(keys.fetch, clk.Now)
	ctx := t.Context()

	// The first link fetches a key valid from clockSkew ago for a day.
	key, exp, err := c.get(ctx, t0.Add(15*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 1, key)
	assert.Equal(t, t0.Add(keyLifetime), exp)
	assert.Equal(t, []fetchCall{{t0.Add(-clockSkew), t0.Add(keyLifetime)}}, keys.calls)

	// Links the key outlives reuse it.
	clk.add(20 * time.Hour)
	key, _, err = c.get(ctx, clk.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 1, key)
	assert.Equal(t, 1, keys.count())

	// A link that would outlive the key, or end within keyMargin of it,
	// renews it first.
	clk.add(3*time.Hour + 45*time.Minute) // 15 min before the key's end
	key, exp, err = c.get(ctx, clk.Now().Add(11*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 2, key, "renewed before the end")
	assert.Equal(t, clk.Now().Add(keyLifetime), exp)

	// A link longer than a day gets a key that lasts as long as it needs.
	key, exp, err = c.get(ctx, clk.Now().Add(3*24*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 3, key)
	assert.Equal(t, clk.Now().Add(3*24*time.Hour+keyMargin), exp)
	// ... which then serves the short links too.
	key, _, err = c.get(ctx, clk.Now().Add(15*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 3, key)

	// The longest link gets the longest key the service grants: the
	// signer then ends the link with the key.
	key, exp, err = c.get(ctx, clk.Now().Add(herald.MaxBlobLinkTTL))
	require.NoError(t, err)
	assert.Equal(t, 4, key)
	assert.Equal(t, clk.Now().Add(maxKeyLifetime), exp)
	assert.True(t, exp.Before(clk.Now().Add(herald.MaxBlobLinkTTL)))
	assert.LessOrEqual(t, keys.calls[3].expiry.Sub(clk.Now()), 7*24*time.Hour, "never more than the service's 7 days")
}

func TestKeyCacheErrorsAndConcurrency(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	boom := errors.New("no token")
	keys := &fakeKeys{fail: boom}
	c := newKeyCache(keys.fetch, clk.Now)
	_, _, err := c.get(t.Context(), clk.Now().Add(time.Minute))
	require.ErrorIs(t, err, boom)
	keys.fail = nil
	keys.delay = 20 * time.Millisecond
	var wg sync.WaitGroup
	var got atomic.Int64
	for range 8 {
		wg.Go(func() {
			key, _, err := c.get(t.Context(), clk.Now().Add(time.Minute))
			if err == nil {
				got.Add(int64(key))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, keys.count(), "a failed fetch is not cached; concurrent links share one fetch")
	assert.Equal(t, int64(8), got.Load())
}

// testAccountKey is a made-up base64 account key.
const testAccountKey = "dGVzdC1rZXktdGhhdC1pcy1ub3QtYS1yZWFsLWtleS0xMjM0NTY3ODkwYWJjZGVmZ2hpams="

func TestSignedURLShape(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s, err := newStore(Config{
		ConnectionString: "DefaultEndpointsProtocol=https;AccountName=heraldprod;AccountKey=" + testAccountKey + ";EndpointSuffix=core.windows.net",
		Container:        "artifacts",
		Now:              func() time.Time { return now },
	})
	require.NoError(t, err)
	u, err := s.SignedURL(t.Context(), "acme/rep_1/run_1/art_1", 15*time.Minute, herald.BlobLink{Filename: "Łódź report.pdf"})
	require.NoError(t, err)
	parsed, err := url.Parse(u)
	require.NoError(t, err)
	assert.Equal(t, "https", parsed.Scheme)
	assert.Equal(t, "heraldprod.blob.core.windows.net", parsed.Host)
	assert.Equal(t, "/artifacts/acme/rep_1/run_1/art_1", parsed.EscapedPath(), "slashes stay readable")
	q := parsed.Query()
	assert.Equal(t, "r", q.Get("sp"), "read only")
	assert.Equal(t, "b", q.Get("sr"), "one blob")
	assert.Equal(t, "https", q.Get("spr"), "https only in production")
	assert.Equal(t, "2026-03-02T08:55:00Z", q.Get("st"), "starts five minutes early")
	assert.Equal(t, "2026-03-02T09:15:00Z", q.Get("se"))
	assert.Equal(t, `attachment; filename="__d_ report.pdf"; filename*=UTF-8''%C5%81%C3%B3d%C5%BA%20report.pdf`, q.Get("rscd"))
	assert.False(t, q.Has("rsct"), "the stored content type unless overridden")
	assert.NotEmpty(t, q.Get("sig"))
	assert.NotContains(t, u, testAccountKey)

	u, err = s.SignedURL(t.Context(), "acme/rep_1/run_1/art_1", time.Minute, herald.BlobLink{ContentType: "text/csv; charset=utf-8"})
	require.NoError(t, err)
	parsed, err = url.Parse(u)
	require.NoError(t, err)
	assert.Equal(t, "text/csv; charset=utf-8", parsed.Query().Get("rsct"))
	assert.Equal(t, `attachment; filename="art_1"`, parsed.Query().Get("rscd"), "the path's last segment by default")
}

func TestConfigValidation(t *testing.T) {
	cs := "AccountName=a;AccountKey=" + testAccountKey
	cases := []struct {
		name string
		cfg  Config
	}{
		{"nothing", Config{Container: "artifacts"}},
		{"both", Config{ConnectionString: cs, ServiceURL: "https://a.blob.core.windows.net/", Container: "artifacts"}},
		{"URL without credential", Config{ServiceURL: "https://a.blob.core.windows.net/", Container: "artifacts"}},
		{"no container", Config{ConnectionString: cs}},
		{"upper-case container", Config{ConnectionString: cs, Container: "Artifacts"}},
		{"double hyphen", Config{ConnectionString: cs, Container: "art--facts"}},
		{"leading hyphen", Config{ConnectionString: cs, Container: "-artifacts"}},
		{"short container", Config{ConnectionString: cs, Container: "ab"}},
		{"tiny blocks", Config{ConnectionString: cs, Container: "artifacts", BlockSize: 1000}},
		{"page too big", Config{ConnectionString: cs, Container: "artifacts", ListPageSize: 5001}},
		{"SAS connection string", Config{ConnectionString: "BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=sv=x&sig=SECRET", Container: "artifacts"}},
		{"garbage", Config{ConnectionString: "not a connection string", Container: "artifacts"}},
		{"bad key", Config{ConnectionString: "AccountName=a;AccountKey=SECRET!!", Container: "artifacts"}},
	}
	for _, c := range cases {
		_, err := newStore(c.cfg)
		require.Error(t, err, c.name)
		assert.Equal(t, herald.CodeInvalid, herald.CodeOf(err), "%s: %v", c.name, err)
		assert.NotContains(t, err.Error(), "SECRET", c.name)
		assert.NotContains(t, err.Error(), testAccountKey, c.name)
	}
	s, err := newStore(Config{ConnectionString: "UseDevelopmentStorage=true", Container: "artifacts"})
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:10000/devstoreaccount1/artifacts", s.container.URL())
}

func TestParseConnectionString(t *testing.T) {
	cs, err := parseConnectionString("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + testAccountKey + ";EndpointSuffix=core.usgovcloudapi.net")
	require.NoError(t, err)
	assert.Equal(t, connectionString{accountName: "acct", accountKey: testAccountKey, blobEndpoint: "https://acct.blob.core.usgovcloudapi.net"}, cs)
	cs, err = parseConnectionString(azuriteConnectionString)
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:10000/devstoreaccount1", cs.blobEndpoint)
	cs, err = parseConnectionString("accountname=acct; accountkey=" + testAccountKey + " ;")
	require.NoError(t, err, "keys are case-insensitive, spaces ignored")
	assert.Equal(t, "https://acct.blob.core.windows.net", cs.blobEndpoint)
}

func responseError(t *testing.T, status int, code string) error {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://a.blob.core.windows.net/c/b?sig=SECRETSIG", nil)
	require.NoError(t, err)
	resp := &http.Response{
		StatusCode: status, Status: http.StatusText(status), Request: req,
		Header: http.Header{"X-Ms-Error-Code": {code}, "X-Ms-Request-Id": {"req-1"}},
		Body:   io.NopCloser(strings.NewReader("<Error><Message>string to sign: SECRETSIG</Message></Error>")),
	}
	return runtime.NewResponseError(resp)
}

func TestTranslate(t *testing.T) {
	ctx := t.Context()
	cases := []struct {
		err  error
		want herald.Code
	}{
		{responseError(t, 404, "BlobNotFound"), herald.CodeNotFound},
		{responseError(t, 404, "ContainerNotFound"), herald.CodeInternal},
		{responseError(t, 400, "InvalidBlockList"), herald.CodeConflict},
		{responseError(t, 409, "LeaseIdMissing"), herald.CodeConflict},
		{responseError(t, 412, "ConditionNotMet"), herald.CodePreconditionFailed},
		{responseError(t, 413, "RequestBodyTooLarge"), herald.CodeTooLarge},
		{responseError(t, 503, "ServerBusy"), herald.CodeUnavailable},
		{responseError(t, 500, "InternalError"), herald.CodeUnavailable},
		{responseError(t, 429, ""), herald.CodeUnavailable},
		{responseError(t, 403, "AuthorizationPermissionMismatch"), herald.CodeInternal},
		{responseError(t, 400, "InvalidHeaderValue"), herald.CodeInternal},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, herald.CodeUnavailable},
		{io.ErrUnexpectedEOF, herald.CodeUnavailable},
		{context.DeadlineExceeded, herald.CodeUnavailable},
		{errors.New("something else"), herald.CodeInternal},
	}
	for _, c := range cases {
		err := translate(ctx, c.err, "reading blob %s", "a/b")
		assert.Equal(t, c.want, herald.CodeOf(err), "%v", c.err)
		assert.NotContains(t, err.Error(), "SECRETSIG", "no response body or query in the error")
		assert.Contains(t, err.Error(), "reading blob a/b")
	}
	assert.Contains(t, translate(ctx, responseError(t, 503, "ServerBusy"), "x").Error(), "request id req-1")

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	err := translate(canceled, responseError(t, 500, "InternalError"), "x")
	assert.Equal(t, herald.CodeUnavailable, herald.CodeOf(err))
	assert.ErrorIs(t, err, context.Canceled)
}

func TestUnreachableServiceIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now
	_, err = New(t.Context(), Config{
		ConnectionString: "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + testAccountKey + ";BlobEndpoint=http://" + addr + "/devstoreaccount1;",
		Container:        "artifacts",
		Retry:            policy.RetryOptions{MaxRetries: -1},
	})
	require.Error(t, err)
	assert.Equal(t, herald.CodeUnavailable, herald.CodeOf(err), "%v", err)
	assert.NotContains(t, err.Error(), testAccountKey)
}
