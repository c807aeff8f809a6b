package release

import (
	"errors"
	"fmt"
	"time"
)

// Ref locates an active release: container, B/L set and the shipping agent that made it.
// Release-right commands do not know the shipping agent's id: then the container's active releases
// are read and the one with these B/Ls and releaseIdentification is taken.
type Ref struct {
	PortLoCode            string
	EquipmentNumber       string
	CarrierID             string
	BillOfLadingKey       string
	ReleaseIdentification string
}

// RefOf a command (the carrier is the command's CarrierID).
func RefOf(c Command) Ref {
	return Ref{PortLoCode: c.Request.PortLoCode, EquipmentNumber: c.Request.EquipmentNumber, CarrierID: c.CarrierID, BillOfLadingKey: BillOfLadingKey(c.Request.BillOfLadingNumbers), ReleaseIdentification: c.Request.ReleaseIdentification}
}

// Due is an active release whose expiry has passed (what the expiry sweep queues).
type Due struct {
	ReleaseID           string
	Version             int
	PortLoCode          string
	EquipmentNumber     string
	CarrierID           string
	BillOfLadingNumbers []string
}

// Membership lists a release right for one party (E2's read model): the party holds the right or
// is offered it. It is kept small (port, container and release id are its key), so that one read
// returns thousands.
type Membership struct {
	Port            string `dynamodbav:"-"`
	Container       string `dynamodbav:"-"`
	ReleaseID       string `dynamodbav:"-"`
	BillOfLadingKey string `dynamodbav:"bk"`
	Status          int    `dynamodbav:"st"`
	ActionStatus    int    `dynamodbav:"as"`
	Light           string `dynamodbav:"lt"`
	ShippingID      string `dynamodbav:"sa"`
	TerminalID      string `dynamodbav:"to"`
	HolderID        string `dynamodbav:"h"`
	BLs             string `dynamodbav:"bl"` // upper-cased, joined by spaces, for the B/L filter
	// AuthoritiesNotOK and TerminalNotOK are the lights E2's status 2 and 3 select.
	AuthoritiesNotOK bool `dynamodbav:"na,omitempty"`
	TerminalNotOK    bool `dynamodbav:"nt,omitempty"`
}

// Errors of saving a decision (the consumer's storage port answers them).
var (
	// ErrAlreadyApplied: the command's outcome is stored already (a duplicate delivery).
	ErrAlreadyApplied = errors.New("outcome already recorded")
	// ErrConflict: the release changed since it was read; read again and re-apply.
	ErrConflict = errors.New("release changed concurrently")
	// ErrReleaseIDTaken: another active release of the carrier uses the releaseIdentification.
	ErrReleaseIDTaken = errors.New("releaseIdentification in use")
	// ErrTooLarge: an item of the decision would exceed the storage's item size limit. It is
	// permanent: the same command would fail the same way however often it is retried.
	ErrTooLarge = errors.New("item over the size limit")
	// ErrRejected: the storage refused the write as invalid (DynamoDB's ValidationException).
	// Permanent, like ErrTooLarge.
	ErrRejected = errors.New("write rejected by the storage")
)

// Loaded is what the consumer reads before applying a command: the release it names (nil when
// none), the container's visit, for an input every active release of the container, and whether
// the command's outcome is recorded already (a duplicate).
type Loaded struct {
	Release  *Release
	Visit    Visit
	Releases []Release
	Done     bool
}

// ContainerState is a container's current state, read in one Query: its visit, its active
// releases and the PIN guards of their assignments (by "<releaseId>#<assignment seq>").
type ContainerState struct {
	Visit    Visit
	Releases []Release
	Guards   map[string]PinGuard
}

// PinGuard counts the failed gate validations of one assignment's PIN (contract §10: five in an
// hour lock it until the next assignment).
type PinGuard struct {
	Failures []time.Time `json:"failures"` // the newest MaxPinFailures, oldest first
	Locked   bool        `json:"locked"`
	Version  int         `json:"version"`
}

// GuardKey names the guard of an assignment.
func GuardKey(releaseID string, seq int) string { return fmt.Sprintf("%s#%d", releaseID, seq) }
