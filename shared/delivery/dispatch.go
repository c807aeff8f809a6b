package delivery

import (
	"context"
	"encoding/json"
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

// Handle queues the jobs of the batch's records in order, ten to a call. When that fails it reports
// the first record, so the stream retries the whole batch; the jobs queued meanwhile are dropped
// the second time by the queue's deduplication (same webhook id, run and attempt).
func (d *Dispatcher) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	channels := map[string][]webhook.Channel{}
	var jobs []webhook.Job
	for i, rec := range ev.Records {
		js, err := d.jobs(ctx, rec, channels)
		if err != nil {
			d.Logger.ErrorContext(ctx, "dispatch failed", "sequenceNumber", rec.Change.SequenceNumber, "error", err.Error())
			// The records before this one are queued below; the stream retries from this one.
			resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: rec.Change.SequenceNumber}}
			ev.Records = ev.Records[:i]
			break
		}
		jobs = append(jobs, js...)
	}
	if len(jobs) > 0 {
		if err := d.Jobs.Enqueue(ctx, jobs...); err != nil {
			d.Logger.ErrorContext(ctx, "jobs not queued; the batch comes again", "jobs", len(jobs), "error", err.Error())
			return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: ev.Records[0].Change.SequenceNumber}}}, nil
		}
	}
	return resp, nil
}

func (d *Dispatcher) jobs(ctx context.Context, rec events.DynamoDBEventRecord, cache map[string][]webhook.Channel) ([]webhook.Job, error) {
	if rec.EventName != "INSERT" {
		return nil, nil
	}
	n, err := d.Decode(rec.Change.NewImage)
	if err != nil {
		// No retry can decode it: say so and go on, rather than hold the shard for a day.
		d.Logger.ErrorContext(ctx, "undecodable notification skipped", "sequenceNumber", rec.Change.SequenceNumber, "error", err.Error())
		return nil, nil
	}
	chs, ok := cache[n.Receiver]
	if !ok {
		// Read per batch, not cached longer: a channel created a moment ago gets what is stored
		// after it.
		if chs, err = d.Channels.Channels(ctx, n.Receiver); err != nil {
			return nil, err
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
	return jobs, nil
}

// Retrier holds a retried job until its time and then queues it behind its channel's other jobs.
// SQS delays a message at most 15 minutes, so a longer wait is several hops through the retry
// queue. A delayed message is not in flight (a standard queue holds at most about 120,000 in
// flight, which waits of hours held by visibility would fill). The job rides in the message, so a
// restart of any function loses none.
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
	var due []webhook.Job
	var dueIDs []string
	for _, m := range ev.Records {
		var j webhook.Job
		if err := json.Unmarshal([]byte(m.Body), &j); err != nil || j.ChannelID == "" {
			r.Logger.ErrorContext(ctx, "undecodable retry dropped", "messageId", m.MessageId)
			continue
		}
		if wait := j.DueAt.Sub(r.Now()); wait > 0 {
			if err := r.Later.Schedule(ctx, j, wait); err != nil {
				r.Logger.WarnContext(ctx, "retry not held; it comes again", "messageId", m.MessageId, "error", err.Error())
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			}
			continue
		}
		due, dueIDs = append(due, j), append(dueIDs, m.MessageId)
	}
	// The due ones in one go (a failed send leaves them all to come again: queued twice, an
	// attempt is dropped by the deliveries queue's deduplication).
	if len(due) > 0 {
		if err := r.Jobs.Enqueue(ctx, due...); err != nil {
			r.Logger.WarnContext(ctx, "retries not queued; they come again", "jobs", len(due), "error", err.Error())
			for _, id := range dueIDs {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
			}
		}
	}
	return resp, nil
}
