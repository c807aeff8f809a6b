package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/webhook"
)

// ChannelStore is what the deliverer reads and records of channels.
type ChannelStore interface {
	Channel(ctx context.Context, entity, id string) (webhook.Channel, error)
	MarkFailing(ctx context.Context, entity, id string, at time.Time) error
	ClearFailing(ctx context.Context, entity, id string) error
	DisableChannel(ctx context.Context, entity, id, reason string, at time.Time) (bool, error)
}

// NotificationStore reads the notification a job names and stores the ChannelDisabled notice.
type NotificationStore interface {
	StoredNotifications(ctx context.Context, receiver string, keys []string, now time.Time) (map[string]notification.Notification, error)
	PutNotifications(ctx context.Context, ns []notification.Notification) error
}

// AttemptLog is the delivery log.
type AttemptLog interface {
	AppendAttempts(ctx context.Context, as []webhook.Attempt) error
}

// Jobs is the deliveries queue (FIFO, one message group per channel): a channel's jobs are
// attempted one after another, in the order they were queued.
type Jobs interface {
	Enqueue(ctx context.Context, jobs ...webhook.Job) error
}

// Later holds a job until its time (the retry queue).
type Later interface {
	Schedule(ctx context.Context, job webhook.Job, delay time.Duration) error
}

// Returner makes messages of the deliveries queue visible again at once, for the jobs a batch did
// not reach (the queue's visibility timeout would hold them minutes).
type Returner interface {
	Return(ctx context.Context, receiptHandles []string) error
}

// GroupBudget is how long one batch spends on one channel before it leaves the channel's further
// jobs for the next batch: a slow receiver holds its own batch for at most this and one attempt,
// and the other channels of the batch are not kept waiting behind it.
const GroupBudget = 2 * time.Second

// Deliverer makes the attempts of the deliveries queue.
type Deliverer struct {
	Channels      ChannelStore
	Notifications NotificationStore
	Log           AttemptLog
	Later         Later
	Returner      Returner
	Sender        *Sender
	Timing        webhook.Timing
	// RatePerSecond caps the attempts to one channel (20 in every stage).
	RatePerSecond float64
	Now           func() time.Time
	Logger        *slog.Logger
	// Sleep waits (time.Sleep with the context; tests may count).
	Sleep func(ctx context.Context, d time.Duration)
}

type record struct {
	msg events.SQSMessage
	job webhook.Job
}

// Handle attempts a batch: the jobs of each channel one after another, paced, and the channels of
// the batch side by side. It reports as failed the jobs it did not reach or could not finish, so
// the queue hands them out again (a channel's later jobs wait behind them: FIFO).
func (d *Deliverer) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	groups := map[string][]record{}
	var order []string
	for _, m := range ev.Records {
		var j webhook.Job
		if err := json.Unmarshal([]byte(m.Body), &j); err != nil || j.ChannelID == "" || j.EntityID == "" || j.Attempt < 1 {
			// Nothing can ever deliver it: say so and let it go.
			d.Logger.ErrorContext(ctx, "undecodable delivery job dropped", "messageId", m.MessageId)
			continue
		}
		if _, ok := groups[j.ChannelID]; !ok {
			order = append(order, j.ChannelID)
		}
		groups[j.ChannelID] = append(groups[j.ChannelID], record{msg: m, job: j})
	}
	var (
		mu       sync.Mutex
		failed   []events.SQSMessage
		attempts []webhook.Attempt
		paced    time.Time // when the last channel of the batch may have its next attempt
		wg       sync.WaitGroup
	)
	for _, id := range order {
		wg.Add(1)
		go func(recs []record) {
			defer wg.Done()
			f, a, next := d.channel(ctx, recs)
			mu.Lock()
			failed, attempts = append(failed, f...), append(attempts, a...)
			if next.After(paced) {
				paced = next
			}
			mu.Unlock()
		}(groups[id])
	}
	wg.Wait()
	if len(attempts) > 0 {
		// The log is the record, not the delivery: a log that cannot be written is reported, and
		// the deliveries it describes are not made again.
		if err := d.Log.AppendAttempts(context.WithoutCancel(ctx), attempts); err != nil {
			d.Logger.ErrorContext(ctx, "delivery log not written", "attempts", len(attempts), "error", err.Error())
		}
	}
	var resp events.SQSEventResponse
	var handles []string
	for _, m := range failed {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		handles = append(handles, m.ReceiptHandle)
	}
	if len(handles) > 0 && d.Returner != nil {
		if err := d.Returner.Return(context.WithoutCancel(ctx), handles); err != nil {
			d.Logger.WarnContext(ctx, "jobs left for the next batch wait for the visibility timeout", "error", err.Error())
		}
	}
	// A channel's next batch may start as soon as this one returns: keep the pace across batches
	// (the log was written meanwhile).
	if wait := paced.Sub(d.Now()); !paced.IsZero() && wait > 0 {
		d.Sleep(ctx, wait)
	}
	return resp, nil
}

// channel attempts one channel's jobs of the batch in order and answers the messages to hand out
// again, the attempts made, and the earliest time the channel's next attempt may start.
func (d *Deliverer) channel(ctx context.Context, recs []record) ([]events.SQSMessage, []webhook.Attempt, time.Time) {
	started := d.Now()
	first := recs[0].job
	ch, err := d.Channels.Channel(ctx, first.EntityID, first.ChannelID)
	if errors.Is(err, webhook.ErrNotFound) {
		d.Logger.InfoContext(ctx, "jobs of a deleted channel dropped", "channelId", first.ChannelID, "jobs", len(recs))
		return nil, nil, time.Time{}
	}
	if err != nil {
		d.Logger.WarnContext(ctx, "channel not read; its jobs come again", "channelId", first.ChannelID, "error", err.Error())
		return messages(recs), nil, time.Time{}
	}
	// The batch's notifications of this channel in one read (they are one receiver's).
	keys := make([]string, len(recs))
	for i, r := range recs {
		keys[i] = r.job.NotificationKey
	}
	stored, err := d.Notifications.StoredNotifications(ctx, first.EntityID, keys, started)
	if err != nil {
		d.Logger.WarnContext(ctx, "notifications not read; the jobs come again", "channelId", first.ChannelID, "error", err.Error())
		return messages(recs), nil, time.Time{}
	}
	interval := time.Duration(float64(time.Second) / d.RatePerSecond)
	var attempts []webhook.Attempt
	var last time.Time
	paceUntil := func() time.Time {
		if last.IsZero() {
			return last
		}
		return last.Add(interval)
	}
	for i, r := range recs {
		if i > 0 && d.Now().Sub(started) > GroupBudget {
			return messages(recs[i:]), attempts, paceUntil()
		}
		j := r.job
		now := d.Now()
		base := webhook.Attempt{ChannelID: ch.ID, WebhookID: j.WebhookID, PublicReferenceID: j.PublicReferenceID, Attempt: j.Attempt, Time: now}
		if !ch.Deliverable() {
			base.Outcome, base.Error = webhook.Failed, "the channel is disabled"
			attempts = append(attempts, base)
			continue
		}
		n, ok := stored[j.NotificationKey]
		if !ok {
			base.Outcome, base.Error = webhook.Failed, "the notification is no longer stored (168 hours)"
			attempts = append(attempts, base)
			continue
		}
		if !ch.Matches(n.Type, n.Event) {
			continue // the filter changed since the job was queued, or a replay by reference
		}
		if wait := last.Add(interval).Sub(d.Now()); !last.IsZero() && wait > 0 {
			d.Sleep(ctx, wait)
		}
		last = d.Now()
		base.Time = last
		res := d.Sender.Send(ctx, &ch, j.WebhookID, []byte(n.Message))
		a, retryIn := d.judge(base, res)
		if a.Outcome == webhook.Retrying {
			next := j
			next.Attempt, next.DueAt = j.Attempt+1, last.Add(retryIn)
			if err := d.Later.Schedule(ctx, next, retryIn); err != nil {
				// The attempt was made but its retry is not held: hand the job out again, which
				// repeats the attempt (at least once) rather than losing the delivery.
				d.Logger.WarnContext(ctx, "retry not scheduled; the job comes again", "channelId", ch.ID, "error", err.Error())
				return messages(recs[i:]), attempts, paceUntil()
			}
		}
		attempts = append(attempts, a)
		d.health(ctx, &ch, a, res)
	}
	return nil, attempts, paceUntil()
}

// judge turns an attempt's result into its log line and, when it is retried (Retrying), the wait
// before the next attempt.
func (d *Deliverer) judge(a webhook.Attempt, res Result) (webhook.Attempt, time.Duration) {
	if res.Status != 0 {
		status := res.Status
		a.Status = &status
	}
	a.Error, a.DurationMs = res.Err, res.Duration.Milliseconds()
	v := webhook.Judge(res.Status)
	a.Outcome = v.Outcome
	if !v.Retry {
		return a, 0
	}
	delay, ok := d.Timing.RetryDelay(a.Attempt+1, res.RetryAfter)
	if !ok {
		a.Outcome = webhook.Failed
		return a, 0
	}
	return a, delay
}

// health keeps the channel's failure streak and disables it on a 410 or after 72 hours of failures.
func (d *Deliverer) health(ctx context.Context, ch *webhook.Channel, a webhook.Attempt, res Result) {
	now := a.Time
	switch {
	case a.Outcome == webhook.Delivered:
		if ch.FailingSince != nil {
			if err := d.Channels.ClearFailing(ctx, ch.EntityID, ch.ID); err != nil {
				d.Logger.WarnContext(ctx, "failure streak not cleared", "channelId", ch.ID, "error", err.Error())
			}
			ch.FailingSince = nil
		}
	case webhook.Judge(res.Status).Disable:
		d.disable(ctx, ch, "the receiver answered 410 Gone", now)
	case ch.FailingSince == nil:
		if err := d.Channels.MarkFailing(ctx, ch.EntityID, ch.ID, now); err != nil {
			d.Logger.WarnContext(ctx, "failure streak not recorded", "channelId", ch.ID, "error", err.Error())
		}
		ch.FailingSince = &now
	case now.Sub(*ch.FailingSince) >= d.Timing.DisableAfter():
		d.disable(ctx, ch, "no successful delivery for 72 hours while deliveries were failing", now)
	}
}

func (d *Deliverer) disable(ctx context.Context, ch *webhook.Channel, reason string, at time.Time) {
	changed, err := d.Channels.DisableChannel(ctx, ch.EntityID, ch.ID, reason, at)
	if err != nil {
		d.Logger.ErrorContext(ctx, "channel not disabled", "channelId", ch.ID, "error", err.Error())
		return
	}
	ch.Enabled, ch.Status = false, webhook.StatusDisabled
	if !changed {
		return // another delivery disabled it first and sent the notice
	}
	d.Logger.InfoContext(ctx, "channel disabled", "channelId", ch.ID, "reason", reason)
	if err := d.Notifications.PutNotifications(ctx, []notification.Notification{webhook.DisabledNotice(*ch, reason, at)}); err != nil {
		d.Logger.ErrorContext(ctx, "ChannelDisabled notification not stored", "channelId", ch.ID, "error", err.Error())
	}
}

func messages(recs []record) []events.SQSMessage {
	out := make([]events.SQSMessage, len(recs))
	for i, r := range recs {
		out[i] = r.msg
	}
	return out
}

// SleepContext waits d or until ctx ends.
func SleepContext(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
