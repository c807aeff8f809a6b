// Package identity issues and checks credentials (contract §2): clients with keyed-hashed secrets,
// subscription keys per (entity, API, environment), ingestion ids per (entity, environment), the
// signed, expiring bearer tokens of the client-credentials grant, and the slow-down rule of failed
// client authentications. Storage and key custody are ports.
package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"github.com/google/uuid"
)

// ErrUnknown is what storage answers for a client, key or ingestion id that does not exist.
var ErrUnknown = errors.New("unknown credential")

// Client is an entity's software: its id and the hash of its secret.
type Client struct {
	ClientID    string    `json:"clientId" dynamodbav:"clientId"`
	EntityID    string    `json:"nxtEntityId" dynamodbav:"entityId"`
	SecretHash  string    `json:"-" dynamodbav:"secretHash"`
	CreatedAt   time.Time `json:"createdAt" dynamodbav:"createdAt"`
	Description string    `json:"description,omitempty" dynamodbav:"description,omitempty"`
}

// SubscriptionKey is stored by its SHA-256 only; Prefix helps support staff tell keys apart.
type SubscriptionKey struct {
	Hash        string    `json:"-" dynamodbav:"keyHash"`
	Prefix      string    `json:"prefix" dynamodbav:"prefix"`
	EntityID    string    `json:"nxtEntityId" dynamodbav:"entityId"`
	API         string    `json:"api" dynamodbav:"api"`
	Environment string    `json:"environment" dynamodbav:"environment"`
	CreatedAt   time.Time `json:"createdAt" dynamodbav:"createdAt"`
}

// IngestionID is the GUID an entity posts commercial releases to, one per environment.
type IngestionID struct {
	ID          string    `json:"ingestionId" dynamodbav:"ingestionId"`
	EntityID    string    `json:"nxtEntityId" dynamodbav:"entityId"`
	Environment string    `json:"environment" dynamodbav:"environment"`
	CreatedAt   time.Time `json:"createdAt" dynamodbav:"createdAt"`
}

// Issued is what support staff hand over once: the secret and key are never stored in clear.
type Issued struct {
	Client          Client
	ClientSecret    string
	Key             SubscriptionKey
	SubscriptionKey string
	Ingestion       IngestionID
}

// NewClient makes a client with a random id and secret (or the given ones, for the local seed), its
// secret stored as h.Hash. Generated secrets are 32 random bytes, base64url (43 characters).
func NewClient(h *SecretHasher, entityID, clientID, secret string, now time.Time) (Client, string, error) {
	if clientID == "" {
		clientID = randomHex(16)
	}
	if secret == "" {
		secret = randomToken(32)
	}
	// 16 to 72 characters, as before the keyed hash: the seed's given secrets are checked against
	// the same rule as any that support staff might type in.
	if len(secret) < 16 || len(secret) > 72 {
		return Client{}, "", errors.New("client secret must be 16 to 72 characters")
	}
	return Client{ClientID: clientID, EntityID: entityID, SecretHash: h.Hash(secret), CreatedAt: now.UTC()}, secret, nil
}

// NewSubscriptionKey makes a random key (or takes the given one, for the local seed). API Gateway
// accepts 20 to 128 characters as an API key value.
func NewSubscriptionKey(entityID, api, env, key string, now time.Time) (SubscriptionKey, string, error) {
	if key == "" {
		key = randomHex(32)
	}
	if len(key) < 20 || len(key) > 128 {
		return SubscriptionKey{}, "", errors.New("subscription key must be 20 to 128 characters")
	}
	return SubscriptionKey{Hash: HashKey(key), Prefix: key[:6], EntityID: entityID, API: api, Environment: env, CreatedAt: now.UTC()}, key, nil
}

// HashKey is how a subscription key is looked up: keys are long random strings, so a fast hash
// is enough to make the stored form useless.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// UsageIdentifier is what API Gateway knows a subscription key by: the authorizer hands it over as
// the usage identifier key and the support tooling registers it as the API key's value, so API
// Gateway (whose API keys anyone with apigateway:GET can read) never holds a subscription key in
// clear. It is a SHA-256 of the key, domain-separated from HashKey so that neither form can be
// looked up with the other; 50 characters, within API Gateway's 20 to 128.
func UsageIdentifier(rawKey string) string {
	sum := sha256.Sum256([]byte("usage-identifier:" + rawKey))
	return "cpu-usage-" + hex.EncodeToString(sum[:])[:40]
}

// ClientUsageKey is the usage-plan key that rate-limits a client calling without a subscription
// key (contract §2: per client where no key is sent). It is not a secret: only the authorizer
// hands it to the gateway.
func ClientUsageKey(clientID string) string { return "client-" + clientID + "-usage" }

// NewIngestionID makes an ingestion id (or takes the given GUID, for the local seed).
func NewIngestionID(entityID, env, id string, now time.Time) (IngestionID, error) {
	if id == "" {
		id = uuid.NewString()
	}
	parsed, err := uuid.Parse(id)
	if err != nil {
		return IngestionID{}, errors.New("ingestion id must be a GUID")
	}
	return IngestionID{ID: parsed.String(), EntityID: entityID, Environment: env, CreatedAt: now.UTC()}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
