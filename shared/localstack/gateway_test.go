package localstack

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portcommunity/cpu/shared/catalog"
)

// fakeInvoker answers 200 and remembers the last event, or fails with err.
type fakeInvoker struct {
	last events.APIGatewayProxyRequest
	err  error
}

func (f *fakeInvoker) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	if f.err != nil {
		return nil, f.err
	}
	if err := json.Unmarshal(payload, &f.last); err != nil {
		return nil, err
	}
	return []byte(`{"statusCode":200,"body":"{}"}`), nil
}

func tokenCall(g *Gateway, remote string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = remote
	w := httptest.NewRecorder()
	g.ServeHTTP(w, req)
	return w
}

// TestGatewayThrottlesTheTokenRoute: the catalog's throttle on POST /oauth2/token is a token bucket
// (burst 50, 25 a second) for all callers together; beyond it the gateway answers THROTTLED, 429
// problem+json with Retry-After, and the function is not called.
func TestGatewayThrottlesTheTokenRoute(t *testing.T) {
	fn := &fakeInvoker{}
	g := NewGateway(map[string]Invoker{"oauth-token": fn}, "local", slog.New(slog.NewJSONHandler(io.Discard, nil)))
	now := time.Unix(5000, 0)
	g.now = func() time.Time { return now }
	tok, _ := catalog.Lookup("oauth-token")
	th := tok.Trigger.Route.Throttle
	for i := 0; i < th.Burst; i++ {
		if w := tokenCall(g, "192.0.2.5:40000"); w.Code != 200 {
			t.Fatalf("call %d of the burst: %d %s", i+1, w.Code, w.Body)
		}
	}
	fn.last = events.APIGatewayProxyRequest{}
	w := tokenCall(g, "192.0.2.6:40000") // another caller: the limit is the route's, for everyone
	var doc map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &doc)
	if w.Code != 429 || w.Header().Get("Retry-After") != "1" || w.Header().Get("Content-Type") != "application/problem+json" ||
		doc["detail"] != catalog.LookupGatewayResponse("THROTTLED").Detail || fn.last.HTTPMethod != "" {
		t.Fatalf("call past the burst: %d %v %s (function called: %v)", w.Code, w.Header(), w.Body, fn.last.HTTPMethod != "")
	}
	// A second later the bucket holds 25 tokens again.
	now = now.Add(time.Second)
	for i := 0; i < int(th.RatePerSecond); i++ {
		if w := tokenCall(g, "192.0.2.5:40000"); w.Code != 200 {
			t.Fatalf("refilled call %d: %d", i+1, w.Code)
		}
	}
	if w := tokenCall(g, "192.0.2.5:40000"); w.Code != 429 {
		t.Fatalf("more than the rate passed: %d", w.Code)
	}
}

// TestGatewaySourceIPAndLambdaThrottle: the function sees the caller's address as API Gateway's
// requestContext.identity.sourceIp (IPv6 too); an invocation Lambda throttles (reserved
// concurrency in use) answers DEFAULT_5XX, 500 problem+json, as API Gateway does.
func TestGatewaySourceIPAndLambdaThrottle(t *testing.T) {
	fn := &fakeInvoker{}
	g := NewGateway(map[string]Invoker{"oauth-token": fn}, "local", slog.New(slog.NewJSONHandler(io.Discard, nil)))
	for remote, want := range map[string]string{"192.0.2.5:40000": "192.0.2.5", "[2001:db8::1]:443": "2001:db8::1"} {
		if w := tokenCall(g, remote); w.Code != 200 || fn.last.RequestContext.Identity.SourceIP != want {
			t.Fatalf("%s: %d, sourceIp %q", remote, w.Code, fn.last.RequestContext.Identity.SourceIP)
		}
	}
	fn.err = ErrThrottled
	w := tokenCall(g, "192.0.2.5:40000")
	if w.Code != 500 || w.Header().Get("Content-Type") != "application/problem+json" || !strings.Contains(w.Body.String(), catalog.LookupGatewayResponse("DEFAULT_5XX").Detail) {
		t.Fatalf("throttled function: %d %v %s", w.Code, w.Header(), w.Body)
	}
}

// TestReservedConcurrency: with every reserved instance busy, one more invocation fails at once
// with ErrThrottled; when an invocation finishes, the next is taken.
func TestReservedConcurrency(t *testing.T) {
	rt := NewRuntime("f", time.Minute)
	rt.Reserved = 1
	inst, err := rt.NewInstance()
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Abandon("test over")
	base := "http://" + inst.Addr() + "/2018-06-01/runtime/invocation/"
	// next plays the function process: it takes an invocation and returns its request id.
	next := func() string {
		resp, err := http.Get(base + "next")
		if err != nil {
			t.Error(err)
			return ""
		}
		resp.Body.Close()
		return resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
	}
	first := make(chan error, 1)
	go func() { _, err := rt.Invoke(context.Background(), []byte(`{}`)); first <- err }()
	id := next() // the evidence that the first invocation holds the one instance
	if _, err := rt.Invoke(context.Background(), []byte(`{}`)); err != ErrThrottled {
		t.Fatalf("invocation beyond the reserved concurrency: %v", err)
	}
	resp, err := http.Post(base+id+"/response", "application/json", strings.NewReader(`{"ok":true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-first; err != nil {
		t.Fatalf("first invocation: %v", err)
	}
	third := make(chan error, 1)
	go func() { _, err := rt.Invoke(context.Background(), []byte(`{}`)); third <- err }()
	id = next()
	resp, err = http.Post(base+id+"/response", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-third; err != nil {
		t.Fatalf("invocation after the first finished: %v", err)
	}
}
