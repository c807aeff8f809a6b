// Package consumer applies the queued commands to the table: every command on a container, in the
// order it was accepted, exactly once, with its outcome.
package consumer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/release"
	"github.com/portcommunity/cpu/shared/secretbox"
)

// Releases is the consumer's storage port (shared/store implements it).
type Releases interface {
	Load(ctx context.Context, ref release.Ref, publicRef string, item int) (release.Loaded, error)
	// LoadContainer reads the container's visit and all its active releases (for an input).
	LoadContainer(ctx context.Context, port, container, publicRef string, item int) (release.Loaded, error)
	// ChainParties lists the parties of a release's chain of custody (for a gate-out).
	ChainParties(ctx context.Context, port, container, releaseID string) ([]string, error)
	Save(ctx context.Context, cur *release.Release, d release.Decision) error
	TerminalOperator(ctx context.Context, code string) (string, error)
	ResolveParty(ctx context.Context, ref release.PartyRef) ([]string, error)
}

// DeadLetter is a message the consumer gives up on, with what an operator needs to understand it.
type DeadLetter struct {
	MessageID    string
	Group        string
	Body         string
	Failure      string // FailureUndecodable or FailureRetriesExhausted
	Reason       string
	ReceiveCount int
	ParkedAt     time.Time
}

// Why a message is parked in the dead-letter queue.
const (
	// FailureUndecodable: the body is not a command; nobody can be told, so an operator must look.
	FailureUndecodable = "undecodable"
	// FailureRetriesExhausted: a transient failure (throttling, an outage) lasted through every
	// attempt; redriving the message after the cause is gone applies it.
	FailureRetriesExhausted = "retries-exhausted"
)

// DeadLetters parks messages in the command queue's DLQ (shared/awsedge implements it with SQS).
type DeadLetters interface {
	Park(ctx context.Context, dl DeadLetter) error
}

// Attempts counts the attempts at a message (shared/store implements it). A message's receive
// count is no measure: the messages held behind a failing one of their container are received
// again each time without being tried.
type Attempts interface {
	// Begin counts an attempt at a redelivered message before it is made, so that an attempt the
	// function does not survive counts too, and answers the attempts so far and the last error
	// recorded.
	Begin(ctx context.Context, messageID string) (int, string, error)
	// Failed records the error of a failed attempt (and counts the attempt unless Begin did) and
	// answers the attempts so far.
	Failed(ctx context.Context, messageID, reason string, counted bool) (int, error)
}

// Consumer applies queued commands to the table.
type Consumer struct {
	Store       Releases
	DeadLetters DeadLetters
	Attempts    Attempts
	// MaxAttempts is how often a command is tried before the consumer parks it in the DLQ with the
	// reason. (The queue's own redrive count is set out of reach: SQS counts receives, and the
	// commands held behind a failing one are received again and again without being tried.)
	MaxAttempts int
	Now         func() time.Time
	Log         *slog.Logger
	NewID       func() string
	// Box seals the pick-up PIN of an Assign for the holder's notification: the outcome is kept
	// for audit, and the PIN must not be readable there.
	Box secretbox.Box
}

// maxConflicts bounds the re-reads when a concurrent writer changed the release.
const maxConflicts = 8

// Handle is the SQS handler. A batch of a FIFO queue holds several message groups (containers),
// each in order. When a record fails, the later records of its group are reported failed with it,
// so none of them applies before the one it follows; the records of other groups are applied as
// usual. A record fails only for a transient cause: permanent failures are answered to the
// requester (or parked in the DLQ when there is nobody to answer) and the record is done. A record
// parked in the DLQ no longer holds back its container: the later commands pass it, and a redrive
// applies it after them.
func (c *Consumer) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	held := map[string]bool{}
	for _, rec := range ev.Records {
		group := rec.Attributes["MessageGroupId"]
		if held[group] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			continue
		}
		if err := c.handleRecord(ctx, rec); err != nil {
			c.Log.WarnContext(ctx, "command failed; it and the later commands of its container will be retried",
				"messageId", rec.MessageId, "group", group, "error", err.Error())
			held[group] = true
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

// handleRecord applies one record. It returns an error only when the record must be retried.
func (c *Consumer) handleRecord(ctx context.Context, rec events.SQSMessage) error {
	var cmd release.Command
	if err := json.Unmarshal([]byte(rec.Body), &cmd); err != nil || cmd.PublicReferenceID == "" {
		reason := "the body is not a command"
		if err != nil {
			reason += ": " + err.Error()
		}
		return c.park(ctx, rec, FailureUndecodable, reason)
	}
	// A first delivery is the first attempt, and costs no bookkeeping unless it fails. A redelivery
	// is counted before it is tried.
	counted := false
	if receiveCount(rec) > 1 {
		n, last, err := c.Attempts.Begin(ctx, rec.MessageId)
		if err != nil {
			return err
		}
		if n > c.MaxAttempts {
			return c.park(ctx, rec, FailureRetriesExhausted, fmt.Sprintf(
				"%d attempts did not succeed (an attempt the function did not survive records no error); the last error recorded: %s", n-1, last))
		}
		counted = true
	}
	err := c.applySafely(ctx, cmd)
	var perm *permanentError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &perm):
		c.Log.ErrorContext(ctx, "command failed permanently; the requester is told (ThrownException)",
			"publicReferenceId", cmd.PublicReferenceID, "item", cmd.Item, "error", err.Error())
		if err := c.recordFailure(ctx, cmd, perm.reason); err != nil {
			return c.failedAttempt(ctx, rec, err, counted)
		}
		return nil
	}
	return c.failedAttempt(ctx, rec, err, counted)
}

// failedAttempt records a transient failure and parks the message once MaxAttempts attempts have
// failed; until then the error makes SQS deliver it again. If even the count cannot be written (the
// table is down, the likeliest cause of the failure itself), the message is simply retried: SQS
// keeps it for days, and its redrive count is set far out of reach.
func (c *Consumer) failedAttempt(ctx context.Context, rec events.SQSMessage, err error, counted bool) error {
	n, cerr := c.Attempts.Failed(ctx, rec.MessageId, err.Error(), counted)
	if cerr != nil {
		return errors.Join(err, cerr)
	}
	if n >= c.MaxAttempts {
		return c.park(ctx, rec, FailureRetriesExhausted, fmt.Sprintf("failed on each of its %d attempts; the last error: %v", n, err))
	}
	return err
}

// permanentError is a failure that retrying cannot cure.
type permanentError struct {
	reason string // what the requester is told
	cause  error
}

func (e *permanentError) Error() string { return e.reason + ": " + fmt.Sprint(e.cause) }
func (e *permanentError) Unwrap() error { return e.cause }

// applySafely applies a command, turning a panic and the storage's permanent refusals into a
// permanentError: a panic would otherwise fail the whole batch, every time it is delivered.
func (c *Consumer) applySafely(ctx context.Context, cmd release.Command) (err error) {
	defer func() {
		if p := recover(); p != nil {
			c.Log.ErrorContext(ctx, "panic while applying a command", "publicReferenceId", cmd.PublicReferenceID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = &permanentError{reason: "The request could not be processed because of an internal error; please contact support with its publicReferenceId.", cause: fmt.Errorf("panic: %v", p)}
		}
	}()
	err = c.Apply(ctx, cmd)
	switch {
	case errors.Is(err, release.ErrTooLarge):
		return &permanentError{reason: "The request would make the release exceed its storage size limit; it was not applied. Please contact support with its publicReferenceId.", cause: err}
	case errors.Is(err, release.ErrRejected):
		return &permanentError{reason: "The request could not be stored; it was not applied. Please contact support with its publicReferenceId.", cause: err}
	}
	return err
}

// recordFailure stores the failure as the command's outcome, which tells the requester; a second
// delivery finds the outcome and applies nothing.
func (c *Consumer) recordFailure(ctx context.Context, cmd release.Command, reason string) error {
	err := c.Store.Save(ctx, nil, release.Failed(cmd, c.Now().UTC(), reason))
	if err != nil && !errors.Is(err, release.ErrAlreadyApplied) {
		return fmt.Errorf("record the failure of %s: %w", cmd.PublicReferenceID, err)
	}
	return nil
}

func (c *Consumer) park(ctx context.Context, rec events.SQSMessage, failure, reason string) error {
	if c.DeadLetters == nil {
		return fmt.Errorf("no dead-letter queue to park the message in: %s", reason)
	}
	c.Log.ErrorContext(ctx, "message parked in the dead-letter queue", "messageId", rec.MessageId, "failure", failure, "reason", reason)
	return c.DeadLetters.Park(ctx, DeadLetter{
		MessageID: rec.MessageId, Group: rec.Attributes["MessageGroupId"], Body: rec.Body,
		Failure: failure, Reason: reason, ReceiveCount: receiveCount(rec), ParkedAt: c.Now().UTC(),
	})
}

func receiveCount(rec events.SQSMessage) int {
	n, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	return n
}

// Apply applies one command exactly once: a duplicate finds its outcome recorded and stops; a
// concurrent change makes it read and decide again.
func (c *Consumer) Apply(ctx context.Context, cmd release.Command) error {
	ref := release.RefOf(cmd)
	// Parties and terminals are resolved once: a conflict changes the release, not the registry.
	var res release.Resolved
	resolved := false
	for attempt := 0; attempt < maxConflicts; attempt++ {
		var l release.Loaded
		var err error
		switch {
		case cmd.Input != nil, cmd.Action == release.ActRelease:
			// An input applies to every active release; a Release must know how many there are.
			l, err = c.Store.LoadContainer(ctx, cmd.Request.PortLoCode, cmd.Request.EquipmentNumber, cmd.PublicReferenceID, cmd.Item)
			for i, r := range l.Releases {
				if cmd.Input == nil && r.CarrierID == ref.CarrierID && r.BillOfLadingKey == ref.BillOfLadingKey {
					l.Release = &l.Releases[i]
				}
			}
		default:
			l, err = c.Store.Load(ctx, ref, cmd.PublicReferenceID, cmd.Item)
		}
		if err != nil || l.Done {
			return err
		}
		cur := l.Release
		if !resolved {
			if res, err = c.resolve(ctx, cmd); err != nil {
				return err
			}
			resolved = true
		}
		res.Visit, res.ActiveReleases = l.Visit, len(l.Releases)
		var d release.Decision
		if cmd.Input != nil {
			if res.ChainParties, err = c.chains(ctx, cmd, l.Releases); err != nil {
				return err
			}
			d = release.ApplyInput(l.Visit, l.Releases, cmd, res, c.Now().UTC())
		} else {
			d = release.Apply(cur, cmd, res, c.Now().UTC(), c.NewID)
		}
		if err := c.sealPIN(ctx, &d.Outcome); err != nil {
			return err
		}
		err = c.Store.Save(ctx, cur, d)
		switch {
		case err == nil, errors.Is(err, release.ErrAlreadyApplied):
			return nil
		case errors.Is(err, release.ErrReleaseIDTaken):
			refused := release.NotValidated(cmd, nil, c.Now().UTC(), fmt.Sprintf("releaseIdentification %q is used by another active release of yours.", cmd.Request.ReleaseIdentification))
			if err := c.Store.Save(ctx, nil, refused); err != nil && !errors.Is(err, release.ErrAlreadyApplied) {
				return err
			}
			return nil
		case errors.Is(err, release.ErrConflict):
			// Another writer changed the release: read it again and decide again.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 5 * time.Millisecond):
			}
			continue
		default:
			return err
		}
	}
	return fmt.Errorf("release of %s kept changing under %d attempts", cmd.Request.EquipmentNumber, maxConflicts)
}

// chains reads the parties of every chain of custody a gate-out ends.
func (c *Consumer) chains(ctx context.Context, cmd release.Command, rels []release.Release) (map[string][]string, error) {
	if cmd.Input.Input != release.InputGateOut {
		return nil, nil
	}
	out := map[string][]string{}
	for _, r := range rels {
		ids, err := c.Store.ChainParties(ctx, r.PortLoCode, r.EquipmentNumber, r.ReleaseID)
		if err != nil {
			return nil, err
		}
		out[r.ReleaseID] = ids
	}
	return out, nil
}

// sealPIN seals an Assign's PIN for the notifier (bound to the command's public reference).
func (c *Consumer) sealPIN(ctx context.Context, o *release.Outcome) error {
	if o.PickupPin == "" {
		return nil
	}
	if c.Box == nil {
		return &permanentError{reason: "The pick-up PIN could not be issued; please contact support with the publicReferenceId.", cause: errors.New("no secret box configured")}
	}
	sealed, err := c.Box.Seal(ctx, []byte(o.PickupPin), o.PublicReferenceID)
	if err != nil {
		return err
	}
	o.SealedPin = sealed
	return nil
}

// resolve looks up what the command names: the terminal's operator and the releaseTo party, or
// the parties of a release-right action.
func (c *Consumer) resolve(ctx context.Context, cmd release.Command) (release.Resolved, error) {
	var res release.Resolved
	if r := cmd.Right; r != nil {
		var err error
		for _, p := range []struct {
			ref  *release.PartyRef
			dst  *string
			name string
		}{{&r.From, &res.FromID, "releaseFrom"}, {&r.To, &res.ToID, "releaseTo"}, {r.Carrier, &res.CarrierID, "carrier"}} {
			if p.ref == nil || res.PartyError != "" {
				continue
			}
			if *p.dst, res.PartyError, err = c.one(ctx, *p.ref, p.name); err != nil {
				return res, err
			}
		}
		return res, nil
	}
	if cmd.Input != nil {
		if p := cmd.Input.PickedUpBy; p != nil {
			ids, err := c.Store.ResolveParty(ctx, *p)
			if err != nil {
				return res, err
			}
			if len(ids) == 1 {
				res.PickedUpByID = ids[0]
			}
		}
		return res, nil
	}
	if cmd.Action == release.ActAssign {
		res.PIN = release.NewPIN()
	}
	if cmd.Action != release.ActRelease && cmd.Action != release.ActUpdate {
		return res, nil
	}
	to, err := c.Store.TerminalOperator(ctx, cmd.Request.TerminalCode)
	if err != nil {
		return res, err
	}
	res.TerminalOperatorID = to
	if p := cmd.Request.ReleaseTo; p != nil {
		res.ReleaseToID, res.ReleaseToError, err = c.one(ctx, *p, "releaseTo")
	}
	return res, err
}

// one resolves a party reference that must name exactly one registered entity.
func (c *Consumer) one(ctx context.Context, p release.PartyRef, name string) (string, string, error) {
	ids, err := c.Store.ResolveParty(ctx, p)
	switch {
	case err != nil:
		return "", "", err
	case len(ids) == 1:
		return ids[0], "", nil
	case len(ids) == 0:
		return "", fmt.Sprintf("%s: no registered party has %s %s", name, p.IdentificationType, p.IdentificationCode), nil
	}
	return "", fmt.Sprintf("%s: %d registered parties have %s %s", name, len(ids), p.IdentificationType, p.IdentificationCode), nil
}

// NewID makes release ids.
func NewID() string { return uuid.NewString() }
