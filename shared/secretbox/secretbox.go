// Package secretbox seals the secrets the platform must use again later (a channel's signing
// secrets and the OAuth2 secrets of its receiver): unlike client secrets, which are only ever
// compared, these are sent, so they are encrypted, not hashed. In AWS a KMS key seals them
// (shared/awsedge); the local stack uses AES-256-GCM under a key made at every start. Every sealed
// value is bound to the channel it belongs to (KMS encryption context, GCM additional data): a
// sealed secret copied onto another channel does not open.
package secretbox

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Box seals and opens secrets bound to an owner (a channel id).
type Box interface {
	Seal(ctx context.Context, plaintext []byte, owner string) ([]byte, error)
	Open(ctx context.Context, sealed []byte, owner string) ([]byte, error)
}

// Local is AES-256-GCM under a key held in memory: the local stack's Box.
type Local struct{ aead cipher.AEAD }

// KeySize of a local key.
const KeySize = 32

// NewLocal makes a local box over a 32-byte key.
func NewLocal(key []byte) (*Local, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret box key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Local{aead: aead}, nil
}

// GenerateLocalSetting makes a fresh key as the setting the functions read ("local:<base64>").
func GenerateLocalSetting() (string, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	return "local:" + base64.StdEncoding.EncodeToString(key), nil
}

// SplitSetting reads a CHANNEL_SECRET_KEY setting: "kms:<key ARN>" in AWS, "local:<base64>" locally.
func SplitSetting(setting string) (kind, value string, err error) {
	kind, value, ok := strings.Cut(setting, ":")
	if !ok || (kind != "kms" && kind != "local") || value == "" {
		return "", "", errors.New("the channel secret key setting must be kms:<key ARN> or local:<base64 key>")
	}
	return kind, value, nil
}

// LocalFromSetting opens the local key of a "local:" setting's value.
func LocalFromSetting(value string) (*Local, error) {
	key, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		return nil, fmt.Errorf("channel secret key: %w", err)
	}
	return NewLocal(key)
}

// Seal implements Box: a random nonce, then the ciphertext.
func (l *Local) Seal(_ context.Context, plaintext []byte, owner string) ([]byte, error) {
	nonce := make([]byte, l.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return l.aead.Seal(nonce, nonce, plaintext, []byte(owner)), nil
}

// Open implements Box.
func (l *Local) Open(_ context.Context, sealed []byte, owner string) ([]byte, error) {
	n := l.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed secret too short")
	}
	return l.aead.Open(nil, sealed[:n], sealed[n:], []byte(owner))
}
