package commands

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/problem"
	"github.com/portcommunity/cpu/shared/release"
)

// Acceptances is the storage port of accepting calls (shared/store implements it).
type Acceptances interface {
	// Accept writes the acceptance unless a live one has its key (the same client and
	// Idempotency-Key); then it answers that one with fresh false. It sets the Key.
	Accept(ctx context.Context, a release.Acceptance, now time.Time) (release.Acceptance, bool, error)
	// Queued tells whether the acceptance's commands are marked queued (strongly consistent).
	Queued(ctx context.Context, a release.Acceptance) (bool, error)
	// MarkQueued records that every command of the acceptance is on the queue.
	MarkQueued(ctx context.Context, a release.Acceptance) error
}

// Acceptor accepts the commands of one E1, E3 or E4 call, all or nothing. The call is accepted
// when its acceptance (every command, in one item) is written: that write is the one thing that
// can fail before the 202, so a 500 means nothing was accepted and a 202 means all of it will
// apply. Then the call queues the commands itself, in order, so that a client's next call on a
// container applies after this one. If queueing fails midway the call still answers 202: the
// relay, fed by the table's stream, queues whatever the acceptance holds and is not yet marked
// queued (SQS drops the copies of what was already sent, and the consumer applies a command once
// in any case).
type Acceptor struct {
	Store Acceptances
	Queue Queue
	Now   func() time.Time
	Log   *slog.Logger
}

// IdempotencyKeyHeader is the IETF httpapi draft's header: a retried call with the same key (from
// the same client, within 24 hours) gets the first answer again and queues nothing.
const IdempotencyKeyHeader = "Idempotency-Key"

// maxIdempotencyKeyChars bounds the key (the draft leaves it to the server).
const maxIdempotencyKeyChars = 255

// Accept accepts cmds (built with a fresh public reference) and answers 202, or answers a retry.
// It stamps every command with the one time of acceptance.
func (a *Acceptor) Accept(ctx context.Context, r *apigw.Request, caller apigw.Caller, cmds []release.Command) (apigw.Response, error) {
	key, err := idempotencyKey(r.Header(IdempotencyKeyHeader))
	if err != nil {
		return apigw.Response{}, err
	}
	now := a.Now().UTC()
	for i := range cmds {
		cmds[i].AcceptedAt = now
	}
	acc := release.Acceptance{
		ClientID: caller.ClientID, IdempotencyKey: key, PublicReferenceID: cmds[0].PublicReferenceID, ExternalReferenceID: r.ExternalRef,
		Fingerprint: release.Fingerprint(r.Method, r.Path, r.Body), Commands: cmds, AcceptedAt: now,
	}
	stored, fresh, err := a.Store.Accept(ctx, acc, now)
	switch {
	case errors.Is(err, release.ErrRequestTooLarge):
		return apigw.Response{}, problem.Field("releaseRights", "The items of this call are too large together to accept: send them in smaller calls.")
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "accept the call")
	case !fresh && stored.Fingerprint != acc.Fingerprint:
		return apigw.Response{}, problem.New(problem.KindUnprocessable,
			"The Idempotency-Key was used for another request in the last 24 hours; use a new key for a new request.")
	case !fresh:
		// A retry: the first call's answer, and nothing queued again (the first call, or the
		// relay, queues its commands).
		return accepted(stored)
	}
	if err := Enqueue(ctx, a.Queue, cmds...); err != nil {
		a.Log.WarnContext(ctx, "accepted call not fully queued; the relay will queue the rest", "publicReferenceId", acc.PublicReferenceID, "error", err.Error())
		return accepted(stored)
	}
	if err := a.Store.MarkQueued(ctx, stored); err != nil {
		// Harmless: the relay finds the commands queued already (SQS drops the copies).
		a.Log.WarnContext(ctx, "could not mark the acceptance queued", "publicReferenceId", acc.PublicReferenceID, "error", err.Error())
	}
	return accepted(stored)
}

func accepted(a release.Acceptance) (apigw.Response, error) {
	return apigw.JSON(http.StatusAccepted, Accepted{PublicReferenceID: a.PublicReferenceID, ExternalReferenceID: a.ExternalReferenceID})
}

// idempotencyKey reads the header: a structured-field string ("…", as the draft defines it) or,
// as many clients send it, the bare value; 1 to 255 printable ASCII characters.
func idempotencyKey(h string) (string, error) {
	k := strings.TrimSpace(h)
	if k == "" {
		return "", nil
	}
	if len(k) >= 2 && k[0] == '"' && k[len(k)-1] == '"' {
		k = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(k[1 : len(k)-1])
	}
	bad := k == "" || len(k) > maxIdempotencyKeyChars
	for i := 0; i < len(k) && !bad; i++ {
		bad = k[i] < 0x20 || k[i] > 0x7e
	}
	if bad {
		return "", problem.Field(IdempotencyKeyHeader, "'%s' must be 1 to %d printable ASCII characters.", IdempotencyKeyHeader, maxIdempotencyKeyChars)
	}
	return k, nil
}
