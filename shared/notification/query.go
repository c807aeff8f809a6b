package notification

import "time"

// Query is one E7 read of a receiver's notifications: a time range and, when given, the filters
// that choose the access path (reference, release, container, event).
type Query struct {
	Receiver  string
	From, To  time.Time // storedOn range [From, To)
	Event     string
	Equipment string
	// PublicRef or ReleaseID select the index of everything sent under that reference, to every
	// receiver: E7 must tell "sent, but not to you" (403) from "nothing" (405).
	PublicRef string
	ReleaseID string
	Limit     int32
}

// MaxResults bounds an answer (and the one Query behind it).
const MaxResults = 1000

// Events are the notificationEvent values of the seed.
var Events = []string{"NotValidated", "Transferred", "AcceptedByNextParty", "DeclinedByNextParty", "RevokedByPreviousParty", "ReleaseLightChanged", "Update", "GateOut", "ThrownException"}
