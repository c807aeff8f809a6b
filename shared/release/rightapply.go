package release

import "time"

// Right events (contract §7).
const (
	EventAccepted = "AcceptedByNextParty"
	EventDeclined = "DeclinedByNextParty"
)

// applyRight applies Transfer, Accept, Decline and the right's Revoke (contract §5): one pending
// transfer at a time; only the holder transfers; only the receiver accepts or declines; only the
// sender revokes, and only before the receiver answers. The transfer's details must match the
// stored release; a blocked release can still be transferred.
func applyRight(cur *Release, cmd Command, res Resolved, now time.Time) Decision {
	refuse := func(format string, args ...any) Decision {
		return NotValidated(cmd, cur, now, sprintf(format, args...))
	}
	if cur == nil {
		return refuse("No active release of container %s matches these bills of lading and releaseIdentification.", cmd.Request.EquipmentNumber)
	}
	switch {
	case cmd.Request.ReleaseIdentification != cur.Data.ReleaseIdentification:
		return refuse("releaseIdentification %q does not match the release.", cmd.Request.ReleaseIdentification)
	case cmd.Request.TerminalCode != cur.Data.TerminalCode:
		return refuse("terminalCode %s does not match the release (%s).", cmd.Request.TerminalCode, cur.Data.TerminalCode)
	case cmd.Right.Carrier != nil && res.CarrierID != cur.CarrierID:
		return refuse("carrier does not match the release's shipping agent.")
	case cur.Light == LightExpired:
		return refuse("The release has expired.")
	case res.PartyError != "":
		return refuse("%s", res.PartyError)
	}
	me, r := cmd.Requester, cur.Right
	next := *cur
	next.Version, next.UpdatedAt = cur.Version+1, now
	var hops []Hop
	hop := func(from, to, action string) {
		hops = append(hops, next.Right.addHop(from, to, action, cmd.Right.Reason, now, cmd.PublicReferenceID))
	}
	out := newOutcome(cmd, now)
	notice := func(event, actionType string, ids ...string) {
		out.Notices = []Notice{{Type: TypeReleaseRight, Event: event, ActionType: actionType, Recipients: unique(append(ids, cur.CarrierID)...)}}
	}
	switch cmd.Action {
	case ActTransfer:
		switch {
		case me != r.Holder || res.FromID != me:
			return refuse("You do not hold the release right of %s.", cur.EquipmentNumber)
		case r.PendingTo != "":
			return refuse("A transfer of this right is pending; it must be accepted, declined or revoked first.")
		case res.ToID == me:
			return refuse("A release right cannot be transferred to its holder.")
		case r.Assignment != nil:
			return refuse("The pick-up of this right is assigned: unassign it before transferring the right.")
		case me == cur.CarrierID && r.ReleaseToLocked:
			return refuse("The releaseTo party of the Release holds or is offered this right: Revoke it first, or Delete the release and submit it again.")
		}
		next.Right.PendingTo, next.Right.Status = res.ToID, StatusPending
		hop(me, res.ToID, "Transfer")
		notice(EventTransferred, "Transfer", me, res.ToID)
	case ActAccept, ActDecline:
		switch {
		case r.PendingTo != me:
			return refuse("No transfer of this right to you is pending.")
		case res.FromID != r.Holder:
			return refuse("releaseFrom does not match the sender of the pending transfer.")
		}
		sender := r.Holder
		next.Right.PendingTo = ""
		if cmd.Action == ActAccept {
			next.Right.Holder, next.Right.Status = me, StatusAccepted
			hop(sender, me, "Accept")
			notice(EventAccepted, "Accept", sender, me)
		} else {
			next.Right.Status = StatusDeclined
			if me == r.ReleaseTo {
				next.Right.ReleaseToLocked = false
			}
			hop(me, sender, "Decline")
			notice(EventDeclined, "Decline", sender, me)
		}
	case ActRightRevoke:
		switch {
		case me != r.Holder || res.FromID != me:
			return refuse("Only the sender of a pending transfer can revoke it.")
		case r.PendingTo == "":
			return refuse("No transfer of this right is pending: once the receiver answered, only the shipping agent's commercial Revoke pulls it back.")
		case res.ToID != r.PendingTo:
			return refuse("releaseTo does not match the pending transfer.")
		}
		loser := r.PendingTo
		next.Right.PendingTo, next.Right.Status = "", StatusRevoked
		if loser == r.ReleaseTo {
			next.Right.ReleaseToLocked = false
		}
		hop(me, loser, "Revoke")
		notice(EventRevoked, "Revoke", loser, me)
	}
	out.Applied = true
	snapshot(&out, &next)
	return Decision{Next: &next, Hops: hops, Outcome: out}
}
