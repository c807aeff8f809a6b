package release

import (
	"fmt"
	"time"
)

// Apply applies an accepted command to the release it names (cur, nil when there is none). It is
// pure: the consumer loads cur, resolves parties into res, and stores the decision atomically.
func Apply(cur *Release, cmd Command, res Resolved, now time.Time, newID func() string) Decision {
	out := newOutcome(cmd, now)
	refuse := func(format string, args ...any) Decision {
		return NotValidated(cmd, cur, now, fmt.Sprintf(format, args...))
	}
	if cmd.Right != nil {
		return applyRight(cur, cmd, res, now)
	}
	if cmd.Action == ActAssign || cmd.Action == ActUnassign {
		return applyAssign(cur, cmd, now, func() string { return res.PIN })
	}
	if cmd.Action == ActRelease {
		if cur != nil {
			return refuse("An active release exists for container %s with these bills of lading; use Update, or Delete it first.", cmd.Request.EquipmentNumber)
		}
		return release(cmd, res, now, newID, out, refuse)
	}
	if cur == nil {
		if cmd.Action == ActExpire {
			return Decision{Outcome: out} // deleted meanwhile: nothing to expire, nobody to tell
		}
		return refuse("No active release of yours exists for container %s with these bills of lading.", cmd.Request.EquipmentNumber)
	}
	if cmd.Request.ReleaseIdentification != "" && cmd.Action != ActUpdate && cmd.Request.ReleaseIdentification != cur.Data.ReleaseIdentification {
		return refuse("releaseIdentification %q does not match the release (%q).", cmd.Request.ReleaseIdentification, cur.Data.ReleaseIdentification)
	}
	if cmd.Request.TerminalCode != "" && cmd.Action != ActUpdate && cmd.Request.TerminalCode != cur.Data.TerminalCode {
		return refuse("terminalCode %s does not match the release (%s).", cmd.Request.TerminalCode, cur.Data.TerminalCode)
	}
	next := *cur
	next.Version = cur.Version + 1
	next.UpdatedAt = now
	var hops []Hop
	hop := func(from, to, action string) {
		hops = append(hops, next.Right.addHop(from, to, action, "", now, cmd.PublicReferenceID))
	}
	light := func(actionType string, recipients ...string) Notice {
		return Notice{Type: TypeReleaseLight, Event: EventLightChanged, ActionType: actionType, Recipients: unique(recipients...)}
	}
	sa, to := cur.CarrierID, cur.TerminalOperatorID
	owner := ""
	if cur.Right.Holder != sa {
		owner = cur.Right.Holder
	}

	switch cmd.Action {
	case ActUpdate:
		if res.TerminalOperatorID == "" {
			return refuse("terminalCode %s is not a known terminal.", cmd.Request.TerminalCode)
		}
		if cmd.Request.ReleaseTo != nil && res.ReleaseToID != cur.Right.ReleaseTo {
			return refuse("releaseTo cannot be changed by Update; Delete the release and submit a new one.")
		}
		data := cmd.Request
		if data.MeansOfTransport == "" {
			data.MeansOfTransport = cur.Data.MeansOfTransport // not part of the Update schema
		}
		data.ReleaseTo = cur.Data.ReleaseTo
		next.Data, next.TerminalOperatorID = data, res.TerminalOperatorID
		if cur.Light == LightExpired {
			if !data.ExpirationDateTimeUtc.After(now) {
				return refuse("The release has expired; an Update must set expirationDateTimeUtc in the future.")
			}
			next.Light, next.PrevLight = cur.PrevLight, ""
			next.Right.Status, next.Right.PrevStatus = cur.Right.PrevStatus, 0
			out.Warnings = append(out.Warnings, "The expired release is valid again.")
		}
		out.Notices = []Notice{{Type: TypeReleaseLight, Event: EventUpdate, ActionType: string(ActUpdate), Recipients: unique(sa, to, res.TerminalOperatorID, owner)}}
	case ActBlock, ActUnblock, ActRevoke:
		if cur.Light == LightExpired {
			return refuse("The release has expired; only Update (with a new expiration) or Delete apply.")
		}
		switch cmd.Action {
		case ActBlock:
			if cur.Light == LightBlocked {
				out.Warnings = append(out.Warnings, "The release was already blocked; nothing changed.")
				out.Notices = []Notice{light(string(ActBlock), cmd.Requester)}
				snapshot(&out, cur)
				out.Applied = true
				return Decision{Outcome: out}
			}
			next.Light = LightBlocked
			out.Notices = []Notice{light(string(ActBlock), sa, to, owner)}
		case ActUnblock:
			if cur.Light != LightBlocked {
				out.Warnings = append(out.Warnings, "The release was not blocked; nothing changed.")
				out.Notices = []Notice{light(string(ActUnblock), cmd.Requester)}
				snapshot(&out, cur)
				out.Applied = true
				return Decision{Outcome: out}
			}
			next.Light = LightOK
			out.Notices = []Notice{light(string(ActUnblock), sa, to, owner)}
		case ActRevoke:
			// The right returns to the shipping agent from anywhere in the chain; everyone who loses
			// it (the holder, a pending receiver) is told.
			losers := []string{owner}
			if cur.Right.PendingTo != "" {
				losers = append(losers, cur.Right.PendingTo)
			}
			next.Right.Holder, next.Right.Status, next.Right.PendingTo, next.Right.ReleaseToLocked = sa, StatusRevoked, "", false
			next.Right.Assignment = nil
			hop(cur.Right.Holder, sa, "CommercialRevoke")
			out.Notices = []Notice{{Type: TypeReleaseRight, Event: EventRevoked, ActionType: string(ActRevoke), Recipients: unique(append([]string{sa}, losers...)...)}}
		}
	case ActDelete:
		next.Right.Status, next.Right.PendingTo, next.Right.Assignment = StatusArchived, "", nil
		hop(cur.Right.Holder, "", "Archive")
		out.Notices = []Notice{light(string(ActDelete), sa, to, owner, cur.Right.PendingTo)}
		out.Applied = true
		snapshot(&out, &next)
		return Decision{Next: &next, Archive: true, Hops: hops, Outcome: out}
	case ActExpire:
		if cur.Light == LightExpired || cur.Data.ExpirationDateTimeUtc == nil || cur.Data.ExpirationDateTimeUtc.After(now) {
			return Decision{Outcome: out} // extended or already expired meanwhile
		}
		next.PrevLight, next.Light = cur.Light, LightExpired
		next.Right.PrevStatus, next.Right.Status, next.Right.PendingTo, next.Right.Assignment = cur.Right.Status, StatusExpired, "", nil
		hop(cur.Right.Holder, "", "Expire")
		out.Notices = []Notice{light("", sa, to, owner, cur.Right.PendingTo)}
	default:
		return refuse("actionType %s does not apply to a commercial release.", cmd.Action)
	}
	out.Applied = true
	snapshot(&out, &next)
	out.OriginalLight = cur.Light
	return Decision{Next: &next, Hops: hops, Outcome: out}
}

// NotValidated is the decision to refuse a command: nothing changes, and the requester alone hears
// why (contract §4: what needs stored state to judge is answered asynchronously).
func NotValidated(cmd Command, cur *Release, now time.Time, reason string) Decision {
	d := refusal(cmd, now, EventNotValidated, reason)
	if cur != nil && cur.isParty(cmd.Requester) {
		snapshot(&d.Outcome, cur) // a stranger learns nothing of the release it named
	}
	return d
}

// Failed is the decision to give up on a command that failed inside the platform for a reason
// retrying cannot cure (a bug, or a write the storage refuses): nothing changes, the outcome is
// recorded, and the requester alone hears of it with NxtPort's ThrownException event, so that it
// can contact support with the reference instead of waiting for an answer that never comes.
func Failed(cmd Command, now time.Time, reason string) Decision {
	return refusal(cmd, now, EventThrownException, reason)
}

func refusal(cmd Command, now time.Time, event, reason string) Decision {
	out := newOutcome(cmd, now)
	out.Errors = append(out.Errors, reason)
	if cmd.Requester != "" {
		out.Notices = []Notice{{Type: cmd.NoticeType(), Event: event, Recipients: []string{cmd.Requester}}}
	}
	return Decision{Outcome: out}
}

// isParty tells whether an entity has a part in the release: its agent, its terminal, its holder or
// a pending receiver.
func (r *Release) isParty(id string) bool {
	return id != "" && (id == r.CarrierID || id == r.TerminalOperatorID || id == r.Right.Holder || id == r.Right.PendingTo)
}

// NoticeType is the notification type of the command's own kind: a refusal has the type of the
// request (contract §7).
func (c Command) NoticeType() string {
	if c.Right != nil || c.Action == ActAssign || c.Action == ActUnassign {
		return TypeReleaseRight
	}
	return TypeReleaseLight
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func newOutcome(cmd Command, now time.Time) Outcome {
	return Outcome{
		PublicReferenceID: cmd.PublicReferenceID, ExternalReferenceID: cmd.ExternalReferenceID, Item: cmd.Item,
		Requester: cmd.Requester, Action: cmd.Action, At: now, Notices: []Notice{}, Errors: []string{}, Warnings: []string{},
		PortLoCode: cmd.Request.PortLoCode, EquipmentNumber: cmd.Request.EquipmentNumber,
		BillOfLadingNumbers: cmd.Request.BillOfLadingNumbers, ReleaseIdentification: cmd.Request.ReleaseIdentification,
		TerminalCode: cmd.Request.TerminalCode,
	}
}

func release(cmd Command, res Resolved, now time.Time, newID func() string, out Outcome, refuse func(string, ...any) Decision) Decision {
	r := cmd.Request
	switch {
	case res.TerminalOperatorID == "":
		return refuse("terminalCode %s is not a known terminal.", r.TerminalCode)
	case r.ReleaseTo != nil && res.ReleaseToID == "":
		return refuse("releaseTo does not name exactly one registered party: %s", res.ReleaseToError)
	case r.ReleaseTo != nil && res.ReleaseToID == cmd.Requester:
		return refuse("releaseTo must be another party than the shipping agent.")
	case res.ActiveReleases >= MaxActiveReleases:
		return refuse("Container %s has %d active releases, the most one container may have; Delete one first.", r.EquipmentNumber, res.ActiveReleases)
	}
	sa := cmd.Requester
	rel := &Release{
		ReleaseID: newID(), PortLoCode: r.PortLoCode, EquipmentNumber: r.EquipmentNumber,
		BillOfLadingKey: BillOfLadingKey(r.BillOfLadingNumbers), CarrierID: sa, TerminalOperatorID: res.TerminalOperatorID,
		Light: LightOK, Data: r, Version: 1, CreatedAt: now, UpdatedAt: now,
		Right: Right{Holder: sa, Status: StatusAssigned}, Lights: res.Visit.Lights.OrStarting(),
	}
	hops := []Hop{rel.Right.addHop("", sa, "Release", "", now, cmd.PublicReferenceID)}
	out.Notices = []Notice{{Type: TypeReleaseLight, Event: EventLightChanged, ActionType: string(ActRelease), Recipients: unique(sa, res.TerminalOperatorID)}}
	if res.ReleaseToID != "" {
		// A Release with releaseTo starts a pending transfer to that party at once.
		rel.Right.PendingTo, rel.Right.Status = res.ReleaseToID, StatusPending
		rel.Right.ReleaseTo, rel.Right.ReleaseToLocked = res.ReleaseToID, true
		hops = append(hops, rel.Right.addHop(sa, res.ReleaseToID, "Transfer", "", now, cmd.PublicReferenceID))
		out.Notices = append(out.Notices, Notice{Type: TypeReleaseRight, Event: EventTransferred, ActionType: "Transfer", Recipients: unique(sa, res.ReleaseToID)})
	}
	out.Applied = true
	snapshot(&out, rel)
	return Decision{Next: rel, Hops: hops, Outcome: out}
}

// addHop numbers a new hop of the chain of custody and counts it on the right.
func (r *Right) addHop(from, to, action, reason string, at time.Time, ref string) Hop {
	h := Hop{Seq: r.Hops, From: from, To: to, Action: action, Reason: reason, At: at, PublicReferenceID: ref}
	r.Hops++
	return h
}

func snapshot(out *Outcome, r *Release) {
	lights := r.Lights.OrStarting()
	ready := r.Readiness(out.At).Ready
	out.Lights, out.PickupReady = &lights, &ready
	out.ReleaseID, out.Light, out.Holder, out.RightStatus, out.PendingTo, out.Version = r.ReleaseID, r.Light, r.Right.Holder, r.Right.Status, r.Right.PendingTo, r.Version
	out.ReleaseIdentification, out.TerminalCode = r.Data.ReleaseIdentification, r.Data.TerminalCode
	out.BillOfLadingNumbers = r.Data.BillOfLadingNumbers
}

// unique drops empty and repeated recipients, keeping the first order.
func unique(ids ...string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// ViewStatus is the right's status as a party sees it: a pending transfer is Assigned to its
// receiver and Pending to its sender (contract §5).
func (r Right) ViewStatus(viewer string) int {
	if r.PendingTo != "" {
		if viewer == r.PendingTo {
			return StatusAssigned
		}
		return StatusPending
	}
	return r.Status
}
