package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portcommunity/cpu/shared/egress"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/secretbox"
	"github.com/portcommunity/cpu/shared/webhook"
)

// Unit tests of the deliverer's rules with in-memory stores and a fake clock; the receivers are
// real HTTP servers on loopback. The pipeline through DynamoDB Local and the SQS stand-in is
// tested end to end in shared/localstack.

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Sleep(_ context.Context, d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type fakeStore struct {
	mu       sync.Mutex
	channel  webhook.Channel
	notes    map[string]notification.Notification
	attempts []webhook.Attempt
	notices  []notification.Notification
	later    []webhook.Job
	disabled int
	deleted  []string
	released map[string]time.Duration
	others   map[string]webhook.Channel // channels besides c1
	readErr  error                      // StoredNotifications fails with it
}

func (f *fakeStore) Channel(_ context.Context, _, id string) (webhook.Channel, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.others[id]; ok {
		return c, nil
	}
	return f.channel, nil
}
func (f *fakeStore) MarkFailing(_ context.Context, _, _ string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.channel.FailingSince == nil {
		f.channel.FailingSince = &at
	}
	return nil
}
func (f *fakeStore) ClearFailing(_ context.Context, _, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.channel.FailingSince = nil
	return nil
}
func (f *fakeStore) DisableChannel(_ context.Context, _, _, reason string, at time.Time, notice notification.Notification) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.channel.Status != webhook.StatusActive {
		return false, nil
	}
	f.channel.Status, f.channel.Enabled, f.channel.DisabledReason = webhook.StatusDisabled, false, reason
	f.disabled++
	f.notices = append(f.notices, notice)
	return true, nil
}
func (f *fakeStore) StoredNotifications(_ context.Context, _ string, keys []string, _ time.Time) (map[string]notification.Notification, error) {
	if f.readErr != nil {
		return nil, f.readErr
	}
	out := map[string]notification.Notification{}
	for _, k := range keys {
		if n, ok := f.notes[k]; ok {
			out[k] = n
		}
	}
	return out, nil
}
func (f *fakeStore) AppendAttempts(_ context.Context, as []webhook.Attempt) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts = append(f.attempts, as...)
	return nil
}
func (f *fakeStore) Delete(_ context.Context, hs []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = append(f.deleted, hs...)
	return nil
}
func (f *fakeStore) Release(_ context.Context, hs []string, after time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, h := range hs {
		f.released[h] = after
	}
	return nil
}
func (f *fakeStore) Schedule(_ context.Context, j webhook.Job, _ time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.later = append(f.later, j)
	return nil
}

func setup(t *testing.T, handler http.HandlerFunc) (*Deliverer, *fakeStore, *clock) {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	setting, _ := secretbox.GenerateLocalSetting()
	box, _ := secretbox.LocalFromSetting(setting[len("local:"):])
	secret, _, _ := webhook.NewSigningSecret()
	sealed, _ := box.Seal(context.Background(), []byte(secret), "c1")
	clk := &clock{now: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)}
	st := &fakeStore{
		channel: webhook.Channel{ID: "c1", EntityID: "NXT200000001", URL: srv.URL, Enabled: true, Status: webhook.StatusActive,
			SigningKeys: []webhook.SigningKey{{Sealed: sealed}}},
		notes:    map[string]notification.Notification{},
		released: map[string]time.Duration{},
	}
	for i := range 30 {
		k := "k" + strconv.Itoa(i)
		st.notes[k] = notification.Notification{Type: "ReleaseRight", Event: "Update", Message: `{"n":` + strconv.Itoa(i) + `}`}
	}
	d := &Deliverer{
		Channels: st, Notifications: st, Log: st, Later: st, Queue: st,
		Sender: &Sender{HTTP: egress.Policy{AllowLoopback: true}.Client(net.DefaultResolver, 5*time.Second), Secrets: box, Now: clk.Now},
		Timing: webhook.Timing{Scale: 1}, RatePerSecond: 20, Now: clk.Now, Sleep: clk.Sleep,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	return d, st, clk
}

func batch(keys ...string) events.SQSEvent {
	var ev events.SQSEvent
	for i, k := range keys {
		body, _ := json.Marshal(webhook.Job{ChannelID: "c1", EntityID: "NXT200000001", NotificationKey: k, WebhookID: "msg_" + k, Attempt: 1, Run: webhook.Original})
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: "m" + strconv.Itoa(i), ReceiptHandle: "h" + strconv.Itoa(i), Body: string(body)})
	}
	return ev
}

// TestPacedToTwentyASecond: ten jobs of one channel start at least 50 ms apart, and the batch
// keeps the pace after its last attempt (the channel's next batch may follow at once).
func TestPacedToTwentyASecond(t *testing.T) {
	d, st, clk := setup(t, func(w http.ResponseWriter, r *http.Request) {})
	start := clk.Now()
	resp, _ := d.Handle(context.Background(), batch("k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"))
	if len(resp.BatchItemFailures) != 0 || len(st.attempts) != 10 {
		t.Fatalf("%d failures, %d attempts", len(resp.BatchItemFailures), len(st.attempts))
	}
	for i := 1; i < 10; i++ {
		if gap := st.attempts[i].Time.Sub(st.attempts[i-1].Time); gap < 50*time.Millisecond {
			t.Fatalf("attempts %d and %d %v apart", i-1, i, gap)
		}
	}
	if end := clk.Now(); end.Sub(st.attempts[9].Time) < 50*time.Millisecond || end.Sub(start) < 500*time.Millisecond {
		t.Fatalf("the batch returned %v after its last attempt", end.Sub(st.attempts[9].Time))
	}
}

// TestDisabledAfterSeventyTwoHoursOfFailure: failures start the streak; a failure 72 hours later
// disables the channel and stores one ChannelDisabled notification; the rest of the batch is
// logged Failed without an attempt.
func TestDisabledAfterSeventyTwoHoursOfFailure(t *testing.T) {
	d, st, clk := setup(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	d.Handle(context.Background(), batch("k0"))
	if st.channel.FailingSince == nil || len(st.later) != 1 || st.later[0].Attempt != 2 || st.attempts[0].Outcome != webhook.Retrying {
		t.Fatalf("first failure: %+v %+v", st.channel.FailingSince, st.later)
	}
	clk.Sleep(context.Background(), 71*time.Hour)
	d.Handle(context.Background(), batch("k1"))
	if st.disabled != 0 {
		t.Fatal("disabled before 72 hours")
	}
	clk.Sleep(context.Background(), time.Hour)
	d.Handle(context.Background(), batch("k2", "k3"))
	if st.disabled != 1 || len(st.notices) != 1 || st.notices[0].Event != webhook.EventChannelDisabled || st.notices[0].Type != webhook.TypeChannel {
		t.Fatalf("after 72 hours: disabled %d, notices %+v", st.disabled, st.notices)
	}
	last := st.attempts[len(st.attempts)-1]
	if last.Outcome != webhook.Failed || last.Error != "the channel is disabled" || last.Status != nil {
		t.Fatalf("a job after the disable: %+v", last)
	}
	// A delivery in between clears the streak.
	d2, st2, clk2 := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("webhook-id") == "msg_k1" {
			return
		}
		w.WriteHeader(500)
	})
	d2.Handle(context.Background(), batch("k0"))
	clk2.Sleep(context.Background(), 40*time.Hour)
	d2.Handle(context.Background(), batch("k1"))
	clk2.Sleep(context.Background(), 40*time.Hour)
	d2.Handle(context.Background(), batch("k2"))
	if st2.disabled != 0 || st2.channel.FailingSince == nil || !st2.channel.FailingSince.Equal(st2.attempts[2].Time) {
		t.Fatalf("a delivery restarted the streak: disabled %d, failing since %v", st2.disabled, st2.channel.FailingSince)
	}
}

// TestGoneDisablesAtOnce: a 410 fails the delivery, disables the channel and tells the entity.
func TestGoneDisablesAtOnce(t *testing.T) {
	d, st, _ := setup(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(410) })
	d.Handle(context.Background(), batch("k0", "k1"))
	if st.disabled != 1 || len(st.later) != 0 || st.attempts[0].Outcome != webhook.Failed || *st.attempts[0].Status != 410 || len(st.notices) != 1 {
		t.Fatalf("410: %+v", st.attempts)
	}
}

// TestSlowChannelLeavesTheRestForTheNextBatch: once a channel has had its time in a batch, its
// later jobs are handed back unattempted (in order, for the next batch).
func TestSlowChannelLeavesTheRestForTheNextBatch(t *testing.T) {
	var d *Deliverer
	var clk *clock
	d, st, clk := setup(t, func(w http.ResponseWriter, r *http.Request) { clk.Sleep(context.Background(), 1500*time.Millisecond) })
	resp, _ := d.Handle(context.Background(), batch("k0", "k1", "k2", "k3"))
	if len(st.attempts) != 2 || len(resp.BatchItemFailures) != 2 || resp.BatchItemFailures[0].ItemIdentifier != "m2" {
		t.Fatalf("%d attempts, handed back %+v", len(st.attempts), resp.BatchItemFailures)
	}
	if len(st.deleted) != 2 || st.released["h2"] != 0 || st.released["h3"] != 0 || len(st.released) != 2 {
		t.Fatalf("finished jobs deleted %v, the rest handed back at once %v", st.deleted, st.released)
	}
}

// TestExhaustedRetriesFail: the eighth attempt is the last; a failure there is Failed, nothing
// is scheduled.
func TestExhaustedRetriesFail(t *testing.T) {
	d, st, _ := setup(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(502) })
	ev := batch("k0")
	var j webhook.Job
	json.Unmarshal([]byte(ev.Records[0].Body), &j)
	j.Attempt = webhook.MaxAttempts
	body, _ := json.Marshal(j)
	ev.Records[0].Body = string(body)
	d.Handle(context.Background(), ev)
	if len(st.later) != 0 || st.attempts[0].Outcome != webhook.Failed || st.attempts[0].Attempt != webhook.MaxAttempts {
		t.Fatalf("last attempt: %+v, scheduled %d", st.attempts, len(st.later))
	}
}

func (f *fakeStore) deletedHas(h string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.deleted {
		if d == h {
			return true
		}
	}
	return false
}

// TestSlowChannelDoesNotHoldTheOthers: in a batch with a hanging channel, the healthy channel's
// jobs are attempted and deleted (so the queue hands out its next ones) while the hanging
// channel's attempt is still waiting for an answer.
func TestSlowChannelDoesNotHoldTheOthers(t *testing.T) {
	release := make(chan struct{})
	d, st, _ := setup(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	defer close(release)
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer healthy.Close()
	other := st.channel
	other.ID, other.URL = "c2", healthy.URL
	st.others = map[string]webhook.Channel{"c2": other}
	ev := batch("k0", "k1", "k2")
	for i := 1; i < 3; i++ { // k1 and k2 go to the healthy channel
		var j webhook.Job
		json.Unmarshal([]byte(ev.Records[i].Body), &j)
		j.ChannelID = "c2"
		body, _ := json.Marshal(j)
		ev.Records[i].Body = string(body)
	}
	done := make(chan struct{})
	go func() { d.Handle(context.Background(), ev); close(done) }()
	deadline := time.After(10 * time.Second)
	for !(st.deletedHas("h1") && st.deletedHas("h2")) {
		select {
		case <-done:
			t.Fatal("the batch ended before the hanging channel answered")
		case <-deadline:
			t.Fatal("the healthy channel's jobs were not finished while the other channel hung")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if st.deletedHas("h0") {
		t.Fatal("the hanging channel's job was deleted before it was answered")
	}
}

// TestTransientFailuresComeBackAfterAPause: when the table fails, the channel's jobs are handed
// back to come again after ErrorPause, not at once (which would spin through SQS's receive count).
func TestTransientFailuresComeBackAfterAPause(t *testing.T) {
	d, st, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {})
	st.readErr = errors.New("ProvisionedThroughputExceededException")
	resp, _ := d.Handle(context.Background(), batch("k0", "k1"))
	if len(resp.BatchItemFailures) != 2 || st.released["h0"] != ErrorPause || st.released["h1"] != ErrorPause || len(st.attempts) != 0 {
		t.Fatalf("failures %+v, released %v", resp.BatchItemFailures, st.released)
	}
}
