package release

import (
	"strings"
	"testing"
	"time"
)

// TestLightRules: which input sets which light; an input not newer than the light's last one is
// kept in history and changes nothing; the same value again is no change.
func TestLightRules(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	l := StartingLights()
	if l.Customs.Value != ValueUnknown || l.Police.Value != ValueOK || l.Discharge.Value != ValueNo || l.TerminalRelease.Value != ValueUnknown {
		t.Fatalf("starting lights: %+v", l)
	}
	steps := []struct {
		in      LightInput
		at      time.Time
		light   LightName
		to      string
		changed bool
	}{
		{InputDischarge, t0, LightDischarge, ValueYes, true},
		{InputDischarge, t0.Add(time.Minute), LightDischarge, ValueYes, false}, // same value
		{InputCustomsHold, t0.Add(time.Hour), LightCustoms, ValueHold, true},
		{InputCustomsRelease, t0.Add(30 * time.Minute), LightCustoms, ValueHold, false}, // older than the hold
		{InputCustomsRelease, t0.Add(time.Hour), LightCustoms, ValueHold, false},        // as old: nothing
		{InputCustomsRelease, t0.Add(2 * time.Hour), LightCustoms, ValueOK, true},
		{InputCustomsBlock, t0.Add(3 * time.Hour), LightCustoms, ValueBlocked, true},
		{InputPoliceBlock, t0.Add(time.Hour), LightPolice, ValueBlocked, true},
		{InputPoliceUnblock, t0.Add(2 * time.Hour), LightPolice, ValueOK, true},
		{InputTerminalBlock, t0.Add(time.Hour), LightTerminalRelease, ValueBlocked, true},
		{InputTerminalRelease, t0.Add(2 * time.Hour), LightTerminalRelease, ValueOK, true},
	}
	for i, s := range steps {
		c, err := l.ApplyInput(s.in, s.at)
		if err != nil || c.Light != s.light || c.To != s.to || c.Changed != s.changed {
			t.Fatalf("step %d (%s): %+v %v", i, s.in, c, err)
		}
	}
	if _, err := l.ApplyInput(InputGateOut, t0); err == nil {
		t.Fatal("GateOut set a light")
	}
	for in, want := range map[LightInput][2]bool{ // byTerminal, reason required
		InputDischarge: {true, false}, InputTerminalBlock: {true, true}, InputGateOut: {true, false},
		InputCustomsHold: {false, true}, InputCustomsRelease: {false, false}, InputPoliceBlock: {false, true}, InputPoliceUnblock: {false, false},
	} {
		by, ok := in.ByTerminal()
		if !ok || by != want[0] || in.ReasonRequired() != want[1] {
			t.Errorf("%s: by terminal %v, reason %v", in, by, in.ReasonRequired())
		}
	}
	if _, ok := LightInput("Release").ByTerminal(); ok {
		t.Error("Release taken for a light input")
	}
}

// TestReadiness: every light and check that is not OK is a reason; ready only when none is.
func TestReadiness(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	green := Lights{Customs: LightState{Value: ValueOK}, Police: LightState{Value: ValueOK}, Discharge: LightState{Value: ValueYes}, TerminalRelease: LightState{Value: ValueOK}}
	ready := ReadinessInput{Commercial: LightOK, Lights: green, ReleaseFrom: t0, ReleaseTo: t0.Add(24 * time.Hour), Now: t0.Add(time.Hour),
		RightStatus: StatusAccepted, Assigned: true}
	if r := ReadinessOf(ready); !r.Ready || len(r.Reasons) != 0 {
		t.Fatalf("all green: %+v", r)
	}
	for name, tc := range map[string]struct {
		change func(*ReadinessInput)
		want   []string
	}{
		"no release":      {func(i *ReadinessInput) { i.Commercial = "" }, []string{"CommercialRelease: UNKNOWN"}},
		"blocked release": {func(i *ReadinessInput) { i.Commercial = LightBlocked }, []string{"CommercialRelease: BLOCKED"}},
		"customs hold":    {func(i *ReadinessInput) { i.Lights.Customs.Value = ValueHold }, []string{"Customs: HOLD"}},
		"customs unknown": {func(i *ReadinessInput) { i.Lights.Customs.Value = ValueUnknown }, []string{"Customs: UNKNOWN"}},
		"police":          {func(i *ReadinessInput) { i.Lights.Police.Value = ValueBlocked }, []string{"Police: BLOCKED"}},
		"not discharged":  {func(i *ReadinessInput) { i.Lights.Discharge.Value = ValueNo }, []string{"Discharge: NO"}},
		"terminal":        {func(i *ReadinessInput) { i.Lights.TerminalRelease.Value = ValueBlocked }, []string{"TerminalRelease: BLOCKED"}},
		"too early":       {func(i *ReadinessInput) { i.Now = t0.Add(-time.Minute) }, []string{"Window: before the release time"}},
		"expired":         {func(i *ReadinessInput) { i.Now = t0.Add(24 * time.Hour) }, []string{"Window: after the expiration"}},
		"gated out":       {func(i *ReadinessInput) { i.RightStatus, i.Assigned = StatusArchived, false }, []string{"Right: archived"}},
		"right expired":   {func(i *ReadinessInput) { i.RightStatus = StatusExpired }, []string{"Right: expired"}},
		"not assigned":    {func(i *ReadinessInput) { i.Assigned = false }, []string{"Right: not assigned"}},
		"several at once": {func(i *ReadinessInput) {
			i.Lights.Customs.Value, i.Lights.Discharge.Value, i.Assigned = ValueBlocked, ValueNo, false
		}, []string{"Customs: BLOCKED", "Discharge: NO", "Right: not assigned"}},
	} {
		in := ready
		tc.change(&in)
		r := ReadinessOf(in)
		if r.Ready || strings.Join(r.Reasons, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: %+v, want %v", name, r, tc.want)
		}
	}
	// E2 status 2 and 3.
	l := StartingLights()
	if !l.AuthoritiesNotOK() || !l.TerminalNotOK() {
		t.Fatal("starting lights: customs UNKNOWN and not discharged show under 2 and 3")
	}
	if green.AuthoritiesNotOK() || green.TerminalNotOK() {
		t.Fatal("green lights show under 2 or 3")
	}
}
