package release

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/portcommunity/cpu/shared/problem"
)

// Assignment actions of the transport operator holding the right (contract §10).
const (
	ActAssign   Action = "Assign"
	ActUnassign Action = "Unassign"
)

// Means of transport an assignment names.
var AssignTypes = []string{"Truck", "Barge", "Rail"}

// Assignment is the transport operator's assignment of a pick-up: who comes, and the hash of the
// PIN the driver shows at the gate.
type Assignment struct {
	Type         string     `json:"type"`
	DriverID     string     `json:"driverId,omitempty"`
	LicensePlate string     `json:"licensePlate,omitempty"`
	BargeENI     string     `json:"bargeEni,omitempty"`
	VisitID      string     `json:"visitId,omitempty"`
	WindowFrom   *time.Time `json:"windowFrom,omitempty"`
	WindowTo     *time.Time `json:"windowTo,omitempty"`
	// Seq numbers the assignment among the right's assignments: the PIN's failure guard is kept
	// per assignment, so a new assignment clears a lock.
	Seq     int       `json:"seq"`
	PinHash string    `json:"pinHash"`
	At      time.Time `json:"at"`
	By      string    `json:"by"`
}

// AssignTarget is assignTo of the request.
type AssignTarget struct {
	Type         string `json:"type"`
	DriverID     string `json:"driverId,omitempty"`
	LicensePlate string `json:"licensePlate,omitempty"`
	BargeENI     string `json:"bargeEni,omitempty"`
	VisitID      string `json:"visitId,omitempty"`
}

// Window is a pick-up window.
type Window struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// AssignRequest is the body of PUT and DELETE …/release-rights/assignment.
type AssignRequest struct {
	BillOfLadingNumbers   []string      `json:"billOfLadingNumbers"`
	ReleaseIdentification string        `json:"releaseIdentification"`
	AssignTo              *AssignTarget `json:"assignTo,omitempty"`
	PickupWindow          *Window       `json:"pickupWindow,omitempty"`
}

// AssignArgs are the assignment part of a command.
type AssignArgs struct {
	To         AssignTarget `json:"assignTo"`
	WindowFrom *time.Time   `json:"windowFrom,omitempty"`
	WindowTo   *time.Time   `json:"windowTo,omitempty"`
	// ByTransportOperator: the caller held the TransportOperator role when the call was accepted
	// (only a transport operator assigns).
	ByTransportOperator bool `json:"byTransportOperator"`
}

// DecodeAssign reads an assignment (assign true: PUT) or an unassignment (DELETE) for the route's
// port and container: 400 naming the field on every broken rule.
func DecodeAssign(body []byte, routePort, routeContainer string, ports Ports, assign bool) (AssignRequest, *AssignArgs, error) {
	var r AssignRequest
	if err := strict(body, &r); err != nil {
		return r, nil, err
	}
	var v problem.Validation
	if !ValidPortFormat(strings.ToUpper(routePort)) || !ports[strings.ToUpper(routePort)] {
		v.Add("portLoCode", "'portLoCode' must be a port served by this platform.")
	}
	if !ValidContainerNumber(NormalizeContainer(routeContainer)) {
		v.Add("equipmentNumber", "'equipmentNumber' must be an ISO 6346 container number with a valid check digit.")
	}
	validateBLs(&v, "billOfLadingNumbers", r.BillOfLadingNumbers)
	r.ReleaseIdentification = strings.TrimSpace(r.ReleaseIdentification)
	if r.ReleaseIdentification == "" {
		v.Add("releaseIdentification", "'releaseIdentification' is required.")
	}
	checkText(&v, "releaseIdentification", r.ReleaseIdentification, MaxIdentifierChars)
	if !assign {
		if r.AssignTo != nil || r.PickupWindow != nil {
			v.Add("assignTo", "an unassignment carries billOfLadingNumbers and releaseIdentification only.")
		}
		return r, nil, v.Err()
	}
	args := &AssignArgs{}
	if r.AssignTo == nil {
		v.Add("assignTo", "'assignTo' is required.")
		return r, nil, v.Err()
	}
	t := *r.AssignTo
	t.Type = canonical(t.Type, AssignTypes)
	if t.Type == "" {
		v.Add("assignTo.type", "'type' must be one of %s.", strings.Join(AssignTypes, ", "))
	}
	for name, p := range map[string]*string{"driverId": &t.DriverID, "licensePlate": &t.LicensePlate, "bargeEni": &t.BargeENI, "visitId": &t.VisitID} {
		*p = strings.TrimSpace(*p)
		if *p != "" && !identifierPattern.MatchString(*p) {
			v.Add("assignTo."+name, "'%s' must be 1 to 35 letters, digits, spaces, dots, dashes or slashes.", name)
		}
	}
	switch {
	case t.Type == "Truck" && t.LicensePlate == "" && t.DriverID == "":
		v.Add("assignTo.licensePlate", "a Truck assignment names its licensePlate or driverId.")
	case t.Type == "Barge" && t.BargeENI == "":
		v.Add("assignTo.bargeEni", "a Barge assignment names its bargeEni.")
	case t.Type == "Rail" && t.VisitID == "":
		v.Add("assignTo.visitId", "a Rail assignment names its visitId.")
	}
	args.To = t
	if w := r.PickupWindow; w != nil {
		from, errF := parseUTC(w.From)
		to, errT := parseUTC(w.To)
		switch {
		case errF != nil:
			v.Add("pickupWindow.from", "'from' %s", errF)
		case errT != nil:
			v.Add("pickupWindow.to", "'to' %s", errT)
		case !to.After(from):
			v.Add("pickupWindow.to", "'to' must be after 'from'.")
		default:
			args.WindowFrom, args.WindowTo = &from, &to
		}
	}
	return r, args, v.Err()
}

func canonical(s string, allowed []string) string {
	for _, a := range allowed {
		if strings.EqualFold(a, strings.TrimSpace(s)) {
			return a
		}
	}
	return ""
}

func parseUTC(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	switch {
	case err != nil:
		return t, fmt.Errorf("must be an RFC 3339 timestamp")
	case !isUTC(t):
		return t, fmt.Errorf("must be in UTC (Z)")
	}
	return t.UTC(), nil
}

// AssignCommand is the command of an accepted (un)assignment.
func (r AssignRequest) Command(port, container string, args *AssignArgs, publicRef string, extRef *string, caller string) Command {
	act := ActUnassign
	if args != nil {
		act = ActAssign
	}
	return Command{
		PublicReferenceID: publicRef, ExternalReferenceID: extRef, Requester: caller, Action: act,
		Request: Request{ReleaseIdentification: r.ReleaseIdentification, EquipmentNumber: NormalizeContainer(container),
			BillOfLadingNumbers: r.BillOfLadingNumbers, PortLoCode: strings.ToUpper(port), ActionType: act},
		Assign: args,
	}
}

// NewPIN draws a 6-digit pick-up PIN (leading zeros kept).
func NewPIN() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// PinHash is what the release keeps of a PIN: a hash bound to the release and the assignment, so
// that equal PINs of two assignments hash apart. (Six digits are a small space: the hash keeps the
// PIN out of sight of whoever reads the table, and the online lock after five failures, not the
// hash, is what stops guessing.)
func PinHash(releaseID string, seq int, pin string) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s#%d#%s", releaseID, seq, pin)))
	return hex.EncodeToString(sum[:])
}

// PinMatches compares a PIN with an assignment's hash in constant time.
func PinMatches(releaseID string, a *Assignment, pin string) bool {
	return subtle.ConstantTimeCompare([]byte(PinHash(releaseID, a.Seq, pin)), []byte(a.PinHash)) == 1
}

// assignable are the right's statuses in which its holder has accepted it: Accepted, and Declined or
// Revoked when the holder's own onward transfer came back.
var assignable = map[int]bool{StatusAccepted: true, StatusDeclined: true, StatusRevoked: true}

// applyAssign applies Assign and Unassign: only the holder, with the TransportOperator role, on a
// right it accepted and no transfer pending (contract §10).
func applyAssign(cur *Release, cmd Command, now time.Time, newPIN func() string) Decision {
	refuse := func(format string, args ...any) Decision {
		return NotValidated(cmd, cur, now, sprintf(format, args...))
	}
	switch {
	case cur == nil:
		return refuse("No active release of container %s matches these bills of lading and releaseIdentification.", cmd.Request.EquipmentNumber)
	case cmd.Request.ReleaseIdentification != cur.Data.ReleaseIdentification:
		return refuse("releaseIdentification %q does not match the release.", cmd.Request.ReleaseIdentification)
	case cur.Right.Holder != cmd.Requester:
		return refuse("Only the holder of the release right of %s assigns its pick-up.", cur.EquipmentNumber)
	case cur.Light == LightExpired:
		return refuse("The release has expired.")
	}
	next := *cur
	next.Version, next.UpdatedAt = cur.Version+1, now
	out := newOutcome(cmd, now)
	if cmd.Action == ActUnassign {
		if cur.Right.Assignment == nil {
			return refuse("The pick-up of %s is not assigned.", cur.EquipmentNumber)
		}
		next.Right.Assignment = nil
	} else {
		switch {
		case !cmd.Assign.ByTransportOperator:
			return refuse("Only a transport operator assigns a pick-up.")
		case !assignable[cur.Right.Status] || cur.Right.PendingTo != "":
			return refuse("The release right must be accepted by you, with no transfer pending, before you assign its pick-up.")
		case cmd.Assign.WindowTo != nil && !cmd.Assign.WindowTo.After(now):
			return refuse("pickupWindow.to has passed.")
		}
		seq := cur.Right.Assignments + 1
		pin := newPIN()
		t := cmd.Assign.To
		next.Right.Assignments = seq
		next.Right.Assignment = &Assignment{Type: t.Type, DriverID: t.DriverID, LicensePlate: t.LicensePlate, BargeENI: t.BargeENI,
			VisitID: t.VisitID, WindowFrom: cmd.Assign.WindowFrom, WindowTo: cmd.Assign.WindowTo, Seq: seq,
			PinHash: PinHash(cur.ReleaseID, seq, pin), At: now, By: cmd.Requester}
		out.PickupPin = pin
		if cur.Right.Assignment != nil {
			out.Warnings = append(out.Warnings, "The previous assignment and its PIN are replaced.")
		}
	}
	out.Notices = []Notice{{Type: TypeReleaseRight, Event: EventUpdate, ActionType: string(cmd.Action), Recipients: []string{cmd.Requester}}}
	out.Applied = true
	snapshot(&out, &next)
	return Decision{Next: &next, Outcome: out}
}
