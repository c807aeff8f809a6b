package people

import (
	"time"

	"github.com/portcommunity/cpu/shared/entity"
)

// Invitation is a community administrator's link to register a company: its token is random,
// single use, valid seven days, and kept only as a hash.
type Invitation struct {
	TokenHash      string    `json:"tokenHash"`
	Email          string    `json:"email,omitempty"` // when given, the registration must use it
	Community      string    `json:"community"`
	CreatedBy      string    `json:"createdBy"`
	CreatedAt      time.Time `json:"createdAt"`
	Expires        time.Time `json:"expires"`
	Used           bool      `json:"used"`
	RegistrationID string    `json:"registrationId,omitempty"`
}

// Usable tells whether the invitation may start a registration at now.
func (i Invitation) Usable(now time.Time) bool { return !i.Used && now.Before(i.Expires) }

// Registration statuses.
const (
	RegistrationPending   = "PendingConfirmation"
	RegistrationConfirmed = "Confirmed"
)

// Registration is a company's registration waiting for its person to confirm the e-mail address.
type Registration struct {
	ID             string        `json:"id"`
	InvitationHash string        `json:"invitationHash"`
	Community      string        `json:"community"`
	Email          string        `json:"email"`
	FirstName      string        `json:"firstName"`
	LastName       string        `json:"lastName"`
	Company        entity.Entity `json:"company"`
	// ConfirmHash is the hash of the confirmation link's token.
	ConfirmHash string    `json:"confirmHash"`
	Expires     time.Time `json:"expires"`
	Status      string    `json:"status"`
	EntityID    string    `json:"entityId,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
}

// Membership statuses of an entity in the community.
const (
	MemberPending  = "PendingApproval"
	MemberApproved = "Approved"
	MemberRejected = "Rejected"
)

// Membership is an entity's place in the community: pending until a community administrator
// approves or rejects it.
type Membership struct {
	EntityID  string     `json:"entityId"`
	Name      string     `json:"name"`
	Community string     `json:"community"`
	Status    string     `json:"status"`
	Reason    string     `json:"reason,omitempty"`
	DecidedBy string     `json:"decidedBy,omitempty"`
	DecidedAt *time.Time `json:"decidedAt,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	Version   int        `json:"-"`
}

// Terms a person accepts, each by its version.
type Terms struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Current terms (contract §11: the general and the community terms).
var (
	GeneralTerms   = Terms{Name: "General", Version: "2026-01"}
	CommunityTerms = Terms{Name: "Community", Version: "2026-01"}
)
