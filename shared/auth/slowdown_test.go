package auth

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/identity"
	"github.com/portcommunity/cpu/shared/problem"
)

// memFailures is an in-memory FailureLog with the adapter's conditional write.
type memFailures struct {
	records map[[2]string]identity.AuthFailures
	reads   int
	// race, when set, is counted by "another instance" just before the next save.
	race bool
}

func newMemFailures() *memFailures {
	return &memFailures{records: map[[2]string]identity.AuthFailures{}}
}

func (m *memFailures) AuthFailures(_ context.Context, id, ip string) (identity.AuthFailures, error) {
	m.reads++
	return m.records[[2]string{id, ip}], nil
}

func (m *memFailures) SaveAuthFailures(_ context.Context, id, ip string, prev, next identity.AuthFailures) error {
	k := [2]string{id, ip}
	if m.race {
		m.race = false
		m.records[k] = m.records[k].After(next.WindowEnd.Add(-identity.FailureWindow))
	}
	if m.records[k] != prev {
		return identity.ErrChanged
	}
	m.records[k] = next
	return nil
}

func (m *memFailures) ClearAuthFailures(_ context.Context, id, ip string) error {
	delete(m.records, [2]string{id, ip})
	return nil
}

// clock is a test clock moved by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func tokenRequest(id, secret, ip string) *apigw.Request {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	return &apigw.Request{
		Headers:  map[string]string{"content-type": "application/x-www-form-urlencoded"},
		Body:     []byte(form.Encode()),
		SourceIP: ip,
	}
}

// answer is a token call rendered as the function sends it.
type answer struct {
	status  int
	headers map[string]string
	doc     map[string]any
}

// caller calls the endpoint as one client from the given addresses.
func caller(t *testing.T, te *TokenEndpoint, clientID string) func(secret, ip string) answer {
	return func(secret, ip string) answer {
		t.Helper()
		resp, err := te.Handle(context.Background(), tokenRequest(clientID, secret, ip))
		if err == nil {
			return answer{resp.Status, resp.Headers, nil}
		}
		status, headers, body := problem.Render(err, "trace")
		a := answer{status, headers, nil}
		if err := json.Unmarshal(body, &a.doc); err != nil {
			t.Fatal(err)
		}
		return a
	}
}

// TestSlowDownAfterFiveFailures: five wrong secrets from one address answer 401; the sixth call,
// right secret or not, answers 429 problem+json with Retry-After and OAuth's error member, after one
// read of the failure record and none of the client; another address is unaffected; the block
// doubles per further failure; a success clears the address's record.
func TestSlowDownAfterFiveFailures(t *testing.T) {
	m, signer, _, clientID := setup(t)
	fails := newMemFailures()
	clk := &clock{t: time.Unix(2_000_000, 0)}
	te := &TokenEndpoint{Clients: m, Secrets: secrets, Failures: fails, Signer: signer, Stage: "staging", TTL: time.Hour, Now: clk.now, Log: quiet}
	call := caller(t, te, clientID)
	const good, bad, ip, otherIP = "local-demo-secret-1-do-not-use", "wrong-secret-0000000", "198.51.100.7", "198.51.100.8"

	for i := 1; i <= identity.FailuresAllowed; i++ {
		if a := call(bad, ip); a.status != 401 || a.doc["error"] != "invalid_client" {
			t.Fatalf("failure %d: %+v", i, a)
		}
		clk.t = clk.t.Add(100 * time.Millisecond)
	}
	for _, secret := range []string{bad, good} {
		reads, clientReads := fails.reads, m.clientReads
		a := call(secret, ip)
		retry, _ := strconv.Atoi(a.headers["Retry-After"])
		if a.status != 429 || retry != 1 || a.headers["Content-Type"] != problem.ContentType || a.doc["error"] != "temporarily_unavailable" || a.doc["status"] != 429.0 {
			t.Fatalf("blocked call: %+v", a)
		}
		if fails.reads != reads+1 || m.clientReads != clientReads {
			t.Fatalf("a blocked call read the failure log %d times and the client %d times", fails.reads-reads, m.clientReads-clientReads)
		}
	}
	// Another address of the same client is not slowed down.
	if a := call(good, otherIP); a.status != 200 {
		t.Fatalf("other address: %+v", a)
	}
	// After the block, each further failure doubles it: 2 s, then 4 s.
	for _, want := range []string{"2", "4"} {
		clk.t = clk.t.Add(time.Minute)
		if a := call(bad, ip); a.status != 401 {
			t.Fatalf("failure after the block: %+v", a)
		}
		if a := call(bad, ip); a.headers["Retry-After"] != want {
			t.Fatalf("Retry-After %q, want %s", a.headers["Retry-After"], want)
		}
	}
	// The right secret after the block succeeds and clears the address's record.
	clk.t = clk.t.Add(time.Minute)
	if a := call(good, ip); a.status != 200 {
		t.Fatalf("right secret after the block: %+v", a)
	}
	if rec := fails.records[[2]string{clientID, ip}]; rec.Count != 0 {
		t.Fatalf("record after success: %+v", rec)
	}
}

// TestUnknownClientIsSlowedDownToo: failures of an unknown id count like a known client's, so the
// answers do not tell which ids exist.
func TestUnknownClientIsSlowedDownToo(t *testing.T) {
	m, signer, _, _ := setup(t)
	fails := newMemFailures()
	clk := &clock{t: time.Unix(2_000_000, 0)}
	te := &TokenEndpoint{Clients: m, Secrets: secrets, Failures: fails, Signer: signer, Stage: "staging", TTL: time.Hour, Now: clk.now, Log: quiet}
	call := caller(t, te, "nobody")
	for i := 0; i < identity.FailuresAllowed; i++ {
		if a := call("whatever-secret-000", "192.0.2.1"); a.status != 401 {
			t.Fatalf("unknown client: %+v", a)
		}
	}
	if a := call("whatever-secret-000", "192.0.2.1"); a.status != 429 {
		t.Fatalf("unknown client after 5 failures: %+v", a)
	}
}

// TestConcurrentFailuresAllCount: a failure counted by another instance between the read and the
// write is not lost: the write is refused, the record read again, and this failure added to it.
func TestConcurrentFailuresAllCount(t *testing.T) {
	m, signer, _, clientID := setup(t)
	fails := newMemFailures()
	clk := &clock{t: time.Unix(2_000_000, 0)}
	te := &TokenEndpoint{Clients: m, Secrets: secrets, Failures: fails, Signer: signer, Stage: "staging", TTL: time.Hour, Now: clk.now, Log: quiet}
	fails.race = true
	if _, err := te.Handle(context.Background(), tokenRequest(clientID, "wrong-secret-0000000", "192.0.2.9")); err == nil {
		t.Fatal("wrong secret accepted")
	}
	if rec := fails.records[[2]string{clientID, "192.0.2.9"}]; rec.Count != 2 {
		t.Fatalf("two failures, counted %d", rec.Count)
	}
}

// TestOversizedCredentialsCostNothing: a client id longer than any issued one is refused before
// any read or write, and a form over 4 KB is refused unread, so a caller cannot make the endpoint
// store or log megabytes.
func TestOversizedCredentialsCostNothing(t *testing.T) {
	m, signer, _, _ := setup(t)
	fails := newMemFailures()
	te := &TokenEndpoint{Clients: m, Secrets: secrets, Failures: fails, Signer: signer, Stage: "staging", TTL: time.Hour, Now: time.Now, Log: quiet}
	if a := caller(t, te, strings.Repeat("c", 129))("whatever-secret-000", "192.0.2.1"); a.status != 401 || fails.reads != 0 || len(fails.records) != 0 {
		t.Fatalf("long client id: %+v, %d reads, %d records", a, fails.reads, len(fails.records))
	}
	req := tokenRequest("c", strings.Repeat("s", 5000), "192.0.2.1")
	if _, err := te.Handle(context.Background(), req); problem.As(err).Status() != 400 || fails.reads != 0 {
		t.Fatalf("a form over 4 KB: %v, %d reads", err, fails.reads)
	}
}
