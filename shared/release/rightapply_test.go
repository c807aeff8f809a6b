package release

import (
	"fmt"
	"strings"
	"testing"
)

// rightCmd is a release-right command of requester, naming from and to (resolved as given).
func rightCmd(a Action, requester, from, to string) (Command, Resolved) {
	c := Command{PublicReferenceID: "ref-" + string(a), Requester: requester, Action: a,
		Request: Request{ReleaseIdentification: "REL-1", EquipmentNumber: "CSQU3054383", BillOfLadingNumbers: []string{"BL1"}, PortLoCode: "BEANR", TerminalCode: "01700"},
		Right:   &RightArgs{From: PartyRef{"NxtEntityId", from}, To: PartyRef{"NxtEntityId", to}, Reason: "because"}}
	return c, Resolved{FromID: from, ToID: to}
}

// held is an active release of sa whose right is in the given state.
func held(holder string, status int, pendingTo, releaseTo string, locked bool, light Light) *Release {
	return &Release{ReleaseID: "rel-1", PortLoCode: "BEANR", EquipmentNumber: "CSQU3054383", CarrierID: sa, TerminalOperatorID: term,
		Light: light, Version: 3, Data: Request{ReleaseIdentification: "REL-1", TerminalCode: "01700", BillOfLadingNumbers: []string{"BL1"}},
		Right: Right{Holder: holder, Status: status, PendingTo: pendingTo, ReleaseTo: releaseTo, ReleaseToLocked: locked, Hops: 2}}
}

// TestRightStateMachine walks every rule of the release right (contract §5) on the pure function:
// who may act, what the right becomes, which hop is recorded and who is told.
func TestRightStateMachine(t *testing.T) {
	free := held(sa, StatusAssigned, "", "", false, LightOK)
	pendingFwd := held(sa, StatusPending, fwd, "", false, LightOK)
	lockedFwd := held(sa, StatusPending, fwd, fwd, true, LightOK)
	acceptedFwd := held(fwd, StatusAccepted, "", fwd, true, LightOK)
	fwdToTro := held(fwd, StatusPending, tro, fwd, true, LightOK)
	blocked := held(sa, StatusAssigned, "", "", false, LightBlocked)
	expired := held(sa, StatusExpired, "", "", false, LightExpired)
	for _, c := range []struct {
		name     string
		cur      *Release
		act      Action
		by       string
		from, to string
		mutate   func(*Command, *Resolved)
		want     string // holder/status/pending/locked after, or the refusal's words
		hop      string // action from>to
		notice   string // event and recipients
		refused  bool
	}{
		{name: "holder transfers", cur: free, act: ActTransfer, by: sa, from: sa, to: fwd, want: "NXT200000001/2/NXT200000005/false", hop: "Transfer NXT200000001>NXT200000005",
			notice: "Transferred [NXT200000001 NXT200000005]"},
		{name: "a blocked release can be transferred", cur: blocked, act: ActTransfer, by: sa, from: sa, to: fwd, want: "NXT200000001/2/NXT200000005/false", hop: "Transfer NXT200000001>NXT200000005",
			notice: "Transferred [NXT200000001 NXT200000005]"},
		{name: "a forwarder transfers; the agent is told too", cur: acceptedFwd, act: ActTransfer, by: fwd, from: fwd, to: tro, want: "NXT200000005/2/NXT200000007/true",
			hop: "Transfer NXT200000005>NXT200000007", notice: "Transferred [NXT200000005 NXT200000007 NXT200000001]"},
		{name: "only one pending transfer", cur: pendingFwd, act: ActTransfer, by: sa, from: sa, to: tro, want: "is pending", refused: true},
		{name: "only the holder transfers", cur: free, act: ActTransfer, by: fwd, from: fwd, to: tro, want: "do not hold", refused: true},
		{name: "releaseFrom must be the requester", cur: free, act: ActTransfer, by: sa, from: fwd, to: tro, want: "do not hold", refused: true},
		{name: "no transfer to oneself", cur: free, act: ActTransfer, by: sa, from: sa, to: sa, want: "to its holder", refused: true},
		{name: "the agent may not transfer past the releaseTo", cur: held(sa, StatusDeclined, "", fwd, true, LightOK), act: ActTransfer, by: sa, from: sa, to: tro,
			want: "releaseTo party", refused: true},
		{name: "receiver accepts", cur: pendingFwd, act: ActAccept, by: fwd, from: sa, to: fwd, want: "NXT200000005/3//false", hop: "Accept NXT200000001>NXT200000005",
			notice: "AcceptedByNextParty [NXT200000001 NXT200000005]"},
		{name: "the next receiver accepts; the agent is told", cur: fwdToTro, act: ActAccept, by: tro, from: fwd, to: tro, want: "NXT200000007/3//true",
			hop: "Accept NXT200000005>NXT200000007", notice: "AcceptedByNextParty [NXT200000005 NXT200000007 NXT200000001]"},
		{name: "only the receiver accepts", cur: pendingFwd, act: ActAccept, by: tro, from: sa, to: tro, want: "No transfer of this right to you", refused: true},
		{name: "accept names the sender", cur: pendingFwd, act: ActAccept, by: fwd, from: tro, to: fwd, want: "releaseFrom does not match", refused: true},
		{name: "nothing to accept", cur: free, act: ActAccept, by: fwd, from: sa, to: fwd, want: "No transfer of this right to you", refused: true},
		{name: "receiver declines", cur: pendingFwd, act: ActDecline, by: fwd, from: sa, to: fwd, want: "NXT200000001/4//false", hop: "Decline NXT200000005>NXT200000001",
			notice: "DeclinedByNextParty [NXT200000001 NXT200000005]"},
		{name: "declining the releaseTo transfer unlocks the agent", cur: lockedFwd, act: ActDecline, by: fwd, from: sa, to: fwd, want: "NXT200000001/4//false",
			hop: "Decline NXT200000005>NXT200000001", notice: "DeclinedByNextParty [NXT200000001 NXT200000005]"},
		{name: "sender revokes before an answer", cur: pendingFwd, act: ActRightRevoke, by: sa, from: sa, to: fwd, want: "NXT200000001/5//false", hop: "Revoke NXT200000001>NXT200000005",
			notice: "RevokedByPreviousParty [NXT200000005 NXT200000001]"},
		{name: "revoking the releaseTo transfer unlocks the agent", cur: lockedFwd, act: ActRightRevoke, by: sa, from: sa, to: fwd, want: "NXT200000001/5//false",
			hop: "Revoke NXT200000001>NXT200000005", notice: "RevokedByPreviousParty [NXT200000005 NXT200000001]"},
		{name: "no revoke after the answer", cur: acceptedFwd, act: ActRightRevoke, by: fwd, from: fwd, to: tro, want: "No transfer of this right is pending", refused: true},
		{name: "only the sender revokes", cur: pendingFwd, act: ActRightRevoke, by: fwd, from: fwd, to: sa, want: "Only the sender", refused: true},
		{name: "revoke names the receiver", cur: pendingFwd, act: ActRightRevoke, by: sa, from: sa, to: tro, want: "releaseTo does not match", refused: true},
		{name: "no release", cur: nil, act: ActTransfer, by: sa, from: sa, to: fwd, want: "No active release", refused: true},
		{name: "an expired release", cur: expired, act: ActTransfer, by: sa, from: sa, to: fwd, want: "expired", refused: true},
		{name: "releaseIdentification must match", cur: free, act: ActTransfer, by: sa, from: sa, to: fwd, want: "releaseIdentification",
			mutate: func(c *Command, _ *Resolved) { c.Request.ReleaseIdentification = "OTHER" }, refused: true},
		{name: "terminal must match", cur: free, act: ActTransfer, by: sa, from: sa, to: fwd, want: "terminalCode",
			mutate: func(c *Command, _ *Resolved) { c.Request.TerminalCode = "0100" }, refused: true},
		{name: "carrier, when named, must be the agent", cur: free, act: ActTransfer, by: sa, from: sa, to: fwd, want: "carrier",
			mutate: func(c *Command, r *Resolved) { c.Right.Carrier, r.CarrierID = &PartyRef{"NxtEntityId", tro}, tro }, refused: true},
		{name: "a party that resolves to nobody", cur: free, act: ActTransfer, by: sa, from: sa, to: "", want: "no registered party",
			mutate: func(_ *Command, r *Resolved) { r.PartyError = "releaseTo: no registered party has NxtEntityId NXT999" }, refused: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd, res := rightCmd(c.act, c.by, c.from, c.to)
			if c.mutate != nil {
				c.mutate(&cmd, &res)
			}
			d := Apply(c.cur, cmd, res, t0, ids())
			if c.refused {
				n := d.Outcome.Notices
				if d.Next != nil || d.Outcome.Applied || len(n) != 1 || n[0].Event != EventNotValidated || n[0].Type != TypeReleaseRight ||
					fmt.Sprint(n[0].Recipients) != "["+c.by+"]" || !strings.Contains(strings.Join(d.Outcome.Errors, " "), c.want) {
					t.Fatalf("want a refusal to %s only saying %q, got %+v", c.by, c.want, d.Outcome)
				}
				return
			}
			r := d.Next.Right
			if got := fmt.Sprintf("%s/%d/%s/%v", r.Holder, r.Status, r.PendingTo, r.ReleaseToLocked); got != c.want {
				t.Errorf("right %s, want %s", got, c.want)
			}
			if d.Next.Version != c.cur.Version+1 || r.Hops != c.cur.Right.Hops+1 || len(d.Hops) != 1 {
				t.Errorf("version %d, hops %d (+%d)", d.Next.Version, r.Hops, len(d.Hops))
			}
			h := d.Hops[0]
			if got := fmt.Sprintf("%s %s>%s", h.Action, h.From, h.To); got != c.hop || h.Seq != c.cur.Right.Hops || h.Reason != "because" || h.PublicReferenceID != cmd.PublicReferenceID {
				t.Errorf("hop %s (seq %d), want %s", got, h.Seq, c.hop)
			}
			n := d.Outcome.Notices
			if len(n) != 1 || n[0].Type != TypeReleaseRight || fmt.Sprintf("%s %v", n[0].Event, n[0].Recipients) != c.notice {
				t.Errorf("notices %+v, want %s", n, c.notice)
			}
			if !d.Outcome.Applied || d.Outcome.Holder != r.Holder || d.Outcome.PendingTo != r.PendingTo {
				t.Errorf("outcome snapshot %+v", d.Outcome)
			}
		})
	}
}
