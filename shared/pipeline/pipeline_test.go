package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/commands"
	"github.com/portcommunity/cpu/shared/consumer"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/localstack/testenv"
	"github.com/portcommunity/cpu/shared/release"
)

func eq(t *testing.T, step string, got []string, want ...string) {
	t.Helper()
	sortStrings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s:\n got  %v\n want %v", step, got, want)
	}
}

// TestEveryActionNotifiesExactlyTheRightParties walks a release through all six actions.
func TestEveryActionNotifiesExactlyTheRightParties(t *testing.T) {
	h := newHarness(t)
	releaseTo := map[string]string{"identificationType": "Vat", "identificationCode": party(rp, "", 4031704, nil).VAT}

	ref := h.sa(body("Release", map[string]any{"releaseTo": releaseTo}))
	eq(t, "Release with releaseTo", h.sent(ref, 4),
		sa1+" ReleaseLight ReleaseLightChanged Release", top+" ReleaseLight ReleaseLightChanged Release",
		sa1+" ReleaseRight Transferred Transfer", rp+" ReleaseRight Transferred Transfer")

	ref = h.sa(body("Release", nil))
	eq(t, "duplicate Release", h.sent(ref, 1), sa1+" ReleaseLight NotValidated  errors")

	ref = h.sa(body("Update", map[string]any{"terminalCode": "0100", "vesselName": "MSC ANTWERP"}))
	eq(t, "Update (terminal moved)", h.sent(ref, 3),
		sa1+" ReleaseLight Update Update", top+" ReleaseLight Update Update", top2+" ReleaseLight Update Update")

	ref = h.sa(body("Block", map[string]any{"terminalCode": "0100"}))
	eq(t, "Block", h.sent(ref, 2), sa1+" ReleaseLight ReleaseLightChanged Block", top2+" ReleaseLight ReleaseLightChanged Block")

	ref = h.sa(body("Unblock", map[string]any{"terminalCode": nil}))
	eq(t, "Unblock", h.sent(ref, 2), sa1+" ReleaseLight ReleaseLightChanged Unblock", top2+" ReleaseLight ReleaseLightChanged Unblock")

	ref = h.sa(body("Unblock", map[string]any{"terminalCode": nil}))
	eq(t, "Unblock of an unblocked release (requester only)", h.sent(ref, 1), sa1+" ReleaseLight ReleaseLightChanged Unblock")

	ref = h.sa(body("Revoke", map[string]any{"terminalCode": nil}))
	eq(t, "commercial Revoke (the pending receiver loses the right)", h.sent(ref, 2),
		sa1+" ReleaseRight RevokedByPreviousParty Revoke", rp+" ReleaseRight RevokedByPreviousParty Revoke")

	ref = h.sa(body("Delete", map[string]any{"terminalCode": nil}))
	eq(t, "Delete", h.sent(ref, 2), sa1+" ReleaseLight ReleaseLightChanged Delete", top2+" ReleaseLight ReleaseLightChanged Delete")

	ref = h.sa(body("Block", map[string]any{"terminalCode": nil}))
	eq(t, "Block after Delete", h.sent(ref, 1), sa1+" ReleaseLight NotValidated  errors")

	// The key is free again after Delete.
	ref = h.sa(body("Release", nil))
	eq(t, "Release again", h.sent(ref, 2), sa1+" ReleaseLight ReleaseLightChanged Release", top+" ReleaseLight ReleaseLightChanged Release")

	// The audit trail keeps every change with who, what, when and the reference.
	hist, err := h.st.History(context.Background(), "BEANR", "CSQU3054383")
	if err != nil || len(hist) != 10 {
		t.Fatalf("history: %d outcomes, %v", len(hist), err)
	}
	for _, o := range hist {
		if o.Requester != sa1 || o.PublicReferenceID == "" || o.At.IsZero() || o.Action == "" {
			t.Errorf("audit entry incomplete: %+v", o)
		}
	}
}

func TestNotValidatedPaths(t *testing.T) {
	h := newHarness(t)
	h.sent(h.sa(body("Release", nil)), 2)
	cases := map[string][]byte{
		"unknown terminal":              body("Release", map[string]any{"equipmentNumber": "CAIU7654324", "terminalCode": "9999"}),
		"releaseTo names nobody":        body("Release", map[string]any{"equipmentNumber": "CAIU7654324", "releaseTo": map[string]string{"identificationType": "Eori", "identificationCode": "BE0000000000"}}),
		"releaseTo is the agent":        body("Release", map[string]any{"equipmentNumber": "CAIU7654324", "releaseTo": map[string]string{"identificationType": "NxtEntityId", "identificationCode": sa1}}),
		"release id in use":             body("Release", map[string]any{"billOfLadingNumbers": []string{"BL9"}}),
		"no release for these B/Ls":     body("Block", map[string]any{"billOfLadingNumbers": []string{"BL2"}}),
		"release id does not match":     body("Block", map[string]any{"releaseIdentification": "OTHER"}),
		"terminal does not match":       body("Delete", map[string]any{"terminalCode": "0100"}),
		"update changes releaseTo":      body("Update", map[string]any{"releaseTo": map[string]string{"identificationType": "NxtEntityId", "identificationCode": rp}}),
		"update to an unknown terminal": body("Update", map[string]any{"terminalCode": "7777"}),
	}
	for name, raw := range cases {
		ref := h.sa(raw)
		got := h.sent(ref, 1)
		if got[0] != sa1+" ReleaseLight NotValidated  errors" {
			t.Errorf("%s: %v", name, got)
		}
	}
}

func TestSynchronousChecks(t *testing.T) {
	h := newHarness(t)
	saRole := []entity.Role{entity.ShippingAgent}
	for name, c := range map[string]struct {
		caller      string
		roles       []entity.Role
		ingestionID string
		raw         []byte
		status      int
	}{
		"someone else's ingestion id": {sa1, saRole, h.ingestID[sa2], body("Release", nil), 401},
		"unknown ingestion id":        {sa1, saRole, "00000000-0000-4000-8000-000000000000", body("Release", nil), 401},
		"not a shipping agent":        {rp, []entity.Role{entity.ReleaseParty}, h.ingestID[rp], body("Release", nil), 401},
		"carrier is not the caller":   {sa2, saRole, h.ingestID[sa2], body("Release", nil), 401},
		"bad container":               {sa1, saRole, h.ingestID[sa1], body("Release", map[string]any{"equipmentNumber": "CAIU7654321"}), 400},
		"extra field on Unblock":      {sa1, saRole, h.ingestID[sa1], body("Unblock", map[string]any{"vesselName": "X"}), 405},
		"too large":                   {sa1, saRole, h.ingestID[sa1], []byte(`{"vesselName":"` + strings.Repeat("x", 1<<20) + `"}`), 413},
	} {
		status, _, doc := h.post(c.caller, c.roles, c.ingestionID, c.raw)
		if status != c.status {
			t.Errorf("%s: %d %v", name, status, doc)
		}
	}
	// Carrier named by VAT instead of id is the caller too.
	vat := party(sa1, "", 4031700, nil).VAT
	status, ref, doc := h.postLenient(sa1, saRole, h.ingestID[sa1], body("Release", map[string]any{"carrier": map[string]string{"identificationType": "TIN", "identificationCode": vat}}))
	if status != 202 {
		t.Fatalf("carrier by VAT: %d %v", status, doc)
	}
	// Nothing refused reached the queue: the accepted Release, queued last on this container, is
	// applied after anything queued before it (one FIFO group), so once its notifications exist the
	// history is complete.
	h.sent(ref, 2)
	hist, _ := h.st.History(context.Background(), "BEANR", "CSQU3054383")
	if len(hist) != 1 {
		t.Errorf("%d outcomes recorded, want 1", len(hist))
	}
}

// TestDuplicateDeliveryAppliesOnce: the same command delivered twice (a retried or duplicated
// message) is applied and notified once.
func TestDuplicateDeliveryAppliesOnce(t *testing.T) {
	h := newHarness(t)
	req, err := release.Decode(body("Release", nil), release.ParsePorts("BEANR"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := release.Command{PublicReferenceID: "5f0c7b1e-9a55-4c55-8d0a-1f2e3d4c5b6a", Requester: sa1, CarrierID: sa1, Action: release.ActRelease, Request: req}
	ctx := context.Background()
	if err := h.consumer.Apply(ctx, cmd); err != nil {
		t.Fatal(err)
	}
	if err := h.consumer.Apply(ctx, cmd); err != nil {
		t.Fatal(err)
	}
	// Past the queue's deduplication window the same command arrives again as a new message.
	raw, _ := json.Marshal(cmd)
	for i := 0; i < 2; i++ {
		if err := h.queue.Send(ctx, commands.Message{Group: cmd.GroupID(), Dedup: fmt.Sprintf("redelivery-%d", i), Body: raw}); err != nil {
			t.Fatal(err)
		}
	}
	// A Block queued after the redeliveries on the same container applies after them (one FIFO
	// group): once it is notified, the redeliveries have been consumed.
	h.sent(h.sa(body("Block", nil)), 2)
	eq(t, "one Release, one set of notifications", h.sent(cmd.PublicReferenceID, 2),
		sa1+" ReleaseLight ReleaseLightChanged Release", top+" ReleaseLight ReleaseLightChanged Release")
	hist, _ := h.st.History(ctx, "BEANR", "CSQU3054383")
	if len(hist) != 2 {
		t.Fatalf("%d outcomes, want the Release and the Block", len(hist))
	}
}

// TestPoisonMessageIsParkedWhileOtherContainersApply: an undecodable message received in one batch
// with healthy commands of other containers is parked in the DLQ at its first receive, with the
// reason, and the healthy commands apply.
func TestPoisonMessageIsParkedWhileOtherContainersApply(t *testing.T) {
	h := newStoppedHarness(t)
	ctx := context.Background()
	if err := h.queue.Send(ctx, commands.Message{Group: "BEANR#POISON", Dedup: "poison-1", Body: []byte(`{"not":"a command"`)}); err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, c := range []string{"CAIU7654324", "CAIU1234561", "CSQU3054383"} {
		refs = append(refs, h.sa(body("Release", map[string]any{"equipmentNumber": c, "releaseIdentification": "R-" + c})))
	}
	h.start() // the consumer now receives the four messages in one batch
	for _, ref := range refs {
		h.sent(ref, 2)
	}
	h.mu.Lock()
	first := h.batches[0]
	h.mu.Unlock()
	if first != 4 {
		t.Fatalf("the first batch held %d messages, want the poison one and the three healthy ones", first)
	}
	var parked []sqstypes.Message
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && len(parked) == 0; {
		out, err := h.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(h.dlq), WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		parked = out.Messages
	}
	if len(parked) != 1 || aws.ToString(parked[0].Body) != `{"not":"a command"` {
		t.Fatalf("DLQ holds %d messages", len(parked))
	}
	attrs := parked[0].MessageAttributes
	if aws.ToString(attrs[awsedge.AttrFailure].StringValue) != consumer.FailureUndecodable || aws.ToString(attrs[awsedge.AttrReceiveCount].StringValue) != "1" ||
		!strings.Contains(aws.ToString(attrs[awsedge.AttrReason].StringValue), "not a command") {
		t.Fatalf("the parked message does not say why: %v", attrs)
	}
}

func TestExpiry(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	ref := h.sa(body("Release", map[string]any{"expirationDateTimeUtc": "2026-11-21T09:00:00Z"}))
	h.sent(ref, 2)
	exp := &commands.Expiry{Store: h.st, Queue: h.queue, Now: h.clock, Log: quiet, Lookback: 7 * 24 * time.Hour}
	if err := exp.Handle(ctx); err != nil { // 08:00: not due yet
		t.Fatal(err)
	}
	h.setClock(time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC))
	for i := 0; i < 2; i++ { // two sweeps: one Expire applies
		if err := exp.Handle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var expired []string
	testenv.Eventually(20*time.Second, func() bool {
		hist, _ := h.st.History(ctx, "BEANR", "CSQU3054383")
		for _, o := range hist {
			if o.Action == release.ActExpire && o.Applied {
				expired = append(expired, o.PublicReferenceID)
			}
		}
		return len(expired) > 0
	})
	if len(expired) != 1 {
		t.Fatalf("expired %d times", len(expired))
	}
	eq(t, "expiry", h.sent(expired[0], 2), sa1+" ReleaseLight ReleaseLightChanged", top+" ReleaseLight ReleaseLightChanged")
	// An expired release refuses Block; an Update with a later expiration revives it.
	h.sent(h.sa(body("Block", nil)), 1)
	ref = h.sa(body("Update", map[string]any{"expirationDateTimeUtc": "2026-11-30T00:00:00Z"}))
	eq(t, "revival", h.sent(ref, 2), sa1+" ReleaseLight Update Update", top+" ReleaseLight Update Update")
}

// TestReplayedStreamMakesNoCopies: a second notifier reading the whole stream again (as after a
// retried batch) writes the same notifications, not copies.
func TestReplayedStreamMakesNoCopies(t *testing.T) {
	h := newHarness(t)
	refs := []string{h.sa(body("Release", nil)), h.sa(body("Block", nil)), h.sa(body("Delete", nil))}
	want := []int{2, 2, 2}
	for i, r := range refs {
		h.sent(r, want[i])
	}
	// The replaying notifier reads the stream in order: once it has written the notifications of a
	// command applied after the replay began, it has written everything before it again.
	replayed := make(chan string, 16)
	h.replayStream(replayed)
	sentinel := h.sa(body("Release", nil))
	for done := false; !done; {
		select {
		case ref := <-replayed:
			done = ref == sentinel
		case <-time.After(30 * time.Second):
			t.Fatal("the replaying notifier did not reach the command applied after the replay began")
		}
	}
	for i, r := range refs {
		h.sent(r, want[i]) // fails on any other count
	}
}

// TestRetriedCallWithTheSameKey: the same Idempotency-Key from the same client answers the first
// answer again and queues nothing; with another body it answers 422; another client's same key is
// another call.
func TestRetriedCallWithTheSameKey(t *testing.T) {
	h := newHarness(t)
	queued := &countingQueue{Queue: h.queue}
	h.ingest.Accept = &commands.Acceptor{Store: h.st, Queue: queued, Now: h.clock, Log: quiet}
	call := func(caller, clientID, key string, raw []byte) (int, map[string]any) {
		ev := proxy("POST", map[string]string{"ingestionId": h.ingestID[caller]}, nil, raw, caller, []entity.Role{entity.ShippingAgent}, "ext-1")
		ev.RequestContext.Authorizer["clientId"] = clientID
		ev.Headers["Idempotency-Key"] = key
		resp, err := h.invoke(h.ingest.Handle, "/ingestion/v1/ingestion/"+h.ingestID[caller], ev)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		json.Unmarshal([]byte(resp.Body), &doc)
		return resp.StatusCode, doc
	}
	s1, first := call(sa1, "client-a", "order-42", body("Release", nil))
	s2, again := call(sa1, "client-a", `"order-42"`, body("Release", nil)) // the structured-field form
	if s1 != 202 || s2 != 202 || first["publicReferenceId"] != again["publicReferenceId"] {
		t.Fatalf("retry: %d %v, %d %v", s1, first, s2, again)
	}
	if n := queued.sent.Load(); n != 1 {
		t.Fatalf("the call and its retry queued %d commands, want 1", n)
	}
	ref := first["publicReferenceId"].(string)
	// Applied once: a Block queued after it on the same container applies after anything the
	// retry could have queued.
	h.sent(h.sa(body("Block", nil)), 2)
	eq(t, "the Release once", h.sent(ref, 2), sa1+" ReleaseLight ReleaseLightChanged Release", top+" ReleaseLight ReleaseLightChanged Release")
	if hist, _ := h.st.History(context.Background(), "BEANR", "CSQU3054383"); len(hist) != 2 {
		t.Fatalf("%d outcomes, want the Release and the Block", len(hist))
	}
	status, doc := call(sa1, "client-a", "order-42", body("Release", map[string]any{"vesselName": "OTHER"}))
	if status != 422 || doc["status"] != 422.0 || !strings.Contains(doc["detail"].(string), "Idempotency-Key") {
		t.Fatalf("same key, another body: %d %v", status, doc)
	}
	if status, doc := call(sa1, "client-b", "order-42", body("Release", map[string]any{"equipmentNumber": "CAIU7654324"})); status != 202 || doc["publicReferenceId"] == ref {
		t.Fatalf("another client's key: %d %v", status, doc)
	}
	if status, doc := call(sa1, "client-a", strings.Repeat("k", 256), body("Release", nil)); status != 400 || doc["errors"].(map[string]any)["Idempotency-Key"] == nil {
		t.Fatalf("a key of 256 characters: %d %v", status, doc)
	}
	// After 24 hours the key is free again.
	h.setClock(h.clock().Add(24*time.Hour + time.Minute))
	if status, doc := call(sa1, "client-a", "order-42", body("Release", map[string]any{"equipmentNumber": "CAIU1234561"})); status != 202 || doc["publicReferenceId"] == ref {
		t.Fatalf("the key after 24 hours: %d %v", status, doc)
	}
}

// failingQueue queues the first n messages of a call and then fails, as SQS failing midway would.
type failingQueue struct {
	commands.Queue
	n int
}

func (f failingQueue) Send(ctx context.Context, msgs ...commands.Message) error {
	if len(msgs) <= f.n {
		return f.Queue.Send(ctx, msgs...)
	}
	if err := f.Queue.Send(ctx, msgs[:f.n]...); err != nil {
		return err
	}
	return errors.New("SQS: service unavailable")
}

// TestBulkWithTheQueueFailingMidway: E4 whose queueing fails after 12 of 30 items still answers
// 202 (the call was accepted when its acceptance was written), and the relay queues the rest: all
// 30 apply, each once.
func TestBulkWithTheQueueFailingMidway(t *testing.T) {
	h := newHarness(t)
	var items []map[string]any
	for i := 0; i < 30; i++ {
		c := release.WithCheckDigit(fmt.Sprintf("BLKU%06d", i))
		h.released(c)
		items = append(items, rightItem(c, sa1, rp))
	}
	h.rights.Accept = &commands.Acceptor{Store: h.st, Queue: failingQueue{Queue: h.queue, n: 12}, Now: h.clock, Log: quiet}
	status, ref, doc := h.bulk(sa1, "Transfer", items...)
	if status != 202 {
		t.Fatalf("answered %d: %v", status, doc)
	}
	got := h.sent(ref, 60) // sender and receiver of every item
	for _, line := range got {
		if !strings.Contains(line, "Transferred Transfer") {
			t.Errorf("an item did not apply: %s", line)
		}
	}
}

// countingQueue counts the messages queued through it.
type countingQueue struct {
	commands.Queue
	sent atomic.Int64
}

func (q *countingQueue) Send(ctx context.Context, msgs ...commands.Message) error {
	q.sent.Add(int64(len(msgs)))
	return q.Queue.Send(ctx, msgs...)
}
