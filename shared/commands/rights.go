package commands

import (
	"context"

	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/problem"
	"github.com/portcommunity/cpu/shared/release"
)

// Rights serves E3 and E4: it checks what needs no release state, and accepts one command per item
// under the call's one public reference (all of them or none).
type Rights struct {
	IDs    Identities
	Accept *Acceptor
	Ports  release.Ports
}

// rightRoles may act on release rights.
var rightRoles = []entity.Role{entity.ShippingAgent, entity.ReleaseParty, entity.TransportOperator}

// HandleOne serves E3: PUT …/{portLoCode}/containers/{equipmentNumber}/import/release-rights.
func (h *Rights) HandleOne(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	caller, err := apigw.RequireCaller(r, rightRoles...)
	if err != nil {
		return apigw.Response{}, err
	}
	act, item, err := release.DecodeTransfer(r.Body, r.PathParams["portLoCode"], r.PathParams["equipmentNumber"], h.Ports)
	if err != nil {
		return apigw.Response{}, err
	}
	return h.queue(ctx, r, caller, act, []release.RightItem{item})
}

// HandleBulk serves E4: PUT …/{portLoCode}/containers/import/release-rights.
func (h *Rights) HandleBulk(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	caller, err := apigw.RequireCaller(r, rightRoles...)
	if err != nil {
		return apigw.Response{}, err
	}
	act, bulk, err := release.DecodeBulk(r.Body, r.PathParams["portLoCode"], h.Ports)
	if err != nil {
		return apigw.Response{}, err
	}
	return h.queue(ctx, r, caller, act, bulk.ReleaseRights)
}

// queue checks the caller's side of every item (Transfer and Revoke come from the caller, Accept and
// Decline go to it: 401 otherwise), then queues the items. Nothing is queued if any item fails.
func (h *Rights) queue(ctx context.Context, r *apigw.Request, caller apigw.Caller, act release.Action, items []release.RightItem) (apigw.Response, error) {
	me, err := h.IDs.Entity(ctx, caller.EntityID)
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "read caller")
	}
	for _, it := range items {
		mine := *it.ReleaseFrom
		if act == release.ActAccept || act == release.ActDecline {
			mine = *it.ReleaseTo
		}
		if !Names(mine, me) {
			side := "releaseFrom"
			if act == release.ActAccept || act == release.ActDecline {
				side = "releaseTo"
			}
			return apigw.Response{}, problem.New(problem.KindUnauthorized, "on %s, %s must be the caller", act, side)
		}
	}
	ref := uuid.NewString()
	cmds := make([]release.Command, len(items))
	for i, it := range items {
		cmds[i] = it.Command(act, ref, r.ExternalRef, caller.EntityID, i)
	}
	return h.Accept.Accept(ctx, r, caller, cmds)
}

// Assignments serves the transport operator's assignment of a pick-up (contract §10):
// PUT and DELETE …/{portLoCode}/containers/{equipmentNumber}/import/release-rights/assignment.
// Whether the caller holds the right is the consumer's to judge (NotValidated otherwise).
type Assignments struct {
	Accept *Acceptor
	Ports  release.Ports
}

// HandlePut assigns (or re-assigns) the pick-up.
func (h *Assignments) HandlePut(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	return h.handle(ctx, r, true)
}

// HandleDelete unassigns it.
func (h *Assignments) HandleDelete(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	return h.handle(ctx, r, false)
}

func (h *Assignments) handle(ctx context.Context, r *apigw.Request, assign bool) (apigw.Response, error) {
	caller, err := apigw.RequireCaller(r)
	if err != nil {
		return apigw.Response{}, err
	}
	port, container := r.PathParams["portLoCode"], r.PathParams["equipmentNumber"]
	req, args, err := release.DecodeAssign(r.Body, port, container, h.Ports, assign)
	if err != nil {
		return apigw.Response{}, err
	}
	if args != nil {
		args.ByTransportOperator = caller.HasAnyRole(entity.TransportOperator)
	}
	cmd := req.Command(port, container, args, uuid.NewString(), r.ExternalRef, caller.EntityID)
	return h.Accept.Accept(ctx, r, caller, []release.Command{cmd})
}
