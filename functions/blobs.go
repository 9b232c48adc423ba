package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/heraldreports/herald/internal/azureblob"
	"github.com/heraldreports/herald/internal/fileblob"
	"github.com/heraldreports/herald/internal/generate"
	"github.com/heraldreports/herald/internal/httpapi"
)

// blobStore is what Herald uses of the artifact store.
type blobStore interface {
	generate.BlobWriter
	generate.BlobSweeper
	httpapi.ArtifactLinker
}

// blobs is the chosen artifact store, and the handler of the links Herald
// serves itself (file backend only).
type blobs struct {
	store blobStore
	files http.Handler
	close func() error
}

// openBlobs opens the artifact store cfg chooses. secret is Herald's
// secret key; the file backend signs its links with a key derived from it.
func openBlobs(ctx context.Context, cfg config, secret []byte) (*blobs, error) {
	switch cfg.Artifacts.Backend {
	case blobAzure:
		ac := azureblob.Config{Container: cfg.Artifacts.Container, ConnectionString: cfg.Artifacts.ConnectionString}
		if ac.ConnectionString == "" {
			cred, err := azidentity.NewDefaultAzureCredential(nil)
			if err != nil {
				return nil, fmt.Errorf("HERALD_BLOB_ACCOUNT_URL: no Azure credential: %w", err)
			}
			ac.ServiceURL, ac.Credential = cfg.Artifacts.AccountURL, cred
		}
		s, err := azureblob.New(ctx, ac)
		if err != nil {
			return nil, fmt.Errorf("opening Azure Blob Storage: %w", err)
		}
		return &blobs{store: s, close: func() error { return nil }}, nil
	default:
		s, err := fileblob.New(fileblob.Config{Dir: cfg.filesDir(), BaseURL: cfg.publicURL(), Key: linkKey(secret)})
		if err != nil {
			return nil, fmt.Errorf("opening the artifact directory: %w", err)
		}
		return &blobs{store: s, files: s.Handler(), close: s.Close}, nil
	}
}

// linkKey derives the key that signs file links from the secret key, so
// that neither can be computed from the other's use.
func linkKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("herald/fileblob/links/v1"))
	return m.Sum(nil)
}
