package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// LocalSigner holds an ECDSA P-256 key in memory. Only the local stack uses it: it generates a
// fresh key at every start and hands it to the token function through its environment. In AWS the
// key lives in KMS (see shared/awsedge) and this type is never built.
type LocalSigner struct {
	key *ecdsa.PrivateKey
	kid string
}

// GenerateLocalSigner makes a fresh key.
func GenerateLocalSigner() (*LocalSigner, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return newLocalSigner(k)
}

func newLocalSigner(k *ecdsa.PrivateKey) (*LocalSigner, error) {
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return &LocalSigner{key: k, kid: "local-" + hex.EncodeToString(sum[:6])}, nil
}

// SignDigest signs like KMS does: ASN.1 DER.
func (s *LocalSigner) SignDigest(_ context.Context, digest []byte) ([]byte, error) {
	return ecdsa.SignASN1(rand.Reader, s.key, digest)
}

// KeyID names the key in the token header.
func (s *LocalSigner) KeyID() string { return s.kid }

// Public is the verification key.
func (s *LocalSigner) Public() *ecdsa.PublicKey { return &s.key.PublicKey }

// EnvSigner is the signer setting for the token function: "pem:<base64 PKCS#8>" (local only).
func (s *LocalSigner) EnvSigner() string {
	der, _ := x509.MarshalPKCS8PrivateKey(s.key)
	return "pem:" + base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// EnvVerifier is the verifier setting for the authorizer: "pem:<base64 PKIX public key>".
func (s *LocalSigner) EnvVerifier() string {
	return "pem:" + base64.StdEncoding.EncodeToString(EncodePublicKey(s.Public()))
}

// EncodePublicKey as PEM.
func EncodePublicKey(pub *ecdsa.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// ParsePublicKey reads a PEM or DER PKIX P-256 public key (KMS GetPublicKey returns DER).
func ParsePublicKey(data []byte) (*ecdsa.PublicKey, error) {
	if block, _ := pem.Decode(data); block != nil {
		data = block.Bytes
	}
	k, err := x509.ParsePKIXPublicKey(data)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, errors.New("token key must be ECDSA P-256")
	}
	return pub, nil
}

// SplitKeySetting splits "kms:<arn>" or "pem:<base64>" settings.
func SplitKeySetting(setting string) (kind, value string, err error) {
	kind, value, ok := strings.Cut(setting, ":")
	if !ok || value == "" || (kind != "kms" && kind != "pem") {
		return "", "", fmt.Errorf("token key setting must be kms:<key-arn> or pem:<base64>")
	}
	return kind, value, nil
}

// LocalSignerFromSetting reads a "pem:" signer setting.
func LocalSignerFromSetting(value string) (*LocalSigner, error) {
	raw, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, errors.New("signer setting is not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("signer key must be ECDSA P-256")
	}
	return newLocalSigner(ek)
}

// PublicKeyFromSetting reads a "pem:" verifier setting.
func PublicKeyFromSetting(value string) (*ecdsa.PublicKey, error) {
	raw, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		return nil, err
	}
	return ParsePublicKey(raw)
}
