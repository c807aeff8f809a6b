package release

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/portcommunity/cpu/shared/problem"
)

// Visit is a container's visit to the port as the terminal and the authorities see it: its lights
// (other than the commercial one), kept whether or not a release exists yet (contract §10). Every
// active release of the container carries a copy of the lights, written in the same transaction,
// so that E2, E5 and the notifications read them with the release.
type Visit struct {
	PortLoCode      string `json:"portLoCode"`
	EquipmentNumber string `json:"equipmentNumber"`
	// TerminalCode is the terminal of the last terminal input ("" until one arrives).
	TerminalCode string `json:"terminalCode,omitempty"`
	Lights       Lights `json:"lights"`
	// ClosedAt is the event time of the last GateOut: an input at or before it belongs to a visit
	// that ended, and is kept in history only.
	ClosedAt  time.Time `json:"closedAt,omitempty"`
	Version   int       `json:"version"` // 0: not stored yet
	UpdatedAt time.Time `json:"updatedAt"`
}

// NewVisit is a container's visit before any input.
func NewVisit(port, container string) Visit {
	return Visit{PortLoCode: port, EquipmentNumber: container, Lights: StartingLights()}
}

// InputArgs are the light-input part of a command (E1 actionTypes of terminals and authorities).
type InputArgs struct {
	Input        LightInput `json:"input"`
	EventAt      time.Time  `json:"eventDateTimeUtc"`
	Reason       string     `json:"reason,omitempty"`
	PickedUpBy   *PartyRef  `json:"pickedUpBy,omitempty"`
	LicensePlate string     `json:"licensePlate,omitempty"`
	DriverID     string     `json:"driverId,omitempty"`
	VisitID      string     `json:"visitId,omitempty"`
}

// InputRequest is an E1 body of a terminal or authority input.
type InputRequest struct {
	ActionType          string    `json:"actionType"`
	EquipmentNumber     string    `json:"equipmentNumber"`
	PortLoCode          string    `json:"portLoCode"`
	TerminalCode        string    `json:"terminalCode"`
	BillOfLadingNumbers []string  `json:"billOfLadingNumbers,omitempty"`
	EventDateTimeUtc    string    `json:"eventDateTimeUtc"`
	Reason              string    `json:"reason,omitempty"`
	PickedUpBy          *PartyRef `json:"pickedUpBy,omitempty"`
	LicensePlate        string    `json:"licensePlate,omitempty"`
	DriverID            string    `json:"driverId,omitempty"`
	VisitID             string    `json:"visitId,omitempty"`
}

// InputOf tells whether an E1 actionType names a terminal or authority input (any case).
func InputOf(actionType string) (LightInput, bool) {
	for _, in := range lightInputs {
		if strings.EqualFold(string(in), strings.TrimSpace(actionType)) {
			return in, true
		}
	}
	return "", false
}

// InputNames lists the inputs' actionTypes, for error messages.
func InputNames() string {
	names := make([]string, len(lightInputs))
	for i, in := range lightInputs {
		names[i] = string(in)
	}
	return strings.Join(names, ", ")
}

// CommercialAction tells whether an E1 actionType is a shipping agent's (any case).
func CommercialAction(actionType string) bool {
	_, ok := parseAction(actionType)
	return ok
}

var lightInputs = []LightInput{InputDischarge, InputTerminalRelease, InputTerminalBlock, InputGateOut,
	InputCustomsRelease, InputCustomsHold, InputCustomsBlock, InputPoliceBlock, InputPoliceUnblock}

// identifierPattern bounds the gate's identifiers (licence plates, driver ids, visit ids, ENI).
var identifierPattern = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z .\-/]{0,34}$`)

// ActionOf an input: E1's actionType, as the outcome records it.
func (in LightInput) Action() Action { return Action(in) }

// DecodeInput reads and validates a terminal or authority input on E1 (contract §10): every field
// named on a broken rule, eventDateTimeUtc RFC 3339 in UTC and not after now (a minute of clock
// skew allowed), reason required where the input needs one.
func DecodeInput(body []byte, ports Ports, now time.Time) (InputRequest, InputArgs, error) {
	var r InputRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := strictDecode(dec, &r); err != nil {
		return r, InputArgs{}, err
	}
	in, ok := InputOf(r.ActionType)
	if !ok {
		return r, InputArgs{}, problem.Field("actionType", "'actionType' %q is not a terminal or authority input.", r.ActionType)
	}
	r.ActionType = string(in)
	var v problem.Validation
	r.EquipmentNumber = NormalizeContainer(r.EquipmentNumber)
	if !ValidContainerNumber(r.EquipmentNumber) {
		v.Add("equipmentNumber", "'equipmentNumber' must be an ISO 6346 container number with a valid check digit.")
	}
	r.PortLoCode = strings.ToUpper(strings.TrimSpace(r.PortLoCode))
	if !ValidPortFormat(r.PortLoCode) || !ports[r.PortLoCode] {
		v.Add("portLoCode", "'portLoCode' must be a port served by this platform.")
	}
	r.TerminalCode = strings.ToUpper(strings.TrimSpace(r.TerminalCode))
	if !terminalPattern.MatchString(r.TerminalCode) {
		v.Add("terminalCode", "'terminalCode' is required: 1 to 10 letters or digits.")
	}
	if len(r.BillOfLadingNumbers) > 0 {
		validateBLs(&v, "billOfLadingNumbers", r.BillOfLadingNumbers)
	}
	args := InputArgs{Input: in, Reason: strings.TrimSpace(r.Reason), LicensePlate: strings.TrimSpace(r.LicensePlate),
		DriverID: strings.TrimSpace(r.DriverID), VisitID: strings.TrimSpace(r.VisitID)}
	switch t, err := time.Parse(time.RFC3339Nano, r.EventDateTimeUtc); {
	case r.EventDateTimeUtc == "":
		v.Add("eventDateTimeUtc", "'eventDateTimeUtc' is required.")
	case err != nil:
		v.Add("eventDateTimeUtc", "'eventDateTimeUtc' must be an RFC 3339 timestamp.")
	case !isUTC(t):
		v.Add("eventDateTimeUtc", "'eventDateTimeUtc' must be in UTC (Z).")
	case t.After(now.Add(MaxClockSkew)):
		v.Add("eventDateTimeUtc", "'eventDateTimeUtc' must not be in the future.")
	default:
		args.EventAt = t.UTC()
	}
	checkText(&v, "reason", args.Reason, MaxReasonChars)
	if in.ReasonRequired() && args.Reason == "" {
		v.Add("reason", "'reason' is required on %s.", in)
	}
	if in == InputGateOut {
		validateParty(&v, "pickedUpBy", r.PickedUpBy, true)
		if r.PickedUpBy != nil {
			if p, ok := r.PickedUpBy.Normalize(); ok {
				args.PickedUpBy = &p
			}
		}
	} else {
		for name, val := range map[string]string{"pickedUpBy": partyText(r.PickedUpBy), "licensePlate": r.LicensePlate, "driverId": r.DriverID, "visitId": r.VisitID} {
			if val != "" {
				v.Add(name, "'%s' is allowed on GateOut only.", name)
			}
		}
	}
	for name, val := range map[string]string{"licensePlate": args.LicensePlate, "driverId": args.DriverID, "visitId": args.VisitID} {
		if val != "" && !identifierPattern.MatchString(val) {
			v.Add(name, "'%s' must be 1 to 35 letters, digits, spaces, dots, dashes or slashes.", name)
		}
	}
	return r, args, v.Err()
}

// MaxClockSkew is how far in the future an event time may lie: the sender's clock and ours differ
// by a little.
const MaxClockSkew = time.Minute

func isUTC(t time.Time) bool { _, off := t.Zone(); return off == 0 }

func partyText(p *PartyRef) string {
	if p == nil {
		return ""
	}
	return p.IdentificationType + p.IdentificationCode
}

func strictDecode(dec *json.Decoder, v any) error {
	if err := dec.Decode(v); err != nil {
		return problem.New(problem.KindBadRequest, "the body is not a valid request: %s", jsonDetail(err))
	}
	if dec.More() {
		return problem.New(problem.KindBadRequest, "the body holds more than one JSON value")
	}
	return nil
}

// InputCommand is the command of an accepted input.
func (r InputRequest) Command(args InputArgs, publicRef string, extRef *string, caller string) Command {
	return Command{
		PublicReferenceID: publicRef, ExternalReferenceID: extRef, Requester: caller, Action: args.Input.Action(),
		Request: Request{EquipmentNumber: r.EquipmentNumber, PortLoCode: r.PortLoCode, TerminalCode: r.TerminalCode,
			BillOfLadingNumbers: r.BillOfLadingNumbers, ActionType: args.Input.Action()},
		Input: &args,
	}
}

// Notification types, events and warnings of the terminal's inputs.
const (
	TypeTerminalEvent    = "TerminalEvent"
	EventGateOut         = "GateOut"
	WarnUnauthorisedPick = "UnauthorisedPickup"
)

// ReleaseWrite is a release changed by a decision on the container as a whole (a light input
// changes every active release of the container), each conditioned on the version read.
type ReleaseWrite struct {
	Cur, Next *Release
	Archive   bool
	Hops      []Hop
}

// MaxActiveReleases bounds the active releases of one container (two agents, several B/L sets): an
// input writes every one of them, and a gate-out archives every one, in one transaction of at
// most 100 items (about nine items a release at gate-out).
const MaxActiveReleases = 8

// ApplyInput applies a terminal or authority input to the container's visit and its active
// releases (contract §10). The sender always hears of its input (the decision's own outcome); the
// parties of each release hear through an outcome of that release (Extra), so nobody is shown
// another agent's release; before a release exists nobody else is told. A terminal's input must
// come from the container's terminal: the one its releases name, or before a release the terminal
// of the visit's earlier inputs.
func ApplyInput(v Visit, rels []Release, cmd Command, res Resolved, now time.Time) Decision {
	in := cmd.Input
	out := newOutcome(cmd, now)
	out.Applied = true
	next := v
	next.Version, next.UpdatedAt = v.Version+1, now
	if byTerminal, _ := in.Input.ByTerminal(); byTerminal {
		for _, r := range rels {
			if r.Data.TerminalCode != cmd.Request.TerminalCode {
				return NotValidated(cmd, nil, now, fmt.Sprintf("Container %s is released at terminal %s: its terminal inputs come from that terminal.", r.EquipmentNumber, r.Data.TerminalCode))
			}
		}
		if v.TerminalCode != "" && v.TerminalCode != cmd.Request.TerminalCode {
			return NotValidated(cmd, nil, now, fmt.Sprintf("Container %s is at terminal %s (its earlier inputs): its terminal inputs come from that terminal until its gate-out.", cmd.Request.EquipmentNumber, v.TerminalCode))
		}
		next.TerminalCode = cmd.Request.TerminalCode
	}
	if len(rels) > 0 {
		snapshot(&out, &rels[0])
	}
	noticeType, event := TypeReleaseLight, EventLightChanged
	if in.Input == InputGateOut {
		noticeType, event = TypeTerminalEvent, EventGateOut
	}
	out.Notices = []Notice{{Type: noticeType, Event: event, ActionType: string(in.Input), Recipients: []string{cmd.Requester}}}
	if !in.EventAt.After(v.ClosedAt) {
		out.Warnings = append(out.Warnings, fmt.Sprintf("eventDateTimeUtc is not after the container's last gate-out (%s): the input is kept in history and changes nothing.", v.ClosedAt.Format(time.RFC3339)))
		return Decision{Outcome: out}
	}
	if in.Input == InputGateOut {
		return gateOut(next, rels, cmd, res, now, out)
	}
	c, err := next.Lights.ApplyInput(in.Input, in.EventAt)
	if err != nil {
		return NotValidated(cmd, nil, now, err.Error())
	}
	out.GreenLight = &GreenLight{Name: string(c.Light), From: c.From, To: c.To}
	if !c.Changed {
		out.Warnings = append(out.Warnings, fmt.Sprintf("The %s light did not change: it is %s already, or a newer input set it.", c.Light, c.From))
		return Decision{Visit: &next, Outcome: out} // the visit keeps the newer event time
	}
	d := Decision{Visit: &next}
	for i := range rels {
		cur := rels[i]
		r := cur
		r.Lights, r.Version, r.UpdatedAt = next.Lights, cur.Version+1, now
		d.write(&rels[i], &r, false, nil)
		if i == 0 {
			snapshot(&out, &r)
		}
		o := releaseOutcome(cmd, now, i, &r)
		o.GreenLight = out.GreenLight
		if to := without(unique(cur.CarrierID, cur.TerminalOperatorID, cur.Right.Holder, cur.Right.PendingTo), []string{cmd.Requester}); len(to) > 0 {
			o.Notices = []Notice{{Type: TypeReleaseLight, Event: EventLightChanged, ActionType: string(in.Input), Recipients: to}}
		}
		d.Extra = append(d.Extra, o)
	}
	d.Outcome = out
	return d
}

// releaseOutcome is the outcome of an input for the parties of one of the container's releases
// (item i+1 of the input's public reference).
func releaseOutcome(cmd Command, now time.Time, i int, r *Release) Outcome {
	o := newOutcome(cmd, now)
	o.Item, o.Applied = cmd.Item+i+1, true
	snapshot(&o, r)
	return o
}

// gateOut ends the container's visit and its releases: lights back to their starting values (the
// visit's history is closed), every active release archived with its right Archived and its
// assignment cleared, and the agent, the terminal and every party of each chain told; the agent
// and the holder are warned when the pick-up was not by the assigned holder.
func gateOut(next Visit, rels []Release, cmd Command, res Resolved, now time.Time, out Outcome) Decision {
	next.Lights, next.ClosedAt, next.TerminalCode = StartingLights(), cmd.Input.EventAt, ""
	d := Decision{Visit: &next}
	for i := range rels {
		cur := rels[i]
		r := cur
		r.Version, r.UpdatedAt = cur.Version+1, now
		r.Right.Status, r.Right.PendingTo, r.Right.ReleaseToLocked = StatusArchived, "", false
		assigned := r.Right.Assignment
		r.Right.Assignment = nil
		hop := r.Right.addHop(cur.Right.Holder, "", "GateOut", "", now, cmd.PublicReferenceID)
		d.write(&rels[i], &r, true, []Hop{hop})
		if i == 0 {
			snapshot(&out, &r)
		}
		o := releaseOutcome(cmd, now, i, &r)
		var warned []string
		if assigned == nil || res.PickedUpByID != cur.Right.Holder {
			warned = without(unique(cur.CarrierID, cur.Right.Holder), []string{cmd.Requester})
			o.Warnings = append(o.Warnings, fmt.Sprintf("The container was picked up by %s, not by the assigned holder of the right.", orNobody(res.PickedUpByID)))
			if cur.CarrierID == cmd.Requester || cur.Right.Holder == cmd.Requester {
				out.Notices[0].Warnings = []string{WarnUnauthorisedPick}
			}
		}
		everyone := append([]string{cur.CarrierID, cur.TerminalOperatorID, cur.Right.Holder, cur.Right.PendingTo}, res.ChainParties[cur.ReleaseID]...)
		rest := without(unique(everyone...), append(warned, cmd.Requester))
		if len(rest) > 0 {
			o.Notices = append(o.Notices, Notice{Type: TypeTerminalEvent, Event: EventGateOut, ActionType: string(InputGateOut), Recipients: rest})
		}
		if len(warned) > 0 {
			o.Notices = append(o.Notices, Notice{Type: TypeTerminalEvent, Event: EventGateOut, ActionType: string(InputGateOut), Recipients: warned,
				Warnings: []string{WarnUnauthorisedPick}})
		}
		d.Extra = append(d.Extra, o)
	}
	if len(rels) == 0 {
		out.Warnings = append(out.Warnings, "No active release exists for the container: the gate-out is recorded and nobody else is told.")
	}
	d.Outcome = out
	return d
}

func orNobody(id string) string {
	if id == "" {
		return "a party that pickedUpBy does not name uniquely"
	}
	return id
}

// write records a change of one of the container's releases.
func (d *Decision) write(cur, next *Release, archive bool, hops []Hop) {
	d.Also = append(d.Also, ReleaseWrite{Cur: cur, Next: next, Archive: archive, Hops: hops})
}

func without(ids, drop []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		keep := true
		for _, x := range drop {
			if x == id {
				keep = false
			}
		}
		if keep {
			out = append(out, id)
		}
	}
	return out
}
