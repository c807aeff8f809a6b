package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portcommunity/cpu/shared/webhook"
)

// ChannelLister reads an entity's channels.
type ChannelLister interface {
	Channels(ctx context.Context, entity string) ([]webhook.Channel, error)
}

// Dispatcher turns the notifications the table's stream reports as new into one job per enabled
// channel of the receiver whose filter matches (the stream filter lets only new notifications
// through). A notification stored before a channel existed is not delivered to it (replay does).
type Dispatcher struct {
	Channels ChannelLister
	Jobs     Jobs
	Decode   func(image map[string]events.DynamoDBAttributeValue) (webhook.StoredRef, error)
	Now      func() time.Time
	Logger   *slog.Logger
}

// Handle queues the jobs of each record in order and reports the first record it could not
// queue, so the stream retries from it (the jobs of the records before it are queued; sent again
// they are dropped by the queue's deduplication).
func (d *Dispatcher) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	channels := map[string][]webhook.Channel{}
	for _, rec := range ev.Records {
		if err := d.dispatch(ctx, rec, channels); err != nil {
			d.Logger.ErrorContext(ctx, "dispatch failed", "sequenceNumber", rec.Change.SequenceNumber, "error", err.Error())
			resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: rec.Change.SequenceNumber}}
			return resp, nil
		}
	}
	return resp, nil
}

func (d *Dispatcher) dispatch(ctx context.Context, rec events.DynamoDBEventRecord, cache map[string][]webhook.Channel) error {
	if rec.EventName != "INSERT" {
		return nil
	}
	n, err := d.Decode(rec.Change.NewImage)
	if err != nil {
		return fmt.Errorf("decode notification: %w", err)
	}
	chs, ok := cache[n.Receiver]
	if !ok {
		// Read per batch, not cached longer: a channel created a moment ago gets what is stored
		// after it.
		if chs, err = d.Channels.Channels(ctx, n.Receiver); err != nil {
			return err
		}
		cache[n.Receiver] = chs
	}
	var jobs []webhook.Job
	for _, ch := range chs {
		if !ch.Deliverable() || !ch.Matches(n.Type, n.Event) || n.StoredOn.Before(ch.CreatedOn) {
			continue
		}
		jobs = append(jobs, webhook.Job{
			ChannelID: ch.ID, EntityID: n.Receiver, NotificationKey: n.Key, PublicReferenceID: n.PublicReferenceID,
			WebhookID: webhook.WebhookID(ch.ID, n.Receiver, n.Key), Attempt: 1, DueAt: d.Now().UTC(), Run: webhook.Original,
		})
	}
	if len(jobs) == 0 {
		return nil
	}
	return d.Jobs.Enqueue(ctx, jobs...)
}

// Retrier holds a retried job until its time and then queues it behind its channel's other jobs.
// SQS delays a message at most 15 minutes, so a longer wait is several hops through the retry
// queue; the job rides in the message, so a restart of any function loses none.
type Retrier struct {
	Jobs   Jobs
	Later  Later
	Now    func() time.Time
	Logger *slog.Logger
}

// Handle moves each due job to the deliveries queue and sends each other one round again. SQS
// delays in whole seconds, rounded up, so an attempt is never early and at most a second late.
func (r *Retrier) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		var j webhook.Job
		if err := json.Unmarshal([]byte(m.Body), &j); err != nil || j.ChannelID == "" {
			r.Logger.ErrorContext(ctx, "undecodable retry dropped", "messageId", m.MessageId)
			continue
		}
		var err error
		if wait := j.DueAt.Sub(r.Now()); wait > 0 {
			err = r.Later.Schedule(ctx, j, wait)
		} else {
			err = r.Jobs.Enqueue(ctx, j)
		}
		if err != nil {
			r.Logger.WarnContext(ctx, "retry not moved; it comes again", "messageId", m.MessageId, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}
