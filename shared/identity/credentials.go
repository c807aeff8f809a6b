// Package identity issues and checks credentials (contract §2): clients with slow-hashed secrets,
// subscription keys per (entity, API, environment), ingestion ids per (entity, environment), and the
// signed, expiring bearer tokens of the client-credentials grant. Storage and key custody are ports.
package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

// SecretHashCost is the bcrypt cost of client secrets: slow enough to make a stolen table useless,
// fast enough for the token endpoint (about 0.25 s on one Lambda vCPU at 1 GiB).
const SecretHashCost = 12

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

// NewClient makes a client with a random id and secret (or the given ones, for the local seed).
func NewClient(entityID, clientID, secret string, now time.Time) (Client, string, error) {
	if clientID == "" {
		clientID = randomHex(16)
	}
	if secret == "" {
		secret = randomToken(32)
	}
	if len(secret) < 16 || len(secret) > 72 {
		return Client{}, "", errors.New("client secret must be 16 to 72 characters")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(secret), SecretHashCost)
	if err != nil {
		return Client{}, "", err
	}
	return Client{ClientID: clientID, EntityID: entityID, SecretHash: string(hash), CreatedAt: now.UTC()}, secret, nil
}

// dummyHash keeps a lookup of an unknown client as slow as a wrong secret, so that timing does not
// tell which client ids exist. Made on first use: the authorizer imports this package and must not
// pay a bcrypt hash at cold start.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("not-a-real-secret-0000"), SecretHashCost)
	return h
})

// CheckSecret compares a presented secret with a client's hash; a nil client costs the same time.
func CheckSecret(c *Client, secret string) bool {
	if c == nil {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(secret))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(c.SecretHash), []byte(secret)) == nil
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
