package delivery

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/webhook"
)

// ReplaySource reads the notifications a replay names (key conditions on the receiver).
type ReplaySource interface {
	NotificationRefsBetween(ctx context.Context, receiver string, from, to time.Time, after string, limit int) ([]webhook.StoredRef, string, error)
	NotificationRefsUnder(ctx context.Context, receiver, ref string) ([]webhook.StoredRef, error)
}

// Replays is the replay queue: the API puts a replay on it before answering 202, and the replayer
// puts the rest of a long range back on it.
type Replays interface {
	Request(ctx context.Context, r webhook.Replay) error
}

// ReplayChunk is how many notifications one step of a replay queues: a week of a busy entity is
// many steps, each well inside the function's timeout.
const ReplayChunk = 500

// Replayer turns replays into jobs: a first attempt of each notification, with the replay's id as
// its run (the webhook-id stays the notification's own).
type Replayer struct {
	Source   ReplaySource
	Channels ChannelStore
	Jobs     Jobs
	Replays  Replays
	Now      func() time.Time
	Logger   *slog.Logger
}

// Handle queues one step of each replay and the rest of it as a new message; a step that fails
// comes again (its jobs, queued twice, are dropped by the queue's deduplication).
func (r *Replayer) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		var rp webhook.Replay
		if err := json.Unmarshal([]byte(m.Body), &rp); err != nil || rp.ChannelID == "" || rp.EntityID == "" {
			r.Logger.ErrorContext(ctx, "undecodable replay dropped", "messageId", m.MessageId)
			continue
		}
		if err := r.step(ctx, rp); err != nil {
			r.Logger.WarnContext(ctx, "replay step failed; it comes again", "replayId", rp.ReplayID, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}

func (r *Replayer) step(ctx context.Context, rp webhook.Replay) error {
	ch, err := r.Channels.Channel(ctx, rp.EntityID, rp.ChannelID)
	if err != nil {
		if err == webhook.ErrNotFound {
			return nil // deleted since: nothing to replay to
		}
		return err
	}
	var refs []webhook.StoredRef
	next := ""
	if len(rp.PublicReferenceIDs) > 0 {
		for _, ref := range rp.PublicReferenceIDs {
			got, err := r.Source.NotificationRefsUnder(ctx, rp.EntityID, ref)
			if err != nil {
				return err
			}
			refs = append(refs, got...)
		}
	} else {
		// The 168 hours move on while a replay runs: what has aged out since is not replayed.
		from := *rp.From
		if oldest := r.Now().Add(-notification.Retention); from.Before(oldest) {
			from = oldest
		}
		if refs, next, err = r.Source.NotificationRefsBetween(ctx, rp.EntityID, from, *rp.To, rp.After, ReplayChunk); err != nil {
			return err
		}
	}
	jobs := make([]webhook.Job, 0, len(refs))
	for _, n := range refs {
		if n.Type != "" && !ch.Matches(n.Type, n.Event) {
			continue
		}
		jobs = append(jobs, webhook.Job{
			ChannelID: ch.ID, EntityID: rp.EntityID, NotificationKey: n.Key, PublicReferenceID: n.PublicReferenceID,
			WebhookID: webhook.WebhookID(ch.ID, rp.EntityID, n.Key), Attempt: 1, DueAt: r.Now().UTC(), Run: rp.ReplayID,
		})
	}
	if len(jobs) > 0 {
		if err := r.Jobs.Enqueue(ctx, jobs...); err != nil {
			return err
		}
	}
	if next != "" {
		rest := rp
		rest.After = next
		return r.Replays.Request(ctx, rest)
	}
	return nil
}
