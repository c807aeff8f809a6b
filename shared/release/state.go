package release

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
}

// Release is a commercial release as stored.
type Release struct {
	ReleaseID          string    `json:"releaseId"`
	PortLoCode         string    `json:"portLoCode"`
	EquipmentNumber    string    `json:"equipmentNumber"`
	BillOfLadingKey    string    `json:"billOfLadingKey"`
	CarrierID          string    `json:"carrierId"`
	TerminalOperatorID string    `json:"terminalOperatorId"`
	Light              Light     `json:"light"`
	PrevLight          Light     `json:"prevLight,omitempty"`
	Data               Request   `json:"data"`
	Right              Right     `json:"right"`
	Version            int       `json:"version"`
	CreatedAt          time.Time `json:"createdAt"`
	UpdatedAt          time.Time `json:"updatedAt"`
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
}

// Notice says who must hear of an outcome, and how (contract §7).
type Notice struct {
	Type       string   `json:"type"`
	Event      string   `json:"event"`
	ActionType string   `json:"actionType,omitempty"`
	Recipients []string `json:"recipients"`
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
}

// Decision is what Apply decided: the state to store and the outcome to record.
type Decision struct {
	Next    *Release // nil: the stored release does not change
	Archive bool     // Delete: the release leaves the active system
	Hops    []Hop    // hops added to the chain of custody (stored with Next)
	Outcome Outcome
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
