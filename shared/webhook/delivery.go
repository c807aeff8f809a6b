package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts a Standard Webhooks symmetric secret.
const SecretPrefix = "whsec_"

// secretBytes is the size of a signing key: the spec asks for at least 24 bytes.
const secretBytes = 32

// NewSigningSecret makes a signing key and the secret the owner is shown once.
func NewSigningSecret() (secret string, key []byte, err error) {
	key = make([]byte, secretBytes)
	if _, err := rand.Read(key); err != nil {
		return "", nil, err
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), key, nil
}

// Sign is the webhook-signature header: "v1,<base64 HMAC-SHA256 of id.timestamp.body>" for every
// key, space separated (two during a rotation).
func Sign(keys [][]byte, id string, timestamp int64, body []byte) string {
	sigs := make([]string, 0, len(keys))
	signed := id + "." + strconv.FormatInt(timestamp, 10) + "."
	for _, k := range keys {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(signed))
		m.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	return strings.Join(sigs, " ")
}

// WebhookID is the webhook-id of a notification on a channel: stable on every retry and replay,
// different per channel, with no '.' (the spec forbids it in signed ids).
func WebhookID(channelID, receiver, notificationKey string) string {
	sum := sha256.Sum256([]byte(channelID + "\x00" + receiver + "\x00" + notificationKey))
	return "msg_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:20]))
}

// Schedule is the wait before each retry (contract §9): the first attempt is at once, then 5 s,
// 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; after the eighth attempt the delivery has Failed.
var Schedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// MaxAttempts is the first attempt and one per step of the schedule (Schedule's seven steps).
const MaxAttempts = 8

// MaxRetryAfter is the longest Retry-After honoured.
const MaxRetryAfter = time.Hour

// DisableAfter: a channel with no delivery for this long while deliveries were failing is disabled.
const DisableAfter = 72 * time.Hour

// Timeout of one attempt: a 2xx must arrive within it.
const Timeout = 15 * time.Second

// Timing scales the schedule for tests and local runs (Scale 1 in every stage): Scale 0.001 turns
// 10 h into 36 s. Jitter is a number in [0, 1) per call (random in production).
type Timing struct {
	Scale  float64
	Jitter func() float64
}

func (t Timing) scaled(d time.Duration) time.Duration {
	if t.Scale <= 0 || t.Scale == 1 {
		return d
	}
	return time.Duration(math.Round(float64(d) * t.Scale))
}

// RetryDelay is the wait before attempt next (2 … MaxAttempts) after a retryable failure: the
// schedule's step with ±10 % jitter, or the receiver's Retry-After (up to an hour) when that is
// later. ok is false when no attempt is left.
func (t Timing) RetryDelay(next int, retryAfter time.Duration) (time.Duration, bool) {
	if next < 2 || next > MaxAttempts {
		return 0, false
	}
	step := float64(Schedule[next-2])
	if t.Jitter != nil {
		step *= 0.9 + 0.2*t.Jitter()
	}
	d := t.scaled(time.Duration(step))
	if retryAfter > MaxRetryAfter {
		retryAfter = MaxRetryAfter
	}
	if ra := t.scaled(retryAfter); ra > d {
		d = ra
	}
	return d, true
}

// DisableAfter is the 72-hour rule, scaled.
func (t Timing) DisableAfter() time.Duration { return t.scaled(DisableAfter) }

// Outcome of one attempt, as the delivery log shows it.
type Outcome string

const (
	Delivered Outcome = "Delivered"
	Retrying  Outcome = "Retrying"
	Failed    Outcome = "Failed"
)

// Verdict is what an attempt's answer means for the delivery and the channel.
type Verdict struct {
	Outcome Outcome // Delivered, or Retrying when an attempt is left, else Failed
	Retry   bool    // the answer is one that is retried (timeout, connection error, 408, 429, 5xx)
	Disable bool    // 410 Gone: the receiver asks for the channel to be disabled
}

// Judge classifies an attempt: status is the HTTP status (0 when no answer came: timeout,
// connection or TLS error).
func Judge(status int) Verdict {
	switch {
	case status >= 200 && status < 300:
		return Verdict{Outcome: Delivered}
	case status == 0, status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		return Verdict{Outcome: Retrying, Retry: true}
	case status == http.StatusGone:
		return Verdict{Outcome: Failed, Disable: true}
	default: // 3xx (redirects are not followed), other 4xx
		return Verdict{Outcome: Failed}
	}
}

// RetryAfter reads a Retry-After header: delta-seconds or an HTTP date.
func RetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(min(s, int(MaxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return min(t.Sub(now), MaxRetryAfter)
	}
	return 0
}

// Job is one attempt to make: which notification goes to which channel, the how-manieth attempt,
// and not before when. Jobs travel through the delivery queues as JSON.
type Job struct {
	ChannelID         string    `json:"channelId"`
	EntityID          string    `json:"nxtEntityId"`
	NotificationKey   string    `json:"notificationKey"`
	WebhookID         string    `json:"webhookId"`
	PublicReferenceID string    `json:"publicReferenceId"`
	Attempt           int       `json:"attempt"`
	DueAt             time.Time `json:"dueAt"`
	// Run tells deliveries of one notification apart: "o" for the original, the replay's id for a
	// replay. It keeps a replay from being taken for a duplicate of the original.
	Run string `json:"run"`
}

// Original is the Run of a notification's first delivery.
const Original = "o"

// DedupID identifies an attempt for the FIFO queue's deduplication: two copies of the same attempt
// (a retried stream record, a retry sent twice) are one.
func (j Job) DedupID() string {
	return j.WebhookID + "-" + j.Run + "-" + strconv.Itoa(j.Attempt)
}

// Attempt is one line of the delivery log.
type Attempt struct {
	ChannelID         string    `json:"-"`
	WebhookID         string    `json:"webhookId"`
	PublicReferenceID string    `json:"publicReferenceId"`
	Attempt           int       `json:"attempt"`
	Time              time.Time `json:"time"`
	Status            *int      `json:"status"`
	Error             string    `json:"error,omitempty"`
	DurationMs        int64     `json:"durationMs"`
	Outcome           Outcome   `json:"outcome"`
}

// LogRetention is how long the delivery log keeps an attempt.
const LogRetention = 30 * 24 * time.Hour

// ErrNotFound is a channel that does not exist for the caller (404: another entity's channel id
// looks the same as none).
var ErrNotFound = errors.New("no such notification channel")

// DecodeSecret turns a whsec_ secret into its key bytes.
func DecodeSecret(secret string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(raw) < 24 {
		return nil, errors.New("not a whsec_ secret of at least 24 bytes")
	}
	return raw, nil
}

// StoredRef is what delivery needs of a stored notification: its receiver and key (the sort key
// under the receiver), reference, and its type, event and time when the read had them.
type StoredRef struct {
	Receiver, Key, PublicReferenceID, Type, Event string
	StoredOn                                      time.Time
}

// Replay asks for a channel's stored notifications again: those stored in [From, To), or those
// under PublicReferenceIDs. After continues a long range where the previous part stopped.
type Replay struct {
	ReplayID           string     `json:"replayId"`
	ChannelID          string     `json:"channelId"`
	EntityID           string     `json:"nxtEntityId"`
	From               *time.Time `json:"from,omitempty"`
	To                 *time.Time `json:"to,omitempty"`
	PublicReferenceIDs []string   `json:"publicReferenceIds,omitempty"`
	After              string     `json:"after,omitempty"`
}

// MaxReplayReferences bounds a replay by references.
const MaxReplayReferences = 100

// LogQuery is one page of a channel's delivery log, newest first: a time range [From, To),
// optionally one reference (a key of its own) and one outcome (applied while reading through the
// range, never after a Limit).
type LogQuery struct {
	ChannelID string
	From, To  time.Time
	Ref       string
	Outcome   string
	Before    string // the Next of the previous page
	Limit     int
	// MaxRead bounds the items one page reads: a rare outcome over 30 days of a busy channel
	// answers a short page (or an empty one) with a Next to go on from, as DynamoDB itself does.
	MaxRead int
}

// LogPage is one answer of the delivery log.
type LogPage struct {
	Items []Attempt
	Next  string
}
