package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type testReceiver struct {
	h      http.Handler
	out    *bytes.Buffer
	logBuf *bytes.Buffer
}

func newTestReceiver(t *testing.T, cfg config) *testReceiver {
	t.Helper()
	r := &testReceiver{out: &bytes.Buffer{}, logBuf: &bytes.Buffer{}}
	if cfg.secrets == nil {
		cfg.secrets = []string{newSecret}
	}
	if cfg.status == 0 {
		cfg.status = http.StatusNoContent
	}
	cfg.now = func() time.Time { return testNow }
	cfg.log = log.New(r.logBuf, "", 0)
	r.h = newHandler(cfg, r.out)
	return r
}

// post sends a delivery signed (by the reference library) with secret at attempt time ts.
func (r *testReceiver) post(t *testing.T, secret, id string, ts time.Time, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header = headers(id, ts, sign(t, secret, id, ts, body))
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	return rec
}

// lines decodes the printed lines.
func (r *testReceiver) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(r.out.String(), "\n"), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestHandlerDelivery(t *testing.T) {
	r := newTestReceiver(t, config{})
	attempt := testNow.Add(-10 * time.Second)
	rec := r.post(t, newSecret, "msg_1", attempt, testBody)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("status %d, want 204; log: %s", rec.Code, r.logBuf)
	}
	lines := r.lines(t)
	if len(lines) != 1 {
		t.Fatalf("%d lines printed, want 1: %q", len(lines), r.out)
	}
	want := map[string]any{
		"webhookId":         "msg_1",
		"timestamp":         "2026-11-21T10:00:00Z",
		"attemptTime":       attempt.UTC().Format(time.RFC3339),
		"type":              "ReleaseLight",
		"event":             "ReleaseLightChanged",
		"publicReferenceId": "0b0f3a52-5c55-4c8f-9d0e-4b0c7d0f2a11",
		"equipmentNumber":   "CAIU7654321",
		"duplicate":         false,
	}
	if !reflect.DeepEqual(lines[0], want) {
		t.Errorf("line %v\nwant %v", lines[0], want)
	}
	if r.logBuf.Len() != 0 {
		t.Errorf("unexpected log: %s", r.logBuf)
	}
}

func TestHandlerDuplicate(t *testing.T) {
	r := newTestReceiver(t, config{})
	// A retry: same webhook-id, a later attempt time, signed again.
	for i, id := range []string{"msg_1", "msg_1", "msg_2", "msg_1"} {
		if rec := r.post(t, newSecret, id, testNow.Add(time.Duration(i)*time.Second), testBody); rec.Code != http.StatusNoContent {
			t.Fatalf("delivery %d: status %d, want 204", i, rec.Code)
		}
	}
	var got []any
	for _, l := range r.lines(t) {
		got = append(got, l["webhookId"], l["duplicate"])
	}
	want := []any{"msg_1", false, "msg_1", true, "msg_2", false, "msg_1", true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lines (id, duplicate) %v, want %v", got, want)
	}
}

func TestHandlerRejects(t *testing.T) {
	tests := []struct {
		name    string
		secret  string
		ts      time.Time
		status  int
		logWant string
	}{
		{"wrong secret", otherSecret, testNow, http.StatusUnauthorized, "no v1 signature matches"},
		{"stale timestamp", newSecret, testNow.Add(-6 * time.Minute), http.StatusUnauthorized, "webhook-timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestReceiver(t, config{})
			rec := r.post(t, tt.secret, "msg_bad", tt.ts, testBody)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			if r.out.Len() != 0 {
				t.Errorf("printed as delivered: %q", r.out)
			}
			if l := r.logBuf.String(); !strings.Contains(l, tt.logWant) || !strings.Contains(l, "msg_bad") || !strings.Contains(l, "401") {
				t.Errorf("log %q, want the id, 401 and %q", l, tt.logWant)
			}
			// The refused id is not recorded: the genuine delivery afterwards is no duplicate.
			if rec := r.post(t, newSecret, "msg_bad", testNow, testBody); rec.Code != http.StatusNoContent {
				t.Fatalf("genuine delivery: status %d", rec.Code)
			}
			if l := r.lines(t); len(l) != 1 || l[0]["duplicate"] != false {
				t.Errorf("lines after the genuine delivery: %v", l)
			}
		})
	}
}

func TestHandlerMissingHeaders(t *testing.T) {
	r := newTestReceiver(t, config{})
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(testBody))
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized || r.out.Len() != 0 || !strings.Contains(r.logBuf.String(), "missing") {
		t.Errorf("status %d, out %q, log %q", rec.Code, r.out, r.logBuf)
	}
}

func TestHandlerStatus(t *testing.T) {
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusGone, http.StatusOK} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			r := newTestReceiver(t, config{status: status})
			for i := range 2 {
				if rec := r.post(t, newSecret, "msg_1", testNow.Add(time.Duration(i)*time.Second), testBody); rec.Code != status {
					t.Fatalf("attempt %d: status %d, want %d", i, rec.Code, status)
				}
			}
			lines := r.lines(t)
			if len(lines) != 2 {
				t.Fatalf("%d lines, want 2", len(lines))
			}
			// A non-2xx answer means "not processed": the platform's retry is no duplicate.
			wantDup := status < 300
			if lines[0]["duplicate"] != false || lines[1]["duplicate"] != wantDup {
				t.Errorf("duplicate flags %v, %v; want false, %v", lines[0]["duplicate"], lines[1]["duplicate"], wantDup)
			}
		})
	}
}

func TestHandlerVerbose(t *testing.T) {
	r := newTestReceiver(t, config{verbose: true})
	body := "{\n  \"type\": \"Channel\",\n  \"event\": \"Ping\", \"body\": {}\n}"
	if rec := r.post(t, newSecret, "msg_ping", testNow, body); rec.Code != http.StatusNoContent {
		t.Fatalf("status %d", rec.Code)
	}
	if n := strings.Count(r.out.String(), "\n"); n != 1 {
		t.Fatalf("%d lines, want 1: %q", n, r.out)
	}
	l := r.lines(t)[0]
	want := map[string]any{"type": "Channel", "event": "Ping", "body": map[string]any{}}
	if l["type"] != "Channel" || l["event"] != "Ping" || !reflect.DeepEqual(l["envelope"], want) {
		t.Errorf("line %v", l)
	}
}

func TestHandlerBodyLimit(t *testing.T) {
	r := newTestReceiver(t, config{})
	exact := strings.Repeat("x", maxBody)
	if rec := r.post(t, newSecret, "msg_max", testNow, exact); rec.Code != http.StatusNoContent {
		t.Errorf("1 MiB body: status %d, want 204; log %s", rec.Code, r.logBuf)
	}
	if !strings.Contains(r.logBuf.String(), "not a JSON envelope") {
		t.Errorf("log %q, want a note that the body is not JSON", r.logBuf)
	}
	r.out.Reset()
	if rec := r.post(t, newSecret, "msg_big", testNow, exact+"x"); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("1 MiB + 1 body: status %d, want 413", rec.Code)
	}
	if r.out.Len() != 0 {
		t.Errorf("printed: %q", r.out)
	}
}

func TestHandlerMethod(t *testing.T) {
	r := newTestReceiver(t, config{})
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "POST" || r.out.Len() != 0 {
		t.Errorf("GET: status %d, Allow %q, out %q", rec.Code, rec.Header().Get("Allow"), r.out)
	}
}

func TestIDSetBounded(t *testing.T) {
	s := newIDSet(3)
	for _, id := range []string{"a", "b", "c"} {
		if !s.add(id) {
			t.Fatalf("%s: not new", id)
		}
	}
	if s.add("a") {
		t.Fatal("a: new again while remembered")
	}
	s.add("d") // evicts a, the oldest
	if !s.add("a") {
		t.Error("a: still remembered after 4 newer ids in a set of 3")
	}
	if s.add("d") || len(s.ids) != 3 {
		t.Errorf("d forgotten or size %d, want 3", len(s.ids))
	}
}

func TestValidateAddr(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:9000", true},
		{"127.0.0.2:80", true},
		{"[::1]:9000", true},
		{"localhost:9000", true},
		{"127.0.0.1:0", true},
		{":9000", false},
		{"0.0.0.0:9000", false},
		{"[::]:9000", false},
		{"192.168.1.10:9000", false},
		{"10.0.0.1:9000", false},
		{"example.com:9000", false},
		{"localhost.example.com:9000", false},
		{"127.0.0.1", false},
		{"127.0.0.1:99999", false},
		{"127.0.0.1:http", false},
	}
	for _, tt := range tests {
		if err := validateAddr(tt.addr); (err == nil) != tt.ok {
			t.Errorf("validateAddr(%q) = %v, want ok %v", tt.addr, err, tt.ok)
		}
	}
}

func TestParseFlags(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	noEnv := env(nil)

	cfg, err := parseFlags([]string{"-secret", newSecret}, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.addr != "127.0.0.1:9000" || cfg.status != 204 || cfg.verbose || !reflect.DeepEqual(cfg.secrets, []string{newSecret}) {
		t.Errorf("defaults: %+v", cfg)
	}
	cfg, err = parseFlags([]string{"-secret", newSecret, "-secret", oldSecret, "-status", "503", "-verbose", "-addr", "[::1]:9100"}, env(map[string]string{"WEBHOOK_SECRET": otherSecret}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.addr != "[::1]:9100" || cfg.status != 503 || !cfg.verbose || !reflect.DeepEqual(cfg.secrets, []string{newSecret, oldSecret}) {
		t.Errorf("flags (over the environment): %+v", cfg)
	}
	cfg, err = parseFlags(nil, env(map[string]string{"WEBHOOK_SECRET": newSecret + " " + oldSecret}), io.Discard)
	if err != nil || !reflect.DeepEqual(cfg.secrets, []string{newSecret, oldSecret}) {
		t.Errorf("WEBHOOK_SECRET: %+v, %v", cfg, err)
	}

	for _, args := range [][]string{
		{},
		{"-secret", "not-a-secret"},
		{"-secret", newSecret, "-secret", "whsec_%%%"},
		{"-secret", newSecret, "-status", "199"},
		{"-secret", newSecret, "-status", "600"},
		{"-secret", newSecret, "-addr", "0.0.0.0:9000"},
		{"-secret", newSecret, "-addr", ":9000"},
		{"-secret", newSecret, "extra"},
	} {
		var stderr bytes.Buffer
		_, err := parseFlags(args, noEnv, &stderr)
		if err == nil {
			t.Errorf("parseFlags(%q): accepted", args)
		} else if strings.Contains(err.Error()+stderr.String(), strings.TrimPrefix(newSecret, "whsec_")) {
			t.Errorf("parseFlags(%q): the secret is printed: %v", args, err)
		}
	}
}

// lockedBuffer is written by the server's goroutines and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRun starts the real server on a free loopback port, delivers once over HTTP, and stops it
// the way Ctrl-C does (the context is cancelled).
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout lockedBuffer
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, func(k string) string {
			if k == "WEBHOOK_SECRET" {
				return newSecret
			}
			return ""
		}, &stdout, pw)
		pw.Close()
	}()
	logLines := bufio.NewScanner(pr)
	if !logLines.Scan() {
		t.Fatalf("no log line; run: %v", <-done)
	}
	first := logLines.Text()
	go func() { // keep draining the log
		for logLines.Scan() {
		}
	}()
	_, rest, ok := strings.Cut(first, "listening on http://")
	addr, _, _ := strings.Cut(rest, "/")
	if !ok || !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("first log line %q", first)
	}

	now := time.Now()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(testBody))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = headers("msg_run", now, sign(t, newSecret, "msg_run", now, testBody))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("status %d, want 204", resp.StatusCode)
	}
	if out := stdout.String(); !strings.Contains(out, `"webhookId":"msg_run"`) || strings.Count(out, "\n") != 1 {
		t.Errorf("stdout %q", out)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run after cancel: %v", err)
	}
}
