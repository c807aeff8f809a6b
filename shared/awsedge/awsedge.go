// Package awsedge builds the AWS clients every function shares, once per cold start, and the
// adapters that need an AWS service of their own (the KMS token signer). The same code runs in AWS
// and in the local stack: there the standard AWS_ENDPOINT_URL_<SERVICE> variables point the SDK at
// DynamoDB Local and the SQS stand-in.
package awsedge

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/portcommunity/cpu/shared/identity"
	"github.com/portcommunity/cpu/shared/store"
)

// Logger is the JSON logger of a function (with the Lambda request id when there is one).
func Logger() *slog.Logger {
	return lambdacontext.NewLogger()
}

// MustEnv reads a required setting or stops the cold start with a clear message.
func MustEnv(name string) string {
	v := os.Getenv(name)
	if v == "" {
		fmt.Fprintf(os.Stderr, "missing required environment variable %s\n", name)
		os.Exit(1)
	}
	return v
}

// EnvSeconds reads a duration in seconds, with a default.
func EnvSeconds(name string, def time.Duration) time.Duration {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return def
}

// Config loads the SDK configuration.
func Config(ctx context.Context) (aws.Config, error) {
	return config.LoadDefaultConfig(ctx)
}

// DynamoDB makes the DynamoDB client.
func DynamoDB(cfg aws.Config) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		// DynamoDB Local's error responses carry no valid CRC32; checking it only makes noise there.
		if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") != "" {
			o.DisableValidateResponseChecksum = true
		}
	})
}

// KMSSigner signs token digests with an asymmetric KMS key (ECC_NIST_P256); the private key never
// leaves KMS.
type KMSSigner struct {
	Client *kms.Client
	KeyArn string
}

// SignDigest implements identity.Signer.
func (s KMSSigner) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	out, err := s.Client.Sign(ctx, &kms.SignInput{
		KeyId:            &s.KeyArn,
		Message:          digest,
		MessageType:      types.MessageTypeDigest,
		SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256,
	})
	if err != nil {
		return nil, err
	}
	return out.Signature, nil
}

// KeyID implements identity.Signer.
func (s KMSSigner) KeyID() string { return s.KeyArn }

// TokenSigner reads the TOKEN_SIGNER setting: kms:<arn> in AWS, pem:<base64> locally.
func TokenSigner(cfg aws.Config, setting string) (identity.Signer, error) {
	kind, value, err := identity.SplitKeySetting(setting)
	if err != nil {
		return nil, err
	}
	if kind == "kms" {
		return KMSSigner{Client: kms.NewFromConfig(cfg), KeyArn: value}, nil
	}
	return identity.LocalSignerFromSetting(value)
}

// TokenVerifier reads the TOKEN_VERIFIER setting; with KMS it fetches the public key once.
func TokenVerifier(ctx context.Context, cfg aws.Config, setting, stage string) (*identity.Verifier, error) {
	kind, value, err := identity.SplitKeySetting(setting)
	if err != nil {
		return nil, err
	}
	if kind == "pem" {
		pub, err := identity.PublicKeyFromSetting(value)
		if err != nil {
			return nil, err
		}
		return identity.NewVerifier(pub, stage), nil
	}
	out, err := kms.NewFromConfig(cfg).GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: &value})
	if err != nil {
		return nil, fmt.Errorf("get token public key: %w", err)
	}
	pub, err := identity.ParsePublicKey(out.PublicKey)
	if err != nil {
		return nil, err
	}
	return identity.NewVerifier(pub, stage), nil
}

// MacGenerator is the part of the KMS client that derives the client-secret key.
type MacGenerator interface {
	GenerateMac(ctx context.Context, in *kms.GenerateMacInput, opts ...func(*kms.Options)) (*kms.GenerateMacOutput, error)
}

// DeriveSecretKey derives the client-secret key from the stage's KMS HMAC key: the MAC of a fixed
// label. The HMAC key never leaves KMS; the derived key lives only in the memory of whoever may
// call kms:GenerateMac on it (the token function, once per cold start, and support staff).
func DeriveSecretKey(ctx context.Context, mac MacGenerator, keyArn string) ([]byte, error) {
	out, err := mac.GenerateMac(ctx, &kms.GenerateMacInput{
		KeyId:        &keyArn,
		MacAlgorithm: types.MacAlgorithmSpecHmacSha256,
		Message:      []byte(identity.SecretKeyLabel),
	})
	if err != nil {
		return nil, fmt.Errorf("derive the client-secret key: %w", err)
	}
	return out.Mac, nil
}

// SecretHasher reads the CLIENT_SECRET_KEY setting: kms:<HMAC key ARN> in AWS (one GenerateMac),
// local:<base64> on the local stack.
func SecretHasher(ctx context.Context, cfg aws.Config, setting string) (*identity.SecretHasher, error) {
	kind, value, err := identity.SplitSecretKeySetting(setting)
	if err != nil {
		return nil, err
	}
	if kind == "local" {
		return identity.SecretHasherFromLocal(value)
	}
	key, err := DeriveSecretKey(ctx, kms.NewFromConfig(cfg), value)
	if err != nil {
		return nil, err
	}
	return identity.NewSecretHasher(key)
}

// Boot is every function's cold start: its JSON logger and the SDK configuration. A function that
// cannot start says why in its log and exits, which Lambda reports as an init error.
func Boot() (context.Context, *slog.Logger, aws.Config) {
	ctx := context.Background()
	log := Logger()
	cfg, err := Config(ctx)
	if err != nil {
		Fatal(log, "load AWS configuration", err)
	}
	return ctx, log, cfg
}

// Fatal logs a cold-start failure and exits.
func Fatal(log *slog.Logger, what string, err error) {
	log.Error("cold start failed", "step", what, "error", err.Error())
	os.Exit(1)
}

// Store is the single table (TABLE_NAME) through the platform's adapter.
func Store(cfg aws.Config) *store.Store {
	return store.New(DynamoDB(cfg), MustEnv("TABLE_NAME"))
}
