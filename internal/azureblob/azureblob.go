// Package azureblob is the Azure Blob Storage artifact blob store.
//
// Blobs are block blobs in one container, named by their herald blob path.
// Each carries its content type and a metadata entry "sha256" (lowercase
// hex SHA-256 of the content), both set in the same request that makes the
// content visible, so Stat and List never hash.
//
// Put streams: it reads the content one block (Config.BlockSize, 4 MiB by
// default) at a time while hashing it. Content that fits in one block goes
// up in a single Put Blob; longer content is staged block by block under
// block ids unique to this Put and appears with one Put Block List that
// sets the content type and metadata. A Put that fails before the commit
// leaves the old blob as it was; its uncommitted blocks are discarded by
// the service (at the next commit to that blob, or after a week). Memory
// use is one block per Put in progress.
//
// Concurrent Puts to one path: the last commit wins and contents never
// mix, but a commit discards the blocks that other Puts to the same blob
// have staged, so a multi-block Put can lose the race and fail with
// CodeConflict (retry it). Single-block Puts never fail this way.
//
// Authentication, chosen by Config:
//   - ConnectionString with an AccountKey (Azurite, or a key-based
//     account): requests are signed with the shared key and links are
//     service SAS signed with the account key.
//   - ServiceURL and Credential (production: a managed identity): requests
//     carry Entra tokens and links are user-delegation SAS. The identity
//     needs "Storage Blob Data Contributor" on the container, and the
//     generateUserDelegationKey action at the account scope or above
//     ("Storage Blob Delegator" on the account, or Data Contributor on
//     the account instead of the container). New creates the container if
//     it may and accepts an existing one if it may not. The user
//     delegation key is cached and renewed before it runs out (keyCache).
//
// Links (SignedURL) are blob-scoped, read-only, valid from five minutes in
// the past (clock skew) until now+ttl, https-only unless the service URL
// itself is http (Azurite), and carry rscd/rsct overrides for
// Content-Disposition (attachment, RFC 6266) and Content-Type.
package azureblob

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/heraldreports/herald/internal/herald"
)

const (
	// DefaultBlockSize is the size of the blocks Put stages.
	DefaultBlockSize = 4 << 20
	// MinBlockSize is the smallest Config.BlockSize accepted.
	MinBlockSize = 64 << 10
	// MaxBlockSize is the largest Config.BlockSize accepted (the service
	// takes up to 4000 MiB; more would only cost memory).
	MaxBlockSize = 100 << 20
	// maxBlocks is the most blocks a block blob can have.
	maxBlocks = 50_000
	// clockSkew is how far in the past a link's validity starts.
	clockSkew = 5 * time.Minute
	// metaSHA256 is the metadata key holding the content's SHA-256.
	metaSHA256 = "sha256"
)

// Config configures a Store. Give either ConnectionString or ServiceURL
// with Credential.
type Config struct {
	// ConnectionString is an account connection string with AccountName and
	// AccountKey (and BlobEndpoint for Azurite), such as
	// "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=...;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;".
	// "UseDevelopmentStorage=true" means Azurite's default account on
	// 127.0.0.1:10000.
	ConnectionString string
	// ServiceURL is the account's blob endpoint,
	// https://<account>.blob.core.windows.net/: the SDK takes the account
	// name from the host's first label when signing links.
	ServiceURL string
	// Credential authenticates requests to ServiceURL, e.g. a managed
	// identity credential from azidentity.
	Credential azcore.TokenCredential
	// Container holds the blobs; New creates it when missing.
	Container string
	// HTTPClient sends the requests; nil means the SDK's default.
	HTTPClient *http.Client
	// Retry tunes the SDK's retries; the zero value means its defaults
	// (3 retries, exponential back-off).
	Retry policy.RetryOptions
	// BlockSize is the size of the blocks Put stages, MinBlockSize to
	// MaxBlockSize; 0 means DefaultBlockSize. Each Put in progress holds
	// one block in memory.
	BlockSize int
	// ListPageSize is how many blobs List asks for per page, 1 to 5000; 0
	// means the service's default (5000).
	ListPageSize int
	// Now is the clock links are signed with; nil means time.Now.
	Now func() time.Time
}

// Store is a blob store on Azure Blob Storage. It is safe for concurrent use.
type Store struct {
	container *container.Client
	name      string
	signer    signer
	protocol  sas.Protocol
	blockSize int
	pageSize  int32
	now       func() time.Time
	buffers   sync.Pool // of *[]byte of blockSize
}

// New connects to the account, creates the container when missing and
// returns the store.
func New(ctx context.Context, cfg Config) (*Store, error) {
	s, err := newStore(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.ensureContainer(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// newStore builds the store of cfg without touching the network.
func newStore(cfg Config) (*Store, error) {
	if err := checkConfig(cfg); err != nil {
		return nil, err
	}
	opts := &service.ClientOptions{ClientOptions: policy.ClientOptions{Retry: cfg.Retry}}
	if cfg.HTTPClient != nil {
		opts.Transport = cfg.HTTPClient
	}
	svc, sign, serviceURL, err := newServiceClient(cfg, opts)
	if err != nil {
		return nil, err
	}
	s := &Store{
		container: svc.NewContainerClient(cfg.Container),
		name:      cfg.Container,
		signer:    sign,
		protocol:  sas.ProtocolHTTPS,
		blockSize: cfg.BlockSize,
		pageSize:  int32(cfg.ListPageSize), //nolint:gosec // checkConfig keeps it within 0..5000
		now:       cfg.Now,
	}
	if strings.HasPrefix(serviceURL, "http://") {
		s.protocol = sas.ProtocolHTTPSandHTTP // Azurite: links must work over http too
	}
	if s.blockSize == 0 {
		s.blockSize = DefaultBlockSize
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// checkConfig validates what New can check without the network.
func checkConfig(cfg Config) error {
	var p herald.Problems
	checkAuth(cfg, &p)
	if err := checkContainerName(cfg.Container); err != nil {
		p.Add("Container", "%s", err.Error())
	}
	if cfg.BlockSize != 0 && (cfg.BlockSize < MinBlockSize || cfg.BlockSize > MaxBlockSize) {
		p.Add("BlockSize", "must be %d to %d bytes", MinBlockSize, MaxBlockSize)
	}
	if cfg.ListPageSize < 0 || cfg.ListPageSize > 5000 {
		p.Add("ListPageSize", "must be 0 to 5000")
	}
	return p.Err("azureblob config")
}

// checkAuth checks that cfg names one way to authenticate.
func checkAuth(cfg Config, p *herald.Problems) {
	switch {
	case cfg.ConnectionString != "" && (cfg.ServiceURL != "" || cfg.Credential != nil):
		p.Add("ConnectionString", "give either a connection string or a service URL with a credential, not both")
	case cfg.ConnectionString == "" && (cfg.ServiceURL == "" || cfg.Credential == nil):
		p.Add("ServiceURL", "give a connection string, or a service URL and a credential")
	}
	if cfg.ServiceURL != "" {
		if u, err := url.Parse(cfg.ServiceURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			p.Add("ServiceURL", "must be an absolute http(s) URL such as https://account.blob.core.windows.net/")
		}
	}
}

// checkContainerName applies the service's container naming rules.
func checkContainerName(name string) error {
	if len(name) < 3 || len(name) > 63 {
		return errors.New("a container name has 3 to 63 characters")
	}
	for i := range len(name) {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0 && i < len(name)-1 && name[i-1] != '-'
		if !ok {
			return errors.New("a container name has lowercase letters, digits and single hyphens inside")
		}
	}
	return nil
}

// newServiceClient builds the service client and the link signer of cfg,
// and returns the service URL.
func newServiceClient(cfg Config, opts *service.ClientOptions) (*service.Client, signer, string, error) {
	if cfg.ConnectionString != "" {
		cs, err := parseConnectionString(cfg.ConnectionString)
		if err != nil {
			return nil, nil, "", err
		}
		cred, err := service.NewSharedKeyCredential(cs.accountName, cs.accountKey)
		if err != nil {
			// The SDK's message may quote the key: keep it out.
			return nil, nil, "", herald.Errorf(herald.CodeInvalid, "azureblob: the connection string's AccountKey is not valid base64")
		}
		svc, err := service.NewClientWithSharedKeyCredential(cs.blobEndpoint, cred, opts)
		if err != nil {
			return nil, nil, "", herald.Wrap(err, herald.CodeInvalid, "azureblob: creating the client")
		}
		return svc, sharedKeySigner{cred: cred}, cs.blobEndpoint, nil
	}
	svc, err := service.NewClient(cfg.ServiceURL, cfg.Credential, opts)
	if err != nil {
		return nil, nil, "", herald.Wrap(err, herald.CodeInvalid, "azureblob: creating the client")
	}
	cache := newKeyCache(func(ctx context.Context, start, expiry time.Time) (*service.UserDelegationCredential, error) {
		return svc.GetUserDelegationCredential(ctx, service.KeyInfo{
			Start:  new(start.UTC().Format(sas.TimeFormat)),
			Expiry: new(expiry.UTC().Format(sas.TimeFormat)),
		}, nil)
	}, cfg.Now)
	return svc, delegationSigner{keys: cache}, cfg.ServiceURL, nil
}

// ensureContainer creates the container unless it exists.
func (s *Store) ensureContainer(ctx context.Context) error {
	_, err := s.container.Create(ctx, nil)
	if err == nil || bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return nil
	}
	// An identity allowed to use but not to create containers: fine if it
	// exists.
	if _, perr := s.container.GetProperties(ctx, nil); perr == nil {
		return nil
	}
	return translate(ctx, err, "creating container %s", s.name)
}

// connectionString is what New uses of a connection string.
type connectionString struct {
	accountName, accountKey, blobEndpoint string
}

// Azurite's well-known development account (public, documented by
// Microsoft), used for "UseDevelopmentStorage=true".
const (
	devAccountName = "devstoreaccount1"
	devAccountKey  = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
	devEndpoint    = "http://127.0.0.1:10000/devstoreaccount1"
)

// parseConnectionString reads an account connection string. Its errors
// never quote the string: it holds the key.
func parseConnectionString(s string) (connectionString, error) {
	fields := map[string]string{}
	for part := range strings.SplitSeq(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return connectionString{}, herald.Errorf(herald.CodeInvalid, "azureblob: the connection string is not a list of key=value")
		}
		fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	if strings.EqualFold(fields["usedevelopmentstorage"], "true") {
		return connectionString{accountName: devAccountName, accountKey: devAccountKey, blobEndpoint: devEndpoint}, nil
	}
	cs := connectionString{accountName: fields["accountname"], accountKey: fields["accountkey"], blobEndpoint: fields["blobendpoint"]}
	if cs.accountName == "" || cs.accountKey == "" {
		return connectionString{}, herald.Errorf(herald.CodeInvalid,
			"azureblob: the connection string needs AccountName and AccountKey (a SAS connection string cannot sign links)")
	}
	if cs.blobEndpoint == "" {
		proto, suffix := fields["defaultendpointsprotocol"], fields["endpointsuffix"]
		if proto == "" {
			proto = "https"
		}
		if suffix == "" {
			suffix = "core.windows.net"
		}
		cs.blobEndpoint = fmt.Sprintf("%s://%s.blob.%s", proto, cs.accountName, suffix)
	}
	if u, err := url.Parse(cs.blobEndpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return connectionString{}, herald.Errorf(herald.CodeInvalid, "azureblob: the connection string's blob endpoint is not an http(s) URL")
	}
	return cs, nil
}
