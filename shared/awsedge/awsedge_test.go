package awsedge

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/portcommunity/cpu/shared/identity"
)

// fakeKMS computes the MAC as an HMAC_256 KMS key would, with a key of its own.
type fakeKMS struct {
	key  []byte
	seen *kms.GenerateMacInput
	err  error
}

func (f *fakeKMS) GenerateMac(_ context.Context, in *kms.GenerateMacInput, _ ...func(*kms.Options)) (*kms.GenerateMacOutput, error) {
	f.seen = in
	if f.err != nil {
		return nil, f.err
	}
	m := hmac.New(sha256.New, f.key)
	m.Write(in.Message)
	return &kms.GenerateMacOutput{Mac: m.Sum(nil), KeyId: in.KeyId, MacAlgorithm: in.MacAlgorithm}, nil
}

// TestDeriveSecretKey: the client-secret key is KMS's HMAC-SHA256 of the fixed label under the
// stage's key, so the token function and the support tooling derive the same key and hash alike.
func TestDeriveSecretKey(t *testing.T) {
	f := &fakeKMS{key: []byte("the stage's HMAC key, inside KMS")}
	arn := "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
	key, err := DeriveSecretKey(context.Background(), f, arn)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(f.seen.KeyId) != arn || f.seen.MacAlgorithm != types.MacAlgorithmSpecHmacSha256 || string(f.seen.Message) != "cpu/client-secret-hash/v1" {
		t.Fatalf("GenerateMac called with %+v", f.seen)
	}
	again, _ := DeriveSecretKey(context.Background(), f, arn)
	if len(key) != identity.SecretKeySize || !hmac.Equal(key, again) {
		t.Fatalf("derived key of %d bytes, stable %v", len(key), hmac.Equal(key, again))
	}
	// What the support tooling hashes, the token function verifies.
	tool, _ := identity.NewSecretHasher(key)
	fn, _ := identity.NewSecretHasher(again)
	c, secret, _ := identity.NewClient(tool, "NXT1", "", "", time.Now())
	if !fn.Check(&c, secret) {
		t.Fatal("a secret hashed by the tooling fails in the function")
	}
	f.err = errors.New("AccessDeniedException")
	if _, err := DeriveSecretKey(context.Background(), f, arn); err == nil {
		t.Fatal("a KMS failure gave a key")
	}
}
