package release

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const (
	trucker  = "NXT200000008"
	customs  = "NXT200000009"
	terminal = term
)

func inputCmd(in LightInput, at time.Time, mods ...func(*InputArgs)) Command {
	args := InputArgs{Input: in, EventAt: at}
	for _, m := range mods {
		m(&args)
	}
	sender := customs
	if by, _ := in.ByTerminal(); by {
		sender = terminal
	}
	return Command{PublicReferenceID: "ref-" + string(in), Requester: sender, Action: in.Action(),
		Request: Request{PortLoCode: "BEANR", EquipmentNumber: "CSQU3054383", TerminalCode: "01700", ActionType: in.Action()}, Input: &args}
}

// heldBy makes a release whose right a transport operator accepted.
func heldBy(t *testing.T, holder string) Release {
	t.Helper()
	d := Apply(nil, cmd(ActRelease), Resolved{TerminalOperatorID: term}, t0, ids())
	r := *d.Next
	r.Right.Holder, r.Right.Status = holder, StatusAccepted
	return r
}

// TestInputsBeforeAndAfterTheRelease: before a release only the sender hears and the visit keeps
// the light; with releases, every release takes the new lights and their parties hear; a light
// that does not change tells the sender alone.
func TestInputsBeforeAndAfterTheRelease(t *testing.T) {
	v := NewVisit("BEANR", "CSQU3054383")
	d := ApplyInput(v, nil, inputCmd(InputDischarge, t0), Resolved{}, t0)
	if d.Visit == nil || d.Visit.Lights.Discharge.Value != ValueYes || d.Visit.TerminalCode != "01700" || len(d.Also) != 0 ||
		notices(d) != "[{ReleaseLight ReleaseLightChanged Discharge [NXT200000003]}]" || d.Outcome.GreenLight.To != ValueYes {
		t.Fatalf("discharge before release: %+v %s", d.Visit, notices(d))
	}
	v = *d.Visit
	// A new release starts with the visit's lights.
	rel := Apply(nil, cmd(ActRelease), Resolved{TerminalOperatorID: term, Visit: v}, t0, ids()).Next
	if rel.Lights.Discharge.Value != ValueYes || rel.Lights.Customs.Value != ValueUnknown {
		t.Fatalf("release lights: %+v", rel.Lights)
	}
	rel.Right.Holder, rel.Right.PendingTo = "NXT200000005", trucker
	d = ApplyInput(v, []Release{*rel}, inputCmd(InputCustomsHold, t0.Add(time.Hour), func(a *InputArgs) { a.Reason = "scan" }), Resolved{}, t0)
	if len(d.Also) != 1 || d.Also[0].Next.Lights.Customs.Value != ValueHold || d.Also[0].Next.Version != rel.Version+1 ||
		notices(d) != "[{ReleaseLight ReleaseLightChanged CustomsHold [NXT200000009]}]" || len(d.Extra) != 1 ||
		fmt.Sprint(d.Extra[0].Notices) != "[{ReleaseLight ReleaseLightChanged CustomsHold [NXT200000001 NXT200000003 NXT200000005 NXT200000008]}]" {
		t.Fatalf("hold: %+v %s %v", d.Also, notices(d), d.Extra)
	}
	if o := d.Extra[0]; o.Item != 1 || *o.PickupReady || o.Lights.Customs.Value != ValueHold || o.ReleaseID != rel.ReleaseID || o.GreenLight.To != ValueHold {
		t.Fatalf("hold outcome: %+v", o)
	}
	// Another terminal's input for the released container: NotValidated, nothing changes.
	other := inputCmd(InputTerminalRelease, t0.Add(time.Hour))
	other.Request.TerminalCode = "0100"
	if d := ApplyInput(v, []Release{*rel}, other, Resolved{}, t0); d.Visit != nil || len(d.Also) != 0 || d.Outcome.Notices[0].Event != EventNotValidated {
		t.Fatalf("another terminal's input: %+v", d.Outcome)
	}
	// … and before a release, for a container whose inputs came from another terminal.
	if d := ApplyInput(v, nil, other, Resolved{}, t0); d.Visit != nil || d.Outcome.Notices[0].Event != EventNotValidated {
		t.Fatalf("another terminal's input before the release: %+v", d.Outcome)
	}
	// Older than the hold: kept, nothing changes, the sender alone hears.
	v = *d.Visit
	d = ApplyInput(v, []Release{*rel}, inputCmd(InputCustomsRelease, t0.Add(30*time.Minute)), Resolved{}, t0)
	if len(d.Also) != 0 || len(d.Outcome.Warnings) != 1 || notices(d) != "[{ReleaseLight ReleaseLightChanged CustomsRelease [NXT200000009]}]" {
		t.Fatalf("late release: %+v %s", d.Also, notices(d))
	}
}

// TestGateOutEndsTheVisit: every active release archived with its assignment cleared, the visit's
// lights back to their start and closed at the event time, the chain told, a warning to the agent
// and the holder when the pick-up was not the assigned holder's.
func TestGateOutEndsTheVisit(t *testing.T) {
	rel := heldBy(t, trucker)
	rel.Right.Assignment = &Assignment{Type: "Truck", LicensePlate: "1-ABC-123", Seq: 1}
	v := NewVisit("BEANR", "CSQU3054383")
	v.Lights.Discharge = LightState{Value: ValueYes, At: t0}
	at := t0.Add(time.Hour)
	chain := map[string][]string{rel.ReleaseID: {sa, "NXT200000005", trucker}}
	for name, tc := range map[string]struct {
		by      string
		notices string
	}{
		"by the holder": {trucker, "[{TerminalEvent GateOut GateOut [NXT200000001 NXT200000008 NXT200000005]}]"},
		"by another": {"NXT200000007", "[{TerminalEvent GateOut GateOut [NXT200000005]} " +
			"{TerminalEvent GateOut GateOut [NXT200000001 NXT200000008] [UnauthorisedPickup]}]"},
	} {
		d := ApplyInput(v, []Release{rel}, inputCmd(InputGateOut, at), Resolved{PickedUpByID: tc.by, ChainParties: chain}, at)
		w := d.Also[0]
		if !w.Archive || w.Next.Right.Status != StatusArchived || w.Next.Right.Assignment != nil || len(w.Hops) != 1 || w.Hops[0].Action != "GateOut" {
			t.Fatalf("%s: %+v", name, w)
		}
		if d.Visit.Lights != StartingLights() || !d.Visit.ClosedAt.Equal(at) || d.Visit.TerminalCode != "" ||
			notices(d) != "[{TerminalEvent GateOut GateOut [NXT200000003]}]" || len(d.Extra) != 1 || fmt.Sprint(d.Extra[0].Notices) != tc.notices {
			t.Fatalf("%s: %+v %s %v", name, d.Visit, notices(d), d.Extra)
		}
	}
	// Inputs about the ended visit change nothing.
	closed := v
	closed.ClosedAt = at
	d := ApplyInput(closed, nil, inputCmd(InputCustomsBlock, at.Add(-time.Minute), func(a *InputArgs) { a.Reason = "x" }), Resolved{}, at)
	if d.Visit != nil || !strings.Contains(d.Outcome.Warnings[0], "gate-out") {
		t.Fatalf("input before the gate-out: %+v", d.Outcome)
	}
}

// TestAssignment: only the holder, with the TransportOperator role, on an accepted right; a PIN
// for it alone (hashed on the release); re-assigning replaces it; a transfer waits for unassign;
// the commercial Revoke clears it.
func TestAssignment(t *testing.T) {
	rel := heldBy(t, trucker)
	assign := func(by string, to bool) Command {
		return Command{PublicReferenceID: "a", Requester: by, Action: ActAssign, Request: Request{PortLoCode: "BEANR", EquipmentNumber: rel.EquipmentNumber,
			BillOfLadingNumbers: []string{"BL1"}, ReleaseIdentification: "REL-1"}, Assign: &AssignArgs{To: AssignTarget{Type: "Truck", LicensePlate: "1-ABC-123"}, ByTransportOperator: to}}
	}
	for name, c := range map[string]Command{"not the holder": assign("NXT200000005", true), "not a transport operator": assign(trucker, false)} {
		if d := Apply(&rel, c, Resolved{PIN: "012345"}, t0, ids()); d.Next != nil || notices(d) != "[{ReleaseRight NotValidated  ["+c.Requester+"]}]" {
			t.Errorf("%s: %s", name, notices(d))
		}
	}
	pending := rel
	pending.Right.Status = StatusPending
	if d := Apply(&pending, assign(trucker, true), Resolved{PIN: "012345"}, t0, ids()); d.Next != nil {
		t.Error("assigned a right not accepted")
	}
	d := Apply(&rel, assign(trucker, true), Resolved{PIN: "012345"}, t0, ids())
	a := d.Next.Right.Assignment
	if a == nil || a.Seq != 1 || a.PinHash == "" || strings.Contains(a.PinHash, "012345") || !PinMatches(rel.ReleaseID, a, "012345") || PinMatches(rel.ReleaseID, a, "012346") ||
		d.Outcome.PickupPin != "012345" || notices(d) != "[{ReleaseRight Update Assign [NXT200000008]}]" {
		t.Fatalf("assign: %+v %+v %s", a, d.Outcome, notices(d))
	}
	assigned := *d.Next
	again := Apply(&assigned, assign(trucker, true), Resolved{PIN: "999999"}, t0, ids()).Next.Right.Assignment
	if again.Seq != 2 || PinMatches(rel.ReleaseID, again, "012345") || !PinMatches(rel.ReleaseID, again, "999999") {
		t.Fatalf("re-assign: %+v", again)
	}
	transfer, res := rightCmd(ActTransfer, trucker, trucker, "NXT200000005")
	if d := Apply(&assigned, transfer, res, t0, ids()); d.Next != nil || !strings.Contains(d.Outcome.Errors[0], "unassign") {
		t.Fatalf("transfer while assigned: %+v", d.Outcome)
	}
	if d := Apply(&assigned, cmd(ActRevoke), Resolved{}, t0, ids()); d.Next.Right.Assignment != nil {
		t.Fatal("the commercial Revoke kept the assignment")
	}
	// A holder whose onward transfer was declined holds it again and may assign; a window that has
	// passed is refused; a stranger's refusal shows nothing of the release.
	declined := rel
	declined.Right.Status = StatusDeclined
	if d := Apply(&declined, assign(trucker, true), Resolved{PIN: "012345"}, t0, ids()); d.Next == nil {
		t.Fatalf("assign after a declined transfer: %+v", d.Outcome)
	}
	late := assign(trucker, true)
	past := t0.Add(-time.Minute)
	late.Assign.WindowTo = &past
	if d := Apply(&rel, late, Resolved{PIN: "012345"}, t0, ids()); d.Next != nil {
		t.Fatal("assigned a window that has passed")
	}
	if d := Apply(&rel, assign("NXT200000099", true), Resolved{PIN: "012345"}, t0, ids()); d.Outcome.ReleaseID != "" || d.Outcome.Holder != "" || d.Outcome.Lights != nil {
		t.Fatalf("a stranger's refusal shows the release: %+v", d.Outcome)
	}
	un := assign(trucker, true)
	un.Action, un.Assign = ActUnassign, nil
	if d := Apply(&assigned, un, Resolved{}, t0, ids()); d.Next == nil || d.Next.Right.Assignment != nil {
		t.Fatal("unassign")
	}
}

// TestActiveReleasesPerContainer: a Release beyond the bound is NotValidated.
func TestActiveReleasesPerContainer(t *testing.T) {
	if d := Apply(nil, cmd(ActRelease), Resolved{TerminalOperatorID: term, ActiveReleases: MaxActiveReleases - 1}, t0, ids()); d.Next == nil {
		t.Fatal("refused below the bound")
	}
	if d := Apply(nil, cmd(ActRelease), Resolved{TerminalOperatorID: term, ActiveReleases: MaxActiveReleases}, t0, ids()); d.Next != nil || !strings.Contains(d.Outcome.Errors[0], "active releases") {
		t.Fatalf("at the bound: %+v", d.Outcome)
	}
}

// TestNewPIN: six digits, leading zeros kept.
func TestNewPIN(t *testing.T) {
	for i := 0; i < 1000; i++ {
		if p := NewPIN(); len(p) != 6 || strings.Trim(p, "0123456789") != "" {
			t.Fatalf("PIN %q", p)
		}
	}
}
