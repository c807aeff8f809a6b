package awsedge

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/portcommunity/cpu/shared/channels"
	"github.com/portcommunity/cpu/shared/commands"
	"github.com/portcommunity/cpu/shared/delivery"
	"github.com/portcommunity/cpu/shared/egress"
	"github.com/portcommunity/cpu/shared/secretbox"
	"github.com/portcommunity/cpu/shared/webhook"
)

// KMSBox seals channel secrets with envelope encryption under a symmetric KMS key
// (secretbox.Box): each value gets a fresh data key (kms:GenerateDataKey), which seals it with
// AES-256-GCM and is stored encrypted beside it; opening decrypts the data key (kms:Decrypt). The
// channel id is the encryption context, so a sealed value opens only for its channel (and
// CloudTrail says which). KMS's own Encrypt takes at most 4 KB, which a receiver's bearer token
// may pass.
type KMSBox struct {
	Client *kms.Client
	KeyArn string
}

// Seal implements secretbox.Box: the encrypted data key's length (2 bytes), the encrypted data
// key, then the value sealed under the data key.
func (b KMSBox) Seal(ctx context.Context, plaintext []byte, owner string) ([]byte, error) {
	out, err := b.Client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId: &b.KeyArn, KeySpec: kmstypes.DataKeySpecAes256, EncryptionContext: map[string]string{"channelId": owner},
	})
	if err != nil {
		return nil, err
	}
	box, err := secretbox.NewLocal(out.Plaintext)
	clear(out.Plaintext)
	if err != nil {
		return nil, err
	}
	sealed, err := box.Seal(ctx, plaintext, owner)
	if err != nil {
		return nil, err
	}
	head := binary.BigEndian.AppendUint16(nil, uint16(len(out.CiphertextBlob)))
	return append(append(head, out.CiphertextBlob...), sealed...), nil
}

// Open implements secretbox.Box.
func (b KMSBox) Open(ctx context.Context, sealed []byte, owner string) ([]byte, error) {
	if len(sealed) < 2 || len(sealed) < 2+int(binary.BigEndian.Uint16(sealed)) {
		return nil, errors.New("not a sealed value")
	}
	n := 2 + int(binary.BigEndian.Uint16(sealed))
	out, err := b.Client.Decrypt(ctx, &kms.DecryptInput{KeyId: &b.KeyArn, CiphertextBlob: sealed[2:n], EncryptionContext: map[string]string{"channelId": owner}})
	if err != nil {
		return nil, err
	}
	box, err := secretbox.NewLocal(out.Plaintext)
	clear(out.Plaintext)
	if err != nil {
		return nil, err
	}
	return box.Open(ctx, sealed[n:], owner)
}

// SecretBox reads the CHANNEL_SECRET_KEY setting: kms:<key ARN> in AWS, local:<base64> locally.
func SecretBox(cfg aws.Config) (secretbox.Box, error) {
	kind, value, err := secretbox.SplitSetting(MustEnv("CHANNEL_SECRET_KEY"))
	if err != nil {
		return nil, err
	}
	if kind == "local" {
		return secretbox.LocalFromSetting(value)
	}
	return KMSBox{Client: kms.NewFromConfig(cfg), KeyArn: value}, nil
}

// Egress is the address policy of the CHANNEL_EGRESS setting: "public" in every stage,
// "loopback" on the local stack only (every local receiver listens on loopback).
func Egress() egress.Policy {
	return egress.Policy{AllowLoopback: os.Getenv("CHANNEL_EGRESS") == "loopback"}
}

// Sender is the webhook sender of a function: the egress client with the attempt timeout, and the
// table to share receivers' tokens through.
func Sender(box secretbox.Box, tokens delivery.TokenStore) *delivery.Sender {
	return &delivery.Sender{HTTP: Egress().Client(net.DefaultResolver, webhook.Timeout), Secrets: box, Tokens: tokens, Now: time.Now}
}

// URLCheck applies the egress policy to an address a channel is created with.
func URLCheck() webhook.URLCheck {
	p := Egress()
	return func(ctx context.Context, raw string) error {
		// A resolver that does not answer is a name that does not resolve (400), not a timeout of
		// the whole call.
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		_, err := p.CheckURL(ctx, raw, net.DefaultResolver)
		return err
	}
}

// Timing reads DELIVERY_TIMING_SCALE (1 in every stage; tests and local runs shrink the schedule).
func Timing() webhook.Timing {
	scale := 1.0
	if s, err := strconv.ParseFloat(os.Getenv("DELIVERY_TIMING_SCALE"), 64); err == nil && s > 0 {
		scale = s
	}
	return webhook.Timing{Scale: scale, Jitter: jitter}
}

// DeliveryRate reads DELIVERY_RATE_PER_SECOND (20 by the contract).
func DeliveryRate() float64 {
	if r, err := strconv.ParseFloat(os.Getenv("DELIVERY_RATE_PER_SECOND"), 64); err == nil && r > 0 {
		return r
	}
	return 20
}

// DeliveryQueue is the deliveries FIFO queue (delivery.Jobs): one message group per channel.
type DeliveryQueue struct{ FIFO FIFOQueue }

// Enqueue implements delivery.Jobs.
func (q DeliveryQueue) Enqueue(ctx context.Context, jobs ...webhook.Job) error {
	msgs := make([]commands.Message, len(jobs))
	for i, j := range jobs {
		body, err := json.Marshal(j)
		if err != nil {
			return err
		}
		msgs[i] = commands.Message{Body: body, Group: j.ChannelID, Dedup: j.DedupID()}
	}
	return q.FIFO.SendPacked(ctx, msgs...)
}

// Delete implements delivery.Queue.
func (q DeliveryQueue) Delete(ctx context.Context, handles []string) error {
	return inTens(handles, "deleted", func(part []string) ([]types.BatchResultErrorEntry, error) {
		entries := make([]types.DeleteMessageBatchRequestEntry, len(part))
		for i, h := range part {
			entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h)}
		}
		out, err := q.FIFO.Client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q.FIFO.URL), Entries: entries})
		if err != nil {
			return nil, err
		}
		return out.Failed, nil
	})
}

// Release implements delivery.Queue: the messages are visible again after the pause. They are
// released last first: the SQS stand-in puts a message released at once at the head of its group
// (SQS keeps a group's order whatever the order of the calls).
func (q DeliveryQueue) Release(ctx context.Context, handles []string, after time.Duration) error {
	handles = slices.Clone(handles)
	slices.Reverse(handles)
	return inTens(handles, "made visible", func(part []string) ([]types.BatchResultErrorEntry, error) {
		entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, len(part))
		for i, h := range part {
			entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h), VisibilityTimeout: int32(after.Seconds())}
		}
		out, err := q.FIFO.Client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(q.FIFO.URL), Entries: entries})
		if err != nil {
			return nil, err
		}
		return out.Failed, nil
	})
}

// inTens calls batch on ten receipt handles at a time (SQS's batch size) and reports the first
// batch with entries SQS refused.
func inTens(handles []string, what string, batch func([]string) ([]types.BatchResultErrorEntry, error)) error {
	for part := range slices.Chunk(handles, 10) {
		failed, err := batch(part)
		if err != nil {
			return err
		}
		if len(failed) > 0 {
			return fmt.Errorf("%d of %d not %s: %s", len(failed), len(part), what, aws.ToString(failed[0].Message))
		}
	}
	return nil
}

// RetryQueue is the standard queue that holds a retry until its time (delivery.Later): SQS delays
// a message at most 15 minutes, so the retrier sends longer waits round again.
type RetryQueue struct {
	Client *sqs.Client
	URL    string
}

// Schedule implements delivery.Later.
func (q RetryQueue) Schedule(ctx context.Context, j webhook.Job, delay time.Duration) error {
	body, err := json.Marshal(j)
	if err != nil {
		return err
	}
	secs := int32(math.Ceil(min(delay, 15*time.Minute).Seconds()))
	_, err = q.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.URL), MessageBody: aws.String(string(body)), DelaySeconds: max(secs, 0)})
	return err
}

// ReplayQueue carries replay requests (delivery.Replays).
type ReplayQueue struct {
	Client *sqs.Client
	URL    string
}

// Request implements delivery.Replays.
func (q ReplayQueue) Request(ctx context.Context, r webhook.Replay) error {
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if len(body) > 200_000 {
		return fmt.Errorf("replay message of %d bytes", len(body))
	}
	_, err = q.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.URL), MessageBody: aws.String(string(body))})
	return err
}

// jitter spreads retries of many deliveries that failed together (math/rand/v2: not a secret).
func jitter() float64 { return rand.Float64() }

// ChannelAPI is the cold start of a channel endpoint: what it needs of the table, the secret box,
// the egress policy and the replay queue comes from its environment (a setting it lacks is a
// dependency it does not have).
func ChannelAPI() (*channels.API, *slog.Logger) {
	api, log, _ := ChannelAPIAndConfig()
	return api, log
}

// ChannelAPIAndConfig is ChannelAPI with the AWS configuration, for functions that need more.
func ChannelAPIAndConfig() (*channels.API, *slog.Logger, aws.Config) {
	_, log, cfg := Boot()
	st := Store(cfg)
	api := &channels.API{Store: st, CheckURL: URLCheck(), Now: time.Now}
	if os.Getenv("CHANNEL_SECRET_KEY") != "" {
		box, err := SecretBox(cfg)
		if err != nil {
			Fatal(log, "channel secret key", err)
		}
		api.Secrets, api.Sender = box, Sender(box, st)
	}
	if url := os.Getenv("REPLAY_QUEUE_URL"); url != "" {
		api.Replays = ReplayQueue{Client: SQS(cfg), URL: url}
	}
	return api, log, cfg
}
