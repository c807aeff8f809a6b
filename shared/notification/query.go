package notification

import "time"

// Query is one E7 read of a receiver's notifications, newest first. Its most selective filter
// chooses the access path (reference, release, container, event, or the receiver's own
// partition); every path is a key condition on the receiver and the time range, and the other
// filters are applied while reading through the range, never after a Limit.
type Query struct {
	Receiver  string
	From, To  time.Time // storedOn range [From, To)
	Event     string
	Equipment string
	PublicRef string
	ReleaseID string
	// Before continues a listing: only notifications stored before this position (the Cursor of
	// the previous page) are returned.
	Before string
	// Limit bounds the notifications of one page, MaxBytes their messages' total size.
	Limit    int
	MaxBytes int
}

// Page is one answer of a Query.
type Page struct {
	Items []Notification
	// Next is the position to continue from (Query.Before) when more notifications match; empty
	// when this page holds the last of them.
	Next string
}

// Sent tells whether notifications under a reference (or of a release) inside a time range
// exist, for the caller and for anyone: E7 answers 403 only when they exist but none went to the
// caller.
type Sent struct {
	ToCaller bool
	ToAnyone bool
}

// Bounds of an E7 answer: a page holds at most MaxResults notifications and MaxPageBytes of
// messages, which keeps the answer inside Lambda's 6 MB response limit whatever the messages
// hold (an E2 answer of 100 rows is about 75 KB).
const (
	MaxResults   = 1000
	MaxPageBytes = 4 << 20
)

// Events are the notificationEvent values of the seed, and ThrownException (a request that failed
// inside the platform).
var Events = []string{"NotValidated", "Transferred", "AcceptedByNextParty", "DeclinedByNextParty", "RevokedByPreviousParty", "ReleaseLightChanged", "Update", "GateOut", "ThrownException"}
