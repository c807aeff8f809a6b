package commands

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portcommunity/cpu/shared/release"
)

// Relay is the other half of the outbox: the table's stream hands it every acceptance as it was
// written (catalog.AcceptanceFilter), commands included. Usually the call has queued its commands
// and marked them queued before the record arrives, and the relay has nothing to do; when the call
// could not (SQS failed midway, or the function died after the write), the relay queues them, in
// order, and marks them. It works from the record, not from the table, so that an acceptance
// rewritten later under the same Idempotency-Key (after its 24 hours) cannot hide the earlier
// call's commands. A record it cannot relay is retried until it can: an accepted call is never
// dropped (the relay's iterator-age alarm tells when one is stuck).
type Relay struct {
	Store Acceptances
	Queue Queue
	// FromStream reads an acceptance from a stream record's new image (shared/store).
	FromStream func(image map[string]events.DynamoDBAttributeValue) (release.Acceptance, error)
	Now        func() time.Time
	Log        *slog.Logger
}

// Handle relays the records in order and reports the first that failed, so the stream retries from
// it (the ones before are queued, and queueing them again would change nothing).
func (rl *Relay) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	for _, rec := range ev.Records {
		if err := rl.relay(ctx, rec); err != nil {
			rl.Log.ErrorContext(ctx, "relay failed; the stream will retry", "sequenceNumber", rec.Change.SequenceNumber, "error", err.Error())
			resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: rec.Change.SequenceNumber}}
			return resp, nil
		}
	}
	return resp, nil
}

func (rl *Relay) relay(ctx context.Context, rec events.DynamoDBEventRecord) error {
	a, err := rl.FromStream(rec.Change.NewImage)
	if err != nil {
		return err
	}
	queued, err := rl.Store.Queued(ctx, a)
	if err != nil || queued {
		return err // queued by its call: nothing to do
	}
	if age := rl.Now().Sub(a.AcceptedAt); age > release.IdempotencyWindow/2 {
		rl.Log.WarnContext(ctx, "relaying a call accepted long ago: the relay was stuck", "publicReferenceId", a.PublicReferenceID, "age", age.String())
	}
	if err := Enqueue(ctx, rl.Queue, a.Commands...); err != nil {
		return err
	}
	rl.Log.InfoContext(ctx, "relayed the commands of an accepted call", "publicReferenceId", a.PublicReferenceID, "commands", len(a.Commands))
	return rl.Store.MarkQueued(ctx, a)
}
