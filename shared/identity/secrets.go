package identity

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Client secrets are 32 random bytes (256 bits) that support staff hand over once: nobody can guess
// one, so a slow password hash buys nothing against a stolen table and costs the token endpoint
// CPU on every call (review finding #5). They are stored as HMAC-SHA256 under a key that is not in
// the table: a stolen table alone cannot test a candidate secret at all. Slow hashing stays the
// right tool for passwords chosen by people, which this package does not store.

// secretHashPrefix marks the stored form: the algorithm and the version of the key derivation, so
// that a later key or algorithm can live beside this one.
const secretHashPrefix = "hmac-sha256:v1:"

// SecretKeyLabel is the message the stage's KMS HMAC key MACs to give the client-secret key
// (see shared/awsedge): the key exists only in KMS and in the memory of the functions and tools
// that derived it.
const SecretKeyLabel = "cpu/client-secret-hash/v1"

// SecretKeySize is the length of the client-secret key: HMAC-SHA256's block-sized key strength.
const SecretKeySize = 32

// SecretHasher hashes and checks client secrets with HMAC-SHA256 under the client-secret key.
type SecretHasher struct {
	key []byte
	// dummy is what an unknown client's secret is compared with, so that the answer for an
	// unknown id costs the same work as a wrong secret and timing does not tell which ids exist.
	dummy []byte
}

// NewSecretHasher makes a hasher over a 32-byte key.
func NewSecretHasher(key []byte) (*SecretHasher, error) {
	if len(key) != SecretKeySize {
		return nil, fmt.Errorf("client-secret key must be %d bytes, got %d", SecretKeySize, len(key))
	}
	h := &SecretHasher{key: append([]byte(nil), key...)}
	h.dummy = h.mac("not-a-client-secret")
	return h, nil
}

// GenerateSecretHasher makes a hasher over a fresh random key (the local stack, at every start).
func GenerateSecretHasher() (*SecretHasher, error) {
	key := make([]byte, SecretKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return NewSecretHasher(key)
}

func (h *SecretHasher) mac(secret string) []byte {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// Hash is the stored form of a secret: "hmac-sha256:v1:" + base64 of HMAC-SHA256(key, secret).
func (h *SecretHasher) Hash(secret string) string {
	return secretHashPrefix + base64.StdEncoding.EncodeToString(h.mac(secret))
}

// Check compares a presented secret with a client's stored hash in constant time. A nil client (an
// unknown id) and a stored hash of another format cost the same work and answer false.
func (h *SecretHasher) Check(c *Client, secret string) bool {
	got := h.mac(secret)
	want, ok := h.dummy, false
	if c != nil {
		if enc, found := strings.CutPrefix(c.SecretHash, secretHashPrefix); found {
			if raw, err := base64.StdEncoding.DecodeString(enc); err == nil && len(raw) == sha256.Size {
				want, ok = raw, true
			}
		}
	}
	return hmac.Equal(got, want) && ok
}

// LocalSetting is the CLIENT_SECRET_KEY setting of the local stack: "local:<base64 of the key>".
// Only the local stack, which generates a throwaway key at every start, ever calls it.
func (h *SecretHasher) LocalSetting() string {
	return "local:" + base64.StdEncoding.EncodeToString(h.key)
}

// SplitSecretKeySetting splits the CLIENT_SECRET_KEY setting: "kms:<HMAC key ARN>" in AWS,
// "local:<base64 of 32 bytes>" on the local stack.
func SplitSecretKeySetting(setting string) (kind, value string, err error) {
	kind, value, ok := strings.Cut(setting, ":")
	if !ok || value == "" || (kind != "kms" && kind != "local") {
		return "", "", errors.New("client-secret key setting must be kms:<key-arn> or local:<base64>")
	}
	return kind, value, nil
}

// SecretHasherFromLocal reads the value of a "local:" setting.
func SecretHasherFromLocal(value string) (*SecretHasher, error) {
	key, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		return nil, fmt.Errorf("client-secret key setting: %w", err)
	}
	return NewSecretHasher(key)
}
