package auth

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldreports/herald/internal/herald"
)

// Defaults for locally issued tokens.
const (
	// DefaultLocalIssuer is the "iss" of locally issued tokens unless
	// IssueRequest.Issuer says otherwise.
	DefaultLocalIssuer = "herald-local"
	// DefaultAudience is the "aud" of locally issued tokens and the audience a
	// Validator requires when Config.Audience is empty.
	DefaultAudience = "herald"

	// MinTokenTTL and MaxTokenTTL bound IssueRequest.TTL.
	MinTokenTTL = time.Minute
	MaxTokenTTL = 365 * 24 * time.Hour
)

const (
	keyDirName  = "keys"
	keyFileName = "signing-ed25519.pem"
	pemType     = "PRIVATE KEY"
	maxKeyFile  = 64 << 10
)

// LocalKey is the Ed25519 key pair that signs and verifies tokens in
// standalone mode. It is safe for concurrent use.
type LocalKey struct {
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
	kid  string
}

// LocalKeyPath returns the file that LoadOrCreateLocalKey uses below dataDir
// (worth including in backups: losing it invalidates every issued token).
func LocalKeyPath(dataDir string) string {
	return filepath.Join(dataDir, keyDirName, keyFileName)
}

// LoadOrCreateLocalKey returns the signing key stored at LocalKeyPath(dataDir),
// generating it on first use. The key is written as a PKCS#8 PEM file with
// mode 0600 in a 0700 directory. Concurrent first starts agree on one key:
// the new key is written to a temporary file and hard-linked into place,
// which fails if another process won, and the winner's file is then read. An
// unreadable or corrupt key file is an error; it is never replaced.
func LoadOrCreateLocalKey(dataDir string) (*LocalKey, error) {
	if dataDir == "" {
		return nil, errors.New("local signing key: data dir is empty")
	}
	dir := filepath.Join(dataDir, keyDirName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("local signing key: create key dir: %w", err)
	}
	path := LocalKeyPath(dataDir)
	key, err := readLocalKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := createLocalKey(dir, path); err != nil {
		return nil, err
	}
	return readLocalKey(path)
}

// NewLocalKey wraps an existing Ed25519 private key (for example one held in
// a secret store).
func NewLocalKey(priv ed25519.PrivateKey) (*LocalKey, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, errors.New("local signing key: not an Ed25519 private key")
	}
	pub, ok := priv.Public().(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("local signing key: unexpected public key type")
	}
	sum := sha256.Sum256(pub)
	return &LocalKey{
		priv: priv,
		pub:  pub,
		kid:  base64.RawURLEncoding.EncodeToString(sum[:16]),
	}, nil
}

func readLocalKey(path string) (*LocalKey, error) {
	f, err := os.Open(filepath.Clean(path))
	if err != nil {
		return nil, fmt.Errorf("local signing key: open %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("local signing key: stat %s: %w", path, err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return nil, fmt.Errorf("local signing key: %s is readable by others and chmod 0600 failed: %w", path, err)
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("local signing key: read %s: %w", path, err)
	}
	key, err := parseLocalKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("local signing key: %s is corrupt (%w); restore it from a backup, or remove it to generate a new key (all issued tokens become invalid)", path, err)
	}
	return key, nil
}

func parseLocalKeyPEM(data []byte) (*LocalKey, error) {
	if len(data) > maxKeyFile {
		return nil, errors.New("file too large")
	}
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if block.Type != pemType {
		return nil, fmt.Errorf("PEM block type %q, want %q", block.Type, pemType)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("trailing data after PEM block")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse PKCS#8: %w", err)
	}
	priv, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key type %T, want Ed25519", parsed)
	}
	return NewLocalKey(priv)
}

func createLocalKey(dir, path string) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("local signing key: generate: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("local signing key: encode: %w", err)
	}
	// CreateTemp opens with O_EXCL and mode 0600.
	tmp, err := os.CreateTemp(dir, ".signing-ed25519-*.tmp")
	if err != nil {
		return fmt.Errorf("local signing key: create temp file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := writeAndSync(tmp, pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der})); err != nil {
		return fmt.Errorf("local signing key: write %s: %w", tmpName, err)
	}
	// Link fails if path exists: the first creator wins and everyone
	// (including the losers) reads the winner's complete file.
	if err := os.Link(tmpName, path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("local signing key: install %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

func writeAndSync(f *os.File, data []byte) error {
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes the new directory entry durable; best effort (not every
// platform can fsync a directory).
func syncDir(dir string) {
	d, err := os.Open(filepath.Clean(dir))
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// KeyID returns the key id ("kid") of the key: the unpadded base64url
// encoding of the first 16 bytes of the SHA-256 of the public key.
func (k *LocalKey) KeyID() string { return k.kid }

// PublicKey returns a copy of the public key.
func (k *LocalKey) PublicKey() ed25519.PublicKey {
	return append(ed25519.PublicKey(nil), k.pub...)
}

// IssueRequest describes a token to issue with LocalKey.Issue.
type IssueRequest struct {
	TenantID string        // required, herald.ValidTenantID
	Subject  string        // required
	Name     string        // optional display name
	Roles    []herald.Role // at least one, all known
	TTL      time.Duration // MinTokenTTL .. MaxTokenTTL
	Now      time.Time     // issue time; zero means time.Now()
	Issuer   string        // "iss"; empty means DefaultLocalIssuer
	Audience string        // "aud"; empty means DefaultAudience
}

func (c IssueRequest) validate() error {
	var p herald.Problems
	if !herald.ValidTenantID(c.TenantID) {
		p.Add("tenant_id", "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if c.Subject == "" {
		p.Add("subject", "is required")
	}
	if len(c.Roles) == 0 {
		p.Add("roles", "at least one role is required")
	}
	for i, r := range c.Roles {
		if !r.Valid() {
			p.Add(fmt.Sprintf("roles[%d]", i), "unknown role %q: use viewer, editor or admin", string(r))
		}
	}
	if c.TTL < MinTokenTTL || c.TTL > MaxTokenTTL {
		p.Add("ttl", "must be between %s and %s", MinTokenTTL, MaxTokenTTL)
	}
	return p.Err("token request")
}

// Issue signs a token for c with alg EdDSA and the key's kid. Invalid
// requests are a herald.CodeInvalid error.
func (k *LocalKey) Issue(c IssueRequest) (string, error) {
	if err := c.validate(); err != nil {
		return "", err
	}
	now := c.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.Truncate(time.Second)
	jti, err := randomID()
	if err != nil {
		return "", err
	}
	roles := make([]string, len(c.Roles))
	for i, r := range c.Roles {
		roles[i] = string(r)
	}
	claims := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    orDefault(c.Issuer, DefaultLocalIssuer),
			Subject:   c.Subject,
			Audience:  jwt.ClaimStrings{orDefault(c.Audience, DefaultAudience)},
			ExpiresAt: jwt.NewNumericDate(now.Add(c.TTL)),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
		TenantID: c.TenantID,
		Roles:    roles,
		Name:     c.Name,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = k.kid
	signed, err := tok.SignedString(k.priv)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return signed, nil
}

func randomID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("token id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
