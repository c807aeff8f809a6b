package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/secretbox"
	"github.com/portcommunity/cpu/shared/webhook"
)

// ChannelStore is what the deliverer reads and records of channels.
type ChannelStore interface {
	Channel(ctx context.Context, entity, id string) (webhook.Channel, error)
	MarkFailing(ctx context.Context, entity, id string, at time.Time) error
	ClearFailing(ctx context.Context, entity, id string) error
	DisableChannel(ctx context.Context, entity, id, reason string, at time.Time, notice notification.Notification) (bool, error)
}

// NotificationStore reads the notifications the jobs name.
type NotificationStore interface {
	StoredNotifications(ctx context.Context, receiver string, keys []string, now time.Time) (map[string]notification.Notification, error)
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

// Queue is what the deliverer does with the messages of its own queue: a channel's finished jobs
// are deleted as soon as the channel is done (so its next jobs are handed out while the batch's
// other channels are still at work), and jobs handed back are made visible again after a pause
// (none for jobs a batch did not reach; the queue's visibility timeout would hold them minutes).
type Queue interface {
	Delete(ctx context.Context, receiptHandles []string) error
	Release(ctx context.Context, receiptHandles []string, after time.Duration) error
}

// GroupBudget is how long one batch spends on one channel before it leaves the channel's further
// jobs for the next batch.
const GroupBudget = 2 * time.Second

// ErrorPause is how long a job handed back after a transient failure (the table or the retry
// queue failed) waits before it is handed out again: not at once, which would spin.
const ErrorPause = 30 * time.Second

// AttemptBudget bounds one attempt: a token fetch, the POST and, after a 401, both again, each
// request within the 15 s of webhook.Timeout.
const AttemptBudget = 30 * time.Second

// Deliverer makes the attempts of the deliveries queue.
type Deliverer struct {
	Channels      ChannelStore
	Notifications NotificationStore
	Log           AttemptLog
	Later         Later
	Queue         Queue
	Sender        *Sender
	// Pins opens the sealed pick-up PIN of a holder's Assign notification before it is sent.
	Pins   secretbox.Box
	Timing webhook.Timing
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
// the batch side by side. Each channel's finished jobs are deleted as soon as that channel is done;
// the jobs it did not reach or could not finish are reported failed and handed back, so the queue
// hands them out again (a channel's later jobs wait behind them: FIFO).
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
		mu   sync.Mutex
		resp events.SQSEventResponse
		wg   sync.WaitGroup
	)
	for _, id := range order {
		wg.Add(1)
		go func(recs []record) {
			defer wg.Done()
			back := d.finish(ctx, d.channel(ctx, recs))
			mu.Lock()
			for _, m := range back {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			}
			mu.Unlock()
		}(groups[id])
	}
	wg.Wait()
	return resp, nil
}

// groupResult is what became of one channel's jobs in a batch.
type groupResult struct {
	done     []events.SQSMessage // finished (delivered, failed, scheduled for a retry, or dropped)
	skipped  []events.SQSMessage // not reached: back at once
	failed   []events.SQSMessage // a transient failure: back after ErrorPause
	attempts []webhook.Attempt
	// paceUntil is the earliest the channel's next attempt may start.
	paceUntil time.Time
}

// finish records a channel's attempts, keeps its pace, deletes its finished jobs and hands the
// others back; it answers the messages to report failed.
func (d *Deliverer) finish(ctx context.Context, g groupResult) []events.SQSMessage {
	bg := context.WithoutCancel(ctx)
	if len(g.attempts) > 0 {
		// The log is the record, not the delivery: a log that cannot be written is reported, and
		// the deliveries it describes are not made again.
		if err := d.Log.AppendAttempts(bg, g.attempts); err != nil {
			d.Logger.ErrorContext(ctx, "delivery log not written", "attempts", len(g.attempts), "error", err.Error())
		}
	}
	// Deleting the finished jobs lets the queue hand out the channel's next ones: not before the
	// pace allows their first attempt (the log was written meanwhile).
	if wait := g.paceUntil.Sub(d.Now()); !g.paceUntil.IsZero() && wait > 0 {
		d.Sleep(ctx, wait)
	}
	if len(g.done) > 0 {
		if err := d.Queue.Delete(bg, handles(g.done)); err != nil {
			// Lambda deletes them when the batch returns, as it does every success.
			d.Logger.WarnContext(ctx, "finished jobs not deleted early", "error", err.Error())
		}
	}
	for _, back := range []struct {
		msgs  []events.SQSMessage
		after time.Duration
	}{{g.skipped, 0}, {g.failed, ErrorPause}} {
		if len(back.msgs) > 0 {
			if err := d.Queue.Release(bg, handles(back.msgs), back.after); err != nil {
				d.Logger.WarnContext(ctx, "jobs handed back wait for the visibility timeout", "error", err.Error())
			}
		}
	}
	return append(g.skipped, g.failed...)
}

func handles(ms []events.SQSMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ReceiptHandle
	}
	return out
}

// channel attempts one channel's jobs of the batch in order.
func (d *Deliverer) channel(ctx context.Context, recs []record) groupResult {
	var g groupResult
	started := d.Now()
	first := recs[0].job
	ch, err := d.Channels.Channel(ctx, first.EntityID, first.ChannelID)
	if errors.Is(err, webhook.ErrNotFound) {
		d.Logger.InfoContext(ctx, "jobs of a deleted channel dropped", "channelId", first.ChannelID, "jobs", len(recs))
		g.done = messages(recs)
		return g
	}
	if err != nil {
		d.Logger.WarnContext(ctx, "channel not read; its jobs come again", "channelId", first.ChannelID, "error", err.Error())
		g.failed = messages(recs)
		return g
	}
	// The batch's notifications of this channel in one read (they are one receiver's).
	keys := make([]string, len(recs))
	for i, r := range recs {
		keys[i] = r.job.NotificationKey
	}
	stored, err := d.Notifications.StoredNotifications(ctx, first.EntityID, keys, started)
	if err != nil {
		d.Logger.WarnContext(ctx, "notifications not read; the jobs come again", "channelId", first.ChannelID, "error", err.Error())
		g.failed = messages(recs)
		return g
	}
	interval := time.Duration(float64(time.Second) / d.RatePerSecond)
	var last time.Time
	for i, r := range recs {
		deadline, bounded := ctx.Deadline()
		if (i > 0 && d.Now().Sub(started) > GroupBudget) || (bounded && time.Until(deadline) < AttemptBudget+5*time.Second) {
			g.skipped = messages(recs[i:])
			break
		}
		j := r.job
		now := d.Now()
		base := webhook.Attempt{ChannelID: ch.ID, WebhookID: j.WebhookID, PublicReferenceID: j.PublicReferenceID, Attempt: j.Attempt, Time: now}
		n, ok := stored[j.NotificationKey]
		switch {
		case !ch.Deliverable():
			base.Outcome, base.Error = webhook.Failed, "the channel is disabled"
			g.attempts, g.done = append(g.attempts, base), append(g.done, r.msg)
			continue
		case !ok:
			base.Outcome, base.Error = webhook.Failed, "the notification is no longer stored (168 hours)"
			g.attempts, g.done = append(g.attempts, base), append(g.done, r.msg)
			continue
		case !ch.Matches(n.Type, n.Event):
			g.done = append(g.done, r.msg) // the filter changed since the job was queued, or a replay by reference
			continue
		}
		if wait := last.Add(interval).Sub(d.Now()); !last.IsZero() && wait > 0 {
			d.Sleep(ctx, wait)
		}
		last = d.Now()
		base.Time = last
		if failed, err := notification.RevealPin(ctx, d.Pins, &n); err != nil || failed {
			d.Logger.ErrorContext(ctx, "a sealed pick-up PIN did not open; the holder is told to assign again", "publicReferenceId", n.PublicReferenceID, "error", fmt.Sprint(err))
		}
		res := d.Sender.Send(ctx, &ch, j.WebhookID, []byte(n.Message))
		a, retryIn := d.judge(base, res)
		if a.Outcome == webhook.Retrying {
			next := j
			next.Attempt, next.DueAt = j.Attempt+1, last.Add(retryIn)
			if err := d.Later.Schedule(ctx, next, retryIn); err != nil {
				// The attempt was made but its retry is not held: hand the job back, which repeats
				// the attempt (at least once) rather than lose the delivery.
				d.Logger.WarnContext(ctx, "retry not scheduled; the job comes again", "channelId", ch.ID, "error", err.Error())
				g.failed = messages(recs[i:])
				break
			}
		}
		g.attempts, g.done = append(g.attempts, a), append(g.done, r.msg)
		d.health(ctx, &ch, a, res)
	}
	if !last.IsZero() {
		g.paceUntil = last.Add(interval)
	}
	return g
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
	changed, err := d.Channels.DisableChannel(ctx, ch.EntityID, ch.ID, reason, at, webhook.DisabledNotice(*ch, reason, at))
	if err != nil {
		// The next failure tries again: the channel is still active.
		d.Logger.ErrorContext(ctx, "channel not disabled", "channelId", ch.ID, "error", err.Error())
		return
	}
	ch.Enabled, ch.Status = false, webhook.StatusDisabled
	if changed {
		d.Logger.InfoContext(ctx, "channel disabled", "channelId", ch.ID, "reason", reason)
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
