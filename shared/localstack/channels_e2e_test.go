package localstack_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/portcommunity/cpu/shared/localstack/testenv"
)

// receiver is a webhook receiver on loopback that verifies every delivery with the Standard
// Webhooks reference library (an implementation independent of the platform's) and records it.
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	// secrets the signature may match (the reference library checks one secret at a time).
	secrets []string
	got     []delivered
	// answer decides the status of each verified delivery (200 when nil).
	answer func(n int, r *http.Request) int
	// retryAfter, when set, is sent as Retry-After with every answer.
	retryAfter string
	bad        []string
}

type delivered struct {
	id, timestamp, signature, auth string
	body                           []byte
	at                             time.Time
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		verified := false
		for _, s := range rc.secrets {
			wh, err := standardwebhooks.NewWebhook(s)
			if err == nil && wh.Verify(body, r.Header) == nil {
				verified = true
			}
		}
		if !verified {
			rc.bad = append(rc.bad, r.Header.Get("webhook-id"))
			w.WriteHeader(401)
			return
		}
		rc.got = append(rc.got, delivered{id: r.Header.Get("webhook-id"), timestamp: r.Header.Get("webhook-timestamp"),
			signature: r.Header.Get("webhook-signature"), auth: r.Header.Get("Authorization"), body: body, at: time.Now()})
		status := 200
		if rc.answer != nil {
			status = rc.answer(len(rc.got), r)
		}
		if rc.retryAfter != "" {
			w.Header().Set("Retry-After", rc.retryAfter)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) deliveries() []delivered {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivered(nil), rc.got...)
}

func (rc *receiver) rejected() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.bad)
}

func (rc *receiver) setSecrets(s ...string) {
	rc.mu.Lock()
	rc.secrets = s
	rc.mu.Unlock()
}

// party is a seed entity's headers for the API.
func party(t *testing.T, api string, i int) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token(t, api, i), "Ocp-Apim-Subscription-Key": seedFile.Entities[i].Credentials.SubscriptionKey,
		"Content-Type": "application/json"}
}

const channelsPath = "/certified-pickup/v1/notification-channels"

// apiPoll is how often a test asks the API for evidence (inside 500 calls a minute per key).
const apiPoll = 250 * time.Millisecond

// createChannel makes a channel through the API and answers its id and signing secret.
func createChannel(t *testing.T, api string, h map[string]string, body map[string]any) (string, string) {
	t.Helper()
	raw, _ := json.Marshal(body)
	a := call(t, "POST", api+channelsPath, h, string(raw))
	if a.status != 201 {
		t.Fatalf("create channel: %d %s", a.status, a.rawBody)
	}
	secret, _ := a.body["signingSecret"].(string)
	if !strings.HasPrefix(secret, "whsec_") || a.body["status"] != "Active" {
		t.Fatalf("create channel answered %s", a.rawBody)
	}
	return a.body["channelId"].(string), secret
}

// askRights makes one notification for the caller: E2's answer arrives as a ReleaseRight/Update
// notification to the caller alone. It answers the public reference.
func askRights(t *testing.T, api string, h map[string]string) string {
	t.Helper()
	a := call(t, "GET", api+"/certified-pickup/v1/BEANR/containers/import/release-rights?page=1&pageSize=25", h, "")
	if a.status != 200 {
		t.Fatalf("E2: %d %s", a.status, a.rawBody)
	}
	return a.body["publicReferenceId"].(string)
}

type logEntry struct {
	WebhookID         string `json:"webhookId"`
	PublicReferenceID string `json:"publicReferenceId"`
	Attempt           int    `json:"attempt"`
	Time              string `json:"time"`
	Status            *int   `json:"status"`
	Error             string `json:"error"`
	Outcome           string `json:"outcome"`
}

func deliveryLog(t *testing.T, api string, h map[string]string, id, query string) []logEntry {
	t.Helper()
	a := call(t, "GET", api+channelsPath+"/"+id+"/deliveries"+query, h, "")
	if a.status != 200 {
		t.Fatalf("delivery log: %d %s", a.status, a.rawBody)
	}
	var out []logEntry
	if err := json.Unmarshal(a.rawBody, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestChannelReceivesTheNotificationsOfARelease: a channel created through the API receives every
// notification of a release and a transfer to its entity, signed (verified by the reference
// library), with the body E7 returns as message, and the delivery log shows each as Delivered.
func TestChannelReceivesTheNotificationsOfARelease(t *testing.T) {
	t.Parallel()
	api := startStack(t)
	// The receiver of the right is the entity of TestChannelBadInput, which counts no deliveries.
	sa, rp := seedFile.Entities[0], seedFile.Entities[5]
	h := party(t, api, 0)
	rc := newReceiver(t)
	id, secret := createChannel(t, api, h, map[string]any{"name": "ops", "url": rc.srv.URL + "/hooks", "headers": map[string]string{"X-Team": "ops"}})
	rc.setSecrets(secret)

	// The secret is never answered again.
	a := call(t, "GET", api+channelsPath, h, "")
	if a.status != 200 || strings.Contains(string(a.rawBody), "signingSecret") || !strings.Contains(string(a.rawBody), id) {
		t.Fatalf("list: %d %s", a.status, a.rawBody)
	}
	release := map[string]any{"actionType": "Release", "releaseIdentification": "CH-1", "equipmentNumber": "CSQU3054383",
		"billOfLadingNumbers": []string{"BLCH1"}, "portLoCode": "BEANR", "terminalCode": seedFile.Entities[2].TerminalCodes[0],
		"isCarrierHaulage": false, "releaseDateTimeUtc": "2026-11-21T08:00:00Z",
		"carrier":   map[string]string{"identificationType": "NxtEntityId", "identificationCode": sa.NxtEntityID},
		"releaseTo": map[string]string{"identificationType": "NxtEntityId", "identificationCode": rp.NxtEntityID}}
	raw, _ := json.Marshal(release)
	r := call(t, "POST", api+"/ingestion/v1/ingestion/"+sa.Credentials.IngestionID, h, string(raw))
	if r.status != 202 {
		t.Fatalf("release: %d %s", r.status, r.rawBody)
	}
	ref := r.body["publicReferenceId"].(string)
	var stored []map[string]any
	testenv.EventuallyEvery(30*time.Second, apiPoll, func() bool {
		x := callRaw(t, api+"/certified-pickup/v1/notifications?publicReferenceId="+ref, h)
		return x.status == 200 && json.Unmarshal(x.raw, &stored) == nil && len(stored) == 2 && len(rc.deliveries()) >= 2
	})
	got := rc.deliveries()
	if len(stored) != 2 || len(got) != 2 {
		t.Fatalf("%d stored, %d delivered", len(stored), len(got))
	}
	messages := map[string]bool{}
	for _, n := range stored {
		messages[n["message"].(string)] = true
	}
	for _, d := range got {
		if !messages[string(d.body)] {
			t.Errorf("a delivery's body is not a stored message: %s", d.body)
		}
		if strings.Count(d.signature, "v1,") != 1 {
			t.Errorf("outside a rotation one signature: %q", d.signature)
		}
	}
	testenv.EventuallyEvery(10*time.Second, apiPoll, func() bool { return len(deliveryLog(t, api, h, id, "?status=Delivered")) == 2 })
	if log := deliveryLog(t, api, h, id, "?publicReferenceId="+ref); len(log) != 2 || log[0].Outcome != "Delivered" || *log[0].Status != 200 {
		t.Fatalf("delivery log: %+v", log)
	}
}

// TestChannelRetriesOnSchedule: a receiver that answers 503 three times gets the same webhook-id
// again after each step of the schedule (scaled two thousandfold on the test stack: 2.5 ms,
// 0.15 s, 0.9 s), and the fourth attempt is delivered; the log shows Retrying, Retrying, Retrying,
// Delivered. A dead receiver's delivery is attempted eight times on schedule, then Failed. A
// Retry-After is honoured.
func TestChannelRetriesOnSchedule(t *testing.T) {
	t.Parallel()
	api := startStack(t)
	h := party(t, api, 1)
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadURL := "http://" + dead.Addr().String()
	dead.Close() // nothing listens there now: every connection is refused
	deadID, _ := createChannel(t, api, h, map[string]any{"name": "dead", "url": deadURL})
	rc := newReceiver(t)
	rc.answer = func(n int, _ *http.Request) int {
		if n <= 3 {
			return 503
		}
		return 204
	}
	id, secret := createChannel(t, api, h, map[string]any{"name": "retries", "url": rc.srv.URL})
	rc.setSecrets(secret)
	ref := askRights(t, api, h)
	testenv.Eventually(30*time.Second, func() bool { return len(rc.deliveries()) >= 4 })
	got := rc.deliveries()
	if len(got) != 4 {
		t.Fatalf("%d attempts", len(got))
	}
	steps := []time.Duration{2500 * time.Microsecond, 150 * time.Millisecond, 900 * time.Millisecond, 3600 * time.Millisecond,
		9 * time.Second, 18 * time.Second, 18 * time.Second}
	for i := 1; i < 4; i++ {
		if got[i].id != got[0].id {
			t.Fatalf("webhook-id changed between attempts: %s %s", got[0].id, got[i].id)
		}
		if gap := got[i].at.Sub(got[i-1].at); gap < steps[i-1]*9/10 {
			t.Errorf("attempt %d came %v after the one before; the schedule says %v (±10%%)", i+1, gap, steps[i-1])
		}
	}
	var log []logEntry
	testenv.EventuallyEvery(10*time.Second, apiPoll, func() bool { log = deliveryLog(t, api, h, id, ""); return len(log) == 4 })
	want := []string{"Delivered", "Retrying", "Retrying", "Retrying"} // newest first
	for i, e := range log {
		if e.Outcome != want[i] || e.Attempt != 4-i {
			t.Fatalf("log: %+v", log)
		}
	}
	defer func() {
		// The dead channel: eight attempts a step of the schedule apart, the eighth Failed.
		testenv.EventuallyEvery(3*time.Minute, time.Second, func() bool {
			log = deliveryLog(t, api, h, deadID, "?publicReferenceId="+ref)
			return len(log) == 8 && log[0].Outcome == "Failed"
		})
		if len(log) != 8 || log[0].Outcome != "Failed" || log[0].Status != nil || log[0].Error == "" {
			t.Fatalf("the dead channel's log: %+v", log)
		}
		for i := 0; i < 7; i++ { // newest first
			newer, _ := time.Parse(time.RFC3339Nano, log[i].Time)
			older, _ := time.Parse(time.RFC3339Nano, log[i+1].Time)
			if log[i].Attempt != 8-i || log[i+1].Outcome != "Retrying" || newer.Sub(older) < steps[6-i]*9/10 {
				t.Fatalf("dead attempt %d came %v after the one before (step %v): %+v", log[i].Attempt, newer.Sub(older), steps[6-i], log)
			}
		}
	}()

	// 429 with Retry-After: 4000 s (2 s at this scale) holds the next attempt back at least that long.
	rc2 := newReceiver(t)
	rc2.retryAfter = "4000" // 2 s at this scale
	rc2.answer = func(n int, _ *http.Request) int {
		if n == 1 {
			return 429
		}
		return 200
	}
	h2 := party(t, api, 1)
	_, secret2 := createChannel(t, api, h2, map[string]any{"name": "retry-after", "url": rc2.srv.URL, "filter": []string{"ReleaseRight/Update"}})
	rc2.setSecrets(secret2)
	askRights(t, api, h2)
	testenv.Eventually(30*time.Second, func() bool { return len(rc2.deliveries()) >= 2 })
	if d := rc2.deliveries(); len(d) < 2 || d[1].at.Sub(d[0].at) < 2*time.Second {
		t.Fatalf("Retry-After not honoured: %d deliveries", len(d))
	}
}

// TestRetriesSurviveARestart: after a failed attempt every deliverer and retrier process is killed
// (as Lambda may replace a sandbox at any time); the retry was held by the queue, so the delivery
// arrives once the receiver is healthy. On the isolated stack, before the parallel tests: killing
// the shared stack's deliverers would disturb the tests that count deliveries.
func TestRetriesSurviveARestart(t *testing.T) {
	s := isolatedStack(t)
	api := s.api
	h := party(t, api, 2)
	rc := newReceiver(t)
	healthy := make(chan struct{})
	rc.answer = func(n int, _ *http.Request) int {
		select {
		case <-healthy:
			return 200
		default:
			return 500
		}
	}
	id, secret := createChannel(t, api, h, map[string]any{"name": "restart", "url": rc.srv.URL})
	rc.setSecrets(secret)
	ref := askRights(t, api, h)
	testenv.EventuallyEvery(30*time.Second, apiPoll, func() bool { return len(deliveryLog(t, api, h, id, "?publicReferenceId="+ref)) >= 1 })
	killed := killFunctions(t, s.bin, "webhook-deliverer", "webhook-retrier")
	if killed == 0 {
		t.Fatal("no delivering process found to kill")
	}
	close(healthy)
	query := "?status=Delivered&publicReferenceId=" + ref
	testenv.EventuallyEvery(60*time.Second, apiPoll, func() bool { return len(deliveryLog(t, api, h, id, query)) == 1 })
	log := deliveryLog(t, api, h, id, query)
	if len(log) != 1 || log[0].Attempt < 2 {
		t.Fatalf("after the restart: %+v (killed %d processes)", log, killed)
	}
	call(t, "DELETE", api+channelsPath+"/"+id, h, "")
}

// killFunctions kills the processes of the named functions started from bin, one stack's (their
// pools start new ones).
func killFunctions(t *testing.T, bin string, names ...string) int {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	n := 0
	for _, p := range procs {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		exe := strings.SplitN(string(raw), "\x00", 2)[0]
		for _, name := range names {
			if exe == filepath.Join(bin, name) {
				pid, _ := strconv.Atoi(strings.Split(p, "/")[2])
				if syscall.Kill(pid, syscall.SIGKILL) == nil {
					n++
				}
			}
		}
	}
	return n
}

// TestOAuthChannel: the platform fetches a token from the receiver's token endpoint (HTTP Basic
// client authentication, scope, the auth headers), caches it until shortly before it expires,
// fetches a new one when it has expired, and once more when the receiver answers 401.
func TestOAuthChannel(t *testing.T) {
	t.Parallel()
	api := startStack(t)
	h := party(t, api, 3)
	var mu sync.Mutex
	issued := 0
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// RFC 6749 §2.3.1: the client id and secret are form-encoded before Basic encoding.
		rawID, rawSecret, ok := r.BasicAuth()
		id, _ := url.QueryUnescape(rawID)
		secret, _ := url.QueryUnescape(rawSecret)
		_ = r.ParseForm()
		if !ok || id != "platform" || secret != "s3cret:+/" || r.Form.Get("grant_type") != "client_credentials" ||
			r.Form.Get("scope") != "webhooks.write" || r.Header.Get("X-Tenant") != "t1" {
			w.WriteHeader(401)
			return
		}
		mu.Lock()
		issued++
		n := issued
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"Bearer","expires_in":%d}`, n, 2)
	}))
	defer tokens.Close()
	rc := newReceiver(t)
	rc.answer = func(n int, r *http.Request) int {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer tok-"+strconv.Itoa(issued) {
			return 401 // a token that is not the newest
		}
		return 200
	}
	id, secret := createChannel(t, api, h, map[string]any{"name": "oauth", "url": rc.srv.URL, "authentication": map[string]any{
		"type": "OAuth2ClientCredentials", "tokenEndpoint": tokens.URL, "clientId": "platform", "clientSecret": "s3cret:+/",
		"scopes": "webhooks.write", "authHeaders": map[string]string{"X-Tenant": "t1"}}})
	rc.setSecrets(secret)
	a := call(t, "GET", api+channelsPath+"/"+id, h, "")
	if strings.Contains(string(a.rawBody), "s3cret") || a.body["authentication"].(map[string]any)["clientId"] != "platform" {
		t.Fatalf("read: %s", a.rawBody)
	}
	delivered := func(n int) {
		testenv.EventuallyEvery(30*time.Second, apiPoll, func() bool { return len(deliveryLog(t, api, h, id, "?status=Delivered")) >= n })
		if got := len(deliveryLog(t, api, h, id, "?status=Delivered")); got < n {
			t.Fatalf("%d delivered, want %d", got, n)
		}
	}
	askRights(t, api, h)
	delivered(1)
	askRights(t, api, h)
	delivered(2)
	mu.Lock()
	if issued != 1 {
		t.Errorf("two deliveries inside the token's life fetched %d tokens", issued)
	}
	issued++ // the receiver now wants a token the platform has not seen: its cached one gets a 401
	mu.Unlock()
	askRights(t, api, h)
	delivered(3)
	mu.Lock()
	if issued != 3 {
		t.Errorf("after a 401 the platform fetched %d tokens in all, want 3", issued)
	}
	mu.Unlock()
	// The token lives 2 s and is kept 1.8 s: once that has passed, the next delivery fetches anew.
	third := time.Now()
	testenv.Eventually(10*time.Second, func() bool { return time.Since(third) > 2*time.Second })
	askRights(t, api, h)
	delivered(4)
	mu.Lock()
	if issued != 4 {
		t.Errorf("after the token expired the platform fetched %d tokens in all, want 4", issued)
	}
	mu.Unlock()
	for _, d := range rc.deliveries() {
		if !strings.HasPrefix(d.auth, "Bearer tok-") {
			t.Errorf("delivery without the token: %q", d.auth)
		}
	}
	// A PUT keeps the stored secrets only for the same token endpoint, client and user: one that
	// points elsewhere must send them again (else it could collect them).
	same := `{"name":"oauth","url":"` + rc.srv.URL + `","authentication":{"type":"OAuth2ClientCredentials","tokenEndpoint":"` + tokens.URL +
		`","clientId":"platform","scopes":"webhooks.write","authHeaders":{"X-Tenant":"t1"}}}`
	if a := call(t, "PUT", api+channelsPath+"/"+id, h, same); a.status != 200 {
		t.Fatalf("PUT with the same endpoint and no secret: %d %s", a.status, a.rawBody)
	}
	elsewhere := strings.Replace(same, tokens.URL, rc.srv.URL+"/collect", 1)
	a = call(t, "PUT", api+channelsPath+"/"+id, h, elsewhere)
	if errs, _ := a.body["errors"].(map[string]any); a.status != 400 || errs["authentication.clientSecret"] == nil {
		t.Fatalf("PUT to another token endpoint without the secret: %d %s", a.status, a.rawBody)
	}
}

// TestReplayAndRotation: replay by reference and by time delivers the stored notifications again
// with their own webhook-id; after a rotation both secrets sign for a day (each verifies alone).
func TestReplayAndRotation(t *testing.T) {
	t.Parallel()
	api := startStack(t)
	h := party(t, api, 4)
	rc := newReceiver(t)
	id, secret := createChannel(t, api, h, map[string]any{"name": "replay", "url": rc.srv.URL})
	rc.setSecrets(secret)
	since := time.Now().UTC().Add(-time.Second)
	ref := askRights(t, api, h)
	testenv.Eventually(30*time.Second, func() bool { return len(rc.deliveries()) == 1 })
	first := rc.deliveries()[0]

	a := call(t, "POST", api+channelsPath+"/"+id+"/replay", h, `{"publicReferenceIds":["`+ref+`"]}`)
	if a.status != 202 {
		t.Fatalf("replay: %d %s", a.status, a.rawBody)
	}
	testenv.Eventually(30*time.Second, func() bool { return len(rc.deliveries()) == 2 })
	if d := rc.deliveries(); len(d) != 2 || d[1].id != first.id || string(d[1].body) != string(first.body) {
		t.Fatalf("replay by reference: %d deliveries", len(d))
	}

	r := call(t, "POST", api+channelsPath+"/"+id+"/rotate-secret", h, "")
	newSecret, _ := r.body["signingSecret"].(string)
	if r.status != 200 || !strings.HasPrefix(newSecret, "whsec_") || newSecret == secret {
		t.Fatalf("rotate: %d %s", r.status, r.rawBody)
	}
	for _, only := range []string{secret, newSecret} {
		rc.setSecrets(only)
		n := len(rc.deliveries())
		body := fmt.Sprintf(`{"from":%q,"to":%q}`, since.Format(time.RFC3339Nano), time.Now().UTC().Add(time.Second).Format(time.RFC3339Nano))
		if a := call(t, "POST", api+channelsPath+"/"+id+"/replay", h, body); a.status != 202 {
			t.Fatalf("replay by time: %d %s", a.status, a.rawBody)
		}
		testenv.Eventually(30*time.Second, func() bool { return len(rc.deliveries()) == n+1 })
		d := rc.deliveries()
		if len(d) != n+1 || strings.Count(d[n].signature, "v1,") != 2 || d[n].id != first.id {
			t.Fatalf("replay after rotation verified with one secret: %d deliveries, %+v", len(d), d[len(d)-1])
		}
	}
	// A second rotation inside the window: the newest two sign, the first secret no longer.
	r = call(t, "POST", api+channelsPath+"/"+id+"/rotate-secret", h, "")
	third, _ := r.body["signingSecret"].(string)
	if r.status != 200 || third == "" {
		t.Fatalf("second rotation: %d %s", r.status, r.rawBody)
	}
	for _, tc := range []struct {
		secret string
		signs  bool
	}{{third, true}, {newSecret, true}, {secret, false}} {
		rc.setSecrets(tc.secret)
		n, bad := len(rc.deliveries()), rc.rejected()
		if a := call(t, "POST", api+channelsPath+"/"+id+"/replay", h, `{"publicReferenceIds":["`+ref+`"]}`); a.status != 202 {
			t.Fatalf("replay: %d", a.status)
		}
		testenv.Eventually(30*time.Second, func() bool { return len(rc.deliveries()) == n+1 || rc.rejected() > bad })
		if d := rc.deliveries(); (len(d) == n+1) != tc.signs || (tc.signs && strings.Count(d[n].signature, "v1,") != 2) {
			t.Fatalf("after two rotations, secret signs %v: %d deliveries, %d rejected", tc.signs, len(d)-n, rc.rejected()-bad)
		}
	}
	rc.setSecrets(third)
	// A disabled channel is not replayed to: 409.
	put := `{"name":"replay","url":"` + rc.srv.URL + `","enabled":false}`
	if a := call(t, "PUT", api+channelsPath+"/"+id, h, put); a.status != 200 || a.body["status"] != "Disabled" {
		t.Fatalf("disable: %d %s", a.status, a.rawBody)
	}
	if a := call(t, "POST", api+channelsPath+"/"+id+"/replay", h, `{"publicReferenceIds":["`+ref+`"]}`); a.status != 409 {
		t.Fatalf("replay to a disabled channel: %d", a.status)
	}
}

// TestChannelBadInput: what breaks a rule of §9 is a 400 naming the field and stores nothing;
// another entity's channel is a 404.
func TestChannelBadInput(t *testing.T) {
	t.Parallel()
	api := startStack(t)
	h := party(t, api, 5)
	rc := newReceiver(t)
	for name, tc := range map[string]struct {
		body  string
		field string
	}{
		"private address":   {`{"name":"x","url":"http://10.1.2.3/hook"}`, "url"},
		"metadata address":  {`{"name":"x","url":"http://169.254.169.254/latest"}`, "url"},
		"unresolvable name": {`{"name":"x","url":"https://no-such-host.invalid/hook"}`, "url"},
		"forbidden header":  {`{"name":"x","url":"` + rc.srv.URL + `","headers":{"Host":"evil"}}`, "headers"},
		"webhook header":    {`{"name":"x","url":"` + rc.srv.URL + `","headers":{"webhook-id":"x"}}`, "headers"},
		"missing oauth":     {`{"name":"x","url":"` + rc.srv.URL + `","authentication":{"type":"OAuth2ClientCredentials","tokenEndpoint":"` + rc.srv.URL + `"}}`, "authentication.clientId"},
		"unknown filter":    {`{"name":"x","url":"` + rc.srv.URL + `","filter":["Nothing"]}`, "filter"},
		"unknown field":     {`{"name":"x","url":"` + rc.srv.URL + `","colour":"red"}`, "colour"},
		"no name":           {`{"url":"` + rc.srv.URL + `"}`, "name"},
	} {
		a := call(t, "POST", api+channelsPath, h, tc.body)
		errs, _ := a.body["errors"].(map[string]any)
		if a.status != 400 || errs[tc.field] == nil {
			t.Errorf("%s: %d %s", name, a.status, a.rawBody)
		}
	}
	if a := call(t, "GET", api+channelsPath, h, ""); string(a.rawBody) != "[]" {
		t.Fatalf("a refused request stored a channel: %s", a.rawBody)
	}
	var ids []string
	for i := range 5 {
		id, _ := createChannel(t, api, h, map[string]any{"name": "c" + strconv.Itoa(i), "url": rc.srv.URL})
		ids = append(ids, id)
	}
	a := call(t, "POST", api+channelsPath, h, `{"name":"sixth","url":"`+rc.srv.URL+`"}`)
	if errs, _ := a.body["errors"].(map[string]any); a.status != 400 || errs["channels"] == nil {
		t.Fatalf("sixth channel: %d %s", a.status, a.rawBody)
	}
	other := party(t, api, 7)
	for _, m := range []struct{ method, path, body string }{
		{"GET", "", ""}, {"PUT", "", `{"name":"x","url":"` + rc.srv.URL + `"}`}, {"DELETE", "", ""},
		{"POST", "/test", ""}, {"POST", "/rotate-secret", ""}, {"GET", "/deliveries", ""}, {"POST", "/replay", `{"publicReferenceIds":["` + ids[0] + `"]}`},
	} {
		if a := call(t, m.method, api+channelsPath+"/"+ids[0]+m.path, other, m.body); a.status != 404 {
			t.Errorf("%s %s of another entity's channel: %d", m.method, m.path, a.status)
		}
	}
	if a := call(t, "DELETE", api+channelsPath+"/"+ids[4], h, ""); a.status != 204 {
		t.Fatalf("delete: %d", a.status)
	}
	createChannel(t, api, h, map[string]any{"name": "again", "url": rc.srv.URL})
}

// TestReceiverMisbehaviour: a redirect fails at once (not followed), a receiver that answers
// garbage or hangs is retried, an endless body is delivered with only a little read; the test
// endpoint answers each attempt's result, and nothing else is affected.
func TestReceiverMisbehaviour(t *testing.T) {
	t.Parallel()
	api := startStack(t)
	// Not entity 6: TestRateLimit spends its key's minute just before the parallel tests start.
	h := party(t, api, 7)
	followed := false
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed = true }))
	defer target.Close()
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	defer redirect.Close()
	endless := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		chunk := []byte(strings.Repeat("x", 4096))
		for i := 0; i < 1<<16; i++ { // 256 MB, far more than anyone reads
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer endless.Close()
	garbage, _ := net.Listen("tcp", "127.0.0.1:0")
	defer garbage.Close()
	go func() {
		for {
			c, err := garbage.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("this is not HTTP\r\n\r\n"))
			c.Close()
		}
	}()
	hang := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer func() { close(hang); hanging.Close() }()

	for _, tc := range []struct {
		name, url string
		delivered bool
		status    float64
	}{
		{"redirect", redirect.URL, false, 302},
		{"endless body", endless.URL, true, 200},
		{"garbage", "http://" + garbage.Addr().String(), false, 0},
		{"hanging", hanging.URL, false, 0},
	} {
		id, _ := createChannel(t, api, h, map[string]any{"name": tc.name, "url": tc.url})
		a := call(t, "POST", api+channelsPath+"/"+id+"/test", h, "")
		status, _ := a.body["status"].(float64)
		if a.status != 200 || a.body["delivered"] != tc.delivered || status != tc.status {
			t.Errorf("%s: %d %s", tc.name, a.status, a.rawBody)
		}
		if tc.name == "hanging" && !strings.Contains(fmt.Sprint(a.body["error"]), "timeout") {
			t.Errorf("hanging: %s", a.rawBody)
		}
		call(t, "DELETE", api+channelsPath+"/"+id, h, "")
	}
	if followed {
		t.Error("a redirect was followed")
	}
}

// TestDeliveriesArePacedAndFiltered: a burst to one channel is sent at most 20 a second (the
// attempts' start times in the log), and a filter lets only its types through.
func TestDeliveriesArePacedAndFiltered(t *testing.T) {
	t.Parallel()
	api := startStack(t)
	h := party(t, api, 7)
	rc := newReceiver(t)
	id, secret := createChannel(t, api, h, map[string]any{"name": "burst", "url": rc.srv.URL, "filter": []string{"ReleaseRight"}})
	rc.setSecrets(secret)
	none := newReceiver(t)
	_, s2 := createChannel(t, api, h, map[string]any{"name": "lights only", "url": none.srv.URL, "filter": []string{"ReleaseLight/ReleaseLightChanged"}})
	none.setSecrets(s2)
	const burst = 45
	var wg sync.WaitGroup
	for range burst {
		wg.Add(1)
		go func() { defer wg.Done(); askRights(t, api, h) }()
	}
	wg.Wait()
	testenv.EventuallyEvery(60*time.Second, apiPoll, func() bool { return len(deliveryLog(t, api, h, id, "")) >= burst })
	log := deliveryLog(t, api, h, id, "")
	if len(log) != burst {
		t.Fatalf("%d attempts logged, want %d", len(log), burst)
	}
	var times []time.Time
	for _, e := range log {
		at, _ := time.Parse(time.RFC3339Nano, e.Time)
		times = append(times, at)
	}
	// Newest first: any 21 consecutive attempts span at least a second.
	for i := 0; i+20 < len(times); i++ {
		if span := times[i].Sub(times[i+20]); span < time.Second {
			t.Fatalf("21 attempts within %v: more than 20 a second", span)
		}
	}
	if n := len(none.deliveries()); n != 0 {
		t.Errorf("a channel filtered to ReleaseLight got %d ReleaseRight notifications", n)
	}
}

// TestHangingChannelHoldsNoOther: an entity's channel whose receiver never answers does not delay
// its other channel: the healthy one receives every notification while the hanging one's first
// attempt is still waiting out its 15 seconds.
func TestHangingChannelHoldsNoOther(t *testing.T) {
	t.Parallel()
	api := startStack(t)
	h := party(t, api, 2)
	var mu sync.Mutex
	var firstStarted, firstGaveUp time.Time
	hang := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if firstStarted.IsZero() {
			firstStarted = time.Now()
		}
		mu.Unlock()
		select {
		case <-hang:
		case <-r.Context().Done(): // the platform gave up (its 15 s)
			mu.Lock()
			if firstGaveUp.IsZero() {
				firstGaveUp = time.Now()
			}
			mu.Unlock()
		}
	}))
	defer func() { close(hang); hanging.Close() }()
	hangID, _ := createChannel(t, api, h, map[string]any{"name": "hanging", "url": hanging.URL})
	rc := newReceiver(t)
	id, secret := createChannel(t, api, h, map[string]any{"name": "healthy", "url": rc.srv.URL})
	rc.setSecrets(secret)
	refs := map[string]bool{}
	for range 3 {
		refs[askRights(t, api, h)] = true
	}
	got := func() int {
		n := 0
		for _, d := range rc.deliveries() {
			var env struct {
				PublicReferenceID string `json:"publicReferenceId"`
			}
			json.Unmarshal(d.body, &env)
			if refs[env.PublicReferenceID] {
				n++
			}
		}
		return n
	}
	testenv.Eventually(60*time.Second, func() bool { return got() >= 3 })
	healthyDone := time.Now()
	mu.Lock()
	started, gaveUp := firstStarted, firstGaveUp
	mu.Unlock()
	if got() != 3 {
		t.Fatalf("the healthy channel received %d of 3", got())
	}
	if started.IsZero() {
		t.Fatal("the hanging channel was never attempted: the test proves nothing")
	}
	if !gaveUp.IsZero() && gaveUp.Before(healthyDone) {
		t.Fatalf("the healthy channel's deliveries waited for the hanging one's attempt (started %v, gave up %v, healthy done %v)",
			started, gaveUp, healthyDone)
	}
	call(t, "DELETE", api+channelsPath+"/"+hangID, h, "")
	call(t, "DELETE", api+channelsPath+"/"+id, h, "")
}
