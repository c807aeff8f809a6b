package delivery

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portcommunity/cpu/shared/webhook"
)

type jobsFake struct {
	jobs []webhook.Job
	err  error
}

func (f *jobsFake) Enqueue(_ context.Context, js ...webhook.Job) error {
	if f.err != nil {
		return f.err
	}
	f.jobs = append(f.jobs, js...)
	return nil
}

type listerFake map[string][]webhook.Channel

func (f listerFake) Channels(_ context.Context, entity string) ([]webhook.Channel, error) {
	return f[entity], nil
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func streamRecord(i int, ref webhook.StoredRef) events.DynamoDBEventRecord {
	raw, _ := json.Marshal(ref)
	return events.DynamoDBEventRecord{EventName: "INSERT", Change: events.DynamoDBStreamRecord{
		SequenceNumber: strconv.Itoa(i), NewImage: map[string]events.DynamoDBAttributeValue{"ref": events.NewStringAttribute(string(raw))}}}
}

func decodeRef(image map[string]events.DynamoDBAttributeValue) (webhook.StoredRef, error) {
	var r webhook.StoredRef
	err := json.Unmarshal([]byte(image["ref"].String()), &r)
	return r, err
}

// TestDispatchMatchesChannels: a new notification becomes one job per enabled channel of its
// receiver whose filter matches and that existed when it was stored.
func TestDispatchMatchesChannels(t *testing.T) {
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	ch := func(id string, enabled bool, created time.Time, filter ...string) webhook.Channel {
		status := webhook.StatusActive
		if !enabled {
			status = webhook.StatusDisabled
		}
		return webhook.Channel{ID: id, EntityID: "A", Enabled: enabled, Status: status, CreatedOn: created, Filter: filter}
	}
	jobs := &jobsFake{}
	d := &Dispatcher{
		Channels: listerFake{"A": {
			ch("all", true, now.Add(-time.Hour)), ch("lights", true, now.Add(-time.Hour), "ReleaseLight"),
			ch("transfers", true, now.Add(-time.Hour), "ReleaseRight/Transferred"), ch("off", false, now.Add(-time.Hour)),
			ch("later", true, now.Add(time.Minute)),
		}},
		Jobs: jobs, Decode: decodeRef, Now: func() time.Time { return now }, Logger: quiet,
	}
	ev := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		streamRecord(1, webhook.StoredRef{Receiver: "A", Key: "k1", PublicReferenceID: "r1", Type: "ReleaseRight", Event: "Transferred", StoredOn: now}),
		streamRecord(2, webhook.StoredRef{Receiver: "B", Key: "k2", Type: "ReleaseRight", Event: "Update", StoredOn: now}),
		{EventName: "MODIFY"},
	}}
	resp, _ := d.Handle(context.Background(), ev)
	if len(resp.BatchItemFailures) != 0 || len(jobs.jobs) != 2 {
		t.Fatalf("jobs %+v", jobs.jobs)
	}
	got := map[string]webhook.Job{}
	for _, j := range jobs.jobs {
		got[j.ChannelID] = j
	}
	if got["all"].Attempt != 1 || got["transfers"].WebhookID != webhook.WebhookID("transfers", "A", "k1") || got["all"].Run != webhook.Original {
		t.Fatalf("jobs %+v", jobs.jobs)
	}
	// When the queue fails, the batch comes again from its first record.
	jobs.err = io.ErrUnexpectedEOF
	resp, _ = d.Handle(context.Background(), ev)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "1" {
		t.Fatalf("failure reported %+v", resp.BatchItemFailures)
	}
}

type laterFake map[string]time.Duration

func (f laterFake) Schedule(_ context.Context, j webhook.Job, d time.Duration) error {
	f["h-"+j.WebhookID] = d
	return nil
}

// TestRetrierIsNeverEarly: a job not yet due goes round again, delayed until its time; a due one
// is queued.
func TestRetrierIsNeverEarly(t *testing.T) {
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	jobs, held := &jobsFake{}, laterFake{}
	r := &Retrier{Jobs: jobs, Later: held, Now: func() time.Time { return now }, Logger: quiet}
	msg := func(id string, due time.Time) events.SQSMessage {
		body, _ := json.Marshal(webhook.Job{ChannelID: "c", EntityID: "A", WebhookID: id, Attempt: 3, DueAt: due})
		return events.SQSMessage{MessageId: id, ReceiptHandle: "h-" + id, Body: string(body)}
	}
	resp, _ := r.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		msg("soon", now.Add(1500*time.Millisecond)), msg("tonight", now.Add(20*time.Hour)), msg("due", now), msg("late", now.Add(-time.Minute)),
	}})
	if len(jobs.jobs) != 2 || jobs.jobs[0].WebhookID != "due" || jobs.jobs[1].WebhookID != "late" {
		t.Fatalf("queued %+v", jobs.jobs)
	}
	if len(resp.BatchItemFailures) != 0 || held["h-soon"] != 1500*time.Millisecond || held["h-tonight"] != 20*time.Hour {
		t.Fatalf("held %v, handed back %+v", held, resp.BatchItemFailures)
	}
}

type sourceFake struct {
	between map[string][]webhook.StoredRef // after → chunk
	under   map[string][]webhook.StoredRef
}

func (f sourceFake) NotificationRefsBetween(_ context.Context, _ string, _, _ time.Time, after string, limit int) ([]webhook.StoredRef, string, error) {
	refs := f.between[after]
	if len(refs) == 0 {
		return nil, "", nil
	}
	return refs, refs[len(refs)-1].Key, nil
}

func (f sourceFake) NotificationRefsUnder(_ context.Context, _, ref string) ([]webhook.StoredRef, error) {
	return f.under[ref], nil
}

type replaysFake struct{ asked []webhook.Replay }

func (f *replaysFake) Request(_ context.Context, r webhook.Replay) error {
	f.asked = append(f.asked, r)
	return nil
}

// TestReplayGoesOnWhereItStopped: a range is replayed a chunk a step, the rest asked for again;
// the channel's filter applies; the jobs keep the notifications' webhook ids, with the replay's run.
func TestReplayGoesOnWhereItStopped(t *testing.T) {
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	st := &fakeStore{channel: webhook.Channel{ID: "c", EntityID: "A", Enabled: true, Status: webhook.StatusActive, Filter: []string{"ReleaseRight"}}}
	jobs, replays := &jobsFake{}, &replaysFake{}
	r := &Replayer{
		Source: sourceFake{between: map[string][]webhook.StoredRef{
			"":   {{Key: "k1", Type: "ReleaseRight", Event: "Update"}, {Key: "k2", Type: "ReleaseLight", Event: "ReleaseLightChanged"}},
			"k2": {{Key: "k3", Type: "ReleaseRight", Event: "Transferred"}},
		}},
		Channels: st, Jobs: jobs, Replays: replays, Now: func() time.Time { return now }, Logger: quiet,
	}
	from, to := now.Add(-time.Hour), now
	step := func(rp webhook.Replay) {
		body, _ := json.Marshal(rp)
		resp, _ := r.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m", Body: string(body)}}})
		if len(resp.BatchItemFailures) != 0 {
			t.Fatalf("step failed: %+v", resp)
		}
	}
	step(webhook.Replay{ReplayID: "rp", ChannelID: "c", EntityID: "A", From: &from, To: &to})
	if len(jobs.jobs) != 1 || jobs.jobs[0].NotificationKey != "k1" || jobs.jobs[0].Run != "rp" || jobs.jobs[0].WebhookID != webhook.WebhookID("c", "A", "k1") {
		t.Fatalf("first step: %+v", jobs.jobs)
	}
	if len(replays.asked) != 1 || replays.asked[0].After != "k2" {
		t.Fatalf("the rest: %+v", replays.asked)
	}
	step(replays.asked[0])
	step(replays.asked[1])
	if len(jobs.jobs) != 2 || jobs.jobs[1].NotificationKey != "k3" || len(replays.asked) != 2 {
		t.Fatalf("after the last step: jobs %+v, asked %d", jobs.jobs, len(replays.asked))
	}
}
