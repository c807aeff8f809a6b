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
func (downStore) Acceptance(context.Context, string) (release.Acceptance, bool, error) {
	return release.Acceptance{}, false, nil
}
func (downStore) MarkQueued(context.Context, string) error { return nil }

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

// TestFingerprintIgnoresReferenceTimeAndExternalReference: a retry differs in those, and is the
// same request.
func TestFingerprintIgnoresReferenceTimeAndExternalReference(t *testing.T) {
	ext := "mine"
	a := release.Command{PublicReferenceID: "r1", Requester: "NXT1", Action: release.ActBlock, Request: release.Request{EquipmentNumber: "CSQU3054383"}, AcceptedAt: time.Now()}
	b := a
	b.PublicReferenceID, b.ExternalReferenceID, b.AcceptedAt = "r2", &ext, time.Now().Add(time.Hour)
	if release.Fingerprint("POST", "/p", []release.Command{a}) != release.Fingerprint("POST", "/p", []release.Command{b}) {
		t.Fatal("a retry has another fingerprint")
	}
	b.Request.EquipmentNumber = "CAIU7654324"
	if release.Fingerprint("POST", "/p", []release.Command{a}) == release.Fingerprint("POST", "/p", []release.Command{b}) {
		t.Fatal("another request has the same fingerprint")
	}
	if release.Fingerprint("POST", "/p", []release.Command{a}) == release.Fingerprint("PUT", "/p", []release.Command{a}) {
		t.Fatal("another endpoint has the same fingerprint")
	}
}
