package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/portcommunity/cpu/shared/egress"
	"github.com/portcommunity/cpu/shared/problem"
	"github.com/portcommunity/cpu/shared/webhook"
)

// resolver answers from a map, as DNS would (tests never reach the network).
type resolver map[string][]string

func (r resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := r[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

// public is the address check of every AWS stage: https only, public addresses only.
func public() webhook.URLCheck {
	p := egress.Policy{}
	r := resolver{"hooks.example.com": {"203.0.114.10"}, "tokens.example.com": {"198.51.101.7"}, "intranet.example.com": {"10.0.0.8"},
		"rebind.example.com": {"93.184.216.34", "127.0.0.1"}}
	return func(ctx context.Context, raw string) error { _, err := p.CheckURL(ctx, raw, r); return err }
}

func fields(t *testing.T, err error) map[string][]string {
	t.Helper()
	var pe *problem.Error
	if !errors.As(err, &pe) || pe.Kind != problem.KindValidation {
		t.Fatalf("want a validation error, got %v", err)
	}
	return pe.Fields
}

func TestCheckRefusesWhatContractNineForbids(t *testing.T) {
	ctx := context.Background()
	ok := webhook.Request{Name: "ops", URL: "https://hooks.example.com/cpu"}
	if _, err := webhook.Check(ctx, ok, public(), nil); err != nil {
		t.Fatalf("a valid channel was refused: %v", err)
	}
	long := strings.Repeat("a", 101)
	many := map[string]string{}
	for i := range 11 {
		many["X-H"+strconv.Itoa(i)] = "v"
	}
	secret := "s"
	for name, tc := range map[string]struct {
		req   webhook.Request
		field string
	}{
		"plain http outside the local stack": {webhook.Request{Name: "x", URL: "http://hooks.example.com/cpu"}, "url"},
		"private address":                    {webhook.Request{Name: "x", URL: "https://intranet.example.com/"}, "url"},
		"one of its addresses is loopback":   {webhook.Request{Name: "x", URL: "https://rebind.example.com/"}, "url"},
		"unresolvable":                       {webhook.Request{Name: "x", URL: "https://nowhere.example.com/"}, "url"},
		"ip literal, metadata":               {webhook.Request{Name: "x", URL: "https://169.254.169.254/"}, "url"},
		"mapped loopback":                    {webhook.Request{Name: "x", URL: "https://[::ffff:127.0.0.1]/"}, "url"},
		"no url":                             {webhook.Request{Name: "x"}, "url"},
		"long name":                          {webhook.Request{Name: long, URL: ok.URL}, "name"},
		"control characters in name":         {webhook.Request{Name: "a\nb", URL: ok.URL}, "name"},
		"eleven headers":                     {webhook.Request{Name: "x", URL: ok.URL, Headers: many}, "headers"},
		"host header":                        {webhook.Request{Name: "x", URL: ok.URL, Headers: map[string]string{"Host": "a"}}, "headers"},
		"hop-by-hop header":                  {webhook.Request{Name: "x", URL: ok.URL, Headers: map[string]string{"Transfer-Encoding": "chunked"}}, "headers"},
		"content-length":                     {webhook.Request{Name: "x", URL: ok.URL, Headers: map[string]string{"content-length": "1"}}, "headers"},
		"webhook-* header":                   {webhook.Request{Name: "x", URL: ok.URL, Headers: map[string]string{"Webhook-Signature": "v1,x"}}, "headers"},
		"header value with a line break":     {webhook.Request{Name: "x", URL: ok.URL, Headers: map[string]string{"X-A": "a\r\nB: c"}}, "headers"},
		"header name not a token":            {webhook.Request{Name: "x", URL: ok.URL, Headers: map[string]string{"X A": "a"}}, "headers"},
		"unknown auth type":                  {webhook.Request{Name: "x", URL: ok.URL, Authentication: &webhook.AuthenticationReq{Type: "Basic"}}, "authentication.type"},
		"oauth without client id": {webhook.Request{Name: "x", URL: ok.URL, Authentication: &webhook.AuthenticationReq{
			Type: "OAuth2ClientCredentials", TokenEndpoint: "https://tokens.example.com/t", ClientSecret: &secret}}, "authentication.clientId"},
		"oauth without secret": {webhook.Request{Name: "x", URL: ok.URL, Authentication: &webhook.AuthenticationReq{
			Type: "OAuth2ClientCredentials", TokenEndpoint: "https://tokens.example.com/t", ClientID: "c"}}, "authentication.clientSecret"},
		"password flow without username": {webhook.Request{Name: "x", URL: ok.URL, Authentication: &webhook.AuthenticationReq{
			Type: "OAuth2Password", TokenEndpoint: "https://tokens.example.com/t", ClientID: "c", ClientSecret: &secret, Password: &secret}}, "authentication.username"},
		"token endpoint private": {webhook.Request{Name: "x", URL: ok.URL, Authentication: &webhook.AuthenticationReq{
			Type: "OAuth2ClientCredentials", TokenEndpoint: "https://intranet.example.com/t", ClientID: "c", ClientSecret: &secret}}, "authentication.tokenEndpoint"},
		"authorization with oauth": {webhook.Request{Name: "x", URL: ok.URL, Headers: map[string]string{"authorization": "Bearer x"}, Authentication: &webhook.AuthenticationReq{
			Type: "OAuth2ClientCredentials", TokenEndpoint: "https://tokens.example.com/t", ClientID: "c", ClientSecret: &secret}}, "headers"},
		"none with a client id": {webhook.Request{Name: "x", URL: ok.URL, Authentication: &webhook.AuthenticationReq{Type: "None", ClientID: "c"}}, "authentication"},
		"unknown filter":        {webhook.Request{Name: "x", URL: ok.URL, Filter: []string{"ReleaseLight/Nope"}}, "filter"},
	} {
		_, err := webhook.Check(ctx, tc.req, public(), nil)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if f := fields(t, err); len(f[tc.field]) == 0 {
			t.Errorf("%s: the errors do not name %s: %v", name, tc.field, f)
		}
	}
	// A static bearer in headers is how a None channel sends a fixed token; filters fold case.
	c, err := webhook.Check(ctx, webhook.Request{Name: "x", URL: ok.URL, Headers: map[string]string{"Authorization": "Bearer fixed"},
		Filter: []string{"releaseright/TRANSFERRED", "ReleaseLight", "releaselight", "terminalevent/gateout"}}, public(), nil)
	if err != nil || strings.Join(c.Filter, ",") != "ReleaseRight/Transferred,ReleaseLight,TerminalEvent/GateOut" || !c.Enabled {
		t.Fatalf("canonical filter: %v %v", c.Filter, err)
	}
	// A replace may leave a stored secret out.
	stored := webhook.Channel{SealedClientSecret: []byte("sealed")}
	withStored := webhook.Request{Name: "x", URL: ok.URL, Authentication: &webhook.AuthenticationReq{Type: "OAuth2ClientCredentials", TokenEndpoint: "https://tokens.example.com/t", ClientID: "c"}}
	if _, err := webhook.Check(ctx, withStored, public(), &stored); err != nil {
		t.Fatalf("a replace without the stored secret: %v", err)
	}
}

// TestSignatureMatchesTheReferenceLibrary: what the platform signs, the Standard Webhooks
// reference implementation verifies, with either key during a rotation.
func TestSignatureMatchesTheReferenceLibrary(t *testing.T) {
	oldSecret, oldKey, _ := webhook.NewSigningSecret()
	newSecret, newKey, _ := webhook.NewSigningSecret()
	body := []byte(`{"publicReferenceId":"x","type":"ReleaseRight","event":"Transferred","body":{"a":"Zeebrügge 🚢"}}`)
	now := time.Now()
	id := webhook.WebhookID("chan", "NXT200000001", "2026-11-22T00:00:00.000000000Z#ref#000#00")
	one := webhook.Sign([][]byte{newKey}, id, now.Unix(), body)
	two := webhook.Sign([][]byte{newKey, oldKey}, id, now.Unix(), body)
	if strings.Count(one, "v1,") != 1 || strings.Count(two, " ") != 1 {
		t.Fatalf("signatures: %q %q", one, two)
	}
	for _, tc := range []struct {
		secret, sig string
		ok          bool
	}{{newSecret, one, true}, {oldSecret, one, false}, {newSecret, two, true}, {oldSecret, two, true}} {
		wh, err := standardwebhooks.NewWebhook(tc.secret)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		h.Set("webhook-signature", tc.sig)
		if err := wh.Verify(body, h); (err == nil) != tc.ok {
			t.Errorf("verify %q with a secret: %v, want ok=%v", tc.sig, err, tc.ok)
		}
		if tc.ok {
			tampered := append([]byte{}, body...)
			tampered[3] = 'X'
			if wh.Verify(tampered, h) == nil {
				t.Error("a tampered body verified")
			}
		}
	}
	if strings.Contains(id, ".") || id != webhook.WebhookID("chan", "NXT200000001", "2026-11-22T00:00:00.000000000Z#ref#000#00") ||
		id == webhook.WebhookID("chan2", "NXT200000001", "2026-11-22T00:00:00.000000000Z#ref#000#00") {
		t.Fatalf("webhook ids: stable per notification and channel, none with a dot: %s", id)
	}
}

func TestJudgeAndSchedule(t *testing.T) {
	for status, want := range map[int]webhook.Verdict{
		200: {Outcome: webhook.Delivered}, 204: {Outcome: webhook.Delivered},
		0: {Outcome: webhook.Retrying, Retry: true}, 408: {Outcome: webhook.Retrying, Retry: true},
		429: {Outcome: webhook.Retrying, Retry: true}, 500: {Outcome: webhook.Retrying, Retry: true}, 503: {Outcome: webhook.Retrying, Retry: true},
		301: {Outcome: webhook.Failed}, 302: {Outcome: webhook.Failed}, 400: {Outcome: webhook.Failed}, 401: {Outcome: webhook.Failed},
		404: {Outcome: webhook.Failed}, 410: {Outcome: webhook.Failed, Disable: true},
	} {
		if got := webhook.Judge(status); got != want {
			t.Errorf("%d: %+v, want %+v", status, got, want)
		}
	}
	exact := webhook.Timing{Scale: 1}
	want := []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	for i, w := range want {
		if d, ok := exact.RetryDelay(i+2, 0); !ok || d != w {
			t.Errorf("attempt %d after %v, want %v", i+2, d, w)
		}
	}
	if _, ok := exact.RetryDelay(webhook.MaxAttempts+1, 0); ok {
		t.Error("a ninth attempt was scheduled")
	}
	// Jitter stays within ±10 %; Retry-After wins when later, up to an hour.
	for _, j := range []float64{0, 0.5, 0.999} {
		jittered := webhook.Timing{Scale: 1, Jitter: func() float64 { return j }}
		if d, _ := jittered.RetryDelay(3, 0); d < 270*time.Second || d > 330*time.Second {
			t.Errorf("jitter %v: %v", j, d)
		}
	}
	if d, _ := exact.RetryDelay(2, 30*time.Second); d != 30*time.Second {
		t.Errorf("Retry-After 30 s after a 5 s step: %v", d)
	}
	if d, _ := exact.RetryDelay(3, 30*time.Second); d != 5*time.Minute {
		t.Errorf("Retry-After 30 s before a 5 min step: %v", d)
	}
	if d, _ := exact.RetryDelay(2, 5*time.Hour); d != time.Hour {
		t.Errorf("Retry-After 5 h is honoured up to an hour: %v", d)
	}
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{"120": 2 * time.Minute, "": 0, "-3": 0, "soon": 0, "999999": time.Hour,
		now.Add(10 * time.Minute).Format(http.TimeFormat): 10 * time.Minute} {
		if got := webhook.RetryAfter(h, now); got != want {
			t.Errorf("Retry-After %q: %v, want %v", h, got, want)
		}
	}
	if d := (webhook.Timing{Scale: 0.001}).DisableAfter(); d != 72*time.Hour/1000 {
		t.Errorf("scaled 72 hours: %v", d)
	}
}

func TestRotationWindow(t *testing.T) {
	now := time.Now()
	until := now.Add(time.Hour)
	c := webhook.Channel{SigningKeys: []webhook.SigningKey{{Sealed: []byte("new")}, {Sealed: []byte("old"), Until: &until}}}
	if len(c.ActiveKeys(now)) != 2 || len(c.ActiveKeys(until)) != 1 || string(c.ActiveKeys(until)[0].Sealed) != "new" {
		t.Fatal("the previous key signs until its window closes, then only the new one")
	}
}

// TestCredentialHeadersAreWriteOnly: a header that holds a credential is answered hidden, and a
// PUT that sends the hidden value back keeps the stored one.
func TestCredentialHeadersAreWriteOnly(t *testing.T) {
	stored := webhook.Channel{Headers: map[string]string{"Authorization": "Bearer fixed", "X-Team": "ops"},
		Auth: webhook.Authentication{Type: webhook.AuthNone}}
	v := webhook.ViewOf(stored)
	if v.Headers["Authorization"] != webhook.Hidden || v.Headers["X-Team"] != "ops" || stored.Headers["Authorization"] != "Bearer fixed" {
		t.Fatalf("view: %v", v.Headers)
	}
	c, err := webhook.Check(context.Background(), webhook.Request{Name: "x", URL: "https://hooks.example.com/", Headers: v.Headers}, public(), &stored)
	if err != nil || c.Headers["Authorization"] != "Bearer fixed" {
		t.Fatalf("PUT of the view: %v %v", c.Headers, err)
	}
	if _, err := webhook.Check(context.Background(), webhook.Request{Name: "x", URL: "https://hooks.example.com/", Headers: v.Headers}, public(), nil); err == nil {
		t.Fatal("a create with the hidden placeholder was taken")
	}
}

func TestMaxAttemptsIsTheScheduleAndTheFirst(t *testing.T) {
	if webhook.MaxAttempts != len(webhook.Schedule)+1 {
		t.Fatalf("MaxAttempts %d for a schedule of %d steps", webhook.MaxAttempts, len(webhook.Schedule))
	}
}
