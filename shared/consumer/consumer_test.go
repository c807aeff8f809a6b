package consumer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/release"
)

// fakeStore decides per container how storage behaves: these tests are about the batch rules,
// not DynamoDB (shared/pipeline runs the same consumer against DynamoDB Local and the SQS stand-in).
type fakeStore struct {
	mu        sync.Mutex
	transient map[string]bool // containers whose writes fail with a retryable error
	panics    map[string]bool // containers whose load panics
	tooLarge  map[string]bool // containers whose decision is over the item size limit
	failRef   map[string]bool // commands (by reference) whose writes fail with a retryable error
	saved     []release.Outcome
}

func (f *fakeStore) Load(_ context.Context, ref release.Ref, _ string, _ int) (release.Loaded, error) {
	if f.panics[ref.EquipmentNumber] {
		var r *release.Release
		_ = r.Version // a nil dereference, as a bug would make
	}
	return release.Loaded{}, nil
}

func (f *fakeStore) LoadContainer(context.Context, string, string, string, int) (release.Loaded, error) {
	return release.Loaded{}, nil
}

func (f *fakeStore) ChainParties(context.Context, string, string, string) ([]string, error) {
	return nil, nil
}

func (f *fakeStore) Save(_ context.Context, _ *release.Release, d release.Decision) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := d.Outcome.EquipmentNumber
	switch {
	case f.transient[c], f.failRef[d.Outcome.PublicReferenceID]:
		return errors.New("ProvisionedThroughputExceededException: throttled")
	case f.tooLarge[c] && len(d.Outcome.Notices) > 0 && d.Outcome.Notices[0].Event != release.EventThrownException:
		return fmt.Errorf("%w: the release item is 420000 bytes", release.ErrTooLarge)
	}
	f.saved = append(f.saved, d.Outcome)
	return nil
}

func (f *fakeStore) TerminalOperator(context.Context, string) (string, error) { return "", nil }
func (f *fakeStore) ResolveParty(context.Context, release.PartyRef) ([]string, error) {
	return nil, nil
}

// events of an outcome, by container ("CSQU3054383 NotValidated").
func (f *fakeStore) events() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, o := range f.saved {
		for _, n := range o.Notices {
			out = append(out, o.EquipmentNumber+" "+o.PublicReferenceID+" "+n.Event)
		}
	}
	sort.Strings(out)
	return out
}

type fakeDLQ struct{ parked []DeadLetter }

func (d *fakeDLQ) Park(_ context.Context, dl DeadLetter) error {
	d.parked = append(d.parked, dl)
	return nil
}

func record(id, container, ref string, receives int) events.SQSMessage {
	cmd := release.Command{PublicReferenceID: ref, Requester: "NXT200000001", CarrierID: "NXT200000001", Action: release.ActBlock,
		Request: release.Request{PortLoCode: "BEANR", EquipmentNumber: container, BillOfLadingNumbers: []string{"BL1"}, ActionType: release.ActBlock}}
	body, _ := json.Marshal(cmd)
	return events.SQSMessage{MessageId: id, Body: string(body), Attributes: map[string]string{
		"MessageGroupId": cmd.GroupID(), "ApproximateReceiveCount": fmt.Sprint(receives)}}
}

// fakeAttempts counts attempts per message.
type fakeAttempts map[string]int

func (f fakeAttempts) Begin(_ context.Context, id string) (int, string, error) {
	f[id]++
	return f[id], "throttled", nil
}

func (f fakeAttempts) Failed(_ context.Context, id, _ string, counted bool) (int, error) {
	if !counted {
		f[id]++
	}
	return f[id], nil
}

func newConsumer(st *fakeStore, dlq *fakeDLQ) *Consumer {
	return &Consumer{Store: st, DeadLetters: dlq, Attempts: fakeAttempts{}, MaxAttempts: 5, Now: func() time.Time { return time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC) },
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), NewID: func() string { return "rel-1" }}
}

func failed(resp events.SQSEventResponse) string {
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return strings.Join(ids, ",")
}

// TestAFailureHoldsBackOnlyItsOwnGroup: a transient failure fails its record and the later records
// of the same container; the records of other containers, before and after it, are applied.
func TestAFailureHoldsBackOnlyItsOwnGroup(t *testing.T) {
	st := &fakeStore{transient: map[string]bool{"CAIU7654324": true}}
	c := newConsumer(st, &fakeDLQ{})
	resp, err := c.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		record("m1", "CSQU3054383", "r1", 1),
		record("m2", "CAIU7654324", "r2", 1), // fails
		record("m3", "CAIU1234561", "r3", 1),
		record("m4", "CAIU7654324", "r4", 1), // same container: held back
		record("m5", "CSQU3054383", "r5", 1),
	}})
	if err != nil || failed(resp) != "m2,m4" {
		t.Fatalf("failures %q, %v", failed(resp), err)
	}
	if got := fmt.Sprint(st.events()); got != "[CAIU1234561 r3 NotValidated CSQU3054383 r1 NotValidated CSQU3054383 r5 NotValidated]" {
		t.Fatalf("applied: %s", got)
	}
}

// TestPermanentFailuresAreAnsweredNotRetried: an undecodable body is parked with its reason at once;
// a panic and an oversized item are answered to the requester with ThrownException and recorded;
// none of them is reported failed, so none is received five times, and healthy records of other
// containers in the same batch are applied.
func TestPermanentFailuresAreAnsweredNotRetried(t *testing.T) {
	st := &fakeStore{panics: map[string]bool{"CAIU7654324": true}, tooLarge: map[string]bool{"CAIU1234561": true}}
	dlq := &fakeDLQ{}
	c := newConsumer(st, dlq)
	poison := events.SQSMessage{MessageId: "m0", Body: `{"not":"a command"`, Attributes: map[string]string{"MessageGroupId": "BEANR#X", "ApproximateReceiveCount": "1"}}
	resp, _ := c.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		poison,
		record("m1", "CAIU7654324", "r1", 1), // panics
		record("m2", "CAIU1234561", "r2", 1), // over the size limit
		record("m3", "CSQU3054383", "r3", 1), // healthy
	}})
	if failed(resp) != "" {
		t.Fatalf("reported failed: %s", failed(resp))
	}
	if got := fmt.Sprint(st.events()); got != "[CAIU1234561 r2 ThrownException CAIU7654324 r1 ThrownException CSQU3054383 r3 NotValidated]" {
		t.Fatalf("outcomes: %s", got)
	}
	if len(dlq.parked) != 1 || dlq.parked[0].MessageID != "m0" || dlq.parked[0].Failure != FailureUndecodable ||
		!strings.Contains(dlq.parked[0].Reason, "not a command") || dlq.parked[0].Group != "BEANR#X" || dlq.parked[0].Body != poison.Body {
		t.Fatalf("parked: %+v", dlq.parked)
	}
	for _, o := range st.saved {
		if o.PublicReferenceID == "r1" && (len(o.Errors) != 1 || !strings.Contains(o.Errors[0], "contact support")) {
			t.Errorf("the panic's outcome does not say what to do: %+v", o.Errors)
		}
	}
}

// TestTransientFailureParkedAfterItsOwnAttempts: a command that keeps failing is parked, with the
// reason, when its own fifth attempt fails; the commands held behind it meanwhile are received
// again and again without being tried, and that does not count against them: the next one gets
// its own five attempts.
func TestTransientFailureParkedAfterItsOwnAttempts(t *testing.T) {
	st := &fakeStore{transient: map[string]bool{"CAIU7654324": true}}
	dlq := &fakeDLQ{}
	c := newConsumer(st, dlq)
	batch := func(receive int) events.SQSEventResponse {
		resp, _ := c.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
			record("m1", "CAIU7654324", "r1", receive),
			record("m2", "CAIU7654324", "r2", receive), // held behind m1
			record("m3", "CAIU1234561", "r3", 1),
		}})
		return resp
	}
	for receive := 1; receive <= 4; receive++ {
		if resp := batch(receive); failed(resp) != "m1,m2" || len(dlq.parked) != 0 {
			t.Fatalf("attempt %d: failures %q, parked %d", receive, failed(resp), len(dlq.parked))
		}
	}
	// The fifth attempt at m1 fails: it is parked; m2, tried for the first time, fails and waits.
	if resp := batch(5); failed(resp) != "m2" || len(dlq.parked) != 1 {
		t.Fatalf("fifth attempt: failures %q, parked %+v", failed(resp), dlq.parked)
	}
	p := dlq.parked[0]
	if p.MessageID != "m1" || p.Failure != FailureRetriesExhausted || !strings.Contains(p.Reason, "5 attempts") || !strings.Contains(p.Reason, "throttled") {
		t.Fatalf("parked: %+v", p)
	}
	if c.Attempts.(fakeAttempts)["m2"] != 1 {
		t.Fatalf("m2 was charged %d attempts for being held", c.Attempts.(fakeAttempts)["m2"])
	}
}

type countingDirectory struct {
	fakeStore
	parties, terminals int
}

func (d *countingDirectory) ResolveParty(_ context.Context, ref release.PartyRef) ([]string, error) {
	d.parties++
	if ref.IdentificationCode == "NOBODY" {
		return nil, nil
	}
	return []string{ref.IdentificationCode}, nil
}

func (d *countingDirectory) TerminalOperator(context.Context, string) (string, error) {
	d.terminals++
	return "NXT200000003", nil
}

// TestCachedLookups: a warm consumer asks the registry once per party within the cache time, never
// keeps a miss, and asks again after the time.
func TestCachedLookups(t *testing.T) {
	d := &countingDirectory{}
	now := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	c := CachedLookups(d, time.Minute, func() time.Time { return now })
	ctx := context.Background()
	ref := release.PartyRef{IdentificationType: "NxtEntityId", IdentificationCode: "NXT200000005"}
	for i := 0; i < 3; i++ {
		if ids, _ := c.ResolveParty(ctx, ref); len(ids) != 1 {
			t.Fatal(ids)
		}
		c.TerminalOperator(ctx, "01700")
		c.ResolveParty(ctx, release.PartyRef{IdentificationType: "NxtEntityId", IdentificationCode: "NOBODY"})
	}
	if d.parties != 4 || d.terminals != 1 {
		t.Fatalf("registry asked %d times for parties, %d for terminals", d.parties, d.terminals)
	}
	now = now.Add(time.Minute)
	c.ResolveParty(ctx, ref)
	if d.parties != 5 {
		t.Fatalf("not asked again after the cache time: %d", d.parties)
	}
}

// fifoQueue models one message group of an SQS FIFO queue as the event source mapping serves it:
// each receive hands out the group's messages in order (up to ten), raises their receive counts,
// and takes back the ones reported failed; a message received more than maxReceives times moves
// to the DLQ. It is the behaviour the SQS stand-in does not show (it hands out one message of a
// group per receive).
type fifoQueue struct {
	msgs        []events.SQSMessage
	receives    map[string]int
	maxReceives int
	movedBySQS  []string
}

func (q *fifoQueue) receive() []events.SQSMessage {
	var out, keep []events.SQSMessage
	for _, m := range q.msgs {
		if q.receives[m.MessageId] >= q.maxReceives {
			q.movedBySQS = append(q.movedBySQS, m.MessageId)
			continue
		}
		keep = append(keep, m)
	}
	q.msgs = keep
	for _, m := range q.msgs[:min(10, len(q.msgs))] {
		q.receives[m.MessageId]++
		m.Attributes["ApproximateReceiveCount"] = fmt.Sprint(q.receives[m.MessageId])
		out = append(out, m)
	}
	return out
}

// TestHeldCommandsAreNotCountedOrMovedBySQS: five failing commands queued on one container ahead
// of three healthy ones. Each failing one is parked by the consumer after its own five attempts,
// with its reason; the healthy ones wait behind them, received again and again, and apply when
// their turn comes: SQS never moves a command that was not tried.
func TestHeldCommandsAreNotCountedOrMovedBySQS(t *testing.T) {
	st := &fakeStore{transient: map[string]bool{}}
	dlq := &fakeDLQ{}
	c := newConsumer(st, dlq)
	q := &fifoQueue{receives: map[string]int{}, maxReceives: catalogMaxReceives}
	for i := 1; i <= 8; i++ {
		q.msgs = append(q.msgs, record(fmt.Sprintf("m%d", i), "CAIU7654324", fmt.Sprintf("r%d", i), 0))
	}
	failing := map[string]bool{"r1": true, "r2": true, "r3": true, "r4": true, "r5": true}
	st.failRef = failing
	for round := 0; len(q.msgs) > 0 && round < 100; round++ {
		batch := q.receive()
		resp, _ := c.Handle(context.Background(), events.SQSEvent{Records: batch})
		back := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			back[f.ItemIdentifier] = true
		}
		var keep []events.SQSMessage
		for _, m := range q.msgs {
			if back[m.MessageId] || !inBatch(batch, m.MessageId) {
				keep = append(keep, m)
			}
		}
		q.msgs = keep
	}
	var parked []string
	for _, p := range dlq.parked {
		parked = append(parked, p.MessageID)
		if p.Failure != FailureRetriesExhausted || !strings.Contains(p.Reason, "5 attempts") {
			t.Errorf("%s parked as %s: %s", p.MessageID, p.Failure, p.Reason)
		}
	}
	if fmt.Sprint(parked) != "[m1 m2 m3 m4 m5]" || len(q.movedBySQS) != 0 {
		t.Fatalf("parked by the consumer %v, moved by SQS %v", parked, q.movedBySQS)
	}
	for i := 1; i <= 5; i++ {
		if n := c.Attempts.(fakeAttempts)[fmt.Sprintf("m%d", i)]; n != 5 {
			t.Errorf("m%d had %d attempts, want 5", i, n)
		}
	}
	if got := fmt.Sprint(st.events()); got != "[CAIU7654324 r6 NotValidated CAIU7654324 r7 NotValidated CAIU7654324 r8 NotValidated]" {
		t.Fatalf("the healthy commands: %s", got)
	}
}

func inBatch(batch []events.SQSMessage, id string) bool {
	for _, m := range batch {
		if m.MessageId == id {
			return true
		}
	}
	return false
}

// catalogMaxReceives is the command queue's redrive count.
var catalogMaxReceives = func() int {
	q, _ := catalog.QueueNamed(catalog.CommandQueue)
	return q.MaxReceives
}()
