package release

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Light is the commercial release light.
type Light string

const (
	LightOK      Light = "OK"      // GREEN
	LightBlocked Light = "BLOCKED" // RED
	LightExpired Light = "EXPIRED" // RED
)

// Release-right statuses, numbered as the seed (7 is unused there).
const (
	StatusUnknown  = 0
	StatusAssigned = 1
	StatusPending  = 2
	StatusAccepted = 3
	StatusDeclined = 4
	StatusRevoked  = 5
	StatusArchived = 6
	StatusExpired  = 8
)

// Hop is one step of the right's chain of custody, kept for audit. Hops are stored as their own
// items, not inside the release: a right passed on a thousand times keeps a release of fixed size.
type Hop struct {
	Seq               int       `json:"seq"` // 0 for the Release, then one more per hop
	From              string    `json:"from,omitempty"`
	To                string    `json:"to,omitempty"`
	Action            string    `json:"action"`
	Reason            string    `json:"reason,omitempty"`
	At                time.Time `json:"at"`
	PublicReferenceID string    `json:"publicReferenceId"`
}

// Right is the release right of one release. A pending transfer is PendingTo != "": the holder is
// still Holder until the receiver accepts.
type Right struct {
	Holder    string `json:"holder"`
	Status    int    `json:"status"`
	PendingTo string `json:"pendingTo,omitempty"`
	// ReleaseTo is the first release party named by the Release call; while that transfer is
	// pending or accepted (ReleaseToLocked) the shipping agent may not Transfer itself.
	ReleaseTo       string `json:"releaseTo,omitempty"`
	ReleaseToLocked bool   `json:"releaseToLocked,omitempty"`
	// PrevStatus is the status before expiry, restored when an Update revives the release.
	PrevStatus int `json:"prevStatus,omitempty"`
	// Hops counts the chain of custody's hops (the next hop's Seq).
	Hops int `json:"hops"`
	// Assignment is the transport operator's assignment of the pick-up (contract §10); nil when
	// unassigned. Assignments counts the assignments made, numbering each one's PIN.
	Assignment  *Assignment `json:"assignment,omitempty"`
	Assignments int         `json:"assignments,omitempty"`
}

// Release is a commercial release as stored.
type Release struct {
	ReleaseID          string  `json:"releaseId"`
	PortLoCode         string  `json:"portLoCode"`
	EquipmentNumber    string  `json:"equipmentNumber"`
	BillOfLadingKey    string  `json:"billOfLadingKey"`
	CarrierID          string  `json:"carrierId"`
	TerminalOperatorID string  `json:"terminalOperatorId"`
	Light              Light   `json:"light"`
	PrevLight          Light   `json:"prevLight,omitempty"`
	Data               Request `json:"data"`
	Right              Right   `json:"right"`
	// Lights is a copy of the container visit's lights, kept in step by every input (contract §10).
	Lights    Lights    `json:"lights"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// BillOfLadingKey identifies a set of B/Ls regardless of order and case.
func BillOfLadingKey(bls []string) string {
	norm := make([]string, len(bls))
	for i, b := range bls {
		norm[i] = strings.ToUpper(strings.TrimSpace(b))
	}
	sort.Strings(norm)
	sum := sha256.Sum256([]byte(strings.Join(norm, "\x00")))
	return hex.EncodeToString(sum[:12])
}

// Command is an accepted request as it travels through the ingestion queue.
type Command struct {
	PublicReferenceID   string  `json:"publicReferenceId"`
	ExternalReferenceID *string `json:"externalReferenceId"`
	Requester           string  `json:"requester"` // nxtEntityId; empty for the platform itself (expiry)
	// CarrierID is the shipping agent whose release the command acts on (the requester on E1).
	CarrierID  string    `json:"carrierId"`
	Action     Action    `json:"action"`
	Request    Request   `json:"request"`
	AcceptedAt time.Time `json:"acceptedAt"`
	// Item numbers the items of one call (bulk release-right calls); 0 for single requests.
	Item int `json:"item"`
	// Right holds the parties of a release-right action (E3, E4); nil for E1 commands.
	Right *RightArgs `json:"right,omitempty"`
	// Input holds a terminal's or an authority's input on E1 (contract §10); nil otherwise.
	Input *InputArgs `json:"input,omitempty"`
	// Assign holds an assignment of the pick-up (contract §10); nil otherwise (Unassign too).
	Assign *AssignArgs `json:"assign,omitempty"`
}

// GroupID orders the actions on one container (the FIFO message group).
func (c Command) GroupID() string { return c.Request.PortLoCode + "#" + c.Request.EquipmentNumber }

// Resolved is what the consumer looked up for the command before applying it.
type Resolved struct {
	TerminalOperatorID string // of Request.TerminalCode; "" when unknown
	ReleaseToID        string // of Request.ReleaseTo; "" when absent or unresolved
	ReleaseToError     string // why ReleaseTo did not resolve
	// Release-right commands: the parties, resolved to entities, and the carrier when named.
	FromID, ToID string
	CarrierID    string
	PartyError   string // why releaseFrom, releaseTo or carrier did not resolve to exactly one entity
	// Visit is the container's visit, read with the release: a new release starts with its lights.
	Visit Visit
	// GateOut: the entity pickedUpBy names ("" when it names none or several), and the parties of
	// each release's chain of custody (by release id), who all hear of the gate-out.
	PickedUpByID string
	ChainParties map[string][]string
	// PIN is the pick-up PIN drawn for an Assign.
	PIN string
	// ActiveReleases counts the container's active releases when a Release is applied.
	ActiveReleases int
}

// Notice says who must hear of an outcome, and how (contract §7).
type Notice struct {
	Type       string   `json:"type"`
	Event      string   `json:"event"`
	ActionType string   `json:"actionType,omitempty"`
	Recipients []string `json:"recipients"`
	// Warnings are told to these recipients besides the outcome's own (UnauthorisedPickup).
	Warnings []string `json:"warnings,omitempty"`
}

// String shows a notice as tests and logs compare it: type, event, action type, recipients, and
// the warnings when there are any.
func (n Notice) String() string {
	s := fmt.Sprintf("{%s %s %s %v", n.Type, n.Event, n.ActionType, n.Recipients)
	if len(n.Warnings) > 0 {
		s += fmt.Sprintf(" %v", n.Warnings)
	}
	return s + "}"
}

// Notification types and events.
const (
	TypeReleaseLight = "ReleaseLight"
	TypeReleaseRight = "ReleaseRight"

	EventLightChanged = "ReleaseLightChanged"
	EventUpdate       = "Update"
	EventTransferred  = "Transferred"
	EventRevoked      = "RevokedByPreviousParty"
	EventNotValidated = "NotValidated"
	// EventThrownException tells the requester that its request failed inside the platform.
	EventThrownException = "ThrownException"
)

// Outcome is what became of one accepted request: stored for audit, and turned into notifications
// by the stream-triggered notifier.
type Outcome struct {
	PublicReferenceID   string    `json:"publicReferenceId"`
	ExternalReferenceID *string   `json:"externalReferenceId"`
	Item                int       `json:"item"`
	Requester           string    `json:"requester"`
	Action              Action    `json:"action"`
	At                  time.Time `json:"at"`
	Applied             bool      `json:"applied"`
	Notices             []Notice  `json:"notices"`
	Errors              []string  `json:"errors"`
	Warnings            []string  `json:"warnings"`
	// Snapshot of the release after the change (or of the request when there is none).
	ReleaseID             string   `json:"releaseId,omitempty"`
	PortLoCode            string   `json:"portLoCode"`
	EquipmentNumber       string   `json:"equipmentNumber"`
	BillOfLadingNumbers   []string `json:"billOfLadingNumbers"`
	ReleaseIdentification string   `json:"releaseIdentification,omitempty"`
	TerminalCode          string   `json:"terminalCode,omitempty"`
	OriginalLight         Light    `json:"originalLight,omitempty"`
	Light                 Light    `json:"light,omitempty"`
	Holder                string   `json:"holder,omitempty"`
	RightStatus           int      `json:"rightStatus"`
	PendingTo             string   `json:"pendingTo,omitempty"`
	Version               int      `json:"version"`
	// Result is the answer of an async read (E2, E5), delivered in the notification's body.
	Result json.RawMessage `json:"result,omitempty"`
	// GreenLight is the light a terminal or authority input set (contract §10); nil for the
	// commercial light's changes, which OriginalLight and Light tell.
	GreenLight *GreenLight `json:"greenLight,omitempty"`
	// Lights, PickupReady and Assigned describe the release after the change, for the bodies that
	// carry the right.
	Lights      *Lights `json:"lights,omitempty"`
	PickupReady *bool   `json:"pickupReady,omitempty"`
	// SealedPin is the pick-up PIN of an Assign, sealed for the holder's notification (the
	// release keeps only its hash); PickupPin is the PIN in the clear, never stored: the consumer
	// seals it and the notifier opens it.
	SealedPin []byte `json:"sealedPin,omitempty"`
	PickupPin string `json:"-"`
}

// GreenLight is a change of one light: its name, the value before and after.
type GreenLight struct {
	Name string `json:"name"`
	From string `json:"from"`
	To   string `json:"to"`
}

// Decision is what Apply decided: the state to store and the outcome to record.
type Decision struct {
	Next    *Release // nil: the stored release does not change
	Archive bool     // Delete: the release leaves the active system
	Hops    []Hop    // hops added to the chain of custody (stored with Next)
	Outcome Outcome
	// Visit is the container's visit to store (conditioned on the version read); nil: unchanged.
	Visit *Visit
	// Also are the releases a terminal or authority input changes (each conditioned on its own
	// version), besides Next.
	Also []ReleaseWrite
	// Extra are further outcomes of the command (items 1, 2, … of its public reference): an
	// input's outcome for the parties of each release it changed.
	Extra []Outcome
}

// Action statuses of the seed (actionStatusFilter).
const (
	ActionUndefined = 0
	ActionPending   = 1 // a transfer to the viewer awaits its answer
	ActionRevoke    = 2 // the right was revoked
	ActionTransfer  = 3 // the viewer's transfer awaits the receiver's answer
)

// ViewAction is the right's action status as a party sees it.
func (r Right) ViewAction(viewer string) int {
	switch {
	case r.PendingTo != "" && r.PendingTo == viewer:
		return ActionPending
	case r.PendingTo != "" && r.Holder == viewer:
		return ActionTransfer
	case r.Status == StatusRevoked:
		return ActionRevoke
	}
	return ActionUndefined
}

// Members are the parties a right is listed for (E2): its holder and a pending receiver.
func (r Right) Members() []string { return unique(r.Holder, r.PendingTo) }
