// Package notifier is the table stream's notification consumer: it turns outcomes into
// notifications, one per recipient, kept 168 hours (contract §7), and new notifications into
// delivery jobs for the receivers' channels (contract §9, shared/delivery). One consumer for both:
// DynamoDB Streams serves at most two readers a shard without throttling, and the command relay is
// the other.
package notifier

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/store"
)

// Notifications is the notifier's storage port.
type Notifications interface {
	PutNotifications(ctx context.Context, ns []notification.Notification) error
}

// Notifier turns the outcome items of the table's stream (the event source mapping's filter lets
// only new outcomes through) into one notification per recipient.
type Notifier struct {
	Store Notifications
	Log   *slog.Logger
}

// Handle processes records in order and reports the first that failed, so the stream retries from
// it; the records before it are done, and writing them again would change nothing anyway.
func (n *Notifier) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	for _, rec := range ev.Records {
		if err := n.notify(ctx, rec); err != nil {
			n.Log.ErrorContext(ctx, "notify failed", "sequenceNumber", rec.Change.SequenceNumber, "error", err.Error())
			resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: rec.Change.SequenceNumber}}
			return resp, nil
		}
	}
	return resp, nil
}

func (n *Notifier) notify(ctx context.Context, rec events.DynamoDBEventRecord) error {
	if rec.EventName != "INSERT" {
		return nil
	}
	o, err := store.OutcomeFromStream(rec.Change.NewImage)
	if err != nil {
		// No retry can decode it: say so and go on, rather than hold the shard for a day.
		n.Log.ErrorContext(ctx, "undecodable outcome skipped", "sequenceNumber", rec.Change.SequenceNumber, "error", err.Error())
		return nil
	}
	ns := notification.Build(o)
	if len(ns) == 0 {
		return nil
	}
	return n.Store.PutNotifications(ctx, ns)
}

// Stream routes the stream's records in order: outcomes to the Notifier, notifications to the
// Dispatcher, each a run of consecutive records at a time. The first record a run reports failed
// is reported for the batch, so the stream retries from it (what came before is done, and done
// again changes nothing: notifications have deterministic keys, jobs deterministic deduplication
// ids).
type Stream struct {
	Notifier   *Notifier
	Dispatcher interface {
		Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error)
	}
}

// Handle implements the stream consumer.
func (s *Stream) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	recs := ev.Records
	for len(recs) > 0 {
		kind := itemType(recs[0])
		n := 1
		for n < len(recs) && itemType(recs[n]) == kind {
			n++
		}
		run := events.DynamoDBEvent{Records: recs[:n]}
		recs = recs[n:]
		var resp events.DynamoDBEventResponse
		var err error
		if kind == "Notification" {
			resp, err = s.Dispatcher.Handle(ctx, run)
		} else {
			resp, err = s.Notifier.Handle(ctx, run)
		}
		if err != nil || len(resp.BatchItemFailures) > 0 {
			return resp, err
		}
	}
	return events.DynamoDBEventResponse{}, nil
}

func itemType(rec events.DynamoDBEventRecord) string {
	if v, ok := rec.Change.NewImage["itemType"]; ok && v.DataType() == events.DataTypeString {
		return v.String()
	}
	return ""
}
