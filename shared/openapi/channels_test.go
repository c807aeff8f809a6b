package openapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/channels"
	"github.com/portcommunity/cpu/shared/delivery"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/openapi/openapitest"
	"github.com/portcommunity/cpu/shared/secretbox"
	"github.com/portcommunity/cpu/shared/store"
	"github.com/portcommunity/cpu/shared/webhook"
)

const channelsBase = "/certified-pickup/v1/notification-channels"

// TestChannelEnvelopes: the channel's own envelopes, made by the real functions, are
// NotificationEnvelopes (the Ping that POST …/test delivers and the ChannelDisabled notice), the
// notice is a valid E7 row, and the envelope's type decides which body and events it may carry.
func TestChannelEnvelopes(t *testing.T) {
	v := openapitest.Default(t)
	at := time.Date(2026, 11, 22, 10, 15, 0, 412_000_000, time.UTC)
	ch := webhook.Channel{ID: "6d6d14d3-367f-4ccd-b09e-fc50d694a4ef", EntityID: "NXT200000005", Name: "Release desk"}

	_, ping := webhook.Ping(ch, at)
	if err := v.Message(string(ping)); err != nil {
		t.Errorf("Ping: %v\n%s", err, ping)
	}
	notice := webhook.DisabledNotice(ch, "the receiver answered 410 Gone", at)
	if err := v.Message(notice.Message); err != nil {
		t.Errorf("ChannelDisabled: %v\n%s", err, notice.Message)
	}

	// E7 answers the stored notice as it answers every notification.
	rows, err := json.Marshal([]notification.Notification{notice})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "http://127.0.0.1:8080/certified-pickup/v1/notifications?notificationEvent=ChannelDisabled", nil)
	req.Header.Set("Authorization", "Bearer t")
	req.Header.Set("Ocp-Apim-Subscription-Key", "k")
	if err := v.Check(req, nil, 200, http.Header{"Content-Type": {"application/json"}}, rows); err != nil {
		t.Errorf("E7 with a ChannelDisabled notification: %v\n%s", err, rows)
	}

	// The type chooses the body and the events.
	var env map[string]any
	if err := json.Unmarshal(ping, &env); err != nil {
		t.Fatal(err)
	}
	releaseBody := map[string]any{"portLoCode": "BEANR", "equipmentNumber": "CSQU3054383", "billOfLadingNumbers": []string{"BL1"}}
	for name, change := range map[string]func(map[string]any){
		"a channel notice with a release body": func(e map[string]any) { e["body"] = releaseBody },
		"a channel notice of a release event":  func(e map[string]any) { e["event"] = "Transferred" },
		"a release notification of Ping":       func(e map[string]any) { e["type"], e["body"] = "ReleaseLight", releaseBody },
		"a release notification with a channel body": func(e map[string]any) {
			e["type"], e["event"] = "ReleaseLight", "ReleaseLightChanged"
		},
		"a channel body with another field": func(e map[string]any) {
			e["body"] = map[string]any{"channelId": ch.ID, "name": "n", "url": "https://x.example"}
		},
	} {
		bad := map[string]any{}
		for k, x := range env {
			bad[k] = x
		}
		change(bad)
		raw, _ := json.Marshal(bad)
		if err := v.Message(string(raw)); err == nil {
			t.Errorf("%s passes as a NotificationEnvelope: %s", name, raw)
		}
	}
}

// TestChannelVocabulary: the document's event enum is the platform's (E7's notificationEvent and
// the filters), and every filter value the code accepts, in its canonical spelling, is one the
// document's ChannelFilter accepts.
func TestChannelVocabulary(t *testing.T) {
	v := openapitest.Default(t)
	doc := v.Doc()
	var events []string
	for _, e := range doc.Components.Schemas["NotificationEvent"].Value.Enum {
		events = append(events, e.(string))
	}
	if !slices.Equal(events, notification.Events) {
		t.Errorf("NotificationEvent %v, the platform's events %v", events, notification.Events)
	}
	var types []string
	for _, e := range doc.Components.Schemas["NotificationType"].Value.Enum {
		types = append(types, e.(string))
	}
	var filter []string
	for _, typ := range webhook.Types {
		if !slices.Contains(types, typ) {
			t.Errorf("the filter's type %s is not a NotificationType", typ)
		}
		filter = append(filter, typ)
		for _, e := range notification.Events {
			filter = append(filter, typ+"/"+e)
		}
	}
	for _, f := range filter {
		if c, ok := webhook.CanonicalFilter(strings.ToLower(f)); !ok || c != f {
			t.Errorf("CanonicalFilter(%q) = %q, %v", strings.ToLower(f), c, ok)
		}
	}
	for i := 0; i < len(filter); i += webhook.MaxFilterValues {
		raw, _ := json.Marshal(filter[i:min(i+webhook.MaxFilterValues, len(filter))])
		if err := v.Schema("ChannelFilter", raw); err != nil {
			t.Error(err)
		}
	}
	for _, bad := range []string{`["GateEvent"]`, `["Channel/Ping"]`, `["ReleaseLight/"]`} {
		if _, ok := webhook.CanonicalFilter(strings.Trim(bad, `[]"`)); ok {
			t.Errorf("the code accepts the filter %s", bad)
		}
		if v.Schema("ChannelFilter", []byte(bad)) == nil {
			t.Errorf("the document accepts the filter %s", bad)
		}
	}
}

// TestChannelEndpoints drives the real channel handlers (over an in-memory store, a local secret
// box and a test receiver) through every documented answer, and checks each exchange against the
// document as the end-to-end tests do.
func TestChannelEndpoints(t *testing.T) {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("webhook-signature") == "" || r.Header.Get("webhook-id") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()
	box, err := secretbox.NewLocal(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	st := &memChannels{}
	replays := &memReplays{}
	api := &channels.API{
		Store: st, Secrets: box, Now: time.Now,
		CheckURL: func(_ context.Context, raw string) error {
			if strings.Contains(raw, "10.0.0.1") {
				return fmt.Errorf("the address 10.0.0.1 is private")
			}
			return nil
		},
		Sender:  &delivery.Sender{HTTP: &http.Client{Timeout: 5 * time.Second}, Secrets: box, Now: time.Now},
		Replays: replays,
	}
	x := exchanger{t: t}
	const other = "2469cf86-fcac-4938-89a3-1b4ff8db92a2"

	// Create.
	created := x.do(api.Create, "POST", "", "", `{"name":"Operations","url":"`+receiver.URL+`/hook","headers":{"X-Api-Key":"k-1"}}`, 201)
	var c struct {
		ChannelID     string `json:"channelId"`
		SigningSecret string `json:"signingSecret"`
	}
	if err := json.Unmarshal(created, &c); err != nil || c.ChannelID == "" || !strings.HasPrefix(c.SigningSecret, "whsec_") {
		t.Fatalf("create: %v %s", err, created)
	}
	id := c.ChannelID
	// Enum values in another case: the document gives the canonical spelling, the API is lenient.
	x.lenient().do(api.Create, "POST", "", "", `{"name":"Desk","url":"https://hooks.example.com/cpu","filter":["releaselight","ReleaseRight/transferred","ReleaseLight"],`+
		`"authentication":{"type":"OAuth2Password","tokenEndpoint":"https://login.example.com/token","clientId":"c","clientSecret":"s","username":"u","password":"p","scopes":"a b","authHeaders":{"X-Tenant":"t"}}}`, 201)
	x.do(api.Create, "POST", "", "", ``, 400)
	x.do(api.Create, "POST", "", "", `{"name":"x","url":"https://hooks.example.com","secret":"s"}`, 400)
	x.do(api.Create, "POST", "", "", `{"name":"x","url":"https://10.0.0.1/","headers":{"Host":"h","webhook-id":"x"},"filter":["Nope"],`+
		`"authentication":{"type":"OAuth2ClientCredentials","username":"u"}}`, 400)
	x.do(api.Create, "POST", "", "", `{"name":"","url":"https://hooks.example.com","enabled":"yes"}`, 400)
	for len(st.all("NXT200000001")) < webhook.MaxChannels {
		x.do(api.Create, "POST", "", "", `{"name":"more","url":"https://hooks.example.com"}`, 201)
	}
	x.do(api.Create, "POST", "", "", `{"name":"one too many","url":"https://hooks.example.com"}`, 400)

	// Read.
	x.do(api.List, "GET", "", "", "", 200)
	x.do(api.Get, "GET", id, "", "", 200)
	x.do(api.Get, "GET", other, "", "", 404)
	x.do(api.Get, "GET", "not-a-guid", "", "", 404)

	// Test, rotate, and the delivery log they fill.
	x.do(api.Test, "POST", id+"/test", "", "", 200)
	x.do(api.Rotate, "POST", id+"/rotate-secret", "", "", 200)
	x.do(api.Test, "POST", id+"/test", "", "", 200) // signed twice now
	x.do(api.Test, "POST", other+"/test", "", "", 404)
	x.do(api.Deliveries, "GET", id+"/deliveries", "", "", 200)
	x.lenient().do(api.Deliveries, "GET", id+"/deliveries", "status=delivered&from=2026-01-01T00:00:00Z&to=2099-01-01T00:00:00.5%2B01:00&publicReferenceId=6B1F2E0A-4C3D-4E5F-8A9B-0C1D2E3F4A5B", "", 200)
	st.nextPage = "position"
	x.do(api.Deliveries, "GET", id+"/deliveries", "status=Failed", "", 200)
	st.nextPage = ""
	x.do(api.Deliveries, "GET", id+"/deliveries", "status=Gone&from=yesterday&outcome=x&pageToken=***", "", 400)
	x.do(api.Deliveries, "GET", other+"/deliveries", "", "", 404)

	// Replay.
	x.do(api.Replay, "POST", id+"/replay", "", `{"from":"2026-11-21T06:00:00Z","to":"2026-11-21T09:30:00+01:00"}`, 202)
	x.do(api.Replay, "POST", id+"/replay", "", `{"publicReferenceIds":["6b1f2e0a-4c3d-4e5f-8a9b-0c1d2e3f4a5b","6B1F2E0A-4C3D-4E5F-8A9B-0C1D2E3F4A5B"]}`, 202)
	x.do(api.Replay, "POST", id+"/replay", "", `{"from":"2026-11-21T06:00:00Z","to":"2026-11-21T09:30:00Z","publicReferenceIds":["6b1f2e0a-4c3d-4e5f-8a9b-0c1d2e3f4a5b"]}`, 400)
	x.do(api.Replay, "POST", id+"/replay", "", `{}`, 400)
	x.do(api.Replay, "POST", id+"/replay", "", `{"from":"2026-11-21T09:30:00Z","to":"2026-11-21T06:00:00Z"}`, 400)
	x.do(api.Replay, "POST", id+"/replay", "", `{"publicReferenceIds":["nope"]}`, 400)
	x.do(api.Replay, "POST", other+"/replay", "", `{"publicReferenceIds":["6b1f2e0a-4c3d-4e5f-8a9b-0c1d2e3f4a5b"]}`, 404)
	if len(replays.got) != 2 {
		t.Errorf("%d replays queued, want 2", len(replays.got))
	}

	// Replace: disable, replay refused, concurrent change, enable.
	x.do(api.Replace, "PUT", id, "", `{"name":"Operations","url":"`+receiver.URL+`/hook","enabled":false}`, 200)
	x.do(api.Replay, "POST", id+"/replay", "", `{"publicReferenceIds":["6b1f2e0a-4c3d-4e5f-8a9b-0c1d2e3f4a5b"]}`, 409)
	x.do(api.Test, "POST", id+"/test", "", "", 200) // a disabled channel can be tested
	x.do(api.Replace, "PUT", id, "", `{"name":"Operations","url":"`+receiver.URL+`/hook","headers":{"Content-Length":"1"}}`, 400)
	st.conflict = true
	x.do(api.Replace, "PUT", id, "", `{"name":"Operations","url":"`+receiver.URL+`/hook"}`, 409)
	x.do(api.Rotate, "POST", id+"/rotate-secret", "", "", 409)
	st.conflict = false
	x.do(api.Replace, "PUT", id, "", `{"name":"Operations","url":"`+receiver.URL+`/hook","enabled":true}`, 200)
	x.do(api.Replace, "PUT", other, "", `{"name":"Operations","url":"https://hooks.example.com"}`, 404)

	// The platform disables a channel (as after a 410): it answers Disabled with its reason.
	st.disable(id, "the receiver answered 410 Gone")
	x.do(api.Get, "GET", id, "", "", 200)

	// Delete.
	x.do(api.Delete, "DELETE", id, "", "", 204)
	x.do(api.Delete, "DELETE", id, "", "", 404)
	x.do(api.Get, "GET", id, "", "", 404)

	// A receiver that does not answer: 200 all the same, with the error.
	dead := x.do(api.Create, "POST", "", "", `{"name":"Gone","url":"http://127.0.0.1:1/hook"}`, 201)
	if err := json.Unmarshal(dead, &c); err != nil {
		t.Fatal(err)
	}
	if got := x.do(api.Test, "POST", c.ChannelID+"/test", "", "", 200); !strings.Contains(string(got), `"status":null`) {
		t.Errorf("test of a dead receiver: %s", got)
	}

	// Another company sees none of them.
	x.entity = "NXT200000002"
	x.do(api.List, "GET", "", "", "", 200)
	x.do(api.Get, "GET", st.all("NXT200000001")[0].ID, "", "", 404)
}

// exchanger calls a handler as API Gateway would and checks the exchange against the document.
type exchanger struct {
	t       *testing.T
	entity  string
	relaxed bool // the request may spell enum values in another case (openapitest's CheckLenient)
}

func (x exchanger) lenient() exchanger {
	x.relaxed = true
	return x
}

func (x exchanger) do(h apigw.Handler, method, sub, query, body string, want int) []byte {
	x.t.Helper()
	entity := x.entity
	if entity == "" {
		entity = "NXT200000001"
	}
	path := channelsBase
	resource := channelsBase
	params := map[string]string{}
	if sub != "" {
		id, rest, _ := strings.Cut(sub, "/")
		path += "/" + sub
		resource += "/{channelId}"
		if rest != "" {
			resource += "/" + rest
		}
		params["channelId"] = id
	}
	headers := map[string]string{"Authorization": "Bearer t", "Ocp-Apim-Subscription-Key": "k"}
	if body != "" {
		headers["Content-Type"] = "application/json"
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		x.t.Fatal(err)
	}
	ev := events.APIGatewayProxyRequest{
		HTTPMethod: method, Path: path, Resource: resource, PathParameters: params, Headers: headers,
		MultiValueQueryStringParameters: q, Body: body,
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "8d0f7a52-3c1e-4a49-9a55-3f1d2b0c6e11", Authorizer: map[string]any{
			apigw.CtxEntityID: entity, apigw.CtxClientID: "client-1", apigw.CtxRoles: "ReleaseParty",
		}},
	}
	resp, err := apigw.Lambda(h, slog.New(slog.DiscardHandler))(context.Background(), ev)
	if err != nil {
		x.t.Fatal(err)
	}
	target := "http://127.0.0.1:8080" + path
	if query != "" {
		target += "?" + query
	}
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	header := http.Header{}
	for k, v := range resp.Headers {
		header.Set(k, v)
	}
	if resp.StatusCode != want {
		x.t.Errorf("%s %s?%s %s: %d, want %d: %s", method, path, query, body, resp.StatusCode, want, resp.Body)
	}
	// A request the API refuses may break the document's rules: Check only asks that it be refused.
	check := openapitest.Default(x.t).Check
	if x.relaxed {
		check = openapitest.Default(x.t).CheckLenient
	}
	if err := check(req, []byte(body), resp.StatusCode, header, []byte(resp.Body)); err != nil {
		x.t.Errorf("%s %s?%s %s answered %d: %v\n%s", method, path, query, body, resp.StatusCode, err, resp.Body)
	}
	return []byte(resp.Body)
}

// memChannels is channels.Store in memory.
type memChannels struct {
	mu        sync.Mutex
	chs       []webhook.Channel
	log       []webhook.Attempt
	conflict  bool   // the next writes find the channel changed
	nextPage  string // Attempts answers this Next
	lastQuery webhook.LogQuery
}

func (m *memChannels) all(entity string) []webhook.Channel {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []webhook.Channel
	for _, c := range m.chs {
		if c.EntityID == entity {
			out = append(out, c)
		}
	}
	return out
}

func (m *memChannels) CreateChannel(_ context.Context, c webhook.Channel) error {
	if len(m.all(c.EntityID)) >= webhook.MaxChannels {
		return store.ErrChannelLimit
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.chs = append(m.chs, c)
	return nil
}

func (m *memChannels) Channels(_ context.Context, entity string) ([]webhook.Channel, error) {
	return m.all(entity), nil
}

func (m *memChannels) Channel(_ context.Context, entity, id string) (webhook.Channel, error) {
	for _, c := range m.all(entity) {
		if c.ID == id {
			return c, nil
		}
	}
	return webhook.Channel{}, webhook.ErrNotFound
}

func (m *memChannels) ReplaceChannel(_ context.Context, c webhook.Channel, readVersion int, _ bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, old := range m.chs {
		if old.ID == c.ID && old.EntityID == c.EntityID {
			if m.conflict || old.Version != readVersion {
				return store.ErrChannelChanged
			}
			m.chs[i] = c
			return nil
		}
	}
	return webhook.ErrNotFound
}

func (m *memChannels) DeleteChannel(_ context.Context, entity, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, c := range m.chs {
		if c.ID == id && c.EntityID == entity {
			m.chs = slices.Delete(m.chs, i, i+1)
			return nil
		}
	}
	return webhook.ErrNotFound
}

func (m *memChannels) Attempts(_ context.Context, q webhook.LogQuery) (webhook.LogPage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastQuery = q
	page := webhook.LogPage{Items: []webhook.Attempt{}, Next: m.nextPage}
	for i := len(m.log) - 1; i >= 0 && len(page.Items) < q.Limit; i-- {
		a := m.log[i]
		if a.ChannelID == q.ChannelID && !a.Time.Before(q.From) && a.Time.Before(q.To) && (q.Outcome == "" || string(a.Outcome) == q.Outcome) &&
			(q.Ref == "" || a.PublicReferenceID == q.Ref) {
			page.Items = append(page.Items, a)
		}
	}
	return page, nil
}

func (m *memChannels) AppendAttempts(_ context.Context, as []webhook.Attempt) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log = append(m.log, as...)
	return nil
}

// disable does what the store's DisableChannel does for the deliverer.
func (m *memChannels) disable(id, reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.chs {
		if m.chs[i].ID == id {
			now := time.Now().UTC()
			c := &m.chs[i]
			c.Enabled, c.Status, c.DisabledReason, c.DisabledSince = false, webhook.StatusDisabled, reason, &now
			c.Version++
		}
	}
}

type memReplays struct{ got []webhook.Replay }

func (r *memReplays) Request(_ context.Context, rp webhook.Replay) error {
	r.got = append(r.got, rp)
	return nil
}
