package release

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// Acceptance is an accepted call of E1, E3 or E4: its commands, written in one item before the
// call answers 202. It is the outbox the commands are queued from (by the call itself, and by the
// relay from the table's stream when the call could not finish), and for 24 hours the answer to a
// retry with the same Idempotency-Key.
type Acceptance struct {
	// Key is the storage's key of the acceptance, set by the storage from the caller's client and
	// Idempotency-Key (or the public reference when there is none).
	Key                 string    `json:"-"`
	ClientID            string    `json:"-"`
	IdempotencyKey      string    `json:"-"`
	PublicReferenceID   string    `json:"publicReferenceId"`
	ExternalReferenceID *string   `json:"externalReferenceId"`
	Fingerprint         string    `json:"fingerprint"`
	Commands            []Command `json:"commands"`
	AcceptedAt          time.Time `json:"acceptedAt"`
}

// IdempotencyWindow is how long an Idempotency-Key answers its first answer again.
const IdempotencyWindow = 24 * time.Hour

// ErrRequestTooLarge: the commands of one call do not fit the size budget of an acceptance.
var ErrRequestTooLarge = errors.New("the commands of the call exceed the acceptance size budget")

// MaxAcceptanceBytes bounds the encoded commands of one call: with the item's other attributes it
// stays under DynamoDB's 400 KB. Only a bulk call of 100 items at every limit comes near it.
const MaxAcceptanceBytes = 300 << 10

// Fingerprint identifies what a call asks: its method, path and body as sent. The same
// Idempotency-Key with another fingerprint is another request (422). The body is taken as sent,
// not as decoded, so that a retry spanning a deployment (which may change how requests decode)
// is still the same request; a client retries with the same bytes.
func Fingerprint(method, path string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(method + "\n" + path + "\n"))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}
