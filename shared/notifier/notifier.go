// Package notifier turns the outcomes on the table's stream into notifications: one per recipient,
// kept 168 hours (contract §7).
package notifier

import (
	"context"
	"fmt"
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
		return fmt.Errorf("decode outcome: %w", err)
	}
	ns := notification.Build(o)
	if len(ns) == 0 {
		return nil
	}
	return n.Store.PutNotifications(ctx, ns)
}
