package commands

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/problem"
	"github.com/portcommunity/cpu/shared/release"
)

type downStore struct{}

func (downStore) Accept(context.Context, release.Acceptance, time.Time) (release.Acceptance, bool, error) {
	return release.Acceptance{}, false, errors.New("DynamoDB: service unavailable")
}
func (downStore) Queued(context.Context, release.Acceptance) (bool, error) { return false, nil }
func (downStore) MarkQueued(context.Context, release.Acceptance) error     { return nil }

type countingQueue struct{ sent int }

func (q *countingQueue) Send(_ context.Context, msgs ...Message) error {
	q.sent += len(msgs)
	return nil
}

// TestNothingIsQueuedWhenTheCallIsNotAccepted: when the acceptance cannot be written the call
// answers 500 and queues nothing, so a 500 means none of it will apply.
func TestNothingIsQueuedWhenTheCallIsNotAccepted(t *testing.T) {
	q := &countingQueue{}
	a := &Acceptor{Store: downStore{}, Queue: q, Now: time.Now, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	cmds := []release.Command{{PublicReferenceID: "r", Request: release.Request{PortLoCode: "BEANR", EquipmentNumber: "CSQU3054383"}}}
	_, err := a.Accept(context.Background(), &apigw.Request{Method: "POST", Path: "/x", Headers: map[string]string{}}, apigw.Caller{EntityID: "NXT1", ClientID: "c"}, cmds)
	if problem.As(err).Status() != 500 || q.sent != 0 {
		t.Fatalf("status %d, %d messages queued", problem.As(err).Status(), q.sent)
	}
}

func TestIdempotencyKeyForms(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "order-42": "order-42", `"order-42"`: "order-42", ` "a \"quoted\" key" `: `a "quoted" key`, strings.Repeat("k", 255): strings.Repeat("k", 255),
	} {
		if got, err := idempotencyKey(in); err != nil || got != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	for _, bad := range []string{`""`, strings.Repeat("k", 256), "tab\tkey", "é", "\x00"} {
		if _, err := idempotencyKey(bad); problem.As(err).Status() != 400 || len(problem.As(err).Fields[IdempotencyKeyHeader]) == 0 {
			t.Errorf("%q accepted: %v", bad, err)
		}
	}
}

// TestFingerprint: the same method, path and body are the same request; any of them changed is
// another.
func TestFingerprint(t *testing.T) {
	body := []byte(`{"actionType":"Block","equipmentNumber":"CSQU3054383"}`)
	same := release.Fingerprint("POST", "/ingestion/v1/ingestion/x", body)
	if release.Fingerprint("POST", "/ingestion/v1/ingestion/x", append([]byte(nil), body...)) != same {
		t.Fatal("a retry has another fingerprint")
	}
	for name, fp := range map[string]string{
		"another body":   release.Fingerprint("POST", "/ingestion/v1/ingestion/x", []byte(`{"actionType":"Block","equipmentNumber":"CAIU7654324"}`)),
		"another path":   release.Fingerprint("POST", "/ingestion/v1/ingestion/y", body),
		"another method": release.Fingerprint("PUT", "/ingestion/v1/ingestion/x", body),
	} {
		if fp == same {
			t.Errorf("%s has the same fingerprint", name)
		}
	}
}
