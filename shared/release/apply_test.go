package release

import (
	"fmt"
	"testing"
	"time"
)

const (
	sa   = "NXT200000001"
	term = "NXT200000003"
	fwd  = "NXT200000005"
	tro  = "NXT200000007"
)

var t0 = time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)

func cmd(a Action, mut ...func(*Request)) Command {
	rel, exp := t0, t0.Add(DefaultValidity)
	yes := true
	r := Request{ActionType: a, ReleaseIdentification: "REL-1", EquipmentNumber: "CSQU3054383", BillOfLadingNumbers: []string{"BL1"},
		PortLoCode: "BEANR", TerminalCode: "01700", Carrier: &PartyRef{"NxtEntityId", sa}, IsCarrierHaulage: &yes,
		ReleaseDateTimeUtc: &rel, ExpirationDateTimeUtc: &exp}
	for _, m := range mut {
		m(&r)
	}
	return Command{PublicReferenceID: "ref-" + string(a), Requester: sa, Action: a, Request: r, AcceptedAt: t0}
}

func ids() func() string { n := 0; return func() string { n++; return fmt.Sprintf("rel-%d", n) } }

func notices(d Decision) string { return fmt.Sprint(d.Outcome.Notices) }

func TestReleaseLifecycle(t *testing.T) {
	ok := Resolved{TerminalOperatorID: term}
	d := Apply(nil, cmd(ActRelease), ok, t0, ids())
	if d.Next == nil || d.Next.Light != LightOK || d.Next.Right.Holder != sa || d.Next.Right.Status != StatusAssigned {
		t.Fatalf("release: %+v", d)
	}
	if got := notices(d); got != "[{ReleaseLight ReleaseLightChanged Release [NXT200000001 NXT200000003]}]" {
		t.Fatalf("release notices %s", got)
	}
	rel := d.Next

	if d := Apply(rel, cmd(ActRelease), ok, t0, ids()); d.Next != nil || d.Outcome.Notices[0].Event != EventNotValidated || d.Outcome.Notices[0].Recipients[0] != sa {
		t.Fatalf("duplicate release: %+v", d)
	}

	d = Apply(rel, cmd(ActBlock), ok, t0, ids())
	if d.Next.Light != LightBlocked || d.Next.Version != 2 || notices(d) != "[{ReleaseLight ReleaseLightChanged Block [NXT200000001 NXT200000003]}]" {
		t.Fatalf("block: %+v %s", d.Next, notices(d))
	}
	blocked := d.Next
	if d := Apply(blocked, cmd(ActUnblock), ok, t0, ids()); d.Next.Light != LightOK {
		t.Fatal("unblock")
	}
	// Unblock on OK: accepted, nothing changes, only the requester hears of it.
	if d := Apply(rel, cmd(ActUnblock), ok, t0, ids()); d.Next != nil || !d.Outcome.Applied || notices(d) != "[{ReleaseLight ReleaseLightChanged Unblock [NXT200000001]}]" {
		t.Fatalf("unblock on OK: %+v", d)
	}

	// The right is with a transport operator: Update, Block and Delete tell it too.
	held := *rel
	held.Right.Holder, held.Right.Status = tro, StatusAccepted
	if d := Apply(&held, cmd(ActUpdate), ok, t0, ids()); notices(d) != "[{ReleaseLight Update Update [NXT200000001 NXT200000003 NXT200000007]}]" || d.Next.Right.Holder != tro {
		t.Fatalf("update: %s", notices(d))
	}
	// Commercial revoke pulls the right back and tells who loses it.
	held.Right.PendingTo = fwd
	d = Apply(&held, cmd(ActRevoke), ok, t0, ids())
	if d.Next.Right.Holder != sa || d.Next.Right.Status != StatusRevoked || d.Next.Right.PendingTo != "" ||
		notices(d) != "[{ReleaseRight RevokedByPreviousParty Revoke [NXT200000001 NXT200000007 NXT200000005]}]" {
		t.Fatalf("revoke: %+v %s", d.Next.Right, notices(d))
	}
	d = Apply(&held, cmd(ActDelete), ok, t0, ids())
	if !d.Archive || d.Next.Right.Status != StatusArchived || notices(d) != "[{ReleaseLight ReleaseLightChanged Delete [NXT200000001 NXT200000003 NXT200000007 NXT200000005]}]" {
		t.Fatalf("delete: %s", notices(d))
	}
}

func TestReleaseToStartsAPendingTransfer(t *testing.T) {
	d := Apply(nil, cmd(ActRelease, func(r *Request) { r.ReleaseTo = &PartyRef{"NxtEntityId", fwd} }), Resolved{TerminalOperatorID: term, ReleaseToID: fwd}, t0, ids())
	r := d.Next.Right
	if r.PendingTo != fwd || !r.ReleaseToLocked || r.ViewStatus(fwd) != StatusAssigned || r.ViewStatus(sa) != StatusPending {
		t.Fatalf("%+v", r)
	}
	if got := notices(d); got != "[{ReleaseLight ReleaseLightChanged Release [NXT200000001 NXT200000003]} {ReleaseRight Transferred Transfer [NXT200000001 NXT200000005]}]" {
		t.Fatal(got)
	}
	// Update may not change releaseTo.
	if d := Apply(d.Next, cmd(ActUpdate, func(r *Request) { r.ReleaseTo = &PartyRef{"NxtEntityId", tro} }), Resolved{TerminalOperatorID: term, ReleaseToID: tro}, t0, ids()); d.Next != nil {
		t.Fatal("releaseTo changed by Update")
	}
}

func TestNotValidatedPaths(t *testing.T) {
	ok := Resolved{TerminalOperatorID: term}
	rel := Apply(nil, cmd(ActRelease), ok, t0, ids()).Next
	for name, c := range map[string]struct {
		cur *Release
		cmd Command
		res Resolved
	}{
		"unknown terminal":       {nil, cmd(ActRelease), Resolved{}},
		"unresolved releaseTo":   {nil, cmd(ActRelease, func(r *Request) { r.ReleaseTo = &PartyRef{"Tin", "BE0"} }), Resolved{TerminalOperatorID: term, ReleaseToError: "none"}},
		"releaseTo is self":      {nil, cmd(ActRelease, func(r *Request) { r.ReleaseTo = &PartyRef{"NxtEntityId", sa} }), Resolved{TerminalOperatorID: term, ReleaseToID: sa}},
		"block without release":  {nil, cmd(ActBlock), ok},
		"update without release": {nil, cmd(ActUpdate), ok},
		"wrong release id":       {rel, cmd(ActBlock, func(r *Request) { r.ReleaseIdentification = "OTHER" }), ok},
		"wrong terminal":         {rel, cmd(ActDelete, func(r *Request) { r.TerminalCode = "0100" }), ok},
	} {
		d := Apply(c.cur, c.cmd, c.res, t0, ids())
		if d.Next != nil || d.Outcome.Applied || len(d.Outcome.Errors) == 0 || notices(d) != "[{ReleaseLight NotValidated  [NXT200000001]}]" {
			t.Errorf("%s: %+v", name, d.Outcome)
		}
	}
}

func TestExpiry(t *testing.T) {
	ok := Resolved{TerminalOperatorID: term}
	rel := Apply(nil, cmd(ActRelease), ok, t0, ids()).Next
	exp := Command{PublicReferenceID: "exp", Action: ActExpire, Request: cmd(ActBlock).Request}
	if d := Apply(rel, exp, ok, t0.Add(time.Hour), ids()); d.Next != nil || len(d.Outcome.Notices) != 0 {
		t.Fatal("expired before its time")
	}
	d := Apply(rel, exp, ok, t0.Add(DefaultValidity+time.Second), ids())
	if d.Next.Light != LightExpired || d.Next.Right.Status != StatusExpired || notices(d) != "[{ReleaseLight ReleaseLightChanged  [NXT200000001 NXT200000003]}]" {
		t.Fatalf("expire: %+v %s", d.Next, notices(d))
	}
	if d := Apply(d.Next, cmd(ActBlock), ok, t0, ids()); d.Next != nil {
		t.Fatal("blocked an expired release")
	}
	later := t0.Add(DefaultValidity + 24*time.Hour)
	revived := Apply(d.Next, cmd(ActUpdate, func(r *Request) { e := later.Add(time.Hour); r.ExpirationDateTimeUtc = &e }), ok, later, ids())
	if revived.Next == nil || revived.Next.Light != LightOK || revived.Next.Right.Status != StatusAssigned {
		t.Fatalf("revive: %+v", revived.Outcome)
	}
}
