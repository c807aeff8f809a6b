package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/commands"
	"github.com/portcommunity/cpu/shared/consumer"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/identity"
	"github.com/portcommunity/cpu/shared/localstack"
	"github.com/portcommunity/cpu/shared/localstack/testenv"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/notifier"
	"github.com/portcommunity/cpu/shared/reads"
	"github.com/portcommunity/cpu/shared/release"
	"github.com/portcommunity/cpu/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	sa1  = "NXT200000001"
	sa2  = "NXT200000002"
	top  = "NXT200000003" // terminal 01700
	top2 = "NXT200000004" // terminals 0100, 0200
	rp   = "NXT200000005"
	tro  = "NXT200000007"
)

var quiet = slog.New(slog.NewJSONHandler(io.Discard, nil))

// invoker calls a handler as the Lambda runtime would.
type invoker struct{ h lambda.Handler }

func (i invoker) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	out, err := i.h.Invoke(ctx, payload)
	if err != nil {
		return nil, &localstack.FunctionError{Type: "Handler", Message: err.Error()}
	}
	return out, nil
}

// harness is the pipeline on DynamoDB Local and fauxqs, with a clock the test moves.
type harness struct {
	t        *testing.T
	st       *store.Store
	ingest   *commands.Ingest
	accept   *commands.Acceptor
	consumer *consumer.Consumer
	e7       apigw.Handler
	queue    awsedge.FIFOQueue
	rights   *commands.Rights
	dlq      string
	sqs      *sqs.Client
	ingestID map[string]string
	table    string
	pctx     context.Context
	mu       sync.Mutex
	now      time.Time
	batches  []int // sizes of the batches the consumer received, in order
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) setClock(t time.Time) {
	h.mu.Lock()
	h.now = t
	h.mu.Unlock()
}

func party(id, name string, vat int, roles []entity.Role, terminals ...string) entity.Entity {
	e := entity.Entity{NxtEntityID: id, Name: name, VAT: fmt.Sprintf("BE%08d%02d", vat, 97-vat%97), Roles: roles, TerminalCodes: terminals,
		Addresses: []entity.Address{{AddressTypeCode: "1", City: "Antwerpen", Country: "BE"}}}
	e.EORI = e.VAT
	e.Normalize()
	return e
}

// newHarness builds the pipeline for one test and starts its queue poller and notifier. Tests
// run in parallel: each has its own table and queues on the shared stand-ins.
func newHarness(t *testing.T) *harness {
	t.Helper()
	h := newStoppedHarness(t)
	h.start()
	return h
}

// newStoppedHarness builds the pipeline without polling the queue yet, so that a test can fill the
// queue first and have the consumer receive it in one batch.
func newStoppedHarness(t *testing.T) *harness {
	t.Helper()
	t.Parallel()
	return build(t, testenv.Table(t))
}

// newVolumeHarness is the harness of the tests that write thousands of items: a table without a
// stream, and only the queue's poller. DynamoDB Local keeps every stream record of every table in
// one store whose upkeep grows with it: 10,000 notifications made every later test of the package
// twenty times slower. These tests need no stream consumer (they read outcomes and write
// notifications themselves), and they run alone, before the parallel tests.
func newVolumeHarness(t *testing.T) *harness {
	t.Helper()
	h := build(t, testenv.TableWithoutStream(t))
	sp := &localstack.SQSPoller{Client: h.sqs, QueueURL: h.queue.URL, BatchSize: 10, Invoker: invoker{lambda.NewHandler(h.consumer.Handle)},
		Log: quiet, RetryDelay: time.Second}
	go sp.Run(h.pctx)
	return h
}

func build(t *testing.T, table string) *harness {
	t.Helper()
	ctx := context.Background()
	b := testenv.Backends()
	st := store.New(b.DynamoDB(), table)
	h := &harness{t: t, st: st, ingestID: map[string]string{}, now: time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)}
	for _, e := range []entity.Entity{
		party(sa1, "Scheldt Shipping Agency", 4031700, []entity.Role{entity.ShippingAgent}),
		party(sa2, "Noordzee Maritime Agencies", 4031701, []entity.Role{entity.ShippingAgent}),
		party(top, "Deurganck Container Terminal", 4031702, []entity.Role{entity.TerminalOperator}, "01700"),
		party(top2, "Europa Quay Terminal", 4031703, []entity.Role{entity.TerminalOperator}, "0100", "0200"),
		party(rp, "Kempen Forwarding", 4031704, []entity.Role{entity.ReleaseParty}),
		party(tro, "Albert Canal Trucking", 4031705, []entity.Role{entity.TransportOperator}),
	} {
		in, _ := identity.NewIngestionID(e.NxtEntityID, "test", "", time.Now())
		if err := st.Register(ctx, e, &identity.Issued{Ingestion: in}); err != nil {
			t.Fatal(err)
		}
		h.ingestID[e.NxtEntityID] = in.ID
	}
	sqsClient := b.SQS()
	urls := localstack.QueueURLs{}
	q := catalog.Queue{Name: "commands-" + uuid.NewString()[:8], FIFO: true, MaxAttempts: 3, MaxReceives: 10, VisibilityTimeout: 30 * time.Second}
	if err := localstack.CreateQueue(ctx, sqsClient, q, urls); err != nil {
		t.Fatal(err)
	}
	h.queue, h.dlq = awsedge.FIFOQueue{Client: sqsClient, URL: urls[q.Name]}, urls[q.DLQName()]
	h.accept = &commands.Acceptor{Store: st, Queue: h.queue, Now: h.clock, Log: quiet}
	h.ingest = &commands.Ingest{IDs: st, Accept: h.accept, Ports: release.ParsePorts("BEANR"), Stage: "test", Now: time.Now}
	h.rights = &commands.Rights{IDs: st, Accept: h.accept, Ports: release.ParsePorts("BEANR")}
	h.consumer = &consumer.Consumer{Store: consumer.CachedLookups(st, time.Minute, time.Now), Now: h.clock, Log: quiet, NewID: consumer.NewID, Attempts: st, MaxAttempts: q.MaxAttempts,
		DeadLetters: awsedge.DeadLetterQueue{Client: sqsClient, URL: h.dlq, ParkedBy: "test"}}
	h.e7 = reads.Notifications(st, h.clock, nil, slog.New(slog.NewJSONHandler(io.Discard, nil)))

	pctx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	h.table, h.pctx = table, pctx
	h.sqs = sqsClient
	return h
}

// start polls the command queue (as the event source mapping does) and starts the notifier.
func (h *harness) start() {
	// The consumer as its event source mapping calls it, telling the test the size of each batch.
	consume := func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		h.mu.Lock()
		h.batches = append(h.batches, len(ev.Records))
		h.mu.Unlock()
		return h.consumer.Handle(ctx, ev)
	}
	sp := &localstack.SQSPoller{Client: h.sqs, QueueURL: h.queue.URL, BatchSize: 10, Invoker: invoker{lambda.NewHandler(consume)},
		Log: quiet, RetryDelay: time.Second}
	go sp.Run(h.pctx)
	h.replayStream()
	h.relayStream()
}

// relayStream starts the relay on the table's stream, as the command-relay function runs in AWS.
func (h *harness) relayStream() {
	b := testenv.Backends()
	arn, err := localstack.LatestStreamArn(context.Background(), b.Streams(), h.table)
	if err != nil {
		h.t.Fatal(err)
	}
	filter, _ := localstack.ParseFilter(catalog.AcceptanceFilter)
	r := &commands.Relay{Store: h.st, Queue: h.queue, FromStream: store.AcceptanceFromStream, Now: h.clock, Log: quiet}
	stp := &localstack.StreamPoller{Streams: b.Streams(), StreamArn: arn, BatchSize: 10, Filter: filter,
		Invoker: invoker{lambda.NewHandler(r.Handle)}, MaxRetries: catalog.RetryUntilExpired, RetryDelay: 100 * time.Millisecond, Log: quiet}
	go stp.Run(h.pctx)
}

// replayStream starts a notifier on the table's stream from its oldest record; when written is
// not nil it receives the public reference of every notification the notifier writes.
func (h *harness) replayStream(written ...chan string) {
	b := testenv.Backends()
	arn, err := localstack.LatestStreamArn(context.Background(), b.Streams(), h.table)
	if err != nil {
		h.t.Fatal(err)
	}
	// The notifier's half of the notification consumer (the harness has no channels to dispatch to).
	filter, _ := localstack.ParseFilter(`{"eventName":["INSERT"],"dynamodb":{"NewImage":{"itemType":{"S":["Outcome"]}}}}`)
	var out notifier.Notifications = h.st
	if len(written) > 0 {
		out = recording{Notifications: h.st, written: written[0]}
	}
	n := &notifier.Notifier{Store: out, Log: quiet}
	stp := &localstack.StreamPoller{Streams: b.Streams(), StreamArn: arn, BatchSize: 100, Filter: filter,
		Invoker: invoker{lambda.NewHandler(n.Handle)}, MaxRetries: 3, RetryDelay: 100 * time.Millisecond, Log: quiet}
	go stp.Run(h.pctx)
}

// body builds an E1 body; mutate adds or replaces fields.
func body(action string, mutate map[string]any) []byte {
	b := map[string]any{
		"releaseIdentification": "REL-1", "equipmentNumber": "CSQU3054383", "billOfLadingNumbers": []string{"BL1"},
		"portLoCode": "BEANR", "terminalCode": "01700", "actionType": action,
	}
	if action == "Release" || action == "Update" {
		b["carrier"] = map[string]string{"identificationType": "NxtEntityId", "identificationCode": sa1}
		b["isCarrierHaulage"] = true
		b["releaseDateTimeUtc"] = "2026-11-21T08:00:00Z"
	}
	for k, v := range mutate {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	raw, _ := json.Marshal(b)
	return raw
}

// post calls E1 as caller; it returns the status and the public reference id.
func (h *harness) post(caller string, roles []entity.Role, ingestionID string, raw []byte) (int, string, map[string]any) {
	h.t.Helper()
	return h.postWith(h.invoke, caller, roles, ingestionID, raw)
}

// postLenient is post for a body the API accepts in a form the document does not spell.
func (h *harness) postLenient(caller string, roles []entity.Role, ingestionID string, raw []byte) (int, string, map[string]any) {
	h.t.Helper()
	return h.postWith(h.invokeLenient, caller, roles, ingestionID, raw)
}

func (h *harness) postWith(invoke func(apigw.Handler, string, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error),
	caller string, roles []entity.Role, ingestionID string, raw []byte) (int, string, map[string]any) {
	h.t.Helper()
	ref := "ext-" + uuid.NewString()[:8]
	resp, err := invoke(h.ingest.Handle, "/ingestion/v1/ingestion/"+ingestionID, proxy("POST", map[string]string{"ingestionId": ingestionID}, nil, raw, caller, roles, ref))
	if err != nil {
		h.t.Fatal(err)
	}
	var doc map[string]any
	json.Unmarshal([]byte(resp.Body), &doc)
	if resp.StatusCode == 202 && doc["externalReferenceId"] != ref {
		h.t.Fatalf("externalReferenceId not echoed: %v", doc)
	}
	s, _ := doc["publicReferenceId"].(string)
	return resp.StatusCode, s, doc
}

// sa posts as shipping agent 1 through its own ingestion id and expects 202.
func (h *harness) sa(raw []byte) string {
	h.t.Helper()
	status, ref, doc := h.post(sa1, []entity.Role{entity.ShippingAgent}, h.ingestID[sa1], raw)
	if status != 202 {
		h.t.Fatalf("E1 answered %d: %v", status, doc)
	}
	return ref
}

// sent returns "receiver type event actionType" of every notification of a reference, once the
// expected number are stored.
func (h *harness) sent(ref string, want int) []string {
	h.t.Helper()
	var got []notification.Notification
	testenv.Eventually(20*time.Second, func() bool {
		var err error
		got, err = h.st.NotificationsUnder(context.Background(), ref)
		if err != nil {
			h.t.Fatal(err)
		}
		return len(got) >= want
	})
	var out []string
	for _, n := range got {
		var env notification.Envelope
		if err := json.Unmarshal([]byte(n.Message), &env); err != nil {
			h.t.Fatal(err)
		}
		line := fmt.Sprintf("%s %s %s %s", n.NxtEntityID, n.Type, n.Event, env.Body.ActionType)
		if len(env.Errors) > 0 {
			line += " errors"
		}
		out = append(out, strings.TrimSpace(line))
	}
	sortStrings(out)
	if len(out) != want {
		h.t.Fatalf("reference %s: %d notifications, want %d: %v", ref, len(out), want, out)
	}
	return out
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// recording passes notifications to the store and tells which references were written.
type recording struct {
	notifier.Notifications
	written chan string
}

func (r recording) PutNotifications(ctx context.Context, ns []notification.Notification) error {
	err := r.Notifications.PutNotifications(ctx, ns)
	if err == nil && len(ns) > 0 {
		select {
		case r.written <- ns[0].PublicReferenceID:
		case <-ctx.Done():
		}
	}
	return err
}
