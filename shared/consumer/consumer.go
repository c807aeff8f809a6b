// Package consumer applies the queued commands to the table: every command on a container, in the
// order it was accepted, exactly once, with its outcome.
package consumer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/release"
)

// Releases is the consumer's storage port (shared/store implements it).
type Releases interface {
	Load(ctx context.Context, ref release.Ref, publicRef string, item int) (*release.Release, bool, error)
	Save(ctx context.Context, cur *release.Release, d release.Decision) error
	TerminalOperator(ctx context.Context, code string) (string, error)
	ResolveParty(ctx context.Context, ref release.PartyRef) ([]string, error)
}

// Consumer applies queued commands to the table.
type Consumer struct {
	Store Releases
	Now   func() time.Time
	Log   *slog.Logger
	NewID func() string
}

// maxConflicts bounds the re-reads when a concurrent writer changed the release.
const maxConflicts = 8

// Handle is the SQS handler. Records of a FIFO batch are applied in order; at the first failure
// that record and every later one are reported failed, so none is applied before the one it
// follows (the queue delivers them again; a record that keeps failing ends in the DLQ).
func (c *Consumer) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for i, rec := range ev.Records {
		if err := c.apply(ctx, rec); err != nil {
			c.Log.ErrorContext(ctx, "command failed; it and the rest of the batch will be retried", "messageId", rec.MessageId, "error", err.Error())
			for _, r := range ev.Records[i:] {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
			break
		}
	}
	return resp, nil
}

func (c *Consumer) apply(ctx context.Context, rec events.SQSMessage) error {
	var cmd release.Command
	if err := json.Unmarshal([]byte(rec.Body), &cmd); err != nil || cmd.PublicReferenceID == "" {
		return fmt.Errorf("undecodable command: %v", err)
	}
	return c.Apply(ctx, cmd)
}

// Apply applies one command exactly once: a duplicate finds its outcome recorded and stops; a
// concurrent change makes it read and decide again.
func (c *Consumer) Apply(ctx context.Context, cmd release.Command) error {
	ref := release.RefOf(cmd)
	// Parties and terminals are resolved once: a conflict changes the release, not the registry.
	var res release.Resolved
	resolved := false
	for attempt := 0; attempt < maxConflicts; attempt++ {
		cur, done, err := c.Store.Load(ctx, ref, cmd.PublicReferenceID, cmd.Item)
		if err != nil || done {
			return err
		}
		if !resolved {
			if res, err = c.resolve(ctx, cmd); err != nil {
				return err
			}
			resolved = true
		}
		d := release.Apply(cur, cmd, res, c.Now().UTC(), c.NewID)
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
