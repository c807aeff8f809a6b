package release

import (
	"fmt"
	"time"
)

// Lights of a container visit (contract §10): besides the commercial release light (§5), the
// terminal's and the authorities' lights, kept per port and container whether or not a release
// exists yet. This file is the rules on their own (no storage): which input sets which light, how
// event times order inputs, and what makes a container ready for pick-up.

// LightName names one light of a container visit.
type LightName string

const (
	LightCommercial      LightName = "CommercialRelease"
	LightCustoms         LightName = "Customs"
	LightPolice          LightName = "Police"
	LightDischarge       LightName = "Discharge"
	LightTerminalRelease LightName = "TerminalRelease"
)

// LightNames in the order answers list them.
var LightNames = []LightName{LightCommercial, LightCustoms, LightPolice, LightDischarge, LightTerminalRelease}

// Values of the lights (contract §10).
const (
	ValueUnknown = "UNKNOWN"
	ValueOK      = "OK"
	ValueHold    = "HOLD"
	ValueBlocked = "BLOCKED"
	ValueNo      = "NO"
	ValueYes     = "YES"
)

// LightInput is an input of a terminal operator or an authority on E1.
type LightInput string

const (
	InputDischarge       LightInput = "Discharge"
	InputTerminalRelease LightInput = "TerminalRelease"
	InputTerminalBlock   LightInput = "TerminalBlock"
	InputGateOut         LightInput = "GateOut"
	InputCustomsRelease  LightInput = "CustomsRelease"
	InputCustomsHold     LightInput = "CustomsHold"
	InputCustomsBlock    LightInput = "CustomsBlock"
	InputPoliceBlock     LightInput = "PoliceBlock"
	InputPoliceUnblock   LightInput = "PoliceUnblock"
)

// inputEffect is the light an input sets, to which value, who may send it, and whether it must
// give a reason.
type inputEffect struct {
	light          LightName
	value          string
	byTerminal     bool // the terminal operator of the terminal code; otherwise an authority
	reasonRequired bool
}

var inputEffects = map[LightInput]inputEffect{
	InputDischarge:       {LightDischarge, ValueYes, true, false},
	InputTerminalRelease: {LightTerminalRelease, ValueOK, true, false},
	InputTerminalBlock:   {LightTerminalRelease, ValueBlocked, true, true},
	InputCustomsRelease:  {LightCustoms, ValueOK, false, false},
	InputCustomsHold:     {LightCustoms, ValueHold, false, true},
	InputCustomsBlock:    {LightCustoms, ValueBlocked, false, true},
	InputPoliceBlock:     {LightPolice, ValueBlocked, false, true},
	InputPoliceUnblock:   {LightPolice, ValueOK, false, false},
}

// ByTerminal tells whether a terminal operator sends the input (GateOut included); otherwise an
// authority does. ok is false for an input that is not a light input.
func (in LightInput) ByTerminal() (byTerminal, ok bool) {
	if in == InputGateOut {
		return true, true
	}
	e, ok := inputEffects[in]
	return e.byTerminal, ok
}

// ReasonRequired tells whether the input must carry a reason.
func (in LightInput) ReasonRequired() bool { return inputEffects[in].reasonRequired }

// LightState is one light: its value, and the event time of the input that set it (zero for the
// starting value).
type LightState struct {
	Value string    `json:"value"`
	At    time.Time `json:"at,omitempty"`
}

// Lights is the state of a container visit's lights other than the commercial one, which the
// release holds.
type Lights struct {
	Customs         LightState `json:"customs"`
	Police          LightState `json:"police"`
	Discharge       LightState `json:"discharge"`
	TerminalRelease LightState `json:"terminalRelease"`
}

// StartingLights are the values before any input (contract §10): UNKNOWN is not OK, so a new
// release waits for customs.
func StartingLights() Lights {
	return Lights{
		Customs: LightState{Value: ValueUnknown}, Police: LightState{Value: ValueOK},
		Discharge: LightState{Value: ValueNo}, TerminalRelease: LightState{Value: ValueUnknown},
	}
}

func (l *Lights) state(n LightName) *LightState {
	switch n {
	case LightCustoms:
		return &l.Customs
	case LightPolice:
		return &l.Police
	case LightDischarge:
		return &l.Discharge
	case LightTerminalRelease:
		return &l.TerminalRelease
	}
	return nil
}

// LightChange is what an input did to a light.
type LightChange struct {
	Light    LightName
	From, To string
	// Changed is false when the input was older than (or as old as) the light's last one, or set
	// the value the light already had: it is kept in history and nobody but its sender is told.
	Changed bool
}

// ApplyInput sets the light of a light input (not GateOut) as of its event time: an input whose
// time is not after the light's last one changes nothing (contract §10: "Events older than the
// stored one for the same light are kept in history and do not change the light"; equal times
// change nothing either).
func (l *Lights) ApplyInput(in LightInput, at time.Time) (LightChange, error) {
	e, ok := inputEffects[in]
	if !ok {
		return LightChange{}, fmt.Errorf("%s is not a light input", in)
	}
	s := l.state(e.light)
	c := LightChange{Light: e.light, From: s.Value, To: s.Value}
	if !at.After(s.At) {
		return c, nil
	}
	s.At = at
	if s.Value == e.value {
		return c, nil
	}
	s.Value, c.To, c.Changed = e.value, e.value, true
	return c, nil
}

// Readiness is a container's pick-up readiness and every reason it is not ready, each starting with
// the light or check it names (contract §10: "Customs: HOLD", "Right: not assigned").
type Readiness struct {
	Ready   bool
	Reasons []string
}

// ReadinessInput is what readiness is judged on.
type ReadinessInput struct {
	Commercial  Light // "" when there is no release
	Lights      Lights
	ReleaseFrom time.Time
	ReleaseTo   time.Time // expiration
	Now         time.Time
	RightStatus int
	// Assigned: the transport operator holding the right assigned the pick-up (only a transport
	// operator holding an accepted right can).
	Assigned bool
}

// ReadinessOf judges pick-up readiness: commercial OK, customs OK, police OK, discharged, terminal
// release OK, now inside [release, expiration], the right held by a transport operator that has
// assigned it.
func ReadinessOf(in ReadinessInput) Readiness {
	var reasons []string
	commercial := string(in.Commercial)
	if commercial == "" {
		commercial = ValueUnknown
	}
	if commercial != string(LightOK) {
		reasons = append(reasons, string(LightCommercial)+": "+commercial)
	}
	for _, c := range []struct {
		name  LightName
		value string
		want  string
	}{
		{LightCustoms, in.Lights.Customs.Value, ValueOK},
		{LightPolice, in.Lights.Police.Value, ValueOK},
		{LightDischarge, in.Lights.Discharge.Value, ValueYes},
		{LightTerminalRelease, in.Lights.TerminalRelease.Value, ValueOK},
	} {
		if c.value != c.want {
			reasons = append(reasons, string(c.name)+": "+c.value)
		}
	}
	if in.Commercial != "" {
		switch {
		case in.Now.Before(in.ReleaseFrom):
			reasons = append(reasons, "Window: before the release time")
		case !in.ReleaseTo.IsZero() && !in.Now.Before(in.ReleaseTo):
			reasons = append(reasons, "Window: after the expiration")
		}
	}
	switch {
	case in.RightStatus == StatusArchived:
		reasons = append(reasons, "Right: archived")
	case in.RightStatus == StatusExpired:
		reasons = append(reasons, "Right: expired")
	case !in.Assigned:
		reasons = append(reasons, "Right: not assigned")
	}
	return Readiness{Ready: len(reasons) == 0, Reasons: reasons}
}

// OrStarting is the lights, or the starting lights when none were ever stored (a release made
// before lights existed).
func (l Lights) OrStarting() Lights {
	if l.Customs.Value == "" {
		return StartingLights()
	}
	return l
}

// Readiness of a release at now (contract §10).
func (r *Release) Readiness(now time.Time) Readiness {
	in := ReadinessInput{Commercial: r.Light, Lights: r.Lights.OrStarting(), Now: now, RightStatus: r.Right.Status, Assigned: r.Right.Assignment != nil}
	if r.Data.ReleaseDateTimeUtc != nil {
		in.ReleaseFrom = *r.Data.ReleaseDateTimeUtc
	}
	if r.Data.ExpirationDateTimeUtc != nil {
		in.ReleaseTo = *r.Data.ExpirationDateTimeUtc
	}
	return ReadinessOf(in)
}

// View is the lights as answers show them: an object keyed by the light's name (contract §10).
func (r *Release) View() map[LightName]string {
	l := r.Lights.OrStarting()
	commercial := string(r.Light)
	if commercial == "" {
		commercial = ValueUnknown
	}
	return l.View(commercial)
}

// View of the lights with the commercial light's value.
func (l Lights) View(commercial string) map[LightName]string {
	return map[LightName]string{LightCommercial: commercial, LightCustoms: l.Customs.Value, LightPolice: l.Police.Value,
		LightDischarge: l.Discharge.Value, LightTerminalRelease: l.TerminalRelease.Value}
}

// E2 status filters of the lights (seed: 2 Police, 3 Terminal; contract §10): 2 when police or
// customs is not OK, 3 when discharge or terminal release is not OK.
const (
	RightsStatusPolice   = 2
	RightsStatusTerminal = 3
)

// AuthoritiesNotOK tells whether a container shows under E2 status 2.
func (l Lights) AuthoritiesNotOK() bool {
	return l.Police.Value != ValueOK || l.Customs.Value != ValueOK
}

// TerminalNotOK tells whether a container shows under E2 status 3.
func (l Lights) TerminalNotOK() bool {
	return l.Discharge.Value != ValueYes || l.TerminalRelease.Value != ValueOK
}
