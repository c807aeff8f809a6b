package commands

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
)

// Relay is the other half of the outbox: the table's stream hands it every acceptance not marked
// queued (catalog.AcceptanceFilter). Usually the call queued its commands and marked them before
// the record arrives, and the relay has nothing to do; when the call could not (SQS failed midway,
// or the function died after the write), the relay queues them, in order, and marks them. A record
// it cannot relay is retried until it can: an accepted call is never dropped.
type Relay struct {
	Store Acceptances
	Queue Queue
	Log   *slog.Logger
}

// Handle relays the records in order and reports the first that failed, so the stream retries from
// it (the ones before are queued, and queueing them again would change nothing).
func (rl *Relay) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	for _, rec := range ev.Records {
		if err := rl.relay(ctx, rec.Change.Keys["pk"].String()); err != nil {
			rl.Log.ErrorContext(ctx, "relay failed; the stream will retry", "sequenceNumber", rec.Change.SequenceNumber, "error", err.Error())
			resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: rec.Change.SequenceNumber}}
			return resp, nil
		}
	}
	return resp, nil
}

func (rl *Relay) relay(ctx context.Context, key string) error {
	a, found, err := rl.Store.Acceptance(ctx, key)
	switch {
	case err != nil:
		return err
	case !found:
		// Its 24 hours passed before the relay got to it (the stream keeps records 24 hours too):
		// the relay was stuck that long, which its iterator-age alarm reports. Say which call.
		rl.Log.ErrorContext(ctx, "an accepted call expired before its commands were known to be queued", "key", key)
		return nil
	case a.Queued:
		return nil // queued by its call
	}
	if err := Enqueue(ctx, rl.Queue, a.Commands...); err != nil {
		return err
	}
	rl.Log.InfoContext(ctx, "relayed the commands of an accepted call", "publicReferenceId", a.PublicReferenceID, "commands", len(a.Commands))
	return rl.Store.MarkQueued(ctx, a)
}
