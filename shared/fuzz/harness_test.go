package fuzz

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/commands"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/identity"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/problem"
	"github.com/portcommunity/cpu/shared/release"
	"github.com/portcommunity/cpu/shared/store"
)

// clock is the time of every target but the token endpoint (whose tokens must verify against the
// real clock): fixed, so that a failing input reproduces whenever it is run again.
var clock = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return clock }

const (
	stage     = "fuzz"
	table     = "fuzz-table"
	requestID = "fuzz-request"
	sourceIP  = "192.0.2.10"

	// The caller of the authenticated routes, as the authorizer vouches for it, and its credentials.
	callerID     = "NXT200000001"
	callerVAT    = "BE0403170008"
	clientID     = "fuzz-client"
	clientSecret = "fuzz-secret-0123456789"
	ingestionID  = "1d6e0000-0000-4000-8000-000000000001"
	// otherID is another entity: the registry finds it, and it has notifications of its own that
	// the caller must never see.
	otherID  = "NXT200000002"
	otherVAT = "BE0403170701"
	// otherRef is a public reference whose notifications all went to otherID.
	otherRef = "7a1c0000-0000-4000-8000-00000000000b"
	// callerRef and callerRelease are the caller's.
	callerRef     = "7a1c0000-0000-4000-8000-00000000000a"
	callerRelease = "7e1e0000-0000-4000-8000-00000000000a"
)

var ports = release.ParsePorts("BEANR")

// secrets and signer are the token endpoint's keys, made once per process.
var secrets, signer = func() (*identity.SecretHasher, *identity.LocalSigner) {
	h, err := identity.GenerateSecretHasher()
	if err != nil {
		panic(err)
	}
	s, err := identity.GenerateLocalSigner()
	if err != nil {
		panic(err)
	}
	return h, s
}()

// fixture is the table every target starts from: two entities (the caller with a client and an
// ingestion id), and notifications for both inside the 168 hours. Built once per process through
// the store's own writes.
var fixture = sync.OnceValue(func() *memDB {
	db := newMemDB()
	st := store.New(db, table)
	ctx := context.Background()
	client, _, err := identity.NewClient(secrets, callerID, clientID, clientSecret, clock)
	if err != nil {
		panic(err)
	}
	for _, e := range []entity.Entity{callerEntity(), otherEntity()} {
		if err := e.Validate(); err != nil {
			panic(err)
		}
		var creds *identity.Issued
		if e.NxtEntityID == callerID {
			creds = &identity.Issued{Client: client, Ingestion: identity.IngestionID{ID: ingestionID, EntityID: callerID, Environment: stage, CreatedAt: clock}}
		}
		if err := st.Register(ctx, e, creds); err != nil {
			panic(err)
		}
	}
	var ns []notification.Notification
	for i, n := range []struct {
		to, ref, rel, container, event string
		age                            time.Duration
	}{
		{callerID, callerRef, callerRelease, "CSQU3054383", "ReleaseLightChanged", time.Hour},
		{callerID, callerRef, callerRelease, "CSQU3054383", "Transferred", 26 * time.Hour},
		{callerID, "7a1c0000-0000-4000-8000-00000000000c", "", "CAIU7654324", "NotValidated", 100 * time.Hour},
		{otherID, otherRef, "7e1e0000-0000-4000-8000-00000000000b", "CSQU3054383", "AcceptedByNextParty", 2 * time.Hour},
		{otherID, callerRef, callerRelease, "CSQU3054383", "Transferred", 26 * time.Hour},
	} {
		ns = append(ns, notification.Notification{
			NxtEntityID: n.to, EquipmentNumber: n.container, PublicReferenceID: n.ref, ReleaseID: n.rel,
			StoredOn: clock.Add(-n.age), Message: `{"event":"` + n.event + `"}`, Type: "ReleaseLight", Event: n.event, Seq: string(rune('0' + i)),
		})
	}
	if err := st.PutNotifications(ctx, ns); err != nil {
		panic(err)
	}
	return db
})

// callerEntity is the caller's registration; its identifiers are those a request may name it by.
func callerEntity() entity.Entity {
	e := entity.Entity{
		NxtEntityID: callerID, Name: "Scheldt Shipping Agency", VAT: callerVAT, EORI: callerVAT, SCAC: "SSAG", APCSCode: "SSA1",
		Addresses: []entity.Address{{AddressTypeCode: "1", City: "Antwerpen", Country: "BE"}},
		Roles:     []entity.Role{entity.ShippingAgent, entity.ReleaseParty},
	}
	e.Normalize()
	return e
}

func otherEntity() entity.Entity {
	e := entity.Entity{
		NxtEntityID: otherID, Name: "Albert Shipping Logistics", VAT: otherVAT, DUNS: "123456789",
		Addresses: []entity.Address{{AddressTypeCode: "1", City: "Gent", Country: "BE"}},
		Roles:     []entity.Role{entity.TransportOperator},
	}
	e.Normalize()
	return e
}

// callerContext is what the authorizer hands the function for the caller.
func callerContext() map[string]any {
	return map[string]any{apigw.CtxEntityID: callerID, apigw.CtxClientID: clientID, apigw.CtxRoles: "ShippingAgent,ReleaseParty"}
}

// request is an API Gateway proxy event of a route; headers with an empty value are not sent.
func request(method, resource, path string, pathParams map[string]string, headers map[string]string, body string) events.APIGatewayProxyRequest {
	ev := events.APIGatewayProxyRequest{
		Resource: resource, Path: path, HTTPMethod: method, PathParameters: pathParams, Body: body,
		Headers: map[string]string{}, MultiValueHeaders: map[string][]string{},
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: requestID, Identity: events.APIGatewayRequestIdentity{SourceIP: sourceIP}},
	}
	for k, v := range headers {
		if v != "" {
			ev.Headers[k], ev.MultiValueHeaders[k] = v, []string{v}
		}
	}
	return ev
}

// withQuery sets the query string as API Gateway's REST proxy passes it: split at & and at the
// first =, each part percent-decoded (kept as sent where it is not valid percent-encoding),
// repeated names in multiValueQueryStringParameters with the last one in
// queryStringParameters, both null when there is no parameter.
func withQuery(ev events.APIGatewayProxyRequest, raw string) events.APIGatewayProxyRequest {
	unescape := func(s string) string {
		if u, err := url.QueryUnescape(s); err == nil {
			return u
		}
		return s
	}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, v = unescape(k), unescape(v)
		if ev.QueryStringParameters == nil {
			ev.QueryStringParameters, ev.MultiValueQueryStringParameters = map[string]string{}, map[string][]string{}
		}
		ev.QueryStringParameters[k] = v
		ev.MultiValueQueryStringParameters[k] = append(ev.MultiValueQueryStringParameters[k], v)
	}
	return ev
}

// answer is what API Gateway would send back.
type answer struct {
	status  int
	headers map[string]string
	body    string
	// doc is the body decoded as a JSON object (nil when it is not one); list as a JSON array.
	doc  map[string]any
	list []any
}

// invoke runs the event through apigw.Lambda as the Lambda runtime does (the event as JSON in,
// the response as JSON out), so that the handler sees what API Gateway would send (JSON text
// carries no invalid UTF-8) and a panic or a Lambda error fails the input. It checks what every
// answer must be: a 2xx, or a 4xx problem+json document that states its status. logs collects
// the handlers' logs for the failure message.
func invoke(t testing.TB, h apigw.Handler, ev events.APIGatewayProxyRequest, logs *bytes.Buffer) answer {
	t.Helper()
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	out, err := lambda.NewHandler(apigw.Lambda(h, slog.New(slog.NewTextHandler(logs, nil)))).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("the function failed (API Gateway answers 502): %v\nlogs:\n%s", err, logs)
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("not a proxy response: %v: %s", err, out)
	}
	a := answer{status: resp.StatusCode, headers: resp.Headers, body: resp.Body}
	_ = json.Unmarshal([]byte(resp.Body), &a.doc)
	_ = json.Unmarshal([]byte(resp.Body), &a.list)
	switch {
	case a.status >= 500 || a.status < 200:
		t.Fatalf("status %d: %s\nlogs:\n%s", a.status, a.body, logs)
	case a.status >= 400:
		if ct := a.headers["Content-Type"]; ct != problem.ContentType {
			t.Fatalf("error %d answered as %q, not %s: %s", a.status, ct, problem.ContentType, a.body)
		}
		if title, _ := a.doc["title"].(string); a.doc["status"] != float64(a.status) || title == "" || a.doc["traceId"] != requestID {
			t.Fatalf("error %d: the problem document does not state its status, title and trace id: %s", a.status, a.body)
		}
	case a.headers["Content-Type"] == "application/json" && !json.Valid([]byte(a.body)):
		t.Fatalf("status %d with a body that is not JSON: %q", a.status, a.body)
	}
	return a
}

// want fails unless the answer has the status: the seeds' expectations, which keep the fuzzer
// honest (a valid seed must reach the success path, or every input would stay in error paths).
func want(t testing.TB, name string, a answer, status int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("seed %s: status %d, want %d: %s", name, a.status, status, a.body)
	}
}

// echoes checks externalReferenceId in an answer: the header as the function received it, null
// when none was sent.
func echoes(t testing.TB, a answer, ref string) {
	t.Helper()
	got, present := a.doc["externalReferenceId"]
	wantRef := any(nil)
	if ref != "" {
		wantRef = asReceived(ref)
	}
	if !present || got != wantRef {
		t.Fatalf("externalReferenceId %q, want %q: %s", got, wantRef, a.body)
	}
}

// asReceived is a text as the function receives it: after JSON, which turns each byte of invalid
// UTF-8 into U+FFFD (as API Gateway's event carries only valid UTF-8).
func asReceived(s string) string {
	raw, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(raw, &out)
	return out
}

// newLog is a logger whose lines go into the failure message of the input.
func newLog() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, nil)), &buf
}

// memQueue records what a call queues.
type memQueue struct{ msgs []commands.Message }

func (q *memQueue) Send(_ context.Context, msgs ...commands.Message) error {
	q.msgs = append(q.msgs, msgs...)
	return nil
}

// SQS FIFO limits a message must keep; an accepted call whose message SQS refuses would be
// retried by the relay for ever.
const (
	maxSQSBody = 256 << 10
	maxSQSID   = 128
)

// queued checks the messages of an accepted call as SQS would take them, and returns the
// commands they carry: a body of ASCII (MessageOf's promise, stricter than SQS's character set)
// that is one command, group and deduplication ids of 1 to 128 printable ASCII characters.
func queued(t testing.TB, q *memQueue) []release.Command {
	t.Helper()
	cmds := make([]release.Command, 0, len(q.msgs))
	for _, m := range q.msgs {
		for _, id := range []string{m.Group, m.Dedup} {
			if id == "" || len(id) > maxSQSID || strings.IndexFunc(id, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
				t.Fatalf("SQS refuses the message group or deduplication id %q", id)
			}
		}
		if len(m.Body) == 0 || len(m.Body) > maxSQSBody {
			t.Fatalf("SQS refuses a body of %d bytes", len(m.Body))
		}
		for _, b := range m.Body {
			if b >= utf8.RuneSelf || (b < ' ' && b != '\t' && b != '\n' && b != '\r') {
				t.Fatalf("a queued body holds byte %#x: %q", b, m.Body)
			}
		}
		var c release.Command
		if err := json.Unmarshal(m.Body, &c); err != nil {
			t.Fatalf("a queued body is not a command: %v", err)
		}
		if m.Group != c.GroupID() {
			t.Fatalf("message group %q for a command on %q", m.Group, c.GroupID())
		}
		cmds = append(cmds, c)
	}
	return cmds
}

// keyFields checks what every queued command names: a served port, a container number with a
// valid check digit, and 1 to MaxBillsOfLading B/L numbers.
func keyFields(t testing.TB, c release.Command) {
	t.Helper()
	r := c.Request
	if !ports[r.PortLoCode] || !release.ValidContainerNumber(r.EquipmentNumber) || len(r.BillOfLadingNumbers) == 0 || len(r.BillOfLadingNumbers) > release.MaxBillsOfLading {
		t.Fatalf("queued a command outside the limits: %+v", r)
	}
	for _, bl := range r.BillOfLadingNumbers {
		if bl == "" || utf8.RuneCountInString(bl) > release.MaxIdentifierChars {
			t.Fatalf("queued a B/L number outside the limits: %q", bl)
		}
	}
}
