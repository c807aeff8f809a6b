// Package commands accepts the commands on releases and puts them on the command queue: E1 (the
// shipping agent's commercial actions), E3 and E4 (release-right actions), and the expiry sweep.
// It judges what needs no stored state; the consumer applies the rest.
package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/identity"
	"github.com/portcommunity/cpu/shared/problem"
	"github.com/portcommunity/cpu/shared/release"
)

// Message is one command on a FIFO queue.
type Message struct {
	Group string // the container: actions on one container apply in order
	Dedup string // the command's public reference (and item)
	Body  []byte
}

// Queue is a command queue: FIFO, grouped per container, deduplicated on the public reference.
// Send takes many messages so that adapters can batch them (a bulk call is one request, not 100).
type Queue interface {
	Send(ctx context.Context, msgs ...Message) error
}

// Identities is what E1 reads of the caller: its ingestion id and its identifiers.
type Identities interface {
	IngestionID(ctx context.Context, id string) (identity.IngestionID, error)
	Entity(ctx context.Context, id string) (entity.Entity, error)
}

// Accepted is the 202 body of an async command (contract §4).
type Accepted struct {
	PublicReferenceID   string  `json:"publicReferenceId"`
	ExternalReferenceID *string `json:"externalReferenceId"`
}

// Ingest serves E1: it judges what needs no release state (contract §4, §6), queues the command and
// answers 202. Everything else is the consumer's, and comes back as a notification.
type Ingest struct {
	IDs    Identities
	Accept *Acceptor
	Ports  release.Ports
	Stage  string
	Now    func() time.Time
}

// Handle serves POST /ingestion/v1/ingestion/{ingestionId}: a shipping agent's commercial action,
// or a terminal's or an authority's input (contract §10), told apart by actionType.
func (in *Ingest) Handle(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	action := peekActionType(r.Body)
	if input, ok := release.InputOf(action); ok {
		return in.handleInput(ctx, r, input)
	}
	caller, err := apigw.RequireCaller(r, entity.ShippingAgent)
	if err != nil {
		if r.Caller != nil && r.Caller.HasAnyRole(entity.TerminalOperator, entity.Authority) && !release.CommercialAction(action) {
			// A terminal or an authority that misspelt its input: say which values exist.
			return apigw.Response{}, problem.Field("actionType", "'actionType' must be one of %s.", release.InputNames())
		}
		return apigw.Response{}, err
	}
	if err := in.checkIngestionID(ctx, r, caller); err != nil {
		return apigw.Response{}, err
	}
	req, err := release.Decode(r.Body, in.Ports)
	if err != nil {
		return apigw.Response{}, err
	}
	if req.Carrier != nil {
		me, err := in.IDs.Entity(ctx, caller.EntityID)
		if err != nil {
			return apigw.Response{}, problem.Wrap(err, "read caller")
		}
		if !Names(*req.Carrier, me) {
			return apigw.Response{}, problem.New(problem.KindUnauthorized, "the carrier is not the caller: a shipping agent releases its own containers")
		}
	}
	cmd := release.Command{
		PublicReferenceID: uuid.NewString(), ExternalReferenceID: r.ExternalRef, Requester: caller.EntityID,
		CarrierID: caller.EntityID, Action: req.ActionType, Request: req,
	}
	return in.Accept.Accept(ctx, r, caller, []release.Command{cmd})
}

// handleInput accepts a terminal's input (from the operator of its terminalCode) or an authority's
// (from an entity with the Authority role, in every port served): 401 for anyone else.
func (in *Ingest) handleInput(ctx context.Context, r *apigw.Request, input release.LightInput) (apigw.Response, error) {
	byTerminal, _ := input.ByTerminal()
	role := entity.Authority
	if byTerminal {
		role = entity.TerminalOperator
	}
	caller, err := apigw.RequireCaller(r, role)
	if err != nil {
		return apigw.Response{}, problem.New(problem.KindUnauthorized, "%s is sent by an entity with the %s role", input, role)
	}
	if err := in.checkIngestionID(ctx, r, caller); err != nil {
		return apigw.Response{}, err
	}
	req, args, err := release.DecodeInput(r.Body, in.Ports, in.Now())
	if err != nil {
		return apigw.Response{}, err
	}
	if byTerminal {
		me, err := in.IDs.Entity(ctx, caller.EntityID)
		if err != nil {
			return apigw.Response{}, problem.Wrap(err, "read caller")
		}
		if !slices.Contains(me.TerminalCodes, req.TerminalCode) {
			return apigw.Response{}, problem.New(problem.KindUnauthorized, "terminalCode %s is not a terminal you operate", req.TerminalCode)
		}
	}
	cmd := req.Command(args, uuid.NewString(), r.ExternalRef, caller.EntityID)
	return in.Accept.Accept(ctx, r, caller, []release.Command{cmd})
}

// peekActionType reads actionType from a body without judging anything else ("" when it is not
// there): the full decoding depends on it.
func peekActionType(body []byte) string {
	var head map[string]json.RawMessage
	if json.Unmarshal(body, &head) != nil {
		return ""
	}
	for k, v := range head {
		var s string
		if strings.EqualFold(k, "actionType") && json.Unmarshal(v, &s) == nil {
			return s
		}
	}
	return ""
}

// checkIngestionID: the path's ingestion id must be the caller's, in this stage.
func (in *Ingest) checkIngestionID(ctx context.Context, r *apigw.Request, caller apigw.Caller) error {
	ing, err := in.IDs.IngestionID(ctx, r.PathParams["ingestionId"])
	switch {
	case errors.Is(err, identity.ErrUnknown):
		return problem.New(problem.KindUnauthorized, "the ingestion id is not yours")
	case err != nil:
		return problem.Wrap(err, "read ingestion id")
	case ing.EntityID != caller.EntityID || ing.Environment != in.Stage:
		return problem.New(problem.KindUnauthorized, "the ingestion id is not yours")
	}
	return nil
}

// Enqueue puts commands on the queue: grouped per container (actions on one container apply in
// the order accepted), deduplicated on their public reference and item.
func Enqueue(ctx context.Context, q Queue, cmds ...release.Command) error {
	msgs := make([]Message, 0, len(cmds))
	for _, cmd := range cmds {
		m, err := MessageOf(cmd)
		if err != nil {
			return problem.Wrap(err, "encode command")
		}
		msgs = append(msgs, m)
	}
	if err := q.Send(ctx, msgs...); err != nil {
		return problem.Wrap(err, "queue command")
	}
	return nil
}

// MessageOf encodes a command as its queue message: grouped per container, deduplicated on its
// public reference and item, and a body of ASCII only. JSON allows every character, but SQS
// accepts only part of Unicode in a message (and its stand-in less: no characters beyond
// U+FFFF, so an emoji in vesselName could not be queued); escaping everything beyond ASCII as
// \uXXXX keeps the body valid JSON that decodes to exactly the same text.
func MessageOf(cmd release.Command) (Message, error) {
	body, err := json.Marshal(cmd)
	if err != nil {
		return Message{}, err
	}
	return Message{Group: cmd.GroupID(), Dedup: fmt.Sprintf("%s-%d", cmd.PublicReferenceID, cmd.Item), Body: asciiJSON(body)}, nil
}

// asciiJSON escapes every non-ASCII character of a JSON document (they occur only inside
// strings), with a surrogate pair beyond U+FFFF as JSON requires.
func asciiJSON(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for _, r := range string(b) {
		switch {
		case r < utf8.RuneSelf:
			out = append(out, byte(r))
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, hi, lo)
		default:
			out = fmt.Appendf(out, `\u%04x`, r)
		}
	}
	return out
}

// Names tells whether a party reference names the entity (by any of its identifiers).
func Names(p release.PartyRef, e entity.Entity) bool {
	code := strings.ToUpper(strings.TrimSpace(p.IdentificationCode))
	switch p.IdentificationType {
	case "NxtEntityId":
		return code == e.NxtEntityID
	case "Tin":
		return code == e.VAT
	case "Eori":
		return e.EORI != "" && code == e.EORI
	case "Duns":
		return e.DUNS != "" && code == e.DUNS
	case "Apcs":
		return e.APCSCode != "" && code == e.APCSCode
	case "Scac":
		return e.SCAC != "" && code == e.SCAC
	}
	return false
}
